/**
 * Owns the model for the server: a pool of worker threads (one per allowed concurrent job, default 1), each
 * with the same CLIP loaded. `load` (re)loads every worker; `explain` runs one job on an idle worker;
 * `cancel` terminates the worker running a job (TensorFlow.js work cannot be interrupted otherwise) and
 * starts a fresh one with the model. State (`none`, `loading`, `ready`, `error`) is reported by /api/health.
 *
 * @example
 * const host = new ModelHost({ workers: 1 });
 * await host.load('../shared/toy/A/model');
 * const entry = await host.explain({ jobId, image, imageName, method: 'chefer-all', params: {}, target, view: 'crop', outDir }, onProgress);
 */
import { Worker } from 'node:worker_threads';
import type { ManifestEntry } from '../attribution/manifest.ts';
import type { ModelInfo, WorkerRequest } from './model-worker.ts';

export type { ModelInfo } from './model-worker.ts';
export type ExplainJob = Extract<WorkerRequest, { type: 'explain' }>;
export type ModelState = 'none' | 'loading' | 'ready' | 'error';

/** Raised when a job was cancelled while running. */
export class CancelledError extends Error {
  override name = 'CancelledError';
}

type Msg =
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'progress'; jobId: string; done: number; total: number }
  | { type: 'done'; jobId: string; entry: ManifestEntry }
  | { type: 'error'; request: string; message: string };

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy?: {
    jobId: string;
    resolve: (e: ManifestEntry) => void;
    reject: (e: Error) => void;
    onProgress?: (d: number, t: number) => void;
  };
  onLoad?: { resolve: (i: ModelInfo) => void; reject: (e: Error) => void };
  dead: boolean;
}

export interface ModelHostOptions {
  /** Worker threads (= jobs running at once); default 1, TF.js work is CPU-bound. */
  workers?: number;
  backend?: string;
  maxPixels?: number;
}

/** The model, behind worker threads. */
export class ModelHost {
  state: ModelState = 'none';
  info?: ModelInfo;
  error?: string;
  source?: string;
  private slots: Slot[] = [];
  private readonly size: number;
  private loading?: Promise<ModelInfo>;
  /** Called whenever a worker becomes free (job finished, model loaded). */
  onIdle?: () => void;

  constructor(private readonly opts: ModelHostOptions = {}) {
    this.size = Math.max(1, opts.workers ?? 1);
  }

  /** Loads (or switches to) a model folder in every worker; resolves with its description. */
  async load(source: string): Promise<ModelInfo> {
    if (this.slots.some((s) => s.busy))
      throw new Error('cannot switch the model while a job is running; wait or cancel it');
    this.state = 'loading';
    this.source = source;
    this.error = undefined;
    const run = (async () => {
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
      }
      throw e;
    }
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./model-worker.mjs', import.meta.url));
    worker.unref();
    const slot: Slot = { worker, ready: Promise.resolve(), dead: false };
    worker.on('message', (m: Msg) => this.onMessage(slot, m));
    const fail = (err: Error) => {
      slot.dead = true;
      slot.busy?.reject(err);
      slot.onLoad?.reject(err);
      slot.busy = slot.onLoad = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`model worker exited (code ${code})`)));
    return slot;
  }

  private onMessage(slot: Slot, m: Msg): void {
    if (m.type === 'loaded') {
      slot.onLoad?.resolve(m.info);
      slot.onLoad = undefined;
      setImmediate(() => this.onIdle?.());
    } else if (m.type === 'progress') {
      slot.busy?.onProgress?.(m.done, m.total);
    } else if (m.type === 'done') {
      const b = slot.busy;
      slot.busy = undefined;
      b?.resolve(m.entry);
    } else if (m.request === 'load') {
      slot.onLoad?.reject(new Error(m.message));
      slot.onLoad = undefined;
    } else {
      const b = slot.busy;
      slot.busy = undefined;
      b?.reject(new Error(m.message));
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
    slot.worker.postMessage({
      type: 'load',
      source,
      backend: this.opts.backend,
      maxPixels: this.opts.maxPixels,
    } satisfies WorkerRequest);
    return p;
  }

  /** Runs one explanation on an idle worker; rejects with CancelledError when cancelled. */
  async explain(
    job: Omit<ExplainJob, 'type'>,
    onProgress?: (done: number, total: number) => void,
  ): Promise<ManifestEntry> {
    if (this.state !== 'ready')
      throw new Error(`no model is ready (state: ${this.state}${this.error ? `, ${this.error}` : ''})`);
    const slot = this.slots.find((s) => !s.busy && !s.dead && !s.onLoad);
    if (!slot) throw new Error('no idle model worker');
    return new Promise<ManifestEntry>((resolve, reject) => {
      slot.busy = { jobId: job.jobId, resolve, reject, onProgress };
      slot.worker.postMessage({ type: 'explain', ...job } satisfies WorkerRequest);
    }).finally(() => this.replaceDead());
  }

  /** Stops a running job by terminating its worker (a fresh worker reloads the model). */
  async cancel(jobId: string): Promise<boolean> {
    const slot = this.slots.find((s) => s.busy?.jobId === jobId);
    if (!slot) return false;
    const b = slot.busy;
    slot.busy = undefined;
    b?.reject(new CancelledError(`job ${jobId} was cancelled`));
    await slot.worker.terminate();
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

  /** Number of workers not busy and able to take a job. */
  idleWorkers(): number {
    return this.state === 'ready' ? this.slots.filter((s) => !s.busy && !s.dead && !s.onLoad).length : 0;
  }

  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    for (const s of slots) {
      s.dead = true;
      s.busy?.reject(new Error('server is shutting down'));
      s.busy = undefined;
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
