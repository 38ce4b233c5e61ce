/**
 * The `image_embeddings` table: CLIP image embeddings (float32 BLOBs) per model fingerprint × painting.
 *
 * @example
 * const emb = new ImageEmbeddingsTable(db);
 * emb.put(fingerprint, [{ id: paintingId, vector }]);
 * emb.get(fingerprint, [paintingId]).get(paintingId); // Float32Array
 */
import type Database from 'better-sqlite3';
import { now } from './common.ts';

/**
 * Statements on `image_embeddings`.
 *
 * @example
 * new ImageEmbeddingsTable(db).deleteByPainting(paintingId);
 */
export class ImageEmbeddingsTable {
  private readonly getStmt: Database.Statement;
  private readonly putMany: (fingerprint: string, rows: { id: string; vector: Float32Array }[]) => void;
  private readonly deleteByPaintingStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.getStmt = db.prepare(
      'SELECT data FROM image_embeddings WHERE model_fingerprint = @fingerprint AND painting_id = @paintingId',
    );
    const put = db.prepare(
      `INSERT OR REPLACE INTO image_embeddings (model_fingerprint, painting_id, dims, data, created_at)
       VALUES (@fingerprint, @paintingId, @dims, @data, @createdAt)`,
    );
    this.putMany = db.transaction((fingerprint: string, rows: { id: string; vector: Float32Array }[]) => {
      for (const r of rows)
        put.run({
          fingerprint,
          paintingId: r.id,
          dims: r.vector.length,
          data: Buffer.from(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength),
          createdAt: now(),
        });
    });
    this.deleteByPaintingStmt = db.prepare('DELETE FROM image_embeddings WHERE painting_id = @paintingId');
  }

  /** Embeddings of these paintings under a model, by painting id (missing ones absent). */
  get(fingerprint: string, ids: string[]): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const paintingId of ids) {
      const r = this.getStmt.get({ fingerprint, paintingId }) as { data: Buffer } | undefined;
      // copy: the Buffer may share a pool, and Float32Array needs 4-byte alignment
      if (r) out.set(paintingId, new Float32Array(new Uint8Array(r.data).buffer));
    }
    return out;
  }

  /** Stores embeddings (replacing older ones) in one transaction. */
  put(fingerprint: string, rows: { id: string; vector: Float32Array }[]): void {
    this.putMany(fingerprint, rows);
  }

  deleteByPainting(paintingId: string): void {
    this.deleteByPaintingStmt.run({ paintingId });
  }
}
