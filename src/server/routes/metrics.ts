/**
 * Agreement of a finished job's map with expert regions: every annotation of the painting (or the ones named)
 * is rasterised at the painting's size and scored against the map in painting pixels (pointing game,
 * energy, relevance mass/rank, AUROC, IoU@k, NSS).
 *
 * @example
 * POST /api/metrics { "jobId": "…" } -> { jobId, rows: [{ annotationId, label, pointing, energy, auroc, ... }] }
 */
import { readNpy } from '../../core/npy.ts';
import { scoreMap } from '../../regions/metrics.ts';
import { rasterizeRegion } from '../../regions/rasterize.ts';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { HttpError } from '../jobs.ts';
import { METRIC_NAMES, METRICS_REQUEST, METRICS_RESULT, type MetricRow, withErrors } from '../schemas.ts';
import { annotationRegion } from './annotations.ts';
import { requireJob } from './jobs.ts';
import { mapFile } from './maps.ts';
import { requirePainting } from './paintings.ts';

export function registerMetricRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws } = ctx;
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
      const map = await readNpy(mapFile(ws, job, 'painting'), 'float32');
      const [H, W] = map.shape; // [H, W] painting pixels
      const nan = (v: number) => (Number.isFinite(v) ? v : null);
      const rows = chosen.map((a): MetricRow => {
        const region = annotationRegion(a.doc, p);
        const mask = rasterizeRegion(region, H, W);
        const area = mask.reduce((s, v) => s + v, 0);
        const row: MetricRow = {
          annotationId: a.id,
          label: region.label,
          dimension: region.dimension ?? null,
          area,
        };
        // a region that covers no pixel gets no scores
        if (area > 0) {
          const s = scoreMap(map.data, H, W, { mask, tolerance });
          for (const k of METRIC_NAMES) row[k] = nan(s[k]);
        }
        return row;
      });
      return { jobId, method: job.method, rows };
    },
  );
}
