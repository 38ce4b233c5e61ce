/**
 * A batch worker: finds runs with work in Redis, takes their jobs (BullMQ, at most `concurrency` at once across
 * runs), explains each painting with the best local engine (`loadClip`'s choice: ONNX Runtime when it loads, or
 * `--engine`), and writes the maps and a manifest fragment to the run's store. Then it marks the job done.
 *
 * Failure handling is BullMQ's: a worker that dies mid-job (SIGKILL, power loss) stops renewing the job's lock, and
 * after `lockMs` a live worker's stalled check puts the job back in the queue; a job that throws is retried with
 * exponential backoff and parked in the failed set with its error after the run's `attempts`. A job that cannot
 * succeed anywhere (other model weights on this machine, a painting changed since submission) is parked at once.
 * Writing results twice is harmless: every file has a fixed name and is written whole.
 *
 * @example
 * const w = await startBatchWorker({ redis: 'redis://10.0.0.5:6379', concurrency: 2 });
 * process.on('SIGTERM', () => w.stop());
 * await w.stopped;
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { explainImage } from '../attribution/explain.ts';
import { writeExplanations } from '../attribution/manifest.ts';
import type { TargetSpec } from '../attribution/target.ts';
import { type Clip, type LoadClipOptions, loadClip } from '../core/clip.ts';
import { fingerprintFile } from '../engine/create-engine.ts';
import type { EngineKind } from '../engine/engine.ts';
import type { BatchManifestEntry, JobFragment } from './assemble.ts';
import { DEFAULT_PREFIX, mapCacheKey, redisKeys, runPaths, sha256, viewKey } from './keys.ts';
import type { BatchJobData } from './plan.ts';
import { SLOWEST_KEPT } from './queue.ts';
import { connectRedis, redactUrl, redisOptions } from './redis.ts';
import { openStore, type ResultStore } from './store.ts';

export interface BatchWorkerOptions {
  /** Redis URL, e.g. `redis://10.0.0.5:6379`. */
  redis: string;
  /** Redis key prefix (default `artprobe`). */
  prefix?: string;
  /** Jobs at once in this process, across runs (default 1). */
  concurrency?: number;
  /** Serve this run only (default: every run with work). */
  run?: string;
  /** Engine (default: `loadClip`'s choice, i.e. `ARTPROBE_ENGINE` or ONNX Runtime when it loads). */
  engine?: EngineKind;
  /** ONNX Runtime threads per model (default: all cores). */
  threads?: number;
  device?: 'cpu' | 'cuda';
  /** Job lock time: a dead worker's job goes back to the queue after about this long (default 30 000 ms). */
  lockMs?: number;
  /** Interval of the stalled-job check (default 15 000 ms). */
  stalledMs?: number;
  /** Times a job may be lost with its worker before it is parked (default 2). */
  maxStalled?: number;
  /** How often Redis is asked for runs with work (default 2000 ms). */
  pollMs?: number;
  /** Stop after this long with nothing to do (default: never). */
  exitWhenIdleMs?: number;
  /** Worker name in logs and status (default `host:pid`). */
  id?: string;
  /** A line per job started and finished. */
  verbose?: boolean;
  log?: (line: string) => void;
}

export interface BatchWorkerStats {
  done: number;
  failed: number;
  skipped: number;
  maps: number;
}

export interface BatchWorker {
  readonly id: string;
  readonly stats: BatchWorkerStats;
  /** Stops taking jobs, lets running jobs finish, and closes everything. */
  stop(): Promise<void>;
  /** Resolves when the worker has stopped (by `stop` or by `exitWhenIdleMs`). */
  readonly stopped: Promise<void>;
}

/** At most `n` tasks at once. */
class Semaphore {
  private waiting: (() => void)[] = [];
  private active = 0;
  constructor(private readonly n: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((res) => this.waiting.push(res));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
  get busy(): number {
    return this.active;
  }
}

/** Loaded models by source, each loaded once; idle ones beyond the two most recent are disposed. */
class ModelCache {
  private entries = new Map<string, { clip: Promise<Clip>; users: number; used: number }>();
  constructor(private readonly opts: LoadClipOptions) {}

  async acquire(source: string): Promise<Clip> {
    let e = this.entries.get(source);
    if (!e) {
      e = { clip: loadClip(source, this.opts), users: 0, used: 0 };
      this.entries.set(source, e);
      e.clip.catch(() => this.entries.delete(source));
    }
    e.users++;
    e.used = Date.now();
    try {
      return await e.clip;
    } catch (err) {
      e.users--;
      throw err;
    }
  }

  release(source: string): void {
    const e = this.entries.get(source);
    if (e) e.users--;
    const idle = [...this.entries.entries()]
      .filter(([, x]) => x.users === 0)
      .sort((a, b) => b[1].used - a[1].used);
    for (const [k, x] of idle.slice(2)) {
      this.entries.delete(k);
      x.clip.then((c) => c.dispose()).catch(() => {});
    }
  }

