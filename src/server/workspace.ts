/**
 * A researcher's workspace: a folder with an SQLite index (`artprobe.db`, WAL, synchronous=FULL) and files
 * (`paintings/<sha256>.<ext>` content-addressed, `maps/<jobId>/`, `annotations/<paintingId>.jsonld`,
 * `catalogs/<id>.json`, `exports/`, `suites/`, `embeddings/<id>.<ext>` imported embedding tables); zero-shot
 * probe results are cached in the `probes` table, CLIP image embeddings per model fingerprint × painting in
 * `image_embeddings`. Files are written atomically (temp file in the same folder,
 * fsync, rename) before the rows that point at them are committed, so a kill -9 at any moment leaves either
 * the old state or the new one. Every path is built from validated ids and fixed extensions, never from a
 * user string.
 *
 * @example
 * const ws = Workspace.open('/data/my-workspace');
 * const p = await ws.addPainting(bytes, { name: 'wave.jpg', info });
 * ws.close();
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { ImageInfo } from '../core/image-decode.ts';

/** Hex sha256: the id of a painting. */
export const PAINTING_ID_RE = /^[0-9a-f]{64}$/;
/** Server-made ids (jobs, annotations, catalogs). */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** File extension of each accepted image format (sharp's names). */
export const IMAGE_EXTS: Record<string, string> = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  tiff: 'tif',
  gif: 'gif',
};

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface PaintingRow {
  id: string;
  name: string;
  ext: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  sourceUrl: string | null;
  metadata: Record<string, unknown> | null;
  createdAt: string;
}

