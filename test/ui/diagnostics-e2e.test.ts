/**
 * The diagnostics panel end to end: the real server (toy model, temp workspace) serving the built UI in headless
 * Chromium at 1366×900. Open a painting's diagnostics, decompose it on three captions, see the layer × head grid
 * coloured by score, click a head and see its map drawn over the painting (different from the first head's),
 * move between cells with the arrow keys; steer toward another caption and see the answers before and after
 * with the images; compute the robustness curve; find the head roles over the workspace and show a row's head.
 * Screenshots go to test-output/screenshots/diagnostics-*.png.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { sharedPath } from '../helpers/shared-data.ts';
import { multipart } from '../server/helpers.ts';
import { describeBrowserShared, launchBrowser, openPage, saveScreenshot } from './browser.ts';
import { bundleUi } from './ui-bundle.ts';

const CAPTIONS = ['red', 'green', 'blue'].flatMap((c) =>
  ['circle', 'square', 'triangle'].map((s) => `a ${c} ${s}`),
);
const tmp = mkdtempSync(join(tmpdir(), 'ui-diagnostics-'));
let app: FastifyInstance;
let browser: Browser;
let page: Page & { errors: string[] };
let url: string;
const ids: string[] = [];

/** RGBA bytes of a canvas inside the page (any shadow depth). */
async function canvasPixels(selector: string): Promise<Uint8Array> {
  const b64 = await page.locator(selector).evaluate((c: HTMLCanvasElement) => {
    const d = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode(...d.subarray(i, i + 8192));
    return btoa(s);
  });
  return new Uint8Array(Buffer.from(b64, 'base64'));
}
const painted = (px: Uint8Array) => {
  let n = 0;
  for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
  return n / (px.length / 4);
};

