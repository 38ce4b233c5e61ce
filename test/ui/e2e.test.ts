/**
 * End-to-end: the real server (toy model, temp workspace) serving the built UI, driven in headless Chromium:
 * open the gallery, upload a painting, explain it for two prompts, check the heatmap pixels differ between the
 * prompts, draw a region, read its metrics, export the static report and open it from disk.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { hasShared, sharedPath } from '../helpers/shared-data.ts';
import { describeBrowser, launchBrowser, openPage, saveScreenshot } from './browser.ts';
import { bundleUi } from './ui-bundle.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ui-e2e-'));
let app: FastifyInstance;
let browser: Browser;
let page: Page & { errors: string[] };
let url: string;

/** RGBA bytes of a canvas inside the page (any shadow depth), passed as base64 (large arrays serialise slowly). */
async function canvasPixels(selector: string): Promise<Uint8Array> {
  const b64 = await page.locator(selector).evaluate((c: HTMLCanvasElement) => {
    const d = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode(...d.subarray(i, i + 8192));
    return btoa(s);
  });
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

const run = hasShared(['toy', 'A', 'model'], ['toy', 'A', 'eval', 'images', 'img_000.png'])
  ? describeBrowser
  : (name: string, fn: () => void) => {
      console.warn(`\n!!! SKIPPED "${name}": shared toy model missing at ${sharedPath('toy')}\n`);
      describeBrowser(`${name} (skipped: no shared data)`, () => it.skip('needs shared data', fn));
    };

run('UI end to end (real server, toy model)', () => {
  beforeAll(async () => {
    const uiDir = await bundleUi(join(tmp, 'ui'));
    app = await buildApp({ workspace: join(tmp, 'ws'), model: sharedPath('toy', 'A', 'model'), uiDir });
    await app.artprobe.modelReady;
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
    page = await openPage(browser, { width: 1280, height: 900 });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('opens the gallery and uploads a painting', async () => {
    await page.goto(url);
    await page.locator('ap-gallery').waitFor();
    await expect.poll(() => page.locator('ap-gallery .status').first().textContent()).toContain('0 of 0');
    await page
      .locator('ap-gallery input[type=file]')
      .setInputFiles(sharedPath('toy', 'A', 'eval', 'images', 'img_000.png'));
    await page.locator('ap-gallery a.card').first().waitFor({ timeout: 20_000 });
    await saveScreenshot(page, 'e2e-1-gallery');
    expect(await page.locator('ap-gallery a.card').count()).toBe(1);
  });

  it('explains it for two prompts; the heatmaps differ between the prompts', async () => {
    await page.locator('ap-gallery a.card').first().click();
    await page.locator('ap-painting-view h2').waitFor();
    expect(page.url()).toMatch(/#\/painting\/[0-9a-f]{64}/);
    for (const p of ['a red circle', 'a blue square']) {
      await page.locator('ap-painting-view input[name=prompt]').fill(p);
      await page.locator('ap-painting-view button[type=submit]').click();
    }
    expect(decodeURIComponent(page.url())).toContain('prompts=a red circle|a blue square');
    const cell = (m: string, i: number) =>
      `ap-small-multiples button[data-method="${m}"][data-prompt="${i}"]`;
    for (const m of ['chefer-all', 'rollout'])
      for (const i of [0, 1])
        await expect
          .poll(() => page.locator(`${cell(m, i)} .tag`).textContent(), { timeout: 60_000 })
          .toMatch(/^-?\d/);
    await page.waitForTimeout(300);
    const a = await canvasPixels(`${cell('chefer-all', 0)} ap-heatmap canvas`);
    const b = await canvasPixels(`${cell('chefer-all', 1)} ap-heatmap canvas`);
    expect(a.length).toBe(224 * 224 * 4);
    const differing = a.filter((v, i) => Math.abs(v - b[i]) > 8).length;
    console.log(`e2e: ${differing} of ${a.length} RGBA bytes differ between the prompts`);
    expect(differing).toBeGreaterThan(a.length * 0.05);
    // the large view shows the selected cell's map (the prompt added last)
    expect(await page.locator(`${cell('chefer-all', 1)}[aria-pressed=true]`).count()).toBe(1);
    const main = await canvasPixels('ap-painting-view figure ap-heatmap canvas');
    expect(Buffer.from(main).equals(Buffer.from(b))).toBe(true);
    await saveScreenshot(page, 'e2e-2-painting', { fullPage: true });
  });

  it('draws a region and shows its metrics', async () => {
    await page.locator('ap-painting-view input[name=region-label]').fill('test box');
    await page.locator('ap-painting-view button[name=draw-rect]').click();
    const svg = page.locator('ap-painting-view figure ap-heatmap svg.layer');
    const box = await svg.boundingBox();
    if (!box) throw new Error('no heatmap on screen');
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.1);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.55, { steps: 5 });
    await page.mouse.up();
    await expect
      .poll(() => page.locator('ap-metrics-panel tr[data-region]').count(), { timeout: 20_000 })
      .toBe(4); // 2 methods × 2 prompts
    const auroc = await page.locator('ap-metrics-panel td[data-metric=auroc]').allTextContents();
    for (const v of auroc) expect(Number(v)).toBeGreaterThanOrEqual(0);
    expect(await page.locator('ap-painting-view figure ap-heatmap g.r').count()).toBe(1);
    await saveScreenshot(page, 'e2e-3-region', { fullPage: true });
  });

  it('exports a static report that opens from disk', async () => {
    const [dl] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('ap-painting-view button[name=export-report]').click(),
    ]);
    const file = join(tmp, 'report.html');
    await dl.saveAs(file);
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/src="\/api|src="http/);
    const offline = await openPage(browser);
    await offline.goto(pathToFileURL(file).href);
    expect(await offline.locator('section.painting').count()).toBe(1);
    expect(await offline.locator('section.painting button.cell').count()).toBe(4);
    expect(await offline.locator('section.painting svg [data-region]').count()).toBe(1);
    expect(
      await offline.locator('.stage img').evaluate((i: HTMLImageElement) => i.naturalWidth),
    ).toBeGreaterThan(100);
    await saveScreenshot(offline, 'e2e-4-report', { fullPage: true });
    expect(offline.errors).toEqual([]);
    expect(page.errors).toEqual([]);
  });
});
