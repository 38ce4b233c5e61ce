/**
 * Component tests of every Lit element, each rendered alone in a harness page (esbuild bundle served on
 * 127.0.0.1) with fixture data; DOM and canvas pixels are checked in headless Chromium.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { METHODS } from '../../src/attribution/registry.ts';
import { METHOD_IDS } from '../../src/attribution/types.ts';
import { METHOD_LIST, methodInfo } from '../../src/report/legend.ts';
import type { Api, Job } from '../../src/ui/api.ts';
import { JobListController } from '../../src/ui/job-list-controller.ts';
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

const PID = 'c'.repeat(64);
const TABLE_ID = '11111111-2222-4333-8444-555555555555';
const probeRequests: unknown[] = [];
const mapRequests: unknown[] = [];
const textRequests: unknown[] = [];
const COLOURS = ['red', 'green', 'blue'];
/** A probe answer as the server sends it (`images[0].answers[dimension]`). */
const PROBE_RESULT = {
  paintingId: PID,
  cached: false,
  model: 'toy',
  dimensions: [{ name: 'colour', suite: 'shapes' }],
  images: [
    {
      image: PID,
      answers: {
        colour: {
          ranked: [
            { label: 'red', probability: 0.6, logit: 3, prompt: 'a red shape' },
            { label: 'blue', probability: 0.3, logit: 2, prompt: 'a blue shape' },
            { label: 'green', probability: 0.1, logit: 1, prompt: 'a green shape' },
          ],
          probabilities: [0.6, 0.1, 0.3],
          explain: {
            kind: 'label',
            label: 'red',
            labels: COLOURS,
            prompts: COLOURS.map((c) => [`a ${c} shape`, `a ${c} thing`]),
          },
        },
      },
    },
  ],
};
/** 1,906 points in 12 styles (9 coloured + other) with a numeric field and one painting. */
const STYLES = 'abcdefghijkl'.split('').map((c) => `style ${c}`);
const MAP_RESULT = {
  source: 'tables',
  method: 'pca',
  explainedVarianceRatio: [0.2, 0.1],
  sets: [{ name: 'ngd', count: 1906 }],
  fields: [
    { name: 'style', kind: 'text' },
    { name: 'score', kind: 'number' },
  ],
  points: Array.from({ length: 1906 }, (_, i) => ({
    x: Math.cos(i * 0.7) * (1 + (i % 13)),
    y: Math.sin(i * 0.7) * (1 + (i % 7)),
    set: 'ngd',
    id: i === 0 ? PID : undefined,
    title: `item ${i}`,
    meta: { set: 'ngd', style: STYLES[i % 12 < 9 ? i % 12 : 9 + (i % 3)], score: i / 1905 },
  })),
};

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
  // a zero-shot answer's heatmap and an embedding map of imported tables are shareable too
  const probe = parseState(`#/painting/${'a'.repeat(64)}?probe=shapes/caption&answer=a%20red%20circle`);
  expect([probe.probe, probe.answer]).toEqual(['shapes/caption', 'a red circle']);
  expect(parseState(formatState(probe))).toEqual(probe);
  expect(parseState(`#/painting/${'a'.repeat(64)}?probe=../x&answer=y`)).toMatchObject({
    probe: '',
    answer: '',
  });
  const ids = ['11111111-2222-4333-8444-555555555555', '21111111-2222-4333-8444-555555555555'];
  const map = parseState(`#/map?source=tables:${ids.join(',')}&method=umap&color=set`);
  expect(map).toMatchObject({
    source: `tables:${ids.join(',')}`,
    mapMethod: 'umap',
    color: 'set',
    method: 'chefer-all',
  });
  expect(parseState(formatState(map))).toEqual(map);
  expect(parseState('#/map?source=/etc/passwd').source).toBe('collection');
});

it("the UI's method list is the server's registry, each method with its legend unit and sign", () => {
  // the one list the painting view's method pickers, the compare select and the batch form read
  expect([...METHOD_LIST].sort()).toEqual([...METHOD_IDS].sort());
  expect([...METHOD_LIST].sort()).toEqual(Object.keys(METHODS).sort());
  expect(METHOD_LIST).toContain('legrad');
  expect(METHOD_LIST).toContain('grad-eclip');
  for (const m of METHOD_IDS) {
    const info = methodInfo(m);
    expect(info.note, m).not.toBe(m); // a real note, not the fallback
    expect(info.unit, m).not.toBe('attribution (a.u.)');
    expect(info.signed, m).toBe(METHODS[m].signed);
  }
});

