/**
 * `GET /api/health` (backend, model, workspace, queue) and `GET /api/openapi.json` (the OpenAPI document that
 * @fastify/swagger builds from the routes' schemas).
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
        workspace: { dir: ws.root, paintings: ws.listPaintings().length, integrity: 'not checked' },
        jobs: ws.countJobs(),
        queue: queue.stats(),
        memory: { rss: mem.rss, heapUsed: mem.heapUsed },
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
