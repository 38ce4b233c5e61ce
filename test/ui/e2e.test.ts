/**
 * End-to-end: the real server (toy model, temp workspace) serving the built UI, driven in headless Chromium:
 * open the gallery, upload a painting, explain it for two prompts, check the heatmap pixels differ between the
 * prompts, draw a region, read its metrics, export the static report and open it from disk; ask CLIP's
 * zero-shot probe about a custom suite (the toy captions) and show the top answer's heatmap; add paintings by
 * drag-and-drop and by URL (a local HTTP server); map the collection and an imported embeddings table; check
 * the layout at 1024×768 and 1366×768, the keyboard tab order and the visible focus styles.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { sharedPath } from '../helpers/shared-data.ts';
import { startStaticServer } from '../server/helpers.ts';
import { describeBrowserShared, launchBrowser, openPage, saveScreenshot } from './browser.ts';
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

/** The toy captions as a workspace suite (one dimension: which caption CLIP picks). */
const COLOURS = ['red', 'green', 'blue'];
const SHAPES = ['circle', 'square', 'triangle'];
const SHAPES_SUITE = {
  name: 'shapes',
  description: 'the toy model captions',
  dimensions: {
    caption: { templates: ['{}'], labels: COLOURS.flatMap((c) => SHAPES.map((s) => `a ${c} ${s}`)) },
  },
};

/** Share of pixels of a canvas with some opacity (how much heatmap is drawn). */
function paintedShare(px: Uint8Array): number {
  let n = 0;
  for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
  return n / (px.length / 4);
}

