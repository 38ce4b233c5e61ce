/**
 * Schemas of explanation jobs: the attribution target, the job request (one shape per method, with that
 * method's parameters), the job as the API shows it, its map files, and region metrics of a finished job.
 *
 * @example
 * const body: JobCreate = { paintingId, method: 'smoothgrad', params: { samples: 8 }, target: { kind: 'prompt', prompt: 'a wave' } };
 */
import { type Static, Type } from 'typebox';
import { METHOD_PARAMS } from '../../attribution/method-params.ts';
import { METHOD_IDS, type MethodId } from '../../attribution/types.ts';
import type { ViewKind } from '../../attribution/views.ts';
import type { MapScores } from '../../regions/metrics.ts';
import type { JobState } from '../workspace.ts';
import {
  Discriminated,
  NON_EMPTY,
  Nullable,
  OpenObject,
  PAINTING_ID,
  RecordOf,
  UUID,
  withDefault,
} from './common.ts';

/** How a painting becomes model inputs. */
export const VIEW_KINDS = ['crop', 'pad', 'tiles'] as const satisfies readonly ViewKind[];
const VIEWS: Record<ViewKind | (typeof VIEW_KINDS)[number], string> = {
  crop: 'the centre square the model sees (default)',
  pad: 'the whole painting, padded to a square',
  tiles: 'overlapping squares covering the painting, maps stitched',
};
export const VIEW = Type.Enum(VIEW_KINDS, {
  description: Object.entries(VIEWS)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; '),
});

export const JOB_STATES = [
  'queued',
  'running',
  'done',
  'failed',
  'cancelled',
] as const satisfies readonly JobState[];
const STATES: Record<JobState | (typeof JOB_STATES)[number], string> = {
  queued: 'waiting for a model worker',
  running: 'being computed',
  done: 'finished: maps are available',
  failed: 'stopped with an error',
  cancelled: 'cancelled by a request',
};
export const JOB_STATE = Type.Enum(JOB_STATES, {
  description: Object.entries(STATES)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; '),
});
export type { JobState };

/** What a map explains: a prompt, a label among labels, a contrast of two prompts, or a prompt ensemble. */
export const TARGET = Discriminated(
  'kind',
  [
    Type.Object(
      { kind: Type.Literal('prompt'), prompt: NON_EMPTY },
      { additionalProperties: false, title: 'prompt', description: 'cosine similarity with one prompt' },
    ),
    Type.Object(
      {
        kind: Type.Literal('label'),
        label: NON_EMPTY,
        labels: Type.Array(NON_EMPTY, { minItems: 2, maxItems: 1000 }),
        prompts: Type.Optional(
          Type.Array(Type.Array(NON_EMPTY, { minItems: 1, maxItems: 1000 }), {
            maxItems: 1000,
            description: 'optional prompt ensemble per label, parallel to labels',
          }),
        ),
      },
      {
        additionalProperties: false,
        title: 'label',
        description: 'probability of label (softmax over labels)',
      },
    ),
    Type.Object(
      { kind: Type.Literal('contrast'), a: NON_EMPTY, b: NON_EMPTY },
      { additionalProperties: false, title: 'contrast', description: 'score of prompt a minus prompt b' },
    ),
    Type.Object(
      {
        kind: Type.Literal('ensemble'),
        label: NON_EMPTY,
        prompts: Type.Array(NON_EMPTY, { minItems: 1, maxItems: 1000 }),
      },
      {
        additionalProperties: false,
        title: 'ensemble',
        description: 'cosine similarity with the mean embedding of several prompts',
      },
    ),
  ],
  { description: 'the score the map explains' },
);
export type Target = Static<typeof TARGET>;

/** The request for one method: its own parameters. */
const jobRequest = <M extends MethodId>(method: M) =>
  Type.Object(
    {
      paintingId: PAINTING_ID,
      method: Type.Literal(method),
      params: Type.Optional(METHOD_PARAMS[method]),
      target: TARGET,
      view: Type.Optional(VIEW),
    },
    { additionalProperties: false, title: method },
  );

/** A job request: one painting × method (with that method's parameters) × target. */
export type JobCreate = { [M in MethodId]: Static<ReturnType<typeof jobRequest<M>>> }[MethodId];
export const JOB_CREATE = Type.Unsafe<JobCreate>({
  type: 'object',
  description: "one painting × method × target; params are the method's own (defaults filled in)",
  oneOf: METHOD_IDS.map(jobRequest),
  discriminator: { propertyName: 'method' },
});

export const JOB_LIST_QUERY = Type.Object(
  {
    state: Type.Optional(JOB_STATE),
    paintingId: Type.Optional(PAINTING_ID),
    limit: withDefault(Type.Integer({ minimum: 1, maximum: 10000 }), 1000),
    offset: withDefault(Type.Integer({ minimum: 0 }), 0),
  },
  { additionalProperties: false },
);

