/**
 * Catalogs: metadata tables (CSV, JSON list of objects, or parquet; detected by content) uploaded as
 * multipart. Rows whose `file` (or `filename`, `image`, `name`) equals a painting's name become that
 * painting's metadata. Rows are stored as `catalogs/<id>.json`.
 *
 * @example
 * POST /api/catalogs (multipart, field "file": catalog.json) -> 201 { id, rows: 18, matched: 3, columns: [...] }
 */
import { readFile } from 'node:fs/promises';
import { parquetReadObjects } from 'hyparquet';
import { Type } from 'typebox';
import { parseCsvTable } from '../../probe/embeddings.ts';
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

const KEY_COLUMNS = ['file', 'filename', 'image', 'name'];

/** Parses catalog bytes by content: parquet (PAR1 magic), JSON (list of objects or {rows|items}), else CSV. */
export async function parseCatalog(
  bytes: Buffer,
  label: string,
): Promise<{ format: string; rows: Record<string, unknown>[] }> {
  if (bytes.subarray(0, 4).toString('latin1') === 'PAR1') {
    try {
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
      // typed arrays and bigints are not JSON: lists become arrays, bigints numbers
      return {
        format: 'parquet',
        rows: JSON.parse(
          JSON.stringify(rows, (_k, v) =>
            typeof v === 'bigint'
              ? Number(v)
              : ArrayBuffer.isView(v)
                ? Array.from(v as unknown as number[])
                : v,
          ),
        ),
      };
    } catch (e) {
      throw new HttpError(400, `${label}: not a readable parquet file (${(e as Error).message})`);
    }
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (/^\s*[[{]/.test(text)) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, `${label}: not valid JSON (${(e as Error).message})`);
    }
    const list = Array.isArray(doc)
      ? doc
      : ((doc as Record<string, unknown>).rows ?? (doc as Record<string, unknown>).items);
    if (!Array.isArray(list) || !list.every((r) => r && typeof r === 'object' && !Array.isArray(r)))
      throw new HttpError(400, `${label}: a JSON catalog must be a list of objects (or {"rows": [...]})`);
    return { format: 'json', rows: list as Record<string, unknown>[] };
  }
  let table: { rows: number; columns: Record<string, unknown[]> };
  try {
    table = parseCsvTable(text, label);
  } catch (e) {
    throw new HttpError(400, (e as Error).message);
  }
  const names = Object.keys(table.columns);
  if (names.length < 1 || table.rows === 0)
    throw new HttpError(400, `${label}: the CSV has no header or no rows`);
  const rows = Array.from({ length: table.rows }, (_, i) =>
    Object.fromEntries(names.map((n) => [n, table.columns[n][i]])),
  );
  return { format: 'csv', rows };
}

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
      const { format, rows } = await parseCatalog(bytes, name);
      if (rows.length > 1_000_000) throw new HttpError(413, `${name}: more than 1 000 000 rows`);
      const byName = new Map(ws.listPaintings().map((p) => [p.name, p.id]));
      let matched = 0;
      for (const r of rows) {
        const key = KEY_COLUMNS.map((k) => r[k]).find((v) => typeof v === 'string' && byName.has(v)) as
          | string
          | undefined;
        if (!key) continue;
        ws.setPaintingMetadata(byName.get(key) as string, r);
        matched++;
      }
      reply.code(201);
      return ws.addCatalog(name, format, rows, matched);
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
      const rows = JSON.parse(await readFile(ws.catalogFile(id), 'utf8')) as Record<string, unknown>[];
      return { ...c, items: rows.slice(offset, offset + limit) };
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
