/**
 * Following a run from any machine: polls its counts in Redis until nothing is left to do, with the rate over
 * the last half minute (all workers together) and the time left at that rate.
 *
 * @example
 * await watchRun(redis, 'museum', { onUpdate: (p) => console.log(formatProgress(p)) });
 */
import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX } from './keys.ts';
import { openRunQueue, type RunCounts, runCounts } from './queue.ts';

export interface RunProgress extends RunCounts {
  run: string;
  /** Jobs finished per second over the last `windowMs`. */
  rate: number;
  /** Seconds left at that rate (undefined while the rate is 0). */
  etaSeconds?: number;
  elapsedSeconds: number;
}

/**
 * Jobs per second from (time, count) samples over a sliding window.
 *
 * @example
 * const m = new RateMeter(30_000); m.add(0, 0); m.add(10, 2000); // 5
 */
export class RateMeter {
  private samples: [number, number][] = [];
  constructor(private readonly windowMs = 30_000) {}

  /** Adds a sample and returns the current rate. */
  add(count: number, now = Date.now()): number {
    this.samples.push([now, count]);
    while (this.samples.length > 2 && now - this.samples[1][0] >= this.windowMs) this.samples.shift();
    const [t0, c0] = this.samples[0];
    return now > t0 ? Math.max(0, ((count - c0) * 1000) / (now - t0)) : 0;
  }
}

/**
 * A duration as `1h02m`, `3m05s` or `12s`.
 *
 * @example
 * formatDuration(3725); // '1h02m'
 */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * One line of progress.
 *
 * @example
 * formatProgress(p); // 'museum: 120/240 done, 0 failed, 3 active, 4.1 jobs/s, ETA 29s'
 */
export function formatProgress(p: RunProgress): string {
  return (
    `${p.run}: ${p.done}/${p.total} done, ${p.failed} failed, ${p.active} active, ` +
    `${p.rate.toFixed(1)} jobs/s, ETA ${p.pending === 0 ? '0s' : formatDuration(p.etaSeconds)}`
  );
}

/**
 * Polls a run until it has nothing waiting, running or delayed (or `signal` aborts); returns the last counts.
 *
 * @example
 * const last = await watchRun(redis, 'museum', { intervalMs: 1000, onUpdate: draw });
 */
export async function watchRun(
  redis: Redis,
  run: string,
  opts: {
    prefix?: string;
    intervalMs?: number;
    onUpdate?: (p: RunProgress) => void;
    signal?: AbortSignal;
  } = {},
): Promise<RunProgress> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const queue = openRunQueue(redis, run, prefix);
  const meter = new RateMeter();
  const started = Date.now();
  try {
    for (;;) {
      const c = await runCounts(redis, queue, run, prefix);
      const finished = c.done + c.failed;
      const rate = meter.add(finished);
      const left = Math.max(0, c.total - finished);
      const p: RunProgress = {
        ...c,
        run,
        rate,
        etaSeconds: rate > 0 ? left / rate : undefined,
        elapsedSeconds: (Date.now() - started) / 1000,
      };
      opts.onUpdate?.(p);
      if (c.pending === 0 || opts.signal?.aborted) return p;
      await new Promise((res) => setTimeout(res, opts.intervalMs ?? 1000));
    }
  } finally {
    await queue.close();
  }
}
