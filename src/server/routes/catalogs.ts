/**
 * Catalogs: metadata tables (CSV, JSON list of objects, or parquet; detected by content) uploaded as
 * multipart. Rows whose `file` (or `filename`, `image`, `name`) equals a painting's name become that
 * painting's metadata. Rows are stored as `catalogs/<id>.json`. Parsing, matching and writing the rows run in
 * a worker thread (a catalog of a million rows takes seconds), as does reading a large catalog back.
 *
 * @example
 * POST /api/catalogs (multipart, field "file": catalog.json) -> 201 { id, rows: 18, matched: 3, columns: [...] }
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Type } from 'typebox';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { HttpError } from '../jobs.ts';
import {
  CATALOG,
  CATALOG_QUERY,
  CATALOG_UPLOAD,
  CATALOG_WITH_ROWS,
  OK,
  UUID_PARAMS,
  withErrors,
} from '../schemas.ts';
import { readUpload } from '../upload.ts';
import { cleanName } from './paintings.ts';

export { parseCatalog } from '../compute.ts';

/** Catalog rows files up to this size are read on the HTTP thread; larger ones in a worker. */
const INLINE_BYTES = 1 << 20;

export function registerCatalogRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws } = ctx;
  const tags = ['catalogs'];
  app.post(
    '/api/catalogs',
    {
      schema: {
        summary: 'import a metadata catalog (CSV, JSON or parquet; multipart field "file")',
        tags,
        consumes: ['multipart/form-data'],
        response: withErrors({ 201: CATALOG }, 413, 415),
      },
      config: { multipartBody: CATALOG_UPLOAD },
    },
    async (req, reply) => {
      const { bytes, filename } = await readUpload(req, 'catalog');
      const name = cleanName(filename, 'catalog');
      const id = randomUUID();
      const got = await ctx.compute.metrics.run({
        op: 'catalog',
        bytes,
        label: name,
        names: ws.listPaintings().map((p) => [p.name, p.id]),
        out: ws.catalogFile(id),
        maxRows: 1_000_000,
      });
      ws.db.transaction(() => {
        for (const [paintingId, row] of got.matches)
          if (ws.getPainting(paintingId)) ws.setPaintingMetadata(paintingId, row);
      })();
      reply.code(201);
      return ws.registerCatalog(id, name, got.format, got.rows, got.columns, got.matched);
    },
  );
  app.get(
    '/api/catalogs',
    { schema: { summary: 'list catalogs', tags, response: { 200: Type.Array(CATALOG) } } },
    async () => ws.listCatalogs(),
  );
  app.get(
    '/api/catalogs/:id',
    {
      schema: {
        summary: 'a catalog with its rows',
        tags,
        params: UUID_PARAMS,
        querystring: CATALOG_QUERY,
        response: withErrors({ 200: CATALOG_WITH_ROWS }, 404),
      },
    },
    async (req) => {
      const { id } = req.params;
      const { limit, offset } = req.query;
      const c = ws.getCatalog(id);
      if (!c) throw new HttpError(404, `catalog ${id} not found`);
      const file = ws.catalogFile(id);
      const items =
        statSync(file).size <= INLINE_BYTES
          ? (JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>[]).slice(
              offset,
              offset + limit,
            )
          : await ctx.compute.metrics.run({ op: 'catalogRows', file, offset, limit });
      return { ...c, items };
    },
  );
  app.delete(
    '/api/catalogs/:id',
    {
      schema: {
        summary: 'delete a catalog',
        tags,
        params: UUID_PARAMS,
        response: withErrors({ 200: OK }, 404),
      },
    },
    async (req) => {
      const { id } = req.params;
      if (!(await ws.deleteCatalog(id))) throw new HttpError(404, `catalog ${id} not found`);
      return { ok: true };
    },
  );
}
