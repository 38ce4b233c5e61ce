/**
 * Component tests of every Lit element, each rendered alone in a harness page (esbuild bundle served on
 * 127.0.0.1) with fixture data; DOM and canvas pixels are checked in headless Chromium.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatState, parseState } from '../../src/ui/state.ts';
import { repoRoot } from '../helpers/shared-data.ts';
import {
  bundleForTest,
  describeBrowser,
  launchBrowser,
  openPage,
  saveScreenshot,
  serveDir,
} from './browser.ts';

const dir = mkdtempSync(join(tmpdir(), 'ui-components-'));
let browser: Browser;
let server: Awaited<ReturnType<typeof serveDir>>;

/** A 64×48 test "painting" (PNG made in the page is avoided: a data URI of a 1-colour SVG is enough). */
const PAINTING = `data:image/svg+xml;base64,${Buffer.from("<svg xmlns='http://www.w3.org/2000/svg' width='64' height='48'><rect width='64' height='48' fill='#7a8'/></svg>").toString('base64')}`;

async function page(html: string) {
  const p = await openPage(browser, { width: 1100, height: 800 });
  await p.goto(`${server.url}/index.html`);
  await p.evaluate((h) => {
    document.body.innerHTML = h;
  }, html);
  return p;
}

it('state: URL hash round trip and defaults', () => {
  const s = parseState(
    '#/painting/' +
      'a'.repeat(64) +
      '?prompts=a%20wave|a%20boat&prompt=1&opacity=0.8&contours=1&compare=m:rollout',
  );
  expect(s.route).toBe('painting');
  expect(s.prompts).toEqual(['a wave', 'a boat']);
  expect(s.prompt).toBe(1);
  expect(s.opacity).toBe(0.8);
  expect(s.contours).toBe(true);
  expect(s.compare).toBe('m:rollout');
  expect(parseState(formatState(s))).toEqual(s);
  const bad = parseState('#/painting/nothex?opacity=7&prompt=9&compare=;drop');
  expect(bad.route).toBe('gallery');
  expect(bad.opacity).toBe(1);
  expect(bad.prompt).toBe(0);
  expect(bad.compare).toBe('');
  expect(formatState(parseState('#/map?color=origin'))).toBe('#/map?color=origin');
});

