/**
 * The static report of a set of paintings: for each painting the overlays of every method × prompt (embedded as
 * `data:` JPEGs), the expert regions drawn over it, the zero-shot probe answers, and the agreement metrics of
 * every region with every map. `collectReportData` runs the engine; `renderReportHtml` (./render-html.ts) turns
 * the data into one self-contained page; `buildReport` does both and writes `DIR/index.html` (+ `report.json`).
 *
 * @example
 * const clip = await loadClip('../shared/toy/A/model');
 * await buildReport(clip, { images: ['wave.jpg'], prompts: ['a wave'], out: 'report/' });
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import sharp from 'sharp';
import { explainImage, type MethodRequest } from '../attribution/explain.ts';
import { renderOverlay } from '../attribution/overlay.ts';
import { describeTarget } from '../attribution/target.ts';
import type { ViewKind } from '../attribution/views.ts';
import type { Clip } from '../core/clip.ts';
import { decodeImage, type RgbImage } from '../core/image-decode.ts';
import { resizeBilinear } from '../core/resize-map.ts';
import { resolveSuites, selectDimensions } from '../probe/suites.ts';
import { loadRegionsFile } from '../regions/load.ts';
import {
  checkFaithfulnessSteps,
  DEFAULT_FAITHFULNESS_STEPS,
  type MapFaithfulness,
  mapFaithfulness,
} from '../regions/map-faithfulness.ts';
import { scoreMap } from '../regions/metrics.ts';
import { rasterizeRegion, scaleGeometry } from '../regions/rasterize.ts';
import type { Region } from '../regions/region.ts';
import { writeSvgShapes } from '../regions/svg-shapes.ts';
import { computeProbeAnswers } from './probe-answers.ts';
import { renderReportHtml } from './render-html.ts';
import type { ReportData, ReportMetric, ReportOverlay, ReportPainting } from './report-data.ts';

export type {
  ProbeAnswer,
  ReportData,
  ReportMetric,
  ReportOverlay,
  ReportPainting,
  ReportRegion,
} from './report-data.ts';

export interface ReportOptions {
  images: string[];
  prompts: string[];
  /** Default: chefer-all and rollout (cheap, and Chefer's maps agree best with regions on the toy reference). */
  methods?: MethodRequest[];
  /** Default `pad`: the whole painting is covered. */
  view?: ViewKind;
  /** A regions file (W3C, COCO, LabelMe or VIA); regions are matched to images by file name. */
  annotations?: string;
  /** A catalog JSON list with a `file` field per painting; default: `catalog.json` next to the first image, if any. */
  catalog?: string;
  /** Probe dimensions (suite dimension or suite names); default style, century and defect; `[]` for none. */
  dimensions?: string[];
  opacity?: number;
  /** Longest side of embedded images in pixels (default 640). */
  maxSide?: number;
  /**
   * Metrics are computed on maps and masks resized to this longest side (default 0: painting pixels, so the
   * numbers equal `artprobe regions score` and the server's batch summaries).
   */
  metricSide?: number;
  /**
   * Steps of the deletion / insertion games of each map of a painting with regions (default 16, as the server's
   * batches: the same code, `regions/map-faithfulness.ts`); 0: not computed.
   */
  faithfulnessSteps?: number;
  title?: string;
  /** Model name shown in the report (default: the model folder's name). */
  modelName?: string;
  onProgress?: (done: number, total: number, label: string) => void;
}

const CATALOG_FIELDS = ['artist', 'year', 'style', 'period', 'origin', 'medium'];

/** JPEG data URI of an RGB image (or encoded image) resized so its longest side is at most maxSide. */
async function toDataUri(input: RgbImage | Buffer, maxSide: number): Promise<string> {
  const img = Buffer.isBuffer(input)
    ? sharp(input)
    : sharp(input.data, { raw: { width: input.width, height: input.height, channels: 3 } });
  const jpg = await img
    .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 80 })
    .toBuffer();
  return `data:image/jpeg;base64,${jpg.toString('base64')}`;
}

