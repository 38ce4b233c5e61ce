/**
 * The work of `artprobe worker` (options are declared in `../commands/worker.ts`): starts a batch worker and
 * stops it cleanly on SIGINT or SIGTERM (a second signal exits at once; jobs then running return to the queue
 * after their lock expires).
 *
 * @example
 * await runWorker({ redis: 'redis://127.0.0.1:6379', concurrency: 1, lockMs: 30000, stalledMs: 15000,
 *   maxStalled: 2, pollMs: 2000, prefix: 'artprobe' });
 */
import { startBatchWorker } from '../../batch/worker.ts';

/** Options of `artprobe worker`, as commander parses them. */
export interface WorkerCliOptions {
  redis: string;
  concurrency: number;
  run?: string;
  threads?: number;
  device?: string;
  lockMs: number;
  stalledMs: number;
  maxStalled: number;
  pollMs: number;
  exitWhenIdle?: number;
  prefix: string;
  verbose?: boolean;
}

/**
 * Runs a worker until it is stopped.
 *
 * @example
 * await runWorker(options);
 */
export async function runWorker(o: WorkerCliOptions): Promise<void> {
  if (o.device !== undefined && o.device !== 'cpu' && o.device !== 'cuda')
    throw new Error(`--device must be cpu or cuda, got "${o.device}"`);
  if (o.exitWhenIdle !== undefined && !(o.exitWhenIdle >= 0))
    throw new Error(`--exit-when-idle must be a number of seconds ≥ 0, got ${o.exitWhenIdle}`);
  const worker = await startBatchWorker({
    redis: o.redis,
    prefix: o.prefix,
    concurrency: o.concurrency,
    run: o.run,
    threads: o.threads,
    device: o.device as 'cpu' | 'cuda' | undefined,
    lockMs: o.lockMs,
    stalledMs: o.stalledMs,
    maxStalled: o.maxStalled,
    pollMs: o.pollMs,
    exitWhenIdleMs: o.exitWhenIdle === undefined ? undefined : o.exitWhenIdle * 1000,
    verbose: o.verbose,
  });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130);
    process.stdout.write(`${worker.id}: ${sig}, finishing running jobs (again to quit at once)\n`);
    void worker.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await worker.stopped;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
