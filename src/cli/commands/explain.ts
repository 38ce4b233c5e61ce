/**
 * `artprobe explain`: saliency maps for paintings, written as .npy maps, PNG overlays and manifest.json.
 * Every option is checked before the model is loaded: values by type and range, each `--param` must name a
 * method of `--method`, and the tiles view must stay within `--max-tiles`; prompts longer than CLIP's 77
 * tokens are reported. The work is in `../actions/explain.ts`, loaded only when the command runs.
 *
 * @example
 * artprobe explain --model ../shared/toy/A/model --image img.png --prompt "a red circle" \
 *   --method chefer-all,occlusion,legrad,grad-eclip --view pad --text-relevance --out out/
 */
import type { Command } from 'commander';
import type { TargetSpec } from '../../attribution/target.ts';
import { METHOD_IDS } from '../../attribution/types.ts';
import type { ExplainOptions } from '../actions/explain.ts';
import { CLI_MAX_TILES, choiceOption, intOption, numberOption, VIEW_CHOICES } from './parse-options.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

/**
 * Builds targets from the CLI options; errors name the bad option.
 *
 * @example
 * parseTargets({ prompt: ['a red circle'], contrast: ['a cat|a dog'], ensemble: [] });
 */
export function parseTargets(o: {
  prompt: string[];
  labels?: string;
  contrast: string[];
  ensemble: string[];
}): TargetSpec[] {
  const targets: TargetSpec[] = o.prompt.map((prompt) => ({ kind: 'prompt', prompt }));
  if (o.labels !== undefined) {
    const labels = o.labels.split(',').map((s) => s.trim());
    if (labels.length < 2 || labels.some((l) => !l))
      throw new Error(`--labels needs at least two non-empty labels separated by commas, got "${o.labels}"`);
    for (const label of labels) targets.push({ kind: 'label', label, labels });
  }
  for (const c of o.contrast) {
    const parts = c.split('|').map((s) => s.trim());
    if (parts.length !== 2 || !parts[0] || !parts[1])
      throw new Error(`--contrast needs two sides "A|B", got "${c}"`);
    targets.push({ kind: 'contrast', a: parts[0], b: parts[1] });
  }
  for (const e of o.ensemble) {
    const eq = e.indexOf('=');
    const label = e.slice(0, eq).trim();
    const prompts = e
      .slice(eq + 1)
      .split('|')
      .map((s) => s.trim())
      .filter(Boolean);
    if (eq <= 0 || !label || prompts.length === 0)
      throw new Error(`--ensemble needs "LABEL=template 1|template 2", got "${e}"`);
    targets.push({ kind: 'ensemble', label, prompts: prompts.map((p) => p.replaceAll('{}', label)) });
  }
  if (targets.length === 0) throw new Error('give at least one --prompt, --labels, --contrast or --ensemble');
  return targets;
}

/**
 * Adds `artprobe explain`.
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  program
    .command('explain')
    .description('saliency maps of paintings for prompts, label sets or contrasts, in painting coordinates')
    .requiredOption('--model <dir|hub-id>', 'model folder or installed hub id')
    .requiredOption('--image <files...>', 'painting files')
    .option('--prompt <texts...>', 'prompts (target: the image–text logit)', [])
    .option('--labels <L1,L2,...>', 'a label set (one target per label: its softmax probability)')
    .option('--contrast <A|B>', 'a contrast "A rather than B" (logit difference); repeatable', collect, [])
    .option(
      '--ensemble <LABEL=t1|t2>',
      'a prompt ensemble for one label ({} is replaced by the label); repeatable',
      collect,
      [],
    )
    .requiredOption('--method <ids>', `comma-separated: ${METHOD_IDS.join(', ')}`)
    .option(
      '--view <kind>',
      `crop (CLIP's centre crop), pad (letterbox) or tiles`,
      choiceOption('--view', VIEW_CHOICES),
      'crop',
    )
    .option(
      '--tile-overlap <f>',
      'minimum overlap of tiles, in [0, 1)',
      numberOption('--tile-overlap', 0, 1, { maxExclusive: true }),
      0.25,
    )
    .option(
      '--max-tiles <n>',
      `most tiles per painting with --view tiles (checked before any work; at most ${CLI_MAX_TILES.max})`,
      intOption('--max-tiles', 1, CLI_MAX_TILES.max),
      CLI_MAX_TILES.default,
    )
    .option(
      '--param <method.name=value>',
      'a parameter of a method given in --method, e.g. integrated-gradients.steps=16; repeatable',
      collect,
      [],
    )
    .option('--opacity <f>', 'overlay opacity 0..1', numberOption('--opacity', 0, 1), 0.6)
    .option(
      '--text-relevance',
      "also explain the words: each prompt token's share of the relevance (Chefer et al.'s text side), " +
        'as text_relevance: [{token, value}] in the manifest entries of --prompt targets',
    )
    .requiredOption('--out <dir>', 'output folder (manifest.json is merged, not overwritten)')
    .option('--quiet', 'no progress bar')
    .action(async (o: ExplainOptions) => {
      const { runExplain } = await import('../actions/explain.ts');
      await runExplain(o);
    });
}
