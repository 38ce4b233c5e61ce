/**
 * Batches: one request runs prompts (or a probe dimension: each painting's catalog label) × methods over a set of
 * paintings as ordinary explanation jobs (cached results are reused), kept together as a batch with overall
 * progress, an ETA, cancel and resume. A batch is a JSON file `batches/<id>.json` in the workspace (written
 * atomically), its jobs are the workspace's jobs, so both survive a restart (the job queue re-queues unfinished
 * jobs when the server starts again).
 *
 * Its summary scores every finished map against the expert regions of its painting, exactly as
 * `artprobe regions score` does (the map in painting pixels, each region rasterised at the painting's size,
 * `scoreMap` with a 15 px pointing tolerance). Scores are computed in the background as jobs finish (yielding
 * between maps, so the server stays responsive) and kept in `batches/<id>.scores.json`, keyed by the map, the
 * region and the region's last change, so an edited region is scored again and nothing else is.
 *
 * Also here: the catalog's true label of a painting for a probe dimension (`GET /api/paintings/:id/catalog-truth`),
 * which the UI marks among CLIP's answers and a dimension batch explains.
 *
 * @example
 * POST /api/batches { "paintingIds": [...], "methods": ["rollout", "chefer-last"], "prompts": ["a face"] }
 * GET  /api/batches/<id>            -> { counts, fraction, etaSeconds, state }
 * POST /api/batches/<id>/cancel     -> the batch, its queued and running jobs cancelled
 * POST /api/batches/<id>/resume     -> cancelled or failed jobs queued again
 * GET  /api/batches/<id>/summary    -> { state: 'computing' | 'ready', rows: [...] }
 * GET  /api/batches/<id>/summary.csv
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { Type } from 'typebox';
import { isMethodId } from '../../attribution/method-params.ts';
import { describeTarget, type TargetSpec } from '../../attribution/target.ts';
import type { ViewKind } from '../../attribution/views.ts';
import { encodeNpy, readNpy } from '../../core/npy.ts';
import { resizeBilinear } from '../../core/resize-map.ts';
import { createLabelMatcher, type SuiteDimension } from '../../probe/suites.ts';
import { scoreMap } from '../../regions/metrics.ts';
import { rasterizeRegion } from '../../regions/rasterize.ts';
import type { Region } from '../../regions/region.ts';
import { writeW3CAnnotations } from '../../regions/w3c.ts';
import { AGREEMENT_METRICS, type AgreementRow, agreementCsv } from '../../report/summary.ts';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { HttpError } from '../jobs.ts';
import {
  BATCH,
  BATCH_CREATE,
  BATCH_QUERY,
  BATCH_SUMMARY,
  type Batch,
  type BatchSummary,
  CATALOG_TRUTH,
  CATALOG_TRUTH_QUERY,
  type CatalogTruth,
} from '../schemas/collections.ts';
import { binary, METRIC_NAMES, OK, PAINTING_PARAMS, UUID_PARAMS, withErrors } from '../schemas.ts';
import type { JobRow, PaintingRow, Workspace } from '../workspace.ts';
import { writeFileAtomic } from '../workspace.ts';
import { annotationRegion } from './annotations.ts';
import { mapFile } from './maps.ts';
import { requirePainting } from './paintings.ts';
import { loadNamedSuite } from './suites.ts';

/** Pointing-game tolerance of the summary, in pixels (the default of `artprobe regions score`). */
export const SUMMARY_TOLERANCE = 15;
/** Default longest side of the maps agreement is scored at (as the static report's `metricSide`). */
export const DEFAULT_METRIC_SIDE = 256;

/**
 * The size [h, w] a painting's map is scored at: longest side `side` (never enlarged; 0 = as is).
 *
 * @example
 * metricSize(546, 768, 256); // [182, 256]
 */
export function metricSize(h: number, w: number, side: number): [number, number] {
  if (!side || side >= Math.max(h, w)) return [h, w];
  const k = side / Math.max(h, w);
  return [Math.max(1, Math.round(h * k)), Math.max(1, Math.round(w * k))];
}