describeBrowserShared(
  'UI end to end (real server, toy model)',
  [
    ['toy', 'A', 'model'],
    ['toy', 'A', 'eval', 'images', 'img_000.png'],
    ['data', 'clip-art-embeddings', 'ai_pastiche.parquet'],
  ],
  () => {
    beforeAll(async () => {
      const uiDir = await bundleUi(join(tmp, 'ui'));
      app = await buildApp({
        workspace: join(tmp, 'ws'),
        model: sharedPath('toy', 'A', 'model'),
        uiDir,
        allowPrivateFetch: true, // the URL import below fetches from a local server
      });
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
      await page.locator('ap-gallery a.card-link').first().waitFor({ timeout: 20_000 });
      await saveScreenshot(page, 'e2e-1-gallery');
      expect(await page.locator('ap-gallery a.card-link').count()).toBe(1);
    });

    it('explains it for two prompts; the heatmaps differ between the prompts', async () => {
      await page.locator('ap-gallery a.card-link').first().click();
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
            .toMatch(/^score -?\d/);
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
      await page.locator('ap-painting-view button[name=tab-regions]').click();
      await page.locator('ap-painting-view input[name=region-label]').fill('test box');
      await page.locator('ap-painting-view button[name=draw-rect]').click();
      const svg = page.locator('ap-painting-view figure ap-heatmap svg.layer');
      const box = await svg.boundingBox();
      if (!box) throw new Error('no heatmap on screen');
      await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.1);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.55, { steps: 5 });
      await page.mouse.up();
      await page.locator('ap-painting-view button[name=tab-agreement]').click();
      await expect
        .poll(() => page.locator('ap-metrics-panel tr[data-region]').count(), { timeout: 20_000 })
        .toBe(4); // 2 methods × 2 prompts
      const auroc = await page.locator('ap-metrics-panel td[data-metric=auroc]').allTextContents();
      for (const v of auroc) expect(Number(v)).toBeGreaterThanOrEqual(0);
      expect(await page.locator('ap-painting-view figure ap-heatmap g.r').count()).toBe(1);
      await saveScreenshot(page, 'e2e-3-region', { fullPage: true });
    });

    it('exports a static report that opens from disk', async () => {
      await page.locator('ap-painting-view button[name=tab-export]').click();
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

    it("asks CLIP about a custom suite's dimension and shows the top answer's heatmap", async () => {
      const put = await fetch(`${url}/api/suites/shapes`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(SHAPES_SUITE),
      });
      expect(put.status).toBe(200);
      await page.reload();
      await page.locator('ap-probe-panel option[value="shapes/caption"]').waitFor({ state: 'attached' });
      await page.locator('ap-painting-view button[name=tab-clip]').click();
      await page.locator('ap-probe-panel select[name=probe-dimension]').selectOption('shapes/caption');
      await page.locator('ap-probe-panel button[name=ask]').click();
      await page.locator('ap-probe-panel button.answer').first().waitFor();
      // the panel shows what the probe route answers (the same cached result)
      const pid = (page.url().match(/painting\/([0-9a-f]{64})/) as RegExpMatchArray)[1];
      const res = await app.inject({
        method: 'POST',
        url: `/api/paintings/${pid}/probe`,
        payload: { suites: ['shapes'], dimensions: ['caption'], topK: 100 },
      });
      const answer = res.json().images[0].answers.caption;
      expect(res.json().cached).toBe(true);
      const labels = await page
        .locator('ap-probe-panel button.answer')
        .evaluateAll((bs) => bs.map((b) => b.getAttribute('data-label')));
      expect(labels).toEqual(answer.ranked.slice(0, 5).map((r: { label: string }) => r.label));
      expect(await page.locator('ap-probe-panel .p').first().textContent()).toBe(
        `${(100 * answer.ranked[0].probability).toFixed(1)}%`,
      );
      // clicking the top answer explains it (its explain target, with the selected method) in the large view
      const top = answer.ranked[0].label as string;
      await page.locator('ap-probe-panel button.answer').first().click();
      await expect
        .poll(() => page.locator('ap-painting-view figure figcaption').first().textContent(), {
          timeout: 60_000,
        })
        .toMatch(new RegExp(`chefer-all · caption: ${top} .*probability -?\\d`));
      expect(
        await page.locator('ap-probe-panel button.answer[aria-pressed=true]').getAttribute('data-label'),
      ).toBe(top);
      const jobs = (await app.inject(`/api/jobs?paintingId=${pid}`)).json() as {
        method: string;
        target: unknown;
      }[];
      expect(
        jobs.some(
          (j) => j.method === 'chefer-all' && JSON.stringify(j.target) === JSON.stringify(answer.explain),
        ),
      ).toBe(true);
      await page.waitForTimeout(200);
      const shown = await canvasPixels('ap-painting-view figure ap-heatmap canvas');
      console.log(
        `e2e: the answer's heatmap covers ${(100 * paintedShare(shown)).toFixed(1)}% of the painting`,
      );
      expect(paintedShare(shown)).toBeGreaterThan(0.05);
      // the answer's map is scored against the region too
      await page.locator('ap-painting-view button[name=tab-agreement]').click();
      await expect
        .poll(() => page.locator('ap-metrics-panel tr[data-kind=answer]').count(), { timeout: 20_000 })
        .toBe(1);
      await page.locator('ap-painting-view button[name=tab-clip]').click();
      const state = decodeURIComponent(page.url());
      expect(state).toContain('probe=shapes/caption');
      expect(state).toContain(`answer=${top}`);
      await saveScreenshot(page, 'e2e-5-probe', { fullPage: true });
      // the link restores the answer's heatmap
      const again = await openPage(browser, { width: 1280, height: 900 });
      await again.goto(page.url());
      await expect
        .poll(() => again.locator('ap-painting-view figure figcaption').first().textContent(), {
          timeout: 30_000,
        })
        .toMatch(new RegExp(`caption: ${top} .*probability`));
      expect(again.errors).toEqual([]);
      await again.close();
    });

    it('adds paintings by drag-and-drop and by URL import from a local server', async () => {
      const srv = await startStaticServer({
        '/img_002.png': {
          type: 'image/png',
          body: readFileSync(sharedPath('toy', 'A', 'eval', 'images', 'img_002.png')),
        },
      });
      try {
        await page.goto(`${url}/#/gallery`);
        await page.locator('ap-gallery a.card-link').first().waitFor();
        const b64 = readFileSync(sharedPath('toy', 'A', 'eval', 'images', 'img_001.png')).toString('base64');
        await page.locator('ap-gallery .drop').evaluate((el, data) => {
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          const dt = new DataTransfer();
          dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
          el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
          el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        }, b64);
        await expect.poll(() => page.locator('ap-gallery a.card-link').count(), { timeout: 20_000 }).toBe(2);
        await page.locator('ap-gallery input[name=url]').fill(`${srv.base}/img_002.png`);
        await page.locator('ap-gallery button[type=submit]').click();
        await expect.poll(() => page.locator('ap-gallery a.card-link').count(), { timeout: 20_000 }).toBe(3);
        const names = (
          (await app.inject('/api/paintings')).json() as { name: string; sourceUrl: string | null }[]
        ).map((p) => [p.name, p.sourceUrl]);
        expect(names).toEqual([
          ['img_000.png', null],
          ['dropped.png', null],
          ['img_002.png', `${srv.base}/img_002.png`],
        ]);
        await saveScreenshot(page, 'e2e-6-gallery-3');
      } finally {
        await srv.close();
      }
    });

    it('maps the collection (hover thumbnail, click-through) and an imported embeddings table', async () => {
      await page.locator('ap-app nav a[href="#/map"]').click();
      await expect.poll(() => page.locator('ap-embedding-map circle').count(), { timeout: 30_000 }).toBe(3);
      await page.locator('ap-embedding-map circle').nth(1).hover();
      await expect
        .poll(() =>
          page
            .locator('ap-embedding-map .card img')
            .evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth),
        )
        .toBe(224);
      expect(await page.locator('ap-embedding-map .card').textContent()).toContain('dropped.png');
      // the model is named once, by a useful name (not "model model")
      expect(await page.locator('ap-embedding-map .status').textContent()).toContain('CLIP toy/A/model');
      expect(await page.locator('ap-embedding-map .status').textContent()).not.toMatch(/model model/);
      await saveScreenshot(page, 'e2e-7-map-collection');
      await page.locator('ap-embedding-map circle').nth(1).click();
      await page.locator('ap-painting-view h2').waitFor();
      expect(await page.locator('ap-painting-view h2').textContent()).toBe('dropped.png');
      // import a table through the form; the map switches to it and the URL names it
      await page.goBack();
      await page
        .locator('ap-embedding-map input[name=table]')
        .setInputFiles(sharedPath('data', 'clip-art-embeddings', 'ai_pastiche.parquet'));
      await page.locator('ap-embedding-map form button[type=submit]').click();
      await expect.poll(() => page.locator('ap-embedding-map circle').count(), { timeout: 60_000 }).toBe(953);
      expect(decodeURIComponent(page.url())).toMatch(/#\/map\?source=tables:[0-9a-f-]{36}/);
      await page.locator('ap-embedding-map select[name=color]').selectOption('period');
      expect(decodeURIComponent(page.url())).toContain('color=period');
      expect(await page.locator('ap-embedding-map .legend li').count()).toBeGreaterThan(5);
      await page.locator('ap-embedding-map circle').nth(10).hover({ force: true });
      expect(await page.locator('ap-embedding-map .card').textContent()).toMatch(/\.webp[\s\S]*style/);
      await saveScreenshot(page, 'e2e-8-map-table', { fullPage: true });
      expect(page.errors).toEqual([]);
    });

    it('fits 1024×768 and 1366×768 without horizontal scrolling, controls on screen', async () => {
      const pid = ((await app.inject('/api/paintings')).json() as { id: string }[])[0].id;
      const views = {
        gallery: '#/gallery',
        painting: `#/painting/${pid}?prompts=a%20red%20circle&probe=shapes/caption`,
        map: '#/map',
      };
      for (const [w, h] of [
        [1024, 768],
        [1366, 768],
      ]) {
        const p = await openPage(browser, { width: w, height: h });
        for (const [name, hash] of Object.entries(views)) {
          await p.goto(`${url}/${hash}`);
          const ready = {
            gallery: 'ap-gallery a.card-link',
            painting: 'ap-probe-panel button.answer',
            map: 'ap-embedding-map circle',
          }[name] as string;
          await p.locator(ready).first().waitFor({ state: 'attached', timeout: 30_000 });
          const layout = await p.evaluate(() => {
            // every interactive element, through shadow roots
            const all: Element[] = [];
            const walk = (root: Document | ShadowRoot) => {
              for (const el of root.querySelectorAll('*')) {
                if (el.matches('button, select, input, a[href], textarea') && !el.matches('a.skip'))
                  all.push(el);
                if (el.shadowRoot) walk(el.shadowRoot);
              }
            };
            walk(document);
            const off = all
              .filter((el) => {
                const r = el.getBoundingClientRect();
                return r.width > 0 && (r.left < -1 || r.right > window.innerWidth + 1);
              })
              .map((el) => el.outerHTML.slice(0, 80));
            return {
              scroll: document.documentElement.scrollWidth,
              inner: window.innerWidth,
              controls: all.length,
              off,
            };
          });
          expect(layout.scroll, `${name} at ${w}px scrolls sideways`).toBeLessThanOrEqual(layout.inner);
          expect(layout.off, `${name} at ${w}px`).toEqual([]);
          expect(layout.controls).toBeGreaterThan(3);
          await saveScreenshot(p, `e2e-layout-${name}-${w}`, { fullPage: true });
        }
        expect(p.errors).toEqual([]);
        await p.close();
      }
    });

    it('reaches every control of the painting view with Tab, each with a visible focus style', async () => {
      const pid = ((await app.inject('/api/paintings')).json() as { id: string }[])[0].id;
      const p = await openPage(browser, { width: 1280, height: 900 });
      await p.goto(`${url}/#/painting/${pid}?prompts=a%20red%20circle&probe=shapes/caption`);
      await p.locator('ap-probe-panel button.answer').first().waitFor({ state: 'attached', timeout: 30_000 });
      // cells are named by their state: wait until both maps are done
      await expect
        .poll(() => p.locator('ap-small-multiples button .tag').allTextContents(), { timeout: 30_000 })
        .toEqual([expect.stringMatching(/^score -?\d/), expect.stringMatching(/^score -?\d/)]);
      const expected = await p.evaluate(() => {
        const all: string[] = [];
        const walk = (root: Document | ShadowRoot) => {
          for (const el of root.querySelectorAll('*')) {
            if (
              el.matches('button:not([disabled]), select, input, a[href]') &&
              (el as HTMLElement).tabIndex >= 0 &&
              el.getClientRects().length
            )
              all.push(
                el.getAttribute('name') ||
                  el.getAttribute('aria-label') ||
                  el.textContent?.trim().slice(0, 30) ||
                  el.tagName,
              );
            if (el.shadowRoot) walk(el.shadowRoot);
          }
        };
        walk(document);
        return all;
      });
      const reached: string[] = [];
      const noFocusStyle: string[] = [];
      for (let i = 0; i < expected.length + 25 && reached.length < expected.length + 10; i++) {
        await p.keyboard.press('Tab');
        const f = await p.evaluate(() => {
          let el = document.activeElement;
          while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
          if (!el || el === document.body) return null;
          const cs = getComputedStyle(el);
          const visible =
            (cs.outlineStyle !== 'none' && Number.parseFloat(cs.outlineWidth) >= 2) ||
            (el.tagName === 'circle' || el.tagName === 'g' ? cs.strokeWidth !== '' : false) ||
            cs.boxShadow !== 'none';
          return {
            id:
              el.getAttribute('name') ||
              el.getAttribute('aria-label') ||
              el.textContent?.trim().slice(0, 30) ||
              el.tagName,
            visible,
          };
        });
        if (!f) continue;
        reached.push(f.id);
        if (!f.visible) noFocusStyle.push(f.id);
      }
      const missing = expected.filter((e) => !reached.includes(e));
      console.log(`e2e: ${expected.length} controls, ${new Set(reached).size} reached with Tab`);
      expect(missing).toEqual([]);
      expect(noFocusStyle).toEqual([]);
      await saveScreenshot(p, 'e2e-9-focus');
      await p.close();
    });
  },
);
