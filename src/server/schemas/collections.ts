/**
 * Schemas of collection work: previews and imports of catalogs and expert-region files (W3C, COCO, LabelMe,
 * VIA), versioned and lockable region edits, batches (paintings × methods × prompts or a probe dimension, as
 * one unit with progress, ETA, cancel and resume), the agreement summary of a batch, and the catalog's true
 * label of a painting for a probe dimension. Browser-safe: the web UI imports the types.
 *
 * @example
 * const b: Batch = await (await fetch('/api/batches', { method: 'POST', body: JSON.stringify(req) })).json();
 */
import { type Static, Type } from 'typebox';
import { NON_EMPTY, Nullable, OpenObject, PAINTING_ID, SLUG, UUID } from './common.ts';
import { VIEW } from './jobs.ts';
import { DIMENSION_NAME } from './probes.ts';

export { REGION_PROPS } from './region-props.ts';

export const REGION_FORMAT = Type.Enum(['w3c', 'coco', 'labelme', 'via'], {
  description: 'annotation format (detected from the content when omitted)',
});

export const REGIONS_IMPORT_QUERY = Type.Object(
  {
    dryRun: Type.Optional(
      Type.Boolean({ description: 'true: report what would be imported, store nothing' }),
    ),
    format: Type.Optional(REGION_FORMAT),
    lock: Type.Optional(Type.Boolean({ description: 'lock the imported regions (default true)' })),
  },
  { additionalProperties: false },
);

export const REGIONS_IMPORT_RESULT = Type.Object(
  {
    dryRun: Type.Boolean(),
    file: Type.String(),
    format: Type.String(),
    regions: Type.Integer({ description: 'regions read from the file' }),
    imported: Type.Integer({ description: 'regions stored (or that would be, in a dry run)' }),
    duplicates: Type.Integer({ description: 'regions already imported from this file earlier (skipped)' }),
    matched: Type.Array(
      Type.Object({
        paintingId: PAINTING_ID,
        name: Type.String(),
        title: Nullable(Type.String()),
        regions: Type.Integer(),
        dimensions: Type.Array(Type.String()),
      }),
      { description: 'paintings that get regions' },
    ),
    unmatched: Type.Array(Type.Object({ source: Type.String(), regions: Type.Integer() }), {
      description: 'region sources that name no painting of the workspace',
    }),
    warnings: Type.Array(Type.String()),
  },
  { description: 'what an expert-region file matched' },
);
export type RegionsImportResult = Static<typeof REGIONS_IMPORT_RESULT>;

export const CATALOG_PREVIEW = Type.Object(
  {
    file: Type.String(),
    format: Type.String(),
    rows: Type.Integer(),
    columns: Type.Array(Type.String()),
    keyColumn: Nullable(Type.String({ description: 'the column that names paintings (file, filename, …)' })),
    matched: Type.Array(
      Type.Object({ paintingId: PAINTING_ID, name: Type.String(), title: Nullable(Type.String()) }),
    ),
    unmatchedRows: Type.Array(Type.String(), { description: 'key values of rows that match no painting' }),
    paintingsWithoutRow: Type.Array(Type.String(), { description: 'paintings no row names' }),
  },
  { description: 'what a catalog would match (nothing stored)' },
);
export type CatalogPreview = Static<typeof CATALOG_PREVIEW>;

export const REGION_REVISION = Type.Object(
  {
    baseVersion: Type.Integer({
      minimum: 0,
      description: 'the version the edit was made on (0 for a region never saved with a version)',
    }),
    annotation: Type.Optional(
      OpenObject({}, { description: 'the new W3C annotation (one region); omitted: only the lock changes' }),
    ),
    locked: Type.Optional(Type.Boolean({ description: 'lock or unlock the region' })),
  },
  { additionalProperties: false },
);
export type RegionRevision = Static<typeof REGION_REVISION>;

export const REGION_REVISION_RESULT = Type.Object(
  {
    id: UUID,
    version: Type.Integer(),
    locked: Type.Boolean(),
    annotation: OpenObject({ id: Type.String() }),
  },
  { description: 'the saved region with its new version' },
);
export type RegionRevisionResult = Static<typeof REGION_REVISION_RESULT>;

/** A probe dimension whose catalog label is explained for each painting. */
export const BATCH_PROBE = Type.Object(
  { suite: SLUG, dimension: DIMENSION_NAME },
  { additionalProperties: false },
);

export const BATCH_CREATE = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    paintingIds: Type.Array(PAINTING_ID, { minItems: 1, maxItems: 100000 }),
    methods: Type.Array(Type.String({ pattern: '^[a-z-]{1,40}$' }), { minItems: 1, maxItems: 16 }),
    prompts: Type.Optional(Type.Array(NON_EMPTY, { maxItems: 64 })),
    probe: Type.Optional(BATCH_PROBE),
    view: Type.Optional(VIEW),
    metricSide: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 8192,
        description:
          "default 0: agreement is scored on each map as the job stored it (the painting's pixels, or its copy within the server's map pixel budget), exactly as `artprobe regions score` scores it; a positive value resizes maps and regions to this longest side first (faster on large paintings, numbers differ slightly)",
      }),
    ),
    faithfulnessSteps: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 64,
        description:
          "steps of the deletion and insertion games of each map of a painting with regions (default 16: 2 × 17 forward passes per model input, run on the model between the batch's jobs); 0: not computed",
      }),
    ),
  },
  { additionalProperties: false },
);
export type BatchCreate = Static<typeof BATCH_CREATE>;

