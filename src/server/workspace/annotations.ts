/**
 * The `annotations` table: W3C Web Annotation documents on a painting, stored as JSON.
 *
 * @example
 * const annotations = new AnnotationsTable(db);
 * annotations.insert(randomUUID(), paintingId, { type: 'Annotation', body: [] });
 * annotations.listByPainting(paintingId).length; // 1
 */
import type Database from 'better-sqlite3';
import { json, now, type Row } from './common.ts';

/** A stored annotation. */
export interface AnnotationRow {
  id: string;
  paintingId: string;
  doc: Record<string, unknown>;
  createdAt: string;
  modifiedAt: string;
}

function toAnnotation(r: Row): AnnotationRow {
  return {
    id: r.id as string,
    paintingId: r.painting_id as string,
    doc: JSON.parse(r.doc as string),
    createdAt: r.created_at as string,
    modifiedAt: r.modified_at as string,
  };
}

/**
 * Statements on `annotations`.
 *
 * @example
 * new AnnotationsTable(db).get(id)?.doc;
 */
export class AnnotationsTable {
  private readonly insertStmt: Database.Statement;
  private readonly getStmt: Database.Statement;
  private readonly listStmt: Database.Statement;
  private readonly updateStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private readonly deleteByPaintingStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO annotations (id, painting_id, doc, created_at, modified_at)
       VALUES (@id, @paintingId, @doc, @createdAt, @modifiedAt)`,
    );
    this.getStmt = db.prepare('SELECT * FROM annotations WHERE id = @id');
    this.listStmt = db.prepare(
      'SELECT * FROM annotations WHERE painting_id = @paintingId ORDER BY created_at, id',
    );
    this.updateStmt = db.prepare(
      'UPDATE annotations SET doc = @doc, modified_at = @modifiedAt WHERE id = @id',
    );
    this.deleteStmt = db.prepare('DELETE FROM annotations WHERE id = @id');
    this.deleteByPaintingStmt = db.prepare('DELETE FROM annotations WHERE painting_id = @paintingId');
  }

  /** Adds an annotation, created and modified now. */
  insert(id: string, paintingId: string, doc: Record<string, unknown>): void {
    const t = now();
    this.insertStmt.run({ id, paintingId, doc: json(doc), createdAt: t, modifiedAt: t });
  }

  get(id: string): AnnotationRow | undefined {
    const r = this.getStmt.get({ id }) as Row | undefined;
    return r && toAnnotation(r);
  }

  /** A painting's annotations, oldest first. */
  listByPainting(paintingId: string): AnnotationRow[] {
    return (this.listStmt.all({ paintingId }) as Row[]).map(toAnnotation);
  }

  /** Replaces the document; modified now. */
  update(id: string, doc: Record<string, unknown>): void {
    this.updateStmt.run({ id, doc: json(doc), modifiedAt: now() });
  }

  /** True when a row was deleted. */
  delete(id: string): boolean {
    return this.deleteStmt.run({ id }).changes > 0;
  }

  deleteByPainting(paintingId: string): void {
    this.deleteByPaintingStmt.run({ paintingId });
  }
}
