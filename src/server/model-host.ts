/**
 * Owns the model for the server: a pool of worker processes (one per allowed concurrent job, default 1), each
 * with the same CLIP loaded. `load` (re)loads every worker; `explain` runs one job on an idle worker;
 * `zeroShot` runs one zero-shot probe and `embed` embeds a few paintings, each waiting (bounded) for a worker;
 * `cancel` kills the worker process running
 * a job (TensorFlow.js work cannot be interrupted otherwise) and starts a fresh one with the model. State
 * (`none`, `loading`, `ready`, `error`) is reported by /api/health.
 *
 * Taking a worker is a synchronous check-and-set (find an idle slot and mark it busy in the same tick), both
 * for jobs (the JobQueue checks `idleWorkers()` and calls `explain` in one tick) and for probes, so the two
 * can never be given the same worker. When a worker frees up, waiting probes are served first (they are
 * short and interactive), then `onIdle` lets the queue start its next job.
 *
 * Workers run at a lower scheduling priority than the server (nice +10 where the system allows it), so that
 * the HTTP API stays responsive while they compute; every message they send carries their peak RSS, which
 * `workerMemory()` reports (for /api/health and the memory tests). Probes and embeddings decode paintings
 * under the same pixel budget as jobs (`maxMapPixels`).
 *
 * @example
 * const host = new ModelHost({ workers: 1 });
 * await host.load('../shared/toy/A/model');
 * const entry = await host.explain({ jobId, image, imageName, method: 'chefer-all', params: {}, target, view: 'crop', outDir }, onProgress);
 * const { result, model } = await host.zeroShot({ image, imageName, suites, topK: 5 }, { waitMs: 30_000 });
 * const { result: vectors } = await host.embed({ images: ['/ws/paintings/<id>.png'] }, { waitMs: 30_000 });
 */

import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ManifestEntry } from '../attribution/manifest.ts';
import type { TextRelevance } from '../attribution/text-relevance.ts';
import type { ZeroShotResult } from '../probe/zero-shot.ts';
import type { MapFaithfulness } from '../regions/map-faithfulness.ts';
import type { ModelInfo, WorkerRequest } from './model-worker.ts';

export type { ModelInfo } from './model-worker.ts';
export type ExplainJob = Extract<WorkerRequest, { type: 'explain' }>;
export type ZeroShotRequest = Omit<Extract<WorkerRequest, { type: 'zeroShot' }>, 'type' | 'requestId'>;
export type EmbedRequest = Omit<Extract<WorkerRequest, { type: 'embed' }>, 'type' | 'requestId'>;
export type TextRelevanceJob = Omit<Extract<WorkerRequest, { type: 'textRelevance' }>, 'type' | 'requestId'>;
export type FaithfulnessRequest = Omit<
  Extract<WorkerRequest, { type: 'faithfulness' }>,
  'type' | 'requestId'
>;
/** A decomposition or steering request (`./diagnostics.ts`). */
export type DiagnosticsJob = Omit<Extract<WorkerRequest, { type: 'diagnostics' }>, 'type' | 'requestId'>;
export type ModelState = 'none' | 'loading' | 'ready' | 'error';
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Raised when a job was cancelled while running. */
export class CancelledError extends Error {
  override name = 'CancelledError';
}

/** Raised when no model is loaded (state `none` or `error`). */
export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
}

/** Raised when every worker stayed busy for longer than the caller would wait. */
export class ModelBusyError extends Error {
  override name = 'ModelBusyError';
}

type Msg = (
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'progress'; jobId: string; done: number; total: number }
  | { type: 'done'; jobId: string; entry: ManifestEntry }
  | { type: 'zeroShotDone'; requestId: string; result: ZeroShotResult }
  | { type: 'embedDone'; requestId: string; embeddings: Float32Array[] }
  | { type: 'textRelevanceDone'; requestId: string; result: TextRelevance[] }
  | { type: 'faithfulnessDone'; requestId: string; result: MapFaithfulness }
  | { type: 'diagnosticsDone'; requestId: string; result: unknown }
  | { type: 'error'; request: string; message: string }
) & { peakRss?: number };

interface Busy {
  kind: 'job' | 'probe';
  id: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: (d: number, t: number) => void;
}

interface Slot {
  worker: ChildProcess;
  ready: Promise<void>;
  busy?: Busy;
  onLoad?: { resolve: (i: ModelInfo) => void; reject: (e: Error) => void };
  /** The model this worker holds. */
  info?: ModelInfo;
  dead: boolean;
  /** Peak resident memory of the worker process, bytes (from its last message). */
  peakRss: number;
}

