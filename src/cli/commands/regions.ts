/**
 * `artprobe regions`: expert regions and how well saliency maps agree with them.
 *   regions score   --explanations DIR --annotations FILE [--format F] [--tolerance PX] [--json]
 *   regions convert --annotations FILE [--format F] --out FILE.jsonld   (any format → W3C Web Annotation)
 *
 * @example
 * artprobe regions score --explanations out/ --annotations ../shared/paintings/annotations.jsonld --json
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadRegionsFile, REGION_FORMATS, type RegionFormat } from '../../regions/load.ts';
import { formatScoreReport, scoreExplanations } from '../../regions/score-explanations.ts';
import { writeW3CAnnotations } from '../../regions/w3c.ts';

function checkFormat(f: string | undefined): RegionFormat | undefined {
  if (f === undefined) return undefined;
  if (!(REGION_FORMATS as readonly string[]).includes(f))
    throw new Error(`--format must be one of ${REGION_FORMATS.join(', ')}, got "${f}"`);
  return f as RegionFormat;
}

/** Adds the `regions` command group. */
export function register(program: Command): void {
  const regions = program
    .command('regions')
    .description('expert regions: load, convert, and score saliency maps against them');
  regions
    .command('score')
    .description(
      'score the maps of an `artprobe explain` folder against expert regions (table per painting x region x method x prompt)',
    )
    .requiredOption('--explanations <dir>', 'folder with manifest.json written by `artprobe explain`')
    .requiredOption('--annotations <file>', 'regions file (W3C Web Annotation, COCO, LabelMe or VIA JSON)')
    .option('--format <format>', `annotation format (${REGION_FORMATS.join(' | ')}); detected when omitted`)
    .option('--tolerance <px>', 'pointing-game tolerance in pixels for the PG@tol column', '15')
    .option('--json', 'print one JSON object instead of tables')
    .action(
      async (o: {
        explanations: string;
        annotations: string;
        format?: string;
        tolerance: string;
        json?: boolean;
      }) => {
        const tolerance = Number(o.tolerance);
        if (!Number.isFinite(tolerance) || tolerance < 0)
          throw new Error(`--tolerance must be a non-negative number of pixels, got "${o.tolerance}"`);
        const loaded = await loadRegionsFile(o.annotations, { format: checkFormat(o.format) });
        for (const w of loaded.warnings) process.stderr.write(`warning: ${w.message}\n`);
        if (loaded.regions.length === 0) throw new Error(`${o.annotations}: no usable regions`);
        const report = await scoreExplanations(o.explanations, loaded.regions, { tolerance });
        if (o.json) {
          const out = {
            ...report,
            annotations: o.annotations,
            format: loaded.format,
            warnings: loaded.warnings.map((w) => w.message),
          };
          process.stdout.write(
            `${JSON.stringify(out, (_k, v) => (typeof v === 'number' && Number.isNaN(v) ? null : v))}\n`,
          );
        } else {
          if (report.rows.length === 0)
            throw new Error(
              `no explanation in ${o.explanations} matches a region's image (${report.notes.slice(0, 3).join('; ')})`,
            );
          process.stdout.write(formatScoreReport(report));
        }
      },
    );
  regions
    .command('convert')
    .description('convert COCO / LabelMe / VIA / W3C regions to a W3C AnnotationCollection')
    .requiredOption('--annotations <file>', 'regions file to read')
    .requiredOption('--out <file>', 'W3C Web Annotation JSON-LD to write')
    .option('--format <format>', `input format (${REGION_FORMATS.join(' | ')}); detected when omitted`)
    .action(async (o: { annotations: string; out: string; format?: string }) => {
      const loaded = await loadRegionsFile(o.annotations, { format: checkFormat(o.format) });
      for (const w of loaded.warnings) process.stderr.write(`warning: ${w.message}\n`);
      await writeFile(o.out, `${JSON.stringify(writeW3CAnnotations(loaded.regions), null, 1)}\n`);
      process.stderr.write(`wrote ${loaded.regions.length} regions to ${o.out}\n`);
    });
}
