/**
 * Server-side fetches that cannot be turned against the machine or its network: every address a host name
 * resolves to is classified (`classifyAddress`) and loopback, private, link-local, unspecified, multicast and
 * reserved ranges are refused unless the caller allows private addresses. The check runs inside the socket's
 * DNS lookup, so the address that is checked is the address that is connected to (no second resolution a
 * rebinding DNS server could answer differently), and again on every redirect hop (`guardedGet` follows
 * redirects itself). Errors never tell a refused connection from a timeout or a reset, so they do not reveal
 * which ports are open.
 *
 * @example
 * classifyAddress('127.1'); // undefined (not an address: URL parsing normalises it to 127.0.0.1 first)
 * classifyAddress('10.1.2.3'); // 'private'
 * const res = await guardedGet('https://iiif.example.org/x/info.json', { maxBytes: 50e6, timeoutMs: 20_000 });
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

/** Where an address points. */
export type AddressKind =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

function v4Bytes(ip: string): number[] | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  const b = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
  return b.every((x) => x >= 0 && x <= 255) ? b : undefined;
}

function classifyV4(b: number[]): AddressKind {
  const [a, c] = [b[0], b[1]];
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 10) return 'private';
  if (a === 100 && c >= 64 && c <= 127) return 'private'; // carrier-grade NAT
  if (a === 169 && c === 254) return 'link-local';
  if (a === 172 && c >= 16 && c <= 31) return 'private';
  if (a === 192 && c === 168) return 'private';
  if (a === 198 && (c === 18 || c === 19)) return 'private'; // benchmarking
  if (a === 192 && c === 0 && (b[2] === 0 || b[2] === 2)) return 'reserved';
  if (a === 198 && c === 51 && b[2] === 100) return 'reserved';
  if (a === 203 && c === 0 && b[2] === 113) return 'reserved';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved';
  return 'public';
}

