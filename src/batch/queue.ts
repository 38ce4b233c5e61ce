/**
 * A batch run in Redis: its spec in `<prefix>:runs`, its jobs in a BullMQ queue `batch-<run>`, and the sets that
 * make re-runs cheap and exact: every job key ever submitted (`…:all`) and every finished one (`…:done`).
 * Submitting skips finished jobs and jobs already queued, running or parked, so the same command run twice
 * enqueues nothing the second time, and a submitter killed half-way loses nothing (run it again).
 *
 * @example
 * const redis = await connectRedis(url);
 * const r = await submitRun(redis, plan);   // { enqueued: 240, done: 0, queued: 0, parked: 0 }
 * const s = await runStatus(redis, plan.spec.name);
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { canonicalJson, DEFAULT_PREFIX, redisKeys, sha256 } from './keys.ts';
import type { BatchJobData, BatchPlan, RunSpec } from './plan.ts';

/**
 * Number of slowest jobs kept per run.
 *
 * @example
 * await redis.zremrangebyrank(key, 0, -(SLOWEST_KEPT + 1));
 */
export const SLOWEST_KEPT = 50;

/**
 * The run's BullMQ queue on a shared connection (closing the queue leaves the connection open).
 *
 * @example
 * const q = openRunQueue(redis, 'museum'); await q.getJobCounts(); await q.close();
 */
export function openRunQueue(redis: Redis, run: string, prefix = DEFAULT_PREFIX): Queue<BatchJobData> {
  return new Queue<BatchJobData>(redisKeys(prefix, run).queue, { connection: redis, prefix });
}

/**
 * The spec of a run, or undefined.
 *
 * @example
 * const spec = await getRun(redis, 'museum'); // { name: 'museum', out: '/mnt/shared/maps', ... }
 */
export async function getRun(
  redis: Redis,
  run: string,
  prefix = DEFAULT_PREFIX,
): Promise<RunSpec | undefined> {
  const raw = await redis.hget(redisKeys(prefix, run).runs, run);
  return raw ? (JSON.parse(raw) as RunSpec) : undefined;
}

/**
 * Every run's spec, oldest first.
 *
 * @example
 * (await listRuns(redis)).map((r) => r.name);
 */
export async function listRuns(redis: Redis, prefix = DEFAULT_PREFIX): Promise<RunSpec[]> {
  const all = await redis.hgetall(`${prefix}:runs`);
  return Object.values(all)
    .map((s) => JSON.parse(s) as RunSpec)
    .sort((a, b) => a.created.localeCompare(b.created));
}

/**
 * Records a run's spec; a run of that name that writes elsewhere or uses other model weights is an error
 * (choose another `--run`).
 *
 * @example
 * await registerRun(redis, plan.spec);
 */
export async function registerRun(redis: Redis, spec: RunSpec, prefix = DEFAULT_PREFIX): Promise<RunSpec> {
  const k = redisKeys(prefix, spec.name);
  const prev = await getRun(redis, spec.name, prefix);
  if (prev) {
    if (prev.out !== spec.out)
      throw new Error(
        `run "${spec.name}" writes to ${prev.out}, not ${spec.out}; choose another --run name for another --out`,
      );
    if (prev.fingerprint !== spec.fingerprint)
      throw new Error(
        `run "${spec.name}" was submitted with other model weights (sha256 ${prev.fingerprint.slice(0, 12)}…); choose another --run name`,
      );
  }
  const merged: RunSpec = prev ? { ...spec, created: prev.created } : spec;
  await redis.hset(k.runs, spec.name, JSON.stringify(merged));
  return merged;
}

export interface SubmitResult {
  run: string;
  /** Jobs the plan holds. */
  jobs: number;
  /** Jobs added to the queue now. */
  enqueued: number;
  /** Jobs already finished (skipped). */
  done: number;
  /** Jobs already waiting, running or delayed (left as they are). */
  queued: number;
  /** Jobs parked after failing every attempt (left parked unless `retryFailed`). */
  parked: number;
  /** Parked jobs sent back to the queue (with `retryFailed`). */
  retried: number;
}

export interface SubmitOptions {
  prefix?: string;
  /** Send parked jobs of this plan back to the queue with fresh attempts. */
  retryFailed?: boolean;
  /** First retry delay in ms (doubling after each failure; default 2000). */
  backoffMs?: number;
  /** Jobs per Redis round trip (default 500). */
  chunk?: number;
  onProgress?: (checked: number, total: number) => void;
}

