/**
 * Models: the installed ones (models folder) and the loaded one; switching loads another installed model
 * (by hub id, or the id of the model the server started with). Switching waits for running jobs; queued
 * jobs made for the previous model fail with the reason when their turn comes.
 *
 * @example
 * POST /api/models/switch { "model": "openai/clip-vit-base-patch32" }
 */
import type { FastifyInstance } from 'fastify';
import { defaultModelsDir, listModels } from '../../core/model-store.ts';
import type { AppContext } from '../app.ts';
import { HttpError } from '../jobs.ts';
import { MODEL_INFO, withErrors } from '../schemas.ts';

const INSTALLED = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'string' },
    format: { type: 'string' },
    sizeBytes: { type: 'integer' },
    loaded: { type: 'boolean' },
    dims: { type: 'object', additionalProperties: true },
  },
};

export function registerModelRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { host } = ctx;
  const tags = ['models'];
  /** Ids the API may switch to, with their folders (the start-up model plus complete/manual installs). */
  const choices = async (): Promise<
    Map<string, { dir: string; status: string; format: string; sizeBytes: number; dims?: object }>
  > => {
    const out = new Map<
      string,
      { dir: string; status: string; format: string; sizeBytes: number; dims?: object }
    >();
    for (const m of await listModels(defaultModelsDir(ctx.opts.modelsDir)))
      if (m.status !== 'partial') out.set(m.id, m);
    if (ctx.opts.model && host.info && host.source === ctx.opts.model && !out.has(host.info.id))
      out.set(host.info.id, { dir: host.info.dir, status: 'startup', format: 'hf', sizeBytes: 0 });
    return out;
  };
  let startup: { id: string; dir: string } | undefined;
  ctx.modelReady.then((i) => {
    if (i) startup = { id: i.id, dir: i.dir };
  });
  app.get(
    '/api/models',
    {
      schema: {
        summary: 'installed models and the loaded one',
        tags,
        response: {
          200: {
            type: 'object',
            properties: {
              state: { type: 'string' },
              error: { type: ['string', 'null'] },
              current: MODEL_INFO,
              installed: { type: 'array', items: INSTALLED },
            },
          },
        },
      },
    },
    async () => {
      const list = await choices();
      if (startup && !list.has(startup.id))
        list.set(startup.id, { dir: startup.dir, status: 'startup', format: 'hf', sizeBytes: 0 });
      const installed = [...list].map(([id, m]) => ({
        id,
        status: m.status,
        format: m.format,
        sizeBytes: m.sizeBytes,
        dims: m.dims,
        loaded: host.info?.dir === m.dir,
      }));
      return { state: host.state, error: host.error ?? null, current: host.info ?? null, installed };
    },
  );
  app.post(
    '/api/models/switch',
    {
      schema: {
        summary: 'load another installed model (waits for the running job)',
        tags,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['model'],
          properties: {
            model: {
              type: 'string',
              pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$',
              maxLength: 200,
            },
          },
        },
        response: withErrors({ 200: MODEL_INFO }, 404, 500),
      },
    },
    async (req) => {
      const { model } = req.body as { model: string };
      if (model.includes('..')) throw new HttpError(400, `invalid model id "${model}"`);
      const list = await choices();
      if (startup && !list.has(startup.id))
        list.set(startup.id, { dir: startup.dir, status: 'startup', format: 'hf', sizeBytes: 0 });
      const m = list.get(model);
      if (!m)
        throw new HttpError(
          404,
          `model ${model} is not installed (installed: ${[...list.keys()].join(', ') || 'none'}); run \`artprobe model pull ${model}\``,
        );
      return ctx.switchModel(m.dir);
    },
  );
}
