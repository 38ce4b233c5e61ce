/**
 * Schemas of the server's status (`/api/health`) and of models (installed, loaded, switching).
 *
 * @example
 * const h: Health = await (await fetch('/api/health')).json(); // h.model.state: 'ready'
 */
import { type Static, Type } from 'typebox';
import type { ModelDims } from '../../core/model-store.ts';
import { Nullable, OpenObject, RecordOf } from './common.ts';

/** The loaded model (null when none). */
export const MODEL_INFO = Nullable(
  Type.Object({
    id: Type.Optional(Type.String()),
    dir: Type.Optional(Type.String()),
    fingerprint: Type.Optional(Type.String()),
    backend: Type.Optional(
      Type.Object({
        name: Type.Optional(Type.String()),
        package: Type.Optional(Type.String()),
        gpu: Type.Optional(Type.Boolean()),
      }),
    ),
    engine: Type.Optional(
      Type.String({
        description: 'the engine that runs the model, e.g. "onnx (onnxruntime-node 1.30.0, cpu, 2 threads)"',
      }),
    ),
    imageSize: Type.Optional(Type.Integer()),
    patchSize: Type.Optional(Type.Integer()),
    embedDim: Type.Optional(Type.Integer()),
  }),
);
export type ModelInfoBody = Static<typeof MODEL_INFO>;

export const HEALTH = Type.Object(
  {
    status: Type.String(),
    version: Type.String(),
    backend: Nullable(
      OpenObject({}, { description: "the model's backend, or the one the workers will ask for" }),
    ),
    model: Type.Object({
      state: Type.String({ description: 'none, loading, ready or error' }),
      source: Nullable(Type.String()),
      error: Nullable(Type.String()),
      hint: Nullable(Type.String()),
      info: MODEL_INFO,
    }),
    workspace: Type.Object({
      dir: Type.String(),
      paintings: Type.Integer(),
      integrity: Type.String({
        description: "SQLite's integrity check of the database, run when the server started ('ok')",
      }),
    }),
    jobs: RecordOf(Type.Integer(), { description: 'jobs per state, and total' }),
    queue: RecordOf(Type.Integer()),
    memory: Type.Object({
      rss: Type.Integer(),
      heapUsed: Type.Integer(),
      workers: Type.Optional(
        Type.Array(
          Type.Object({
            pid: Type.Integer(),
            peakRss: Type.Integer({ description: 'peak resident memory of the model worker process, bytes' }),
          }),
        ),
      ),
    }),
    limits: Type.Optional(
      Type.Object(
        {
          maxUploadBytes: Type.Integer(),
          maxPixels: Type.Integer({ description: 'largest image accepted, pixels (--max-pixels)' }),
          maxMapPixels: Type.Integer({
            description:
              'pixel budget of the painting a job works on and of its stored maps (--max-map-pixels)',
          }),
          maxTiles: Type.Integer({ description: 'most tiles of a tiles-view job (--max-tiles)' }),
          maxAttempts: Type.Integer({
            description: 'starts of a job before it fails for good (--max-attempts)',
          }),
        },
        { description: 'limits of the work the server accepts' },
      ),
    ),
    auth: Type.Optional(
      Type.Object({ tokenRequired: Type.Boolean() }, { description: 'whether requests need the token' }),
    ),
  },
  { description: 'server, backend, model and workspace status' },
);
export type Health = Static<typeof HEALTH>;

const INSTALLED = Type.Object({
  id: Type.String(),
  status: Type.String(),
  format: Type.String(),
  sizeBytes: Type.Integer(),
  loaded: Type.Boolean(),
  dims: Type.Optional(
    Type.Unsafe<ModelDims>({ type: 'object', additionalProperties: true, description: 'sizes of the model' }),
  ),
});

export const MODELS = Type.Object(
  {
    state: Type.String(),
    error: Nullable(Type.String()),
    current: MODEL_INFO,
    installed: Type.Array(INSTALLED),
  },
  { description: 'the loaded model and the installed ones' },
);
export type Models = Static<typeof MODELS>;

export const MODEL_SWITCH = Type.Object(
  {
    model: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$',
      maxLength: 200,
      description: 'an installed hub id, e.g. openai/clip-vit-base-patch32',
    }),
  },
  { additionalProperties: false },
);
