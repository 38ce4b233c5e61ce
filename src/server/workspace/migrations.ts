/**
 * Numbered schema migrations of a workspace's SQLite index, recorded in `PRAGMA user_version`. They run at open
 * in one write transaction (`BEGIN IMMEDIATE`, so two processes opening the same workspace do not both
 * migrate); a failed migration leaves the database as it was. A workspace made before versions were recorded
 * (user_version 0 with every version-1 table present) counts as version 1; a database whose version is newer
 * than the code's is refused with a {@link WorkspaceVersionError} and left untouched.
 *
 * Migrations are history: never edit one that has shipped, add the next number instead (and a fixture of the
 * previous version under `fixtures/`).
 *
 * @example
 * const { from, to } = migrate(db, '/ws/artprobe.db');
 */
import type Database from 'better-sqlite3';

/** One schema step: `up` turns version `version - 1` into `version`. */
export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

/** Version 1: the schema as the first release made it (kept verbatim). */
const SCHEMA_V1 = `
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

/** The tables of version 1 (a workspace with all of them and no user_version is a version-1 workspace). */
const TABLES_V1 = [
  'paintings',
  'jobs',
  'annotations',
  'probes',
  'image_embeddings',
  'embedding_tables',
  'catalogs',
];

/**
 * Every migration, in order; `MIGRATIONS[i].version === i + 1`.
 *
 * @example
 * for (const m of MIGRATIONS) console.log(m.version, m.description);
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'paintings, jobs, annotations, probes, image_embeddings, embedding_tables, catalogs',
    // IF NOT EXISTS (as the first release had it): also completes a database whose creation was cut short
    up: (db) => db.exec(SCHEMA_V1),
  },
];

/**
 * The schema version this code writes and reads.
 *
 * @example
 * db.pragma('user_version', { simple: true }) === SCHEMA_VERSION;
 */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * A workspace whose schema is newer than this code knows: opening it could corrupt it, so it is refused.
 *
 * @example
 * try { Workspace.open(dir); } catch (e) { if (e instanceof WorkspaceVersionError) console.error(e.message); }
 */
export class WorkspaceVersionError extends Error {
  constructor(
    readonly file: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `workspace database ${file} has schema version ${found}, newer than this artprobe supports (${supported}); ` +
        'it was written by a newer artprobe: upgrade artprobe to open it (the workspace was not changed)',
    );
    this.name = 'WorkspaceVersionError';
  }
}

/**
 * The schema version of an open database: `user_version`, or 1 for a workspace made before versions were
 * recorded (user_version 0 and every version-1 table present), or 0 for a new (or incomplete) one.
 *
 * @example
 * schemaVersion(db); // 0 for an empty file
 */
export function schemaVersion(db: Database.Database): number {
  const v = db.pragma('user_version', { simple: true }) as number;
  if (v !== 0) return v;
  const have = new Set(
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
      (r) => r.name,
    ),
  );
  return TABLES_V1.every((t) => have.has(t)) ? 1 : 0;
}

/**
 * Throws {@link WorkspaceVersionError} when the database is newer than this code (reads only).
 *
 * @example
 * assertKnownVersion(db, file);
 */
export function assertKnownVersion(db: Database.Database, file: string): void {
  const v = schemaVersion(db);
  if (v > SCHEMA_VERSION) throw new WorkspaceVersionError(file, v, SCHEMA_VERSION);
}

/**
 * Brings a database to {@link SCHEMA_VERSION}: the missing migrations and the new user_version in one
 * immediate transaction. Refuses a newer database. Returns the versions before and after.
 *
 * @example
 * const { from, to } = migrate(db, join(root, 'artprobe.db'));
 */
export function migrate(
  db: Database.Database,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
): { from: number; to: number } {
  const latest = migrations.length;
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i + 1} is numbered ${m.version}`);
  });
  return db
    .transaction(() => {
      const from = schemaVersion(db);
      if (from > latest) throw new WorkspaceVersionError(file, from, latest);
      for (const m of migrations.slice(from)) m.up(db);
      if ((db.pragma('user_version', { simple: true }) as number) !== latest)
        db.pragma(`user_version = ${latest}`);
      return { from, to: latest };
    })
    .immediate();
}
