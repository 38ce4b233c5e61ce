/**
 * `artprobe worker`: takes batch jobs from Redis and explains them with the best local engine; run one (or
 * several with `--threads 1`) on every machine. Stops cleanly on SIGINT/SIGTERM (running jobs finish first); a
 * worker killed outright loses nothing: its jobs return to the queue. The work is in `../actions/worker.ts`.
 *
 * @example
 * artprobe worker --redis redis://10.0.0.5:6379 --concurrency 1
 */
import type { Command } from 'commander';
import type { WorkerCliOptions } from '../actions/worker.ts';

function intOption(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };
}

/**
 * Adds `artprobe worker`.
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  program
    .command('worker')
    .description('take `artprobe batch` jobs from Redis and explain them with the best local engine')
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://10.0.0.5:6379')
    .option('--concurrency <n>', 'jobs at once in this process', intOption('--concurrency', 1), 1)
    .option('--run <name>', 'serve this run only (default: every run with work)')
    .option(
      '--threads <n>',
      'ONNX Runtime threads (default: all cores; 1 when several workers share a machine)',
      intOption('--threads', 1),
    )
    .option('--device <cpu|cuda>', 'ONNX Runtime device')
    .option(
      '--lock-ms <ms>',
      'job lock: a dead worker’s job returns after about this long',
      intOption('--lock-ms', 1000),
      30000,
    )
    .option(
      '--stalled-ms <ms>',
      'interval of the check for dead workers’ jobs',
      intOption('--stalled-ms', 500),
      15000,
    )
    .option(
      '--max-stalled <n>',
      'times a job may die with its worker before it is parked',
      intOption('--max-stalled', 0),
      2,
    )
    .option(
      '--poll-ms <ms>',
      'how often Redis is asked for runs with work',
      intOption('--poll-ms', 100),
      2000,
    )
    .option('--exit-when-idle <seconds>', 'stop after this long with nothing to do', Number.parseFloat)
    .option('--prefix <prefix>', 'Redis key prefix', 'artprobe')
    .option('--verbose', 'a line per job')
    .action(async (o: WorkerCliOptions) => {
      const { runWorker } = await import('../actions/worker.ts');
      await runWorker(o);
    });
}
