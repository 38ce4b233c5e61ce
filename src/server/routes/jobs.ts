/**
 * Explanation jobs: create (→ id; a cached result answers at once), list, get, cancel, delete, and progress as
 * Server-Sent Events (`GET /api/jobs/:id/events`: the current state first, then `progress` and `state`
 * events, closed when the job ends). `DELETE /api/jobs/:id` removes a job and its maps folder; a queued or
 * running job is cancelled first (its SSE stream gets the `cancelled` state), so the UI needs one call.
 * Maps shared with a cache hit stay on disk while another job still points to them. A request's method
 * parameters are checked (and completed with their defaults) by `validateMethodParams`, so a bad one is
 * refused with a message naming the method and the parameter.
 *
 * @example
 * POST /api/jobs { "paintingId": "<sha256>", "method": "chefer-all", "target": { "kind": "prompt", "prompt": "a wave" } }
 * -> 202 { "id": "…", "state": "queued", "cached": false }
 */
import { Type } from 'typebox';
import { isMethodId, validateMethodParams } from '../../attribution/method-params.ts';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { HttpError, type JobEvent } from '../jobs.ts';
import {
  binary,
  JOB,
  JOB_CREATE,
  JOB_DELETED,
  JOB_LIST_QUERY,
  type Job,
  OK,
  type Target,
  UUID_PARAMS,
  withErrors,
} from '../schemas.ts';
import type { JobRow, JobState, Workspace } from '../workspace.ts';

const TERMINAL = new Set<JobState>(['done', 'failed', 'cancelled']);

export function requireJob(ws: Workspace, id: string): JobRow {
  const j = ws.getJob(id);
  if (!j) throw new HttpError(404, `job ${id} not found`);
  return j;
}

/**
 * A job row as the API shows it. The row's target was validated against the target schema when the job was
 * created (the database keeps it as JSON, typed `unknown`).
 *
 * @example
 * reply.send(jobBody(requireJob(ws, id)));
 */
export function jobBody(row: JobRow): Job {
  return { ...row, target: row.target as Target };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks a job request's method parameters and fills in their defaults before the body is validated, so that
 * a bad parameter is reported as the method reports it (`smoothgrad: samples must be an integer in [1, 4096],
 * got 0`). Requests that are not shaped like a job request are left to the schema.
 */
async function resolveMethodParams(req: { body: unknown }): Promise<void> {
  const body = req.body;
  if (!isRecord(body) || !isMethodId(body.method)) return;
  const params = body.params ?? {};
  if (!isRecord(params)) return;
  try {
    body.params = validateMethodParams(body.method, params);
  } catch (e) {
    throw new HttpError(400, (e as Error).message);
  }
}

export function registerJobRoutes(app: ArtprobeApp, ctx: AppContext): void {
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
      preValidation: resolveMethodParams,
    },
    async (req, reply) => {
      const { job, cached } = queue.create(req.body);
      reply.code(cached ? 200 : 202);
      return { ...jobBody(job), cached };
    },
  );
  app.get(
    '/api/jobs',
    {
      schema: {
        summary: 'list jobs (oldest first)',
        tags,
        querystring: JOB_LIST_QUERY,
        response: withErrors({ 200: Type.Array(JOB) }),
      },
    },
    async (req) => ws.listJobs(req.query).map(jobBody),
  );
  app.get(
    '/api/jobs/:id',
    {
      schema: { summary: 'one job', tags, params: UUID_PARAMS, response: withErrors({ 200: JOB }, 404) },
    },
    async (req) => jobBody(requireJob(ws, req.params.id)),
  );
  app.post(
    '/api/jobs/:id/cancel',
    {
      schema: {
        summary: 'cancel a queued or running job',
        tags,
        params: UUID_PARAMS,
        response: withErrors({ 200: OK }, 404, 409),
      },
    },
    async (req) => {
      const { id } = req.params;
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
        params: UUID_PARAMS,
        response: withErrors({ 200: JOB_DELETED }, 404),
      },
    },
    async (req) => {
      const { id } = req.params;
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
        params: UUID_PARAMS,
        response: withErrors(
          {
            200: binary(
              'events "state" and "progress", each with data { id, state, progress, error, result, cachedFrom }; closed when the job ends',
              'text/event-stream',
            ),
          },
          404,
        ),
      },
    },
    async (req, reply) => {
      const { id } = req.params;
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