interface Waiter {
  start: (slot: Slot) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface ModelHostOptions {
  /** Worker processes (= jobs running at once); default 1, the engines use every core. */
  workers?: number;
  backend?: string;
  maxPixels?: number;
  /** Pixel budget of paintings decoded for probes and embeddings (jobs give theirs). */
  maxMapPixels?: number;
  /** Scheduling priority increment of the worker processes (default 10; 0 keeps the server's). */
  nice?: number;
}

/**
 * The model, behind worker processes. Processes rather than threads: ONNX Runtime aborts the whole process when a
 * thread running it is terminated, and a killed process (cancel, crash, out of memory) takes nothing else down.
 */
export class ModelHost {
  state: ModelState = 'none';
  info?: ModelInfo;
  error?: string;
  source?: string;
  private slots: Slot[] = [];
  private readonly size: number;
  private loading?: Promise<ModelInfo>;
  /** Probes waiting for a worker, oldest first. */
  private waiters: Waiter[] = [];
  /** Called after every finished request (used by `load` to let running probes finish). */
  private settled: (() => void)[] = [];
  /** Called whenever a worker becomes free (job or probe finished, model loaded). */
  onIdle?: () => void;

  constructor(private readonly opts: ModelHostOptions = {}) {
    this.size = Math.max(1, opts.workers ?? 1);
  }

  /** Loads (or switches to) a model folder in every worker; resolves with its description. */
  async load(source: string): Promise<ModelInfo> {
    if (this.slots.some((s) => s.busy?.kind === 'job'))
      throw new Error('cannot switch the model while a job is running; wait or cancel it');
    this.state = 'loading'; // no new probe or job takes a worker from here on
    this.source = source;
    this.error = undefined;
    const run = (async () => {
      // probes already running are short: let them finish on the old model
      while (this.slots.some((s) => s.busy)) await new Promise<void>((r) => this.settled.push(r));
      while (this.slots.length < this.size) this.slots.push(this.spawn());
      const infos = await Promise.all(this.slots.map((s) => this.loadSlot(s, source)));
      return infos[0];
    })();
    this.loading = run;
    try {
      const info = await run;
      if (this.loading === run) {
        this.info = info;
        this.state = 'ready';
      }
      return info;
    } catch (e) {
      if (this.loading === run) {
        this.state = 'error';
        this.info = undefined;
        this.error = (e as Error).message;
        this.rejectWaiters(new ModelUnavailableError(`the model could not be loaded: ${this.error}`));
      }
      throw e;
    }
  }

  private spawn(): Slot {
    const worker = fork(fileURLToPath(new URL('./model-worker.mjs', import.meta.url)), [], {
      serialization: 'advanced', // typed arrays cross intact
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
    });
    worker.unref();
    worker.channel?.unref();
    const nice = this.opts.nice ?? 10;
    if (nice && worker.pid)
      try {
        setPriority(worker.pid, Math.min(19, Math.max(-20, nice)));
      } catch {
        /* not allowed here: the worker keeps the server's priority */
      }
    const slot: Slot = { worker, ready: Promise.resolve(), dead: false, peakRss: 0 };
    worker.on('message', (m: Msg) => {
      if (typeof m.peakRss === 'number') slot.peakRss = Math.max(slot.peakRss, m.peakRss);
      this.onMessage(slot, m);
    });
    const fail = (err: Error) => {
      slot.dead = true;
      const b = slot.busy;
      slot.onLoad?.reject(err);
      slot.busy = slot.onLoad = undefined;
      b?.reject(err);
      if (b) this.afterRequest();
    };
    worker.on('error', fail);
    worker.on('exit', (code, signal) => fail(new Error(`model worker exited (${signal ?? `code ${code}`})`)));
    return slot;
  }

  private onMessage(slot: Slot, m: Msg): void {
    if (m.type === 'loaded') {
      slot.info = m.info;
      slot.onLoad?.resolve(m.info);
      slot.onLoad = undefined;
      // after load() has set the state to ready
      setImmediate(() => this.freed());
    } else if (m.type === 'progress') {
      slot.busy?.onProgress?.(m.done, m.total);
    } else if (
      m.type === 'done' ||
      m.type === 'zeroShotDone' ||
      m.type === 'embedDone' ||
      m.type === 'textRelevanceDone' ||
      m.type === 'faithfulnessDone' ||
      m.type === 'diagnosticsDone'
    ) {
      const value = m.type === 'done' ? m.entry : m.type === 'embedDone' ? m.embeddings : m.result;
      this.finish(slot, (b) => b.resolve(value));
    } else if (m.request === 'load') {
      slot.onLoad?.reject(new Error(m.message));
      slot.onLoad = undefined;
    } else {
      this.finish(slot, (b) => b.reject(new Error(m.message)));
    }
  }

