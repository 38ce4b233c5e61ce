/**
 * Explanation jobs: creation (validated, cache key computed), a FIFO queue with bounded concurrency, progress
 * events for Server-Sent Events, cancellation, and recovery after a restart (jobs left `queued` or `running`
 * are queued again, or failed with the reason when their painting or model is gone).
 * Cache key = sha256 of (model fingerprint, image sha256, method, canonical JSON of the resolved parameters,
 * canonical JSON of the target, view, and the working size when the painting is above the map pixel budget):
 * a finished job with the same key answers a new request at once.
 *
 * Work is bounded before it starts: a tiles-view job over `maxTiles` tiles is refused at creation, and a
 * painting above `maxMapPixels` is explained from a copy shrunk to that budget (maps are stored at that
 * size). A job that was running when the server stopped is re-queued at the next start, at most
 * `maxAttempts` times in all: then it fails for good, with the reason kept (a job that kills the process is
 * not retried forever). Error messages never show the workspace's path.
 *
 * @example
 * const queue = new JobQueue(ws, host, { concurrency: 1 });
 * const job = queue.create({ paintingId, method: 'chefer-all', target: { kind: 'prompt', prompt: 'a wave' } });
 * const off = queue.subscribe(job.id, (ev) => console.log(ev));
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import type { ManifestEntry } from '../attribution/manifest.ts';
import { getMethod } from '../attribution/registry.ts';
import { checkTarget, type TargetSpec } from '../attribution/target.ts';
import { checkTileCount, DEFAULT_MAX_TILES, TileLimitError, type ViewKind } from '../attribution/views.ts';
import { budgetSize } from '../core/image-decode.ts';
import { HttpError } from './http-error.ts';
import { CancelledError, type ModelHost } from './model-host.ts';
import { type JobResult, type JobRow, sha256Hex, type Workspace } from './workspace.ts';

export { HttpError };

/**
 * The 503 message when no model is loaded, with how to get one.
 *
 * @example
 * if (host.state !== 'ready') throw new HttpError(503, noModelMessage(host));
 */
export function noModelMessage(host: Pick<ModelHost, 'state' | 'error'>): string {
  return `no model is loaded (${host.state}${host.error ? `: ${host.error}` : ''}); run \`artprobe model pull openai/clip-vit-base-patch32\` or start the server with --model`;
}

/** JSON with object keys sorted at every level (for cache keys). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export interface JobRequest {
  paintingId: string;
  method: string;
  params?: Record<string, unknown>;
  target: TargetSpec;
  view?: ViewKind;
}

/** One event on a job's stream. */
export interface JobEvent {
  type: 'state' | 'progress';
  job: JobRow;
}

export interface JobQueueOptions {
  /** Jobs running at once (default 1). */
  concurrency?: number;
  /** Jobs waiting at most; more are refused with 503 (default 10 000). */
  maxQueued?: number;
  /** Starts of a job at most (restarts after a crash included) before it fails for good (default 3). */
  maxAttempts?: number;
  /** Most tiles of a tiles-view job (default 64). */
  maxTiles?: number;
  /** Pixel budget of the painting a job works on and of its stored maps (default 4 194 304). */
  maxMapPixels?: number;
}

/**
 * Default pixel budget of explanation work and stored maps: 2048 × 2048.
 *
 * @example
 * new JobQueue(ws, host, { maxMapPixels: DEFAULT_MAX_MAP_PIXELS });
 */
export const DEFAULT_MAX_MAP_PIXELS = 2048 * 2048;

/**
 * Default number of starts of a job before it fails for good.
 *
 * @example
 * new JobQueue(ws, host, { maxAttempts: DEFAULT_MAX_ATTEMPTS });
 */
export const DEFAULT_MAX_ATTEMPTS = 3;

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

/** The job queue of one server. */
export class JobQueue {
  private pending: string[] = [];
  private running = new Set<string>();
  private events = new EventEmitter();
  private readonly concurrency: number;
  private readonly maxQueued: number;
  /** Limits of the work, as the queue applies them. */
  readonly limits: { maxAttempts: number; maxTiles: number; maxMapPixels: number };
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private runWaiters: (() => void)[] = [];
  /** While true no new job starts (model switch). */
  paused = false;

