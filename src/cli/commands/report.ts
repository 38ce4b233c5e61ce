/**
 * `artprobe report`: a self-contained static HTML report of a set of paintings (overlays of every method ×
 * prompt, expert regions, zero-shot probe answers, agreement metrics) that opens from disk without a server.
 * The work is in `../actions/report.ts`, loaded only when the command runs.
 *
 * @example
 * artprobe report --model ../shared/toy/A/model --image ../shared/paintings/*.jpg --prompt "a red circle" \
 *   --annotations ../shared/paintings/annotations.jsonld --out report/
 */
import type { Command } from 'commander';
import { METHOD_IDS } from '../../attribution/types.ts';
import type { ReportCliOptions } from '../actions/report.ts';
import { choiceOption, intOption, numberOption, textOption, VIEW_CHOICES } from './parse-options.ts';

/**
 * Adds `artprobe report`.
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  program
    .command('report')
    .description(
      'a self-contained static HTML report (overlays, probe answers, region metrics) of a set of paintings',
    )
    .requiredOption('--model <dir|hub-id>', 'model folder or installed hub id')
    .requiredOption('--image <files...>', 'painting files')
    .requiredOption('--prompt <texts...>', 'prompts to explain')
    .option(
      '--annotations <file>',
      'expert regions (W3C Web Annotation, COCO, LabelMe or VIA), matched to images by file name',
    )
    .option(
      '--catalog <file>',
      'catalog JSON (list of {file, title, artist, ...}); default: catalog.json next to the first image',
    )
    .option('--method <ids>', `comma-separated: ${METHOD_IDS.join(', ')}`, 'chefer-all,rollout')
    .option(
      '--view <kind>',
      'crop, pad (whole painting, letterboxed) or tiles',
      choiceOption('--view', VIEW_CHOICES),
      'pad',
    )
    .option(
      '--dimensions <names>',
      'zero-shot probe dimensions or suites, comma-separated ("none" for no probes)',
      'style,century,defect',
    )
    .option('--opacity <f>', 'overlay opacity 0..1', numberOption('--opacity', 0, 1), 0.6)
    .option(
      '--max-side <px>',
      'longest side of embedded images (64..4096)',
      intOption('--max-side', 64, 4096),
      640,
    )
    .option(
      '--metric-side <px>',
      'agreement metrics on maps and regions at this longest side (0: painting pixels, as `regions score`)',
      intOption('--metric-side', 0, 8192),
      0,
    )
    .option(
      '--faithfulness-steps <n>',
      'steps of the deletion / insertion games of each map of a painting with regions (0: none)',
      intOption('--faithfulness-steps', 0, 64),
      16,
    )
    .option('--title <text>', 'report title', textOption('--title', 500))
    .requiredOption('--out <dir>', 'output folder (index.html and report.json are written there)')
    .option('--quiet', 'no progress output')
    .action(async (o: ReportCliOptions) => {
      const { runReport } = await import('../actions/report.ts');
      await runReport(o);
    });
}