export const BATCH_COUNTS = Type.Object({
  queued: Type.Integer(),
  running: Type.Integer(),
  done: Type.Integer(),
  failed: Type.Integer(),
  cancelled: Type.Integer(),
});

export const BATCH_ITEM = Type.Object({
  paintingId: PAINTING_ID,
  method: Type.String(),
  target: Type.String({ description: 'the target as text' }),
  jobId: UUID,
  state: Type.String(),
  done: Type.Integer(),
  total: Type.Integer(),
  error: Nullable(Type.String()),
});

export const BATCH = Type.Object(
  {
    id: UUID,
    name: Type.String(),
    createdAt: Type.String(),
    view: Type.String(),
    methods: Type.Array(Type.String()),
    prompts: Type.Array(Type.String()),
    probe: Nullable(BATCH_PROBE),
    metricSide: Type.Integer({ description: 'longest side agreement is scored at (0: painting pixels)' }),
    faithfulnessSteps: Type.Integer({
      description: 'steps of the deletion / insertion games (0: not computed)',
    }),
    paintings: Type.Integer(),
    total: Type.Integer({ description: 'jobs (painting × method × target)' }),
    counts: BATCH_COUNTS,
    state: Type.Enum(['running', 'done', 'cancelled', 'failed'], {
      description:
        'running: jobs are queued or running; done: every job finished; cancelled / failed: some jobs were',
    }),
    fraction: Type.Number({ description: 'share of the work finished, counting running jobs by progress' }),
    etaSeconds: Nullable(Type.Number({ description: 'estimated seconds to the end (null: unknown)' })),
    startedAt: Nullable(Type.String()),
    finishedAt: Nullable(Type.String()),
    notes: Type.Array(Type.String()),
    items: Type.Optional(Type.Array(BATCH_ITEM)),
  },
  { description: 'a batch of explanation jobs' },
);
export type Batch = Static<typeof BATCH>;

export const BATCH_QUERY = Type.Object(
  { items: Type.Optional(Type.Boolean({ description: 'include every job of the batch' })) },
  { additionalProperties: false },
);

const metric = Type.Optional(Nullable(Type.Number()));
export const AGREEMENT_ROW = Type.Object({
  painting: Type.String(),
  paintingId: PAINTING_ID,
  title: Type.Optional(Type.String()),
  method: Type.String(),
  target: Type.String(),
  regionId: Type.String(),
  region: Type.String(),
  dimension: Type.String(),
  area: Type.Optional(Type.Integer()),
  jobId: Type.Optional(UUID),
  score: Type.Optional(Type.Number()),
  pointing: metric,
  pointingTol: metric,
  pointingShape: metric,
  energy: metric,
  massAccuracy: metric,
  rankAccuracy: metric,
  auroc: metric,
  aurocAbs: metric,
  iouTopK: metric,
  nss: metric,
  deletion: metric,
  insertion: metric,
});

export const BATCH_SUMMARY = Type.Object(
  {
    batchId: UUID,
    state: Type.Enum(['computing', 'ready'], {
      description:
        'computing: scores are still being computed (rows so far); ready: every finished map is scored',
    }),
    scored: Type.Integer({ description: 'maps scored so far' }),
    maps: Type.Integer({ description: 'finished maps of the batch' }),
    pending: Type.Integer({ description: 'jobs of the batch not finished yet' }),
    tolerance: Type.Number({ description: 'pointing-game tolerance in pixels (of the scored maps)' }),
    metricSide: Type.Integer({ description: 'longest side the maps were scored at (0: painting pixels)' }),
    faithfulness: Type.Object(
      {
        steps: Type.Integer({ description: 'steps per game (0: not asked for)' }),
        state: Type.Enum(['off', 'computing', 'paused', 'ready', 'unavailable'], {
          description:
            'off: not asked for; computing; paused: the batch is cancelled; ready: every map has them; unavailable: no model is loaded',
        }),
        done: Type.Integer({ description: 'maps with deletion / insertion (or an error)' }),
        total: Type.Integer({ description: 'maps of paintings with regions' }),
        failed: Type.Integer(),
      },
      {
        description:
          "deletion / insertion of the maps (the model scores perturbed copies of each map's input)",
      },
    ),
    rows: Type.Array(AGREEMENT_ROW, { description: 'one per painting × region × method × target' }),
    notes: Type.Array(Type.String()),
  },
  { description: "agreement of a batch's maps with the expert regions of its paintings" },
);
export type BatchSummary = Static<typeof BATCH_SUMMARY>;

export const CATALOG_TRUTH_QUERY = Type.Object(
  { suite: SLUG, dimension: DIMENSION_NAME },
  { additionalProperties: false },
);
export const CATALOG_TRUTH = Type.Object(
  {
    paintingId: PAINTING_ID,
    dimension: Type.String(),
    field: Nullable(Type.String({ description: 'the catalog field read' })),
    value: Nullable(Type.String({ description: 'its value' })),
    label: Nullable(Type.String({ description: 'the label of the dimension it matches' })),
  },
  { description: "the catalog's label of a painting for a probe dimension" },
);
export type CatalogTruth = Static<typeof CATALOG_TRUTH>;