const sideOf = (rec: BatchRecord) => rec.metricSide ?? DEFAULT_METRIC_SIDE;

/** A finished job's map in painting pixels, resized to the batch's metric size. */
async function scoredMap(ws: Workspace, job: JobRow, side: number) {
  const map = await readNpy(mapFile(ws, job, 'painting'), 'float32');
  const [H, W] = map.shape;
  const [h, w] = metricSize(H, W, side);
  const data =
    h === H && w === W ? (map.data as Float32Array) : resizeBilinear(map.data as Float32Array, H, W, h, w);
  return { data, h, w };
}

/** One painting × method × target of a batch and its current job. */
interface BatchItem {
  paintingId: string;
  method: string;
  target: TargetSpec;
  targetText: string;
  jobId: string;
}

/** A batch as stored in `batches/<id>.json`. */
interface BatchRecord {
  id: string;
  name: string;
  createdAt: string;
  view: ViewKind;
  methods: string[];
  prompts: string[];
  probe: { suite: string; dimension: string } | null;
  /** Longest side agreement is scored at (0: painting pixels); missing in batches of older versions: 256. */
  metricSide?: number;
  paintingIds: string[];
  items: BatchItem[];
  notes: string[];
}

/** Catalog fields that may hold the truth of a dimension of the default suites (besides its own name). */
const TRUTH_FIELDS: Record<string, string[]> = {
  century: ['year', 'period'],
  'half-century': ['year', 'period'],
  content: ['scene', 'content'],
  'scene-type': ['scene'],
  origin: ['origin'],
};

/**
 * The catalog's value of a painting for a dimension and the dimension's label it matches (the zero-shot
 * evaluation's matcher: ids, aliases, year ranges, parenthesised parts).
 *
 * @example
 * catalogTruth({ style: 'Dutch Golden Age (Baroque)' }, styleDimension); // { field: 'style', value: …, label: 'Baroque' }
 */
export function catalogTruth(
  metadata: Record<string, unknown> | null | undefined,
  dim: SuiteDimension,
): { field: string | null; value: string | null; label: string | null } {
  const match = createLabelMatcher(dim);
  let first: { field: string; value: string } | undefined;
  for (const field of [...new Set([dim.name, ...(TRUTH_FIELDS[dim.name] ?? [])])]) {
    const v = metadata?.[field];
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    first ??= { field, value: String(v) };
    const label = match(v);
    if (label !== undefined) return { field, value: String(v), label };
  }
  return { field: first?.field ?? null, value: first?.value ?? null, label: null };
}

/** The label target of a dimension for one of its labels (the zero-shot probe's explain target). */
function labelTarget(dim: SuiteDimension, label: string): TargetSpec {
  return {
    kind: 'label',
    label,
    labels: dim.labels.map((l) => l.id),
    prompts: dim.labels.map((l) => l.prompts),
  };
}

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

/** Scores of one map × region, as cached. */
type Scores = Partial<Record<(typeof AGREEMENT_METRICS)[number], number | null>> & { area: number };

/**
 * Scores the finished maps of a batch in the background (one at a time, yielding between maps) and keeps them
 * in `batches/<id>.scores.json`.
 */
class BatchScorer {
  private cache = new Map<string, Scores>();
  private running?: Promise<void>;
  private again = false;
  private dirty = false;
  readonly file: string;

  constructor(
    private readonly ws: Workspace,
    dir: string,
    readonly id: string,
  ) {
    this.file = join(dir, `${id}.scores.json`);
    if (existsSync(this.file)) {
      try {
        const doc = JSON.parse(readFileSync(this.file, 'utf8')) as { entries?: Record<string, Scores> };
        for (const [k, v] of Object.entries(doc.entries ?? {})) this.cache.set(k, v);
      } catch {
        /* a damaged cache is recomputed */
      }
    }
  }

  /** Cache key of a map and a region in its current state, at a metric size. */
  static key(job: JobRow, a: { id: string; modifiedAt: string }, side: number): string {
    return `${job.result?.mapsJob}|${a.id}|${a.modifiedAt}|${SUMMARY_TOLERANCE}|${side}`;
  }

