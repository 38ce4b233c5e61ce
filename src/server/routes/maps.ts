/**
 * A finished job's maps: the raw map on its native grid (`raw.npy`, float32), the map in painting pixels
 * (`painting.npy`, float32 [H, W], NaN outside the view), and the PNG overlay. File names come from the job's
 * own result, never from the request (the `kind` parameter is an enum).
 *
 * @example
 * GET /api/jobs/<id>/maps/overlay.png
 */
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { HttpError } from '../jobs.ts';
import { binary, MAP_PARAMS, type MapFile, withErrors } from '../schemas.ts';
import type { JobRow, Workspace } from '../workspace.ts';
import { requireJob } from './jobs.ts';

export const MAP_KINDS = {
  'raw.npy': 'raw',
  'painting.npy': 'painting',
  'overlay.png': 'overlay',
} as const satisfies Record<MapFile, string>;

/** Absolute path of a finished job's map file. */
export function mapFile(ws: Workspace, job: JobRow, kind: 'raw' | 'painting' | 'overlay'): string {
  if (job.state !== 'done' || !job.result)
    throw new HttpError(409, `job ${job.id} has no maps (state: ${job.state})`);
  const name = job.result.files[kind];
  if (!/^[a-z0-9_.-]+$/.test(name)) throw new HttpError(500, `job ${job.id}: unexpected map file name`);
  const file = join(ws.mapsDir(job.result.mapsJob), name);
  if (!existsSync(file)) throw new HttpError(410, `job ${job.id}: its map file is gone from the workspace`);
  return file;
}

export function registerMapRoutes(app: ArtprobeApp, ctx: AppContext): void {
  app.get(
    '/api/jobs/:id/maps/:kind',
    {
      schema: {
        summary:
          'a map of a finished job: raw.npy (native grid), painting.npy (painting pixels) or overlay.png',
        tags: ['maps'],
        params: MAP_PARAMS,
        response: withErrors(
          {
            200: binary(
              'raw.npy and painting.npy: float32 .npy arrays; overlay.png: the map over the painting',
              'application/octet-stream',
              'image/png',
            ),
          },
          404,
          409,
          410,
        ),
      },
    },
    async (req, reply) => {
      const { id, kind } = req.params;
      const file = mapFile(ctx.ws, requireJob(ctx.ws, id), MAP_KINDS[kind]);
      reply.type(kind.endsWith('.png') ? 'image/png' : 'application/octet-stream');
      if (kind.endsWith('.npy')) reply.header('content-disposition', `attachment; filename="${id}-${kind}"`);
      return reply.send(createReadStream(file));
    },
  );
}
