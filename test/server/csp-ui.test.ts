/**
 * The Content Security Policy the server sends is fit for the web UI: the built UI, served by the real server
 * with its security headers, opens the gallery and a painting with its heatmaps in headless Chromium without a
 * single CSP violation (scripts, inline style attributes, canvases, images, Server-Sent Events, fetches).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { hasShared, sharedPath } from '../helpers/shared-data.ts';
import { describeBrowser, launchBrowser, openPage } from '../ui/browser.ts';
import { bundleUi } from '../ui/ui-bundle.ts';

const run = hasShared(['toy', 'A', 'model'], ['toy', 'A', 'eval', 'images', 'img_000.png'])
  ? describeBrowser
  : (name: string, fn: () => void) =>
      describeBrowser(`${name} (skipped: no shared data)`, () => it.skip('needs shared data', fn));

run('the UI under the server’s CSP', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'artprobe-csp-'));
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let url = '';
  const violations: string[] = [];

  beforeAll(async () => {
    const uiDir = await bundleUi(join(tmp, 'ui'));
    app = await buildApp({ workspace: join(tmp, 'ws'), model: sharedPath('toy', 'A', 'model'), uiDir });
    await app.artprobe.modelReady;
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
    page = await openPage(browser, { width: 1200, height: 850 });
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`Refused to ${e.violatedDirective}: ${e.blockedURI}`),
      );
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('opens the gallery and a painting with its maps without CSP violations', async () => {
    const res = await page.goto(url);
    expect(res?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await page.locator('ap-gallery').waitFor();
    const form = new FormData();
    form.append('file', new Blob([readFileSync(sharedPath('toy/A/eval/images/img_000.png'))]), 'img_000.png');
    const p = (await (await fetch(`${url}/api/paintings`, { method: 'POST', body: form })).json()) as {
      id: string;
    };
    await page.goto(`${url}/#/painting/${p.id}?prompts=a%20red%20circle&method=chefer-all`);
    await page.locator('ap-painting-view h2').waitFor({ timeout: 20_000 });
    await expect
      .poll(() => page.locator('ap-painting-view figure ap-heatmap canvas:not([hidden])').count(), {
        timeout: 60_000,
      })
      .toBeGreaterThan(0);
    await page.waitForTimeout(500);
    expect(violations).toEqual([]);
    // the policy is enforced (and seen by this test): an injected inline script is refused
    await page.evaluate(() => {
      const el = document.createElement('script');
      el.textContent = 'window.injected = true';
      document.head.append(el);
    });
    await expect.poll(() => violations.length).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).toBeUndefined();
  });
});