  get(key: string): Scores | undefined {
    return this.cache.get(key);
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Starts scoring what is missing (or asks the running pass to look again when it ends). */
  kick(rec: BatchRecord): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.pass(rec);
        } while (this.again);
      } finally {
        this.running = undefined;
        if (this.dirty) await this.save().catch(() => undefined);
      }
    })();
    return this.running;
  }

  private async save(): Promise<void> {
    this.dirty = false;
    await writeFileAtomic(
      this.file,
      JSON.stringify({ version: 1, tolerance: SUMMARY_TOLERANCE, entries: Object.fromEntries(this.cache) }),
    );
  }

  private async pass(rec: BatchRecord): Promise<void> {
    let sinceSave = 0;
    for (const item of rec.items) {
      const job = this.ws.getJob(item.jobId);
      if (job?.state !== 'done' || !job.result) continue;
      const p = this.ws.getPainting(item.paintingId);
      if (!p) continue;
      const annotations = this.ws.listAnnotations(p.id);
      const side = sideOf(rec);
      const missing = annotations.filter((a) => !this.cache.has(BatchScorer.key(job, a, side)));
      if (!missing.length) continue;
      let map: Awaited<ReturnType<typeof scoredMap>>;
      try {
        map = await scoredMap(this.ws, job, side);
      } catch {
        continue; // maps gone: left out of the summary
      }
      const { h: H, w: W } = map;
      for (const a of missing) {
        let scores: Scores;
        try {
          // the region knows the painting's size, so it is scaled to the map's
          const region = annotationRegion(a.doc, p);
          const mask = rasterizeRegion(region, H, W);
          const area = mask.reduce((s, v) => s + v, 0);
          scores = { area };
          if (area > 0) {
            const s = scoreMap(map.data, H, W, { mask, tolerance: SUMMARY_TOLERANCE });
            for (const k of METRIC_NAMES) scores[k] = Number.isFinite(s[k]) ? s[k] : null;
          }
        } catch {
          scores = { area: 0 };
        }
        this.cache.set(BatchScorer.key(job, a, side), scores);
        this.dirty = true;
        // let requests in between two maps' worth of sorting
        await new Promise((r) => setImmediate(r));
        if (++sinceSave >= 50) {
          sinceSave = 0;
          await this.save().catch(() => undefined);
        }
      }
    }
  }
}

