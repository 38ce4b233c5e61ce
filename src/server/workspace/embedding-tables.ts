/**
 * The `embedding_tables` table: imported embedding tables (parquet, npy or CSV) kept as
 * `embeddings/<id>.<ext>` (the file is written by the workspace before the row).
 *
 * @example
 * const tables = new EmbeddingTablesTable(db);
 * tables.insert({ id, name: 'clip.parquet', format: 'parquet', column: 'emb', rows: 10, dims: 512, columns: [] });
 */
import type Database from 'better-sqlite3';
import { json, now, type Row } from './common.ts';

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

function toEmbeddingTable(r: Row): EmbeddingTableRow {
  return {
    id: r.id as string,
    name: r.name as string,
    format: r.format as EmbeddingTableRow['format'],
    column: r.col as string,
    rows: r.rows as number,
    dims: r.dims as number,
    columns: JSON.parse(r.columns as string),
    createdAt: r.created_at as string,
  };
}

/**
 * Statements on `embedding_tables`.
 *
 * @example
 * new EmbeddingTablesTable(db).list().map((t) => t.name);
 */
export class EmbeddingTablesTable {
  private readonly insertStmt: Database.Statement;
  private readonly getStmt: Database.Statement;
  private readonly listStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO embedding_tables (id, name, format, col, rows, dims, columns, created_at)
       VALUES (@id, @name, @format, @column, @rows, @dims, @columns, @createdAt)`,
    );
    this.getStmt = db.prepare('SELECT * FROM embedding_tables WHERE id = @id');
    this.listStmt = db.prepare('SELECT * FROM embedding_tables ORDER BY created_at, id');
    this.deleteStmt = db.prepare('DELETE FROM embedding_tables WHERE id = @id');
  }

  /** Adds a table's index row, created now. */
  insert(t: Omit<EmbeddingTableRow, 'createdAt'>): void {
    this.insertStmt.run({
      id: t.id,
      name: t.name,
      format: t.format,
      column: t.column,
      rows: t.rows,
      dims: t.dims,
      columns: json(t.columns),
      createdAt: now(),
    });
  }

  get(id: string): EmbeddingTableRow | undefined {
    const r = this.getStmt.get({ id }) as Row | undefined;
    return r && toEmbeddingTable(r);
  }

  /** Oldest first. */
  list(): EmbeddingTableRow[] {
    return (this.listStmt.all() as Row[]).map(toEmbeddingTable);
  }

  delete(id: string): void {
    this.deleteStmt.run({ id });
  }
}
