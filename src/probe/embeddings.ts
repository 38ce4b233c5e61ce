/**
 * Loading embedding tables for the probes: parquet (hyparquet; float16/float32/float64 list columns are
 * decoded exactly to float64), `.npy` (2-D; metadata from a side table) and CSV (embedding as a JSON list
 * in one column, or spread over numbered columns `emb_0, emb_1, …` selected with `--column 'emb_*'`).
 * Metadata columns are kept as strings / numbers / null.
 *
 * @example
 * const set = await loadEmbeddings('ngd.parquet', { column: 'ViT-L/14@336px' });
 * set.X;                          // Mat n × 768
 * labelColumn(set, 'style');      // (string | null)[]
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { decodeNpy } from '../core/npy.ts';
import type { Mat } from './linalg.ts';

/** One metadata value. */
export type Cell = string | number | null;

export interface EmbeddingSet {
  /** File the embeddings came from. */
  source: string;
  /** Embedding column name ('' for .npy). */
  column: string;
  /** n × d embeddings in float64. */
  X: Mat;
  /** Metadata columns by name, each with n values. */
  meta: Record<string, Cell[]>;
}

export interface LoadOptions {
  /** Embedding column (parquet / CSV). Default: the only list-valued column. */
  column?: string;
  /** Table with metadata rows for a `.npy` file (parquet or CSV, same row order and count). */
  metaPath?: string;
}

/**
 * Loads an embedding file (.parquet, .npy or .csv) into float64, checking every value is finite.
 *
 * @example
 * const ai = await loadEmbeddings('ai_pastiche.parquet', { column: 'ViT-L/14@336px' });
 */
export async function loadEmbeddings(path: string, opts: LoadOptions = {}): Promise<EmbeddingSet> {
  const ext = extname(path).toLowerCase();
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot read embeddings file (${(e as Error).message})`);
  }
  if (ext === '.npy') {
    const arr = decodeNpy(bytes, path, 'float64');
    if (arr.shape.length !== 2)
      throw new Error(`${path}: expected a 2-D array (rows × dims), got shape (${arr.shape.join(', ')})`);
    const [n, d] = arr.shape;
    const X = { data: arr.data as Float64Array, rows: n, cols: d };
    checkFinite(X, path, {});
    let meta: Record<string, Cell[]> = {};
    if (opts.metaPath) {
      const table = await loadTable(opts.metaPath);
      if (table.rows !== n) {
        throw new Error(
          `mismatched lengths: ${path} has ${n} embedding rows but ${opts.metaPath} has ${table.rows} metadata rows`,
        );
      }
      meta = table.columns;
    }
    return { source: path, column: '', X, meta };
  }
  const table =
    ext === '.csv' ? parseCsvTable(bytes.toString('utf8'), path) : await readParquetTable(bytes, path);
  const { X, used } = extractEmbedding(table, path, opts.column);
  const meta: Record<string, Cell[]> = {};
  for (const [name, values] of Object.entries(table.columns)) {
    if (!used.has(name)) meta[name] = values.map(toCell);
  }
  checkFinite(X, path, meta);
  if (opts.metaPath) {
    const extra = await loadTable(opts.metaPath);
    if (extra.rows !== X.rows) {
      throw new Error(
        `mismatched lengths: ${path} has ${X.rows} rows but ${opts.metaPath} has ${extra.rows}`,
      );
    }
    Object.assign(meta, extra.columns);
  }
  return { source: path, column: used.size === 1 ? [...used][0] : (opts.column ?? ''), X, meta };
}

interface RawTable {
  rows: number;
  columns: Record<string, unknown[]>;
}

/**
 * Reads a metadata table (parquet or CSV) as columns of cells.
 *
 * @example
 * const t = await loadTable('labels.csv'); t.columns.style;
 */
export async function loadTable(path: string): Promise<{ rows: number; columns: Record<string, Cell[]> }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot read table (${(e as Error).message})`);
  }
  const raw =
    extname(path).toLowerCase() === '.csv'
      ? parseCsvTable(bytes.toString('utf8'), path)
      : await readParquetTable(bytes, path);
  const columns: Record<string, Cell[]> = {};
  for (const [k, v] of Object.entries(raw.columns)) columns[k] = v.map(toCell);
  return { rows: raw.rows, columns };
}