/** Reads catalog rows keyed by file name; errors name the file. */
async function readCatalog(path: string): Promise<Map<string, Record<string, unknown>>> {
  let rows: unknown;
  try {
    rows = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read catalog (${(e as Error).message})`);
  }
  if (!Array.isArray(rows))
    throw new Error(`${path}: a catalog must be a JSON list of objects with a "file" field`);
  const out = new Map<string, Record<string, unknown>>();
  for (const r of rows)
    if (r && typeof r === 'object' && typeof r.file === 'string') out.set(basename(r.file), r);
  return out;
}

/** Min and max of the finite values of a map. */
function range(map: Float32Array): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of map) {
    if (Number.isNaN(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return Number.isFinite(lo) ? [lo, hi] : [Number.NaN, Number.NaN];
}

/** SVG markup of a region in the coordinates of a W × H painting. */
function regionMarkup(r: Region, W: number, H: number): string {
  const g = r.imageSize
    ? scaleGeometry(r.geometry, W / r.imageSize.width, H / r.imageSize.height)
    : r.geometry;
  const svg = writeSvgShapes(g);
  return svg.slice(svg.indexOf('>') + 1, svg.lastIndexOf('</svg>'));
}

/**
 * Runs the engine over every painting and gathers what the report shows.
 *
 * @example
 * const data = await collectReportData(clip, { images, prompts: ['a wave'] });
 * data.paintings[0].overlays.length; // methods × prompts
 */
export async function collectReportData(clip: Clip, opts: ReportOptions): Promise<ReportData> {
  if (!Array.isArray(opts.images) || opts.images.length === 0)
    throw new Error('report: give at least one image');
  const prompts = (opts.prompts ?? []).map((p) => p.trim());
  if (prompts.length === 0 || prompts.some((p) => !p))
    throw new Error('report: give at least one non-empty prompt');
  for (const f of opts.images) if (!existsSync(f)) throw new Error(`report: image ${f} does not exist`);
  const methods = opts.methods?.length ? opts.methods : [{ id: 'chefer-all' }, { id: 'rollout' }];
  const view = opts.view ?? 'pad';
  const opacity = opts.opacity ?? 0.6;
  if (!(opacity >= 0 && opacity <= 1)) throw new Error(`report: opacity must be in [0, 1], got ${opacity}`);
  const maxSide = opts.maxSide ?? 640;
  const metricSide = opts.metricSide ?? 0;
  const faithSteps = opts.faithfulnessSteps ?? DEFAULT_FAITHFULNESS_STEPS;
  if (faithSteps !== 0) checkFaithfulnessSteps(faithSteps);
  const notes: string[] = [];

  const regionsByImage = new Map<string, Region[]>();
  if (opts.annotations) {
    const loaded = await loadRegionsFile(opts.annotations);
    for (const w of loaded.warnings) notes.push(w.message);
    for (const r of loaded.regions)
      regionsByImage.set(basename(r.source), [...(regionsByImage.get(basename(r.source)) ?? []), r]);
  }
  const catalogPath = opts.catalog ?? join(dirname(opts.images[0]), 'catalog.json');
  const catalog = opts.catalog || existsSync(catalogPath) ? await readCatalog(catalogPath) : new Map();
  const dims = selectDimensions(await resolveSuites(), opts.dimensions ?? ['style', 'century', 'defect']);

  const paintings: ReportPainting[] = [];
  const total = opts.images.length;
  for (const [i, file] of opts.images.entries()) {
    const name = basename(file);
    opts.onProgress?.(i, total, name);
    const decoded = await decodeImage(file, { maxPixels: clip.maxPixels });
    const { width: W, height: H } = decoded;
    const result = await explainImage(clip, {
      image: decoded,
      imageName: name,
      targets: prompts.map((prompt) => ({ kind: 'prompt', prompt })),
      methods,
      view,
    });
    const overlays: ReportOverlay[] = [];
    for (const e of result.entries) {
      const png = await renderOverlay(decoded, e.painting, { signed: e.signed, opacity });
      const [min, max] = range(e.painting);
      overlays.push({
        method: e.method,
        prompt: describeTarget(e.target),
        score: e.score,
        signed: e.signed,
        src: await toDataUri(png, maxSide),
        min,
        max,
      });
    }
    const regions = regionsByImage.get(name) ?? [];
    const metrics: ReportMetric[] = [];
    // an explicit metricSide trades exactness for speed on very large paintings
    const k = metricSide > 0 ? Math.min(1, metricSide / Math.max(W, H)) : 1;
    const [mh, mw] = [Math.max(1, Math.round(H * k)), Math.max(1, Math.round(W * k))];
    const small = regions.length ? result.entries.map((e) => resizeBilinear(e.painting, H, W, mh, mw)) : []; // [mh, mw] each
    // deletion / insertion: a property of each map, shown on its region rows (the server's batches do the same)
    const faith: (MapFaithfulness | undefined)[] = [];
    if (regions.length && faithSteps > 0)
      for (const e of result.entries) {
        const { rows, cols } = e.maps[0].grid;
        const raw = new Float32Array(e.maps.length * rows * cols);
        e.maps.forEach((m, t) => raw.set(m.values, t * rows * cols));
        faith.push(
          await mapFaithfulness(clip, {
            image: decoded,
            view,
            target: e.target,
            raw,
            rawShape: e.maps.length > 1 ? [e.maps.length, rows, cols] : [rows, cols],
            steps: faithSteps,
          }),
        );
      }
    for (const r of regions) {
      const mask = rasterizeRegion(r.imageSize ? r : { ...r, imageSize: { width: W, height: H } }, mh, mw);
      for (const [ei, e] of result.entries.entries()) {
        const s = scoreMap(small[ei], mh, mw, { mask });
        metrics.push({
          regionId: r.id,
          region: r.label,
          dimension: r.dimension ?? '',
          method: e.method,
          prompt: describeTarget(e.target),
          pointing: s.pointing,
          energy: s.energy,
          auroc: s.auroc,
          iouTopK: s.iouTopK,
          ...(faith[ei] ? { deletion: faith[ei].deletion, insertion: faith[ei].insertion } : {}),
        });
      }
    }
    // the probe module's zero-shot (as `artprobe probe zero-shot` and the server's probe route run it)
    const probes = dims.length ? (await computeProbeAnswers(clip, [decoded], dims))[0] : [];
    const row = catalog.get(name);
    const meta: Record<string, string> = {};
    for (const k of CATALOG_FIELDS) if (row && row[k] != null && row[k] !== '') meta[k] = String(row[k]);
    paintings.push({
      file: name,
      title: row && typeof row.title === 'string' ? row.title : name,
      meta,
      width: W,
      height: H,
      image: await toDataUri(decoded, maxSide),
      overlays,
      regions: regions.map((r) => ({
        id: r.id,
        label: r.label,
        dimension: r.dimension ?? '',
        svg: regionMarkup(r, W, H),
      })),
      probes,
      metrics,
    });
  }
  opts.onProgress?.(total, total, 'done');
  for (const [image, list] of regionsByImage)
    if (!paintings.some((p) => p.file === image))
      notes.push(`${list.length} region(s) of ${image}: image not in the report`);
  return {
    title: opts.title ?? `artprobe report: ${paintings.length} painting${paintings.length === 1 ? '' : 's'}`,
    model: opts.modelName ?? clip.id,
    generated: new Date().toISOString(),
    view,
    methods: methods.map((m) => m.id),
    prompts,
    paintings,
    notes,
  };
}

/**
 * Builds the report and writes `out/index.html` (self-contained) and `out/report.json` (the data without images).
 *
 * @example
 * const { file } = await buildReport(clip, { images, prompts: ['a wave'], out: 'report' });
 */
export async function buildReport(
  clip: Clip,
  opts: ReportOptions & { out: string },
): Promise<{ file: string; bytes: number; data: ReportData }> {
  if (!opts.out) throw new Error('report: give an output folder');
  const data = await collectReportData(clip, opts);
  const html = renderReportHtml(data);
  await mkdir(opts.out, { recursive: true });
  const file = join(opts.out, 'index.html');
  await writeFile(file, html);
  const lean = {
    ...data,
    paintings: data.paintings.map(({ image: _i, overlays, ...p }) => ({
      ...p,
      overlays: overlays.map(({ src: _s, ...o }) => o),
    })),
  };
  await writeFile(
    join(opts.out, 'report.json'),
    `${JSON.stringify(lean, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1)}\n`,
  );
  return { file, bytes: Buffer.byteLength(html), data };
}
