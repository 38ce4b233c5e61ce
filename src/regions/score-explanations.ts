/**
 * Scores a folder of explanations (`manifest.json` from `artprobe explain`) against expert regions: every
 * entry (painting × method × prompt) is compared with every region of the same painting (matched by image
 * file name) using the map in painting pixels (`map_painting`, float32 [H, W]). Returns one row per
 * painting × region × method × prompt, and mean metrics per method and per method × dimension. The pointing game
 * is reported three ways: `pointing` on the region's bounding box (Zhang et al.), `pointingTol` on the box with
 * the tolerance (default 15 px), `pointingShape` on the exact outline.
 *
 * @example
 * const report = await scoreExplanations('out/', regions);
 * console.log(report.byMethod);
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readNpy } from '../core/npy.ts';
import { type MapScores, scoreMap } from './metrics.ts';
import { rasterizeRegion } from './rasterize.ts';
import type { Region } from './region.ts';

export interface ScoreRow extends MapScores {
  image: string;
  regionId: string;
  region: string;
  dimension: string;
  method: string;
  prompt: string;
  /** True when the prompt names the region (case-insensitive containment either way). */
  onLabel: boolean;
}

export interface Aggregate extends MapScores {
  method: string;
  dimension?: string;
  n: number;
}

export interface ScoreReport {
  model: string;
  rows: ScoreRow[];
  byMethod: Aggregate[];
  byMethodDimension: Aggregate[];
  /** Notes: entries without regions, regions without entries, unreadable maps. */
  notes: string[];
}

/** Every metric of {@link MapScores}, in report order. */
export const METRIC_KEYS: (keyof MapScores)[] = [
  'pointing',
  'pointingTol',
  'pointingShape',
  'energy',
  'massAccuracy',
  'rankAccuracy',
  'auroc',
  'aurocAbs',
  'iouTopK',
  'nss',
];

/** Means of each metric over rows (NaN values skipped). */
function meanScores(rows: ScoreRow[]): MapScores {
  const out = {} as MapScores;
  for (const k of METRIC_KEYS) {
    const v = rows.map((r) => r[k]).filter((x) => !Number.isNaN(x));
    out[k] = v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
  }
  return out;
}

/** Groups rows by a key and averages each group. */
function aggregate(
  rows: ScoreRow[],
  by: (r: ScoreRow) => { method: string; dimension?: string },
): Aggregate[] {
  const groups = new Map<string, { key: { method: string; dimension?: string }; rows: ScoreRow[] }>();
  for (const r of rows) {
    const key = by(r);
    const id = JSON.stringify(key);
    if (!groups.has(id)) groups.set(id, { key, rows: [] });
    groups.get(id)?.rows.push(r);
  }
  return [...groups.values()].map((g) => ({ ...g.key, n: g.rows.length, ...meanScores(g.rows) }));
}

interface ManifestLike {
  model?: string;
  entries: { image: string; method: string; target: string; map_painting: string }[];
}

/**
 * Reads `DIR/manifest.json`, matches entries to regions by image file name and scores each pair.
 *
 * @example
 * const { rows } = await scoreExplanations('out/', regions, { tolerance: 15 });
 */
export async function scoreExplanations(
  dir: string,
  regions: Region[],
  opts: { tolerance?: number } = {},
): Promise<ScoreReport> {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file))
    throw new Error(`${dir}: no manifest.json (write one with "artprobe explain --out ${dir}")`);
  let manifest: ManifestLike;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!manifest || !Array.isArray(manifest.entries)) throw new Error(`${file}: "entries" is not a list`);
  const byImage = new Map<string, Region[]>();
  for (const r of regions) {
    const key = basename(r.source);
    byImage.set(key, [...(byImage.get(key) ?? []), r]);
  }
  const notes: string[] = [];
  const rows: ScoreRow[] = [];
  const masks = new Map<string, Uint8Array>();
  const usedImages = new Set<string>();
  manifest.entries.forEach((e, k) => {
    for (const f of ['image', 'method', 'target', 'map_painting'] as const)
      if (typeof e?.[f] !== 'string') throw new Error(`${file}: entry ${k} lacks a string "${f}"`);
  });
  for (const e of manifest.entries) {
    const image = basename(e.image);
    const list = byImage.get(image);
    if (!list) {
      notes.push(`no regions for ${image} (${e.method}, "${e.target}")`);
      continue;
    }
    usedImages.add(image);
    const npyPath = join(dir, e.map_painting);
    const { shape, data } = await readNpy(npyPath, 'float32');
    if (shape.length !== 2)
      throw new Error(`${npyPath}: map_painting must be 2-D [H, W], got shape [${shape.join(', ')}]`);
    const [H, W] = shape;
    for (const r of list) {
      const mk = `${r.id}|${H}|${W}`;
      if (!masks.has(mk)) masks.set(mk, rasterizeRegion(r, H, W));
      const mask = masks.get(mk) as Uint8Array;
      const s = scoreMap(data, H, W, { mask, tolerance: opts.tolerance });
      const a = e.target.toLowerCase();
      const b = r.label.toLowerCase();
      rows.push({
        image,
        regionId: r.id,
        region: r.label,
        dimension: r.dimension ?? '',
        method: e.method,
        prompt: e.target,
        onLabel: b.length > 0 && (a.includes(b) || b.includes(a)),
        ...s,
      });
    }
  }
  const unused = [...byImage.keys()].filter((image) => !usedImages.has(image));
  if (unused.length)
    notes.push(`${unused.length} annotated painting(s) have no explanation: ${unused.join(', ')}`);
  return {
    model: String(manifest.model ?? ''),
    rows,
    byMethod: aggregate(rows, (r) => ({ method: r.method })),
    byMethodDimension: aggregate(rows, (r) => ({ method: r.method, dimension: r.dimension || '(none)' })),
    notes,
  };
}

/**
 * Formats a report as aligned text tables (rows, then means per method and per method × dimension).
 *
 * @example
 * process.stdout.write(formatScoreReport(report));
 */
export function formatScoreReport(report: ScoreReport): string {
  const num = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(3));
  // PG: pointing game on the region's bounding box; PG@tol: the same with the tolerance; PG shape: exact outline
  const metricHead = [
    'PG box',
    'PG box@tol',
    'PG shape',
    'energy',
    'mass',
    'rank',
    'AUROC',
    'AUROC|.|',
    'IoU@k',
    'NSS',
  ];
  const metricCells = (s: MapScores) => METRIC_KEYS.map((k) => num(s[k]));
  const table = (head: string[], body: string[][]) => {
    const w = head.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
    const line = (r: string[]) =>
      r.map((x, c) => (c < head.length - metricHead.length ? x.padEnd(w[c]) : x.padStart(w[c]))).join('  ');
    return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
  };
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const parts = [
    table(
      ['painting', 'region', 'dimension', 'method', 'prompt', ...metricHead],
      report.rows.map((r) => [
        cut(r.image, 40),
        cut(r.region, 32),
        r.dimension || '-',
        r.method,
        cut(r.prompt, 32),
        ...metricCells(r),
      ]),
    ),
    '',
    'mean per method',
    table(
      ['method', 'n', ...metricHead],
      report.byMethod.map((a) => [a.method, String(a.n), ...metricCells(a)]),
    ),
    '',
    'mean per method and dimension',
    table(
      ['method', 'dimension', 'n', ...metricHead],
      report.byMethodDimension.map((a) => [a.method, a.dimension ?? '', String(a.n), ...metricCells(a)]),
    ),
  ];
  if (report.notes.length) parts.push('', ...report.notes.map((n) => `note: ${n}`));
  return `${parts.join('\n')}\n`;
}
