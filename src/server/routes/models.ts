/**
 * Models: the installed ones (models folder) and the loaded one; switching loads another installed model
 * (by hub id, or the id of the model the server started with). Switching waits for running jobs; queued
 * jobs made for the previous model fail with the reason when their turn comes.
 *
 * @example
 * POST /api/models/switch { "model": "openai/clip-vit-base-patch32" }
 */
import { defaultModelsDir, listModels, type ModelDims } from '../../core/model-store.ts';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { HttpError } from '../jobs.ts';
import { MODEL_INFO, MODEL_SWITCH, MODELS, withErrors } from '../schemas.ts';

export function registerModelRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { host } = ctx;
  const tags = ['models'];
  /** Ids the API may switch to, with their folders (the start-up model plus complete/manual installs). */
  const choices = async (): Promise<
    Map<string, { dir: string; status: string; format: string; sizeBytes: number; dims?: ModelDims }>
  > => {
    const out = new Map<
      string,
      { dir: string; status: string; format: string; sizeBytes: number; dims?: ModelDims }
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
        response: { 200: MODELS },
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
        body: MODEL_SWITCH,
        response: withErrors({ 200: MODEL_INFO }, 404, 500),
      },
    },
    async (req) => {
      const { model } = req.body;
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
