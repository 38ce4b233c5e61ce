/**
 * What keeps `artprobe serve` safe from hostile web pages and from other users of the network, as fastify
 * hooks on the root instance (so every route, including ones added later, and every 404 is covered):
 * - **Host**: only the bound address, the localhost names (`localhost`, `127.0.0.1`, `::1`) and the names
 *   given with `--allow-host` are answered (any `Host` would let a DNS-rebinding page talk to the API);
 *   bound to `0.0.0.0` / `::`, the machine's own interface addresses and host name are accepted too.
 * - **Token**: with a token (required beyond loopback) every request carries it, as
 *   `Authorization: Bearer <token>` (scripts) or as the `artprobe_token` cookie (HttpOnly, SameSite=Strict)
 *   that the one-time sign-in URL `/auth?code=…` sets for the web UI.
 * - **Cross-site requests**: a state-changing request (anything but GET, HEAD, OPTIONS) whose `Origin` is not
 *   the server's own or whose `Sec-Fetch-Site` is not `same-origin` / `none` is refused, whatever its content
 *   type (JSON, text/plain, forms, multipart uploads); cross-site sub-resource reads of `/api/…` are refused
 *   too. Clients that send neither header (curl, scripts) are not browsers and pass.
 * - **Headers** on every response (hijacked ones such as Server-Sent Events included): a Content Security
 *   Policy fit for the UI (`/api/…` gets `default-src 'none'; sandbox`), `X-Content-Type-Options: nosniff`,
 *   `frame-ancestors 'none'` / `X-Frame-Options: DENY`, no referrer, same-origin resource and opener policies.
 *
 * @example
 * const auth = registerSecurity(app, { host: '0.0.0.0', allowHosts: ['lab.example'], token: 's3cret…' });
 * const url = `http://lab.example:8787${auth.loginPath()}`; // one-time sign-in link for a browser
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Name of the cookie that carries the token for the web UI.
 *
 * @example
 * fetch('/api/health', { headers: { cookie: `${TOKEN_COOKIE}=${token}` } });
 */
export const TOKEN_COOKIE = 'artprobe_token';

/**
 * The Content Security Policy of the web UI: scripts and connections to this origin only; inline styles are
 * allowed (the Lit components bind `style` attributes); images also from data: and blob: URLs (downloads,
 * the static report); no plugins, no framing, no foreign form targets.
 *
 * @example
 * reply.header('content-security-policy', UI_CSP);
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The Content Security Policy of API responses (JSON, images, maps, zips): nothing may run or load, even if a
 * response is opened as a page.
 *
 * @example
 * reply.header('content-security-policy', API_CSP);
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

/** Headers every response carries (besides the CSP). */
const COMMON_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};

const LOCAL_NAMES = ['localhost', '127.0.0.1', '::1'];
const UNSPECIFIED = new Set(['0.0.0.0', '::', '', '0:0:0:0:0:0:0:0']);

/**
 * A host name as compared: lower case, without IPv6 brackets, a zone id or a trailing dot.
 *
 * @example
 * normaliseHostName('[::1]'); // '::1'
 * normaliseHostName('LocalHost.'); // 'localhost'
 */
export function normaliseHostName(name: string): string {
  let h = name.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  h = h.replace(/%.*$/, '').replace(/\.$/, '');
  return h;
}

/**
 * True for addresses and names that only this machine can reach: `localhost` (and `*.localhost`),
 * 127.0.0.0/8, `::1` and IPv4-mapped loopback.
 *
 * @example
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('0.0.0.0'); // false: every interface
 */
export function isLoopbackHost(host: string): boolean {
  const h = normaliseHostName(host);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return !!mapped && mapped[1].startsWith('127.');
}

/**
 * The `Host` names a server bound to `bindHost` answers: the localhost names, the bound address (or, bound to
 * every interface, each interface's address and the machine's host name) and `extra`.
 *
 * @example
 * allowedHostNames('127.0.0.1'); // Set { 'localhost', '127.0.0.1', '::1' }
 * allowedHostNames('0.0.0.0', ['lab.example']); // + interface addresses, hostname(), 'lab.example'
 */