/**
 * Registers the run and enqueues its unfinished jobs (job id = job key). Safe to repeat and to interrupt.
 *
 * @example
 * const { enqueued } = await submitRun(redis, plan);
 */
export async function submitRun(
  redis: Redis,
  plan: BatchPlan,
  opts: SubmitOptions = {},
): Promise<SubmitResult> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const spec = await registerRun(redis, { ...plan.spec, updated: new Date().toISOString() }, prefix);
  const k = redisKeys(prefix, spec.name);
  const queue = openRunQueue(redis, spec.name, prefix);
  const result: SubmitResult = {
    run: spec.name,
    jobs: plan.jobs.length,
    enqueued: 0,
    done: 0,
    queued: 0,
    parked: 0,
    retried: 0,
  };
  const chunk = opts.chunk ?? 500;
  // target lists are stored once; jobs refer to them by id
  const targetLists = new Map<string, string>();
  const slim = (d: BatchJobData): BatchJobData => {
    if (!d.targets) return d;
    const json = canonicalJson(d.targets);
    const id = sha256(json).slice(0, 16);
    targetLists.set(id, json);
    const { targets: _targets, ...rest } = d;
    return { ...rest, targetsId: id };
  };
  const jobs = plan.jobs.map((j) => ({ key: j.key, data: slim(j.data) }));
  if (targetLists.size > 0) await redis.hset(k.targets, Object.fromEntries(targetLists));
  try {
    for (let i = 0; i < jobs.length; i += chunk) {
      const part = jobs.slice(i, i + chunk);
      const p = redis.pipeline();
      p.sadd(k.all, ...part.map((j) => j.key));
      for (const j of part) {
        p.sismember(k.done, j.key);
        p.exists(queue.toKey(j.key));
        p.zscore(queue.keys.failed, j.key);
      }
      const replies = (await p.exec()) ?? [];
      for (const [err] of replies) if (err) throw err;
      const add: typeof part = [];
      part.forEach((j, n) => {
        const [isDone, exists, failedAt] = replies.slice(1 + 3 * n, 4 + 3 * n).map((r) => r[1]);
        if (isDone === 1) result.done++;
        else if (exists === 1 && failedAt !== null) result.parked++;
        else if (exists === 1) result.queued++;
        else add.push(j);
      });
      if (add.length > 0) {
        await queue.addBulk(
          add.map((j) => ({
            name: 'explain',
            data: j.data,
            opts: {
              jobId: j.key,
              attempts: spec.attempts,
              backoff: { type: 'exponential', delay: opts.backoffMs ?? 2000 },
              removeOnComplete: true,
              removeOnFail: false,
            },
          })),
        );
        result.enqueued += add.length;
      }
      opts.onProgress?.(Math.min(i + chunk, plan.jobs.length), plan.jobs.length);
    }
    if (opts.retryFailed && result.parked > 0) {
      const wanted = new Set(plan.jobs.map((j) => j.key));
      for (let start = 0; ; ) {
        const failed = await queue.getFailed(start, start + 999);
        if (failed.length === 0) break;
        let moved = 0;
        for (const job of failed) {
          if (job.id && wanted.has(job.id)) {
            await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
            moved++;
          }
        }
        result.retried += moved;
        start += failed.length - moved;
      }
    }
  } finally {
    await queue.close();
  }
  return result;
}

/** Counts of a run's jobs by state. */
export interface RunCounts {
  /** Jobs ever submitted to the run. */
  total: number;
  /** Finished: maps written. */
  done: number;
  /** Parked: failed every attempt. */
  failed: number;
  active: number;
  waiting: number;
  /** Waiting for a retry after a failure. */
  delayed: number;
  /** Jobs not finished nor parked (waiting, active, delayed, paused). */
  pending: number;
  /** Maps written. */
  maps: number;
}

/**
 * Counts a run's jobs by state (a few Redis commands, whatever the run's size).
 *
 * @example
 * const c = await runCounts(redis, queue, 'museum'); // { total: 240, done: 100, active: 3, ... }
 */
export async function runCounts(
  redis: Redis,
  queue: Queue,
  run: string,
  prefix = DEFAULT_PREFIX,
): Promise<RunCounts> {
  const k = redisKeys(prefix, run);
  const [c, total, done, maps] = await Promise.all([
    queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'paused', 'failed', 'waiting-children'),
    redis.scard(k.all),
    redis.scard(k.done),
    redis.hget(k.stats, 'maps'),
  ]);
  const waiting = (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0) + (c['waiting-children'] ?? 0);
  return {
    total,
    done,
    failed: c.failed ?? 0,
    active: c.active ?? 0,
    waiting,
    delayed: c.delayed ?? 0,
    pending: waiting + (c.active ?? 0) + (c.delayed ?? 0),
    maps: Number(maps ?? 0),
  };
}