it('JobListController starts each method × target once, follows its progress, loads its map and keeps failures', async () => {
  let updates = 0;
  const host = {
    addController: () => {},
    removeController: () => {},
    requestUpdate: () => void updates++,
    updateComplete: Promise.resolve(true),
  };
  const maps: string[] = [];
  const errors: string[] = [];
  const jobs = new JobListController(host, {
    onMap: () => maps.push('map'),
    onError: (m) => errors.push(m),
  });
  const created: unknown[] = [];
  const byId = new Map<string, Job>();
  let midway: unknown;
  const api = {
    createJob: async (req: Partial<Job>) => {
      created.push(req);
      if (req.method === 'occlusion') throw new Error('no backward pass');
      const j = { id: `j${created.length}`, state: 'queued', paintingId: PID, ...req } as Job;
      byId.set(j.id, j);
      return j;
    },
    waitJob: async (id: string, onUpdate: (j: Job) => void) => {
      onUpdate({ ...(byId.get(id) as Job), state: 'running', progress: { done: 1, total: 4 } });
      midway = { rows: jobs.progress(), cell: jobs.cells(['rollout'], ['a wave'])[0] };
      return {
        ...(byId.get(id) as Job),
        state: 'done',
        progress: { done: 4, total: 4 },
        result: { score: 1.5, signed: false, paintingSize: [2, 2], grid: [1, 1] },
      };
    },
    paintingMap: async () => ({ shape: [2, 2], data: Float32Array.of(0, 1, 2, 3) }),
  } as unknown as Api;
  const prompts = ['a wave', 'a boat'];
  const wave = { kind: 'prompt', prompt: 'a wave' } as const;
  // before anything runs, every cell is queued
  expect(jobs.cells(['rollout'], prompts).map((c) => c.state)).toEqual(['queued', 'queued']);
  const running = jobs.run(api, { paintingId: PID, method: 'rollout', target: wave, view: 'pad' });
  await jobs.run(api, { paintingId: PID, method: 'rollout', target: wave, view: 'pad' }); // reused
  await running;
  await jobs.run(api, { paintingId: PID, method: 'occlusion', target: wave });
  expect(created).toEqual([
    { paintingId: PID, method: 'rollout', target: wave, view: 'pad' },
    { paintingId: PID, method: 'occlusion', target: wave },
  ]);
  expect(midway).toEqual({
    rows: [{ id: 'j1', label: 'rollout · a wave', state: 'running', done: 1, total: 4 }],
    cell: expect.objectContaining({ method: 'rollout', prompt: 0, state: 'running', progress: 0.25 }),
  });
  expect(maps).toEqual(['map']);
  expect(errors).toEqual(['no backward pass']);
  expect(updates).toBeGreaterThan(3);
  expect(Array.from(jobs.get('rollout', wave)?.map ?? [])).toEqual([0, 1, 2, 3]);
  expect(jobs.prompt('rollout', prompts, 0)).toBe(jobs.get('rollout', wave));
  expect(jobs.prompt('rollout', prompts, 5)).toBeUndefined();
  expect(jobs.cells(['rollout', 'occlusion'], prompts)).toEqual([
    expect.objectContaining({ method: 'rollout', prompt: 0, state: 'done', score: 1.5, signed: false }),
    expect.objectContaining({ method: 'rollout', prompt: 1, state: 'queued', progress: 0 }),
    expect.objectContaining({ method: 'occlusion', prompt: 0, state: 'failed' }),
    expect.objectContaining({ method: 'occlusion', prompt: 1, state: 'queued' }),
  ]);
  expect(jobs.progress()).toEqual([
    { id: 'j1', label: 'rollout · a wave', state: 'done', done: 4, total: 4 },
  ]);
  expect(jobs.jobs().map((j) => j.id)).toEqual(['j1']);
  jobs.clear();
  expect(jobs.jobs()).toEqual([]);
  expect(jobs.get('rollout', wave)).toBeUndefined();
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
        'ap-region-editor',
        'ap-colorbar',
        'ap-token-relevance',
        'ap-import-panel',
        'ap-batch-panel',
        'ap-summary-view',
        'ap-gallery',
        'ap-embedding-map',
        'ap-painting-view',
        'ap-app',
      ]
        .map((n) => `import ${JSON.stringify(join(ui, `${n}.ts`))};`)
        .concat(
          `import { Api } from ${JSON.stringify(join(ui, 'api.ts'))};`,
          `import { mapPng } from ${JSON.stringify(join(ui, 'png-export.ts'))};`,
          'Object.assign(window, { Api, mapPng });',
        )
        .join('\n'),
    );
    await bundleForTest(entry, join(dir, 'harness.js'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><html><head><meta charset="utf-8"><script type="module" src="/harness.js"></script></head><body></body></html>',
    );
    server = await serveDir(dir, {
      'GET /api/paintings': () => [],
      // the shape the server answers: the model's name is in model.info
      'GET /api/health': () => ({
        status: 'ok',
        model: {
          state: 'ready',
          source: '/models/toy-clip',
          error: null,
          hint: null,
          info: { id: 'toy-clip', dir: '/models/toy-clip', imageSize: 224, patchSize: 32 },
        },
      }),
      'GET /api/batches': () => [],
      'GET /api/suites': () => [
        { name: 'style', origin: 'default', dimensions: ['style'] },
        { name: 'shapes', origin: 'workspace', dimensions: ['colour', 'caption'] },
      ],
      [`GET /api/paintings/${PID}/catalog-truth`]: () => ({
        paintingId: PID,
        dimension: 'colour',
        field: 'colour',
        value: 'Blue (ultramarine)',
        label: 'blue',
      }),
      [`POST /api/paintings/${PID}/text-relevance`]: (body) => {
        textRequests.push(JSON.parse(body));
        return {
          paintingId: PID,
          model: { id: 'toy', fingerprint: 'f' },
          view: 'pad',
          startLayer: 3,
          results: [
            {
              prompt: 'a great wave',
              score: 21.5,
              truncated: false,
              tokens: [
                { token: 'a', value: 0.1 },
                { token: 'great', value: 0.3 },
                { token: 'wave', value: 0.6 },
              ],
            },
          ],
        };
      },
      [`POST /api/paintings/${PID}/probe`]: (body) => {
        probeRequests.push(JSON.parse(body));
        return PROBE_RESULT;
      },
      'GET /api/embedding-tables': () => [
        {
          id: TABLE_ID,
          name: 'ngd',
          format: 'parquet',
          column: 'emb',
          rows: 1906,
          dims: 8,
          columns: ['style'],
        },
      ],
      // the painting's thumbnail in the map's hover card (a 1×1 PNG)
      [`GET /api/paintings/${PID}/image`]: () =>
        Buffer.from(
          'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
          'base64',
        ),
      'POST /api/embedding-maps': (body) => {
        mapRequests.push(JSON.parse(body));
        return MAP_RESULT;
      },
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

  it("<ap-heatmap> stretches a map smaller than the painting (the server's copy within its pixel budget) over it, with contours and the PNG export", async () => {
    const p = await page('<ap-heatmap style="width:640px"></ap-heatmap>');
    // a 6400×4800 painting whose map is a 64×48 copy (what the server stores above its map pixel budget)
    await p.evaluate((src) => {
      const el = document.querySelector('ap-heatmap') as unknown as HTMLElement & Record<string, unknown>;
      const map = new Float32Array(64 * 48);
      for (let i = 0; i < 48; i++)
        for (let j = 0; j < 64; j++) map[i * 64 + j] = Math.exp(-((i - 24) ** 2 + (j - 16) ** 2) / 60); // peak at (16, 24)
      Object.assign(el, { src, width: 6400, height: 4800, map, opacity: 1, contours: true });
    }, PAINTING);
    await p.waitForTimeout(100);
    expect(p.errors).toEqual([]);
    const canvas = p.locator('ap-heatmap canvas');
    expect(await canvas.evaluate((c: HTMLCanvasElement) => [c.width, c.height])).toEqual([64, 48]);
    expect(await canvas.isVisible()).toBe(true);
    // the canvas covers the whole painting on screen
    const stage = await p.locator('ap-heatmap .stage').boundingBox();
    const cbox = await canvas.boundingBox();
    expect(cbox?.width).toBeCloseTo(stage?.width ?? 0, 0);
    expect(cbox?.height).toBeCloseTo(stage?.height ?? 0, 0);
    expect(stage?.height).toBeCloseTo(480, 0); // the painting's aspect, 640 px wide
    const peak = await canvas.evaluate((c: HTMLCanvasElement) =>
      Array.from((c.getContext('2d') as CanvasRenderingContext2D).getImageData(16, 24, 1, 1).data),
    );
    expect(peak).toEqual([252, 255, 164, 255]);
    // the contours are in painting pixels, around the peak at (1600, 2400)
    const rings = await p
      .locator('ap-heatmap path.contour')
      .evaluateAll((ps) =>
        ps.map((q) => (q as SVGPathElement).getBBox()).map((b) => [b.x + b.width / 2, b.y + b.height / 2]),
      );
    expect(rings.length).toBeGreaterThan(0);
    for (const [cx, cy] of rings) {
      expect(Math.abs(cx - 1650)).toBeLessThan(200);
      expect(Math.abs(cy - 2450)).toBeLessThan(200);
    }
    // a map the painting cannot hold (no grid of its aspect) leaves the painting bare instead of throwing
    await p.evaluate(() =>
      Object.assign(document.querySelector('ap-heatmap') as object, { map: new Float32Array(997) }),
    );
    await p.waitForTimeout(50);
    expect(await canvas.isHidden()).toBe(true);
    // the PNG export draws the small map over the whole painting too
    const size = await p.evaluate(async (src) => {
      const { mapPng } = window as unknown as {
        mapPng: (o: Record<string, unknown>) => Promise<Blob>;
      };
      const blob = await mapPng({
        src,
        width: 640,
        height: 480,
        map: Float32Array.from({ length: 64 * 48 }, (_, k) => (k % 64) / 63), // strongest at the right edge
        signed: false,
        scheme: 'inferno',
        opacity: 1,
        threshold: 0,
        unit: 'relevance (a.u.)',
        caption: { painting: 'big.jpg', model: 'toy', method: 'rollout', target: 'a wave', score: 'score 1' },
      });
      const img = await createImageBitmap(blob);
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d') as CanvasRenderingContext2D;
      ctx.drawImage(img, 0, 0);
      // the bottom-right pixel of the painting is covered by the map's colour (inferno(1))
      return { w: img.width, h: img.height, px: Array.from(ctx.getImageData(630, 470, 1, 1).data) };
    }, PAINTING);
    expect([size.w, size.h]).toEqual([640, 480 + 112]);
    // inferno near 1 (the stretched map is smoothed between its last two columns), not the painting's #7a8
    size.px.slice(0, 3).forEach((v, c) => expect(Math.abs(v - [252, 255, 164][c])).toBeLessThan(12));
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
      opacity: 0.7,
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
    // the number says what it is; rollout's row says its maps do not depend on the prompt
    expect(
      await p.locator('ap-small-multiples button[data-method=rollout][data-prompt="2"] .tag').textContent(),
    ).toBe('score -0.25');
    expect(await p.locator('ap-small-multiples .head[role=rowheader]').allTextContents()).toEqual([
      expect.stringMatching(/^chefer-all\s*relevance \(a\.u\.\)$/),
      expect.stringMatching(/^rollout\s*attention share\s*same map for every prompt$/),
    ]);
    // every finished cell has its own colour bar with its numbers
    expect(await p.locator('ap-small-multiples .range').count()).toBe(2);
    expect(await p.locator('ap-small-multiples .range').first().textContent()).toMatch(/^\s*0\s*0\.99\s*$/);
    expect(await p.locator('ap-small-multiples .range').first().getAttribute('aria-label')).toBe(
      'colour scale 0 to 0.99',
    );
    await p.locator('ap-small-multiples button[data-method=chefer-all][data-prompt="1"]').click();
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).cell)).toEqual({
      method: 'chefer-all',
      prompt: 1,
    });
    await saveScreenshot(p, 'component-small-multiples');
  });

  it('<ap-probe-panel> asks the probe route for a suite dimension, shows the ranked answers and emits the answer target', async () => {
    probeRequests.length = 0;
    const p = await page('<ap-probe-panel style="width:420px"></ap-probe-panel>');
    await p.evaluate((pid) => {
      const el = document.querySelector('ap-probe-panel') as HTMLElement & Record<string, unknown>;
      const W = window as unknown as Record<string, unknown> & { Api: new (b: string) => unknown };
      Object.assign(el, { api: new W.Api(''), painting: pid });
      el.addEventListener('ap-probe-select', (e) => (W.sel = (e as CustomEvent).detail));
      el.addEventListener('ap-probe-answers', (e) => (W.answers = (e as CustomEvent).detail));
      el.addEventListener('ap-probe-dimension', (e) => (W.dim = (e as CustomEvent).detail));
    }, PID);
    // the dimensions of every suite, grouped by suite
    await expect.poll(() => p.locator('ap-probe-panel option').count()).toBe(3);
    expect(
      await p.locator('ap-probe-panel optgroup').evaluateAll((g) => g.map((x) => x.getAttribute('label'))),
    ).toEqual(['style', 'shapes']);
    await p.locator('ap-probe-panel select[name=probe-dimension]').selectOption('shapes/colour');
    // a slow answer: the panel says what it asks and for how long (not just "Asking CLIP…")
    await p.route('**/probe', async (route) => {
      await new Promise((r) => setTimeout(r, 1600));
      await route.continue();
    });
    await p.locator('ap-probe-panel button[name=ask]').click();
    await expect
      .poll(() => p.locator('ap-probe-panel .asking').textContent(), { timeout: 3000 })
      .toMatch(/Asking CLIP about colour… 1 s/);
    await expect
      .poll(() => p.locator('ap-probe-panel .p').allTextContents())
      .toEqual(['60.0%', '30.0%', '10.0%']);
    await p.unroute('**/probe');
    expect(probeRequests).toEqual([{ suites: ['shapes'], dimensions: ['colour'], topK: 100 }]);
    // the catalog's label is marked among the answers
    await expect
      .poll(() => p.locator('ap-probe-panel button.answer.truth').getAttribute('data-label'))
      .toBe('blue');
    expect(await p.locator('ap-probe-panel button.answer.truth .badge').textContent()).toBe('catalog');
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).dim)).toEqual({
      selection: 'shapes/colour',
    });
    expect(
      await p
        .locator('ap-probe-panel .fill')
        .first()
        .evaluate((e: HTMLElement) => Number.parseFloat(e.style.width)),
    ).toBe(60);
    // a lower-ranked answer is explained as its own label within the same label set of prompt ensembles
    await p.locator('ap-probe-panel button[data-label=blue]').click();
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).sel)).toEqual({
      dimension: 'colour',
      suite: 'shapes',
      label: 'blue',
      probability: 0.3,
      target: {
        kind: 'label',
        label: 'blue',
        labels: ['red', 'green', 'blue'],
        prompts: [
          ['a red shape', 'a red thing'],
          ['a green shape', 'a green thing'],
          ['a blue shape', 'a blue thing'],
        ],
      },
    });
    // keyboard: the answer buttons are reachable with Tab and pressed with Enter
    await p.locator('ap-probe-panel button[data-label=red]').focus();
    await p.keyboard.press('Enter');
    expect(await p.evaluate(() => (window as unknown as Record<string, { label: string }>).sel.label)).toBe(
      'red',
    );
    await saveScreenshot(p, 'component-probe-panel');
    // a selection given from outside (the URL) is asked for at once, for a new painting
    await p.evaluate(() =>
      Object.assign(document.querySelector('ap-probe-panel') as object, {
        painting: 'd'.repeat(64),
        selection: 'shapes/colour',
      }),
    );
    await expect
      .poll(() => p.locator('ap-probe-panel .error').textContent())
      .toMatch(/Cannot ask CLIP about colour: .*404/);
    expect(p.errors.filter((e) => !e.includes('404'))).toEqual([]);
    // every dimension of the default suites in one request
    probeRequests.length = 0;
    await p.evaluate(
      (pid) => Object.assign(document.querySelector('ap-probe-panel') as object, { painting: pid }),
      PID,
    );
    await p.locator('ap-probe-panel button[name=ask-all]').click();
    await expect.poll(() => probeRequests).toContainEqual({ suites: ['style'], dimensions: [], topK: 100 });
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
    // ties (every map at 0 on the pointing game, or equal AUROC) mark nothing as best
    await p.evaluate(() => {
      const row = (method: string, auroc: number) => ({
        regionId: 'b',
        region: 'sea',
        method,
        prompt: 'the sea',
        pointing: 0,
        energy: 0,
        auroc,
        iouTopK: 0,
      });
      (document.querySelector('ap-metrics-panel') as HTMLElement & Record<string, unknown>).rows = [
        row('chefer-all', 0.6),
        row('rollout', 0.6),
        row('occlusion', 0.5),
      ];
    });
    expect(await p.locator('ap-metrics-panel td.best').count()).toBe(0);
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
    expect(await p.locator('ap-job-progress .s').allTextContents()).toEqual(['3/4 (75%)', 'waiting']);
    // a running job that has not reported its size yet says so (never "0/0"), and can be cancelled
    await p.evaluate(() => {
      const el = document.querySelector('ap-job-progress') as HTMLElement & Record<string, unknown>;
      el.jobs = [{ id: 'd', label: 'occlusion · the sky', state: 'running', done: 0, total: 0 }];
      el.addEventListener(
        'ap-job-cancel',
        (e) => ((window as unknown as Record<string, unknown>).cancel = (e as CustomEvent).detail),
      );
    });
    expect(await p.locator('ap-job-progress .s').textContent()).toBe('starting…');
    expect(await p.locator('ap-job-progress').textContent()).not.toContain('0/0');
    await p.locator('ap-job-progress button[name=cancel-job]').click();
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).cancel)).toEqual({
      id: 'd',
    });
  });

  it('<ap-region-editor> names the next region, toggles the draw modes by mouse and keyboard, and asks to delete the selected region', async () => {
    const p = await page('<ap-region-editor style="width:600px"></ap-region-editor>');
    await p.evaluate(() => {
      const el = document.querySelector('ap-region-editor') as HTMLElement & Record<string, unknown>;
      const W = window as unknown as Record<string, unknown[]>;
      W.events = [];
      for (const name of ['ap-draw-mode', 'ap-region-draft', 'ap-region-delete'])
        el.addEventListener(name, (e) => W.events.push([name, (e as CustomEvent).detail]));
      el.regions = [
        { id: 'r1', label: 'sky', geometry: { kind: 'box', x: 0, y: 0, w: 4, h: 2 } },
        { id: 'r2', label: 'sea', geometry: { kind: 'box', x: 0, y: 2, w: 4, h: 2 } },
      ];
    });
    /** The events sent since the last call. */
    const events = () => p.evaluate(() => (window as unknown as Record<string, unknown[]>).events.splice(0));
    const el = p.locator('ap-region-editor');
    expect(await el.getByRole('group', { name: 'Expert regions' }).count()).toBe(1);
    expect(await el.getByRole('textbox', { name: 'Label' }).getAttribute('placeholder')).toBe('region 3');
    expect(await el.locator('.msg').textContent()).toMatch(/^2 region\(s\)\. Select one \(Tab, Enter\)/);
    // the host owns the mode: a toggle asks for it, and shows it once given
    const rect = el.getByRole('button', { name: 'Draw rectangle' });
    await rect.click();
    expect(await events()).toEqual([['ap-draw-mode', { mode: 'rect' }]]);
    expect(await rect.getAttribute('aria-pressed')).toBe('false');
    await p.evaluate(() =>
      Object.assign(document.querySelector('ap-region-editor') as object, { drawMode: 'rect' }),
    );
    expect(await rect.getAttribute('aria-pressed')).toBe('true');
    expect(await el.locator('.msg').textContent()).toBe('Drag on the painting to draw a rectangle.');
    await rect.click();
    expect(await events()).toEqual([['ap-draw-mode', { mode: 'none' }]]);
    // keyboard: Tab reaches the polygon toggle, with a visible focus outline, and Enter presses it
    await el.getByRole('button', { name: 'Draw rectangle' }).focus();
    await p.keyboard.press('Tab');
    const focused = await p.evaluate(() => {
      const a = document.querySelector('ap-region-editor')?.shadowRoot?.activeElement as HTMLElement;
      return [a.getAttribute('name'), getComputedStyle(a).outlineWidth];
    });
    expect(focused).toEqual(['draw-polygon', '3px']);
    await p.keyboard.press('Enter');
    expect(await events()).toEqual([['ap-draw-mode', { mode: 'polygon' }]]);
    // the next region's label and dimension, as edited
    await el.getByRole('textbox', { name: 'Label' }).fill('horizon');
    await el.getByRole('combobox', { name: 'Dimension', exact: true }).selectOption('scene');
    expect((await events()).at(-1)).toEqual(['ap-region-draft', { label: 'horizon', dimension: 'scene' }]);
    // "Delete selected" only with a selection
    expect(await el.getByRole('button', { name: 'Delete selected' }).count()).toBe(0);
    await p.evaluate(() =>
      Object.assign(document.querySelector('ap-region-editor') as object, { selected: 'r2' }),
    );
    await el.getByRole('button', { name: 'Delete selected' }).click();
    expect(await events()).toEqual([['ap-region-delete', { id: 'r2' }]]);
    // the list: rename, dimension, lock; a locked region cannot be renamed or deleted
    await p.evaluate(() => {
      const el = document.querySelector('ap-region-editor') as HTMLElement & Record<string, unknown>;
      const W = window as unknown as Record<string, unknown[]>;
      for (const name of ['ap-region-rename', 'ap-region-dimension', 'ap-region-lock', 'ap-undo'])
        el.addEventListener(name, (e) => W.events.push([name, (e as CustomEvent).detail]));
      el.regions = [
        { id: 'r1', label: 'sky', geometry: { kind: 'box', x: 0, y: 0, w: 4, h: 2 } },
        { id: 'r2', label: 'sea', locked: true, geometry: { kind: 'box', x: 0, y: 2, w: 4, h: 2 } },
      ];
      el.canUndo = true;
    });
    await el.getByRole('textbox', { name: 'name of region sky' }).fill('clouds');
    await el.getByRole('textbox', { name: 'name of region sky' }).press('Enter');
    await el.getByRole('combobox', { name: 'dimension of region sky' }).selectOption('scene');
    await el.getByRole('button', { name: 'unlock region sea' }).click();
    await el.getByRole('button', { name: 'Undo' }).click();
    expect(await events()).toEqual([
      ['ap-region-rename', { id: 'r1', label: 'clouds' }],
      ['ap-region-dimension', { id: 'r1', dimension: 'scene' }],
      ['ap-region-lock', { id: 'r2', locked: false }],
      ['ap-undo', {}],
    ]);
    expect(await el.getByRole('textbox', { name: 'name of region sea' }).isDisabled()).toBe(true);
    expect(await el.getByRole('button', { name: 'delete region sea' }).isDisabled()).toBe(true);
    expect(await el.getByRole('button', { name: 'Redo' }).isDisabled()).toBe(true);
    await saveScreenshot(p, 'component-region-editor');
    expect(p.errors).toEqual([]);
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
    expect(await p.locator('ap-gallery .card').count()).toBe(3);
    await p.locator('ap-gallery select[name=origin]').selectOption('human');
    expect(await p.locator('ap-gallery .card').count()).toBe(2);
    await p.locator('ap-gallery input[name=q]').fill('kiss');
    expect(await p.locator('ap-gallery .card').allTextContents()).toEqual([
      expect.stringContaining('The Kiss'),
    ]);
    // filters set from outside (the URL, after navigating back) are what the selects show
    await p.evaluate(() =>
      Object.assign(document.querySelector('ap-gallery') as object, {
        q: '',
        filters: { style: 'Steampunk' },
      }),
    );
    expect(await p.locator('ap-gallery select[name=style]').inputValue()).toBe('Steampunk');
    expect(await p.locator('ap-gallery select[name=origin]').inputValue()).toBe('');
    expect(await p.locator('ap-gallery .card').allTextContents()).toEqual([expect.stringContaining('Otter')]);
    // tick paintings and delete them (after a confirmation)
    await p.evaluate(() => Object.assign(document.querySelector('ap-gallery') as object, { filters: {} }));
    await p.evaluate(() =>
      document
        .querySelector('ap-gallery')
        ?.addEventListener(
          'ap-delete',
          (e) => ((window as unknown as Record<string, unknown>).del = (e as CustomEvent).detail),
        ),
    );
    await p.locator('ap-gallery .card[data-id="1"] input[name=pick]').check();
    await p.locator('ap-gallery .card[data-id="3"] input[name=pick]').check();
    p.once('dialog', (d) => void d.accept());
    await p.locator('ap-gallery button[name=delete-selected]').click();
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).del)).toEqual({
      ids: ['1', '3'],
    });
    await p
      .locator('ap-gallery input[type=file]')
      .setInputFiles({ name: 'new.png', mimeType: 'image/png', buffer: Buffer.from([137, 80, 78, 71]) });
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).up)).toEqual(['new.png']);
    await saveScreenshot(p, 'component-gallery');
  });

  it('<ap-embedding-map> draws 1,906 points from the map route, coloured by text and numeric fields, with hover card and click-through', async () => {
    mapRequests.length = 0;
    const p = await page('<ap-embedding-map style="width:1000px"></ap-embedding-map>');
    const t0 = Date.now();
    await p.evaluate((id) => {
      const el = document.querySelector('ap-embedding-map') as HTMLElement & Record<string, unknown>;
      const W = window as unknown as Record<string, unknown> & { Api: new (b: string) => unknown };
      Object.assign(el, { api: new W.Api(''), source: `tables:${id}` });
      el.addEventListener('ap-open', (e) => (W.open = (e as CustomEvent).detail));
      el.addEventListener('ap-map-state', (e) => (W.mapState = (e as CustomEvent).detail));
    }, TABLE_ID);
    await expect.poll(() => p.locator('ap-embedding-map circle').count()).toBe(1906);
    console.log(`embedding map: 1906 circles drawn in ${Date.now() - t0} ms`);
    expect(mapRequests).toEqual([{ source: 'tables', tables: [TABLE_ID], method: 'pca' }]);
    expect(await p.locator('ap-embedding-map select[name=source]').inputValue()).toBe(`tables:${TABLE_ID}`);
    expect(await p.locator('ap-embedding-map .status').textContent()).toContain('1906 points');
    // style: 9 colours + "other" (3 rare values), every circle inside the plot
    const fills = await p
      .locator('ap-embedding-map circle')
      .evaluateAll((cs) => cs.map((c) => c.getAttribute('fill')));
    expect(new Set(fills).size).toBe(10);
    expect(await p.locator('ap-embedding-map .legend li').count()).toBe(10);
    expect(await p.locator('ap-embedding-map .legend li').last().textContent()).toMatch(/other \(3 values\)/);
    const inside = await p.locator('ap-embedding-map svg').evaluate((svg) => {
      const b = svg.getBoundingClientRect();
      return [...svg.querySelectorAll('circle')].every((c) => {
        const r = c.getBoundingClientRect();
        return (
          r.left >= b.left - 1 && r.right <= b.right + 1 && r.top >= b.top - 1 && r.bottom <= b.bottom + 1
        );
      });
    });
    expect(inside).toBe(true);
    await saveScreenshot(p, 'component-embedding-map-style', { fullPage: true });
    // a numeric field: sequential viridis, the largest value is viridis(1)
    await p.locator('ap-embedding-map select[name=color]').selectOption('score');
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).mapState)).toEqual({
      color: 'score',
    });
    expect(await p.locator('ap-embedding-map circle').last().getAttribute('fill')).toBe('#fde725'); // viridis(1)
    expect(await p.locator('ap-embedding-map circle').first().getAttribute('fill')).toBe('#440154'); // viridis(0)
    expect(await p.locator('ap-embedding-map .ramp').count()).toBe(1);
    await saveScreenshot(p, 'component-embedding-map-score', { fullPage: true });
    // hover shows the title and metadata; only the painting is a link, reachable by keyboard
    await p.locator('ap-embedding-map circle[data-i="5"]').hover({ force: true });
    expect(await p.locator('ap-embedding-map .card').textContent()).toMatch(/item 5[\s\S]*style/);
    expect(await p.locator('ap-embedding-map circle[tabindex="0"]').count()).toBe(1);
    await p.locator(`ap-embedding-map circle[data-id="${PID}"]`).focus();
    await expect
      .poll(() =>
        p
          .locator('ap-embedding-map .card img')
          .evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth),
      )
      .toBe(1);
    await p.keyboard.press('Enter');
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown>).open)).toEqual({ id: PID });
    expect(p.errors).toEqual([]);
  });

  it('<ap-heatmap> leaves weak values untouched (transparency ramp), labels regions, keeps locked ones still, and zooms with the map and regions', async () => {
    const p = await page('<ap-heatmap style="width:640px"></ap-heatmap>');
    await p.evaluate((src) => {
      const el = document.querySelector('ap-heatmap') as unknown as HTMLElement & Record<string, unknown>;
      const map = new Float32Array(64 * 48);
      for (let j = 0; j < 64; j++) for (let i = 0; i < 48; i++) map[i * 64 + j] = j / 63; // 0 → 1 left to right
      Object.assign(el, {
        src,
        width: 64,
        height: 48,
        map,
        opacity: 0.7,
        zoomable: true,
        regions: [
          { id: 'r1', label: 'open box', geometry: { kind: 'box', x: 40, y: 5, w: 20, h: 10 } },
          {
            id: 'r2',
            label: 'expert box',
            locked: true,
            geometry: { kind: 'box', x: 4, y: 30, w: 10, h: 10 },
          },
        ],
      });
      const W = window as unknown as Record<string, unknown[]>;
      W.ev = [];
      for (const n of ['ap-region-edited', 'ap-region-locked', 'ap-region-drawn'])
        el.addEventListener(n, (e) => W.ev.push([n, (e as CustomEvent).detail]));
    }, PAINTING);
    await p.waitForTimeout(100);
    const alpha = (x: number) =>
      p
        .locator('ap-heatmap canvas')
        .evaluate(
          (c: HTMLCanvasElement, x) =>
            (c.getContext('2d') as CanvasRenderingContext2D).getImageData(x, 10, 1, 1).data[3],
          x,
        );
    expect(await alpha(6)).toBe(0); // 10 % of the range: the painting is left untouched (no veil)
    expect(await alpha(63)).toBe(Math.round(255 * 0.7)); // the strongest values at full opacity
    expect(await alpha(25)).toBeGreaterThan(30); // in between: growing
    // labels of the regions on the painting
    expect(await p.locator('ap-heatmap text.rl').allTextContents()).toEqual(['open box', 'expert box']);
    // a locked region: no handles, the arrow keys do not move it
    await p.locator('ap-heatmap g.r[data-region=r2]').focus();
    await p.keyboard.press('Enter');
    expect(await p.locator('ap-heatmap circle.handle').count()).toBe(0);
    await p.keyboard.press('ArrowRight');
    expect(await p.evaluate(() => (window as unknown as Record<string, unknown[]>).ev.splice(0))).toEqual([
      ['ap-region-locked', { id: 'r2' }],
    ]);
    await p.locator('ap-heatmap g.r[data-region=r1]').focus();
    await p.keyboard.press('Enter');
    expect(await p.locator('ap-heatmap circle.handle').count()).toBe(4);
    // deep zoom: the painting, its map and its regions zoom together; drawing still gives painting pixels
    await p.locator('ap-heatmap button[name=zoom-in]').click();
    await p.locator('ap-heatmap button[name=zoom-in]').click();
    expect(await p.locator('ap-heatmap .view').evaluate((v: HTMLElement) => v.style.transform)).toMatch(
      /scale\(2\.56\)/,
    );
    await p.evaluate(() =>
      Object.assign(document.querySelector('ap-heatmap') as object, { drawMode: 'rect' }),
    );
    const box = await p.locator('ap-heatmap .stage').boundingBox();
    if (!box) throw new Error('no stage');
    // the centre of the stage is the centre of the painting (zoomed around it)
    await p.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await p.mouse.down();
    await p.mouse.move(
      box.x + box.width / 2 + box.width * 0.256,
      box.y + box.height / 2 + box.height * 0.256,
      { steps: 3 },
    );
    await p.mouse.up();
    const drawn = (await p.evaluate(() => (window as unknown as Record<string, unknown[]>).ev.splice(0))) as [
      string,
      { geometry: Record<string, number> },
    ][];
    expect(drawn.at(-1)?.[1].geometry).toEqual({ kind: 'box', x: 32, y: 24, w: 6, h: 5 });
    await p.locator('ap-heatmap button[name=zoom-fit]').click();
    expect(await p.locator('ap-heatmap .view').evaluate((v: HTMLElement) => v.style.transform)).toMatch(
      /scale\(1\)/,
    );
    expect(p.errors).toEqual([]);
  });

  it('<ap-heatmap> fetches the visible part of a IIIF painting at screen resolution once zoomed in (through the server)', async () => {
    const p = await page('<ap-heatmap style="width:400px"></ap-heatmap>');
    const asked: string[] = [];
    await p.route('**/api/paintings/*/iiif/**', (r) => {
      const u = new URL(r.request().url());
      asked.push(`${u.pathname.replace(/^.*\/iiif\//, '')}${u.search}`);
      if (u.pathname.endsWith('/info')) return r.fulfill({ json: { width: 6400, height: 4800 } });
      return r.fulfill({
        contentType: 'image/png',
        body: Buffer.from(
          'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
          'base64',
        ),
      });
    });
    await p.evaluate(
      ([src, pid]) =>
        Object.assign(document.querySelector('ap-heatmap') as object, {
          src,
          width: 64,
          height: 48,
          zoomable: true,
          iiif: `/api/paintings/${pid}/iiif`,
        }),
      [PAINTING, PID],
    );
    // not zoomed: the stored copy is enough
    await p.waitForTimeout(400);
    expect(asked).toEqual([]);
    await p.locator('ap-heatmap button[name=zoom-in]').click();
    await p.locator('ap-heatmap button[name=zoom-in]').click();
    await p.locator('ap-heatmap img.detail').waitFor({ state: 'attached' });
    // the centre of the painting (2.56× zoom), in the service's pixels, at the stage's width
    expect(asked[0]).toBe('info');
    expect(await p.locator('ap-heatmap img.detail').getAttribute('src')).toBe(
      `/api/paintings/${PID}/iiif/region?x=1950&y=1463&w=2500&h=1875&size=400`,
    );
    await p.locator('ap-heatmap button[name=zoom-fit]').click();
    expect(await p.locator('ap-heatmap img.detail').count()).toBe(0);
  });

  it('<ap-small-multiples> makes pixel-gradient maps visible (percentile clipping), shares a scale per method row on request, and draws labelled regions on every cell', async () => {
    const p = await page('<ap-small-multiples style="width:700px"></ap-small-multiples>');
    await p.evaluate((src) => {
      const el = document.querySelector('ap-small-multiples') as HTMLElement & Record<string, unknown>;
      // a gradient map: weak noise everywhere and a few extreme pixels
      let seed = 7;
      const rnd = () => {
        seed = (seed * 16807) % 2147483647;
        return seed / 2147483647;
      };
      const spiky = Float32Array.from({ length: 64 * 48 }, () => rnd() * 0.05);
      for (const k of [100, 900, 2000]) spiky[k] = 1;
      const smooth = (k: number) => Float32Array.from({ length: 64 * 48 }, (_, i) => k * ((i % 64) / 63));
      Object.assign(el, {
        src,
        width: 64,
        height: 48,
        methods: ['gradient', 'chefer-all'],
        prompts: ['a wave', 'a boat'],
        cells: [
          { method: 'gradient', prompt: 0, state: 'done', map: spiky, score: 1 },
          { method: 'chefer-all', prompt: 0, state: 'done', map: smooth(1), score: 1 },
          { method: 'chefer-all', prompt: 1, state: 'done', map: smooth(3), score: 2 },
        ],
        regions: [{ id: 'r1', label: 'wave', geometry: { kind: 'box', x: 10, y: 10, w: 20, h: 10 } }],
      });
    }, PAINTING);
    await p.waitForTimeout(150);
    const painted = () =>
      p
        .locator('ap-small-multiples button[data-method=gradient][data-prompt="0"] canvas')
        .evaluate((c: HTMLCanvasElement) => {
          const d = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(
            0,
            0,
            c.width,
            c.height,
          ).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 100) n++;
          return n / (d.length / 4);
        });
    const visible = await painted();
    console.log(`gradient map: ${(100 * visible).toFixed(1)}% of pixels clearly painted (auto clip)`);
    expect(visible).toBeGreaterThan(0.3);
    await p.evaluate(() =>
      Object.assign(document.querySelector('ap-small-multiples') as object, { clip: '100' }),
    );
    await p.waitForTimeout(100);
    expect(await painted()).toBeLessThan(0.01); // without clipping the extreme pixels wash the rest out
    // each cell's own range, or one scale per method row
    const ranges = await p
      .locator('ap-small-multiples .range')
      .evaluateAll((rs) => rs.map((r) => [r.getAttribute('data-lo'), r.getAttribute('data-hi')]));
    expect(ranges).toEqual([
      [expect.any(String), expect.any(String)],
      ['0', '1'],
      ['0', '3'],
    ]);
    await p.evaluate(() =>
      Object.assign(document.querySelector('ap-small-multiples') as object, { shared: true, clip: 'auto' }),
    );
    expect(await p.locator('ap-small-multiples .range').count()).toBe(0);
    const bars = await p
      .locator('ap-small-multiples .rowbar ap-colorbar')
      .evaluateAll((bs) =>
        bs.map((b) => [b.getAttribute('data-method'), (b as unknown as { domain: number[] }).domain]),
      );
    expect(bars).toEqual([
      ['gradient', [expect.any(Number), expect.any(Number)]],
      ['chefer-all', [0, 3]],
    ]);
    expect(
      await p.locator('ap-small-multiples ap-colorbar[data-method=chefer-all] .unit').textContent(),
    ).toContain('chefer-all: relevance (a.u.)');
    // regions with their labels on the cells
    expect(await p.locator('ap-small-multiples button[data-prompt="0"] text.rl').allTextContents()).toEqual([
      'wave',
      'wave',
    ]);
    await saveScreenshot(p, 'component-small-multiples-scales');
    expect(p.errors).toEqual([]);
  });

  it('<ap-token-relevance> shades each word of the prompt by its share of the relevance', async () => {
    const p = await page('<ap-token-relevance></ap-token-relevance>');
    await p.evaluate((pid) => {
      const W = window as unknown as Record<string, unknown> & { Api: new (b: string) => unknown };
      Object.assign(document.querySelector('ap-token-relevance') as object, {
        api: new W.Api(''),
        painting: pid,
        prompt: 'a great wave',
        view: 'pad',
      });
    }, PID);
    await expect
      .poll(() => p.locator('ap-token-relevance .t').allTextContents())
      .toEqual(['a', 'great', 'wave']);
    expect(textRequests).toEqual([{ prompts: ['a great wave'], view: 'pad' }]);
    expect(await p.locator('ap-token-relevance .t').last().getAttribute('aria-label')).toBe(
      'wave 60 percent',
    );
    // the strongest word is the darkest
    const bg = await p
      .locator('ap-token-relevance .t')
      .evaluateAll((ts) => ts.map((t) => getComputedStyle(t).backgroundColor));
    const lum = (c: string) => (c.match(/\d+/g) ?? []).slice(0, 3).reduce((a, v) => a + Number(v), 0);
    expect(lum(bg[2])).toBeLessThan(lum(bg[1]));
    expect(lum(bg[1])).toBeLessThan(lum(bg[0]));
    expect(p.errors).toEqual([]);
  });

  it('<ap-colorbar> shows numbers and the unit; signed maps are symmetric around zero', async () => {
    const p = await page('<ap-colorbar style="width:300px"></ap-colorbar>');
    await p.evaluate(() =>
      Object.assign(document.querySelector('ap-colorbar') as object, {
        domain: [-2, 2],
        signed: true,
        unit: 'score per pixel',
      }),
    );
    expect(await p.locator('ap-colorbar .tick').allTextContents()).toEqual(['-2', '-1', '0', '1', '2']);
    expect(await p.locator('ap-colorbar .unit').textContent()).toBe('score per pixel · red +, blue −');
    await p.evaluate(() =>
      Object.assign(document.querySelector('ap-colorbar') as object, {
        domain: [0, 0.0004],
        signed: false,
        clip: 99,
        unit: '|∂score/∂pixel|',
      }),
    );
    expect(await p.locator('ap-colorbar .tick').allTextContents()).toEqual([
      '0',
      '1e-4',
      '2e-4',
      '3e-4',
      '4e-4',
    ]);
    expect(await p.locator('ap-colorbar .unit').textContent()).toContain('clipped at p99');
    expect(await p.locator('ap-colorbar .ramp').count()).toBe(1); // the transparent start of the ramp
    await saveScreenshot(p, 'component-colorbar');
  });

  it('<ap-app> renders the gallery route from the URL and <ap-painting-view> asks for its painting', async () => {
    const p = await page('<ap-app></ap-app>');
    await p.locator('ap-app ap-gallery').waitFor();
    expect(await p.locator('ap-app .health').textContent()).toMatch(/model toy-clip · 224px, patch 32/);
    await p.evaluate(() => (location.hash = '#/map?color=origin'));
    await p.locator('ap-app ap-embedding-map').waitFor();
    expect(await p.locator('ap-app nav a[aria-current=page]').textContent()).toBe('Embedding map');
    await p.evaluate(() => (location.hash = `#/painting/${'b'.repeat(64)}`));
    await p.locator('ap-app ap-painting-view').waitFor();
    await expect
      .poll(() => p.locator('ap-painting-view .msg').textContent())
      .toMatch(/Cannot load painting: .*404/);
  });

  it('<ap-app> without a model says so on every page (not only in the header) and cannot start batches', async () => {
    const p = await openPage(browser, { width: 1100, height: 800 });
    await p.route('**/api/health', (r) =>
      r.fulfill({
        json: {
          status: 'ok',
          model: {
            state: 'none',
            source: null,
            error: null,
            hint: 'run `artprobe model pull openai/clip-vit-base-patch32`',
            info: null,
          },
        },
      }),
    );
    await p.goto(`${server.url}/index.html`);
    await p.evaluate(() => {
      document.body.innerHTML = '<ap-app></ap-app>';
    });
    await p.locator('ap-app ap-gallery').waitFor();
    await expect
      .poll(() => p.locator('ap-app .nomodel').textContent())
      .toMatch(/No model is loaded: .*artprobe model pull/);
    expect(await p.locator('ap-batch-panel button[name=run-batch]').isDisabled()).toBe(true);
    await p.evaluate(() => (location.hash = '#/map'));
    await p.locator('ap-app ap-embedding-map').waitFor();
    expect(await p.locator('ap-app .nomodel').count()).toBe(1);
    expect(p.errors).toEqual([]);
    await p.close();
  });
});
