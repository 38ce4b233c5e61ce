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
 * This class is a facade: each table's statements live in `./workspace/<table>.ts`, the schema's numbered
 * migrations (`PRAGMA user_version`, applied at open) in `./workspace/migrations.ts`.
 *
 * `Workspace.open(dir, { check: true })` (what the server does) also runs SQLite's `integrity_check` at open:
 * a damaged database is refused with a {@link WorkspaceCorruptError} whose one-line message says what to do,
 * as is any "malformed" / "not a database" error met while opening. A new workspace folder is created
 * readable by its owner only (0700).
 *
 * @example
 * const ws = Workspace.open('/data/my-workspace');
 * const p = await ws.addPainting(bytes, { name: 'wave.jpg', info });
 * ws.close();
 */
import { randomUUID, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { ImageInfo } from '../core/image-decode.ts';
import { type AnnotationRow, AnnotationsTable } from './workspace/annotations.ts';
import { type CatalogRow, CatalogsTable } from './workspace/catalogs.ts';
import { checkId, IMAGE_EXTS, PAINTING_ID_RE, UUID_RE, writeFileAtomic } from './workspace/common.ts';
import { type EmbeddingTableRow, EmbeddingTablesTable } from './workspace/embedding-tables.ts';
import { ImageEmbeddingsTable } from './workspace/image-embeddings.ts';
import { type JobResult, type JobRow, type JobState, JobsTable } from './workspace/jobs.ts';
import { assertKnownVersion, migrate } from './workspace/migrations.ts';
import { type PaintingRow, PaintingsTable } from './workspace/paintings.ts';
import { type ProbeRow, ProbesTable } from './workspace/probes.ts';

export type { AnnotationRow } from './workspace/annotations.ts';
export type { CatalogRow } from './workspace/catalogs.ts';
export {
  checkId,
  IMAGE_EXTS,
  PAINTING_ID_RE,
  sha256Hex,
  UUID_RE,
  writeFileAtomic,
} from './workspace/common.ts';
export type { EmbeddingTableRow } from './workspace/embedding-tables.ts';
export type { JobResult, JobRow, JobState } from './workspace/jobs.ts';
export { SCHEMA_VERSION, WorkspaceVersionError } from './workspace/migrations.ts';
export type { PaintingRow } from './workspace/paintings.ts';
export type { ProbeRow } from './workspace/probes.ts';

/**
 * The workspace database is damaged (SQLite's integrity check failed, or SQLite reported a malformed database
 * or not a database). The message is one line that says what to do.
 *
 * @example
 * try { Workspace.open(dir, { check: true }); } catch (e) { if (e instanceof WorkspaceCorruptError) console.error(e.message); }
 */
export class WorkspaceCorruptError extends Error {
  override name = 'WorkspaceCorruptError';
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(
      `workspace database ${file} is damaged (${detail.replace(/\s+/g, ' ').slice(0, 300)}); artprobe did not start and changed nothing: stop every program using it, copy the workspace folder somewhere safe, then restore artprobe.db from a backup or rebuild it with \`sqlite3 ${file} .recover | sqlite3 ${file}.recovered\` and move the result into place (or start with another --workspace)`,
    );
  }
}

const CORRUPT_CODES = new Set([
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_CORRUPT_INDEX',
  'SQLITE_CORRUPT_VTAB',
]);

/** True for SQLite errors that mean a damaged file. */
function isCorruption(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  return (
    CORRUPT_CODES.has(code) ||
    code.startsWith('SQLITE_CORRUPT') ||
    /malformed|not a database/i.test(String((e as Error).message))
  );
}

/** Options of {@link Workspace.open}. */
export interface OpenOptions {
  /** Run `PRAGMA integrity_check` at open and refuse a damaged database (default false). */
  check?: boolean;
}

/**
 * sha256 of bytes, hex, computed off the event loop (WebCrypto runs on the thread pool).
 *
 * @example
 * await sha256HexAsync(bytes); // same as sha256Hex(bytes)
 */
export async function sha256HexAsync(bytes: Uint8Array): Promise<string> {
  const d = await webcrypto.subtle.digest('SHA-256', bytes);
  return Buffer.from(d).toString('hex');
}

/**
 * The workspace: SQLite index plus content files.
 *
 * @example
 * const ws = Workspace.open(dir);
 * const job = ws.insertJob({ id: randomUUID(), state: 'queued', paintingId, ... });
 * ws.listJobs({ state: 'queued' });
 */
export class Workspace {
  readonly db: Database.Database;
  private readonly paintings: PaintingsTable;
  private readonly jobs: JobsTable;
  private readonly annotations: AnnotationsTable;
  private readonly probes: ProbesTable;
  private readonly imageEmbeddings: ImageEmbeddingsTable;
  private readonly embeddingTables: EmbeddingTablesTable;
  private readonly catalogs: CatalogsTable;
  /** Result of the integrity check run at open ('not checked' unless opened with `check`). */
  readonly integrity: string;

