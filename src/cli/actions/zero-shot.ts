/**
 * The work of `artprobe probe zero-shot` (options are declared in `../commands/zero-shot.ts`): zero-shot labels
 * of paintings along suite dimensions, optionally scored against a catalog and explained. Label prompts
 * longer than CLIP's context are reported before anything is encoded.
 *
 * @example
 * await runZeroShotCommand({ model: 'M', image: ['a.jpg'], suite: [], truth: [], top: 5, logitScale: 100,
 *   view: 'crop' });
 */
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { getMethod } from '../../attribution/registry.ts';
import { VIEW_KINDS, type ViewKind } from '../../attribution/views.ts';
import { loadClip } from '../../core/clip.ts';
import { type Catalog, loadCatalog, parseTruthSpecs } from '../../probe/catalog.ts';
import { formatTable, jsonReplacer, writeReport } from '../../probe/report.ts';
import { resolveSuites, selectDimensions } from '../../probe/suites.ts';
import {
  evaluateZeroShot,
  explainZeroShot,
  runZeroShot,
  type ZeroShotEvaluation,
  type ZeroShotInput,
  zeroShotTables,
} from '../../probe/zero-shot.ts';
import { reportTruncatedPrompts } from './prompt-check.ts';

/** Options of `artprobe probe zero-shot`, as commander parses them. */
export interface ZeroShotCliOptions {
  model: string;
  image?: string[];
  catalog?: string;
  imagesDir?: string;
  imageColumn?: string;
  limit?: number;
  suite: string[];
  dimension?: string;
  truth: string[];
  top: number;
  logitScale: number | 'model';
  explain?: string;
  view: string;
  json?: boolean;
  out?: string;
  quiet?: boolean;
}

/** Checks option combinations before any file or model is read. */
function checkOptions(o: ZeroShotCliOptions): void {
  if (!o.image?.length && !o.catalog) throw new Error('give --image FILE... or --catalog FILE');
  if (o.image?.length && o.catalog) throw new Error('give either --image or --catalog, not both');
  if (!o.catalog) {
    for (const [flag, v] of [
      ['--truth', o.truth.length ? o.truth : undefined],
      ['--images-dir', o.imagesDir],
      ['--image-column', o.imageColumn],
      ['--limit', o.limit],
    ] as const) {
      if (v !== undefined) throw new Error(`${flag} needs --catalog`);
    }
  }
  if (o.explain !== undefined) {
    getMethod(o.explain);
    if (!o.out) throw new Error('--explain writes maps and overlays: give --out DIR');
  }
  if (!VIEW_KINDS.includes(o.view as ViewKind))
    throw new Error(`--view must be one of ${VIEW_KINDS.join(', ')}, got '${o.view}'`);
}

/**
 * Runs `artprobe probe zero-shot`.
 *
 * @example
 * await runZeroShotCommand(options);
 */
export async function runZeroShotCommand(o: ZeroShotCliOptions): Promise<void> {
  checkOptions(o);
  const suites = await resolveSuites(o.suite);
  const dimNames = o.dimension
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const dims = selectDimensions(suites, dimNames);
  const truthSpec = parseTruthSpecs(o.truth);
  for (const d of Object.keys(truthSpec)) {
    if (!dims.some((x) => x.name === d)) {
      throw new Error(
        `--truth names dimension "${d}", which is not being run (dimensions: ${dims.map((x) => x.name).join(', ')})`,
      );
    }
  }
  let catalog: Catalog | undefined;
  if (o.catalog) {
    catalog = await loadCatalog(o.catalog, {
      imageColumn: o.imageColumn,
      imagesDir: o.imagesDir,
      truth: truthSpec,
    });
    if (o.limit) catalog.rows = catalog.rows.slice(0, o.limit);
  }
  const inputs: ZeroShotInput[] = catalog
    ? catalog.rows.map((r) => ({ name: r.name, input: r.image }))
    : (o.image as string[]);
  const clip = await loadClip(o.model);
  reportTruncatedPrompts(
    clip,
    dims.flatMap((d) => d.labels.flatMap((l) => l.prompts)),
  );
  const bar =
    !o.quiet && !o.json && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: '{bar} {value}/{total} {task}' },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  try {
    bar?.start(inputs.length, 0, { task: 'encoding' });
    const result = await runZeroShot(
      clip,
      inputs,
      suites,
      dims.map((d) => d.name),
      {
        topK: o.top,
        logitScale: o.logitScale,
        onProgress: (done) => bar?.update(done),
      },
    );
    let ev: ZeroShotEvaluation | undefined;
    if (catalog && Object.keys(truthSpec).length) {
      const truth = Object.fromEntries(
        Object.keys(truthSpec).map((d) => [d, catalog.rows.map((r) => r.truth[d])]),
      );
      ev = evaluateZeroShot(result, truth, suites);
      for (const e of Object.values(ev.dimensions)) {
        if (e.unmatched.length) {
          const ex = e.unmatched.slice(0, 5).map((u) => `${JSON.stringify(u.value)} ×${u.count}`);
          process.stderr.write(
            `artprobe: ${e.dimension}: ${e.unmatched.reduce((a, u) => a + u.count, 0)} truth values match no label and are not scored (${ex.join(', ')})\n`,
          );
        }
      }
    }
    if (o.explain && o.out) {
      bar?.start(inputs.length, 0, { task: `explaining (${o.explain})` });
      await explainZeroShot(clip, result, inputs, {
        method: o.explain,
        view: o.view as ViewKind,
        outDir: join(o.out, 'explanations'),
        onProgress: (done) => bar?.update(done),
      });
    }
    bar?.stop();
    const report = {
      ...result,
      ...(catalog
        ? {
            catalog: {
              source: catalog.source,
              imageColumn: catalog.imageColumn,
              truthColumns: catalog.truthColumns,
            },
          }
        : {}),
      images: result.images.map((im, i) => (ev ? { ...im, truth: ev.truth[i] } : im)),
      ...(ev ? { evaluation: ev.dimensions } : {}),
    };
    const title = `Zero-shot probe: ${result.model}, ${dims.map((d) => d.name).join(', ')}`;
    if (o.json) process.stdout.write(`${JSON.stringify(report, jsonReplacer)}\n`);
    else {
      const tables = zeroShotTables(result, ev, { maxImages: 40 });
      process.stdout.write(
        `${title}\n\n${tables.map((t) => `${t.title}\n${formatTable(t.header, t.rows)}`).join('\n\n')}\n`,
      );
    }
    if (o.out) await writeReport(o.out, title, report, zeroShotTables(result, ev));
  } finally {
    bar?.stop();
    clip.dispose();
  }
}
