/**
 * Work that would block the HTTP thread, run in worker threads: region-agreement metrics of a map, painting
 * bundle exports (a zip streamed to disk in 1 MB pieces, never whole in memory) and metadata catalogs
 * (parsing, matching to paintings, writing the rows file). `computeTask` does one task (in the worker; tests
 * may call it directly); a `ComputePool` keeps one worker thread per kind of work, started on first use,
 * runs its tasks one after another and ends the thread after a while without work.
 *
 * @example
 * const pool = new ComputePool('metrics');
 * const rows = await pool.run({ op: 'metrics', mapFile, size: [224, 224], paintingSize: [224, 224], regions });
 * await pool.close();
 */
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { parquetReadObjects } from 'hyparquet';
import { readNpy } from '../core/npy.ts';
import { resizeBilinear } from '../core/resize-map.ts';
import { parseCsvTable } from '../probe/embeddings.ts';
import { type MapScores, scoreMap } from '../regions/metrics.ts';
import { rasterizeRegion } from '../regions/rasterize.ts';
import type { Region } from '../regions/region.ts';
import { HttpError } from './http-error.ts';
import { writeFileAtomic } from './workspace/common.ts';

/**
 * The size [h, w] a map of [h, w] is scored at for a longest side `side` (never enlarged; 0 = as is).
 *
 * @example
 * metricSize(546, 768, 256); // [182, 256]
 */
export function metricSize(h: number, w: number, side: number): [number, number] {
  if (!side || side >= Math.max(h, w)) return [h, w];
  const k = side / Math.max(h, w);
  return [Math.max(1, Math.round(h * k)), Math.max(1, Math.round(w * k))];
}

/** One region to score: the annotation's id and how it is shown, and its geometry at the painting's size. */
export interface MetricRegion {
  annotationId: string;
  label: string;
  dimension: string | null;
  region: Region;
}

/** Scores of one region (`scores` absent when the region covers no pixel of the map). */
export interface MetricOutput {
  annotationId: string;
  label: string;
  dimension: string | null;
  area: number;
  scores?: MapScores;
}

/** One file of an export zip: a file to copy, or text. */
export interface ExportEntry {
  name: string;
  file?: string;
  text?: string;
  /** Stored without compression (PNG is already compressed). */
  store?: boolean;
  /** Deflate level (default 6; 1 is much faster on float arrays that compress little). */
  level?: 1 | 6;
}

/** A task of the compute workers. */
export type ComputeTask =
  | {
      op: 'metrics';
      /** `painting.npy` of a job: float32 [H, W] (the painting, or a copy within the map pixel budget). */
      mapFile: string;
      regions: MetricRegion[];
      /** Pointing-game tolerance in painting pixels (default 15), scaled to the map. */
      tolerance?: number;
      /** The painting's size [H, W], whose pixels the regions and tolerance are given in. */
      paintingSize: [number, number];
      /**
       * true: the tolerance is in the scored map's pixels, as `artprobe regions score` takes it (the batch
       * summary); default: in painting pixels, scaled to the map.
       */
      toleranceInMapPixels?: boolean;
      /** Longest side the map and the regions are resized to before scoring (0 or absent: the map as stored). */
      side?: number;
    }
  | { op: 'export'; out: string; entries: ExportEntry[] }
  | {
      op: 'catalog';
      bytes: Uint8Array;
      label: string;
      /** Painting name → id, for matching rows by their file/filename/image/name column. */
      names: [string, string][];
      /** Where the rows are written (JSON, atomically). */
      out: string;
      maxRows: number;
    }
  | { op: 'catalogRows'; file: string; offset: number; limit: number };

/** What each task answers. */
export interface ComputeResults {
  metrics: MetricOutput[];
  export: { bytes: number };
  catalog: {
    format: string;
    rows: number;
    columns: string[];
    /** Painting id → the (last) row that names it. */
    matches: [string, Record<string, unknown>][];
    matched: number;
  };
  catalogRows: Record<string, unknown>[];
}

const KEY_COLUMNS = ['file', 'filename', 'image', 'name'];

/**
 * Parses catalog bytes by content: parquet (PAR1 magic), JSON (list of objects or {rows|items}), else CSV.
 *
 * @example
 * const { format, rows } = await parseCatalog(Buffer.from('file,style\na.jpg,Baroque\n'), 'c.csv');
 */
