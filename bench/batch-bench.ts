/**
 * Batch throughput with 1 vs 2 (or more) worker processes on the toy model: a throw-away `redis-server`, the toy
 * A paintings × 3 prompts for each method, workers as separate processes with one ONNX thread each (so N workers
 * use N cores). Workers are warmed up on a small run first (model loaded, graphs compiled), then the measured run
 * is submitted and timed from submission to its last job. On 2 cores, 2 workers should come near 2× for a
 * forward-only method (occlusion: forward passes only).
 *
 * Runnable alone: `npx tsx bench/batch-bench.ts [--quick] [--repeats N]`; `runBatchBench(opts)` returns the rows.
 *
 * @example
 * const rows = await runBatchBench({ images: 60, methods: ['occlusion'], workers: [1, 2] });
 * rows[1].speedup; // ≈ 1.9 on an idle 2-core machine
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planBatch } from '../src/batch/plan.ts';
import { openRunQueue, runCounts, submitRun } from '../src/batch/queue.ts';
import { connectRedis, findRedisServer, startLocalRedis } from '../src/batch/redis.ts';
import { startBatchWorker } from '../src/batch/worker.ts';

const here = fileURLToPath(import.meta.url);
const shared = process.env.ARTPROBE_SHARED
  ? resolve(process.env.ARTPROBE_SHARED)
  : resolve(here, '..', '..', '..', 'shared');

export interface BatchBenchOptions {
  /** Toy paintings per run (default 120, at most 120). */
  images?: number;
  /** Methods, each measured on its own (default occlusion, rollout). */
  methods?: string[];
  /** Worker counts to compare (default [1, 2]). */
  workers?: number[];
  /** ONNX threads per worker (default 1). */
  threads?: number;
  /** Prompts per painting (default the three toy captions). */
  prompts?: string[];
  /** Measurements per configuration; the fastest counts (other work on the machine only slows runs down). */
  repeats?: number;
  log?: (line: string) => void;
}

export interface BatchBenchRow {
  method: string;
  workers: number;
  threadsPerWorker: number;
  jobs: number;
  maps: number;
  seconds: number;
  jobsPerSecond: number;
  mapsPerSecond: number;
  /** Throughput ÷ the throughput of the first worker count of this method. */
  speedup: number;
  /** 1-minute load average when the measurement ended (other work on the machine skews the numbers). */
  load1: number;
}

interface WorkerProc {
  child: ChildProcess;
  exited: Promise<unknown>;
}

