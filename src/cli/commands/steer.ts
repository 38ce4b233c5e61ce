/**
 * `artprobe steer`: guidance diagnostics. With `--toward`, projected gradient ascent moves each painting's model
 * input toward a prompt (optionally away from another, or within a label set) under an L∞ budget and reports
 * the score and every probe dimension's zero-shot answer before and after, the perturbation (amplified) and the
 * change's PSNR/SSIM. Without `--toward`, `--dimension` gives the robustness curve: for each painting and
 * dimension, the smallest budget of a ladder at which CLIP's top answer flips. The work is in
 * `../actions/steer.ts`, loaded only when the command runs.
 *
 * @example
 * artprobe steer --model M --image vermeer.jpg --toward "an AI-generated image" --epsilon 4/255 --steps 40 --out out/steer
 * artprobe steer --model M --image ../shared/paintings/*.jpg --dimension style century --out out/robustness
 */
import type { Command } from 'commander';
import type { SteerCliOptions } from '../actions/steer.ts';

/**
 * Parses a budget in [0, 1] pixel units: `4/255`, `0.0157`, or `4` followed by `/255`.
 *
 * @example
 * parseEpsilon('4/255'); // 0.01568…
 */
export function parseEpsilon(v: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*(?:\/\s*([0-9]*\.?[0-9]+))?\s*$/.exec(v);
  const x = m ? Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2])) : Number.NaN;
  if (!(x > 0 && x <= 1)) {
    throw new Error(`a budget must be in (0, 1] pixel units, e.g. 4/255 or 0.0157, got '${v}'`);
  }
  return x;
}

/**
 * Parses a comma-separated ladder of budgets.
 *
 * @example
 * parseEpsilons('1/255,2/255,4/255'); // [0.0039, 0.0078, 0.0157]
 */
export function parseEpsilons(v: string): number[] {
  const out = v.split(',').map((s) => parseEpsilon(s));
  return [...new Set(out)].sort((a, b) => a - b);
}

function parseIntOpt(name: string, min: number): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${v}'`);
    return x;
  };
}

/**
 * Adds `artprobe steer`.
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  program
    .command('steer')
    .description(
      'how far an imperceptible change (L∞ budget) moves CLIP toward a prompt, and the smallest budget that ' +
        "flips a dimension's zero-shot answer",
    )
    .requiredOption('--model <dir|hub-id>', 'model folder or installed hub id')
    .requiredOption('--image <files...>', 'painting files')
    .option('--toward <text>', 'prompt to move toward (its logit is the score)')
    .option('--away <text>', 'prompt to move away from (score: logit(toward) − logit(away))')
    .option('--labels <L1,L2,...>', "a label set containing --toward (score: toward's probability within it)")
    .option(
      '--epsilon <e>',
      'L∞ budget in [0, 1] pixel units, before mean/std normalisation',
      parseEpsilon,
      4 / 255,
    )
    .option('--steps <n>', 'sign-gradient steps', parseIntOpt('steps', 1), 40)
    .option('--step-size <f>', 'step as a fraction of the budget (default 2.5 / steps)', Number.parseFloat)
    .option(
      '--dimension <names...>',
      'dimensions (or suites) to report; without --toward: the robustness curve',
    )
    .option('--epsilons <list>', 'robustness ladder (default 1/255,2/255,4/255,8/255,16/255)', parseEpsilons)
    .option('--suite <names...>', 'suites (default names or JSON files); default: every suite in suites/', [])
    .option('--top <k>', 'ranked labels kept per answer', parseIntOpt('top', 1), 3)
    .requiredOption('--out <dir>', 'output folder')
    .option('--json', 'print the JSON to stdout')
    .option('--quiet', 'no progress output')
    .action(async (o: SteerCliOptions) => {
      const { runSteer } = await import('../actions/steer.ts');
      await runSteer(o);
    });
}
