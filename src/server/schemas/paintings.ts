/**
 * Schemas of paintings (upload, import, the painting record), their W3C annotations, and metadata catalogs.
 *
 * @example
 * const p: Painting = await (await fetch('/api/paintings/<sha256>')).json();
 */
import { type Static, Type } from 'typebox';
import { Nullable, OpenObject, PAINTING_ID, UUID, withDefault } from './common.ts';

export const PAINTING = Type.Object(
  {
    id: PAINTING_ID,
    name: Type.String(),
    ext: Type.Optional(Type.String()),
    format: Type.String(),
    width: Type.Integer(),
    height: Type.Integer(),
    bytes: Type.Integer(),
    sourceUrl: Type.Optional(Nullable(Type.String())),
    metadata: Type.Optional(Nullable(OpenObject({}, { description: 'catalog fields of the painting' }))),
    createdAt: Type.Optional(Type.String()),
    created: Type.Optional(
      Type.Boolean({ description: 'false when identical bytes were already in the workspace' }),
    ),
  },
  { description: 'a painting of the workspace' },
);
export type Painting = Static<typeof PAINTING>;

/** Multipart form of an upload (documentation only: multipart bodies are read by the handler). */
export const PAINTING_UPLOAD = Type.Object({
  name: Type.Optional(Type.String({ description: 'display name (default: the file name)' })),
  file: Type.String({ format: 'binary', description: 'the image (JPEG, PNG, WebP, TIFF, GIF)' }),
});

export const PAINTING_IMPORT = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 4000,
      description: 'an image URL, or a IIIF Image API URL (info.json or base URL)',
    }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** A W3C Web Annotation with one region, as stored (id `urn:uuid:<uuid>`, created, modified). */
export const ANNOTATION = OpenObject(
  {
    id: Type.String(),
    type: Type.Unknown(),
    body: Type.Optional(Type.Unknown()),
    target: Type.Optional(Type.Unknown()),
    created: Type.Optional(Type.String()),
    modified: Type.Optional(Type.String()),
  },
  { description: 'a W3C Web Annotation' },
);
export type Annotation = Static<typeof ANNOTATION>;

/** A request's annotation: any W3C Web Annotation with exactly one region (checked by the region reader). */
export const ANNOTATION_INPUT = OpenObject(
  {},
  { description: 'a W3C Web Annotation ("type": "Annotation") whose target has one selector' },
);

export const ANNOTATION_PAGE = OpenObject(
  { type: Type.String(), items: Type.Array(ANNOTATION) },
  { description: "a painting's annotations as a W3C AnnotationPage" },
);
export type AnnotationPage = Static<typeof ANNOTATION_PAGE>;

const CATALOG_PROPERTIES = {
  id: UUID,
  name: Type.String(),
  format: Type.String({ description: 'csv, json or parquet' }),
  rows: Type.Integer(),
  columns: Type.Array(Type.String()),
  matched: Type.Integer({ description: "rows that became a painting's metadata" }),
  createdAt: Type.String(),
};
export const CATALOG = Type.Object(CATALOG_PROPERTIES, { description: 'an imported metadata catalog' });
export type Catalog = Static<typeof CATALOG>;
export const CATALOG_WITH_ROWS = Type.Object(
  {
    ...CATALOG_PROPERTIES,
    items: Type.Array(OpenObject({}), { description: 'the rows from offset, at most limit' }),
  },
  { description: 'a catalog with some of its rows' },
);

/** Multipart form of a catalog upload (documentation only). */
export const CATALOG_UPLOAD = Type.Object({
  file: Type.String({ format: 'binary', description: 'CSV, JSON (list of objects) or parquet' }),
});

export const CATALOG_QUERY = Type.Object(
  {
    limit: withDefault(Type.Integer({ minimum: 1, maximum: 100000 }), 1000),
    offset: withDefault(Type.Integer({ minimum: 0 }), 0),
  },
  { additionalProperties: false },
);
