/**
 * The `probes` table: cached zero-shot probe results, by cache key.
 *
 * @example
 * const probes = new ProbesTable(db);
 * probes.put({ cacheKey, paintingId, modelFingerprint, result: { dimensions: [] } });
 * probes.get(cacheKey)?.result;
 */
import type Database from 'better-sqlite3';
import { json, now, type Row } from './common.ts';

/** A cached zero-shot probe result. */
export interface ProbeRow {
  cacheKey: string;
  paintingId: string;
  modelFingerprint: string;
  result: Record<string, unknown>;
  createdAt: string;
}

/**
 * Statements on `probes`.
 *
 * @example
 * new ProbesTable(db).deleteByPainting(paintingId);
 */
export class ProbesTable {
  private readonly putStmt: Database.Statement;
  private readonly getStmt: Database.Statement;
  private readonly deleteByPaintingStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.putStmt = db.prepare(
      `INSERT OR REPLACE INTO probes (cache_key, painting_id, model_fingerprint, result, created_at)
       VALUES (@cacheKey, @paintingId, @modelFingerprint, @result, @createdAt)`,
    );
    this.getStmt = db.prepare('SELECT * FROM probes WHERE cache_key = @cacheKey');
    this.deleteByPaintingStmt = db.prepare('DELETE FROM probes WHERE painting_id = @paintingId');
  }

  get(cacheKey: string): ProbeRow | undefined {
    const r = this.getStmt.get({ cacheKey }) as Row | undefined;
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

  /** Stores a result (replacing one with the same key), created now. */
  put(p: Omit<ProbeRow, 'createdAt'>): void {
    this.putStmt.run({
      cacheKey: p.cacheKey,
      paintingId: p.paintingId,
      modelFingerprint: p.modelFingerprint,
      result: json(p.result),
      createdAt: now(),
    });
  }

  deleteByPainting(paintingId: string): void {
    this.deleteByPaintingStmt.run({ paintingId });
  }
}
