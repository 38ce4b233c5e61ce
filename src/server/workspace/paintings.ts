/**
 * The `paintings` table: one row per stored image (id = sha256 of its bytes; the file is
 * `paintings/<id>.<ext>`, written by the workspace before the row).
 *
 * @example
 * const paintings = new PaintingsTable(db);
 * paintings.insert({ id, name: 'wave.jpg', ext: 'jpg', format: 'jpeg', width, height, bytes, sourceUrl: null });
 * paintings.get(id)?.name; // 'wave.jpg'
 */
import type Database from 'better-sqlite3';
import { json, now, type Row } from './common.ts';

/** A stored painting. */
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

/**
 * Statements on `paintings`.
 *
 * @example
 * new PaintingsTable(db).list().map((p) => p.name);
 */
export class PaintingsTable {
  private readonly insertStmt: Database.Statement;
  private readonly getStmt: Database.Statement;
  private readonly listStmt: Database.Statement;
  private readonly setMetadataStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private readonly countStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO paintings (id, name, ext, format, width, height, bytes, source_url, metadata, created_at)
       VALUES (@id, @name, @ext, @format, @width, @height, @bytes, @sourceUrl, NULL, @createdAt)`,
    );
    this.getStmt = db.prepare('SELECT * FROM paintings WHERE id = @id');
    this.listStmt = db.prepare('SELECT * FROM paintings ORDER BY created_at, id');
    this.setMetadataStmt = db.prepare('UPDATE paintings SET metadata = @metadata WHERE id = @id');
    this.deleteStmt = db.prepare('DELETE FROM paintings WHERE id = @id');
    this.countStmt = db.prepare('SELECT COUNT(*) AS n FROM paintings');
  }

  /** Number of paintings (without reading them). */
  count(): number {
    return (this.countStmt.get() as { n: number }).n;
  }

  /** Adds a painting (no metadata yet, created now) unless one with its id exists. */
  insert(p: Omit<PaintingRow, 'metadata' | 'createdAt'>): void {
    this.insertStmt.run({ ...p, createdAt: now() });
  }

  get(id: string): PaintingRow | undefined {
    const r = this.getStmt.get({ id }) as Row | undefined;
    return r && toPainting(r);
  }

  /** Oldest first. */
  list(): PaintingRow[] {
    return (this.listStmt.all() as Row[]).map(toPainting);
  }

  setMetadata(id: string, metadata: Record<string, unknown>): void {
    this.setMetadataStmt.run({ id, metadata: json(metadata) });
  }

  delete(id: string): void {
    this.deleteStmt.run({ id });
  }
}
