/**
 * 2-D embedding maps for the server: exact PCA or UMAP (`runMap` of src/probe) of imported embedding tables
 * (parquet / npy / CSV, loaded with src/probe's loaders) or of the collection's CLIP image embeddings, as
 * points with metadata. The work (parsing a table, an eigendecomposition, UMAP) takes seconds, so the routes
 * run it in a short-lived worker thread (`runMapJob`) and the HTTP thread stays responsive.
 *
 * @example
 * const info = await runMapJob({ op: 'inspect', path: '/ws/embeddings/<id>.parquet' });
 * const map = await runMapJob({ op: 'tables', tables: [{ name: 'ngd', path, column: '' }], method: 'pca' });
 * map.points[0]; // { x, y, set: 'ngd', title: 'Feeding the Bird', meta: { style: 'Naive', … } }
 */
import { Worker } from 'node:worker_threads';
import { type Cell, type EmbeddingSet, loadEmbeddings } from '../probe/embeddings.ts';
import type { Mat } from '../probe/linalg.ts';
import { runMap } from '../probe/probes.ts';

export type MapMethod = 'pca' | 'umap';

export interface MapParams {
  method: MapMethod;
  /** UMAP seed (default 42) and neighbours (default 15; lowered to n − 1 for small sets). */
  seed?: number;
  neighbors?: number;
}

/** One point of a map. */
export interface MapPoint {
  x: number;
  y: number;
  /** Name of the table (or "collection") the point comes from. */
  set: string;
  /** Painting id (collection maps). */
  id?: string;
  title: string;
  meta: Record<string, string | number | null>;
}

export interface MapOutput {
  method: MapMethod;
  /** Share of variance along PC1 and PC2 (PCA). */
  explainedVarianceRatio?: [number, number];
  sets: { name: string; count: number }[];
  /** Metadata fields present in `meta`, with their kind (numeric fields get a sequential colour scale). */
  fields: { name: string; kind: 'number' | 'text' }[];
  points: MapPoint[];
}

export type MapJob =
  | { op: 'inspect'; path: string; column?: string }
  | ({
      op: 'tables';
      tables: { name: string; path: string; column?: string }[];
      /** Column used as each point's title (default: title, name, generated_image, id, objectid if present). */
      title?: string;
      /** Metadata columns to return (default: every column whose text values are short). */
      fields?: string[];
    } & MapParams)
  | ({
      op: 'matrix';
      /** n × d rows (e.g. CLIP image embeddings). */
      rows: Float32Array[];
      set: string;
      ids: string[];
      titles: string[];
      meta: Record<string, string | number | null>[];
    } & MapParams);

export interface InspectOutput {
  rows: number;
  dims: number;
  column: string;
  columns: string[];
}

const TITLE_COLUMNS = ['title', 'name', 'generated_image', 'file', 'image', 'id', 'objectid'];
/** Longest text kept per metadata value (long descriptions and prompts are cut). */
export const MAX_TEXT = 160;
/** Columns whose text values are this long on average are left out by default (descriptions, prompts, links). */
const LONG_TEXT = 60;

/** Coordinates of stacked sets: PCA / UMAP via runMap; a single row maps to (0, 0). */
function project(
  sets: { name: string; X: Mat }[],
  p: MapParams,
): { coords: Float64Array; evr?: [number, number] } {
  const n = sets.reduce((a, s) => a + s.X.rows, 0);
  if (n === 0) return { coords: new Float64Array(0) };
  if (n === 1) return { coords: new Float64Array(2) };
  if (p.method === 'umap' && n < 3) throw new Error(`a UMAP map needs at least 3 points, got ${n}`);
  const m = runMap(sets, {
    method: p.method,
    seed: p.seed ?? 42,
    nNeighbors: Math.min(p.neighbors ?? 15, n - 1),
  });
  return { coords: m.coords.data, evr: m.explained_variance_ratio };
}

const cut = (v: Cell): string | number | null =>
  typeof v === 'string' && v.length > MAX_TEXT ? `${v.slice(0, MAX_TEXT - 1)}…` : v;

/** Fields of the points' metadata with their kind (number when every present value is a number). */
function describeFields(points: MapPoint[]): MapOutput['fields'] {
  const names = [...new Set(points.flatMap((p) => Object.keys(p.meta)))];
  return names.map((name) => {
    const vals = points.map((p) => p.meta[name]).filter((v) => v !== null && v !== undefined);
    return { name, kind: vals.length && vals.every((v) => typeof v === 'number') ? 'number' : 'text' };
  });
}

