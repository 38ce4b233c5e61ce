/**
 * Explanation jobs: create (→ id; a cached result answers at once), list, get, cancel, delete, and progress as
 * Server-Sent Events (`GET /api/jobs/:id/events`: the current state first, then `progress` and `state`
 * events, closed when the job ends). `DELETE /api/jobs/:id` removes a job and its maps folder; a queued or
 * running job is cancelled first (its SSE stream gets the `cancelled` state), so the UI needs one call.
 * Maps shared with a cache hit stay on disk while another job still points to them.
 *
 * @example
 * POST /api/jobs { "paintingId": "<sha256>", "method": "chefer-all", "target": { "kind": "prompt", "prompt": "a wave" } }
 * -> 202 { "id": "…", "state": "queued", "cached": false }
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app.ts';
import { HttpError, type JobEvent, type JobRequest } from '../jobs.ts';
import { idParams, JOB, JOB_CREATE, JOB_DELETED, OK, PAINTING_ID, UUID, withErrors } from '../schemas.ts';
import type { JobRow, JobState, Workspace } from '../workspace.ts';

const TERMINAL = new Set<JobState>(['done', 'failed', 'cancelled']);

export function requireJob(ws: Workspace, id: string): JobRow {
  const j = ws.getJob(id);
  if (!j) throw new HttpError(404, `job ${id} not found`);
  return j;
}

export function registerJobRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { ws, queue } = ctx;
  const tags = ['jobs'];
  app.post(
    '/api/jobs',
    {
      schema: {
        summary: 'create an explanation job (one painting × method × target)',
        tags,
        body: JOB_CREATE,
        response: withErrors({ 200: JOB, 202: JOB }, 404, 503),
      },
    },
    async (req, reply) => {
      const { job, cached } = queue.create(req.body as JobRequest);
      reply.code(cached ? 200 : 202);
      return { ...job, cached };
    },
  );
  app.get(
    '/api/jobs',
    {
      schema: {
        summary: 'list jobs (oldest first)',
        tags,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled'] },
            paintingId: PAINTING_ID,
            limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: withErrors({ 200: { type: 'array', items: JOB } }),
      },
    },
    async (req) =>
      ws.listJobs(req.query as { state?: JobState; paintingId?: string; limit: number; offset: number }),
  );
  app.get(
    '/api/jobs/:id',
    { schema: { summary: 'one job', tags, params: idParams(UUID), response: withErrors({ 200: JOB }, 404) } },
    async (req) => requireJob(ws, (req.params as { id: string }).id),
  );
  app.post(
    '/api/jobs/:id/cancel',
    {
      schema: {
        summary: 'cancel a queued or running job',
        tags,
        params: idParams(UUID),
        response: withErrors({ 200: OK }, 404, 409),
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const job = requireJob(ws, id);
      if (!(await queue.cancel(id)))
        throw new HttpError(409, `job ${id} has already finished (${job.state})`);
      return { ok: true };
    },
  );
  app.delete(
    '/api/jobs/:id',
    {
      schema: {
        summary:
          'delete a job and its maps (a queued or running job is cancelled first; maps shared with a cached copy stay while it exists)',
        tags,
        params: idParams(UUID),
        response: withErrors({ 200: JOB_DELETED }, 404),
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const job = requireJob(ws, id);
      const cancelled = !TERMINAL.has(job.state) && (await queue.cancel(id));
      await ws.deleteJob(id);
      return { ok: true, cancelled };
    },
  );
  app.get(
    '/api/jobs/:id/events',
    {
      schema: {
        summary: 'progress of a job as Server-Sent Events (events: state, progress)',
        tags,
        params: idParams(UUID),
        produces: ['text/event-stream'],
        response: withErrors({}, 404),
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const job = requireJob(ws, id);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const send = (ev: JobEvent) => {
        const { job: j } = ev;
        res.write(
          `event: ${ev.type}\ndata: ${JSON.stringify({ id: j.id, state: j.state, progress: j.progress, error: j.error, result: j.result, cachedFrom: j.cachedFrom })}\n\n`,
        );
        if (ev.type === 'state' && TERMINAL.has(j.state)) finish();
      };
      let off = () => {};
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      const finish = () => {
        off();
        clearInterval(heartbeat);
        if (!res.writableEnded) res.end();
      };
      req.raw.on('close', finish);
      off = queue.subscribe(id, send);
      // the current state, read after subscribing so no transition is missed
      send({ type: 'state', job: ws.getJob(id) ?? job });
    },
  );
}