function spawnWorker(url: string, threads: number): WorkerProc {
  const child = spawn(process.execPath, ['--import', 'tsx', here, '__worker', url, String(threads)], {
    cwd: resolve(here, '..', '..'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { child, exited: new Promise((res) => child.once('exit', res)) };
}

async function until(cond: () => Promise<boolean>, what: string, timeoutMs = 300_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`batch bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs the benchmark; returns one row per method × worker count (empty, with a loud message, when
 * redis-server or the toy data is missing).
 *
 * @example
 * const rows = await runBatchBench({ images: 40, methods: ['occlusion'] });
 */
export async function runBatchBench(opts: BatchBenchOptions = {}): Promise<BatchBenchRow[]> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const model = join(shared, 'toy/A/model');
  const imagesDir = join(shared, 'toy/A/eval/images');
  if (!findRedisServer()) {
    log('!!! SKIPPED batch bench: redis-server is not installed (apt-get install redis-server)');
    return [];
  }
  let files: string[];
  try {
    files = readdirSync(imagesDir)
      .filter((f) => f.endsWith('.png'))
      .sort();
  } catch {
    log(`!!! SKIPPED batch bench: no toy paintings in ${imagesDir}`);
    return [];
  }
  const n = Math.min(opts.images ?? 120, files.length);
  const methods = opts.methods ?? ['occlusion', 'rollout'];
  const workerCounts = opts.workers ?? [1, 2];
  const threads = opts.threads ?? 1;
  const prompts = opts.prompts ?? ['a red circle', 'a green square', 'a blue triangle'];
  const targets = prompts.map((prompt) => ({ kind: 'prompt' as const, prompt }));
  const tmp = mkdtempSync(join(tmpdir(), 'artprobe-batch-bench-'));
  const redisServer = await startLocalRedis();
  const url = redisServer.url;
  const redis = await connectRedis(url);
  const rows: BatchBenchRow[] = [];
  let runNo = 0;
  const submit = async (method: string, count: number) => {
    const run = `bench-${++runNo}`;
    const plan = await planBatch({
      model,
      images: { files: files.slice(0, count).map((f) => join(imagesDir, f)) },
      targets,
      methodGroups: [[{ id: method }]],
      out: join(tmp, run),
      run,
    });
    await submitRun(redis, plan, {});
    return { run, jobs: plan.jobs.length };
  };
  const finished = async (run: string, jobs: number) => {
    const q = openRunQueue(redis, run);
    try {
      const c = await runCounts(redis, q, run);
      if (c.failed > 0) throw new Error(`batch bench: ${c.failed} job(s) of ${run} failed`);
      return c.done >= jobs;
    } finally {
      await q.close();
    }
  };
  try {
    log(
      `batch bench: toy A model, ${n} paintings × ${prompts.length} prompts, ${threads} ONNX thread(s) per worker, ` +
        `${cpus().length} CPUs, load average ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')}`,
    );
    for (const method of methods) {
      let base: number | undefined;
      for (const w of workerCounts) {
        const procs = Array.from({ length: w }, () => spawnWorker(url, threads));
        try {
          const warm = await submit(method, 2 * w);
          await until(() => finished(warm.run, warm.jobs), 'the warm-up run');
          let seconds = Number.POSITIVE_INFINITY;
          let jobs = 0;
          for (let r = 0; r < Math.max(1, opts.repeats ?? 1); r++) {
            const sub = await submit(method, n);
            const t0 = performance.now();
            await until(() => finished(sub.run, sub.jobs), `run ${sub.run}`);
            seconds = Math.min(seconds, (performance.now() - t0) / 1000);
            jobs = sub.jobs;
          }
          const maps = jobs * prompts.length;
          const jobsPerSecond = jobs / seconds;
          base ??= jobsPerSecond;
          const row: BatchBenchRow = {
            method,
            workers: w,
            threadsPerWorker: threads,
            jobs,
            maps,
            seconds: Math.round(seconds * 100) / 100,
            jobsPerSecond: Math.round(jobsPerSecond * 100) / 100,
            mapsPerSecond: Math.round((maps / seconds) * 100) / 100,
            speedup: Math.round((jobsPerSecond / base) * 100) / 100,
            load1: Math.round(loadavg()[0] * 100) / 100,
          };
          rows.push(row);
          log(
            `  ${method.padEnd(12)} ${w} worker(s): ${jobs} jobs in ${row.seconds.toFixed(2)} s = ` +
              `${row.jobsPerSecond.toFixed(2)} jobs/s (${row.mapsPerSecond.toFixed(1)} maps/s), ×${row.speedup.toFixed(2)}`,
          );
        } finally {
          for (const p of procs) p.child.kill('SIGTERM');
          await Promise.all(procs.map((p) => p.exited));
        }
      }
    }
  } finally {
    redis.disconnect();
    await redisServer.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

async function workerMain(url: string, threads: number): Promise<void> {
  const w = await startBatchWorker({ redis: url, threads, pollMs: 100, log: () => {} });
  const stop = () => void w.stop();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await w.stopped;
}

if (process.argv[1] && resolve(process.argv[1]) === here) {
  if (process.argv[2] === '__worker') {
    await workerMain(process.argv[3], Number(process.argv[4]));
  } else {
    const quick = process.argv.includes('--quick');
    const r = process.argv.indexOf('--repeats');
    const repeats = r > 0 ? Number(process.argv[r + 1]) : 1;
    const rows = await runBatchBench(quick ? { images: 40, repeats } : { repeats });
    console.log(JSON.stringify(rows, null, 2));
  }
}