describeBrowserShared(
  'diagnostics panel end to end (real server, toy model)',
  [
    ['toy', 'A', 'model'],
    ['toy', 'A', 'eval', 'images', 'img_000.png'],
  ],
  () => {
    beforeAll(async () => {
      const uiDir = await bundleUi(join(tmp, 'ui'));
      app = await buildApp({ workspace: join(tmp, 'ws'), model: sharedPath('toy', 'A', 'model'), uiDir });
      await app.artprobe.modelReady;
      for (const i of [1, 2, 3]) {
        const file = sharedPath('toy', 'A', 'eval', 'images', `img_00${i}.png`);
        const body = multipart([{ name: 'file', filename: `img_00${i}.png`, content: readFileSync(file) }]);
        ids.push((await app.inject({ method: 'POST', url: '/api/paintings', ...body })).json().id);
      }
      const suite = {
        name: 'shapes',
        description: 'the toy model captions',
        dimensions: { caption: { templates: ['{}'], labels: CAPTIONS } },
      };
      expect(
        (await app.inject({ method: 'PUT', url: '/api/suites/shapes', payload: suite })).statusCode,
      ).toBe(200);
      url = await app.listen({ port: 0, host: '127.0.0.1' });
      browser = await launchBrowser();
      page = await openPage(browser, { width: 1366, height: 900 });
    });
    afterAll(async () => {
      await browser?.close();
      await app?.close();
      rmSync(tmp, { recursive: true, force: true });
    });

    it('decomposes a painting: the grid is coloured by score, a clicked head shows its map', async () => {
      await page.goto(`${url}/#/painting/${ids[0]}`);
      await page.locator('ap-painting-view h2').waitFor();
      const panel = page.locator('ap-diagnostics-panel');
      await panel.locator('summary').click();
      await panel.locator('textarea[name=texts]').fill(CAPTIONS.slice(0, 3).join('\n'));
      await panel.locator('input[name=versus-rest]').check();
      await panel.locator('button[name=decompose]').click();
      const cells = panel.locator('ap-head-grid button.cell');
      await expect.poll(() => cells.count(), { timeout: 30_000 }).toBe(16);
      // the cells are coloured by score: red positive, blue negative, near-white around zero
      const styles = await cells.evaluateAll((bs) =>
        bs.map((b) => ({
          bg: getComputedStyle(b).backgroundColor,
          label: b.getAttribute('aria-label') ?? '',
        })),
      );
      const score = (l: string) => Number(l.split('score ')[1]);
      const rgb = (c: string) => (c.match(/\d+/g) as string[]).slice(0, 3).map(Number);
      const pos = styles.filter((s) => score(s.label) > 0).sort((a, b) => score(b.label) - score(a.label))[0];
      const neg = styles.filter((s) => score(s.label) < 0).sort((a, b) => score(a.label) - score(b.label))[0];
      expect(rgb(pos.bg)[0]).toBeGreaterThan(rgb(pos.bg)[2]); // red
      expect(rgb(neg.bg)[2]).toBeGreaterThan(rgb(neg.bg)[0]); // blue
      expect(await panel.locator('ap-head-grid ap-colorbar .tick').count()).toBeGreaterThan(2);
      // the top head of the first direction is shown at first
      const fig = panel.locator('figure.head-map');
      await fig.locator('ap-heatmap canvas').waitFor({ state: 'attached' });
      await page.waitForTimeout(200);
      const first = await canvasPixels('ap-diagnostics-panel figure.head-map ap-heatmap canvas');
      const [fl, fh] = [await fig.getAttribute('data-layer'), await fig.getAttribute('data-head')];
      // click another head: its map is drawn
      const other = fl === '0' && fh === '0' ? [1, 1] : [0, 0];
      await panel
        .locator(`ap-head-grid button.cell[data-layer="${other[0]}"][data-head="${other[1]}"]`)
        .click();
      await expect.poll(() => fig.getAttribute('data-layer')).toBe(String(other[0]));
      expect(await fig.getAttribute('data-head')).toBe(String(other[1]));
      expect(
        await panel
          .locator(`ap-head-grid button.cell[data-layer="${other[0]}"][data-head="${other[1]}"]`)
          .getAttribute('aria-pressed'),
      ).toBe('true');
      await page.waitForTimeout(200);
      const second = await canvasPixels('ap-diagnostics-panel figure.head-map ap-heatmap canvas');
      // signed maps leave weak values transparent: some of the painting is coloured, and not as before
      expect(painted(second)).toBeGreaterThan(0.01);
      const differing = second.filter((v, i) => Math.abs(v - first[i]) > 8).length;
      expect(differing).toBeGreaterThan(second.length * 0.05);
      expect(await fig.locator('figcaption').textContent()).toContain(`layer ${other[0]}, head ${other[1]}`);
      // the keyboard moves between cells
      await panel.locator('ap-head-grid button.cell[data-layer="1"][data-head="1"]').focus();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await expect.poll(() => fig.getAttribute('data-layer')).toBe('2');
      expect(await fig.getAttribute('data-head')).toBe('2');
      // another direction
      await panel.locator('select[name=direction]').selectOption({ index: 2 });
      await expect
        .poll(() => fig.locator('figcaption').textContent())
        .toContain('a red triangle − mean(rest)');
      await panel.locator('summary').scrollIntoViewIfNeeded();
      await saveScreenshot(page, 'diagnostics-1-decomposition', { fullPage: true });
    });

    it('steers the painting toward another caption and shows the answers before and after', async () => {
      const panel = page.locator('ap-diagnostics-panel');
      await panel.locator('input[name=toward]').fill('a blue square');
      await panel.locator('select[name=epsilon]').selectOption('8');
      await panel.locator('select[name=steer-suite]').selectOption('shapes');
      await panel.locator('button[name=steer]').click();
      const row = panel.locator('ap-steer-view tr[data-dimension=caption]');
      await row.waitFor({ timeout: 30_000 });
      expect(await row.locator('td.before').textContent()).not.toContain('a blue square');
      expect(await row.locator('td.after').textContent()).toContain('a blue square');
      expect(await row.locator('td.after').textContent()).toContain('changed');
      expect(await panel.locator('ap-steer-view [data-psnr]').textContent()).toMatch(/^\d+\.\d dB$/);
      const widths = await panel
        .locator('ap-steer-view img')
        .evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
      expect(widths).toEqual([224, 224, 224]);
      await panel.locator('ap-steer-view').scrollIntoViewIfNeeded();
      await saveScreenshot(page, 'diagnostics-2-steer');
    });

    it('draws the robustness curve and the head-role table; a role row shows its head', async () => {
      const panel = page.locator('ap-diagnostics-panel');
      await panel.locator('select[name=robust-suite]').selectOption('shapes');
      await panel.locator('button[name=robustness]').click();
      const item = panel.locator('ap-robustness-curve li[data-dimension=caption]');
      await item.waitFor({ timeout: 60_000 });
      expect(await item.textContent()).toMatch(/flips at|no flip/);
      expect(await panel.locator('ap-robustness-curve circle').count()).toBe(5);
      await panel.locator('input[name=last-layers]').fill('2');
      await panel.locator('input[name=texts-per-head]').fill('3');
      await panel.locator('button[name=head-roles]').click();
      const rows = panel.locator('ap-head-roles tbody tr');
      await expect.poll(() => rows.count(), { timeout: 60_000 }).toBe(8);
      expect(await rows.first().locator('li').count()).toBe(3);
      await rows.nth(5).locator('button[name=role-head]').click();
      const [l, h] = [
        await rows.nth(5).getAttribute('data-layer'),
        await rows.nth(5).getAttribute('data-head'),
      ];
      await expect.poll(() => panel.locator('figure.head-map').getAttribute('data-layer')).toBe(l);
      expect(await panel.locator('figure.head-map').getAttribute('data-head')).toBe(h);
      await panel.locator('ap-robustness-curve').scrollIntoViewIfNeeded();
      await saveScreenshot(page, 'diagnostics-3-robustness-roles');
      await saveScreenshot(page, 'diagnostics-4-full', { fullPage: true });
      expect(page.errors).toEqual([]);
    });
  },
);
