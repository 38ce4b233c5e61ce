/**
 * Agreement of a finished job's map with expert regions: every annotation of the painting (or the ones named)
 * is rasterised at the map's size (the painting's, or its copy within the map pixel budget) and scored against
 * the map (pointing game, energy, relevance mass/rank, AUROC, IoU@k, NSS). The scoring runs in a worker thread
 * (the HTTP thread stays free) and each row is cached per (map file, annotation, annotation version,
 * tolerance): asking again after another map finished, or after an unrelated annotation changed, costs
 * nothing. `area` counts map pixels.
 *
 * @example
 * POST /api/metrics { "jobId": "…" } -> { jobId, rows: [{ annotationId, label, pointing, energy, auroc, ... }] }
 */
import type { AppContext, ArtprobeApp } from '../app.ts';
import type { MetricOutput, MetricRegion } from '../compute.ts';
import { HttpError } from '../jobs.ts';
import { METRIC_NAMES, METRICS_REQUEST, METRICS_RESULT, type MetricRow, withErrors } from '../schemas.ts';
import { annotationRegion } from './annotations.ts';
import { requireJob } from './jobs.ts';
import { mapFile } from './maps.ts';
import { requirePainting } from './paintings.ts';

/** Metric rows kept in memory (each is a few hundred bytes). */
const CACHE_ROWS = 20_000;

/**
 * The metric cache of one server: rows by (map, annotation version, tolerance), oldest dropped first, and
 * computations in progress (so concurrent identical requests share one).
 *
 * @example
 * const cache = new MetricCache(); cache.get(key); cache.set(key, row);
 */
export class MetricCache {
  private rows = new Map<string, MetricOutput>();
  readonly inFlight = new Map<string, Promise<MetricOutput[]>>();
  hits = 0;
  misses = 0;

  get(key: string): MetricOutput | undefined {
    const r = this.rows.get(key);
    if (r) {
      this.rows.delete(key);
      this.rows.set(key, r);
      this.hits++;
    } else this.misses++;
    return r;
  }

  set(key: string, row: MetricOutput): void {
    this.rows.delete(key);
    this.rows.set(key, row);
    while (this.rows.size > CACHE_ROWS) this.rows.delete(this.rows.keys().next().value as string);
  }

  get size(): number {
    return this.rows.size;
  }
}

/**
 * Adds `POST /api/metrics` (and sets `ctx.metricCache`).
 *
 * @example
 * registerMetricRoutes(api, ctx);
 */
export function registerMetricRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws } = ctx;
  const cache = new MetricCache();
  ctx.metricCache = cache;
  app.post(
    '/api/metrics',
    {
      schema: {
        summary: "scores a finished job's map against the painting's annotations",
        tags: ['metrics'],
        body: METRICS_REQUEST,
        response: withErrors({ 200: METRICS_RESULT }, 404, 409, 410),
      },
    },
    async (req) => {
      const { jobId, annotationIds, tolerance } = req.body;
      const job = requireJob(ws, jobId);
      const p = requirePainting(ws, job.paintingId);
      const all = ws.listAnnotations(p.id);
      for (const id of annotationIds ?? [])
        if (!all.some((a) => a.id === id))
          throw new HttpError(404, `annotation ${id} not found on painting ${p.id}`);
      const chosen = annotationIds ? all.filter((a) => annotationIds.includes(a.id)) : all;
      const file = mapFile(ws, job, 'painting');
      const mapKey = `${job.result?.mapsJob}/${job.result?.files.painting}`;
      const keyOf = (a: { id: string; modifiedAt: string }) =>
        JSON.stringify([mapKey, a.id, a.modifiedAt, tolerance ?? null]);
      const out = new Map<string, MetricOutput>();
      const missing: (MetricRegion & { key: string })[] = [];
      for (const a of chosen) {
        const key = keyOf(a);
        const hit = cache.get(key);
        if (hit) out.set(a.id, hit);
        else {
          const region = annotationRegion(a.doc, p);
          // the geometry only: `original` may be large and is not needed to score
          const { original: _original, ...plain } = region;
          missing.push({
            key,
            annotationId: a.id,
            label: region.label,
            dimension: region.dimension ?? null,
            region: plain,
          });
        }
      }
      if (missing.length) {
        const batchKey = missing.map((m) => m.key).join('\n');
        let pending = cache.inFlight.get(batchKey);
        if (!pending) {
          pending = ctx.compute.metrics
            .run({
              op: 'metrics',
              mapFile: file,
              tolerance,
              paintingSize: [p.height, p.width],
              regions: missing.map(({ key: _k, ...r }) => r),
            })
            .finally(() => cache.inFlight.delete(batchKey));
          cache.inFlight.set(batchKey, pending);
        }
        const rows = await pending;
        rows.forEach((r, i) => {
          cache.set(missing[i].key, r);
          out.set(r.annotationId, r);
        });
      }
      const nan = (v: number) => (Number.isFinite(v) ? v : null);
      const rows = chosen.map((a): MetricRow => {
        const r = out.get(a.id) as MetricOutput;
        const row: MetricRow = {
          annotationId: r.annotationId,
          label: r.label,
          dimension: r.dimension,
          area: r.area,
        };
        if (r.scores) for (const k of METRIC_NAMES) row[k] = nan(r.scores[k]);
        return row;
      });
      return { jobId, method: job.method, rows };
    },
  );
}
