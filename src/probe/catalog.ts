/**
 * Image catalogs with ground truth for zero-shot evaluation: CSV, parquet (via the probes' table reader,
 * hyparquet underneath), JSON (an array of row objects, or an object holding one such array) or JSON Lines.
 * One column names the image file (relative to `imagesDir`, default the catalog's folder); truth columns
 * are mapped to suite dimensions with `dimension=column`.
 *
 * @example
 * const cat = await loadCatalog('wikiart.csv', { imageColumn: 'file', imagesDir: 'images/', truth: { style: 'movement' } });
 * cat.rows[0]; // { index: 0, name: 'a.jpg', image: '/abs/images/a.jpg', truth: { style: 'Baroque' } }
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { type Cell, loadTable } from './embeddings.ts';

export interface CatalogRow {
  /** Row number in the file (0-based). */
  index: number;
  /** The image column's value as written in the catalog. */
  name: string;
  /** Resolved image path. */
  image: string;
  /** Ground-truth value per dimension (null when missing). */
  truth: Record<string, Cell>;
}

export interface Catalog {
  source: string;
  columns: string[];
  imageColumn: string;
  /** Dimension → column used as its ground truth. */
  truthColumns: Record<string, string>;
  rows: CatalogRow[];
}

export interface CatalogOptions {
  /** Column holding image file names (default: the first of file, image, path, filename, src). */
  imageColumn?: string;
  /** Folder the image names are relative to (default: the catalog's folder). */
  imagesDir?: string;
  /** Ground truth: dimension → column. */
  truth?: Record<string, string>;
  /** Check that every image file exists (default true). */
  checkFiles?: boolean;
}

const IMAGE_COLUMN_GUESSES = ['file', 'image', 'path', 'filename', 'src'];

/**
 * Parses `dimension=column` pairs (as given to `--truth`); a bare `dimension` uses the column of the same name.
 *
 * @example
 * parseTruthSpecs(['style=movement', 'century']); // { style: 'movement', century: 'century' }
 */
export function parseTruthSpecs(specs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs.flatMap((s) => s.split(','))) {
    const eq = spec.indexOf('=');
    const dim = (eq < 0 ? spec : spec.slice(0, eq)).trim();
    const col = (eq < 0 ? spec : spec.slice(eq + 1)).trim();
    if (!dim || !col) throw new Error(`--truth must look like dimension=column, got "${spec}"`);
    if (dim in out) throw new Error(`--truth names dimension "${dim}" twice`);
    out[dim] = col;
  }
  return out;
}

function toCell(v: unknown): Cell {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** Reads a JSON / JSONL catalog into columns. */
async function readJsonTable(path: string): Promise<{ rows: number; columns: Record<string, Cell[]> }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read catalog (${(e as Error).message})`);
  }
  let records: unknown;
  try {
    records =
      extname(path).toLowerCase() === '.jsonl'
        ? text
            .split(/\r?\n/)
            .filter((l) => l.trim())
            .map((l) => JSON.parse(l))
        : JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (records && typeof records === 'object' && !Array.isArray(records)) {
    const arrays = Object.entries(records).filter(([, v]) => Array.isArray(v));
    if (arrays.length !== 1) {
      throw new Error(
        `${path}: expected an array of row objects, or an object with exactly one array of rows (found ${arrays.length})`,
      );
    }
    records = arrays[0][1];
  }
  if (!Array.isArray(records)) throw new Error(`${path}: expected an array of row objects`);
  const names: string[] = [];
  records.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r))
      throw new Error(`${path}: row ${i} is not an object`);
    for (const k of Object.keys(r)) if (!names.includes(k)) names.push(k);
  });
  const columns: Record<string, Cell[]> = {};
  for (const k of names) columns[k] = records.map((r) => toCell((r as Record<string, unknown>)[k]));
  return { rows: records.length, columns };
}

/**
 * Reads a catalog and resolves its image paths; errors name the file, the row and the column.
 *
 * @example
 * const cat = await loadCatalog('catalog.json', { truth: { content: 'genre' } });
 */
export async function loadCatalog(path: string, opts: CatalogOptions = {}): Promise<Catalog> {
  const ext = extname(path).toLowerCase();
  if (!['.csv', '.parquet', '.json', '.jsonl'].includes(ext)) {
    throw new Error(
      `${path}: unsupported catalog format "${ext || '(none)'}" (use .csv, .parquet, .json or .jsonl)`,
    );
  }
  const table = ext === '.json' || ext === '.jsonl' ? await readJsonTable(path) : await loadTable(path);
  const columns = Object.keys(table.columns);
  const known = (): string => columns.join(', ') || '(none)';
  if (table.rows === 0) throw new Error(`${path}: the catalog has no rows`);
  const imageColumn = opts.imageColumn ?? IMAGE_COLUMN_GUESSES.find((c) => columns.includes(c));
  if (!imageColumn)
    throw new Error(`${path}: no image column found; pass --image-column (columns: ${known()})`);
  if (!columns.includes(imageColumn))
    throw new Error(`${path}: unknown image column "${imageColumn}" (columns: ${known()})`);
  const truthColumns = opts.truth ?? {};
  for (const [dim, col] of Object.entries(truthColumns)) {
    if (!columns.includes(col))
      throw new Error(`${path}: unknown label column "${col}" for dimension "${dim}" (columns: ${known()})`);
  }
  const base = resolve(opts.imagesDir ?? dirname(path));
  const rows: CatalogRow[] = [];
  const missing: string[] = [];
  for (let i = 0; i < table.rows; i++) {
    const v = table.columns[imageColumn][i];
    if (v === null) throw new Error(`${path}: row ${i} has no image (column "${imageColumn}" is empty)`);
    const name = String(v);
    const image = isAbsolute(name) ? name : resolve(base, name);
    if (opts.checkFiles !== false && !existsSync(image)) missing.push(`row ${i}: ${image}`);
    const truth: Record<string, Cell> = {};
    for (const [dim, col] of Object.entries(truthColumns)) truth[dim] = table.columns[col][i];
    rows.push({ index: i, name, image, truth });
  }
  if (missing.length) {
    throw new Error(
      `${path}: ${missing.length} image file${missing.length > 1 ? 's' : ''} not found (${missing.slice(0, 3).join('; ')}${missing.length > 3 ? '; …' : ''}); check --images-dir`,
    );
  }
  return { source: path, columns, imageColumn, truthColumns, rows };
}
