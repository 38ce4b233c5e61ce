/**
 * Workspace schema migrations: a workspace made by the release before numbered migrations
 * (`fixtures/workspace-v1/`, made by its `make-fixture.ts`) opens with today's code with every record intact and
 * is stamped with the latest user_version; a workspace newer than the code is refused, untouched; migrations
 * run in one transaction.
 *
 * @example
 * npx vitest run test/server/workspace-migrations.test.ts
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, schemaVersion } from '../../src/server/workspace/migrations.ts';
import { SCHEMA_VERSION, Workspace, WorkspaceVersionError } from '../../src/server/workspace.ts';
import { repoRoot } from '../helpers/shared-data.ts';

const fixture = join(repoRoot, 'fixtures', 'workspace-v1');
const expected = JSON.parse(readFileSync(join(fixture, 'expected.json'), 'utf8'));

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const userVersion = (db: Database.Database) => db.pragma('user_version', { simple: true }) as number;
/** The schema as SQL text, by object name. */
function schemaOf(file: string): Record<string, string | null> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT name, sql FROM sqlite_master ORDER BY name').all() as {
      name: string;
      sql: string | null;
    }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.sql]));
  } finally {
    db.close();
  }
}

let dir: string;
/** A copy of the fixture's workspace (opening the committed one, even read-only, would leave WAL files there). */
let v1: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'artprobe-ws-mig-'));
  v1 = join(dir, 'v1');
  cpSync(join(fixture, 'workspace'), v1, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('workspace made by the release before migrations (fixtures/workspace-v1)', () => {
  it('is a version-1 workspace without user_version, checkpointed (no WAL files)', () => {
    const committed = join(fixture, 'workspace', 'artprobe.db');
    expect(existsSync(`${committed}-wal`)).toBe(false);
    expect(existsSync(`${committed}-shm`)).toBe(false);
    const db = new Database(join(v1, 'artprobe.db'), { readonly: true });
    try {
      expect(userVersion(db)).toBe(0);
      expect(schemaVersion(db)).toBe(1);
    } finally {
      db.close();
    }
  });

  it('opens with every record readable and the latest user_version', async () => {
    const root = v1;
    const ws = Workspace.open(root);
    try {
      expect(userVersion(ws.db)).toBe(SCHEMA_VERSION);
      expect(ws.integrityCheck()).toBe('ok');

      // paintings: row and content-addressed file
      expect(ws.listPaintings()).toEqual(expected.paintings);
      const [p] = expected.paintings;
      expect(ws.getPainting(p.id)).toEqual(p);
      expect(sha(ws.paintingFile(p))).toBe(p.id);

      // catalogs: row and rows file
      expect(ws.listCatalogs()).toEqual(expected.catalogs);
      for (const c of expected.catalogRows) {
        expect(ws.getCatalog(c.id)).toEqual(expected.catalogs.find((x: { id: string }) => x.id === c.id));
        expect(JSON.parse(readFileSync(ws.catalogFile(c.id), 'utf8'))).toEqual(c.rows);
      }

      // annotations
      expect(ws.listAnnotations(p.id)).toEqual(expected.annotations);
      expect(ws.getAnnotation(expected.annotationIds[0])).toEqual(expected.annotations[0]);

      // jobs, and the maps their results point to (a cache hit shares the original's folder)
      expect(ws.listJobs()).toEqual(expected.jobs);
      expect(ws.countJobs()).toEqual({ queued: 0, running: 0, done: 2, failed: 0, cancelled: 0, total: 2 });
      const [first, hit] = expected.jobs;
      expect(ws.getJob(first.id)).toEqual(first);
      expect(ws.findCached(first.cacheKey)).toEqual(first);
      expect(ws.listJobs({ state: 'done', paintingId: p.id, limit: 1, offset: 1 })).toEqual([hit]);
      for (const job of expected.jobs) {
        for (const f of Object.values(job.result.files) as string[])
          expect(existsSync(join(ws.mapsDir(job.result.mapsJob), f))).toBe(true);
      }
      expect(
        readFileSync(join(ws.mapsDir(first.id), 'overlay.png'))
          .subarray(1, 4)
          .toString(),
      ).toBe('PNG');

      // probe cache, image embeddings, imported embedding tables
      for (const probe of expected.probes) expect(ws.getProbe(probe.cacheKey)).toEqual(probe);
      for (const e of expected.imageEmbeddings)
        expect([...(ws.getImageEmbeddings(e.fingerprint, [e.id]).get(e.id) ?? [])]).toEqual(e.vector);
      expect(ws.listEmbeddingTables()).toEqual(expected.embeddingTables);
      for (const t of expected.embeddingTables) expect(existsSync(ws.embeddingTableFile(t))).toBe(true);

      // and it takes new records
      const c = await ws.addCatalog('more.json', 'json', [{ file: 'x.png' }], 0);
      expect(ws.listCatalogs().map((x) => x.id)).toEqual([
        ...expected.catalogs.map((x: { id: string }) => x.id),
        c.id,
      ]);
      expect(await ws.deleteJob(hit.id)).toBe(true);
      expect(existsSync(ws.mapsDir(first.id))).toBe(true); // still used by the original
    } finally {
      ws.close();
    }
    // a second open changes nothing
    const again = Workspace.open(root);
    try {
      expect(userVersion(again.db)).toBe(SCHEMA_VERSION);
      expect(again.listPaintings()).toEqual(expected.paintings);
    } finally {
      again.close();
    }
  });

  it('migration 1 is exactly the schema the release made', () => {
    const fresh = Workspace.open(join(dir, 'fresh'));
    fresh.close();
    const db = new Database(join(dir, 'fresh', 'artprobe.db'), { readonly: true });
    try {
      expect(userVersion(db)).toBe(SCHEMA_VERSION);
    } finally {
      db.close();
    }
    if (SCHEMA_VERSION === 1)
      expect(schemaOf(join(dir, 'fresh', 'artprobe.db'))).toEqual(schemaOf(join(v1, 'artprobe.db')));
    // migrating the release's workspace gives the schema of a new one
    Workspace.open(v1).close();
    expect(schemaOf(join(v1, 'artprobe.db'))).toEqual(schemaOf(join(dir, 'fresh', 'artprobe.db')));
  });
});

describe('schema versions', () => {
  it('refuses a workspace newer than the code, with a clear message, and leaves it untouched', () => {
    const root = join(dir, 'future');
    mkdirSync(root);
    const file = join(root, 'artprobe.db');
    const db = new Database(file);
    db.exec('CREATE TABLE future_things (id TEXT)');
    db.pragma('user_version = 999');
    db.close();
    const before = sha(file);

    let err: unknown;
    try {
      Workspace.open(root);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorkspaceVersionError);
    const message = (err as Error).message;
    expect(message).toContain(file);
    expect(message).toMatch(/schema version 999, newer than this artprobe supports \(\d+\)/);
    expect(message).toMatch(/upgrade artprobe/);
    expect((err as WorkspaceVersionError).found).toBe(999);
    expect((err as WorkspaceVersionError).supported).toBe(SCHEMA_VERSION);

    expect(sha(file)).toBe(before);
    expect(existsSync(`${file}-wal`)).toBe(false);
    const after = new Database(file, { readonly: true });
    try {
      expect(userVersion(after)).toBe(999);
      expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(schemaOf(file)).toEqual({ future_things: 'CREATE TABLE future_things (id TEXT)' });
    } finally {
      after.close();
    }
  });

  it('the newer-version check also holds inside the migration transaction', () => {
    const db = new Database(':memory:');
    db.pragma('user_version = 999');
    expect(() => migrate(db, 'mem.db')).toThrow(/schema version 999, newer than this artprobe supports/);
    db.close();
  });

  it('completes a version-0 database whose creation was cut short', () => {
    const root = join(dir, 'partial');
    mkdirSync(root);
    const db = new Database(join(root, 'artprobe.db'));
    db.exec(
      `CREATE TABLE paintings (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, ext TEXT NOT NULL, format TEXT NOT NULL, width INTEGER NOT NULL,
  height INTEGER NOT NULL, bytes INTEGER NOT NULL, source_url TEXT, metadata TEXT, created_at TEXT NOT NULL)`,
    );
    expect(schemaVersion(db)).toBe(0);
    db.close();
    const ws = Workspace.open(root);
    try {
      expect(userVersion(ws.db)).toBe(SCHEMA_VERSION);
      expect(ws.listCatalogs()).toEqual([]);
      expect(ws.countJobs().total).toBe(0);
    } finally {
      ws.close();
    }
  });

  it('runs the missing migrations in one transaction: a failing one leaves the database as it was', () => {
    const db = new Database(':memory:');
    expect(migrate(db, 'mem.db')).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(migrate(db, 'mem.db')).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    const next = SCHEMA_VERSION + 1;
    const broken = [
      ...MIGRATIONS,
      {
        version: next,
        description: 'adds a table, then fails',
        up: (d: Database.Database) => {
          d.exec('CREATE TABLE half_done (x)');
          throw new Error('boom');
        },
      },
    ];
    expect(() => migrate(db, 'mem.db', broken)).toThrow('boom');
    expect(userVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'half_done'").get()).toEqual({
      n: 0,
    });
    const fixed = [
      ...MIGRATIONS,
      {
        version: next,
        description: 'adds a table',
        up: (d: Database.Database) => d.exec('CREATE TABLE done (x)'),
      },
    ];
    expect(migrate(db, 'mem.db', fixed)).toEqual({ from: SCHEMA_VERSION, to: next });
    expect(userVersion(db)).toBe(next);
    expect(() => migrate(db, 'mem.db')).toThrow(WorkspaceVersionError);
    expect(() => migrate(db, 'mem.db', [{ ...MIGRATIONS[0], version: 2 }])).toThrow(/numbered 2/);
    db.close();
  });
});
