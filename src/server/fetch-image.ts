/**
 * Fetches an image from a URL for import: a plain image URL, a IIIF Image API `info.json`, or a IIIF Image API
 * base URL (its `info.json` is read). From `info.json` the full image is requested: `{id}/full/max/0/default.jpg`
 * (Image API 3) or `{id}/full/full/0/default.jpg` (2). Only http(s); bodies are read up to a byte limit.
 * Every hop (the URL, each redirect, the IIIF `id`) goes through `guardedGet`: loopback, private, link-local
 * and unspecified addresses are refused after DNS resolution unless `allowPrivate` (`--allow-private-fetch`),
 * and a host that cannot be reached gives one message whatever the reason (no port scanning through it).
 *
 * @example
 * const { bytes, url } = await fetchImageUrl('https://iiif.example.org/iiif/abc/info.json', { maxBytes: 50e6 });
 */
import { HttpError } from './jobs.ts';
import {
  BlockedAddressError,
  guardedGet,
  type PrivatePolicy,
  TooLargeError,
  TooManyRedirectsError,
} from './net-guard.ts';

export interface FetchOptions {
  maxBytes: number;
  timeoutMs?: number;
  /** Fetch loopback, private and link-local addresses too (default false; a function decides per address). */
  allowPrivate?: PrivatePolicy;
}

interface Fetched {
  bytes: Buffer;
  contentType: string;
  url: string;
}

/** Shortened for messages. */
const shown = (url: string) => (url.length > 300 ? `${url.slice(0, 299)}…` : url);

async function get(url: string, o: FetchOptions): Promise<Fetched> {
  let res: Awaited<ReturnType<typeof guardedGet>>;
  try {
    res = await guardedGet(url, {
      maxBytes: o.maxBytes,
      timeoutMs: o.timeoutMs ?? 20_000,
      allowPrivate: o.allowPrivate ?? false,
      headers: { accept: 'image/*, application/ld+json, application/json;q=0.9, */*;q=0.5' },
    });
  } catch (e) {
    if (e instanceof BlockedAddressError)
      throw new HttpError(
        403,
        `refused to fetch ${shown(url)}: it leads to a ${e.kind} address, and the server does not fetch from this machine or its private network (start artprobe serve with --allow-private-fetch to allow it)`,
      );
    if (e instanceof TooLargeError)
      throw new HttpError(
        413,
        `${shown(url)} is ${e.bytes ? `${e.bytes} bytes, ` : ''}larger than the limit of ${o.maxBytes} bytes`,
      );
    if (e instanceof TooManyRedirectsError) throw new HttpError(502, `${shown(url)}: ${e.message}`);
    // DNS failure, refused, reset, timed out, TLS: one message, so that answers do not reveal open ports
    throw new HttpError(
      502,
      `could not reach ${shown(url)}; check the URL and the network connection, or upload the file instead`,
    );
  }
  if (res.status < 200 || res.status >= 300)
    throw new HttpError(502, `${shown(url)} answered HTTP ${res.status}`);
  return { bytes: res.bytes, contentType: res.contentType, url: res.url };
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
