/**
 * JSON schemas shared by the routes: ids (validated by pattern, so no user string ever reaches a path),
 * targets, jobs, paintings, errors. Fastify validates params, query and body with them and serialises
 * responses; the OpenAPI document is built from the same schemas.
 *
 * @example
 * app.get('/api/jobs/:id', { schema: { params: idParams(JOB_ID), response: { 200: JOB } } }, handler);
 */
import { METHOD_IDS } from '../attribution/types.ts';
import { VIEW_KINDS } from '../attribution/views.ts';

type S = Record<string, unknown>;

export const PAINTING_ID: S = {
  type: 'string',
  pattern: '^[0-9a-f]{64}$',
  description: 'sha256 of the image bytes',
};
export const UUID: S = {
  type: 'string',
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
};
export const SLUG_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const SLUG: S = { type: 'string', pattern: SLUG_RE.source };
const nonEmpty = { type: 'string', minLength: 1, maxLength: 2000 };

/** Params schema `{ <name>: schema }`, all required. */
export function idParams(schema: S, name = 'id'): S {
  return { type: 'object', required: [name], additionalProperties: false, properties: { [name]: schema } };
}

export const ERROR: S = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    code: { type: 'string' },
  },
};

/** Standard error responses merged into every route's response map. */
export function withErrors(ok: Record<string, S>, ...codes: number[]): Record<string, S> {
  const out: Record<string, S> = { ...ok };
  for (const c of [400, ...codes]) out[c] = ERROR;
  return out;
}

export const TARGET: S = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'prompt'],
      properties: { kind: { const: 'prompt' }, prompt: nonEmpty },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'label', 'labels'],
      properties: {
        kind: { const: 'label' },
        label: nonEmpty,
        labels: { type: 'array', minItems: 2, maxItems: 1000, items: nonEmpty },
        prompts: {
          type: 'array',
          maxItems: 1000,
          items: { type: 'array', minItems: 1, maxItems: 1000, items: nonEmpty },
          description: 'optional prompt ensemble per label, parallel to labels',
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'a', 'b'],
      properties: { kind: { const: 'contrast' }, a: nonEmpty, b: nonEmpty },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'label', 'prompts'],
      properties: {
        kind: { const: 'ensemble' },
        label: nonEmpty,
        prompts: { type: 'array', minItems: 1, maxItems: 1000, items: nonEmpty },
      },
    },
  ],
};

export const PAINTING: S = {
  type: 'object',
  required: ['id', 'name', 'format', 'width', 'height', 'bytes'],
  properties: {
    id: PAINTING_ID,
    name: { type: 'string' },
    ext: { type: 'string' },
    format: { type: 'string' },
    width: { type: 'integer' },
    height: { type: 'integer' },
    bytes: { type: 'integer' },
    sourceUrl: { type: ['string', 'null'] },
    metadata: { type: ['object', 'null'], additionalProperties: true },
    createdAt: { type: 'string' },
    created: { type: 'boolean', description: 'false when identical bytes were already in the workspace' },
  },
};

export const JOB_RESULT: S = {
  type: ['object', 'null'],
  properties: {
    mapsJob: UUID,
    score: { type: 'number' },
    grid: { type: 'array', items: { type: 'integer' } },
    paintingSize: { type: 'array', items: { type: 'integer' } },
    signed: { type: 'boolean' },
    tiles: { type: 'integer' },
    files: { type: 'object', additionalProperties: { type: 'string' } },
    extras: { type: 'object', additionalProperties: true },
  },
};

export const JOB: S = {
  type: 'object',
  required: ['id', 'state', 'paintingId', 'method'],
  properties: {
    id: UUID,
    state: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled'] },
    paintingId: PAINTING_ID,
    modelId: { type: 'string' },
    modelFingerprint: { type: 'string' },
    method: { type: 'string' },
    params: { type: 'object', additionalProperties: true },
    target: { type: 'object', additionalProperties: true },
    view: { type: 'string' },
    cacheKey: { type: 'string' },
    cachedFrom: { type: ['string', 'null'] },
    progress: { type: 'object', properties: { done: { type: 'integer' }, total: { type: 'integer' } } },
    attempts: { type: 'integer' },
    error: { type: ['string', 'null'] },
    result: JOB_RESULT,
    createdAt: { type: 'string' },
    startedAt: { type: ['string', 'null'] },
    finishedAt: { type: ['string', 'null'] },
    cached: { type: 'boolean' },
  },
};

