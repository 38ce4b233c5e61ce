/**
 * Export of one painting: a zip with `manifest.json` (painting, catalog metadata, finished jobs with their
 * targets, parameters and scores), `annotations.jsonld` (W3C AnnotationPage) and every finished job's maps
 * (`maps/<jobId>/raw.npy`, `painting.npy`, `overlay.png`). The zip is also kept in `exports/` (atomically).
 *
 * @example
 * GET /api/paintings/<id>/export -> application/zip
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { binary, PAINTING_PARAMS, withErrors } from '../schemas.ts';
import { writeFileAtomic } from '../workspace.ts';
import { annotationPage } from './annotations.ts';
import { requirePainting } from './paintings.ts';

export function registerExportRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws } = ctx;
  app.get(
    '/api/paintings/:id/export',
    {
      schema: {
        summary: "zip of a painting's maps, annotations and manifest",
        tags: ['exports'],
        params: PAINTING_PARAMS,
        response: withErrors(
          {
            200: binary(
              'manifest.json, annotations.jsonld and maps/<jobId>/ of every finished job',
              'application/zip',
            ),
          },
          404,
        ),
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const p = requirePainting(ws, id);
      const files: Record<string, Uint8Array> = {};
      const jobs = ws.listJobs({ paintingId: id, state: 'done', limit: 1_000_000 });
      const exported = [];
      for (const j of jobs) {
        if (!j.result) continue;
        const dir = ws.mapsDir(j.result.mapsJob);
        const names: Record<string, string> = {};
        for (const [kind, out] of [
          ['raw', 'raw.npy'],
          ['painting', 'painting.npy'],
          ['overlay', 'overlay.png'],
        ] as const) {
          const f = join(dir, j.result.files[kind]);
          if (!existsSync(f)) continue;
          files[`maps/${j.id}/${out}`] = await readFile(f);
          names[kind] = `maps/${j.id}/${out}`;
        }
        exported.push({
          id: j.id,
          method: j.method,
          params: j.params,
          target: j.target,
          view: j.view,
          model: j.modelId,
          modelFingerprint: j.modelFingerprint,
          score: j.result.score,
          grid: j.result.grid,
          signed: j.result.signed,
          files: names,
        });
      }
      const manifest = { painting: p, exportedAt: new Date().toISOString(), jobs: exported };
      files['manifest.json'] = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
      files['annotations.jsonld'] = new TextEncoder().encode(
        `${JSON.stringify(annotationPage(ws, id), null, 2)}\n`,
      );
      const zip = zipSync(files, { level: 6 });
      await writeFileAtomic(join(ws.dir('exports'), `${id}.zip`), zip);
      reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="artprobe-${id.slice(0, 12)}.zip"`);
      return reply.send(Buffer.from(zip));
    },
  );
}