export function registerBatchRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws, queue } = ctx;
  const tags = ['batches'];
  const dir = join(ws.root, 'batches');
  mkdirSync(dir, { recursive: true });
  const batches = new Map<string, BatchRecord>();
  for (const f of readdirSync(dir)) {
    if (!/^[0-9a-f-]{36}\.json$/.test(f)) continue;
    try {
      const rec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as BatchRecord;
      batches.set(rec.id, rec);
    } catch {
      app.log.warn(`batches/${f} cannot be read; left out`);
    }
  }
  const scorers = new Map<string, BatchScorer>();
  const scorer = (rec: BatchRecord) => {
    const s = scorers.get(rec.id) ?? new BatchScorer(ws, dir, rec.id);
    scorers.set(rec.id, s);
    return s;
  };
  const save = (rec: BatchRecord) => writeFileAtomic(join(dir, `${rec.id}.json`), JSON.stringify(rec));
  const requireBatch = (id: string): BatchRecord => {
    const b = batches.get(id);
    if (!b) throw new HttpError(404, `batch ${id} not found`);
    return b;
  };

  /** Scores each job's map as soon as it is done. */
  const follow = (rec: BatchRecord, jobIds: string[]) => {
    for (const id of jobIds) {
      const j = ws.getJob(id);
      if (!j || TERMINAL.has(j.state)) continue;
      const off = queue.subscribe(id, (ev) => {
        if (ev.type !== 'state' || !TERMINAL.has(ev.job.state)) return;
        off();
        if (ev.job.state === 'done' && batches.has(rec.id))
          void scorer(rec)
            .kick(rec)
            .catch(() => undefined);
      });
    }
  };
  // after a restart: follow the jobs the queue has re-queued
  for (const rec of batches.values())
    follow(
      rec,
      rec.items.map((i) => i.jobId),
    );

  /** A job for an item: created (a finished identical job answers at once). */
  const createJob = (rec: BatchRecord, i: Omit<BatchItem, 'jobId'>): string =>
    queue.create({ paintingId: i.paintingId, method: i.method, target: i.target, view: rec.view }).job.id;

  const present = (rec: BatchRecord, withItems = false): Batch => {
    const counts = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
    let work = 0;
    let first: number | undefined;
    let last: number | undefined;
    const items: NonNullable<Batch['items']> = [];
    const live = rec.items.filter((i) => ws.getPainting(i.paintingId));
    for (const i of live) {
      const j = ws.getJob(i.jobId);
      const state = (j?.state ?? 'cancelled') as keyof typeof counts;
      counts[state]++;
      if (TERMINAL.has(state)) work += 1;
      else if (j && state === 'running' && j.progress.total > 0) work += j.progress.done / j.progress.total;
      if (j?.startedAt) first = Math.min(first ?? Number.POSITIVE_INFINITY, Date.parse(j.startedAt));
      if (j?.finishedAt) last = Math.max(last ?? 0, Date.parse(j.finishedAt));
      if (withItems)
        items.push({
          paintingId: i.paintingId,
          method: i.method,
          target: i.targetText,
          jobId: i.jobId,
          state,
          done: j?.progress.done ?? 0,
          total: j?.progress.total ?? 0,
          error: j ? j.error : 'the job was deleted',
        });
    }
    const total = live.length;
    const active = counts.queued + counts.running;
    const elapsed = first !== undefined ? (Date.now() - first) / 1000 : 0;
    const eta = active && work >= 1 && elapsed > 0 ? (elapsed * (total - work)) / work : null;
    const state = active
      ? 'running'
      : counts.cancelled
        ? 'cancelled'
        : counts.failed
          ? 'failed'
          : ('done' as const);
    const notes = [...rec.notes];
    if (live.length < rec.items.length)
      notes.push(`${rec.items.length - live.length} job(s) of deleted paintings are left out`);
    return {
      id: rec.id,
      name: rec.name,
      createdAt: rec.createdAt,
      view: rec.view,
      methods: rec.methods,
      prompts: rec.prompts,
      probe: rec.probe,
      metricSide: sideOf(rec),
      paintings: new Set(live.map((i) => i.paintingId)).size,
      total,
      counts,
      state,
      fraction: total ? work / total : 1,
      etaSeconds: eta === null ? null : Math.round(eta),
      startedAt: first !== undefined ? new Date(first).toISOString() : null,
      finishedAt: !active && last !== undefined ? new Date(last).toISOString() : null,
      notes,
      ...(withItems ? { items } : {}),
    };
  };

  app.post(
    '/api/batches',
    {
      schema: {
        summary: 'run prompts (or a probe dimension) × methods over paintings as one batch of jobs',
        tags,
        body: BATCH_CREATE,
        response: withErrors({ 201: BATCH }, 404, 503),
      },
    },
    async (req, reply) => {
      const body = req.body;
      const methods = [...new Set(body.methods)];
      for (const m of methods) if (!isMethodId(m)) throw new HttpError(400, `unknown method "${m}"`);
      const prompts = [...new Set((body.prompts ?? []).map((p) => p.trim()).filter(Boolean))];
      if (!prompts.length && !body.probe) throw new HttpError(400, 'give prompts or a probe dimension');
      const paintings: PaintingRow[] = [...new Set(body.paintingIds)].map((id) => requirePainting(ws, id));
      const notes: string[] = [];
      let dim: SuiteDimension | undefined;
      if (body.probe) {
        const { suite } = await loadNamedSuite(ws.dir('suites'), body.probe.suite);
        dim = suite.dimensions.find((d) => d.name === body.probe?.dimension);
        if (!dim)
          throw new HttpError(
            400,
            `suite ${body.probe.suite} has no dimension "${body.probe.dimension}" (it has: ${suite.dimensions.map((d) => d.name).join(', ')})`,
          );
      }
      const rec: BatchRecord = {
        id: randomUUID(),
        name:
          body.name?.trim() ||
          `${[...prompts.map((p) => `“${p}”`), ...(dim ? [`${dim.name} (catalog label)`] : [])].join(', ')} × ${methods.join(', ')}`,
        createdAt: new Date().toISOString(),
        view: (body.view ?? 'pad') as ViewKind,
        methods,
        prompts,
        probe: body.probe ?? null,
        metricSide: body.metricSide ?? DEFAULT_METRIC_SIDE,
        paintingIds: paintings.map((p) => p.id),
        items: [],
        notes,
      };
      const wanted: Omit<BatchItem, 'jobId'>[] = [];
      for (const p of paintings) {
        const targets: TargetSpec[] = prompts.map((prompt) => ({ kind: 'prompt', prompt }));
        if (dim) {
          const t = catalogTruth(p.metadata, dim);
          if (t.label) targets.push(labelTarget(dim, t.label));
          else
            notes.push(
              `${p.name}: no catalog label for ${dim.name}${t.value ? ` (“${t.value}” matches no label)` : ''}`,
            );
        }
        for (const method of methods)
          for (const target of targets)
            wanted.push({ paintingId: p.id, method, target, targetText: describeTarget(target) });
      }
      if (!wanted.length) throw new HttpError(400, `nothing to run: ${notes.slice(0, 3).join('; ')}`);
      for (const w of wanted) rec.items.push({ ...w, jobId: createJob(rec, w) });
      await save(rec);
      batches.set(rec.id, rec);
      follow(
        rec,
        rec.items.map((i) => i.jobId),
      );
      void scorer(rec)
        .kick(rec)
        .catch(() => undefined); // cached results are scored at once
      reply.code(201);
      return present(rec);
    },
  );

  app.get(
    '/api/batches',
    {
      schema: { summary: 'list batches (newest first)', tags, response: { 200: Type.Array(BATCH) } },
    },
    async () =>
      [...batches.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map((r) => present(r)),
  );

  app.get(
    '/api/batches/:id',
    {
      schema: {
        summary: 'a batch: counts by state, progress, ETA (and every job with items=true)',
        tags,
        params: UUID_PARAMS,
        querystring: BATCH_QUERY,
        response: withErrors({ 200: BATCH }, 404),
      },
    },
    async (req) => present(requireBatch(req.params.id), req.query.items === true),
  );

  app.post(
    '/api/batches/:id/cancel',
    {
      schema: {
        summary: "cancel a batch's queued and running jobs (finished maps stay)",
        tags,
        params: UUID_PARAMS,
        response: withErrors({ 200: BATCH }, 404),
      },
    },
    async (req) => {
      const rec = requireBatch(req.params.id);
      // queued ones first, so that cancelling a running job does not start the next one
      for (const state of ['queued', 'running'])
        for (const i of rec.items) if (ws.getJob(i.jobId)?.state === state) await queue.cancel(i.jobId);
      return present(rec);
    },
  );

  app.post(
    '/api/batches/:id/resume',
    {
      schema: {
        summary: "queue a batch's cancelled and failed jobs again",
        tags,
        params: UUID_PARAMS,
        response: withErrors({ 200: BATCH }, 404, 503),
      },
    },
    async (req) => {
      const rec = requireBatch(req.params.id);
      const fresh: string[] = [];
      for (const i of rec.items) {
        if (!ws.getPainting(i.paintingId)) continue;
        const j = ws.getJob(i.jobId);
        if (j && !['failed', 'cancelled'].includes(j.state)) continue;
        i.jobId = createJob(rec, i);
        fresh.push(i.jobId);
      }
      await save(rec);
      follow(rec, fresh);
      void scorer(rec)
        .kick(rec)
        .catch(() => undefined);
      return present(rec);
    },
  );

  app.delete(
    '/api/batches/:id',
    {
      schema: {
        summary: 'delete a batch (its unfinished jobs are cancelled; finished maps stay in the workspace)',
        tags,
        params: UUID_PARAMS,
        response: withErrors({ 200: OK }, 404),
      },
    },
    async (req) => {
      const rec = requireBatch(req.params.id);
      for (const i of rec.items) await queue.cancel(i.jobId);
      batches.delete(rec.id);
      scorers.delete(rec.id);
      await rm(join(dir, `${rec.id}.json`), { force: true });
      await rm(join(dir, `${rec.id}.scores.json`), { force: true });
      return { ok: true };
    },
  );

  /** The summary rows scored so far. */
  const summary = (rec: BatchRecord): BatchSummary => {
    const s = scorer(rec);
    const rows: BatchSummary['rows'] = [];
    const notes: string[] = [];
    let maps = 0;
    let scored = 0;
    let pending = 0;
    let missingScores = false;
    const noRegions = new Set<string>();
    for (const i of rec.items) {
      const p = ws.getPainting(i.paintingId);
      if (!p) continue;
      const job = ws.getJob(i.jobId);
      if (job?.state !== 'done' || !job.result) {
        if (job && !TERMINAL.has(job.state)) pending++;
        continue;
      }
      maps++;
      const annotations = ws.listAnnotations(p.id);
      if (!annotations.length) noRegions.add(p.name);
      let complete = true;
      for (const a of annotations) {
        const sc = s.get(BatchScorer.key(job, a, sideOf(rec)));
        if (!sc) {
          complete = false;
          continue;
        }
        let label = '';
        let dimension = '';
        try {
          const r = annotationRegion(a.doc, p);
          label = r.label;
          dimension = r.dimension ?? '';
        } catch {
          continue;
        }
        const row: AgreementRow & BatchSummary['rows'][number] = {
          painting: p.name,
          paintingId: p.id,
          ...(typeof p.metadata?.title === 'string' ? { title: p.metadata.title as string } : {}),
          method: i.method,
          target: i.targetText,
          regionId: a.id,
          region: label,
          dimension,
          area: sc.area,
          jobId: job.id,
          score: job.result.score,
        };
        for (const k of AGREEMENT_METRICS) if (sc[k] !== undefined) row[k] = sc[k];
        rows.push(row);
      }
      if (complete) scored++;
      else missingScores = true;
    }
    if (noRegions.size)
      notes.push(
        `${noRegions.size} painting(s) have no expert regions: ${[...noRegions].slice(0, 5).join(', ')}`,
      );
    notes.push(
      'deletion and insertion (faithfulness) need the model to score perturbed paintings; the server does not compute them yet',
    );
    return {
      batchId: rec.id,
      state: missingScores || s.busy ? 'computing' : 'ready',
      scored,
      maps,
      pending,
      tolerance: SUMMARY_TOLERANCE,
      metricSide: sideOf(rec),
      rows,
      notes,
    };
  };

  app.get(
    '/api/batches/:id/summary',
    {
      schema: {
        summary: "agreement of the batch's finished maps with expert regions (scored in the background)",
        tags,
        params: UUID_PARAMS,
        response: withErrors({ 200: BATCH_SUMMARY }, 404),
      },
    },
    async (req) => {
      const rec = requireBatch(req.params.id);
      const out = summary(rec);
      if (out.state === 'computing')
        void scorer(rec)
          .kick(rec)
          .catch(() => undefined);
      return out;
    },
  );

  app.get(
    '/api/batches/:id/summary.csv',
    {
      schema: {
        summary: 'the summary rows as CSV (waits until every finished map is scored)',
        tags,
        params: UUID_PARAMS,
        response: withErrors(
          { 200: binary('one row per painting × region × method × target', 'text/csv') },
          404,
        ),
      },
    },
    async (req, reply) => {
      const rec = requireBatch(req.params.id);
      let out = summary(rec);
      for (let k = 0; out.state === 'computing' && k < 5; k++) {
        await scorer(rec).kick(rec);
        out = summary(rec);
      }
      const slug =
        rec.name
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-+|-+$/g, '')
          .slice(0, 60) || 'batch';
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="artprobe-agreement-${slug}.csv"`);
      return reply.send(agreementCsv(out.rows));
    },
  );

  app.get(
    '/api/batches/:id/maps.zip',
    {
      schema: {
        summary:
          'the maps the summary scored, as an `artprobe explain` folder (manifest.json, maps/*.npy) with the regions (annotations.jsonld), for `artprobe regions score`',
        tags,
        params: UUID_PARAMS,
        response: withErrors({ 200: binary('a zip', 'application/zip') }, 404),
      },
    },
    async (req, reply) => {
      const rec = requireBatch(req.params.id);
      const side = sideOf(rec);
      const files: Record<string, Uint8Array> = {};
      const entries: Record<string, unknown>[] = [];
      const regions: Region[] = [];
      const seen = new Set<string>();
      let model = '';
      for (const i of rec.items) {
        const p = ws.getPainting(i.paintingId);
        const job = ws.getJob(i.jobId);
        if (!p || job?.state !== 'done' || !job.result) continue;
        model ||= job.modelId;
        let map: Awaited<ReturnType<typeof scoredMap>>;
        try {
          map = await scoredMap(ws, job, side);
        } catch {
          continue;
        }
        files[`maps/${job.id}.npy`] = encodeNpy(map.data, [map.h, map.w]);
        entries.push({
          image: p.name,
          method: i.method,
          target: i.targetText,
          target_spec: i.target,
          score: job.result.score,
          signed: job.result.signed,
          view: job.view,
          painting_size: job.result.paintingSize,
          map_painting: `maps/${job.id}.npy`,
          job: job.id,
        });
        if (seen.has(p.id)) continue;
        seen.add(p.id);
        for (const a of ws.listAnnotations(p.id)) {
          try {
            const r = annotationRegion(a.doc, p);
            regions.push({
              ...r,
              id: `urn:uuid:${a.id}`,
              source: p.name,
              imageSize: { width: p.width, height: p.height },
            });
          } catch {
            /* not a usable region: left out, as in the summary */
          }
        }
      }
      const enc = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 1)}\n`);
      files['manifest.json'] = enc({
        model,
        batch: rec.id,
        name: rec.name,
        metricSide: side,
        note: `maps resized to a longest side of ${side || 'the painting'} px, as the summary scored them`,
        entries,
      });
      files['annotations.jsonld'] = enc(
        writeW3CAnnotations(regions, { id: `urn:artprobe:batch:${rec.id}:regions` }),
      );
      files['README.txt'] = new TextEncoder().encode(
        `The maps artprobe's summary of batch "${rec.name}" scored, and the regions it scored them against.\n` +
          'Reproduce its numbers with:\n  artprobe regions score --explanations . --annotations annotations.jsonld --json\n',
      );
      const zip = zipSync(files, { level: 1 });
      const slug =
        rec.name
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-+|-+$/g, '')
          .slice(0, 60) || 'batch';
      reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="artprobe-maps-${slug}.zip"`);
      return reply.send(Buffer.from(zip));
    },
  );

  app.get(
    '/api/paintings/:id/catalog-truth',
    {
      schema: {
        summary: "the catalog's label of a painting for a probe dimension (null when it has none)",
        tags: ['probes'],
        params: PAINTING_PARAMS,
        querystring: CATALOG_TRUTH_QUERY,
        response: withErrors({ 200: CATALOG_TRUTH }, 404),
      },
    },
    async (req): Promise<CatalogTruth> => {
      const p = requirePainting(ws, req.params.id);
      const { suite, dimension } = req.query;
      const loaded = await loadNamedSuite(ws.dir('suites'), suite);
      const dim = loaded.suite.dimensions.find((d) => d.name === dimension);
      if (!dim) throw new HttpError(404, `suite ${suite} has no dimension "${dimension}"`);
      return { paintingId: p.id, dimension, ...catalogTruth(p.metadata, dim) };
    },
  );
}
