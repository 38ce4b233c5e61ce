/**
 * Agreement of a finished job's map with expert regions: every annotation of the painting (or the ones named)
 * is rasterised at the painting's size and scored against the map in painting pixels (pointing game,
 * energy, relevance mass/rank, AUROC, IoU@k, NSS).
 *
 * @example
 * POST /api/metrics { "jobId": "…" } -> { jobId, rows: [{ annotationId, label, pointing, energy, auroc, ... }] }
 */
import type { FastifyInstance } from 'fastify';
import { readNpy } from '../../core/npy.ts';
import { scoreMap } from '../../regions/metrics.ts';
import { rasterizeRegion } from '../../regions/rasterize.ts';
import { METRIC_KEYS } from '../../regions/score-explanations.ts';
import type { AppContext } from '../app.ts';
import { HttpError } from '../jobs.ts';
import { UUID, withErrors } from '../schemas.ts';
import { annotationRegion } from './annotations.ts';
import { requireJob } from './jobs.ts';
import { mapFile } from './maps.ts';
import { requirePainting } from './paintings.ts';

const num = { type: ['number', 'null'] };
const ROW = {
  type: 'object',
  properties: {
    annotationId: UUID,
    label: { type: 'string' },
    dimension: { type: ['string', 'null'] },
    area: { type: 'integer' },
    ...Object.fromEntries(METRIC_KEYS.map((k) => [k, num])),
  },
};

export function registerMetricRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { ws } = ctx;
  app.post(
    '/api/metrics',
    {
      schema: {
        summary: "scores a finished job's map against the painting's annotations",
        tags: ['metrics'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['jobId'],
          properties: {
            jobId: UUID,
            annotationIds: { type: 'array', items: UUID, maxItems: 1000 },
            tolerance: { type: 'number', minimum: 0, maximum: 1000 },
          },
        },
        response: withErrors(
          {
            200: {
              type: 'object',
              properties: { jobId: UUID, method: { type: 'string' }, rows: { type: 'array', items: ROW } },
            },
          },
          404,
          409,
          410,
        ),
      },
    },
    async (req) => {
      const { jobId, annotationIds, tolerance } = req.body as {
        jobId: string;
        annotationIds?: string[];
        tolerance?: number;
      };
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
      const rows = chosen.map((a) => {
        const region = annotationRegion(a.doc, p);
        const mask = rasterizeRegion(region, H, W);
        const area = mask.reduce((s, v) => s + v, 0);
        const s = area > 0 ? scoreMap(map.data, H, W, { mask, tolerance }) : undefined;
        return {
          annotationId: a.id,
          label: region.label,
          dimension: region.dimension ?? null,
          area,
          ...Object.fromEntries(Object.entries(s ?? {}).map(([k, v]) => [k, nan(v)])),
        };
      });
      return { jobId, method: job.method, rows };
    },
  );
}