/** Default metadata columns: not internal (`__…`), not the title, text values short on average. */
function defaultFields(meta: Record<string, Cell[]>, title: string | undefined): string[] {
  return Object.keys(meta).filter((k) => {
    if (k.startsWith('__') || k === title) return false;
    const texts = meta[k].filter((v): v is string => typeof v === 'string');
    return !texts.length || texts.reduce((a, v) => a + v.length, 0) / texts.length <= LONG_TEXT;
  });
}

/**
 * Runs one map job in this thread (the worker calls this; tests may too).
 *
 * @example
 * const out = await computeMapJob({ op: 'matrix', rows, set: 'collection', ids, titles, meta, method: 'pca' });
 */
export async function computeMapJob(job: MapJob): Promise<MapOutput | InspectOutput> {
  if (job.op === 'inspect') {
    const e = await loadEmbeddings(job.path, { column: job.column || undefined });
    return { rows: e.X.rows, dims: e.X.cols, column: e.column, columns: Object.keys(e.meta) };
  }
  if (job.op === 'matrix') {
    const d = job.rows[0]?.length ?? 0;
    const X: Mat = { data: new Float64Array(job.rows.length * d), rows: job.rows.length, cols: d };
    job.rows.forEach((r, i) => {
      X.data.set(r, i * d);
    });
    const { coords, evr } = project([{ name: job.set, X }], job);
    const points = job.rows.map((_, i) => ({
      x: coords[2 * i],
      y: coords[2 * i + 1],
      set: job.set,
      id: job.ids[i],
      title: job.titles[i],
      meta: job.meta[i],
    }));
    return {
      method: job.method,
      explainedVarianceRatio: evr,
      sets: [{ name: job.set, count: points.length }],
      fields: describeFields(points),
      points,
    };
  }
  const loaded: EmbeddingSet[] = [];
  for (const t of job.tables) loaded.push(await loadEmbeddings(t.path, { column: t.column || undefined }));
  const dims = new Set(loaded.map((e) => e.X.cols));
  if (dims.size > 1)
    throw new Error(
      `the tables have embeddings of different sizes (${job.tables.map((t, i) => `${t.name}: ${loaded[i].X.cols}`).join(', ')}); map tables of one model together`,
    );
  const allCols = new Set(loaded.flatMap((e) => Object.keys(e.meta)));
  if (job.title && !allCols.has(job.title))
    throw new Error(`unknown title column '${job.title}'; columns: ${[...allCols].join(', ') || '(none)'}`);
  for (const f of job.fields ?? [])
    if (!allCols.has(f))
      throw new Error(`unknown field '${f}'; columns: ${[...allCols].join(', ') || '(none)'}`);
  const { coords, evr } = project(
    job.tables.map((t, i) => ({ name: t.name, X: loaded[i].X })),
    job,
  );
  const points: MapPoint[] = [];
  loaded.forEach((e, k) => {
    const title = job.title ?? TITLE_COLUMNS.find((c) => c in e.meta);
    const fields = (job.fields ?? defaultFields(e.meta, title)).filter((f) => f in e.meta);
    for (let i = 0; i < e.X.rows; i++) {
      const o = points.length;
      const t = title ? e.meta[title]?.[i] : null;
      const meta: MapPoint['meta'] = { set: job.tables[k].name };
      for (const f of fields) meta[f] = cut(e.meta[f][i]);
      points.push({
        x: coords[2 * o],
        y: coords[2 * o + 1],
        set: job.tables[k].name,
        title: t === null || t === undefined ? `${job.tables[k].name} #${i}` : String(cut(t)),
        meta,
      });
    }
  });
  return {
    method: job.method,
    explainedVarianceRatio: evr,
    sets: job.tables.map((t, i) => ({ name: t.name, count: loaded[i].X.rows })),
    fields: describeFields(points),
    points,
  };
}

/**
 * Runs a map job in a fresh worker thread (ended afterwards); rejects with the job's error message.
 *
 * @example
 * const out = (await runMapJob({ op: 'tables', tables, method: 'pca' })) as MapOutput;
 */
export function runMapJob(job: Extract<MapJob, { op: 'inspect' }>): Promise<InspectOutput>;
export function runMapJob(job: Exclude<MapJob, { op: 'inspect' }>): Promise<MapOutput>;
export function runMapJob(job: MapJob): Promise<MapOutput | InspectOutput> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./map-worker.mjs', import.meta.url), { workerData: job });
    let settled = false;
    worker.once(
      'message',
      (m: { ok: true; out: MapOutput | InspectOutput } | { ok: false; message: string }) => {
        settled = true;
        if (m.ok) resolve(m.out);
        else reject(new Error(m.message));
        void worker.terminate();
      },
    );
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`map worker exited (code ${code}) before answering`));
    });
  });
}