export function allowedHostNames(bindHost = '127.0.0.1', extra: string[] = []): Set<string> {
  const names = new Set(LOCAL_NAMES);
  const bind = normaliseHostName(bindHost);
  if (UNSPECIFIED.has(bind)) {
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? []) names.add(normaliseHostName(a.address));
    names.add(normaliseHostName(hostname()));
  } else names.add(bind);
  for (const e of extra) if (e.trim()) names.add(normaliseHostName(e));
  return names;
}

/** The host name of a `Host` header value (`name`, `name:port`, `[v6]:port`), or undefined when malformed. */
function hostOfHeader(value: string | undefined): string | undefined {
  if (!value || value.length > 300) return undefined;
  try {
    const u = new URL(`http://${value}`);
    if (u.username || u.password || u.pathname !== '/' || u.search || u.hash) return undefined;
    return normaliseHostName(u.hostname);
  } catch {
    return undefined;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison of two secrets (of any lengths). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The value of one cookie of a request, or undefined. */
function cookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** What the security hooks need to know. */
export interface SecurityOptions {
  /** The address the server is bound to (default 127.0.0.1). */
  host?: string;
  /** More `Host` names to answer. */
  allowHosts?: string[];
  /** The token requests must carry (none: no authentication, loopback only). */
  token?: string;
}

/** What the server hands out once security is registered. */
export interface SecurityContext {
  /** True when requests must carry the token. */
  readonly tokenRequired: boolean;
  /** The `Host` names answered. */
  readonly hosts: ReadonlySet<string>;
  /** A fresh one-time sign-in path (`/auth?code=…`) that sets the token cookie in a browser. */
  loginPath(): string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SAME_SITE_OK = new Set(['same-origin', 'none']);
/** One-time sign-in codes kept at most (older ones are dropped). */
const MAX_CODES = 100;

function refuse(reply: FastifyReply, status: number, message: string, headers: Record<string, string> = {}) {
  return reply
    .code(status)
    .headers(headers)
    .type('application/json; charset=utf-8')
    .send({ statusCode: status, error: status === 401 ? 'Unauthorized' : 'Forbidden', message });
}

/**
 * Why a request is cross-site, or undefined when it is not (or comes from a non-browser client).
 *
 * @example
 * crossSiteReason({ method: 'POST', url: '/api/catalogs', headers: { host: 'localhost:8787', origin: 'http://evil.example' } });
 * // 'a POST request from another origin (Origin: http://evil.example)'
 */
export function crossSiteReason(req: Pick<FastifyRequest, 'method' | 'url' | 'headers'>): string | undefined {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  const host = (req.headers.host ?? '').toLowerCase();
  if (!SAFE_METHODS.has(req.method)) {
    if (typeof site === 'string' && !SAME_SITE_OK.has(site))
      return `a ${site} ${req.method} request (Sec-Fetch-Site: ${site})`;
    if (typeof origin === 'string') {
      let o: string | undefined;
      try {
        o = origin === 'null' ? undefined : new URL(origin).host.toLowerCase();
      } catch {
        o = undefined;
      }
      if (o !== host) return `a ${req.method} request from another origin (Origin: ${origin.slice(0, 200)})`;
    }
    return undefined;
  }
  // reads: another site may link to a page (a navigation), not load the API as a sub-resource
  if (
    req.url.startsWith('/api/') &&
    (site === 'cross-site' || site === 'same-site') &&
    req.headers['sec-fetch-mode'] !== 'navigate'
  )
    return `a ${site} read of the API (Sec-Fetch-Site: ${site})`;
  return undefined;
}

/**
 * Adds the Host, token and cross-site checks and the security headers to every request of `app` (call it on
 * the root instance before registering routes), and the sign-in routes `GET /auth?code=…` and
 * `POST /api/auth/link`.
 *
 * @example
 * const sec = registerSecurity(app, { host: ctx.opts.host, allowHosts: ctx.opts.allowHosts, token: ctx.opts.token });
 */
export function registerSecurity(app: FastifyInstance, o: SecurityOptions): SecurityContext {
  const hosts = allowedHostNames(o.host, o.allowHosts);
  const token = o.token;
  const codes = new Set<string>();
  const listed = [...new Set([...LOCAL_NAMES, ...(o.allowHosts ?? []).map(normaliseHostName)])].join(', ');

  const loginPath = () => {
    const code = randomBytes(24).toString('base64url');
    codes.add(code);
    while (codes.size > MAX_CODES) codes.delete(codes.values().next().value as string);
    return `/auth?code=${code}`;
  };

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0];
    const raw = reply.raw;
    for (const [k, v] of Object.entries(COMMON_HEADERS)) raw.setHeader(k, v);
    raw.setHeader('content-security-policy', path.startsWith('/api/') ? API_CSP : UI_CSP);

    const h = hostOfHeader(req.headers.host);
    if (!h || !hosts.has(h))
      return refuse(
        reply,
        403,
        `this server does not answer requests for host ${JSON.stringify(String(req.headers.host ?? '').slice(0, 100))} (answered: ${listed}${UNSPECIFIED.has(normaliseHostName(o.host ?? '127.0.0.1')) ? ' and this machine’s addresses' : ''}); to use another name, start artprobe serve with --allow-host <name>`,
      );

    if (token && !(req.method === 'GET' && path === '/auth')) {
      const auth = req.headers.authorization;
      const bearer =
        typeof auth === 'string' && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '') : '';
      const fromCookie = cookie(req, TOKEN_COOKIE) ?? '';
      if (!((bearer && sameSecret(bearer, token)) || (fromCookie && sameSecret(fromCookie, token)))) {
        if (req.method === 'GET' && /text\/html/.test(String(req.headers.accept ?? '')))
          return reply
            .code(401)
            .type('text/html; charset=utf-8')
            .send(
              '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>artprobe: sign in</title></head>' +
                '<body style="font-family:system-ui;max-width:40em;margin:3em auto"><h1>Sign in to artprobe</h1>' +
                '<p>This server needs its token. Open the one-time sign-in link that <code>artprobe serve</code> printed ' +
                'when it started, or ask for a new one with <code>curl -X POST -H "Authorization: Bearer &lt;token&gt;" ' +
                '&lt;server&gt;/api/auth/link</code>.</p></body></html>',
            );
        return refuse(
          reply,
          401,
          'this server needs its token: send "Authorization: Bearer <token>" (the token artprobe serve printed or was given with --token / ARTPROBE_TOKEN), or open a sign-in link in the browser',
          { 'www-authenticate': 'Bearer realm="artprobe"' },
        );
      }
    }

    const cross = crossSiteReason(req);
    if (cross)
      return refuse(
        reply,
        403,
        `refused ${cross}: the artprobe API only takes changes from its own web UI and from non-browser clients`,
      );
  });

  app.get('/auth', { schema: { hide: true } }, async (req, reply) => {
    const code = (req.query as { code?: unknown }).code;
    if (!token) return reply.redirect('/', 303);
    if (typeof code !== 'string' || !codes.has(code))
      return reply
        .code(403)
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>artprobe: link used</title></head>' +
            '<body style="font-family:system-ui;max-width:40em;margin:3em auto"><h1>This sign-in link is not valid</h1>' +
            '<p>Each link works once. Ask the server for a new one with <code>curl -X POST -H "Authorization: Bearer ' +
            '&lt;token&gt;" &lt;server&gt;/api/auth/link</code>, or restart <code>artprobe serve</code>.</p></body></html>',
        );
    codes.delete(code);
    reply.header(
      'set-cookie',
      `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`,
    );
    return reply.redirect('/', 303);
  });

  app.post(
    '/api/auth/link',
    {
      schema: {
        summary: 'a new one-time sign-in link for a browser (needs the token)',
        tags: ['health'],
        response: {
          200: {
            type: 'object',
            properties: { path: { type: 'string' }, tokenRequired: { type: 'boolean' } },
          },
        },
      },
    },
    async () => ({ path: token ? loginPath() : '/', tokenRequired: !!token }),
  );

  return { tokenRequired: !!token, hosts, loginPath };
}