  constructor(
    private readonly ws: Workspace,
    private readonly host: ModelHost,
    opts: JobQueueOptions = {},
  ) {
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.maxQueued = opts.maxQueued ?? 10_000;
    this.limits = {
      maxAttempts: Math.max(1, opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
      maxTiles: opts.maxTiles ?? DEFAULT_MAX_TILES,
      maxMapPixels: opts.maxMapPixels ?? DEFAULT_MAX_MAP_PIXELS,
    };
    this.events.setMaxListeners(0);
    host.onIdle = () => this.pump();
  }

  /** Validates a request and records a job: `done` at once on a cache hit, else `queued`. */
  create(req: JobRequest): { job: JobRow; cached: boolean } {
    const info = this.host.info;
    if (this.host.state !== 'ready' || !info) throw new HttpError(503, noModelMessage(this.host));
    const painting = this.ws.getPainting(req.paintingId);
    if (!painting) throw new HttpError(404, `painting ${req.paintingId} not found`);
    let params: Record<string, unknown>;
    try {
      params = getMethod(req.method).resolveParams(req.params ?? {}) as Record<string, unknown>;
      checkTarget(req.target);
    } catch (e) {
      throw new HttpError(400, (e as Error).message);
    }
    const view = req.view ?? 'crop';
    if (view === 'tiles') {
      try {
        checkTileCount(
          painting.width,
          painting.height,
          0.25,
          this.limits.maxTiles,
          'raise it with artprobe serve --max-tiles, or use the crop or pad view',
        );
      } catch (e) {
        if (e instanceof TileLimitError) throw new HttpError(400, `painting ${painting.id}: ${e.message}`);
        throw e;
      }
    }
    // above the budget the job works on a shrunk copy: its size is part of what the result depends on
    const work = budgetSize(painting.width, painting.height, this.limits.maxMapPixels);
    const shrunk = work.width !== painting.width || work.height !== painting.height;
    const cacheKey = sha256Hex(
      canonicalJson([
        info.fingerprint,
        painting.id,
        req.method,
        params,
        req.target,
        view,
        ...(shrunk ? [[work.width, work.height]] : []),
      ]),
    );
    const hit = this.ws.findCached(cacheKey);
    const base = {
      id: randomUUID(),
      paintingId: painting.id,
      modelId: info.id,
      modelFingerprint: info.fingerprint,
      method: req.method,
      params,
      target: req.target,
      view,
      cacheKey,
    };
    if (hit)
      return {
        job: this.ws.insertJob({ ...base, state: 'done', cachedFrom: hit.id, result: hit.result }),
        cached: true,
      };
    if (this.pending.length >= this.maxQueued)
      throw new HttpError(503, `the job queue is full (${this.maxQueued} waiting); try again later`);
    const job = this.ws.insertJob({ ...base, state: 'queued', cachedFrom: null, result: null });
    this.pending.push(job.id);
    setImmediate(() => this.pump());
    return { job, cached: false };
  }

  /**
   * Re-queues jobs a previous process left unfinished, or fails them with the reason (painting or model gone,
   * or `maxAttempts` starts used up: the process stopped during each of them).
   */
  recover(): { requeued: number; failed: number } {
    let requeued = 0;
    let failed = 0;
    for (const state of ['running', 'queued'] as const) {
      for (const j of this.ws.listJobs({ state, limit: 1_000_000 })) {
        if (this.pending.includes(j.id) || this.running.has(j.id)) continue;
        const reason =
          state === 'running' && j.attempts >= this.limits.maxAttempts
            ? `gave up after ${j.attempts} attempts: the server stopped (was killed or crashed) during each of them, the last one started ${j.startedAt ?? 'at an unknown time'}; a job that makes the server run out of memory is not retried more than --max-attempts times (now ${this.limits.maxAttempts})`
            : this.unrunnableReason(j);
        if (reason) {
          this.ws.finishJob(j.id, 'failed', { error: `after a restart: ${reason}` });
          this.emit(j.id, 'state');
          failed++;
        } else {
          this.ws.requeueJob(j.id);
          this.pending.push(j.id);
          requeued++;
        }
      }
    }
    setImmediate(() => this.pump());
    return { requeued, failed };
  }

  /** Why a job cannot run now, or undefined. */
  private unrunnableReason(j: JobRow): string | undefined {
    if (!this.ws.getPainting(j.paintingId)) return `its painting ${j.paintingId} is gone`;
    const info = this.host.info;
    if (this.host.state === 'ready' && info && info.fingerprint !== j.modelFingerprint)
      return `it was for model ${j.modelId} (weights ${j.modelFingerprint.slice(0, 12)}), but the server now runs ${info.id} (${info.fingerprint.slice(0, 12)})`;
    return undefined;
  }

  /** Cancels a queued or running job; false when it already finished. */
  async cancel(id: string): Promise<boolean> {
    const job = this.ws.getJob(id);
    if (!job || TERMINAL.has(job.state)) return false;
    const i = this.pending.indexOf(id);
    if (i >= 0) this.pending.splice(i, 1);
    if (this.running.has(id)) await this.host.cancel(id);
    this.ws.finishJob(id, 'cancelled', { error: 'cancelled by request' });
    this.emit(id, 'state');
    return true;
  }

  /** Listens to one job's events; returns the unsubscribe function. */
  subscribe(id: string, fn: (ev: JobEvent) => void): () => void {
    this.events.on(id, fn);
    return () => this.events.off(id, fn);
  }

  stats(): { pending: number; running: number; concurrency: number } {
    return { pending: this.pending.length, running: this.running.size, concurrency: this.concurrency };
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.pending.length === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Pauses the queue and resolves when no job is running (queued jobs wait). */
  whenRunningDone(): Promise<void> {
    this.paused = true;
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((r) => this.runWaiters.push(r));
  }

  /** Resumes after {@link whenRunningDone}. */
  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Stops starting jobs (running ones are left to the caller to stop; they are re-queued on the next start). */
  close(): void {
    this.closed = true;
  }

  /** An error message as the API shows it: the workspace's path replaced, a killed worker explained. */
  private publicMessage(message: string): string {
    const m = message.split(this.ws.root).join('<workspace>');
    const killed = /^model worker exited \((SIG\w+)\)/.exec(m);
    return killed
      ? `${m}: the model worker was killed while it ran this job (${killed[1] === 'SIGKILL' ? 'out of memory, or killed from outside' : killed[1]})`
      : m;
  }

  private emit(id: string, type: JobEvent['type']): void {
    const job = this.ws.getJob(id);
    if (job) this.events.emit(id, { type, job } satisfies JobEvent);
  }

  /** Starts queued jobs while workers are free. */
  pump(): void {
    while (
      !this.closed &&
      !this.paused &&
      this.pending.length > 0 &&
      this.running.size < this.concurrency &&
      this.host.idleWorkers() > 0
    ) {
      const id = this.pending.shift() as string;
      this.running.add(id);
      this.run(id)
        .catch(() => undefined)
        .finally(() => {
          this.running.delete(id);
          if (this.running.size === 0) for (const w of this.runWaiters.splice(0)) w();
          if (this.pending.length === 0 && this.running.size === 0)
            for (const w of this.idleWaiters.splice(0)) w();
          this.pump();
        });
    }
    if (this.pending.length === 0 && this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(id: string): Promise<void> {
    const job = this.ws.getJob(id);
    if (job?.state !== 'queued') return;
    const reason = this.unrunnableReason(job);
    if (reason) {
      this.ws.finishJob(id, 'failed', { error: reason });
      return this.emit(id, 'state');
    }
    // an identical job may have finished while this one waited
    const hit = this.ws.findCached(job.cacheKey);
    if (hit) {
      this.ws.finishJob(id, 'done', { result: hit.result ?? undefined, cachedFrom: hit.id });
      return this.emit(id, 'state');
    }
    const painting = this.ws.getPainting(job.paintingId);
    if (!painting) return;
    this.ws.markRunning(id);
    this.emit(id, 'state');
    const outDir = this.ws.mapsDir(id);
    try {
      const entry = await this.host.explain(
        {
          jobId: id,
          image: this.ws.paintingFile(painting),
          imageName: `${painting.id}.${painting.ext}`,
          method: job.method,
          params: job.params,
          target: job.target as TargetSpec,
          view: job.view as ViewKind,
          outDir,
          maxMapPixels: this.limits.maxMapPixels,
          maxTiles: this.limits.maxTiles,
          label: `painting "${painting.name}"`,
        },
        (done, total) => {
          if (this.ws.getJob(id)?.state !== 'running') return;
          this.ws.setProgress(id, done, total);
          this.emit(id, 'progress');
        },
      );
      if (this.ws.getJob(id)?.state !== 'running') return; // cancelled or deleted meanwhile
      this.ws.finishJob(id, 'done', { result: toResult(id, entry) });
    } catch (e) {
      if (e instanceof CancelledError) return;
      if (this.closed) return; // shutting down: stays `running`, re-queued on the next start
      await rm(outDir, { recursive: true, force: true });
      if (this.ws.getJob(id)?.state === 'running')
        this.ws.finishJob(id, 'failed', { error: this.publicMessage((e as Error).message) });
    }
    this.emit(id, 'state');
  }
}

function toResult(jobId: string, e: ManifestEntry): JobResult {
  return {
    mapsJob: jobId,
    score: e.score,
    grid: e.grid,
    paintingSize: e.painting_size,
    signed: e.signed,
    tiles: e.tiles,
    files: { raw: e.map, painting: e.map_painting, overlay: e.overlay },
    ...(e.extras ? { extras: e.extras } : {}),
  };
}
