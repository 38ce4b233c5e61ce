/**
 * The `catalogs` table: imported catalogs (their rows are kept as `catalogs/<id>.json`, written by the
 * workspace before the index row).
 *
 * @example
 * const catalogs = new CatalogsTable(db);
 * catalogs.insert({ id, name: 'cat.csv', format: 'csv', rows: 3, columns: ['file'], matched: 2 });
 */
import type Database from 'better-sqlite3';
import { json, now, type Row } from './common.ts';

/** An imported catalog's index row. */
export interface CatalogRow {
  id: string;
  name: string;
  format: string;
  rows: number;
  columns: string[];
  matched: number;
  createdAt: string;
}

function toCatalog(r: Row): CatalogRow {
  return {
    id: r.id as string,
    name: r.name as string,
    format: r.format as string,
    rows: r.rows as number,
    columns: JSON.parse(r.columns as string),
    matched: r.matched as number,
    createdAt: r.created_at as string,
  };
}

/**
 * Statements on `catalogs`.
 *
 * @example
 * new CatalogsTable(db).get(id)?.matched;
 */
export class CatalogsTable {
  private readonly insertStmt: Database.Statement;
  private readonly getStmt: Database.Statement;
  private readonly listStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO catalogs (id, name, format, rows, columns, matched, created_at)
       VALUES (@id, @name, @format, @rows, @columns, @matched, @createdAt)`,
    );
    this.getStmt = db.prepare('SELECT * FROM catalogs WHERE id = @id');
    this.listStmt = db.prepare('SELECT * FROM catalogs ORDER BY created_at');
    this.deleteStmt = db.prepare('DELETE FROM catalogs WHERE id = @id');
  }

  /** Adds a catalog's index row, created now. */
  insert(c: Omit<CatalogRow, 'createdAt'>): void {
    this.insertStmt.run({
      id: c.id,
      name: c.name,
      format: c.format,
      rows: c.rows,
      columns: json(c.columns),
      matched: c.matched,
      createdAt: now(),
    });
  }

  get(id: string): CatalogRow | undefined {
    const r = this.getStmt.get({ id }) as Row | undefined;
    return r && toCatalog(r);
  }

  /** Oldest first. */
  list(): CatalogRow[] {
    return (this.listStmt.all() as Row[]).map(toCatalog);
  }

  /** True when a row was deleted. */
  delete(id: string): boolean {
    return this.deleteStmt.run({ id }).changes > 0;
  }
}
