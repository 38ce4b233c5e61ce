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
import { slugify } from '../../attribution/manifest.ts';
import { isMethodId } from '../../attribution/method-params.ts';
import { describeTarget, type TargetSpec } from '../../attribution/target.ts';
import type { ViewKind } from '../../attribution/views.ts';
import { encodeNpy, readNpy } from '../../core/npy.ts';
import { resizeBilinear } from '../../core/resize-map.ts';
import { createLabelMatcher, type SuiteDimension } from '../../probe/suites.ts';
import { DEFAULT_FAITHFULNESS_STEPS } from '../../regions/map-faithfulness.ts';
import type { Region } from '../../regions/region.ts';
import { writeW3CAnnotations } from '../../regions/w3c.ts';
import { AGREEMENT_METRICS, type AgreementRow, agreementCsv } from '../../report/summary.ts';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { type ComputePool, type MetricOutput, type MetricRegion, metricSize } from '../compute.ts';
import { HttpError } from '../jobs.ts';
import { ModelBusyError, type ModelHost, ModelUnavailableError } from '../model-host.ts';
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

/** Pointing-game tolerance of the summary, in pixels of the scored map (the default of `artprobe regions score`). */
export const SUMMARY_TOLERANCE = 15;
/**
 * Default longest side agreement is scored at: 0, the map as the job stored it (`painting.npy`: the painting's
 * pixels, or its copy within the map pixel budget, `--max-map-pixels`), which is what `artprobe regions score`
 * scores, so the numbers are the same. A positive side is an explicit reduction (faster on large paintings).
 */
export const DEFAULT_METRIC_SIDE = 0;
/** The side batches made before the default became painting pixels were scored at (their record has none). */
const LEGACY_METRIC_SIDE = 256;
/** How long a deletion / insertion request waits for a busy model worker before the pass stops (it is retried). */
const FAITHFULNESS_WAIT_MS = 10 * 60_000;

export { metricSize };

const sideOf = (rec: BatchRecord) => rec.metricSide ?? LEGACY_METRIC_SIDE;
const stepsOf = (rec: BatchRecord) => rec.faithfulnessSteps ?? DEFAULT_FAITHFULNESS_STEPS;

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
  /** Steps of the deletion / insertion games (0: not computed); missing in older batches: the default. */
  faithfulnessSteps?: number;
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

/** Deletion and insertion of one map, as cached (or why they could not be computed). */
type Faith =
  | { deletion: number; insertion: number; score: number; deletionCurve: number[]; insertionCurve: number[] }
  | { error: string };

/** What the scorer needs of the server. */
interface ScorerDeps {
  ws: Workspace;
  host: ModelHost;
  /** Pixel budget of the jobs (the faithfulness games decode the painting as the job did). */
  maxMapPixels: number;
  compute: ComputePool;
  /** True while deletion / insertion must wait (the batch is cancelled). */
  paused: (rec: BatchRecord) => boolean;
}

/**
 * Scores the finished maps of a batch in the background and keeps the scores in `batches/<id>.scores.json`:
 * first the agreement of every map with every region (in the metrics worker thread, one map at a time), then
 * deletion and insertion of every map of a painting with regions (on a model worker, one map at a time,
 * between the batch's jobs).
 */
class BatchScorer {
  private cache = new Map<string, Scores>();
  private faith = new Map<string, Faith>();
  private running?: Promise<void>;
  private again = false;
  private dirty = false;
  private closed = false;
  /** Why deletion / insertion stopped short in the last pass ('' when it did not). */
  faithNote = '';
  readonly file: string;

  constructor(
    private readonly deps: ScorerDeps,
    dir: string,
    readonly id: string,
  ) {
    this.file = join(dir, `${id}.scores.json`);
    if (existsSync(this.file)) {
      try {
        const doc = JSON.parse(readFileSync(this.file, 'utf8')) as {
          entries?: Record<string, Scores>;
          faithfulness?: Record<string, Faith>;
        };
        for (const [k, v] of Object.entries(doc.entries ?? {})) this.cache.set(k, v);
        for (const [k, v] of Object.entries(doc.faithfulness ?? {})) this.faith.set(k, v);
      } catch {
        /* a damaged cache is recomputed */
      }
    }
  }

  /** Cache key of a map and a region in its current state, at a metric size. */
  static key(job: JobRow, a: { id: string; modifiedAt: string }, side: number): string {
    return `${job.result?.mapsJob}|${a.id}|${a.modifiedAt}|${SUMMARY_TOLERANCE}|${side}`;
  }

  /** Cache key of a map's deletion / insertion at a step count. */
  static faithKey(job: JobRow, steps: number): string {
    return `${job.result?.mapsJob}|${steps}`;
  }

  get(key: string): Scores | undefined {
    return this.cache.get(key);
  }

