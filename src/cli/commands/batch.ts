/**
 * `artprobe batch`: explains a whole collection with many workers. The paintings × method groups become jobs in a
 * named run on Redis (BullMQ); `artprobe worker` processes take them on any number of machines; this command
 * follows the run with a progress bar and, when nothing is left, writes the run's `manifest.json`. Running the
 * same command again resumes the run (finished jobs are not repeated). `artprobe batch status` reports a run.
 * The work is in `../actions/batch.ts`, loaded only when the command runs.
 *
 * @example
 * artprobe batch --redis redis://10.0.0.5:6379 --model ../shared/toy/A/model --images ../shared/toy/A/eval/images \
 *   --prompt "a red circle" "a blue square" --method rollout,occlusion --out /mnt/shared/maps --run toy-a
 * artprobe batch status --redis redis://10.0.0.5:6379 --run toy-a
 */
import type { Command } from 'commander';
import { METHOD_IDS } from '../../attribution/types.ts';
import type { BatchCliOptions, BatchStatusCliOptions } from '../actions/batch.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${v}"`);
    return n;
  };
}

/**
 * Adds `artprobe batch` and `artprobe batch status`.
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  const batch = program
    .command('batch')
    .description(
      'explain a collection with many workers: jobs in a named run on Redis (BullMQ), a progress bar across all ' +
        'workers, resumable; see also `artprobe worker` and `artprobe batch status`',
    )
    .option('--redis <url>', 'Redis URL, e.g. redis://10.0.0.5:6379 (rediss:// for TLS)')
    .option('--model <dir|hub-id>', 'model folder (same path on every worker) or installed hub id')
    .option('--images <dir>', 'folder of paintings (not recursive; same path on every worker)')
    .option('--catalog <file>', 'catalog of paintings (CSV, JSON, JSONL or parquet) instead of --images')
    .option(
      '--image-column <name>',
      'catalog column naming the image files (default: file, image, path, ...)',
    )
    .option('--prompt <texts...>', 'prompts (target: the image–text logit)', [])
    .option('--labels <L1,L2,...>', 'a label set (one target per label: its softmax probability)')
    .option('--contrast <A|B>', 'a contrast "A rather than B"; repeatable', collect, [])
    .option('--ensemble <LABEL=t1|t2>', 'a prompt ensemble for one label; repeatable', collect, [])
    .option(
      '--suite <names...>',
      'probe suites (default names or files): one label target per suite label',
      [],
    )
    .option('--dimensions <names>', 'with --suite: only these dimensions (comma-separated)')
    .option(
      '--method <ids>',
      `comma-separated, one job per method; "a+b" runs methods in one job (${METHOD_IDS.join(', ')})`,
    )
    .option('--param <method.name=value>', 'a method parameter; repeatable', collect, [])
    .option('--view <kind>', 'crop, pad or tiles', 'crop')
    .option('--tile-overlap <f>', 'minimum overlap of tiles (0..1)', Number.parseFloat, 0.25)
    .option('--opacity <f>', 'overlay opacity 0..1', Number.parseFloat, 0.6)
    .option(
      '--out <dir|s3://bucket/prefix>',
      'where maps and manifests go (a folder every worker sees, or S3)',
    )
    .option('--run <name>', 'run name (default: derived from the request, so the same command resumes)')
    .option('--attempts <n>', 'attempts before a failing job is parked', positiveInt('--attempts'), 3)
    .option('--retry-failed', 'send the run’s parked jobs back to the queue')
    .option('--detach', 'submit and return at once (run the command again, or `batch status`, to follow)')
    .option('--prefix <prefix>', 'Redis key prefix', 'artprobe')
    .option('--json', 'print the outcome as JSON')
    .option('--quiet', 'no progress output')
    .action(async (o: BatchCliOptions) => {
      const { runBatch } = await import('../actions/batch.ts');
      await runBatch(o);
    });
  batch
    .command('status')
    .description(
      'a run’s totals per state, slowest jobs and failures with reasons (without --run: every run)',
    )
    .option('--redis <url>', 'Redis URL')
    .option('--run <name>', 'the run')
    .option('--slowest <n>', 'slowest jobs to list', positiveInt('--slowest'), 10)
    .option('--failures <n>', 'failures to list', positiveInt('--failures'), 20)
    .option('--prefix <prefix>', 'Redis key prefix (default: "artprobe")')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const { runBatchStatus } = await import('../actions/batch.ts');
      await runBatchStatus(cmd.optsWithGlobals() as BatchStatusCliOptions);
    });
}