export const JOB_RESULT = Nullable(
  Type.Object(
    {
      mapsJob: UUID,
      score: Type.Number({ description: 'the target score of the unmodified painting' }),
      grid: Type.Array(Type.Integer(), { description: 'rows, cols of the raw map' }),
      paintingSize: Type.Array(Type.Integer(), { description: 'height, width of the painting map' }),
      signed: Type.Boolean({ description: 'negative values are meaningful (diverging colour map)' }),
      tiles: Type.Optional(Type.Integer()),
      files: RecordOf(Type.String()),
      extras: Type.Optional(OpenObject({})),
    },
    { description: 'what a finished job produced' },
  ),
);

/** A job as the API shows it. */
export const JOB = Type.Object(
  {
    id: UUID,
    state: JOB_STATE,
    paintingId: PAINTING_ID,
    modelId: Type.String(),
    modelFingerprint: Type.String(),
    method: Type.String(),
    params: OpenObject({}, { description: "the method's parameters, defaults filled in" }),
    target: Type.Unsafe<Target>({ type: 'object', additionalProperties: true, description: 'the target' }),
    view: Type.String(),
    cacheKey: Type.String(),
    cachedFrom: Nullable(Type.String()),
    progress: Type.Object({ done: Type.Integer(), total: Type.Integer() }),
    attempts: Type.Integer(),
    error: Nullable(Type.String()),
    result: JOB_RESULT,
    createdAt: Type.String(),
    startedAt: Nullable(Type.String()),
    finishedAt: Nullable(Type.String()),
    cached: Type.Optional(
      Type.Boolean({ description: 'answered from a finished job with the same cache key' }),
    ),
  },
  { description: 'an explanation job' },
);
export type Job = Static<typeof JOB>;

export const JOB_DELETED = Type.Object(
  {
    ok: Type.Boolean(),
    cancelled: Type.Boolean({
      description: 'true when the job was queued or running and got cancelled first',
    }),
  },
  { description: 'the job and its maps are deleted' },
);

/** A finished job's map files, by name. */
export const MAP_FILES = ['raw.npy', 'painting.npy', 'overlay.png'] as const;
export type MapFile = (typeof MAP_FILES)[number];
export const MAP_PARAMS = Type.Object(
  { id: UUID, kind: Type.Enum(MAP_FILES) },
  { additionalProperties: false },
);

export const METRICS_REQUEST = Type.Object(
  {
    jobId: UUID,
    annotationIds: Type.Optional(Type.Array(UUID, { maxItems: 1000 })),
    tolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
  },
  { additionalProperties: false },
);

/** The agreement metrics of a map with a region (`scoreMap`), in report order. */
export const METRIC_NAMES = [
  'pointing',
  'pointingTol',
  'pointingShape',
  'energy',
  'massAccuracy',
  'rankAccuracy',
  'auroc',
  'aurocAbs',
  'iouTopK',
  'nss',
] as const satisfies readonly (keyof MapScores)[];
export type MetricName = (typeof METRIC_NAMES)[number];
const METRICS: Record<MetricName | keyof MapScores, string> = {
  pointing: "pointing game on the region's bounding box (Zhang et al.): the map maximum falls in it (1 or 0)",
  pointingTol: 'pointing game on the bounding box with the tolerance (default 15 px)',
  pointingShape: "pointing game on the region's exact outline (1 or 0)",
  energy: "share of the map's positive mass inside the region",
  massAccuracy: 'relevance mass accuracy',
  rankAccuracy: 'relevance rank accuracy',
  auroc: 'AUROC of the map against the region mask',
  aurocAbs: 'AUROC of |map|',
  iouTopK: 'IoU of the top-k pixels (k = region area) with the region',
  nss: 'normalised scanpath saliency',
};

/** A metric value: null when not finite; missing when the region covers no pixel. */
const metric = (description: string) => Type.Optional(Nullable(Type.Number({ description })));
export const METRIC_ROW = Type.Object({
  annotationId: UUID,
  label: Type.String(),
  dimension: Nullable(Type.String()),
  area: Type.Integer({ description: 'region pixels' }),
  pointing: metric(METRICS.pointing),
  pointingTol: metric(METRICS.pointingTol),
  pointingShape: metric(METRICS.pointingShape),
  energy: metric(METRICS.energy),
  massAccuracy: metric(METRICS.massAccuracy),
  rankAccuracy: metric(METRICS.rankAccuracy),
  auroc: metric(METRICS.auroc),
  aurocAbs: metric(METRICS.aurocAbs),
  iouTopK: metric(METRICS.iouTopK),
  nss: metric(METRICS.nss),
});
export type MetricRow = Static<typeof METRIC_ROW>;

export const METRICS_RESULT = Type.Object(
  {
    jobId: UUID,
    method: Type.String(),
    rows: Type.Array(METRIC_ROW, { description: 'one row per annotation' }),
  },
  { description: "agreement of the job's map with each annotation's region" },
);
export type MetricsResult = Static<typeof METRICS_RESULT>;