  getFaith(key: string): Faith | undefined {
    return this.faith.get(key);
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Stops after the map in progress (the batch was deleted or the server closes). */
  close(): void {
    this.closed = true;
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
          await this.faithPass(rec);
        } while (this.again && !this.closed);
      } finally {
        this.running = undefined;
        if (this.dirty && !this.closed) await this.save().catch(() => undefined);
      }
    })();
    return this.running;
  }

  private async save(): Promise<void> {
    this.dirty = false;
    await writeFileAtomic(
      this.file,
      JSON.stringify({
        version: 2,
        tolerance: SUMMARY_TOLERANCE,
        entries: Object.fromEntries(this.cache),
        faithfulness: Object.fromEntries(this.faith),
      }),
    );
  }

  private async pass(rec: BatchRecord): Promise<void> {
    const { ws } = this.deps;
    let sinceSave = 0;
    for (const item of rec.items) {
      if (this.closed) return;
      const job = ws.getJob(item.jobId);
      if (job?.state !== 'done' || !job.result) continue;
      const p = ws.getPainting(item.paintingId);
      if (!p) continue;
      const side = sideOf(rec);
      const missing = ws.listAnnotations(p.id).filter((a) => !this.cache.has(BatchScorer.key(job, a, side)));
      if (!missing.length) continue;
      let file: string;
      try {
        file = mapFile(ws, job, 'painting');
      } catch {
        continue; // maps gone: left out of the summary
      }
      const regions: MetricRegion[] = [];
      const unusable: typeof missing = [];
      for (const a of missing) {
        try {
          // the region knows the painting's size, so it is scaled to the map's
          const { original: _original, ...region } = annotationRegion(a.doc, p);
          regions.push({
            annotationId: a.id,
            label: region.label,
            dimension: region.dimension ?? null,
            region,
          });
        } catch {
          unusable.push(a);
        }
      }
      for (const a of unusable) this.cache.set(BatchScorer.key(job, a, side), { area: 0 });
      let out: MetricOutput[] = [];
      try {
        // in the metrics worker thread: sorting every pixel of a painting-sized map stays off the HTTP thread
        out = regions.length
          ? await this.deps.compute.run({
              op: 'metrics',
              mapFile: file,
              regions,
              tolerance: SUMMARY_TOLERANCE,
              toleranceInMapPixels: true,
              paintingSize: [p.height, p.width],
              side,
            })
          : [];
      } catch {
        if (this.closed) return;
        continue; // the map could not be read: left out, tried again at the next pass
      }
      const byId = new Map(missing.map((a) => [a.id, a]));
      for (const r of out) {
        const a = byId.get(r.annotationId);
        if (!a) continue;
        const scores: Scores = { area: r.area };
        if (r.scores)
          for (const k of METRIC_NAMES) scores[k] = Number.isFinite(r.scores[k]) ? r.scores[k] : null;
        this.cache.set(BatchScorer.key(job, a, side), scores);
      }
      this.dirty = true;
      if (++sinceSave >= 20) {
        sinceSave = 0;
        await this.save().catch(() => undefined);
      }
    }
  }

  /**
   * Maps whose deletion / insertion the summary shows: finished, of a painting with regions, and computed
   * already or made with the loaded model (the games need the model that made the map).
   */
  faithTargets(rec: BatchRecord, steps: number): JobRow[] {
    const { ws, host } = this.deps;
    const out: JobRow[] = [];
    const seen = new Set<string>();
    for (const item of rec.items) {
      const job = ws.getJob(item.jobId);
      if (job?.state !== 'done' || !job.result || seen.has(job.result.mapsJob)) continue;
      if (!ws.getPainting(item.paintingId) || !ws.listAnnotations(item.paintingId).length) continue;
      seen.add(job.result.mapsJob);
      const otherModel = host.info !== undefined && host.info.fingerprint !== job.modelFingerprint;
      if (otherModel && !this.faith.has(BatchScorer.faithKey(job, steps))) {
        this.faithNote = `maps made with model ${job.modelId}, not the loaded ${host.info?.id}, get no deletion / insertion`;
        continue;
      }
      out.push(job);
    }
    return out;
  }

  private async faithPass(rec: BatchRecord): Promise<void> {
    const steps = stepsOf(rec);
    this.faithNote = '';
    if (!steps) return;
    if (this.deps.paused(rec)) {
      this.faithNote = 'paused while the batch is cancelled; Resume computes the rest';
      return;
    }
    const { ws, host } = this.deps;
    for (const job of this.faithTargets(rec, steps)) {
      if (this.closed) return;
      const key = BatchScorer.faithKey(job, steps);
      if (this.faith.has(key)) continue;
      const p = ws.getPainting(job.paintingId);
      if (!p) continue;
      if (host.state !== 'ready' || !host.info) {
        this.faithNote = `waiting for a model (state: ${host.state})`;
        return;
      }
      let rawFile: string;
      try {
        rawFile = mapFile(ws, job, 'raw');
      } catch {
        continue;
      }
      try {
        const { result } = await host.faithfulness(
          {
            image: ws.paintingFile(p),
            imageName: `painting "${p.name}"`,
            maxMapPixels: this.deps.maxMapPixels,
            view: job.view as ViewKind,
            target: job.target as TargetSpec,
            rawFile,
            steps,
          },
          { waitMs: FAITHFULNESS_WAIT_MS },
        );
        this.faith.set(key, {
          deletion: result.deletion,
          insertion: result.insertion,
          score: result.score,
          deletionCurve: result.deletionCurve,
          insertionCurve: result.insertionCurve,
        });
      } catch (e) {
        if (this.closed || e instanceof ModelBusyError || e instanceof ModelUnavailableError) {
          this.faithNote = (e as Error).message;
          return; // tried again at the next pass
        }
        if (host.state !== 'ready') return; // the model is being switched
        this.faith.set(key, { error: (e as Error).message });
      }
      this.dirty = true;
      if (this.faith.size % 10 === 0) await this.save().catch(() => undefined);
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
  const deps: ScorerDeps = {
    ws,
    host: ctx.host,
    maxMapPixels: queue.limits.maxMapPixels,
    compute: ctx.compute.metrics,
    paused: (rec) => present(rec).state === 'cancelled',
  };
  const scorer = (rec: BatchRecord) => {
    const s = scorers.get(rec.id) ?? new BatchScorer(deps, dir, rec.id);
    scorers.set(rec.id, s);
    return s;
  };
  app.addHook('onClose', async () => {
    for (const s of scorers.values()) s.close();
  });
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
      faithfulnessSteps: stepsOf(rec),
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
        faithfulnessSteps: body.faithfulnessSteps ?? DEFAULT_FAITHFULNESS_STEPS,
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
      scorers.get(rec.id)?.close();
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
    const steps = stepsOf(rec);
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
      const faith = steps ? s.getFaith(BatchScorer.faithKey(job, steps)) : undefined;
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
        if (faith) {
          // a property of the map, the same for each of its regions
          row.deletion = 'error' in faith ? null : faith.deletion;
          row.insertion = 'error' in faith ? null : faith.insertion;
        }
        rows.push(row);
      }
      if (complete) scored++;
      else missingScores = true;
    }
    if (noRegions.size)
      notes.push(
        `${noRegions.size} painting(s) have no expert regions: ${[...noRegions].slice(0, 5).join(', ')}`,
      );
    // deletion / insertion of the maps of paintings with regions
    const targets = steps ? s.faithTargets(rec, steps) : [];
    let faithDone = 0;
    const failed: string[] = [];
    for (const job of targets) {
      const f = s.getFaith(BatchScorer.faithKey(job, steps));
      if (!f) continue;
      faithDone++;
      if ('error' in f) failed.push(f.error);
    }
    const paused = steps > 0 && deps.paused(rec);
    const faithState = !steps
      ? ('off' as const)
      : faithDone >= targets.length
        ? ('ready' as const)
        : paused
          ? ('paused' as const)
          : ctx.host.state === 'ready' || ctx.host.state === 'loading'
            ? ('computing' as const)
            : ('unavailable' as const);
    if (steps)
      notes.push(
        `deletion / insertion: area under the target's score curve (its unit: logit for prompts, probability for labels) as the map's most salient pixels are removed from (deletion, lower = more faithful) or put back into a blurred copy of (insertion, higher = more faithful) the model's input, ${steps} steps; one value per map, repeated on each of its regions`,
      );
    else notes.push('deletion / insertion were not asked for this batch (faithfulnessSteps 0)');
    if (failed.length) notes.push(`deletion / insertion failed for ${failed.length} map(s): ${failed[0]}`);
    if (faithState !== 'ready' && faithState !== 'off' && s.faithNote)
      notes.push(`deletion / insertion: ${s.faithNote}`);
    return {
      batchId: rec.id,
      state: missingScores || s.busy || faithState === 'computing' ? 'computing' : 'ready',
      faithfulness: {
        steps,
        state: faithState,
        done: faithDone,
        total: targets.length,
        failed: failed.length,
      },
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
      const slug = slugify(rec.name, 60);
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
      const steps = stepsOf(rec);
      const faithfulnessOf = (job: JobRow) => {
        const f = steps ? scorer(rec).getFaith(BatchScorer.faithKey(job, steps)) : undefined;
        return f && !('error' in f)
          ? { faithfulness: { steps, deletion: f.deletion, insertion: f.insertion, score: f.score } }
          : {};
      };
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
          ...faithfulnessOf(job),
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
      const slug = slugify(rec.name, 60);
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