  /** Frees a slot after its request ended, then hands it on. */
  private finish(slot: Slot, settle: (b: Busy) => void): void {
    const b = slot.busy;
    slot.busy = undefined;
    if (b) settle(b);
    this.afterRequest();
  }

  private afterRequest(): void {
    for (const s of this.settled.splice(0)) s();
    this.freed();
  }

  /** A worker may be free: serve waiting probes first (synchronously), then let the job queue pump. */
  private freed(): void {
    while (this.waiters.length > 0) {
      const slot = this.idleSlot();
      if (!slot) break;
      const w = this.waiters.shift() as Waiter;
      clearTimeout(w.timer);
      w.start(slot);
    }
    if (this.waiters.length === 0) this.onIdle?.();
  }

  private idleSlot(): Slot | undefined {
    if (this.state !== 'ready') return undefined;
    return this.slots.find((s) => !s.busy && !s.dead && !s.onLoad);
  }

  private rejectWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  private loadSlot(slot: Slot, source: string): Promise<ModelInfo> {
    const p = new Promise<ModelInfo>((resolve, reject) => {
      slot.onLoad = { resolve, reject };
    });
    slot.ready = p.then(
      () => undefined,
      () => undefined,
    );
    slot.worker.send({
      type: 'load',
      source,
      backend: this.opts.backend,
      maxPixels: this.opts.maxPixels,
    } satisfies WorkerRequest);
    return p;
  }

  private notReadyMessage(): string {
    return `no model is ready (state: ${this.state}${this.error ? `, ${this.error}` : ''})`;
  }

  /** Runs one explanation on an idle worker; rejects with CancelledError when cancelled. */
  async explain(
    job: Omit<ExplainJob, 'type'>,
    onProgress?: (done: number, total: number) => void,
  ): Promise<ManifestEntry> {
    if (this.state !== 'ready') throw new Error(this.notReadyMessage());
    const slot = this.idleSlot();
    if (!slot) throw new Error('no idle model worker');
    return new Promise<ManifestEntry>((resolve, reject) => {
      slot.busy = {
        kind: 'job',
        id: job.jobId,
        resolve: resolve as (v: unknown) => void,
        reject,
        onProgress,
      };
      slot.worker.send({ type: 'explain', ...job } satisfies WorkerRequest);
    }).finally(() => this.replaceDead());
  }

  /**
   * Runs one zero-shot probe on a worker: at once when one is idle, else after waiting up to `waitMs` for one
   * (ModelBusyError past that). ModelUnavailableError when no model is loaded. Resolves with the result and
   * the model of the worker that computed it.
   */
  zeroShot(
    req: ZeroShotRequest,
    opts: { waitMs: number },
  ): Promise<{ result: ZeroShotResult; model: ModelInfo }> {
    return this.request<ZeroShotResult>({ type: 'zeroShot', ...req }, opts.waitMs);
  }

  /**
   * Unit-length CLIP image embeddings [n][E] of image files, on a worker (waiting like `zeroShot`). Keep the
   * lists short (tens of images) so waiting probes and jobs get their turn between calls.
   */
  embed(req: EmbedRequest, opts: { waitMs: number }): Promise<{ result: Float32Array[]; model: ModelInfo }> {
    return this.request<Float32Array[]>({ type: 'embed', ...req }, opts.waitMs);
  }

  /**
   * Each prompt token's share of the prompt's relevance for one painting (Chefer et al.'s text side), on a worker
   * (waiting like `zeroShot`).
   */
  textRelevance(
    req: TextRelevanceJob,
    opts: { waitMs: number },
  ): Promise<{ result: TextRelevance[]; model: ModelInfo }> {
    return this.request<TextRelevance[]>({ type: 'textRelevance', ...req }, opts.waitMs);
  }

  /**
   * Deletion and insertion of a finished job's map (its raw map on its own painting, view and target), on a
   * worker (waiting like `zeroShot`, ModelBusyError past `waitMs`): one forward pass per step and game, batched.
   */
  faithfulness(
    req: FaithfulnessRequest,
    opts: { waitMs: number },
  ): Promise<{ result: MapFaithfulness; model: ModelInfo }> {
    return this.request<MapFaithfulness>({ type: 'faithfulness', ...req }, opts.waitMs);
  }