  private constructor(
    readonly root: string,
    opts: OpenOptions = {},
  ) {
    if (!existsSync(root)) mkdirSync(root, { recursive: true, mode: 0o700 });
    for (const d of ['paintings', 'maps', 'annotations', 'catalogs', 'exports', 'suites', 'embeddings'])
      mkdirSync(join(root, d), { recursive: true });
    const file = join(root, 'artprobe.db');
    try {
      this.db = new Database(file);
    } catch (e) {
      if (isCorruption(e)) throw new WorkspaceCorruptError(file, (e as Error).message);
      throw e;
    }
    try {
      this.db.pragma('busy_timeout = 5000');
      assertKnownVersion(this.db, file); // before anything writes to a newer workspace
      if (opts.check) {
        const rows = this.db.pragma('integrity_check(20)') as { integrity_check: string }[];
        const problems = rows.map((r) => r.integrity_check).filter((x) => x !== 'ok');
        if (problems.length) throw new WorkspaceCorruptError(file, problems.join('; '));
      }
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      migrate(this.db, file);
    } catch (e) {
      this.db.close();
      if (!(e instanceof WorkspaceCorruptError) && isCorruption(e))
        throw new WorkspaceCorruptError(file, (e as Error).message);
      throw e;
    }
    this.integrity = opts.check ? 'ok' : 'not checked';
    this.paintings = new PaintingsTable(this.db);
    this.jobs = new JobsTable(this.db);
    this.annotations = new AnnotationsTable(this.db);
    this.probes = new ProbesTable(this.db);
    this.imageEmbeddings = new ImageEmbeddingsTable(this.db);
    this.embeddingTables = new EmbeddingTablesTable(this.db);
    this.catalogs = new CatalogsTable(this.db);
    this.removeTempFiles();
  }

  /**
   * Opens (creating when needed) a workspace folder, bringing its schema up to date; throws
   * `WorkspaceVersionError` for a workspace written by a newer artprobe, and `WorkspaceCorruptError` for a
   * damaged database (with `check`, after a full integrity check).
   *
   * @example
   * const ws = Workspace.open('./workspace', { check: true });
   */
  static open(dir: string, opts: OpenOptions = {}): Workspace {
    return new Workspace(resolve(dir), opts);
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
    const id = await sha256HexAsync(bytes);
    const existing = this.getPainting(id);
    if (existing) return { painting: existing, created: false };
    const ext = IMAGE_EXTS[meta.info.format];
    if (!ext) throw new Error(`unsupported image format ${meta.info.format}`);
    await writeFileAtomic(this.paintingFile({ id, ext }), bytes);
    this.paintings.insert({
      id,
      name: meta.name,
      ext,
      format: meta.info.format,
      width: meta.info.width,
      height: meta.info.height,
      bytes: bytes.length,
      sourceUrl: meta.sourceUrl ?? null,
    });
    return { painting: this.getPainting(id) as PaintingRow, created: true };
  }

  getPainting(id: string): PaintingRow | undefined {
    return this.paintings.get(id);
  }

  listPaintings(): PaintingRow[] {
    return this.paintings.list();
  }

  /** Number of paintings (cheap: nothing is read). */
  countPaintings(): number {
    return this.paintings.count();
  }

  setPaintingMetadata(id: string, metadata: Record<string, unknown>): void {
    this.paintings.setMetadata(id, metadata);
  }

  /** Deletes a painting with its jobs, maps and annotations (rows first, then files). */
  async deletePainting(id: string): Promise<boolean> {
    const p = this.getPainting(id);
    if (!p) return false;
    const jobs = this.jobs.idsOfPainting(id);
    this.db.transaction(() => {
      this.jobs.deleteByPainting(id);
      this.annotations.deleteByPainting(id);
      this.probes.deleteByPainting(id);
      this.imageEmbeddings.deleteByPainting(id);
      this.paintings.delete(id);
    })();
    for (const j of jobs) await rm(this.mapsDir(j), { recursive: true, force: true });
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
    this.jobs.insert(j);
    return this.getJob(j.id) as JobRow;
  }

  getJob(id: string): JobRow | undefined {
    return this.jobs.get(id);
  }

  listJobs(
    filter: { state?: JobState; paintingId?: string; limit?: number; offset?: number } = {},
  ): JobRow[] {
    return this.jobs.list(filter);
  }

  countJobs(): Record<JobState | 'total', number> {
    return this.jobs.count();
  }

  /** A finished job with this cache key whose maps are still on disk. */
  findCached(cacheKey: string): JobRow | undefined {
    return this.jobs.findCached(cacheKey);
  }