export const JOB_CREATE: S = {
  type: 'object',
  additionalProperties: false,
  required: ['paintingId', 'method', 'target'],
  properties: {
    paintingId: PAINTING_ID,
    method: { type: 'string', enum: [...METHOD_IDS] },
    params: {
      type: 'object',
      maxProperties: 20,
      additionalProperties: { type: ['number', 'string', 'boolean'] },
    },
    target: TARGET,
    view: { type: 'string', enum: [...VIEW_KINDS] },
  },
};

export const MODEL_INFO: S = {
  type: ['object', 'null'],
  properties: {
    id: { type: 'string' },
    dir: { type: 'string' },
    fingerprint: { type: 'string' },
    backend: {
      type: 'object',
      properties: { name: { type: 'string' }, package: { type: 'string' }, gpu: { type: 'boolean' } },
    },
    imageSize: { type: 'integer' },
    patchSize: { type: 'integer' },
    embedDim: { type: 'integer' },
  },
};

export const OK: S = { type: 'object', properties: { ok: { type: 'boolean' } } };

/** An open object (annotations, catalogs rows, suites): validated in the handler. */
export const ANY_OBJECT: S = { type: 'object', additionalProperties: true };

/** A dimension name in a probe request (suite dimension names: letters, digits, "-", "_"). */
export const DIMENSION_NAME: S = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$' };

export const PROBE_REQUEST: S = {
  type: 'object',
  additionalProperties: false,
  properties: {
    suites: {
      type: 'array',
      maxItems: 64,
      items: SLUG,
      description: 'default or workspace suite names; omitted or empty: every default suite',
    },
    dimensions: {
      type: 'array',
      maxItems: 256,
      items: DIMENSION_NAME,
      description: 'dimension (or suite) names within those suites; omitted or empty: all their dimensions',
    },
    topK: {
      type: 'integer',
      minimum: 1,
      maximum: 100,
      default: 5,
      description: 'ranked labels kept per answer',
    },
  },
};

const RANKED_LABEL: S = {
  type: 'object',
  required: ['label', 'probability', 'logit', 'prompt'],
  properties: {
    label: { type: 'string' },
    probability: { type: 'number' },
    logit: { type: 'number', description: 'logit scale · cos(image, label prompt ensemble)' },
    prompt: { type: 'string', description: "the label's prompt in the explain target" },
  },
};

/** The attribution target explaining a zero-shot answer: POST it as a job's `target` to get the heatmap. */
const LABEL_TARGET: S = {
  type: 'object',
  required: ['kind', 'label', 'labels'],
  properties: {
    kind: { type: 'string', enum: ['label'] },
    label: { type: 'string' },
    labels: { type: 'array', items: { type: 'string' } },
    prompts: { type: 'array', items: { type: 'array', items: { type: 'string' } } },
  },
};

const ZERO_SHOT_ANSWER: S = {
  type: 'object',
  required: ['ranked', 'probabilities', 'explain'],
  properties: {
    ranked: { type: 'array', items: RANKED_LABEL, description: 'top-k labels, most probable first' },
    probabilities: {
      type: 'array',
      items: { type: 'number' },
      description: "every label's probability, in the dimension's label order (sum 1)",
    },
    explain: LABEL_TARGET,
  },
};

