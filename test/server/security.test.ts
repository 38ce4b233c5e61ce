/**
 * The server against hostile web pages and hostile URLs (issue: "safe against hostile web pages and hostile
 * files"): DNS rebinding (any Host), cross-site posts of every content type (multipart included), the security
 * headers, the token and its one-time sign-in link, and server-side fetches of local addresses (refused after
 * DNS resolution and on every redirect and IIIF hop unless --allow-private-fetch, with errors that do not tell
 * open ports from closed ones). No model is needed: these run on the routes alone.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { classifyAddress, guardedGet } from '../../src/server/net-guard.ts';
import { allowedHostNames, isLoopbackHost } from '../../src/server/security.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { multipart } from './helpers.ts';

/** A listener on `host` that counts its requests and answers from a route table. */
async function listener(
  host: string,
  routes: Record<
    string,
    (base: string) => { status?: number; type?: string; body?: Buffer | string; location?: string }
  >,
): Promise<{ base: string; port: number; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const r = routes[(req.url ?? '').split('?')[0]]?.(base);
    if (!r) return res.writeHead(404).end('no');
    res.writeHead(r.status ?? 200, {
      'content-type': r.type ?? 'application/octet-stream',
      ...(r.location ? { location: r.location } : {}),
    });
    res.end(r.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://${host}:${port}`;
  return { base, port, hits, close: () => new Promise((r) => server.close(() => r())) };
}

describe('address classification and host names', () => {
  it('classifies loopback, private, link-local, unspecified and mapped addresses', () => {
    const cases: [string, string | undefined][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['0.0.0.0', 'unspecified'],
      ['10.0.0.5', 'private'],
      ['172.16.3.4', 'private'],
      ['172.32.0.1', 'public'],
      ['192.168.1.1', 'private'],
      ['100.64.0.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['93.184.216.34', 'public'],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:10.1.2.3', 'private'],
      ['64:ff9b::a9fe:a9fe', 'link-local'],
      ['2002:7f00:1::', 'loopback'],
      ['fd12:3456::1', 'private'],
      ['fe80::1', 'link-local'],
      ['ff02::1', 'multicast'],
      ['2606:4700::1111', 'public'],
      ['localhost', undefined],
      ['127.1', undefined],
    ];
    for (const [ip, kind] of cases) expect(classifyAddress(ip), ip).toBe(kind);
    // the spellings a URL parser turns into 127.0.0.1 / 0.0.0.0
    for (const u of ['http://2130706433/', 'http://127.1/', 'http://0x7f.1/', 'http://0177.0.0.1/'])
      expect(classifyAddress(new URL(u).hostname), u).toBe('loopback');
    expect(classifyAddress(new URL('http://0/').hostname)).toBe('unspecified');
  });

  it('knows loopback binds and the Host names a server answers', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.168.1.10')).toBe(false);
    expect([...allowedHostNames('127.0.0.1')].sort()).toEqual(['127.0.0.1', '::1', 'localhost']);
    const all = allowedHostNames('0.0.0.0', ['Lab.Example.']);
    expect(all.has('lab.example')).toBe(true);
    expect(all.has('127.0.0.1')).toBe(true);
    expect(all.has('attacker.example')).toBe(false);
  });
});