  /**
   * A decomposition or steering request (`./diagnostics.ts`) on a worker, waiting like `zeroShot`. With `job` it
   * runs as a job: `cancel(job.id)` stops it (by killing its worker), and its progress reaches `job.onProgress`.
   */
  diagnostics<T>(
    req: DiagnosticsJob,
    opts: { waitMs: number; job?: { id: string; onProgress?: (done: number, total: number) => void } },
  ): Promise<{ result: T; model: ModelInfo }> {
    return this.request<T>({ type: 'diagnostics', ...req }, opts.waitMs, opts.job);
  }

  /** A short interactive request (probe, embed) on a worker: at once when one is idle, else queued up to `waitMs`. */
  private request<T>(
    msg: DistributiveOmit<
      Extract<
        WorkerRequest,
        { type: 'zeroShot' | 'embed' | 'textRelevance' | 'faithfulness' | 'diagnostics' }
      >,
      'requestId'
    >,
    waitMs: number,
    job?: { id: string; onProgress?: (done: number, total: number) => void },
  ): Promise<{ result: T; model: ModelInfo }> {
    const requestId = randomUUID();
    return new Promise<{ result: T; model: ModelInfo }>((resolve, reject) => {
      if (this.state === 'none' || this.state === 'error')
        return reject(new ModelUnavailableError(this.notReadyMessage()));
      const start = (slot: Slot) => {
        const model = slot.info as ModelInfo;
        slot.busy = {
          kind: job ? 'job' : 'probe',
          id: job?.id ?? requestId,
          resolve: (result) => resolve({ result: result as T, model }),
          reject,
          onProgress: job?.onProgress,
        };
        slot.worker.send({
          maxMapPixels: this.opts.maxMapPixels,
          ...msg,
          requestId,
        } as WorkerRequest);
      };
      const slot = this.idleSlot();
      if (slot) return start(slot);
      const w: Waiter = {
        start,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(
            new ModelBusyError(
              `the model stayed busy (${this.state === 'loading' ? 'loading a model' : 'running an explanation job or another probe'}) for ${waitMs < 1000 ? `${waitMs} ms` : `${waitMs / 1000} s`}; try again later`,
            ),
          );
        }, waitMs),
      };
      this.waiters.push(w);
    }).finally(() => this.replaceDead());
  }

  /** Stops a running job by killing its worker process (a fresh worker reloads the model). */
  async cancel(jobId: string): Promise<boolean> {
    const slot = this.slots.find((s) => s.busy?.kind === 'job' && s.busy.id === jobId);
    if (!slot) return false;
    const b = slot.busy;
    slot.busy = undefined;
    slot.dead = true; // not handed to anyone before it is replaced
    b?.reject(new CancelledError(`job ${jobId} was cancelled`));
    await stopWorker(slot.worker);
    await this.replaceDead();
    return true;
  }

  /** Replaces crashed or terminated workers with fresh ones holding the current model. */
  private async replaceDead(): Promise<void> {
    for (let i = 0; i < this.slots.length; i++) {
      if (!this.slots[i].dead) continue;
      const fresh = this.spawn();
      this.slots[i] = fresh;
      if (this.source && this.state === 'ready')
        await this.loadSlot(fresh, this.source).catch(() => undefined);
    }
  }

  /** Memory of the worker processes: pid and peak resident memory (bytes) as each last reported it. */
  workerMemory(): { pid: number; peakRss: number }[] {
    return this.slots
      .filter((s) => s.worker.pid)
      .map((s) => ({ pid: s.worker.pid as number, peakRss: s.peakRss }));
  }

  /** Number of workers not busy and able to take a job (0 while probes wait: they go first). */
  idleWorkers(): number {
    if (this.state !== 'ready' || this.waiters.length > 0) return 0;
    return this.slots.filter((s) => !s.busy && !s.dead && !s.onLoad).length;
  }

  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    this.rejectWaiters(new ModelUnavailableError('server is shutting down'));
    for (const s of slots) {
      s.dead = true;
      s.busy?.reject(new Error('server is shutting down'));
      s.busy = undefined;
    }
    await Promise.all(slots.map((s) => stopWorker(s.worker)));
  }
}

/** Kills a worker process and waits until it has exited. */
function stopWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    worker.once('exit', () => resolve());
    worker.kill('SIGKILL');
  });
}