export interface SlowJob {
  key: string;
  image: string;
  method: string;
  ms: number;
  worker: string;
}

export interface FailedJob {
  key: string;
  image: string;
  method: string;
  attempts: number;
  reason: string;
  failedAt?: string;
}

export interface WorkerSeen {
  id: string;
  jobs: number;
  last: string;
}

export interface RunStatus {
  run: string;
  spec: RunSpec;
  counts: RunCounts;
  slowest: SlowJob[];
  failures: FailedJob[];
  /** Workers that finished jobs of the run, with their count and last finish. */
  workers: WorkerSeen[];
}

/**
 * The state of a run: totals per state, the slowest jobs, the parked failures with their reasons, the workers.
 *
 * @example
 * const s = await runStatus(redis, 'museum', { slowest: 5, failures: 20 });
 */
export async function runStatus(
  redis: Redis,
  run: string,
  opts: { prefix?: string; slowest?: number; failures?: number } = {},
): Promise<RunStatus> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const spec = await getRun(redis, run, prefix);
  if (!spec) {
    const known = (await listRuns(redis, prefix)).map((r) => r.name);
    throw new Error(`no run "${run}" in Redis (runs: ${known.join(', ') || 'none'})`);
  }
  const k = redisKeys(prefix, run);
  const queue = openRunQueue(redis, run, prefix);
  try {
    const counts = await runCounts(redis, queue, run, prefix);
    const slow = await redis.zrevrange(k.slowest, 0, (opts.slowest ?? 10) - 1, 'WITHSCORES');
    const slowest: SlowJob[] = [];
    for (let i = 0; i < slow.length; i += 2) {
      const m = JSON.parse(slow[i]) as Omit<SlowJob, 'ms'>;
      slowest.push({ ...m, ms: Number(slow[i + 1]) });
    }
    const failed = await queue.getFailed(0, (opts.failures ?? 20) - 1);
    const failures: FailedJob[] = failed.map((j) => ({
      key: String(j.id),
      image: j.data?.names?.map((n) => n.name).join(', ') ?? '?',
      method: j.data?.methods?.map((m) => m.id).join('+') ?? '?',
      attempts: j.attemptsMade,
      reason: j.failedReason ?? '',
      failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : undefined,
    }));
    const w = await redis.hgetall(k.workers);
    const workers = Object.entries(w)
      .map(([id, v]) => ({ id, ...(JSON.parse(v) as { jobs: number; last: string }) }))
      .sort((a, b) => a.id.localeCompare(b.id));
    return { run, spec, counts, slowest, failures, workers };
  } finally {
    await queue.close();
  }
}

/**
 * A readable status report.
 *
 * @example
 * process.stdout.write(formatStatus(await runStatus(redis, 'museum')));
 */
export function formatStatus(s: RunStatus): string {
  const c = s.counts;
  const lines = [
    `run ${s.run}: ${s.spec.images} paintings × ${s.spec.methods.length} method group(s) (${s.spec.methods.join(', ')}) × ${s.spec.targets.length} target(s), model ${s.spec.modelId}, out ${s.spec.out}`,
    `  total ${c.total}  done ${c.done}  failed ${c.failed}  active ${c.active}  waiting ${c.waiting}  delayed ${c.delayed}  (maps written ${c.maps})`,
    c.pending === 0
      ? c.failed > 0
        ? `  finished with ${c.failed} parked failure(s)`
        : '  finished'
      : `  in progress: ${c.pending} to go`,
  ];
  if (s.workers.length > 0) {
    lines.push('workers:');
    for (const w of s.workers) lines.push(`  ${w.id}  ${w.jobs} job(s), last ${w.last}`);
  }
  if (s.slowest.length > 0) {
    lines.push('slowest jobs:');
    for (const j of s.slowest)
      lines.push(
        `  ${(j.ms / 1000).toFixed(2)} s  ${j.image}  ${j.method}  (${j.worker}, ${j.key.slice(0, 12)})`,
      );
  }
  if (s.failures.length > 0) {
    lines.push('failures:');
    for (const f of s.failures)
      lines.push(
        `  ${f.image}  ${f.method}  after ${f.attempts} attempt(s): ${f.reason}  (${f.key.slice(0, 12)})`,
      );
  }
  return `${lines.join('\n')}\n`;
}