describeShared('server security (app.inject, no model)', ['toy/A/eval/images'], () => {
  let app: FastifyInstance;
  let dir: string;
  let pid: string;
  const png = readFileSync(sharedPath('toy/A/eval/images/img_000.png'));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'artprobe-sec-'));
    app = await buildApp({
      workspace: join(dir, 'ws'),
      uiDir: join(dir, 'no-ui'),
      modelsDir: join(dir, 'models'),
      allowHosts: ['artprobe.lab.example'],
      fetchTimeoutMs: 3000,
    });
    const r = await app.inject({
      method: 'POST',
      url: '/api/paintings',
      ...multipart([{ name: 'file', filename: 'img_000.png', content: png }]),
    });
    pid = r.json().id;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a rebinding Host and answers its own names', async () => {
    for (const host of [
      'attacker.example',
      'attacker.example:8787',
      '127.0.0.1.nip.io',
      'evil',
      '[::2]:80',
    ]) {
      const r = await app.inject({ url: '/api/health', headers: { host } });
      expect(r.statusCode, host).toBe(403);
      expect(r.body).not.toContain(dir); // nothing of the workspace leaks
      expect(r.json().message).toMatch(/--allow-host/);
    }
    for (const host of [
      'localhost',
      'localhost:8787',
      '127.0.0.1:8787',
      '[::1]:8787',
      'LOCALHOST',
      'artprobe.lab.example',
    ]) {
      const r = await app.inject({ url: '/api/health', headers: { host } });
      expect(r.statusCode, host).toBe(200);
    }
    // a rebinding page cannot delete either
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/paintings/${pid}`,
      headers: { host: 'attacker.example:8787' },
    });
    expect(del.statusCode).toBe(403);
    expect((await app.inject(`/api/paintings/${pid}`)).statusCode).toBe(200);
  });

  it('refuses cross-site multipart posts, which change nothing', async () => {
    const catalog = JSON.stringify([{ file: 'img_000.png', title: 'overwritten by a hostile page' }]);
    const before = (await app.inject(`/api/paintings/${pid}`)).json();
    const hostile: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' }, // another port of localhost is the same site
      { origin: 'http://localhost:9999', 'sec-fetch-site': 'same-site' },
    ];
    for (const h of hostile) {
      for (const [url, part] of [
        ['/api/catalogs', { name: 'file', filename: 'c.json', content: catalog }],
        ['/api/paintings', { name: 'file', filename: 'x.png', content: png }],
        ['/api/embedding-tables', { name: 'file', filename: 't.csv', content: 'a,b\n1,2\n' }],
      ] as const) {
        const body = multipart([part]);
        const r = await app.inject({
          method: 'POST',
          url,
          payload: body.payload,
          headers: { ...body.headers, ...h },
        });
        expect(r.statusCode, `${url} ${JSON.stringify(h)}`).toBe(403);
        expect(r.json().message).toMatch(/refused/);
      }
      // JSON, text/plain and form posts too, and deletes
      for (const [type, payload] of [
        ['application/json', '{"url":"http://example.com/a.png"}'],
        ['text/plain', 'x'],
        ['application/x-www-form-urlencoded', 'url=x'],
      ]) {
        const r = await app.inject({
          method: 'POST',
          url: '/api/paintings/import',
          payload,
          headers: { 'content-type': type, ...h },
        });
        expect(r.statusCode).toBe(403);
      }
      expect(
        (await app.inject({ method: 'DELETE', url: `/api/paintings/${pid}`, headers: h })).statusCode,
      ).toBe(403);
    }
    // nothing changed: no catalog, the painting's metadata as it was, no new painting or table
    expect((await app.inject('/api/catalogs')).json()).toEqual([]);
    expect((await app.inject(`/api/paintings/${pid}`)).json()).toEqual(before);
    expect((await app.inject('/api/paintings')).json()).toHaveLength(1);
    expect((await app.inject('/api/embedding-tables')).json()).toEqual([]);
    expect(readdirSync(join(dir, 'ws', 'catalogs'))).toEqual([]);
    // the UI's own requests (same origin) and scripts (no Origin) pass
    const own = multipart([{ name: 'file', filename: 'c.json', content: catalog }]);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/catalogs',
      payload: own.payload,
      headers: {
        ...own.headers,
        host: '127.0.0.1:8787',
        origin: 'http://127.0.0.1:8787',
        'sec-fetch-site': 'same-origin',
      },
    });
    expect(ok.statusCode).toBe(201);
    expect((await app.inject(`/api/paintings/${pid}`)).json().metadata.title).toBe(
      'overwritten by a hostile page',
    );
    // cross-site reads of the API as a sub-resource are refused; a link (navigation) is not
    expect(
      (
        await app.inject({
          url: '/api/paintings',
          headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await app.inject({
          url: '/api/health',
          headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('sends the security headers on every response and serves images with their verified type', async () => {
    const responses = [
      await app.inject('/api/health'),
      await app.inject('/'),
      await app.inject('/api/nope'),
      await app.inject({ url: '/api/health', headers: { host: 'attacker.example' } }),
      await app.inject(`/api/paintings/${pid}/image`),
      await app.inject({ method: 'POST', url: '/api/jobs', payload: {} }),
    ];
    for (const r of responses) {
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(String(r.headers['content-security-policy'])).toMatch(/frame-ancestors 'none'/);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
    expect(String(responses[1].headers['content-security-policy'])).toMatch(/script-src 'self'/);
    expect(String(responses[0].headers['content-security-policy'])).toMatch(/default-src 'none'.*sandbox/);
    // a PNG uploaded as "photo.jpg" with a JPEG type is served as what it is
    const up = multipart([{ name: 'file', filename: 'photo.jpg', content: png, contentType: 'image/jpeg' }]);
    const r = await app.inject({ method: 'POST', url: '/api/paintings', ...up });
    expect(r.json().format).toBe('png');
    const img = await app.inject(`/api/paintings/${r.json().id}/image`);
    expect(img.headers['content-type']).toBe('image/png');
    // hijacked responses (Server-Sent Events) carry the headers too
    const server = await app.listen({ port: 0, host: '127.0.0.1' });
    const events = await fetch(`${server}/api/jobs/00000000-0000-4000-8000-000000000000/events`);
    expect(events.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses imports from local addresses unless allowed, whatever the spelling, hop or port state', async () => {
    const local = await listener('127.0.0.1', {
      '/a.png': () => ({ type: 'image/png', body: png }),
    });
    // a closed port on the same host
    const closed = await listener('127.0.0.1', {});
    await closed.close();
    try {
      const spellings = [
        `${local.base}/a.png`,
        `http://localhost:${local.port}/a.png`,
        `http://0.0.0.0:${local.port}/a.png`,
        `http://2130706433:${local.port}/a.png`,
        `http://127.1:${local.port}/a.png`,
        `http://[::1]:${local.port}/a.png`,
        `http://[::ffff:127.0.0.1]:${local.port}/a.png`,
        'http://169.254.169.254/latest/meta-data/',
        'http://10.0.0.1/a.png',
      ];
      for (const url of spellings) {
        const r = await app.inject({ method: 'POST', url: '/api/paintings/import', payload: { url } });
        expect(r.statusCode, url).toBe(403);
        expect(r.json().message, url).toMatch(/refused to fetch .*--allow-private-fetch/);
      }
      expect(local.hits).toEqual([]); // never connected
      // an open and a closed port answer alike
      const open = await app.inject({
        method: 'POST',
        url: '/api/paintings/import',
        payload: { url: `${local.base}/a.png` },
      });
      const shut = await app.inject({
        method: 'POST',
        url: '/api/paintings/import',
        payload: { url: `http://127.0.0.1:${closed.port}/a.png` },
      });
      expect(shut.statusCode).toBe(open.statusCode);
      expect(shut.json().message.replace(String(closed.port), 'P')).toBe(
        open.json().message.replace(String(local.port), 'P'),
      );
    } finally {
      await local.close();
    }
  });
});