/** A zero-shot probe of one painting: runZeroShot's result plus cache metadata. */
export const PROBE_RESULT: S = {
  type: 'object',
  required: ['paintingId', 'cached', 'cacheKey', 'model', 'dimensions', 'images'],
  properties: {
    paintingId: PAINTING_ID,
    cached: { type: 'boolean', description: 'true when answered from the workspace cache' },
    cacheKey: { type: 'string' },
    createdAt: { type: 'string' },
    model: { type: 'string' },
    modelFingerprint: { type: 'string' },
    suites: { type: 'array', items: { type: 'string' } },
    logitScale: { type: 'number' },
    topK: { type: 'integer' },
    dimensions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          suite: { type: 'string' },
          source: { type: 'string', description: '"default:<suite>" or "workspace:<suite>"' },
          description: { type: 'string' },
          labels: {
            type: 'array',
            items: {
              type: 'object',
              properties: { id: { type: 'string' }, prompts: { type: 'array', items: { type: 'string' } } },
            },
          },
        },
      },
    },
    images: {
      type: 'array',
      description: 'one entry (this painting): answers per dimension name',
      items: {
        type: 'object',
        properties: {
          image: { type: 'string' },
          answers: { type: 'object', additionalProperties: ZERO_SHOT_ANSWER },
        },
      },
    },
  },
};

export const JOB_DELETED: S = {
  type: 'object',
  required: ['ok', 'cancelled'],
  properties: {
    ok: { type: 'boolean' },
    cancelled: {
      type: 'boolean',
      description: 'true when the job was queued or running and got cancelled first',
    },
  },
};

/** An imported embeddings table. */
export const EMBEDDING_TABLE: S = {
  type: 'object',
  required: ['id', 'name', 'format', 'rows', 'dims', 'columns'],
  properties: {
    id: UUID,
    name: { type: 'string' },
    format: { type: 'string', enum: ['parquet', 'npy', 'csv'] },
    column: { type: 'string', description: "the embedding column ('' for .npy)" },
    rows: { type: 'integer' },
    dims: { type: 'integer' },
    columns: { type: 'array', items: { type: 'string' }, description: 'metadata columns' },
    createdAt: { type: 'string' },
  },
};

const COLUMN_NAME: S = { type: 'string', minLength: 1, maxLength: 200 };

export const EMBEDDING_MAP_REQUEST: S = {
  type: 'object',
  additionalProperties: false,
  required: ['source'],
  properties: {
    source: {
      type: 'string',
      enum: ['collection', 'tables'],
      description: "the workspace's paintings (CLIP image embeddings) or imported embedding tables",
    },
    tables: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      items: UUID,
      description: 'source "tables": the tables to stack (PCA axes point towards the last one)',
    },
    method: { type: 'string', enum: ['pca', 'umap'], default: 'pca' },
    seed: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1, default: 42, description: 'UMAP seed' },
    neighbors: { type: 'integer', minimum: 2, maximum: 200, default: 15, description: 'UMAP neighbours' },
    title: { ...COLUMN_NAME, description: 'tables: the column used as point titles' },
    fields: {
      type: 'array',
      maxItems: 64,
      items: COLUMN_NAME,
      description: 'tables: metadata columns to return (default: every column with short values)',
    },
  },
};

const META_VALUE: S = { type: ['string', 'number', 'null'] };

export const EMBEDDING_MAP: S = {
  type: 'object',
  required: ['source', 'method', 'sets', 'fields', 'points'],
  properties: {
    source: { type: 'string' },
    method: { type: 'string' },
    model: { type: 'string', description: 'collection: the model that embedded the paintings' },
    modelFingerprint: { type: 'string' },
    computed: {
      type: 'integer',
      description: 'collection: paintings embedded now (the rest came from the cache)',
    },
    explainedVarianceRatio: { type: 'array', items: { type: 'number' } },
    sets: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, count: { type: 'integer' } } },
    },
    fields: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, kind: { type: 'string', enum: ['number', 'text'] } },
      },
    },
    points: {
      type: 'array',
      items: {
        type: 'object',
        required: ['x', 'y', 'title'],
        properties: {
          x: { type: 'number' },
          y: { type: 'number' },
          set: { type: 'string' },
          id: PAINTING_ID,
          title: { type: 'string' },
          meta: { type: 'object', additionalProperties: META_VALUE },
        },
      },
    },
  },
};