/** The 8 groups of an IPv6 address (embedded dotted IPv4 accepted), or undefined. */
function v6Groups(ip: string): number[] | undefined {
  let s = ip.replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const b = v4Bytes(dotted[1]);
    if (!b) return undefined;
    s = `${s.slice(0, -dotted[1].length)}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string) =>
    h ? h.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)) : [];
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return undefined;
  const g = [...head, ...new Array(fill).fill(0), ...tail];
  return g.length === 8 && g.every((x) => Number.isInteger(x)) ? g : undefined;
}

/**
 * What kind of address an IP literal is, or undefined when `ip` is not one. IPv4-mapped, IPv4-compatible,
 * NAT64 and 6to4 IPv6 addresses are classified by the IPv4 address they carry.
 *
 * @example
 * classifyAddress('::ffff:127.0.0.1'); // 'loopback'
 * classifyAddress('fd00::1'); // 'private'
 * classifyAddress('93.184.216.34'); // 'public'
 */
export function classifyAddress(ip: string): AddressKind | undefined {
  const family = isIP(ip.replace(/%.*$/, ''));
  if (family === 4) {
    const b = v4Bytes(ip);
    return b && classifyV4(b);
  }
  if (family !== 6) return undefined;
  const g = v6Groups(ip.toLowerCase());
  if (!g) return undefined;
  const v4 = (hi: number, lo: number) => classifyV4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (zeros(7) && g[7] === 1) return 'loopback';
  if (zeros(5) && g[5] === 0xffff) return v4(g[6], g[7]); // ::ffff:a.b.c.d
  if (zeros(6)) return v4(g[6], g[7]); // ::a.b.c.d (deprecated IPv4-compatible)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4(g[6], g[7]);
  if (g[0] === 0x2002) return v4(g[1], g[2]); // 6to4
  if ((g[0] & 0xfe00) === 0xfc00) return 'private'; // unique local
  if ((g[0] & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0] & 0xffc0) === 0xfec0) return 'private'; // site-local (deprecated)
  if ((g[0] & 0xff00) === 0xff00) return 'multicast';
  if (g[0] === 0x2001 && g[1] === 0x0db8) return 'reserved'; // documentation
  if (g[0] === 0x2001 && g[1] === 0) return 'reserved'; // Teredo: carries an obfuscated IPv4 address
  if (g[0] === 0x100 && g.slice(1, 4).every((x) => x === 0)) return 'reserved'; // discard
  return 'public';
}

/** Whether non-public addresses may be fetched: all of them, none, or as a function decides. */
export type PrivatePolicy = boolean | ((address: string, kind: AddressKind) => boolean);

/**
 * A fetch refused because of where it would go (never sent).
 *
 * @example
 * try { await guardedGet('http://127.0.0.1/', o); } catch (e) { if (e instanceof BlockedAddressError) e.kind; } // 'loopback'
 */
export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';
  constructor(
    readonly host: string,
    readonly kind: AddressKind,
  ) {
    super(`${host} is a ${kind} address`);
  }
}

/**
 * A fetch that failed on the way (DNS, connection, TLS, timeout): deliberately without details.
 *
 * @example
 * if (e instanceof UnreachableError) throw new HttpError(502, `could not reach ${url}`);
 */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

/**
 * A redirect chain too long or looping.
 *
 * @example
 * await guardedGet(url, { maxBytes, maxRedirects: 5 }); // rejects with it after the 6th redirect
 */
export class TooManyRedirectsError extends Error {
  override name = 'TooManyRedirectsError';
}

/**
 * An answer whose body is above the byte limit (`bytes`: the declared length, when there was one).
 *
 * @example
 * if (e instanceof TooLargeError) throw new HttpError(413, 'too large');
 */
export class TooLargeError extends Error {
  override name = 'TooLargeError';
  constructor(readonly bytes: number | undefined) {
    super('the answer is above the size limit');
  }
}

/** Options of {@link guardedGet}. */
export interface GuardedGetOptions {
  /** Largest body read, in bytes. */
  maxBytes: number;
  /** Time allowed for each hop (connect, answer, body), ms (default 20 000). */
  timeoutMs?: number;
  /**
   * Allow loopback, private, link-local and other non-public addresses (default false); a function decides per
   * address (e.g. one test listener only).
   */
  allowPrivate?: PrivatePolicy;
  /** Redirects followed at most (default 5). */
  maxRedirects?: number;
  /** Request headers. */
  headers?: Record<string, string>;
}

/** An answer of {@link guardedGet} (any HTTP status; redirects already followed). */
export interface GuardedResponse {
  status: number;
  contentType: string;
  /** The URL that answered (after redirects). */
  url: string;
  bytes: Buffer;
}

/**
 * Refuses a host (an IP literal, or a name once resolved) that points to a non-public address, unless the
 * policy allows it.
 *
 * @example
 * checkAddress('localhost', '127.0.0.1', false); // throws BlockedAddressError: localhost is a loopback address
 */
export function checkAddress(host: string, address: string, allowPrivate: PrivatePolicy): void {
  if (allowPrivate === true) return;
  const kind = classifyAddress(address) ?? 'reserved';
  if (kind === 'public') return;
  if (typeof allowPrivate === 'function' && allowPrivate(address, kind)) return;
  throw new BlockedAddressError(host, kind);
}

/** A DNS lookup for sockets that refuses non-public addresses (every address a name has, not only the first). */
function guardedLookup(allowPrivate: PrivatePolicy): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      try {
        if (list.length === 0) throw new UnreachableError(`${hostname} has no address`);
        for (const a of list) checkAddress(hostname, a.address, allowPrivate);
      } catch (e) {
        return callback(e as NodeJS.ErrnoException, '', 0);
      }
      if ((options as dns.LookupOptions).all)
        (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      else callback(null, list[0].address, list[0].family);
    });
  };
}

/** One GET without following redirects. */
function getOnce(
  url: URL,
  o: Required<Pick<GuardedGetOptions, 'maxBytes' | 'timeoutMs' | 'allowPrivate'>> & GuardedGetOptions,
): Promise<GuardedResponse & { location?: string }> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) checkAddress(host, host, o.allowPrivate);
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(
        e instanceof BlockedAddressError || e instanceof TooLargeError ? e : new UnreachableError(e.message),
      );
    };
    const timer = setTimeout(() => fail(new UnreachableError('timed out')), o.timeoutMs);
    const req = mod.request(
      url,
      {
        method: 'GET',
        headers: { 'accept-encoding': 'identity', 'user-agent': 'artprobe', ...(o.headers ?? {}) },
        lookup: guardedLookup(o.allowPrivate),
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const contentType = String(res.headers['content-type'] ?? '');
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          clearTimeout(timer);
          settled = true;
          resolve({
            status,
            contentType,
            url: url.href,
            bytes: Buffer.alloc(0),
            location: res.headers.location,
          });
          return;
        }
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > o.maxBytes) return fail(new TooLargeError(declared));
        const chunks: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (n > o.maxBytes) return fail(new TooLargeError(undefined));
          chunks.push(c);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status, contentType, url: url.href, bytes: Buffer.concat(chunks) });
        });
        res.on('error', (e) => fail(e));
      },
    );
    req.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    req.end();
  });
}

/**
 * GETs a http(s) URL, following up to `maxRedirects` redirects, each hop checked like the first: the URL's
 * address (an IP literal, or every address its name resolves to) must be public unless `allowPrivate`.
 * Rejects with {@link BlockedAddressError}, {@link UnreachableError}, {@link TooManyRedirectsError} or
 * {@link TooLargeError}; any HTTP status is resolved.
 *
 * @example
 * const r = await guardedGet('http://127.0.0.1:8080/a.png', { maxBytes: 1e6, allowPrivate: true });
 */
export async function guardedGet(href: string, opts: GuardedGetOptions): Promise<GuardedResponse> {
  const o = { timeoutMs: 20_000, allowPrivate: false, maxRedirects: 5, ...opts };
  let url = new URL(href);
  const seen = new Set<string>();
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new UnreachableError(`a redirect to a ${url.protocol} URL`);
    if (url.username || url.password) throw new UnreachableError('a redirect to a URL with credentials');
    seen.add(url.href);
    const r = await getOnce(url, o);
    if (r.location === undefined) return r;
    if (hop >= o.maxRedirects) throw new TooManyRedirectsError(`more than ${o.maxRedirects} redirects`);
    let next: URL;
    try {
      next = new URL(r.location, url);
    } catch {
      throw new UnreachableError('a redirect to an invalid URL');
    }
    if (seen.has(next.href)) throw new TooManyRedirectsError('a redirect loop');
    url = next;
  }
}
