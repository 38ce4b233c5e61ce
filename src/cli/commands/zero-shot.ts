/**
 * `artprobe probe zero-shot`: zero-shot labels of paintings along suite dimensions (content, style, period, …),
 * optionally scored against a catalog's ground truth and explained with an attribution method. The work is in
 * `../actions/zero-shot.ts`, loaded only when the command runs.
 *
 * @example
 * artprobe probe zero-shot --model openai/clip-vit-base-patch32 --image starry-night.jpg --dimension style,century
 * artprobe probe zero-shot --model M --catalog wikiart.csv --images-dir img/ --truth style=movement --out runs/zs
 */
import type { Command } from 'commander';
import { METHOD_IDS } from '../../attribution/types.ts';
import { listDefaultSuites } from '../../probe/suites.ts';
import type { ZeroShotCliOptions } from '../actions/zero-shot.ts';
import { choiceOption, VIEW_CHOICES } from './parse-options.ts';

/**
 * Default of `--logit-scale`: the same value as `DEFAULT_LOGIT_SCALE` of `probe/zero-shot.ts`, repeated here so
 * that `--help` does not load the probe (and TensorFlow.js); test/cli checks that they agree.
 *
 * @example
 * CLI_DEFAULT_LOGIT_SCALE; // 100
 */
export const CLI_DEFAULT_LOGIT_SCALE = 100;

/**
 * The view kinds named in the help of `--view` (those of `attribution/views.ts`, which loads sharp; test/cli
 * checks that they agree).
 *
 * @example
 * ZERO_SHOT_VIEW_KINDS; // 'crop, pad, tiles'
 */
export const ZERO_SHOT_VIEW_KINDS = 'crop, pad, tiles';

const collect = (v: string, prev: string[]) => [...prev, v];

function parseIntOpt(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const x = /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${v}'`);
    if (x > max) throw new Error(`--${name} must be at most ${max}, got '${v}'`);
    return x;
  };
}

function parseScale(v: string): number | 'model' {
  if (v === 'model') return v;
  const x = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v) ? Number(v) : Number.NaN;
  if (!(x > 0) || !Number.isFinite(x))
    throw new Error(`--logit-scale must be a positive number or 'model', got '${v}'`);
  return x;
}

/** The `probe` group: found when probe.ts registered it first (it does, in the command list), created otherwise. */
function probeGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'probe') ??
    program
      .command('probe')
      .description('probes of CLIP embeddings (linear, separability, ratings, map, zero-shot, …)')
  );
}

/**
 * Registers `probe zero-shot`.
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  probeGroup(program)
    .command('zero-shot')
    .description('zero-shot labels per painting along suite dimensions, with accuracy against a catalog')
    .requiredOption('--model <dir|hub-id>', 'model folder or installed hub id')
    .option('--image <files...>', 'painting files')
    .option('--catalog <file>', 'catalog of images with ground truth (.csv, .parquet, .json, .jsonl)')
    .option(
      '--images-dir <dir>',
      "folder the catalog's image names are relative to (default: the catalog's folder)",
    )
    .option(
      '--image-column <name>',
      'catalog column with image file names (default: file, image, path, filename or src)',
    )
    .option('--limit <n>', 'only the first n catalog rows', parseIntOpt('limit', 1, 1_000_000_000))
    .option(
      '--suite <file|name>',
      `suite file or default suite (${listDefaultSuites().join(', ')}); repeatable; default: all defaults`,
      collect,
      [],
    )
    .option(
      '--dimension <d1,d2>',
      'dimensions (or suite names) to run, comma-separated; default: all in the suites',
    )
    .option(
      '--truth <dimension=column>',
      'ground truth of a dimension from a catalog column; repeatable',
      collect,
      [],
    )
    .option('--top <k>', 'ranked labels kept per answer (1..1000)', parseIntOpt('top', 1, 1000), 5)
    .option(
      '--logit-scale <s|model>',
      "softmax temperature: logits = s · cosine ('model': the model's learned scale)",
      parseScale,
      CLI_DEFAULT_LOGIT_SCALE,
    )
    .option(
      '--explain <method>',
      `also compute the top-1 heatmaps with this method (${METHOD_IDS.join(', ')}); needs --out`,
    )
    .option(
      '--view <kind>',
      `view for --explain: ${ZERO_SHOT_VIEW_KINDS}`,
      choiceOption('--view', VIEW_CHOICES),
      'crop',
    )
    .option('--json', 'print one JSON object')
    .option('--out <dir>', 'write report.json and report.md (and explanations/) here')
    .option('--quiet', 'no progress bar')
    .action(async (o: ZeroShotCliOptions) => {
      const { runZeroShotCommand } = await import('../actions/zero-shot.ts');
      await runZeroShotCommand(o);
    });
}
