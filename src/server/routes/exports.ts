/**
 * Export of one painting: a zip with `manifest.json` (painting, catalog metadata, finished jobs with their
 * targets, parameters and scores), `annotations.jsonld` (W3C AnnotationPage) and every finished job's maps
 * (`maps/<jobId>/raw.npy`, `painting.npy`, `overlay.png`). The zip is built by a worker thread that streams it
 * to `exports/<paintingId>.zip` (atomically) in 1 MB pieces, then the file is streamed to the client: the
 * bundle is never whole in memory and the HTTP thread never compresses. Concurrent requests for the same
 * painting share one build; builds run one at a time.
 *
 * @example
 * GET /api/paintings/<id>/export -> application/zip
 */
import { createReadStream, existsSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext, ArtprobeApp } from '../app.ts';
import type { ExportEntry } from '../compute.ts';
import { binary, PAINTING_PARAMS, withErrors } from '../schemas.ts';
import { annotationPage } from './annotations.ts';
import { requirePainting } from './paintings.ts';

/**
 * Adds `GET /api/paintings/:id/export`.
 *
 * @example
 * registerExportRoutes(api, ctx);
 */
export function registerExportRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws } = ctx;
  const building = new Map<string, Promise<{ bytes: number }>>();

  /** The entries of a painting's zip (only names and paths: the worker reads the files). */
  const entriesOf = (id: string): ExportEntry[] => {
    const p = requirePainting(ws, id);
    const entries: ExportEntry[] = [];
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
        const file = join(dir, j.result.files[kind]);
        if (!/^[a-z0-9_.-]+$/.test(j.result.files[kind]) || !existsSync(file)) continue;
        const name = `maps/${j.id}/${out}`;
        entries.push(kind === 'overlay' ? { name, file, store: true } : { name, file, level: 1 });
        names[kind] = name;
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
        paintingSize: j.result.paintingSize,
        signed: j.result.signed,
        files: names,
      });
    }
    const manifest = { painting: p, exportedAt: new Date().toISOString(), jobs: exported };
    return [
      { name: 'manifest.json', text: `${JSON.stringify(manifest, null, 2)}\n` },
      { name: 'annotations.jsonld', text: `${JSON.stringify(annotationPage(ws, id), null, 2)}\n` },
      ...entries,
    ];
  };

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
      const out = join(ws.dir('exports'), `${id}.zip`);
      let build = building.get(id);
      if (!build) {
        build = ctx.compute.exports
          .run({ op: 'export', out, entries: entriesOf(id) })
          .finally(() => building.delete(id));
        building.set(id, build);
      }
      await build;
      // an open file keeps its contents even when a later export replaces it: its size is the one sent
      const stream = createReadStream(out);
      const bytes = await new Promise<number>((resolve, reject) => {
        stream.once('open', (fd) => resolve(fstatSync(fd).size));
        stream.once('error', reject);
      });
      reply
        .type('application/zip')
        .header('content-length', String(bytes))
        .header('content-disposition', `attachment; filename="artprobe-${id.slice(0, 12)}.zip"`);
      return reply.send(stream);
    },
  );
}
