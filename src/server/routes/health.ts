/**
 * `GET /api/health` (backend, model, workspace with the integrity check made at start, queue, memory of the
 * server and of its model workers, limits) and `GET /api/openapi.json` (the OpenAPI document that
 * @fastify/swagger builds from the routes' schemas). Health reads nothing heavy (counts only), so it answers
 * at once even with a large workspace.
 *
 * @example
 * (await app.inject('/api/health')).json().model.state; // 'ready'
 */
import { Type } from 'typebox';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { VERSION } from '../openapi.ts';
import { HEALTH } from '../schemas.ts';

export function registerHealthRoutes(app: ArtprobeApp, ctx: AppContext): void {
  app.get(
    '/api/health',
    {
      schema: {
        summary: 'server, backend, model and workspace status',
        tags: ['health'],
        response: { 200: HEALTH },
      },
    },
    async () => {
      const { host, ws, queue } = ctx;
      const mem = process.memoryUsage();
      return {
        status: 'ok',
        version: VERSION,
        // before a model is loaded: the backend the workers will ask for
        backend: host.info?.backend ?? {
          name:
            ctx.opts.backend ?? process.env.ARTPROBE_BACKEND ?? 'auto (tensorflow if installed, else wasm)',
          loaded: false,
        },
        model: {
          state: host.state,
          source: host.source ?? null,
          error: host.error ?? null,
          hint: host.state === 'ready' ? null : (ctx.opts.modelHint ?? null),
          info: host.info ?? null,
        },
        workspace: { dir: ws.root, paintings: ws.countPaintings(), integrity: ws.integrity },
        jobs: ws.countJobs(),
        queue: queue.stats(),
        memory: { rss: mem.rss, heapUsed: mem.heapUsed, workers: host.workerMemory() },
        limits: {
          maxUploadBytes: ctx.opts.maxUploadBytes,
          maxPixels: ctx.opts.maxPixels,
          maxMapPixels: queue.limits.maxMapPixels,
          maxTiles: queue.limits.maxTiles,
          maxAttempts: queue.limits.maxAttempts,
        },
        auth: { tokenRequired: !!ctx.opts.token },
      };
    },
  );
  app.get(
    '/api/openapi.json',
    {
      schema: {
        hide: true,
        response: {
          200: Type.Unsafe<unknown>({
            type: 'object',
            additionalProperties: true,
            description: 'OpenAPI 3.1',
          }),
        },
      },
    },
    async () => app.swagger(),
  );
}