export async function parseCatalog(
  bytes: Buffer,
  label: string,
): Promise<{ format: string; rows: Record<string, unknown>[] }> {
  if (bytes.subarray(0, 4).toString('latin1') === 'PAR1') {
    try {
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
      // typed arrays and bigints are not JSON: lists become arrays, bigints numbers
      return {
        format: 'parquet',
        rows: JSON.parse(
          JSON.stringify(rows, (_k, v) =>
            typeof v === 'bigint'
              ? Number(v)
              : ArrayBuffer.isView(v)
                ? Array.from(v as unknown as number[])
                : v,
          ),
        ),
      };
    } catch (e) {
      throw new HttpError(400, `${label}: not a readable parquet file (${(e as Error).message})`);
    }
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (/^\s*[[{]/.test(text)) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, `${label}: not valid JSON (${(e as Error).message})`);
    }
    const list = Array.isArray(doc)
      ? doc
      : ((doc as Record<string, unknown>).rows ?? (doc as Record<string, unknown>).items);
    if (!Array.isArray(list) || !list.every((r) => r && typeof r === 'object' && !Array.isArray(r)))
      throw new HttpError(400, `${label}: a JSON catalog must be a list of objects (or {"rows": [...]})`);
    return { format: 'json', rows: list as Record<string, unknown>[] };
  }
  let table: { rows: number; columns: Record<string, unknown[]> };
  try {
    table = parseCsvTable(text, label);
  } catch (e) {
    throw new HttpError(400, (e as Error).message);
  }
  const names = Object.keys(table.columns);
  if (names.length < 1 || table.rows === 0)
    throw new HttpError(400, `${label}: the CSV has no header or no rows`);
  const rows = Array.from({ length: table.rows }, (_, i) =>
    Object.fromEntries(names.map((n) => [n, table.columns[n][i]])),
  );
  return { format: 'csv', rows };
}

/** Writes a zip of `entries` to `out` (atomically: a temp file, fsync, rename), reading files in 1 MB pieces. */
function writeZip(out: string, entries: ExportEntry[]): { bytes: number } {
  const tmp = join(
    dirname(out),
    `.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.zip`,
  );
  const fd = openSync(tmp, 'w');
  let failure: Error | undefined;
  let bytes = 0;
  try {
    const zip = new Zip((err, chunk) => {
      if (err) failure = err;
      else {
        writeSync(fd, chunk);
        bytes += chunk.length;
      }
    });
    const piece = Buffer.allocUnsafe(1 << 20);
    for (const e of entries) {
      const f = e.store ? new ZipPassThrough(e.name) : new ZipDeflate(e.name, { level: e.level ?? 6 });
      zip.add(f);
      if (e.file === undefined) {
        f.push(new TextEncoder().encode(e.text ?? ''), true);
        continue;
      }
      const src = openSync(e.file, 'r');
      try {
        const size = statSync(e.file).size;
        let done = 0;
        if (size === 0) f.push(new Uint8Array(0), true);
        while (done < size) {
          const n = readSync(src, piece, 0, Math.min(piece.length, size - done), done);
          if (n <= 0) throw new Error(`${e.name}: the file shrank while it was exported`);
          done += n;
          f.push(new Uint8Array(piece.subarray(0, n)), done >= size);
        }
      } finally {
        closeSync(src);
      }
      if (failure) throw failure;
    }
    zip.end();
    if (failure) throw failure;
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, out);
  return { bytes };
}

/**
 * Does one task in this thread (the worker calls this).
 *
 * @example
 * const { bytes } = (await computeTask({ op: 'export', out: '/ws/exports/x.zip', entries })) as { bytes: number };
 */
