/**
 * `GET /api/health` (backend, model, workspace, queue) and `GET /api/openapi.json`.
 *
 * @example
 * (await app.inject('/api/health')).json().model.state; // 'ready'
 */
import type { FastifyInstance } from 'fastify';
import { type AppContext, VERSION } from '../app.ts';
import { MODEL_INFO } from '../schemas.ts';

export function registerHealthRoutes(
  app: FastifyInstance,
  ctx: AppContext,
  doc: Record<string, unknown>,
): void {
  app.get(
    '/api/health',
    {
      schema: {
        summary: 'server, backend, model and workspace status',
        tags: ['health'],
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              version: { type: 'string' },
              backend: { type: ['object', 'null'], additionalProperties: true },
              model: {
                type: 'object',
                properties: {
                  state: { type: 'string' },
                  source: { type: ['string', 'null'] },
                  error: { type: ['string', 'null'] },
                  hint: { type: ['string', 'null'] },
                  info: MODEL_INFO,
                },
              },
              workspace: {
                type: 'object',
                properties: {
                  dir: { type: 'string' },
                  paintings: { type: 'integer' },
                  integrity: { type: 'string' },
                },
              },
              jobs: { type: 'object', additionalProperties: { type: 'integer' } },
              queue: { type: 'object', additionalProperties: { type: 'integer' } },
              memory: {
                type: 'object',
                properties: { rss: { type: 'integer' }, heapUsed: { type: 'integer' } },
              },
            },
          },
        },
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
        summary: 'this OpenAPI document',
        tags: ['health'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
      config: { hideFromOpenApi: true },
    },
    async () => doc,
  );
}