describeShared('server-side fetch with --allow-private-fetch', ['toy/A/eval/images'], () => {
  const png = readFileSync(sharedPath('toy/A/eval/images/img_001.png'));

  it('allows a local test listener with the flag, still checks every redirect and IIIF hop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'artprobe-sec-allow-'));
    const app = await buildApp({
      workspace: join(dir, 'ws'),
      uiDir: join(dir, 'no-ui'),
      allowPrivateFetch: true,
      fetchTimeoutMs: 3000,
    });
    const secret = await listener('127.0.0.2', { '/secret.png': () => ({ type: 'image/png', body: png }) });
    const front = await listener('127.0.0.1', {
      '/a.png': () => ({ type: 'image/png', body: png }),
      '/jump': () => ({ status: 302, location: `${secret.base}/secret.png` }),
      '/iiif/info.json': () => ({
        type: 'application/json',
        body: JSON.stringify({
          '@context': 'http://iiif.io/api/image/3/context.json',
          id: `${secret.base}/iiif`,
        }),
      }),
    });
    try {
      const ok = await app.inject({
        method: 'POST',
        url: '/api/paintings/import',
        payload: { url: `${front.base}/a.png` },
      });
      expect(ok.statusCode).toBe(201);
      // a closed port and one that never answers give the same message (no port scanning through it)
      const hang = http.createServer(() => undefined);
      await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
      const hangPort = (hang.address() as AddressInfo).port;
      const closedProbe = await listener('127.0.0.1', {});
      await closedProbe.close();
      const a = await app.inject({
        method: 'POST',
        url: '/api/paintings/import',
        payload: { url: `http://127.0.0.1:${hangPort}/x.png` },
      });
      const b = await app.inject({
        method: 'POST',
        url: '/api/paintings/import',
        payload: { url: `http://127.0.0.1:${closedProbe.port}/x.png` },
      });
      hang.close();
      expect([a.statusCode, b.statusCode]).toEqual([502, 502]);
      expect(a.json().message.replace(String(hangPort), 'P')).toBe(
        b.json().message.replace(String(closedProbe.port), 'P'),
      );
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
    // each hop is checked again: allowed for 127.0.0.1 only, the redirect and the IIIF id to 127.0.0.2 are refused
    const only = (addr: string) => addr === '127.0.0.1';
    await expect(
      guardedGet(`${front.base}/a.png`, { maxBytes: 1e6, allowPrivate: only }),
    ).resolves.toMatchObject({
      status: 200,
    });
    await expect(guardedGet(`${front.base}/jump`, { maxBytes: 1e6, allowPrivate: only })).rejects.toThrow(
      /127\.0\.0\.2 is a loopback address/,
    );
    const { fetchImageUrl } = await import('../../src/server/fetch-image.ts');
    await expect(
      fetchImageUrl(`${front.base}/iiif/info.json`, { maxBytes: 1e6, allowPrivate: only }),
    ).rejects.toMatchObject({ statusCode: 403 });
    expect(secret.hits).toEqual([]);
    await front.close();
    await secret.close();
  });
});

