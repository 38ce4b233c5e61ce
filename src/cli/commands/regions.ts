/**
 * `artprobe regions`: expert regions and how well saliency maps agree with them.
 *   regions score   --explanations DIR --annotations FILE [--format F] [--tolerance PX] [--json]
 *                   (pointing game on the bounding box, on the box ± tolerance, and on the exact outline)
 *   regions convert --annotations FILE [--format F] --out FILE.jsonld   (any format → W3C Web Annotation)
 * The work is in `../actions/regions.ts`, loaded only when a subcommand runs.
 *
 * @example
 * artprobe regions score --explanations out/ --annotations ../shared/paintings/annotations.jsonld --json
 */
import type { Command } from 'commander';
import { REGION_FORMATS } from '../../regions/load.ts';
import type { RegionsConvertOptions, RegionsScoreOptions } from '../actions/regions.ts';
import { choiceOption, numberOption } from './parse-options.ts';

/** `--tolerance`: checked as a number of pixels, kept as given (the action reads it). */
const tolerance = (v: string): string => {
  numberOption('--tolerance', 0, 100_000)(v);
  return v;
};

/**
 * Adds the `regions` command group.
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  const regions = program
    .command('regions')
    .description('expert regions: load, convert, and score saliency maps against them');
  regions
    .command('score')
    .description(
      'score the maps of an `artprobe explain` folder against expert regions (table per painting x region x method x prompt)',
    )
    .addHelpText(
      'after',
      `
Pointing game, three ways (Zhang et al. 2016; 1 when the map's maximum falls inside, else 0):
  PG box      (pointing)       on the region's bounding box, as Zhang et al. score it
  PG box@tol  (pointingTol)    on the bounding box with --tolerance pixels around it (default 15, as Zhang et al.)
  PG shape    (pointingShape)  on the region's exact outline (polygon, ellipse or mask)
The other metrics (energy, mass, rank, AUROC, IoU@k, NSS) use the exact outline.`,
    )
    .requiredOption('--explanations <dir>', 'folder with manifest.json written by `artprobe explain`')
    .requiredOption('--annotations <file>', 'regions file (W3C Web Annotation, COCO, LabelMe or VIA JSON)')
    .option(
      '--format <format>',
      `annotation format (${REGION_FORMATS.join(' | ')}); detected when omitted`,
      choiceOption('--format', REGION_FORMATS),
    )
    .option(
      '--tolerance <px>',
      'pointing-game tolerance in pixels around the bounding box, for the PG box@tol column',
      tolerance,
      '15',
    )
    .option('--json', 'print one JSON object instead of tables')
    .action(async (o: RegionsScoreOptions) => {
      const { runRegionsScore } = await import('../actions/regions.ts');
      await runRegionsScore(o);
    });
  regions
    .command('convert')
    .description('convert COCO / LabelMe / VIA / W3C regions to a W3C AnnotationCollection')
    .requiredOption('--annotations <file>', 'regions file to read')
    .requiredOption('--out <file>', 'W3C Web Annotation JSON-LD to write')
    .option(
      '--format <format>',
      `input format (${REGION_FORMATS.join(' | ')}); detected when omitted`,
      choiceOption('--format', REGION_FORMATS),
    )
    .action(async (o: RegionsConvertOptions) => {
      const { runRegionsConvert } = await import('../actions/regions.ts');
      await runRegionsConvert(o);
    });
}
