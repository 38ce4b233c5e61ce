/**
 * Schemas of imported embedding tables and of 2-D embedding maps (PCA or UMAP) of the collection or of tables.
 *
 * @example
 * const map: EmbeddingMap = await api.embeddingMap({ source: 'tables', tables: [id], method: 'umap' });
 */
import { type Static, Type } from 'typebox';
import { PAINTING_ID, RecordOf, UUID, withDefault } from './common.ts';

/** An imported embeddings table. */
export const EMBEDDING_TABLE = Type.Object(
  {
    id: UUID,
    name: Type.String(),
    format: Type.Enum(['parquet', 'npy', 'csv']),
    column: Type.String({ description: "the embedding column ('' for .npy)" }),
    rows: Type.Integer(),
    dims: Type.Integer(),
    columns: Type.Array(Type.String(), { description: 'metadata columns' }),
    createdAt: Type.Optional(Type.String()),
  },
  { description: 'an imported embeddings table' },
);
export type EmbeddingTable = Static<typeof EMBEDDING_TABLE>;

/** Multipart form of a table upload (documentation only; the fields must come before the file). */
export const EMBEDDING_TABLE_UPLOAD = Type.Object({
  name: Type.Optional(Type.String({ description: 'display name (default: the file name)' })),
  column: Type.Optional(Type.String({ description: 'the embedding column (parquet, CSV)' })),
  file: Type.String({ format: 'binary', description: '.parquet, .npy or .csv' }),
});

const COLUMN_NAME = Type.String({ minLength: 1, maxLength: 200 });

export const EMBEDDING_MAP_REQUEST = Type.Object(
  {
    source: Type.Enum(['collection', 'tables'], {
      description: "the workspace's paintings (CLIP image embeddings) or imported embedding tables",
    }),
    tables: Type.Optional(
      Type.Array(UUID, {
        minItems: 1,
        maxItems: 16,
        description: 'source "tables": the tables to stack (PCA axes point towards the last one)',
      }),
    ),
    method: withDefault(Type.Enum(['pca', 'umap']), 'pca'),
    seed: withDefault(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'UMAP seed' }), 42),
    neighbors: withDefault(Type.Integer({ minimum: 2, maximum: 200, description: 'UMAP neighbours' }), 15),
    title: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'tables: the column used as point titles' }),
    ),
    fields: Type.Optional(
      Type.Array(COLUMN_NAME, {
        maxItems: 64,
        description: 'tables: metadata columns to return (default: every column with short values)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type EmbeddingMapRequest = Static<typeof EMBEDDING_MAP_REQUEST>;

/** A point's metadata value. */
export const META_VALUE = Type.Unsafe<string | number | null>({ type: ['string', 'number', 'null'] });
export type MetaValue = Static<typeof META_VALUE>;

export const EMBEDDING_MAP = Type.Object(
  {
    source: Type.String(),
    method: Type.String(),
    model: Type.Optional(Type.String({ description: 'collection: the model that embedded the paintings' })),
    modelFingerprint: Type.Optional(Type.String()),
    computed: Type.Optional(
      Type.Integer({ description: 'collection: paintings embedded now (the rest came from the cache)' }),
    ),
    explainedVarianceRatio: Type.Optional(Type.Array(Type.Number())),
    sets: Type.Array(Type.Object({ name: Type.String(), count: Type.Integer() })),
    fields: Type.Array(Type.Object({ name: Type.String(), kind: Type.Enum(['number', 'text']) })),
    points: Type.Array(
      Type.Object({
        x: Type.Number(),
        y: Type.Number(),
        set: Type.String(),
        id: Type.Optional(PAINTING_ID),
        title: Type.String(),
        meta: RecordOf(META_VALUE),
      }),
    ),
  },
  { description: 'a 2-D map: points with their set, title and metadata' },
);
export type EmbeddingMap = Static<typeof EMBEDDING_MAP>;
