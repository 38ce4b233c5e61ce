/**
 * The `jobs` table: explanation jobs in creation order (`seq`), with their state, progress, and the result
 * (which names the `maps/<mapsJob>/` folder holding the maps; a cache hit shares the original job's folder).
 *
 * @example
 * const jobs = new JobsTable(db);
 * jobs.insert({ id, state: 'queued', paintingId, modelId, modelFingerprint, method: 'chefer-all', params: {},
 *   target, view: 'squash', cacheKey, cachedFrom: null, result: null });
 * jobs.markRunning(id);
 */
import type Database from 'better-sqlite3';
import { json, now, type Row } from './common.ts';

/** Where a job is in its life. */
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** A stored job. */
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

/** What a new job's row is made from (the rest starts empty). */
export type NewJob = Omit<
  JobRow,
  'progress' | 'attempts' | 'error' | 'createdAt' | 'startedAt' | 'finishedAt'
> & {
  error?: string;
};

/** Filter of {@link JobsTable.list}. */
export interface JobFilter {
  state?: JobState;
  paintingId?: string;
  limit?: number;
  offset?: number;
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

/**
 * Statements on `jobs`.
 *
 * @example
 * new JobsTable(db).list({ state: 'done', limit: 10 });
 */
export class JobsTable {
  private readonly insertStmt: Database.Statement;
  private readonly getStmt: Database.Statement;
  private readonly listStmts = new Map<string, Database.Statement>();
  private readonly countStmt: Database.Statement;
  private readonly findCachedStmt: Database.Statement;
  private readonly markRunningStmt: Database.Statement;
  private readonly setProgressStmt: Database.Statement;
  private readonly finishStmt: Database.Statement;
  private readonly requeueStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private readonly idsOfPaintingStmt: Database.Statement;
  private readonly deleteByPaintingStmt: Database.Statement;
  private readonly mapsUsersStmt: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO jobs (id, state, painting_id, model_id, model_fingerprint, method, params, target, view, cache_key,
         cached_from, result, error, created_at, started_at, finished_at)
       VALUES (@id, @state, @paintingId, @modelId, @modelFingerprint, @method, @params, @target, @view, @cacheKey,
         @cachedFrom, @result, @error, @createdAt, @startedAt, @finishedAt)`,
    );
    this.getStmt = db.prepare('SELECT * FROM jobs WHERE id = @id');
    this.countStmt = db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state');
    this.findCachedStmt = db.prepare(
      "SELECT * FROM jobs WHERE cache_key = @cacheKey AND state = 'done' ORDER BY seq LIMIT 1",
    );
    this.markRunningStmt = db.prepare(
      "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = @startedAt, error = NULL WHERE id = @id",
    );
    this.setProgressStmt = db.prepare(
      'UPDATE jobs SET progress_done = @done, progress_total = @total WHERE id = @id',
    );
    this.finishStmt = db.prepare(
      `UPDATE jobs SET state = @state, result = @result, error = @error, cached_from = COALESCE(@cachedFrom, cached_from),
         finished_at = @finishedAt WHERE id = @id`,
    );
    this.requeueStmt = db.prepare("UPDATE jobs SET state = 'queued', started_at = NULL WHERE id = @id");
    this.deleteStmt = db.prepare('DELETE FROM jobs WHERE id = @id');
    this.idsOfPaintingStmt = db.prepare('SELECT id FROM jobs WHERE painting_id = @paintingId');
    this.deleteByPaintingStmt = db.prepare('DELETE FROM jobs WHERE painting_id = @paintingId');
    this.mapsUsersStmt = db.prepare(
      "SELECT COUNT(*) AS n FROM jobs WHERE json_extract(result, '$.mapsJob') = @mapsJob",
    );
  }

  /** Adds a job, created now; a job created `done` (a cache hit) is also started and finished now. */
  insert(j: NewJob): void {
    const t = now();
    const done = j.state === 'done';
    this.insertStmt.run({
      id: j.id,
      state: j.state,
      paintingId: j.paintingId,
      modelId: j.modelId,
      modelFingerprint: j.modelFingerprint,
      method: j.method,
      params: json(j.params),
      target: json(j.target),
      view: j.view,
      cacheKey: j.cacheKey,
      cachedFrom: j.cachedFrom,
      result: j.result ? json(j.result) : null,
      error: j.error ?? null,
      createdAt: t,
      startedAt: done ? t : null,
      finishedAt: done ? t : null,
    });
  }

  get(id: string): JobRow | undefined {
    const r = this.getStmt.get({ id }) as Row | undefined;
    return r && toJob(r);
  }

  /** Jobs in creation order, filtered (at most 1000 unless `limit` says). */
  list(filter: JobFilter = {}): JobRow[] {
    const where: string[] = [];
    if (filter.state !== undefined) where.push('state = @state');
    if (filter.paintingId !== undefined) where.push('painting_id = @paintingId');
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT @limit OFFSET @offset`;
    let stmt = this.listStmts.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.listStmts.set(sql, stmt);
    }
    return (
      stmt.all({
        state: filter.state ?? null,
        paintingId: filter.paintingId ?? null,
        limit: filter.limit ?? 1000,
        offset: filter.offset ?? 0,
      }) as Row[]
    ).map(toJob);
  }

  /** Jobs by state, and in all. */
  count(): Record<JobState | 'total', number> {
    const out = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0, total: 0 };
    for (const r of this.countStmt.all() as { state: JobState; n: number }[]) {
      out[r.state] = r.n;
      out.total += r.n;
    }
    return out;
  }

  /** The first finished job with this cache key. */
  findCached(cacheKey: string): JobRow | undefined {
    const r = this.findCachedStmt.get({ cacheKey }) as Row | undefined;
    return r && toJob(r);
  }

  /** Running now: one more attempt, the last error cleared. */
  markRunning(id: string): void {
    this.markRunningStmt.run({ id, startedAt: now() });
  }

  setProgress(id: string, done: number, total: number): void {
    this.setProgressStmt.run({ id, done, total });
  }

  /** Final state, finished now (`cachedFrom` kept when not given). */
  finish(
    id: string,
    state: 'done' | 'failed' | 'cancelled',
    extra: { result?: JobResult; error?: string; cachedFrom?: string } = {},
  ): void {
    this.finishStmt.run({
      id,
      state,
      result: extra.result ? json(extra.result) : null,
      error: extra.error ?? null,
      cachedFrom: extra.cachedFrom ?? null,
      finishedAt: now(),
    });
  }

  requeue(id: string): void {
    this.requeueStmt.run({ id });
  }

  delete(id: string): void {
    this.deleteStmt.run({ id });
  }

  /** Ids of a painting's jobs. */
  idsOfPainting(paintingId: string): string[] {
    return (this.idsOfPaintingStmt.all({ paintingId }) as { id: string }[]).map((r) => r.id);
  }

  deleteByPainting(paintingId: string): void {
    this.deleteByPaintingStmt.run({ paintingId });
  }

  /** How many jobs' results point at the maps folder `maps/<mapsJob>/`. */
  mapsUsers(mapsJob: string): number {
    return (this.mapsUsersStmt.get({ mapsJob }) as { n: number }).n;
  }
}
