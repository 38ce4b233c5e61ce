/**
 * Embedding maps: import embedding tables (parquet, .npy or CSV; multipart field "file", optional fields "name"
 * and "column" before it), list and delete them, and compute a 2-D map (PCA or UMAP) of the collection's CLIP
 * image embeddings or of imported tables, as points with metadata. Collection embeddings are computed in a
 * model worker and cached in the workspace per model fingerprint × painting; maps are computed in a worker
 * thread and the last few kept in memory.
 *
 * @example
 * POST /api/embedding-tables (multipart: name=ngd, column=ViT-L/14@336px, file=@ngd.parquet) -> 201 { id, rows, dims, columns }
 * POST /api/embedding-maps { "source": "tables", "tables": ["<id>", "<id>"], "method": "pca" } -> { points: [{ x, y, set, title, meta }] }
 * POST /api/embedding-maps { "source": "collection" } -> { points: [{ x, y, id, title, meta }], model, computed }
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from 'typebox';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { type InspectOutput, type MapOutput, type MapParams, runMapJob } from '../embedding-map.ts';
import { canonicalJson, HttpError, noModelMessage } from '../jobs.ts';
import { ModelBusyError, ModelUnavailableError } from '../model-host.ts';
import {
  EMBEDDING_MAP,
  EMBEDDING_MAP_REQUEST,
  EMBEDDING_TABLE,
  EMBEDDING_TABLE_UPLOAD,
  type EmbeddingMap,
  OK,
  UUID_PARAMS,
  withErrors,
} from '../schemas.ts';
import { readUpload } from '../upload.ts';
import type { EmbeddingTableRow } from '../workspace.ts';
import { cleanName } from './paintings.ts';

/** Paintings embedded per model-worker request (other probes and jobs get the worker in between). */
const EMBED_CHUNK = 16;
/** Maps kept in memory. */
const CACHE_SIZE = 8;

/** The format of an embeddings upload from its content (parquet / npy magic) or else its file name. */
export function detectTableFormat(bytes: Uint8Array, filename: string): EmbeddingTableRow['format'] {
  const head = Buffer.from(bytes.subarray(0, 6)).toString('latin1');
  if (head.startsWith('PAR1')) return 'parquet';
  if (head === '\x93NUMPY') return 'npy';
  if (/\.csv$/i.test(filename) || /\.(txt|tsv)$/i.test(filename)) return 'csv';
  if (/\.(parquet|npy)$/i.test(filename))
    throw new HttpError(400, `${filename} does not look like a ${filename.split('.').pop()} file`);
  throw new HttpError(415, `${filename}: upload a .parquet, .npy or .csv embeddings table`);
}

/** Scalar metadata of a painting (catalog fields), for colouring the map. */
function paintingMeta(
  m: Record<string, unknown> | null,
  format: string,
): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = { format };
  for (const [k, v] of Object.entries(m ?? {})) {
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    else if (typeof v === 'string') out[k] = v.length > 160 ? `${v.slice(0, 159)}…` : v;
    else if (typeof v === 'boolean') out[k] = String(v);
  }
  return out;
}

