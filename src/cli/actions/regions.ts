/**
 * The work of `artprobe regions score` and `artprobe regions convert` (options are declared in
 * `../commands/regions.ts`): score saliency maps against expert regions, convert region files to W3C. Scores
 * carry three pointing games: `pointing` on each region's bounding box, `pointingTol` on the box with
 * `--tolerance` pixels, `pointingShape` on the exact outline.
 *
 * @example
 * await runRegionsScore({ explanations: 'out', annotations: 'annotations.jsonld', tolerance: '15', json: true });
 */
import { writeFile } from 'node:fs/promises';
import { loadRegionsFile, REGION_FORMATS, type RegionFormat } from '../../regions/load.ts';
import { formatScoreReport, scoreExplanations } from '../../regions/score-explanations.ts';
import { writeW3CAnnotations } from '../../regions/w3c.ts';

/** Options of `artprobe regions score`. */
export interface RegionsScoreOptions {
  explanations: string;
  annotations: string;
  format?: string;
  tolerance: string;
  json?: boolean;
}

/** Options of `artprobe regions convert`. */
export interface RegionsConvertOptions {
  annotations: string;
  out: string;
  format?: string;
}

function checkFormat(f: string | undefined): RegionFormat | undefined {
  if (f === undefined) return undefined;
  if (!(REGION_FORMATS as readonly string[]).includes(f))
    throw new Error(`--format must be one of ${REGION_FORMATS.join(', ')}, got "${f}"`);
  return f as RegionFormat;
}

/**
 * Runs `artprobe regions score`.
 *
 * @example
 * await runRegionsScore({ explanations: 'out', annotations: 'regions.json', tolerance: '15' });
 */
export async function runRegionsScore(o: RegionsScoreOptions): Promise<void> {
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
}

/**
 * Runs `artprobe regions convert`.
 *
 * @example
 * await runRegionsConvert({ annotations: 'coco.json', out: 'regions.jsonld' });
 */
export async function runRegionsConvert(o: RegionsConvertOptions): Promise<void> {
  const loaded = await loadRegionsFile(o.annotations, { format: checkFormat(o.format) });
  for (const w of loaded.warnings) process.stderr.write(`warning: ${w.message}\n`);
  await writeFile(o.out, `${JSON.stringify(writeW3CAnnotations(loaded.regions), null, 1)}\n`);
  process.stderr.write(`wrote ${loaded.regions.length} regions to ${o.out}\n`);
}