export async function computeTask(task: ComputeTask): Promise<ComputeResults[ComputeTask['op']]> {
  if (task.op === 'metrics') {
    const stored = await readNpy(task.mapFile, 'float32');
    const [sh, sw] = stored.shape;
    const [H, W] = metricSize(sh, sw, task.side ?? 0);
    const map = {
      data:
        H === sh && W === sw
          ? (stored.data as Float32Array)
          : resizeBilinear(stored.data as Float32Array, sh, sw, H, W),
    };
    const scale = task.toleranceInMapPixels ? 1 : W / task.paintingSize[1];
    return task.regions.map((r): MetricOutput => {
      const mask = rasterizeRegion(r.region, H, W); // scaled from the painting's size when the map is smaller
      let area = 0;
      for (let k = 0; k < mask.length; k++) area += mask[k];
      const row: MetricOutput = {
        annotationId: r.annotationId,
        label: r.label,
        dimension: r.dimension,
        area,
      };
      if (area > 0)
        row.scores = scoreMap(map.data, H, W, { mask, tolerance: (task.tolerance ?? 15) * scale });
      return row;
    });
  }
  if (task.op === 'export') return writeZip(task.out, task.entries);
  if (task.op === 'catalogRows') {
    const rows = JSON.parse(await readFile(task.file, 'utf8')) as Record<string, unknown>[];
    return rows.slice(task.offset, task.offset + task.limit);
  }
  const { format, rows } = await parseCatalog(Buffer.from(task.bytes), task.label);
  if (rows.length > task.maxRows)
    throw new HttpError(413, `${task.label}: ${rows.length} rows, above the limit of ${task.maxRows}`);
  const byName = new Map(task.names);
  const matches = new Map<string, Record<string, unknown>>();
  let matched = 0;
  for (const r of rows) {
    const key = KEY_COLUMNS.map((k) => r[k]).find((v) => typeof v === 'string' && byName.has(v)) as
      | string
      | undefined;
    if (!key) continue;
    matches.set(byName.get(key) as string, r);
    matched++;
  }
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  await writeFileAtomic(task.out, JSON.stringify(rows));
  return { format, rows: rows.length, columns, matches: [...matches], matched };
}

interface Pending {
  task: ComputeTask;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

type Reply = { ok: true; out: unknown } | { ok: false; message: string; statusCode?: number };

/**
 * One worker thread for one kind of work: tasks run one after another, in order. The thread starts on the
 * first task and ends after `idleMs` without work (its memory goes back to the system); a crashed thread fails
 * its task and is replaced by the next one.
 *
 * @example
 * const exports = new ComputePool('export');
 * const { bytes } = await exports.run({ op: 'export', out, entries });
 */
export class ComputePool {
  private worker?: Worker;
  private queue: Pending[] = [];
  private current?: Pending;
  private idleTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly idleMs = 30_000,
  ) {}

  /** Runs a task on the pool's thread; rejects with its error (an HttpError when the task gave a status). */
  run<K extends ComputeTask['op']>(task: Extract<ComputeTask, { op: K }>): Promise<ComputeResults[K]> {
    if (this.closed) return Promise.reject(new Error(`the ${this.name} worker is closed`));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve: resolve as (v: unknown) => void, reject });
      this.next();
    });
  }

  /** Tasks waiting or running. */
  get size(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  private spawn(): Worker {
    const w = new Worker(new URL('./compute-worker.mjs', import.meta.url), {
      name: `artprobe-${this.name}`,
    });
    w.unref();
    w.on('message', (m: Reply) => {
      const p = this.current;
      this.current = undefined;
      if (p) {
        if (m.ok) p.resolve(m.out);
        else p.reject(m.statusCode ? new HttpError(m.statusCode, m.message) : new Error(m.message));
      }
      this.next();
    });
    const fail = (e: Error) => {
      if (this.worker === w) this.worker = undefined;
      const p = this.current;
      this.current = undefined;
      p?.reject(e);
      this.next();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the ${this.name} worker stopped (code ${code})`)));
    return w;
  }

  private next(): void {
    if (this.current || this.closed) return;
    const p = this.queue.shift();
    clearTimeout(this.idleTimer);
    if (!p) {
      this.idleTimer = setTimeout(() => {
        const w = this.worker;
        this.worker = undefined;
        void w?.terminate();
      }, this.idleMs);
      this.idleTimer.unref();
      return;
    }
    this.current = p;
    this.worker ??= this.spawn();
    this.worker.postMessage(p.task);
  }

  /** Ends the thread; waiting tasks fail. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const p of this.queue.splice(0)) p.reject(new Error('the server is shutting down'));
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}