describeBrowser('Lit elements', () => {
  beforeAll(async () => {
    const entry = join(dir, 'harness.ts');
    const ui = join(repoRoot, 'src', 'ui');
    writeFileSync(
      entry,
      [
        'ap-heatmap',
        'ap-overlay-controls',
        'ap-small-multiples',
        'ap-probe-panel',
        'ap-metrics-panel',
        'ap-job-progress',
        'ap-gallery',
        'ap-embedding-map',
        'ap-painting-view',
        'ap-app',
      ]
        .map((n) => `import ${JSON.stringify(join(ui, `${n}.ts`))};`)
        .join('\n'),
    );
    await bundleForTest(entry, join(dir, 'harness.js'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><html><head><meta charset="utf-8"><script type="module" src="/harness.js"></script></head><body></body></html>',
    );
    server = await serveDir(dir, {
      'GET /api/paintings': () => [],
      'GET /api/health': () => ({ model: { id: 'toy', state: 'ready' } }),
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('<ap-heatmap> colours the map (inferno), hides it when toggled, draws contours and regions, and emits drawn rectangles', async () => {
    const p = await page('<ap-heatmap style="width:640px"></ap-heatmap>');
    await p.evaluate((src) => {
      const el = document.querySelector('ap-heatmap') as unknown as HTMLElement & Record<string, unknown>;
      const map = new Float32Array(64 * 48);
      for (let i = 0; i < 48; i++)
        for (let j = 0; j < 64; j++) map[i * 64 + j] = Math.exp(-((i - 24) ** 2 + (j - 16) ** 2) / 60); // peak at (16, 24)
      Object.assign(el, {
        src,
        width: 64,
        height: 48,
        map,
        opacity: 1,
        contours: true,
        regions: [{ id: 'r1', label: 'box', geometry: { kind: 'box', x: 40, y: 5, w: 20, h: 10 } }],
      });
    }, PAINTING);
    await p.waitForTimeout(100);
    const px = (x: number, y: number) =>
      p
        .locator('ap-heatmap canvas')
        .evaluate(
          (c: HTMLCanvasElement, [x, y]) =>
            Array.from((c.getContext('2d') as CanvasRenderingContext2D).getImageData(x, y, 1, 1).data),
          [x, y],
        );
    const peak = await px(16, 24);
    const low = await px(63, 0);
    expect(peak.slice(0, 3)).toEqual([252, 255, 164]); // inferno(1) = #fcffa4
    expect(peak[3]).toBe(255);
    expect(low[3]).toBeLessThan(40); // weak values fade out
    expect(await p.locator('ap-heatmap path.contour').count()).toBeGreaterThan(0);
    expect(await p.locator('ap-heatmap g.r rect').count()).toBe(2); // halo + outline
    await saveScreenshot(p, 'component-heatmap');
    // threshold hides weak pixels entirely
    await p.evaluate(() => Object.assign(document.querySelector('ap-heatmap') as object, { threshold: 0.5 }));
    await p.waitForTimeout(50);
    expect((await px(63, 0))[3]).toBe(0);
    // drawing a rectangle emits its geometry in painting pixels
    await p.evaluate(() => {
      const el = document.querySelector('ap-heatmap') as unknown as HTMLElement & Record<string, unknown>;
      el.drawMode = 'rect';
      el.addEventListener(
        'ap-region-drawn',
        (e) => ((window as unknown as Record<string, unknown>).drawn = (e as CustomEvent).detail),
      );
    });
    const box = await p.locator('ap-heatmap svg.layer').boundingBox();
    if (!box) throw new Error('no svg');
    await p.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.25);
    await p.mouse.down();
    await p.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.75, { steps: 4 });
    await p.mouse.up();
    const drawn = (await p.evaluate(() => (window as unknown as Record<string, unknown>).drawn)) as {
      geometry: { kind: string; x: number; y: number; w: number; h: number };
    };
    expect(drawn.geometry).toEqual({ kind: 'box', x: 16, y: 12, w: 32, h: 24 });
    // polygon: three clicks then Enter
    await p.evaluate(() =>
      Object.assign(document.querySelector('ap-heatmap') as object, { drawMode: 'polygon' }),
    );
    for (const [fx, fy] of [
      [0.1, 0.1],
      [0.5, 0.1],
      [0.3, 0.6],
    ])
      await p.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
    await p.keyboard.press('Enter');
    const poly = (await p.evaluate(() => (window as unknown as Record<string, unknown>).drawn)) as {
      geometry: { kind: string; rings: number[][][] };
    };
    expect(poly.geometry.kind).toBe('polygon');
    expect(poly.geometry.rings[0]).toHaveLength(3);
    // toggle off hides the canvas
    await p.evaluate(() => Object.assign(document.querySelector('ap-heatmap') as object, { overlay: false }));
    expect(await p.locator('ap-heatmap canvas').isHidden()).toBe(true);
    expect(p.errors).toEqual([]);
  });

  it('<ap-heatmap> uses RdBu for signed maps (red positive, blue negative) and moves a selected region with the keyboard', async () => {
    const p = await page('<ap-heatmap style="width:400px"></ap-heatmap>');
    await p.evaluate(() => {
      const el = document.querySelector('ap-heatmap') as unknown as HTMLElement & Record<string, unknown>;
      const map = new Float32Array(4 * 2).fill(0);
      map[0] = 1;
      map[1] = -1;
      Object.assign(el, {
        width: 4,
        height: 2,
        map,
        signed: true,
        opacity: 1,
        regions: [{ id: 'r1', label: 'box', geometry: { kind: 'box', x: 1, y: 0, w: 1, h: 1 } }],
      });
      el.addEventListener(
        'ap-region-edited',
        (e) => ((window as unknown as Record<string, unknown>).edited = (e as CustomEvent).detail),
      );
    });
    await p.waitForTimeout(50);
    const data = await p
      .locator('ap-heatmap canvas')
      .evaluate((c: HTMLCanvasElement) =>
        Array.from((c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, 4, 1).data),
      );
    expect(data[0]).toBeGreaterThan(data[2] + 50); // +1: red
    expect(data[6]).toBeGreaterThan(data[4] + 50); // -1: blue
    expect(data[11]).toBe(0); // 0: transparent
    await p.locator('ap-heatmap g.r').focus();
    await p.keyboard.press('Enter');
    await p.keyboard.press('ArrowRight');
    const edited = (await p.evaluate(() => (window as unknown as Record<string, unknown>).edited)) as {
      id: string;
      geometry: { x: number };
    };
    expect(edited.id).toBe('r1');
    expect(edited.geometry.x).toBe(2);
  });

  it('<ap-overlay-controls> emits each change with the full settings', async () => {
    const p = await page('<ap-overlay-controls></ap-overlay-controls>');
    await p.evaluate(() =>
      document
        .querySelector('ap-overlay-controls')
        ?.addEventListener(
          'ap-controls-change',
          (e) => ((window as unknown as Record<string, unknown>).s = (e as CustomEvent).detail),
        ),
    );
    await p.locator('ap-overlay-controls input[name=contours]').check();
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).s)).toEqual({
      overlay: true,
      opacity: 0.6,
      threshold: 0,
      contours: true,
      scheme: 'inferno',
    });
    await p.locator('ap-overlay-controls select[name=scheme]').selectOption('viridis');
    await p.locator('ap-overlay-controls input[name=opacity]').fill('0.3');
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).s)).toMatchObject({
      opacity: 0.3,
      scheme: 'viridis',
      contours: true,
    });
  });

  it('<ap-small-multiples> lays out methods × prompts and reports the clicked cell', async () => {
    const p = await page('<ap-small-multiples style="width:700px"></ap-small-multiples>');
    await p.evaluate((src) => {
      const el = document.querySelector('ap-small-multiples') as HTMLElement & Record<string, unknown>;
      const map = (k: number) => Float32Array.from({ length: 64 * 48 }, (_, i) => ((i * k) % 97) / 97);
      Object.assign(el, {
        src,
        width: 64,
        height: 48,
        methods: ['chefer-all', 'rollout'],
        prompts: ['a wave', 'a boat', 'a mountain'],
        cells: [
          { method: 'chefer-all', prompt: 0, state: 'done', map: map(3), score: 1.5 },
          { method: 'chefer-all', prompt: 1, state: 'running', progress: 0.5 },
          { method: 'rollout', prompt: 2, state: 'done', map: map(7), score: -0.25 },
        ],
        selected: { method: 'rollout', prompt: 2 },
      });
      el.addEventListener(
        'ap-cell-select',
        (e) => ((window as unknown as Record<string, unknown>).cell = (e as CustomEvent).detail),
      );
    }, PAINTING);
    expect(await p.locator('ap-small-multiples button[role=gridcell]').count()).toBe(6);
    expect(await p.locator('ap-small-multiples progress').count()).toBe(1);
    expect(await p.locator('ap-small-multiples button[aria-pressed=true]').getAttribute('data-method')).toBe(
      'rollout',
    );
    expect(
      await p.locator('ap-small-multiples button[data-method=rollout][data-prompt="2"] .tag').textContent(),
    ).toBe('-0.25');
    await p.locator('ap-small-multiples button[data-method=chefer-all][data-prompt="1"]').click();
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).cell)).toEqual({
      method: 'chefer-all',
      prompt: 1,
    });
    await saveScreenshot(p, 'component-small-multiples');
  });

  it('<ap-probe-panel> shows answers as bars and emits the clicked label with its label set', async () => {
    const p = await page('<ap-probe-panel style="width:400px"></ap-probe-panel>');
    await p.evaluate(() => {
      const el = document.querySelector('ap-probe-panel') as HTMLElement & Record<string, unknown>;
      el.answers = [
        {
          dimension: 'style',
          top: [
            { label: 'Ukiyo-e', p: 0.6 },
            { label: 'Baroque', p: 0.3 },
            { label: 'Cubism', p: 0.1 },
          ],
          prompts: {
            'Ukiyo-e': 'a Ukiyo-e painting.',
            Baroque: 'a Baroque painting.',
            Cubism: 'a Cubism painting.',
          },
        },
      ];
      el.addEventListener(
        'ap-probe-select',
        (e) => ((window as unknown as Record<string, unknown>).sel = (e as CustomEvent).detail),
      );
    });
    expect(await p.locator('ap-probe-panel .p').allTextContents()).toEqual(['60.0%', '30.0%', '10.0%']);
    expect(
      await p
        .locator('ap-probe-panel .fill')
        .first()
        .evaluate((e: HTMLElement) => Number.parseFloat(e.style.width)),
    ).toBe(60);
    await p.locator('ap-probe-panel button[data-label=Baroque]').click();
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).sel)).toMatchObject({
      dimension: 'style',
      label: 'Baroque',
      labels: ['Ukiyo-e', 'Baroque', 'Cubism'],
    });
  });

  it('<ap-metrics-panel> lists rows and marks the best method per region', async () => {
    const p = await page('<ap-metrics-panel></ap-metrics-panel>');
    await p.evaluate(() => {
      (document.querySelector('ap-metrics-panel') as HTMLElement & Record<string, unknown>).rows = [
        {
          regionId: 'a',
          region: 'Fuji',
          method: 'chefer-all',
          prompt: 'a mountain',
          pointing: 1,
          energy: 0.4,
          auroc: 0.9,
          iouTopK: 0.3,
        },
        {
          regionId: 'a',
          region: 'Fuji',
          method: 'rollout',
          prompt: 'a mountain',
          pointing: 0,
          energy: 0.1,
          auroc: 0.7,
          iouTopK: null,
        },
      ];
    });
    expect(await p.locator('ap-metrics-panel tbody tr').count()).toBe(2);
    expect(await p.locator('ap-metrics-panel tbody tr').first().locator('td.best').count()).toBe(4);
    expect(
      await p.locator('ap-metrics-panel tbody tr').nth(1).locator('td[data-metric=iouTopK]').textContent(),
    ).toBe('–');
  });

  it('<ap-job-progress> shows running and queued jobs only', async () => {
    const p = await page('<ap-job-progress></ap-job-progress>');
    await p.evaluate(() => {
      (document.querySelector('ap-job-progress') as HTMLElement & Record<string, unknown>).jobs = [
        { id: 'a', label: 'occlusion · a wave', state: 'running', done: 3, total: 4 },
        { id: 'b', label: 'rollout · a wave', state: 'queued', done: 0, total: 1 },
        { id: 'c', label: 'chefer-all · a wave', state: 'done', done: 1, total: 1 },
      ];
    });
    expect(await p.locator('ap-job-progress .job').count()).toBe(2);
    expect(
      await p
        .locator('ap-job-progress progress')
        .first()
        .evaluate((e: HTMLProgressElement) => e.value / e.max),
    ).toBe(0.75);
  });

  it('<ap-gallery> filters by catalog field and search, and emits uploads', async () => {
    const p = await page('<ap-gallery></ap-gallery>');
    await p.evaluate((src) => {
      const el = document.querySelector('ap-gallery') as HTMLElement & Record<string, unknown>;
      el.items = [
        {
          id: '1',
          name: 'wave.jpg',
          title: 'The Great Wave',
          thumb: src,
          meta: { style: 'Ukiyo-e', origin: 'human' },
        },
        {
          id: '2',
          name: 'otter.png',
          title: 'Otter in a top hat',
          thumb: src,
          meta: { style: 'Steampunk', origin: 'AI' },
        },
        {
          id: '3',
          name: 'kiss.jpg',
          title: 'The Kiss',
          thumb: src,
          meta: { style: 'Art Nouveau', origin: 'human' },
        },
      ];
      el.addEventListener(
        'ap-upload',
        (e) =>
          ((window as unknown as Record<string, unknown>).up = (e as CustomEvent).detail.files.map(
            (f: File) => f.name,
          )),
      );
    }, PAINTING);
    expect(await p.locator('ap-gallery a.card').count()).toBe(3);
    await p.locator('ap-gallery select[name=origin]').selectOption('human');
    expect(await p.locator('ap-gallery a.card').count()).toBe(2);
    await p.locator('ap-gallery input[name=q]').fill('kiss');
    expect(await p.locator('ap-gallery a.card').allTextContents()).toEqual([
      expect.stringContaining('The Kiss'),
    ]);
    await p
      .locator('ap-gallery input[type=file]')
      .setInputFiles({ name: 'new.png', mimeType: 'image/png', buffer: Buffer.from([137, 80, 78, 71]) });
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).up)).toEqual(['new.png']);
    await saveScreenshot(p, 'component-gallery');
  });

  it('<ap-embedding-map> colours points by a field, shows a hover card and opens on click', async () => {
    const p = await page('<ap-embedding-map style="width:900px"></ap-embedding-map>');
    await p.evaluate(() => {
      const el = document.querySelector('ap-embedding-map') as HTMLElement & Record<string, unknown>;
      el.points = Array.from({ length: 30 }, (_, i) => ({
        x: Math.cos(i),
        y: Math.sin(i) * (i % 2 ? 1 : 2),
        id: i === 0 ? 'p0' : undefined,
        title: `item ${i}`,
        meta: { origin: i % 2 ? 'AI' : 'human' },
      }));
      el.color = 'origin';
      el.addEventListener(
        'ap-open',
        (e) => ((window as unknown as Record<string, unknown>).open = (e as CustomEvent).detail),
      );
    });
    expect(await p.locator('ap-embedding-map circle').count()).toBe(30);
    const fills = new Set(
      await p.locator('ap-embedding-map circle').evaluateAll((cs) => cs.map((c) => c.getAttribute('fill'))),
    );
    expect(fills.size).toBe(2);
    await p.locator('ap-embedding-map circle[data-id=p0]').hover();
    expect(await p.locator('ap-embedding-map .card').textContent()).toContain('item 0');
    await p.locator('ap-embedding-map circle[data-id=p0]').click();
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).open)).toEqual({ id: 'p0' });
    await saveScreenshot(p, 'component-embedding-map');
  });

  it('<ap-app> renders the gallery route from the URL and <ap-painting-view> asks for its painting', async () => {
    const p = await page('<ap-app></ap-app>');
    await p.locator('ap-app ap-gallery').waitFor();
    expect(await p.locator('ap-app .health').textContent()).toContain('toy');
    await p.evaluate(() => (location.hash = '#/map?color=origin'));
    await p.locator('ap-app ap-embedding-map').waitFor();
    expect(await p.locator('ap-app nav a[aria-current=page]').textContent()).toBe('Embedding map');
    await p.evaluate(() => (location.hash = `#/painting/${'b'.repeat(64)}`));
    await p.locator('ap-app ap-painting-view').waitFor();
    await expect
      .poll(() => p.locator('ap-painting-view .msg').textContent())
      .toMatch(/Cannot load painting: .*404/);
  });
});