  markRunning(id: string): void {
    this.jobs.markRunning(id);
  }

  setProgress(id: string, done: number, total: number): void {
    this.jobs.setProgress(id, done, total);
  }

  /** Final state; maps must already be on disk. */
  finishJob(
    id: string,
    state: 'done' | 'failed' | 'cancelled',
    extra: { result?: JobResult; error?: string; cachedFrom?: string } = {},
  ): void {
    this.jobs.finish(id, state, extra);
  }

  requeueJob(id: string): void {
    this.jobs.requeue(id);
  }

  /**
   * Deletes a job's row, then each maps folder it used (its own, and the one its cached result points to)
   * that no remaining job's result points to: a cache hit shares the original job's maps, so deleting either
   * one keeps the maps while the other still needs them.
   */
  async deleteJob(id: string): Promise<boolean> {
    const job = this.getJob(id);
    if (!job) return false;
    this.jobs.delete(id);
    for (const folder of new Set([id, job.result?.mapsJob ?? id])) {
      if (this.jobs.mapsUsers(folder) === 0) await rm(this.mapsDir(folder), { recursive: true, force: true });
    }
    return true;
  }

  // ---- zero-shot probe cache

  getProbe(cacheKey: string): ProbeRow | undefined {
    return this.probes.get(cacheKey);
  }

  /** Stores a probe result (replacing one with the same key); returns the stored row. */
  putProbe(p: Omit<ProbeRow, 'createdAt'>): ProbeRow {
    this.probes.put(p);
    return this.getProbe(p.cacheKey) as ProbeRow;
  }

  // ---- image embeddings (cache per model fingerprint × painting)

  /** Cached unit image embeddings of these paintings under a model, by painting id (missing ones absent). */
  getImageEmbeddings(fingerprint: string, ids: string[]): Map<string, Float32Array> {
    return this.imageEmbeddings.get(fingerprint, ids);
  }

  /** Stores image embeddings computed by a model (replacing older ones). */
  putImageEmbeddings(fingerprint: string, rows: { id: string; vector: Float32Array }[]): void {
    this.imageEmbeddings.put(fingerprint, rows);
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
    this.embeddingTables.insert({ ...t, id });
    return this.getEmbeddingTable(id) as EmbeddingTableRow;
  }

  getEmbeddingTable(id: string): EmbeddingTableRow | undefined {
    return this.embeddingTables.get(id);
  }

  listEmbeddingTables(): EmbeddingTableRow[] {
    return this.embeddingTables.list();
  }

  async deleteEmbeddingTable(id: string): Promise<boolean> {
    const t = this.getEmbeddingTable(id);
    if (!t) return false;
    this.embeddingTables.delete(id);
    await rm(this.embeddingTableFile(t), { force: true });
    return true;
  }

  // ---- annotations

  insertAnnotation(id: string, paintingId: string, doc: Record<string, unknown>): AnnotationRow {
    this.annotations.insert(id, paintingId, doc);
    return this.getAnnotation(id) as AnnotationRow;
  }

  getAnnotation(id: string): AnnotationRow | undefined {
    return this.annotations.get(id);
  }

  listAnnotations(paintingId: string): AnnotationRow[] {
    return this.annotations.listByPainting(paintingId);
  }

  updateAnnotation(id: string, doc: Record<string, unknown>): void {
    this.annotations.update(id, doc);
  }

  deleteAnnotation(id: string): boolean {
    return this.annotations.delete(id);
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
    this.catalogs.insert({ id, name, format, rows: rows.length, columns, matched });
    return this.getCatalog(id) as CatalogRow;
  }

  /**
   * Adds the index row of a catalog whose rows file (`catalogFile(id)`) is already written.
   *
   * @example
   * ws.registerCatalog(id, 'cat.csv', 'csv', 3, ['file', 'style'], 2);
   */
  registerCatalog(
    id: string,
    name: string,
    format: string,
    rows: number,
    columns: string[],
    matched: number,
  ): CatalogRow {
    this.catalogs.insert({ id: checkId(id, UUID_RE, 'catalog'), name, format, rows, columns, matched });
    return this.getCatalog(id) as CatalogRow;
  }

  getCatalog(id: string): CatalogRow | undefined {
    return this.catalogs.get(id);
  }

  listCatalogs(): CatalogRow[] {
    return this.catalogs.list();
  }

  catalogFile(id: string): string {
    return join(this.root, 'catalogs', `${checkId(id, UUID_RE, 'catalog')}.json`);
  }

  async deleteCatalog(id: string): Promise<boolean> {
    const deleted = this.catalogs.delete(id);
    await rm(this.catalogFile(id), { force: true });
    return deleted;
  }
}
