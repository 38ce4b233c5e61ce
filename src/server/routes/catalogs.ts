/**
 * Catalogs: metadata tables (CSV, JSON list of objects, or parquet; detected by content) uploaded as
 * multipart. Rows whose `file` (or `filename`, `image`, `name`) equals a painting's name become that
 * painting's metadata. Rows are stored as `catalogs/<id>.json`.
 *
 * @example
 * POST /api/catalogs (multipart, field "file": catalog.json) -> 201 { id, rows: 18, matched: 3, columns: [...] }
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { parquetReadObjects } from 'hyparquet';
import { parseCsvTable } from '../../probe/embeddings.ts';
import type { AppContext } from '../app.ts';
import { HttpError } from '../jobs.ts';
import { idParams, OK, UUID, withErrors } from '../schemas.ts';
import { readUpload } from '../upload.ts';
import type { CatalogRow } from '../workspace.ts';
import { cleanName } from './paintings.ts';

const CATALOG = {
  type: 'object',
  properties: {
    id: UUID,
    name: { type: 'string' },
    format: { type: 'string' },
    rows: { type: 'integer' },
    columns: { type: 'array', items: { type: 'string' } },
    matched: { type: 'integer' },
    createdAt: { type: 'string' },
  },
};
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

export function registerCatalogRoutes(app: FastifyInstance, ctx: AppContext): void {
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
    { schema: { summary: 'list catalogs', tags, response: { 200: { type: 'array', items: CATALOG } } } },
    async () => ws.listCatalogs(),
  );
  app.get(
    '/api/catalogs/:id',
    {
      schema: {
        summary: 'a catalog with its rows',
        tags,
        params: idParams(UUID),
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: withErrors(
          {
            200: {
              type: 'object',
              properties: {
                ...CATALOG.properties,
                items: { type: 'array', items: { type: 'object', additionalProperties: true } },
              },
            },
          },
          404,
        ),
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const { limit, offset } = req.query as { limit: number; offset: number };
      const c = ws.getCatalog(id) as CatalogRow | undefined;
      if (!c) throw new HttpError(404, `catalog ${id} not found`);
      const rows = JSON.parse(await readFile(ws.catalogFile(id), 'utf8')) as unknown[];
      return { ...c, items: rows.slice(offset, offset + limit) };
    },
  );
  app.delete(
    '/api/catalogs/:id',
    {
      schema: {
        summary: 'delete a catalog',
        tags,
        params: idParams(UUID),
        response: withErrors({ 200: OK }, 404),
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      if (!(await ws.deleteCatalog(id))) throw new HttpError(404, `catalog ${id} not found`);
      return { ok: true };
    },
  );
}
