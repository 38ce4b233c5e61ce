/**
 * Deep zoom into paintings imported from a IIIF Image API: the UI asks this server (its pages may only load
 * images from their own origin) for a region of the painting at a size, and the server asks the painting's
 * IIIF service for it (`{base}/{x},{y},{w},{h}/{size},/0/default.jpg`), through the same guarded fetch as URL
 * imports (no loopback or private addresses unless the server allows them, a byte limit, a timeout).
 * `GET /api/paintings/:id/iiif/info` gives the service's full size; coordinates are in its pixels.
 *
 * @example
 * GET /api/paintings/<sha256>/iiif/info -> { width: 6400, height: 4800 }
 * GET /api/paintings/<sha256>/iiif/region?x=1950&y=1463&w=2500&h=1875&size=800 -> image/jpeg
 */
import { Type } from 'typebox';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { HttpError } from '../jobs.ts';
import { BlockedAddressError, guardedGet } from '../net-guard.ts';
import { binary, PAINTING_PARAMS, withErrors } from '../schemas.ts';
import type { PaintingRow } from '../workspace.ts';
import { requirePainting } from './paintings.ts';

/**
 * The IIIF Image API base of a painting's source (its full-image URL, info.json or base), or undefined.
 *
 * @example
 * iiifBaseOf('https://x.org/iiif/abc/full/max/0/default.jpg'); // 'https://x.org/iiif/abc'
 */
export function iiifBaseOf(sourceUrl: string | null | undefined): string | undefined {
  const u = sourceUrl ?? '';
  const m = u.match(/^(https?:\/\/.+?)\/(?:full\/(?:max|full)\/0\/default\.(?:jpg|png|webp)|info\.json)$/);
  return m?.[1];
}

const INFO = Type.Object({ width: Type.Integer(), height: Type.Integer() });
const REGION_QUERY = Type.Object(
  {
    x: Type.Integer({ minimum: 0 }),
    y: Type.Integer({ minimum: 0 }),
    w: Type.Integer({ minimum: 1 }),
    h: Type.Integer({ minimum: 1 }),
    size: Type.Integer({ minimum: 1, maximum: 4096, description: 'width of the answer in pixels' }),
  },
  { additionalProperties: false },
);

export function registerIiifRegionRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws } = ctx;
  const tags = ['paintings'];
  const infos = new Map<string, Promise<{ width: number; height: number }>>();

  const fetchBytes = async (url: string, maxBytes: number) => {
    try {
      const res = await guardedGet(url, {
        maxBytes,
        timeoutMs: ctx.opts.fetchTimeoutMs,
        allowPrivate: ctx.opts.allowPrivateFetch === true,
      });
      if (res.status < 200 || res.status >= 300)
        throw new HttpError(502, `the IIIF service answered HTTP ${res.status}`);
      return res;
    } catch (e) {
      if (e instanceof HttpError) throw e;
      if (e instanceof BlockedAddressError)
        throw new HttpError(403, 'the IIIF service is on a private address the server does not fetch from');
      throw new HttpError(502, 'the IIIF service could not be reached');
    }
  };

  const baseOf = (p: PaintingRow): string => {
    const base = iiifBaseOf(p.sourceUrl);
    if (!base) throw new HttpError(404, `painting ${p.id} was not imported from a IIIF Image API`);
    return base;
  };

  const info = (p: PaintingRow) => {
    const base = baseOf(p);
    let got = infos.get(base);
    if (!got) {
      got = fetchBytes(`${base}/info.json`, 1_000_000).then((res) => {
        const doc = JSON.parse(res.bytes.toString('utf8')) as { width?: unknown; height?: unknown };
        if (!Number.isInteger(doc.width) || !Number.isInteger(doc.height))
          throw new HttpError(502, 'the IIIF info.json has no width and height');
        return { width: doc.width as number, height: doc.height as number };
      });
      infos.set(base, got);
      got.catch(() => infos.delete(base));
    }
    return got;
  };

  app.get(
    '/api/paintings/:id/iiif/info',
    {
      schema: {
        summary: "the full size of a IIIF painting's image service",
        tags,
        params: PAINTING_PARAMS,
        response: withErrors({ 200: INFO }, 403, 404, 502),
      },
    },
    async (req) => info(requirePainting(ws, req.params.id)),
  );

  app.get(
    '/api/paintings/:id/iiif/region',
    {
      schema: {
        summary: 'a region of a IIIF painting at a width, from its image service (for deep zoom)',
        tags,
        params: PAINTING_PARAMS,
        querystring: REGION_QUERY,
        response: withErrors({ 200: binary('the region', 'image/jpeg') }, 403, 404, 502),
      },
    },
    async (req, reply) => {
      const p = requirePainting(ws, req.params.id);
      const full = await info(p);
      const { x, y, w, h, size } = req.query;
      if (x + w > full.width || y + h > full.height)
        throw new HttpError(
          400,
          `the region ${x},${y},${w},${h} is outside the image (${full.width}×${full.height})`,
        );
      const res = await fetchBytes(
        `${baseOf(p)}/${x},${y},${w},${h}/${Math.min(size, w * 2)},/0/default.jpg`,
        ctx.opts.maxUploadBytes,
      );
      reply
        .type(/^image\//.test(res.contentType) ? res.contentType : 'image/jpeg')
        .header('cache-control', 'private, max-age=3600');
      return reply.send(res.bytes);
    },
  );
}