async function readParquetTable(bytes: Buffer, path: string): Promise<RawTable> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let names: string[];
  try {
    const md = parquetMetadata(file);
    names = md.schema.filter((_s, i) => i > 0 && isTopLevel(md.schema, i)).map((s) => s.name);
  } catch (e) {
    throw new Error(`${path}: not a readable parquet file (${(e as Error).message})`);
  }
  const rows = await parquetReadObjects({ file });
  const columns: Record<string, unknown[]> = {};
  for (const name of names) columns[name] = rows.map((r) => r[name]);
  return { rows: rows.length, columns };
}

/** True when schema element i is a direct child of the root. */
function isTopLevel(schema: { num_children?: number }[], i: number): boolean {
  // walk the flattened tree: root's children are consecutive subtrees
  let pos = 1;
  while (pos < schema.length) {
    if (pos === i) return true;
    if (pos > i) return false;
    pos = skipSubtree(schema, pos);
  }
  return false;
}

function skipSubtree(schema: { num_children?: number }[], pos: number): number {
  let next = pos + 1;
  for (let c = 0; c < (schema[pos].num_children ?? 0); c++) next = skipSubtree(schema, next);
  return next;
}

/**
 * Minimal RFC-4180 CSV parser (quoted fields, doubled quotes, CRLF). First line is the header.
 *
 * @example
 * parseCsvTable('a,b\n1,"x, y"\n', 'f.csv').columns.b; // ['x, y']
 */
export function parseCsvTable(text: string, path = 'csv'): RawTable {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      field = '';
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
    } else field += ch;
  }
  if (quoted) throw new Error(`${path}: unterminated quoted field at end of file`);
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  if (records.length === 0) throw new Error(`${path}: empty CSV file`);
  const header = records[0];
  const columns: Record<string, unknown[]> = {};
  for (const h of header) columns[h] = [];
  for (let r = 1; r < records.length; r++) {
    if (records[r].length !== header.length) {
      throw new Error(`${path}: line ${r + 1} has ${records[r].length} fields, header has ${header.length}`);
    }
    header.forEach((h, j) => {
      columns[h].push(records[r][j]);
    });
  }
  return { rows: records.length - 1, columns };
}

function toCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number' || typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
}

function isListLike(v: unknown): boolean {
  return (
    Array.isArray(v) || ArrayBuffer.isView(v) || (typeof v === 'string' && v.trimStart().startsWith('['))
  );
}

