/**
 * Fetches an image from a URL for import: a plain image URL, a IIIF Image API `info.json`, or a IIIF Image API
 * base URL (its `info.json` is read). From `info.json` the full image is requested: `{id}/full/max/0/default.jpg`
 * (Image API 3) or `{id}/full/full/0/default.jpg` (2). Only http(s); bodies are read up to a byte limit.
 * A host that cannot be reached (offline) gives an error saying so.
 *
 * @example
 * const { bytes, url } = await fetchImageUrl('https://iiif.example.org/iiif/abc/info.json', { maxBytes: 50e6 });
 */
import { HttpError } from './jobs.ts';

export interface FetchOptions {
  maxBytes: number;
  timeoutMs?: number;
}

interface Fetched {
  bytes: Buffer;
  contentType: string;
  url: string;
}

async function get(url: string, o: FetchOptions): Promise<Fetched> {
  let res: Response;
  try {
    res = await fetch(url, {
      signal: AbortSignal.timeout(o.timeoutMs ?? 20_000),
      redirect: 'follow',
      headers: { accept: 'image/*, application/ld+json, application/json;q=0.9, */*;q=0.5' },
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new HttpError(
      502,
      `could not reach ${url} (${cause?.code ?? cause?.message ?? (e as Error).message}); check the URL and the network connection, or upload the file instead`,
    );
  }
  if (!res.ok) throw new HttpError(502, `${url} answered HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > o.maxBytes)
    throw new HttpError(413, `${url} is ${declared} bytes, above the limit of ${o.maxBytes}`);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body ?? []) {
    n += chunk.length;
    if (n > o.maxBytes) throw new HttpError(413, `${url} is larger than the limit of ${o.maxBytes} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return {
    bytes: Buffer.concat(chunks),
    contentType: res.headers.get('content-type') ?? '',
    url: res.url || url,
  };
}

/** Parses a IIIF Image API info.json; returns the full-image URL, or undefined when it is not one. */
export function iiifFullImageUrl(info: unknown): string | undefined {
  if (!info || typeof info !== 'object') return undefined;
  const o = info as Record<string, unknown>;
  const ctx = JSON.stringify(o['@context'] ?? '');
  const id = (o.id ?? o['@id']) as string | undefined;
  if (typeof id !== 'string' || !/^https?:\/\//.test(id) || !ctx.includes('iiif.io/api/image'))
    return undefined;
  const base = id.replace(/\/+$/, '');
  return ctx.includes('image/3') ? `${base}/full/max/0/default.jpg` : `${base}/full/full/0/default.jpg`;
}

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Fetches the image a URL designates (directly or through IIIF). */
export async function fetchImageUrl(url: string, o: FetchOptions): Promise<Fetched & { iiif?: string }> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HttpError(400, `not a URL: ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new HttpError(400, `only http and https URLs can be imported, got ${u.protocol}`);
  if (u.username || u.password) throw new HttpError(400, 'URLs with credentials are not accepted');
  const infoUrl = `${u.href.replace(/\/+$/, '')}/info.json`;
  let first: Fetched;
  try {
    first = await get(u.href, o);
  } catch (e) {
    // an Image API base URL that does not redirect to its info.json: ask for it
    if (
      !(e instanceof HttpError) ||
      e.statusCode !== 502 ||
      /\.[a-z0-9]{2,5}$/i.test(u.pathname) ||
      /could not reach/.test(e.message)
    )
      throw e;
    first = await get(infoUrl, o);
  }
  const looksJson = /json/.test(first.contentType) || first.bytes[0] === 0x7b;
  if (!looksJson) {
    if (/^image\//.test(first.contentType) || !/text\/html/.test(first.contentType)) return first;
    // an HTML page at an Image API base URL: try its info.json
  }
  const info = looksJson
    ? parseJson(first.bytes)
    : parseJson((await get(infoUrl, o).catch(() => first)).bytes);
  const full = iiifFullImageUrl(info);
  if (!full) throw new HttpError(415, `${url} is neither an image nor a IIIF Image API info.json`);
  return { ...(await get(full, o)), iiif: full };
}
