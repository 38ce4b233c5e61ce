/**
 * Writes explanations to a folder: per image × method × target the raw map (`.npy`, float32, native grid;
 * `[tiles, rows, cols]` for the tiles view), the map in painting pixels (`_painting.npy`, `[H, W]`, NaN where the
 * view does not cover the painting), a PNG overlay, and `manifest.json`:
 * `{"model", "entries": [{"image", "method", "target", "params", "score", "grid": [rows, cols], "map",
 * "map_painting", "overlay", ...}]}` with file names relative to the folder. Entries already in the manifest are
 * kept (an entry with the same image, method, target and parameters is replaced). Writes are atomic.
 *
 * @example
 * await writeExplanations('out', 'toy-A', result, { opacity: 0.6 });
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { encodeNpy } from '../core/npy.ts';
import type { ExplainResult } from './explain.ts';
import { renderOverlay } from './overlay.ts';
import { describeTarget, type TargetSpec } from './target.ts';

export interface ManifestEntry {
  image: string;
  method: string;
  /** Human-readable target, e.g. `a wave` or `a wave rather than a cloud`. */
  target: string;
  target_spec: TargetSpec;
  params: Record<string, unknown>;
  score: number;
  grid: [number, number];
  map: string;
  map_painting: string;
  overlay: string;
  signed: boolean;
  view: string;
  tiles: number;
  painting_size: [number, number];
  /** The engine that computed the map, e.g. "onnx (onnxruntime-node 1.30.0, cpu, 2 threads)". */
  engine?: string;
  extras?: Record<string, number | number[]>;
}

export interface Manifest {
  model: string;
  entries: ManifestEntry[];
}

/** File-name-safe slug. */
export function slugify(s: string, max = 40): string {
  const slug = s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max);
  return slug || 'x';
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Reads a manifest (or an empty one when the folder has none); a corrupt manifest is an error, never overwritten. */
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  try {
    const m = JSON.parse(await readFile(file, 'utf8')) as Manifest;
    if (!Array.isArray(m.entries)) throw new Error('"entries" is not a list');
    return m;
  } catch (e) {
    throw new Error(
      `${file}: cannot read the existing manifest (${(e as Error).message}); move it away to start a new one`,
    );
  }
}

/** Writes one explained painting into `dir` and merges its entries into the manifest. */
export async function writeExplanations(
  dir: string,
  model: string,
  result: ExplainResult,
  opts: { opacity?: number } = {},
): Promise<ManifestEntry[]> {
  await mkdir(dir, { recursive: true });
  const previous = await readManifest(dir);
  const stem = slugify(basename(result.image, extname(result.image)), 60);
  const { width: W, height: H } = result.view.painting;
  const written: ManifestEntry[] = [];
  const targetIndex = new Map<string, number>();
  for (const e of result.entries) {
    const desc = describeTarget(e.target);
    if (!targetIndex.has(desc)) targetIndex.set(desc, targetIndex.size);
    const base = `${stem}__${e.method}__t${targetIndex.get(desc)}-${slugify(desc, 32)}`;
    const { rows, cols } = e.maps[0].grid;
    const raw = new Float32Array(e.maps.length * rows * cols);
    e.maps.forEach((m, i) => raw.set(m.values, i * rows * cols));
    const shape = e.maps.length > 1 ? [e.maps.length, rows, cols] : [rows, cols];
    await writeAtomic(join(dir, `${base}.npy`), encodeNpy(raw, shape));
    await writeAtomic(join(dir, `${base}_painting.npy`), encodeNpy(e.painting, [H, W]));
    await writeAtomic(
      join(dir, `${base}.png`),
      await renderOverlay(result.decoded, e.painting, { signed: e.signed, opacity: opts.opacity }),
    );
    const extras = e.maps.length === 1 ? e.maps[0].extras : undefined;
    written.push({
      image: result.image,
      method: e.method,
      target: desc,
      target_spec: e.target,
      params: e.params,
      score: e.score,
      grid: [rows, cols],
      map: `${base}.npy`,
      map_painting: `${base}_painting.npy`,
      overlay: `${base}.png`,
      signed: e.signed,
      view: result.view.kind,
      tiles: e.maps.length,
      painting_size: [H, W],
      engine: result.engine,
      ...(extras ? { extras } : {}),
    });
  }
  const key = (x: ManifestEntry) => JSON.stringify([x.image, x.method, x.target, x.params]);
  const fresh = new Set(written.map(key));
  const kept = (previous?.entries ?? []).filter((x) => !fresh.has(key(x)));
  const manifest: Manifest = { model, entries: [...kept, ...written] };
  await writeAtomic(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return written;
}