export interface JobRow {
  id: string;
  state: JobState;
  paintingId: string;
  modelId: string;
  modelFingerprint: string;
  method: string;
  params: Record<string, unknown>;
  target: unknown;
  view: string;
  cacheKey: string;
  cachedFrom: string | null;
  progress: { done: number; total: number };
  attempts: number;
  error: string | null;
  result: JobResult | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** What a finished job produced: file names inside `maps/<mapsJob>/` (from our own manifest). */
export interface JobResult {
  mapsJob: string;
  score: number;
  grid: [number, number];
  paintingSize: [number, number];
  signed: boolean;
  tiles: number;
  files: { raw: string; painting: string; overlay: string };
  extras?: Record<string, unknown>;
}

export interface AnnotationRow {
  id: string;
  paintingId: string;
  doc: Record<string, unknown>;
  createdAt: string;
  modifiedAt: string;
}

/** A cached zero-shot probe result. */
export interface ProbeRow {
  cacheKey: string;
  paintingId: string;
  modelFingerprint: string;
  result: Record<string, unknown>;
  createdAt: string;
}

/** An imported embeddings table (parquet, npy or CSV) kept as `embeddings/<id>.<ext>`. */
export interface EmbeddingTableRow {
  id: string;
  name: string;
  format: 'parquet' | 'npy' | 'csv';
  /** Embedding column ('' for .npy). */
  column: string;
  rows: number;
  dims: number;
  /** Metadata columns. */
  columns: string[];
  createdAt: string;
}

export interface CatalogRow {
  id: string;
  name: string;
  format: string;
  rows: number;
  columns: string[];
  matched: number;
  createdAt: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS paintings (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, ext TEXT NOT NULL, format TEXT NOT NULL, width INTEGER NOT NULL,
  height INTEGER NOT NULL, bytes INTEGER NOT NULL, source_url TEXT, metadata TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, state TEXT NOT NULL, painting_id TEXT NOT NULL,
  model_id TEXT NOT NULL, model_fingerprint TEXT NOT NULL, method TEXT NOT NULL, params TEXT NOT NULL,
  target TEXT NOT NULL, view TEXT NOT NULL, cache_key TEXT NOT NULL, cached_from TEXT, progress_done INTEGER NOT NULL DEFAULT 0,
  progress_total INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, error TEXT, result TEXT,
  created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT);
CREATE INDEX IF NOT EXISTS jobs_cache ON jobs (cache_key, state);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE TABLE IF NOT EXISTS annotations (
  id TEXT PRIMARY KEY, painting_id TEXT NOT NULL, doc TEXT NOT NULL, created_at TEXT NOT NULL, modified_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS annotations_painting ON annotations (painting_id);
CREATE TABLE IF NOT EXISTS probes (
  cache_key TEXT PRIMARY KEY, painting_id TEXT NOT NULL, model_fingerprint TEXT NOT NULL, result TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS probes_painting ON probes (painting_id);
CREATE TABLE IF NOT EXISTS image_embeddings (
  model_fingerprint TEXT NOT NULL, painting_id TEXT NOT NULL, dims INTEGER NOT NULL, data BLOB NOT NULL,
  created_at TEXT NOT NULL, PRIMARY KEY (model_fingerprint, painting_id));
CREATE TABLE IF NOT EXISTS embedding_tables (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, format TEXT NOT NULL, col TEXT NOT NULL, rows INTEGER NOT NULL,
  dims INTEGER NOT NULL, columns TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalogs (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, format TEXT NOT NULL, rows INTEGER NOT NULL, columns TEXT NOT NULL,
  matched INTEGER NOT NULL, created_at TEXT NOT NULL);
`;

const now = () => new Date().toISOString();
const json = (v: unknown) => JSON.stringify(v ?? null);

/** Throws unless `id` matches `re` (defence in depth: routes validate ids by schema already). */
export function checkId(id: string, re: RegExp, what: string): string {
  if (typeof id !== 'string' || !re.test(id)) throw new Error(`invalid ${what} id ${JSON.stringify(id)}`);
  return id;
}

/**
 * Writes a file atomically: a temp file next to it, fsync, rename.
 *
 * @example
 * await writeFileAtomic('/ws/catalogs/x.json', '{}');
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.tmp-${randomUUID()}`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** sha256 of bytes, hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

type Row = Record<string, unknown>;

function toPainting(r: Row): PaintingRow {
  return {
    id: r.id as string,
    name: r.name as string,
    ext: r.ext as string,
    format: r.format as string,
    width: r.width as number,
    height: r.height as number,
    bytes: r.bytes as number,
    sourceUrl: (r.source_url as string) ?? null,
    metadata: r.metadata ? JSON.parse(r.metadata as string) : null,
    createdAt: r.created_at as string,
  };
}

function toJob(r: Row): JobRow {
  return {
    id: r.id as string,
    state: r.state as JobState,
    paintingId: r.painting_id as string,
    modelId: r.model_id as string,
    modelFingerprint: r.model_fingerprint as string,
    method: r.method as string,
    params: JSON.parse(r.params as string),
    target: JSON.parse(r.target as string),
    view: r.view as string,
    cacheKey: r.cache_key as string,
    cachedFrom: (r.cached_from as string) ?? null,
    progress: { done: r.progress_done as number, total: r.progress_total as number },
    attempts: r.attempts as number,
    error: (r.error as string) ?? null,
    result: r.result ? JSON.parse(r.result as string) : null,
    createdAt: r.created_at as string,
    startedAt: (r.started_at as string) ?? null,
    finishedAt: (r.finished_at as string) ?? null,
  };
}

/** The workspace: SQLite index plus content files. */
export class Workspace {
  readonly db: Database.Database;

  private constructor(readonly root: string) {
    for (const d of ['paintings', 'maps', 'annotations', 'catalogs', 'exports', 'suites', 'embeddings'])
      mkdirSync(join(root, d), { recursive: true });
    this.db = new Database(join(root, 'artprobe.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.removeTempFiles();
  }

  /**
   * Opens (creating when needed) a workspace folder.
   *
   * @example
   * const ws = Workspace.open('./workspace');
   */
  static open(dir: string): Workspace {
    return new Workspace(resolve(dir));
  }

  /** Leftovers of writes cut by a crash (`.tmp-*` files) are deleted at startup. */
  private removeTempFiles(): void {
    for (const d of ['', 'paintings', 'annotations', 'catalogs', 'exports', 'suites', 'embeddings']) {
      for (const f of readdirSync(join(this.root, d)))
        if (f.startsWith('.tmp-')) rmSync(join(this.root, d, f), { force: true });
    }
  }

  dir(kind: 'paintings' | 'maps' | 'annotations' | 'catalogs' | 'exports' | 'suites' | 'embeddings'): string {
    return join(this.root, kind);
  }

  /** Folder of a job's maps. */
  mapsDir(jobId: string): string {
    return join(this.root, 'maps', checkId(jobId, UUID_RE, 'job'));
  }

  paintingFile(p: Pick<PaintingRow, 'id' | 'ext'>): string {
    if (!Object.values(IMAGE_EXTS).includes(p.ext))
      throw new Error(`painting ${p.id}: unexpected extension ${p.ext}`);
    return join(this.root, 'paintings', `${checkId(p.id, PAINTING_ID_RE, 'painting')}.${p.ext}`);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** `PRAGMA integrity_check` result ('ok' when sound). */
  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  // ---- paintings

  /**
   * Stores image bytes (already checked to be an image) content-addressed; the same bytes twice give the
   * same painting (its name is kept from the first upload).
   */
  async addPainting(
    bytes: Uint8Array,
    meta: { name: string; info: ImageInfo; sourceUrl?: string },
  ): Promise<{ painting: PaintingRow; created: boolean }> {
    const id = sha256Hex(bytes);
    const existing = this.getPainting(id);
    if (existing) return { painting: existing, created: false };
    const ext = IMAGE_EXTS[meta.info.format];
    if (!ext) throw new Error(`unsupported image format ${meta.info.format}`);
    await writeFileAtomic(this.paintingFile({ id, ext }), bytes);
    this.db
      .prepare('INSERT OR IGNORE INTO paintings VALUES (?,?,?,?,?,?,?,?,?,?)')
      .run(
        id,
        meta.name,
        ext,
        meta.info.format,
        meta.info.width,
        meta.info.height,
        bytes.length,
        meta.sourceUrl ?? null,
        null,
        now(),
      );
    return { painting: this.getPainting(id) as PaintingRow, created: true };
  }

  getPainting(id: string): PaintingRow | undefined {
    const r = this.db.prepare('SELECT * FROM paintings WHERE id = ?').get(id) as Row | undefined;
    return r && toPainting(r);
  }

  listPaintings(): PaintingRow[] {
    return (this.db.prepare('SELECT * FROM paintings ORDER BY created_at, id').all() as Row[]).map(
      toPainting,
    );
  }

  setPaintingMetadata(id: string, metadata: Record<string, unknown>): void {
    this.db.prepare('UPDATE paintings SET metadata = ? WHERE id = ?').run(json(metadata), id);
  }

  /** Deletes a painting with its jobs, maps and annotations (rows first, then files). */
  async deletePainting(id: string): Promise<boolean> {
    const p = this.getPainting(id);
    if (!p) return false;
    const jobs = this.db.prepare('SELECT id FROM jobs WHERE painting_id = ?').all(id) as { id: string }[];
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM jobs WHERE painting_id = ?').run(id);
      this.db.prepare('DELETE FROM annotations WHERE painting_id = ?').run(id);
      this.db.prepare('DELETE FROM probes WHERE painting_id = ?').run(id);
      this.db.prepare('DELETE FROM image_embeddings WHERE painting_id = ?').run(id);
      this.db.prepare('DELETE FROM paintings WHERE id = ?').run(id);
    })();
    for (const j of jobs) await rm(this.mapsDir(j.id), { recursive: true, force: true });
    await rm(this.paintingFile(p), { force: true });
    await rm(join(this.root, 'annotations', `${id}.jsonld`), { force: true });
    return true;
  }

  // ---- jobs

  insertJob(
    j: Omit<JobRow, 'progress' | 'attempts' | 'error' | 'createdAt' | 'startedAt' | 'finishedAt'> & {
      error?: string;
    },
  ): JobRow {
    const t = now();
    const done = j.state === 'done';
    this.db
      .prepare(
        `INSERT INTO jobs (id, state, painting_id, model_id, model_fingerprint, method, params, target, view, cache_key,
         cached_from, result, error, created_at, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
      )
      .run(
        j.id,
        j.state,
        j.paintingId,
        j.modelId,
        j.modelFingerprint,
        j.method,
        json(j.params),
        json(j.target),
        j.view,
        j.cacheKey,
        j.cachedFrom,
        j.result ? json(j.result) : null,
        j.error ?? null,
        t,
        done ? t : null,
        done ? t : null,
      );
    return this.getJob(j.id) as JobRow;
  }

  getJob(id: string): JobRow | undefined {
    const r = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return r && toJob(r);
  }

  listJobs(
    filter: { state?: JobState; paintingId?: string; limit?: number; offset?: number } = {},
  ): JobRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const [col, v] of [
      ['state', filter.state],
      ['painting_id', filter.paintingId],
    ] as const) {
      if (v === undefined) continue;
      where.push(`${col} = ?`);
      args.push(v);
    }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ? OFFSET ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 1000, filter.offset ?? 0) as Row[]).map(toJob);
  }

  countJobs(): Record<JobState | 'total', number> {
    const out = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0, total: 0 };
    for (const r of this.db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as {
      state: JobState;
      n: number;
    }[]) {
      out[r.state] = r.n;
      out.total += r.n;
    }
    return out;
  }

  /** A finished job with this cache key whose maps are still on disk. */
  findCached(cacheKey: string): JobRow | undefined {
    const r = this.db
      .prepare("SELECT * FROM jobs WHERE cache_key = ? AND state = 'done' ORDER BY seq LIMIT 1")
      .get(cacheKey) as Row | undefined;
    return r && toJob(r);
  }

  markRunning(id: string): void {
    this.db
      .prepare(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?, error = NULL WHERE id = ?",
      )
      .run(now(), id);
  }

  setProgress(id: string, done: number, total: number): void {
    this.db
      .prepare('UPDATE jobs SET progress_done = ?, progress_total = ? WHERE id = ?')
      .run(done, total, id);
  }

  /** Final state; maps must already be on disk. */
  finishJob(
    id: string,
    state: 'done' | 'failed' | 'cancelled',
    extra: { result?: JobResult; error?: string; cachedFrom?: string } = {},
  ): void {
    this.db
      .prepare(
        'UPDATE jobs SET state = ?, result = ?, error = ?, cached_from = COALESCE(?, cached_from), finished_at = ? WHERE id = ?',
      )
      .run(
        state,
        extra.result ? json(extra.result) : null,
        extra.error ?? null,
        extra.cachedFrom ?? null,
        now(),
        id,
      );
  }

  requeueJob(id: string): void {
    this.db.prepare("UPDATE jobs SET state = 'queued', started_at = NULL WHERE id = ?").run(id);
  }

  /**
   * Deletes a job's row, then each maps folder it used (its own, and the one its cached result points to)
   * that no remaining job's result points to: a cache hit shares the original job's maps, so deleting either
   * one keeps the maps while the other still needs them.
   */
  async deleteJob(id: string): Promise<boolean> {
    const job = this.getJob(id);
    if (!job) return false;
    this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
    const users = this.db.prepare(
      "SELECT COUNT(*) AS n FROM jobs WHERE json_extract(result, '$.mapsJob') = ?",
    );
    for (const folder of new Set([id, job.result?.mapsJob ?? id])) {
      if ((users.get(folder) as { n: number }).n === 0)
        await rm(this.mapsDir(folder), { recursive: true, force: true });
    }
    return true;
  }

  // ---- zero-shot probe cache

  getProbe(cacheKey: string): ProbeRow | undefined {
    const r = this.db.prepare('SELECT * FROM probes WHERE cache_key = ?').get(cacheKey) as Row | undefined;
    return (
      r && {
        cacheKey: r.cache_key as string,
        paintingId: r.painting_id as string,
        modelFingerprint: r.model_fingerprint as string,
        result: JSON.parse(r.result as string),
        createdAt: r.created_at as string,
      }
    );
  }

  /** Stores a probe result (replacing one with the same key); returns the stored row. */
  putProbe(p: Omit<ProbeRow, 'createdAt'>): ProbeRow {
    this.db
      .prepare('INSERT OR REPLACE INTO probes VALUES (?,?,?,?,?)')
      .run(p.cacheKey, p.paintingId, p.modelFingerprint, json(p.result), now());
    return this.getProbe(p.cacheKey) as ProbeRow;
  }

  // ---- image embeddings (cache per model fingerprint × painting)

  /** Cached unit image embeddings of these paintings under a model, by painting id (missing ones absent). */
  getImageEmbeddings(fingerprint: string, ids: string[]): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    const q = this.db.prepare(
      'SELECT data FROM image_embeddings WHERE model_fingerprint = ? AND painting_id = ?',
    );
    for (const id of ids) {
      const r = q.get(fingerprint, id) as { data: Buffer } | undefined;
      // copy: the Buffer may share a pool, and Float32Array needs 4-byte alignment
      if (r) out.set(id, new Float32Array(new Uint8Array(r.data).buffer));
    }
    return out;
  }

  /** Stores image embeddings computed by a model (replacing older ones). */
  putImageEmbeddings(fingerprint: string, rows: { id: string; vector: Float32Array }[]): void {
    const ins = this.db.prepare('INSERT OR REPLACE INTO image_embeddings VALUES (?,?,?,?,?)');
    this.db.transaction(() => {
      for (const r of rows)
        ins.run(
          fingerprint,
          r.id,
          r.vector.length,
          Buffer.from(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength),
          now(),
        );
    })();
  }

  // ---- imported embedding tables

  embeddingTableFile(t: Pick<EmbeddingTableRow, 'id' | 'format'>): string {
    if (!['parquet', 'npy', 'csv'].includes(t.format))
      throw new Error(`embedding table ${t.id}: unexpected format ${t.format}`);
    return join(this.root, 'embeddings', `${checkId(t.id, UUID_RE, 'embedding table')}.${t.format}`);
  }

  /** Stores an embeddings file (already checked to load) atomically, then its index row. */
  async addEmbeddingTable(
    bytes: Uint8Array,
    t: Omit<EmbeddingTableRow, 'id' | 'createdAt'>,
  ): Promise<EmbeddingTableRow> {
    const id = randomUUID();
    await writeFileAtomic(this.embeddingTableFile({ id, format: t.format }), bytes);
    this.db
      .prepare('INSERT INTO embedding_tables VALUES (?,?,?,?,?,?,?,?)')
      .run(id, t.name, t.format, t.column, t.rows, t.dims, json(t.columns), now());
    return this.getEmbeddingTable(id) as EmbeddingTableRow;
  }

  getEmbeddingTable(id: string): EmbeddingTableRow | undefined {
    const r = this.db.prepare('SELECT * FROM embedding_tables WHERE id = ?').get(id) as Row | undefined;
    return (
      r && {
        id: r.id as string,
        name: r.name as string,
        format: r.format as EmbeddingTableRow['format'],
        column: r.col as string,
        rows: r.rows as number,
        dims: r.dims as number,
        columns: JSON.parse(r.columns as string),
        createdAt: r.created_at as string,
      }
    );
  }

  listEmbeddingTables(): EmbeddingTableRow[] {
    return (
      this.db.prepare('SELECT id FROM embedding_tables ORDER BY created_at, id').all() as { id: string }[]
    ).map((r) => this.getEmbeddingTable(r.id) as EmbeddingTableRow);
  }

  async deleteEmbeddingTable(id: string): Promise<boolean> {
    const t = this.getEmbeddingTable(id);
    if (!t) return false;
    this.db.prepare('DELETE FROM embedding_tables WHERE id = ?').run(id);
    await rm(this.embeddingTableFile(t), { force: true });
    return true;
  }

  // ---- annotations

  insertAnnotation(id: string, paintingId: string, doc: Record<string, unknown>): AnnotationRow {
    const t = now();
    this.db.prepare('INSERT INTO annotations VALUES (?,?,?,?,?)').run(id, paintingId, json(doc), t, t);
    return this.getAnnotation(id) as AnnotationRow;
  }

  getAnnotation(id: string): AnnotationRow | undefined {
    const r = this.db.prepare('SELECT * FROM annotations WHERE id = ?').get(id) as Row | undefined;
    return (
      r && {
        id: r.id as string,
        paintingId: r.painting_id as string,
        doc: JSON.parse(r.doc as string),
        createdAt: r.created_at as string,
        modifiedAt: r.modified_at as string,
      }
    );
  }

  listAnnotations(paintingId: string): AnnotationRow[] {
    return (
      this.db
        .prepare('SELECT id FROM annotations WHERE painting_id = ? ORDER BY created_at, id')
        .all(paintingId) as { id: string }[]
    ).map((r) => this.getAnnotation(r.id) as AnnotationRow);
  }

  updateAnnotation(id: string, doc: Record<string, unknown>): void {
    this.db.prepare('UPDATE annotations SET doc = ?, modified_at = ? WHERE id = ?').run(json(doc), now(), id);
  }

  deleteAnnotation(id: string): boolean {
    return this.db.prepare('DELETE FROM annotations WHERE id = ?').run(id).changes > 0;
  }

  // ---- catalogs

  /** Stores a catalog's rows as `catalogs/<id>.json` (atomically), then its index row. */
  async addCatalog(
    name: string,
    format: string,
    rows: Record<string, unknown>[],
    matched: number,
  ): Promise<CatalogRow> {
    const id = randomUUID();
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    await writeFileAtomic(join(this.root, 'catalogs', `${id}.json`), JSON.stringify(rows));
    this.db
      .prepare('INSERT INTO catalogs VALUES (?,?,?,?,?,?,?)')
      .run(id, name, format, rows.length, json(columns), matched, now());
    return this.getCatalog(id) as CatalogRow;
  }

  getCatalog(id: string): CatalogRow | undefined {
    const r = this.db.prepare('SELECT * FROM catalogs WHERE id = ?').get(id) as Row | undefined;
    return (
      r && {
        id: r.id as string,
        name: r.name as string,
        format: r.format as string,
        rows: r.rows as number,
        columns: JSON.parse(r.columns as string),
        matched: r.matched as number,
        createdAt: r.created_at as string,
      }
    );
  }

  listCatalogs(): CatalogRow[] {
    return (this.db.prepare('SELECT id FROM catalogs ORDER BY created_at').all() as { id: string }[]).map(
      (r) => this.getCatalog(r.id) as CatalogRow,
    );
  }

  catalogFile(id: string): string {
    return join(this.root, 'catalogs', `${checkId(id, UUID_RE, 'catalog')}.json`);
  }

  async deleteCatalog(id: string): Promise<boolean> {
    const n = this.db.prepare('DELETE FROM catalogs WHERE id = ?').run(id).changes;
    await rm(this.catalogFile(id), { force: true });
    return n > 0;
  }
}
