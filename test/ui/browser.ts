/**
 * Headless Debian Chromium for the browser tests (playwright-core drives /usr/bin/chromium; no browser download).
 * `describeBrowser` skips loudly when Chromium is absent; `bundleForTest` bundles a TypeScript entry with
 * esbuild; `serveDir` serves a folder on 127.0.0.1; `saveScreenshot` writes under test-output/screenshots/.
 *
 * @example
 * describeBrowser('ap-heatmap', () => { it('draws', async () => { const page = await newPage(); ... }); });
 */
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { describe, it } from 'vitest';
import { hasShared, repoRoot, sharedPath } from '../helpers/shared-data.ts';

export const CHROMIUM = process.env.ARTPROBE_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(repoRoot, 'test-output', 'screenshots');

/** `describe` that runs only when Debian Chromium is installed; otherwise skipped with a loud warning. */
export function describeBrowser(name: string, fn: () => void): void {
  if (!existsSync(CHROMIUM)) {
    const msg = `\n!!! SKIPPED "${name}": ${CHROMIUM} is missing (apt-get install chromium)\n`;
    console.warn(msg);
    process.stderr.write(msg);
    describe.skip(name, fn);
    return;
  }
  describe(name, fn);
}

/**
 * {@link describeBrowser} that also needs shared data (paths as parts under ../shared); without it the suite is
 * skipped with a loud warning naming what is missing.
 *
 * @example
 * describeBrowserShared('UI end to end', [['toy', 'A', 'model']], () => { ... });
 */
export function describeBrowserShared(name: string, needs: string[][], fn: () => void): void {
  if (hasShared(...needs)) {
    describeBrowser(name, fn);
    return;
  }
  const missing = needs.filter((p) => !hasShared(p)).map((p) => sharedPath(...p));
  console.warn(`\n!!! SKIPPED "${name}": shared data missing: ${missing.join(', ')}\n`);
  describeBrowser(`${name} (skipped: no shared data)`, () => it.skip('needs shared data', fn));
}

/** Launches headless Chromium with the flags that keep it off the network. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** A page that fails the test on uncaught page errors (collected in `errors`). */
export async function openPage(
  browser: Browser,
  viewport = { width: 1280, height: 860 },
): Promise<Page & { errors: string[] }> {
  const page = (await browser.newPage({ viewport })) as Page & { errors: string[] };
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico'))
      page.errors.push(`console: ${m.text()}`);
  });
  return page;
}

/** Bundles an entry (TypeScript, Lit, d3) for the browser into `outfile`. */
export async function bundleForTest(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile,
    logLevel: 'error',
    sourcemap: false,
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.npy': 'application/octet-stream',
};

/** Serves a folder (read-only) on 127.0.0.1; `routes` answer some paths with JSON or bytes first. */
export async function serveDir(
  dir: string,
  routes: Record<string, (body: string) => unknown> = {},
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const route = routes[`${req.method} ${path}`];
    if (route) {
      let body = '';
      for await (const c of req) body += c;
      const out = route(body);
      if (out instanceof Uint8Array)
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(out);
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res
      .writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
      .end(await readFile(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Saves a screenshot as test-output/screenshots/NAME.png and returns its path. */
export async function saveScreenshot(
  page: Page,
  name: string,
  opts: { fullPage?: boolean } = {},
): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: opts.fullPage ?? false });
  return path;
}