  async disposeAll(): Promise<void> {
    for (const e of this.entries.values()) await e.clip.then((c) => c.dispose()).catch(() => {});
    this.entries.clear();
  }
}

/** Removes scratch folders of this host's workers that are no longer running. */
async function sweepScratch(root: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  for (const n of names) {
    const m = /^artprobe-worker-(\d+)$/.exec(n);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      await rm(join(root, n), { recursive: true, force: true });
    }
  }
}

/**
 * Starts a worker; it runs until `stop()` (or until idle for `exitWhenIdleMs`).
 *
 * @example
 * const w = await startBatchWorker({ redis: url, concurrency: 1, verbose: true });
 */
export async function startBatchWorker(opts: BatchWorkerOptions): Promise<BatchWorker> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new Error(`--concurrency must be an integer in 1..64, got ${concurrency}`);
  const id = opts.id ?? `${hostname()}:${process.pid}`;
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const lockMs = opts.lockMs ?? 30_000;
  const stalledMs = opts.stalledMs ?? 15_000;
  const pollMs = opts.pollMs ?? 2000;
  const redis: Redis = await connectRedis(opts.redis);
  const connection = redisOptions(opts.redis);
  const loadOpts: LoadClipOptions = {};
  if (opts.engine) loadOpts.engine = opts.engine;
  if (opts.threads) loadOpts.threads = opts.threads;
  if (opts.device) loadOpts.device = opts.device;
  const models = new ModelCache(loadOpts);
  const stores = new Map<string, Promise<ResultStore>>();
  const store = (uri: string) => {
    let s = stores.get(uri);
    if (!s) {
      s = openStore(uri);
      stores.set(uri, s);
    }
    return s;
  };
  const scratch = join(tmpdir(), `artprobe-worker-${process.pid}`);
  await sweepScratch(tmpdir());
  await mkdir(scratch, { recursive: true });
  const slots = new Semaphore(concurrency);
  const stats: BatchWorkerStats = { done: 0, failed: 0, skipped: 0, maps: 0 };
  const targetLists = new Map<string, TargetSpec[]>();
  const targetsOf = async (d: BatchJobData): Promise<TargetSpec[]> => {
    if (d.targets) return d.targets;
    const id = d.targetsId ?? '';
    let list = targetLists.get(`${d.run}/${id}`);
    if (!list) {
      const json = await redis.hget(redisKeys(prefix, d.run).targets, id);
      if (!json) throw new UnrecoverableError(`run ${d.run} has no target list ${id} in Redis`);
      list = JSON.parse(json) as TargetSpec[];
      targetLists.set(`${d.run}/${id}`, list);
    }
    return list;
  };
  const perRun = new Map<string, number>();

  const process1 = async (
    job: Job<BatchJobData>,
  ): Promise<{ maps: number; ms: number; skipped?: boolean }> => {
    const d = job.data;
    const key = String(job.id);
    const k = redisKeys(prefix, d.run);
    if ((await redis.sismember(k.done, key)) === 1) {
      stats.skipped++;
      return { maps: 0, ms: 0, skipped: true };
    }
    const methodLabel = d.methods.map((m) => m.id).join('+');
    const label = `${d.names.map((n) => n.name).join(', ')} ${methodLabel}`;
    if (opts.verbose) log(`start ${key} ${label}`);
    const t0 = performance.now();
    const clip = await models.acquire(d.model);
    try {
      const fp = await fingerprintFile(clip.weightsFile);
      if (fp !== d.fingerprint)
        throw new UnrecoverableError(
          `model ${d.model} on ${id} has weights sha256 ${fp.slice(0, 12)}…, the run expects ${d.fingerprint.slice(0, 12)}…`,
        );
      let bytes: Buffer;
      try {
        bytes = await readFile(d.image);
      } catch (e) {
        throw new Error(`cannot read ${d.image} on ${id}: ${(e as Error).message}`);
      }
      if (sha256(bytes) !== d.imageSha)
        throw new UnrecoverableError(`${d.image} changed since the run was submitted (its sha256 differs)`);
      const result = await explainImage(clip, {
        image: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        imageName: d.names[0].name,
        targets: await targetsOf(d),
        methods: d.methods,
        view: d.view,
        tileOverlap: d.tileOverlap,
      });
      const out = await store(d.out);
      const tmp = await mkdtemp(join(scratch, 'job-'));
      const entries: BatchManifestEntry[] = [];
      const order: number[] = [];
      const vk = viewKey(d.view, d.tileOverlap);
      try {
        for (const { name, index } of d.names) {
          const dir = join(tmp, String(index));
          const written = await writeExplanations(
            dir,
            clip.id,
            { ...result, image: name },
            { opacity: d.opacity },
          );
          for (const e of written) {
            for (const f of [e.map, e.map_painting, e.overlay]) await out.putFile(f, join(dir, f));
            const method = d.methods.find((m) => m.id === e.method) ?? { id: e.method, params: e.params };
            entries.push({
              ...e,
              cache_key: mapCacheKey(d.fingerprint, d.imageSha, method, e.target_spec, vk),
              image_sha256: d.imageSha,
              model_fingerprint: d.fingerprint,
              run: d.run,
              job: key,
            });
            order.push(index);
          }
        }
        const ms = Math.round(performance.now() - t0);
        const fragment: JobFragment = {
          version: 1,
          run: d.run,
          job: key,
          model: clip.id,
          group: d.group,
          order,
          entries,
          worker: id,
          ms,
          finished: new Date().toISOString(),
        };
        await out.put(runPaths(d.run).fragment(key), `${JSON.stringify(fragment, null, 1)}\n`);
        const jobsHere = (perRun.get(d.run) ?? 0) + 1;
        perRun.set(d.run, jobsHere);
        await redis
          .multi()
          .sadd(k.done, key)
          .hincrby(k.stats, 'maps', entries.length)
          .hincrby(k.stats, 'ms', ms)
          .zadd(
            k.slowest,
            ms,
            JSON.stringify({ key, image: d.names[0].name, method: methodLabel, worker: id }),
          )
          .zremrangebyrank(k.slowest, 0, -(SLOWEST_KEPT + 1))
          .hset(k.workers, id, JSON.stringify({ jobs: jobsHere, last: fragment.finished }))
          .exec();
        stats.done++;
        stats.maps += entries.length;
        if (opts.verbose) log(`done ${key} ${ms}ms ${entries.length} maps`);
        return { maps: entries.length, ms };
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    } finally {
      models.release(d.model);
    }
  };

  const attached = new Map<string, { worker: Worker<BatchJobData>; idlePolls: number }>();
  const queues = new Map<string, Queue>();
  const attach = (run: string) => {
    const worker = new Worker<BatchJobData>(
      redisKeys(prefix, run).queue,
      (job) => slots.run(() => process1(job)),
      {
        connection,
        prefix,
        concurrency,
        lockDuration: lockMs,
        stalledInterval: stalledMs,
        maxStalledCount: opts.maxStalled ?? 2,
        name: id,
      },
    );
    worker.on('failed', (job, err) => {
      stats.failed++;
      if (!job) return;
      const parked = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
      log(
        `${parked ? 'parked' : 'failed'} ${job.id} ${job.data.names?.[0]?.name ?? ''} ${job.data.methods?.map((m) => m.id).join('+') ?? ''}` +
          ` (attempt ${job.attemptsMade}${parked ? ', parked' : ', will retry'}): ${err.message}`,
      );
    });
    worker.on('error', (err) => log(`worker error (${run}): ${err.message}`));
    attached.set(run, { worker, idlePolls: 0 });
    log(`${id}: serving run ${run}`);
  };

  let stopping: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((res) => {
    resolveStopped = res;
  });
  let idleSince = Date.now();
  let polling = false;

  const poll = async () => {
    if (polling || stopping) return;
    polling = true;
    try {
      const runs = opts.run ? [opts.run] : await redis.hkeys(redisKeys(prefix, '_').runs);
      for (const run of runs) {
        let q = queues.get(run);
        if (!q) {
          q = new Queue(redisKeys(prefix, run).queue, { connection: redis, prefix });
          queues.set(run, q);
        }
        const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        const pending = (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
        const a = attached.get(run);
        if (pending > 0 && !a) attach(run);
        else if (a) {
          a.idlePolls = pending > 0 ? 0 : a.idlePolls + 1;
          if (a.idlePolls >= 3) {
            attached.delete(run);
            await a.worker.close();
            log(`${id}: run ${run} has nothing left to do`);
          }
        }
      }
      if (attached.size > 0 || slots.busy > 0) idleSince = Date.now();
      else if (opts.exitWhenIdleMs !== undefined && Date.now() - idleSince >= opts.exitWhenIdleMs)
        void stop();
    } catch (e) {
      log(`${id}: cannot poll Redis: ${(e as Error).message}`);
    } finally {
      polling = false;
    }
  };

  const summary = setInterval(() => {
    if (!opts.verbose && stats.done + stats.failed > 0)
      log(`${id}: ${stats.done} done, ${stats.failed} failed, ${stats.maps} maps written`);
  }, 30_000);
  summary.unref();
  const timer = setInterval(() => void poll(), pollMs);

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(timer);
      clearInterval(summary);
      await Promise.all([...attached.values()].map((a) => a.worker.close()));
      attached.clear();
      await Promise.all([...queues.values()].map((q) => q.close()));
      await models.disposeAll();
      for (const s of stores.values()) (await s.catch(() => undefined))?.close();
      if (existsSync(scratch)) await rm(scratch, { recursive: true, force: true });
      await redis.quit().catch(() => redis.disconnect());
      log(`${id}: stopped (${stats.done} done, ${stats.failed} failed, ${stats.maps} maps written)`);
      resolveStopped();
    })();
    return stopping;
  };

  log(
    `${id}: waiting for jobs at ${redactUrl(opts.redis)}${opts.run ? ` (run ${opts.run})` : ''}, concurrency ${concurrency}`,
  );
  await poll();
  return { id, stats, stop, stopped };
}
