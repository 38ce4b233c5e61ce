/**
 * Paintings: multipart upload (size limit, checked by content: pixel and aspect-ratio limits on the header,
 * then every pixel decoded, so a truncated or corrupt file is refused before it is stored), import from a URL
 * or IIIF Image API (server-side fetches refuse local and private addresses unless --allow-private-fetch),
 * list, get, the image itself (served with the type its content was verified as), delete. Files are stored
 * content-addressed (`paintings/<sha256>.<ext>`); the uploaded name is only kept as metadata.
 *
 * @example
 * POST /api/paintings (multipart, field "file") -> 201 { id, name, width, height, ... }
 * POST /api/paintings/import { "url": "https://.../info.json" } -> 201 painting
 */
import { createReadStream } from 'node:fs';
import { Type } from 'typebox';
import { ImageDecodeError, type ImageInfo, readImageInfo, verifyImage } from '../../core/image-decode.ts';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { fetchImageUrl } from '../fetch-image.ts';
import { HttpError } from '../jobs.ts';
import {
  binary,
  OK,
  PAINTING,
  PAINTING_IMPORT,
  PAINTING_PARAMS,
  PAINTING_UPLOAD,
  withErrors,
} from '../schemas.ts';
import { readUpload } from '../upload.ts';
import { IMAGE_EXTS, type PaintingRow, type Workspace } from '../workspace.ts';

const MIME: Record<string, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  tif: 'image/tiff',
  gif: 'image/gif',
};

/** A display name from a user-given file name: last path segment, no control characters, at most 200 chars. */
export function cleanName(name: string | undefined, fallback: string): string {
  const last = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = [...last]
    .filter((ch) => ch.charCodeAt(0) >= 32 && ch.charCodeAt(0) !== 127)
    .join('')
    .trim()
    .slice(0, 200);
  return clean && clean !== '.' && clean !== '..' ? clean : fallback;
}

/**
 * Checks bytes are an accepted image, by content: format, pixel limit and aspect ratio on the header, then a
 * full decode (at thumbnail size, off the event loop) so that a truncated or corrupt file is refused now.
 *
 * @example
 * const info = await checkImageBytes(bytes, 100_000_000, 'upload "a.png"');
 */
export async function checkImageBytes(
  bytes: Uint8Array,
  maxPixels: number,
  label: string,
): Promise<ImageInfo> {
  try {
    const head = await readImageInfo(bytes, { name: label });
    if (!IMAGE_EXTS[head.format])
      throw new HttpError(
        415,
        `${label}: ${head.format} images are not accepted (accepted: ${Object.keys(IMAGE_EXTS).join(', ')})`,
      );
    const pixels = head.storedWidth * head.storedHeight;
    if (pixels > maxPixels)
      throw new HttpError(
        413,
        `${label} is ${head.storedWidth}x${head.storedHeight} (${pixels} pixels), above the limit of ${maxPixels} pixels (artprobe serve --max-pixels)`,
      );
    return await verifyImage(bytes, { name: label, maxPixels });
  } catch (e) {
    if (e instanceof ImageDecodeError)
      throw new HttpError(
        /pixels\), above the limit/.test(e.message) ? 413 : 415,
        /damaged|aspect ratio/.test(e.message) ? e.message : `${label} is not an image: ${e.message}`,
      );
    throw e;
  }
}

/** Painting 404 helper. */
export function requirePainting(ws: Workspace, id: string): PaintingRow {
  const p = ws.getPainting(id);
  if (!p) throw new HttpError(404, `painting ${id} not found`);
  return p;
}

export function registerPaintingRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws } = ctx;
  const tags = ['paintings'];
  app.post(
    '/api/paintings',
    {
      schema: {
        summary: 'upload a painting (multipart/form-data, field "file"; optional field "name")',
        tags,
        consumes: ['multipart/form-data'],
        response: withErrors({ 200: PAINTING, 201: PAINTING }, 413, 415),
      },
      config: { multipartBody: PAINTING_UPLOAD },
    },
    async (req, reply) => {
      const { bytes, filename, field } = await readUpload(req, 'painting');
      const name = cleanName(field('name') || filename, 'painting');
      const info = await checkImageBytes(bytes, ctx.opts.maxPixels, `upload "${name}"`);
      const { painting, created } = await ws.addPainting(bytes, { name, info });
      reply.code(created ? 201 : 200);
      return { ...painting, created };
    },
  );
  app.post(
    '/api/paintings/import',
    {
      schema: {
        summary: 'import a painting from an image URL or a IIIF Image API URL (info.json or base URL)',
        tags,
        body: PAINTING_IMPORT,
        response: withErrors({ 200: PAINTING, 201: PAINTING }, 413, 415, 502),
      },
    },
    async (req, reply) => {
      const { url, name } = req.body;
      const got = await fetchImageUrl(url, {
        maxBytes: ctx.opts.maxUploadBytes,
        timeoutMs: ctx.opts.fetchTimeoutMs,
        allowPrivate: ctx.opts.allowPrivateFetch === true,
      });
      const info = await checkImageBytes(got.bytes, ctx.opts.maxPixels, got.url);
      const fallback = cleanName(
        decodeURIComponent(new URL(url).pathname.replace(/\/(info\.json)?$/, '')),
        'imported',
      );
      const { painting, created } = await ws.addPainting(got.bytes, {
        name: cleanName(name, fallback),
        info,
        sourceUrl: got.iiif ?? got.url,
      });
      reply.code(created ? 201 : 200);
      return { ...painting, created };
    },
  );
  app.get(
    '/api/paintings',
    { schema: { summary: 'list paintings', tags, response: { 200: Type.Array(PAINTING) } } },
    async () => ws.listPaintings(),
  );
  app.get(
    '/api/paintings/:id',
    {
      schema: {
        summary: 'one painting',
        tags,
        params: PAINTING_PARAMS,
        response: withErrors({ 200: PAINTING }, 404),
      },
    },
    async (req) => requirePainting(ws, req.params.id),
  );
  app.get(
    '/api/paintings/:id/image',
    {
      schema: {
        summary: 'the image file',
        tags,
        params: PAINTING_PARAMS,
        response: withErrors({ 200: binary('the image file', ...new Set(Object.values(MIME))) }, 404),
      },
    },
    async (req, reply) => {
      const p = requirePainting(ws, req.params.id);
      // the type its content was verified as at upload (never the client's), served with nosniff
      reply
        .type(MIME[p.ext] ?? 'application/octet-stream')
        .header('content-disposition', `inline; filename="${p.id.slice(0, 16)}.${p.ext}"`)
        .header('cache-control', 'private, max-age=31536000, immutable');
      return reply.send(createReadStream(ws.paintingFile(p)));
    },
  );
  app.delete(
    '/api/paintings/:id',
    {
      schema: {
        summary: 'delete a painting with its jobs, maps and annotations',
        tags,
        params: PAINTING_PARAMS,
        response: withErrors({ 200: OK }, 404, 409),
      },
    },
    async (req) => {
      const { id } = req.params;
      requirePainting(ws, id);
      for (const j of ws.listJobs({ paintingId: id, limit: 1_000_000 })) await ctx.queue.cancel(j.id);
      await ws.deletePainting(id);
      return { ok: true };
    },
  );
}