/** Picks the embedding column(s) and converts them to a float64 matrix. */
function extractEmbedding(table: RawTable, path: string, column?: string): { X: Mat; used: Set<string> } {
  const names = Object.keys(table.columns);
  const available = (): string => names.join(', ');
  if (column?.endsWith('*')) {
    const prefix = column.slice(0, -1);
    const cols = names
      .filter((c) => c.startsWith(prefix) && /^\d+$/.test(c.slice(prefix.length)))
      .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)));
    if (cols.length === 0)
      throw new Error(`${path}: no columns match '${column}'; available columns: ${available()}`);
    const n = table.rows;
    const d = cols.length;
    const data = new Float64Array(n * d);
    cols.forEach((c, j) => {
      table.columns[c].forEach((v, i) => {
        data[i * d + j] = toNumber(v, () => `${path}: row ${i}, column '${c}'`);
      });
    });
    return { X: { data, rows: n, cols: d }, used: new Set(cols) };
  }
  let name = column;
  if (name === undefined) {
    const lists = names.filter(
      (c) =>
        table.columns[c].some((v) => v !== null && v !== undefined) &&
        isListLike(table.columns[c].find((v) => v != null)),
    );
    if (lists.length !== 1) {
      throw new Error(
        `${path}: ${lists.length === 0 ? 'no list-valued embedding column found' : `several embedding columns (${lists.join(', ')})`}; pass --column NAME (available columns: ${available()})`,
      );
    }
    name = lists[0];
  }
  if (!(name in table.columns))
    throw new Error(`${path}: unknown column '${name}'; available columns: ${available()}`);
  const values = table.columns[name];
  const n = table.rows;
  let d = -1;
  let data = new Float64Array(0);
  values.forEach((v, i) => {
    let arr: ArrayLike<unknown>;
    if (v === null || v === undefined)
      throw new Error(`${path}: row ${i} has no embedding (null) in column '${name}'`);
    if (typeof v === 'string') {
      try {
        arr = JSON.parse(v.replace(/\bnan\b/gi, 'null'));
      } catch {
        throw new Error(`${path}: row ${i}, column '${name}' is not a JSON list of numbers`);
      }
    } else arr = v as ArrayLike<unknown>;
    if (typeof arr !== 'object' || arr === null || typeof arr.length !== 'number') {
      throw new Error(
        `${path}: column '${name}' is not an embedding (row ${i} holds ${typeof v}); available columns: ${available()}`,
      );
    }
    if (d < 0) {
      d = arr.length;
      data = new Float64Array(n * d);
    }
    if (arr.length !== d)
      throw new Error(`${path}: row ${i} has a ${arr.length}-d embedding, row 0 has ${d}-d`);
    for (let j = 0; j < d; j++)
      data[i * d + j] = toNumber(arr[j], () => `${path}: row ${i} embedding element ${j}`);
  });
  if (d <= 0) throw new Error(`${path}: column '${name}' holds empty embeddings`);
  return { X: { data, rows: n, cols: d }, used: new Set([name]) };
}

function toNumber(v: unknown, where: () => string): number {
  if (v === null || v === undefined) return Number.NaN;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') {
    const x = Number(v);
    if (!Number.isNaN(x) || /^nan$/i.test(v.trim())) return x;
  }
  throw new Error(`${where()}: '${String(v)}' is not a number`);
}

/** Throws naming the first row with a NaN / infinite / missing value. */
function checkFinite(X: Mat, path: string, meta: Record<string, Cell[]>): void {
  for (let i = 0; i < X.data.length; i++) {
    if (!Number.isFinite(X.data[i])) {
      const row = Math.floor(i / X.cols);
      throw new Error(
        `${path}: embedding of ${describeRow(meta, row)} has a NaN or infinite value at dimension ${i % X.cols}`,
      );
    }
  }
}

/**
 * Human-readable row name: `row 12` plus an id column if one exists.
 *
 * @example
 * describeRow(set.meta, 12); // "row 12 (objectid 4561)"
 */
export function describeRow(meta: Record<string, Cell[]>, row: number): string {
  for (const key of ['id', 'objectid', 'generated_image', 'name', 'file', 'image']) {
    if (meta[key]?.[row] != null) return `row ${row} (${key} ${meta[key][row]})`;
  }
  return `row ${row}`;
}

/**
 * A metadata column as strings (null where missing); errors list the available columns.
 *
 * @example
 * const styles = labelColumn(set, 'style');
 */
export function labelColumn(set: EmbeddingSet, name: string): (string | null)[] {
  return metaColumn(set, name).map((v) => (v === null ? null : String(v)));
}

/**
 * A metadata column as numbers; a missing or non-numeric value is an error naming the row.
 *
 * @example
 * const ratings = numberColumn(ai, 'authenticity');
 */
export function numberColumn(set: EmbeddingSet, name: string): Float64Array {
  const col = metaColumn(set, name);
  return Float64Array.from(col, (v, i) => {
    const x = typeof v === 'number' ? v : v === null ? Number.NaN : Number(v);
    if (!Number.isFinite(x))
      throw new Error(
        `${set.source}: column '${name}' at ${describeRow(set.meta, i)} is not a number (${v})`,
      );
    return x;
  });
}

function metaColumn(set: EmbeddingSet, name: string): Cell[] {
  const col = set.meta[name];
  if (!col) {
    const names = Object.keys(set.meta);
    throw new Error(
      `${set.source}: unknown column '${name}'; available columns: ${names.length ? names.join(', ') : '(none — pass a metadata table)'}`,
    );
  }
  return col;
}