export function registerEmbeddingMapRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws, host } = ctx;
  const tags = ['embedding maps'];
  const cache = new Map<string, EmbeddingMap>();
  const remember = <T extends EmbeddingMap>(key: string, v: T): T => {
    cache.delete(key);
    cache.set(key, v);
    while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    return v;
  };
  const requireTable = (id: string) => {
    const t = ws.getEmbeddingTable(id);
    if (!t) throw new HttpError(404, `embedding table ${id} not found`);
    return t;
  };

  app.post(
    '/api/embedding-tables',
    {
      schema: {
        summary:
          'import an embeddings table (multipart: optional fields "name" and "column" first, then the file as "file"; .parquet, .npy or .csv)',
        tags,
        consumes: ['multipart/form-data'],
        response: withErrors({ 201: EMBEDDING_TABLE }, 413, 415),
      },
      config: { multipartBody: EMBEDDING_TABLE_UPLOAD },
    },
    async (req, reply) => {
      const upload = await readUpload(req, 'embeddings table');
      const { bytes, field } = upload;
      const filename = cleanName(upload.filename, 'embeddings');
      const name = cleanName(field('name') || filename.replace(/\.[^.]+$/, ''), 'embeddings');
      const column = field('column');
      const format = detectTableFormat(bytes, filename);
      const tmp = join(ws.dir('embeddings'), `.tmp-${randomUUID()}.${format}`);
      let info: InspectOutput;
      try {
        await writeFile(tmp, bytes);
        info = await runMapJob({ op: 'inspect', path: tmp, column: column || undefined });
      } catch (e) {
        if (e instanceof HttpError) throw e;
        // loader messages name the temp path: show the uploaded name instead
        throw new HttpError(400, (e as Error).message.split(tmp).join(filename));
      } finally {
        await rm(tmp, { force: true });
      }
      const row = await ws.addEmbeddingTable(bytes, {
        name,
        format,
        column: info.column,
        rows: info.rows,
        dims: info.dims,
        columns: info.columns,
      });
      reply.code(201);
      return row;
    },
  );
  app.get(
    '/api/embedding-tables',
    {
      schema: {
        summary: 'imported embedding tables',
        tags,
        response: { 200: Type.Array(EMBEDDING_TABLE) },
      },
    },
    async () => ws.listEmbeddingTables(),
  );
  app.get(
    '/api/embedding-tables/:id',
    {
      schema: {
        summary: 'one imported embedding table',
        tags,
        params: UUID_PARAMS,
        response: withErrors({ 200: EMBEDDING_TABLE }, 404),
      },
    },
    async (req) => requireTable(req.params.id),
  );
  app.delete(
    '/api/embedding-tables/:id',
    {
      schema: {
        summary: 'delete an imported embedding table',
        tags,
        params: UUID_PARAMS,
        response: withErrors({ 200: OK }, 404),
      },
    },
    async (req) => {
      const { id } = req.params;
      requireTable(id);
      await ws.deleteEmbeddingTable(id);
      for (const k of [...cache.keys()]) if (k.includes(id)) cache.delete(k);
      return { ok: true };
    },
  );

  app.post(
    '/api/embedding-maps',
    {
      schema: {
        summary:
          '2-D map (PCA or UMAP) of the collection (CLIP image embeddings) or of imported embedding tables, with metadata per point',
        tags,
        body: EMBEDDING_MAP_REQUEST,
        response: withErrors({ 200: EMBEDDING_MAP }, 404, 503),
      },
    },
    async (req) => {
      const body = req.body;
      const params: MapParams = { method: body.method, seed: body.seed, neighbors: body.neighbors };
      if (body.source === 'tables') {
        if (!body.tables?.length)
          throw new HttpError(400, 'source "tables" needs a list of table ids in "tables"');
        const tables = body.tables.map(requireTable);
        const key = canonicalJson(['tables', body]);
        const hit = cache.get(key);
        if (hit) return remember(key, hit);
        const names = new Map<string, number>();
        let out: MapOutput;
        try {
          out = await runMapJob({
            op: 'tables',
            ...params,
            title: body.title,
            fields: body.fields,
            tables: tables.map((t) => {
              // set names must be unique: a second table with the same name gets " (2)"
              const k = (names.get(t.name) ?? 0) + 1;
              names.set(t.name, k);
              return {
                name: k > 1 ? `${t.name} (${k})` : t.name,
                path: ws.embeddingTableFile(t),
                column: t.column,
              };
            }),
          });
        } catch (e) {
          throw new HttpError(400, (e as Error).message.replace(/\S*[\\/]embeddings[\\/]/g, 'table '));
        }
        return remember(key, { source: 'tables', ...out });
      }

      // the collection: CLIP image embeddings of every painting, cached per model fingerprint
      if (host.state !== 'ready' || !host.info)
        throw new HttpError(
          503,
          `${noModelMessage(host)}${ctx.opts.modelHint ? ` (${ctx.opts.modelHint})` : ''}`,
          host.state === 'loading' ? { 'retry-after': '5' } : {},
        );
      const fp = host.info.fingerprint;
      const model = host.info.id;
      const paintings = ws.listPaintings();
      const vectors = ws.getImageEmbeddings(
        fp,
        paintings.map((p) => p.id),
      );
      const missing = paintings.filter((p) => !vectors.has(p.id));
      for (let i = 0; i < missing.length; i += EMBED_CHUNK) {
        const chunk = missing.slice(i, i + EMBED_CHUNK);
        let got: Awaited<ReturnType<typeof host.embed>>;
        try {
          got = await host.embed(
            { images: chunk.map((p) => ws.paintingFile(p)) },
            { waitMs: ctx.opts.probeWaitMs },
          );
        } catch (e) {
          if (e instanceof ModelBusyError) throw new HttpError(503, e.message, { 'retry-after': '5' });
          if (e instanceof ModelUnavailableError) throw new HttpError(503, e.message);
          throw e;
        }
        if (got.model.fingerprint !== fp)
          throw new HttpError(503, 'the model was switched while the map was computed; try again', {
            'retry-after': '1',
          });
        const rows = chunk.map((p, j) => ({ id: p.id, vector: got.result[j] }));
        ws.putImageEmbeddings(fp, rows);
        for (const r of rows) vectors.set(r.id, r.vector);
      }
      // paintings deleted meanwhile are left out
      const kept = paintings.filter((p) => vectors.has(p.id) && ws.getPainting(p.id));
      const key = canonicalJson(['collection', fp, params, kept.map((p) => [p.id, p.metadata])]);
      const hit = cache.get(key);
      if (hit) return { ...remember(key, hit), computed: missing.length };
      let out: MapOutput;
      try {
        out = await runMapJob({
          op: 'matrix',
          ...params,
          set: 'collection',
          rows: kept.map((p) => vectors.get(p.id) as Float32Array),
          ids: kept.map((p) => p.id),
          titles: kept.map((p) => (typeof p.metadata?.title === 'string' ? p.metadata.title : p.name)),
          meta: kept.map((p) => paintingMeta(p.metadata, p.format)),
        });
      } catch (e) {
        throw new HttpError(400, (e as Error).message);
      }
      return {
        ...remember(key, { source: 'collection', model, modelFingerprint: fp, ...out }),
        computed: missing.length,
      };
    },
  );
}