describeShared('the token', ['toy/A/eval/images'], () => {
  it('is required on every request; the one-time link sets the UI cookie', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'artprobe-sec-token-'));
    const token = 'correct-horse-battery-staple-42';
    const app = await buildApp({
      workspace: join(dir, 'ws'),
      uiDir: join(dir, 'no-ui'),
      token,
      host: '0.0.0.0',
    });
    try {
      expect((await app.inject('/api/health')).statusCode).toBe(401);
      expect((await app.inject('/')).statusCode).toBe(401);
      const page = await app.inject({ url: '/', headers: { accept: 'text/html' } });
      expect(page.statusCode).toBe(401);
      expect(page.body).toMatch(/sign-in link/);
      expect(
        (
          await app.inject({
            url: '/api/health',
            headers: { authorization: 'Bearer wrong-token-wrong-token' },
          })
        ).statusCode,
      ).toBe(401);
      const ok = await app.inject({ url: '/api/health', headers: { authorization: `Bearer ${token}` } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().auth).toEqual({ tokenRequired: true });
      // the sign-in link works once and sets an HttpOnly, SameSite=Strict cookie
      const path = app.artprobe.security.loginPath();
      const login = await app.inject(path);
      expect(login.statusCode).toBe(303);
      expect(login.headers.location).toBe('/');
      const cookie = String(login.headers['set-cookie']);
      expect(cookie).toMatch(/artprobe_token=.*HttpOnly.*SameSite=Strict/);
      expect((await app.inject(path)).statusCode).toBe(403);
      const withCookie = await app.inject({ url: '/api/health', headers: { cookie: cookie.split(';')[0] } });
      expect(withCookie.statusCode).toBe(200);
      // a new link, with the token
      const link = await app.inject({
        method: 'POST',
        url: '/api/auth/link',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(link.json().path).toMatch(/^\/auth\?code=/);
      expect((await app.inject({ method: 'POST', url: '/api/auth/link' })).statusCode).toBe(401);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
