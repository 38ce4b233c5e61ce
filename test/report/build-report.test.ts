import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { explainImage } from '../../src/attribution/explain.ts';
import { writeExplanations } from '../../src/attribution/manifest.ts';
import { register } from '../../src/cli/commands/report.ts';
import { type Clip, loadClip } from '../../src/core/clip.ts';
import { loadRegionsFile } from '../../src/regions/load.ts';
import { mapFaithfulness } from '../../src/regions/map-faithfulness.ts';
import { scoreExplanations } from '../../src/regions/score-explanations.ts';
import { buildReport, type ReportData } from '../../src/report/build-report.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { describeBrowser, launchBrowser, openPage, saveScreenshot } from '../ui/browser.ts';

const paintings = () => sharedPath('paintings');
const SUBSET = [
  'hokusai-great-wave-off-kanagawa-c1831.jpg',
  'vermeer-girl-with-a-pearl-earring-c1665.jpg',
  'ai-sd-otter-steampunk-portrait-2022.png',
];
const PROMPTS = ['a red circle', 'a blue square'];
const out = mkdtempSync(join(tmpdir(), 'report-'));
let clip: Clip;
let data: ReportData;
let html: string;

/** Decoded bytes of a data: URI. */
const dataUriBytes = (src: string) => Buffer.from(src.slice(src.indexOf(',') + 1), 'base64');

describeShared(
  'static report (toy model, shared paintings)',
  ['toy/A/model', 'paintings/annotations.jsonld'],
  () => {
    beforeAll(async () => {
      clip = await loadClip(sharedPath('toy', 'A', 'model'));
      const r = await buildReport(clip, {
        images: SUBSET.map((f) => join(paintings(), f)),
        prompts: PROMPTS,
        methods: [{ id: 'chefer-all' }, { id: 'rollout' }],
        annotations: join(paintings(), 'annotations.jsonld'),
        metricSide: 0, // painting pixels, to compare with `regions score`
        out: join(out, 'subset'),
      });
      data = r.data;
      html = readFileSync(r.file, 'utf8');
    });
    afterAll(() => clip?.dispose());

    it('is self-contained: every image is a data: URI, no external script, style or link', () => {
      const srcs = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
      expect(srcs.length).toBeGreaterThan(SUBSET.length * 4);
      for (const s of srcs) expect(s.startsWith('data:image/jpeg;base64,') || s.startsWith('#')).toBe(true);
      expect(html).not.toMatch(/<link\s|<script\s+src|@import|url\(http/);
      expect(html.match(/<section class="painting"/g)?.length).toBe(SUBSET.length);
    });

    it('has one decodable overlay per method × prompt, and the prompts give different maps', () => {
      for (const p of data.paintings) {
        expect(p.overlays.map((o) => `${o.method}|${o.prompt}`).sort()).toEqual([
          'chefer-all|a blue square',
          'chefer-all|a red circle',
          'rollout|a blue square',
          'rollout|a red circle',
        ]);
        for (const o of p.overlays)
          expect(dataUriBytes(o.src).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8])); // JPEG
        const chefer = p.overlays.filter((o) => o.method === 'chefer-all');
        expect(chefer[0].src).not.toBe(chefer[1].src); // Chefer depends on the prompt
        expect(chefer[0].score).not.toBeCloseTo(chefer[1].score, 3);
      }
    });

    it('reads titles from catalog.json next to the images, and draws every region of each painting', async () => {
      const catalog = JSON.parse(readFileSync(join(paintings(), 'catalog.json'), 'utf8')) as {
        file: string;
        title: string;
      }[];
      const { regions } = await loadRegionsFile(join(paintings(), 'annotations.jsonld'));
      for (const p of data.paintings) {
        expect(p.title).toBe(catalog.find((c) => c.file === p.file)?.title);
        const expected = regions.filter((r) => r.source.endsWith(p.file));
        expect(expected.length).toBeGreaterThan(0);
        expect(p.regions.map((r) => r.id).sort()).toEqual(expected.map((r) => r.id).sort());
        expect(p.metrics.length).toBe(expected.length * p.overlays.length);
      }
    });

    it('metrics equal `regions score` on the same maps written by `explain`', async () => {
      const dir = join(out, 'explain');
      for (const f of SUBSET) {
        const res = await explainImage(clip, {
          image: join(paintings(), f),
          targets: PROMPTS.map((prompt) => ({ kind: 'prompt', prompt })),
          methods: [{ id: 'chefer-all' }, { id: 'rollout' }],
          view: 'pad',
        });
        await writeExplanations(dir, clip.id, res);
        if (f !== SUBSET[0]) continue;
        // deletion / insertion: the games of the server's batches (regions/map-faithfulness.ts) on the same map
        const e = res.entries[0];
        const f16 = await mapFaithfulness(clip, {
          image: res.decoded,
          view: 'pad',
          target: e.target,
          raw: e.maps[0].values,
          rawShape: [e.maps[0].grid.rows, e.maps[0].grid.cols],
          steps: 16,
        });
        const rows = (data.paintings.find((p) => p.file === f)?.metrics ?? []).filter(
          (m) => m.method === e.method && m.prompt === PROMPTS[0],
        );
        expect(rows.length).toBeGreaterThan(0);
        for (const m of rows) {
          expect(m.deletion).toBeCloseTo(f16.deletion, 6);
          expect(m.insertion).toBeCloseTo(f16.insertion, 6);
        }
        expect(html).toMatch(/data-metric="deletion" data-mean="-?\d/);
      }
      const { regions } = await loadRegionsFile(join(paintings(), 'annotations.jsonld'));
      const ref = await scoreExplanations(dir, regions);
      const mine = data.paintings.flatMap((p) => p.metrics.map((m) => ({ ...m, image: p.file })));
      expect(mine.length).toBe(ref.rows.length);
      for (const m of mine) {
        const r = ref.rows.find(
          (x) =>
            x.image === m.image &&
            x.regionId === m.regionId &&
            x.method === m.method &&
            x.prompt === m.prompt,
        );
        expect(r, `${m.image} ${m.region} ${m.method} ${m.prompt}`).toBeDefined();
        expect(m.pointing).toBe(r?.pointing);
        expect(m.energy).toBeCloseTo(r?.energy as number, 6);
        expect(m.auroc).toBeCloseTo(r?.auroc as number, 6);
        expect(m.iouTopK).toBeCloseTo(r?.iouTopK as number, 6);
      }
    });

    it('probe answers are distributions over each dimension', () => {
      for (const p of data.paintings) {
        expect(p.probes.map((d) => d.dimension)).toEqual(['style', 'century', 'defect']);
        for (const d of p.probes) {
          expect(d.top.reduce((a, t) => a + t.p, 0)).toBeCloseTo(1, 5);
          for (let i = 1; i < d.top.length; i++) expect(d.top[i - 1].p).toBeGreaterThanOrEqual(d.top[i].p);
        }
      }
    });

    describeBrowser('opened from disk in Chromium', () => {
      it('shows the overlay and switches it when a small multiple is clicked', async () => {
        const browser = await launchBrowser();
        try {
          const page = await openPage(browser);
          await page.goto(pathToFileURL(join(out, 'subset', 'index.html')).href);
          const main = page.locator('section#p0 .stage img');
          const before = await main.getAttribute('src');
          await page.locator('section#p0 button.cell').nth(1).click();
          const after = await main.getAttribute('src');
          expect(after).not.toBe(before);
          expect(await page.locator('section#p0 button.cell').nth(1).getAttribute('aria-pressed')).toBe(
            'true',
          );
          expect(await main.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(100);
          // regions are drawn over the painting (an SVG with one group per region)
          expect(await page.locator('section#p0 svg [data-region]').count()).toBe(
            data.paintings[0].regions.length,
          );
          await saveScreenshot(page, 'report-from-disk');
          expect(page.errors).toEqual([]);
        } finally {
          await browser.close();
        }
      });
    });

    it('`artprobe report` builds the 18 shared paintings with one cheap method', async () => {
      const images = readdirSync(paintings())
        .filter((f) => /\.(jpe?g|png)$/i.test(f))
        .map((f) => join(paintings(), f));
      expect(images.length).toBe(18);
      const program = new Command('artprobe').exitOverride();
      register(program);
      let stdout = '';
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
        stdout += String(c);
        return true;
      });
      const t0 = performance.now();
      try {
        await program.parseAsync([
          'node',
          'artprobe',
          'report',
          '--model',
          sharedPath('toy', 'A', 'model'),
          '--image',
          ...images,
          '--prompt',
          'a red circle',
          '--method',
          'chefer-all',
          '--annotations',
          join(paintings(), 'annotations.jsonld'),
          '--faithfulness-steps',
          '0',
          '--out',
          join(out, 'all'),
          '--quiet',
        ]);
      } finally {
        spy.mockRestore();
      }
      const secs = (performance.now() - t0) / 1000;
      console.log(`report of 18 paintings: ${secs.toFixed(1)} s; ${stdout.trim()}`);
      const page = readFileSync(join(out, 'all', 'index.html'), 'utf8');
      expect(page.match(/<section class="painting"/g)?.length).toBe(18);
      const json = JSON.parse(readFileSync(join(out, 'all', 'report.json'), 'utf8'));
      const { regions } = await loadRegionsFile(join(paintings(), 'annotations.jsonld'));
      expect(json.paintings.reduce((a: number, p: { metrics: unknown[] }) => a + p.metrics.length, 0)).toBe(
        regions.length,
      );
      expect(stdout).toMatch(/wrote .*index\.html \(18 paintings/);
      // a table of contents and the summary across the paintings come first
      const summaryAt = page.indexOf('<section class="summary" id="summary">');
      expect(summaryAt).toBeGreaterThan(0);
      expect(summaryAt).toBeLessThan(page.indexOf('<section class="painting"'));
      expect(page).toMatch(
        /<nav class="toc" aria-label="Contents"><a href="#summary">Summary<\/a><a href="#p0">/,
      );
      const metrics = json.paintings.flatMap((p: { metrics: { auroc: number | null }[] }) => p.metrics);
      const aurocs = metrics
        .map((m: { auroc: number | null }) => m.auroc)
        .filter((v: number | null) => v !== null);
      const row = page.match(
        /<tr data-method="chefer-all"><th scope="row">chefer-all<\/th><td class="n">(\d+)<\/td><td class="n">(\d+)<\/td>.*?data-metric="auroc" data-mean="([^"]+)"/,
      );
      expect(row?.slice(1, 3)).toEqual([String(regions.length), '18']);
      expect(Number(row?.[3])).toBeCloseTo(
        aurocs.reduce((a: number, b: number) => a + b, 0) / aurocs.length,
        10,
      );
      // per dimension, and the paintings that agree least, linked to their sections
      expect(page).toMatch(/<tr data-method="chefer-all" data-dimension="style">/);
      expect(page).toMatch(/Least agreement[\s\S]*<a href="#p\d+">/);
      // every painting's colour bar has numbers and the method's unit (not just "low … high")
      expect(page).not.toContain('<span>low</span>');
      expect(page.match(/class="colorbar"/g)?.length).toBe(18);
      expect(page).toContain('chefer-all: relevance (a.u.)');
    });

    it('names the problem for bad options', async () => {
      const program = new Command('artprobe').exitOverride();
      register(program);
      const run = (args: string[]) =>
        program.parseAsync([
          'node',
          'artprobe',
          'report',
          '--model',
          sharedPath('toy', 'A', 'model'),
          '--out',
          out,
          ...args,
        ]);
      await expect(run(['--image', 'nope.jpg', '--prompt', 'x', '--method', 'magic'])).rejects.toThrow(
        /unknown attribution method "magic"/,
      );
      await expect(run(['--image', 'nope.jpg', '--prompt', 'x', '--view', 'zoom'])).rejects.toThrow(
        /--view must be one of/,
      );
      await expect(buildReport(clip, { images: ['nope.jpg'], prompts: ['x'], out })).rejects.toThrow(
        /image nope\.jpg does not exist/,
      );
      await expect(
        buildReport(clip, { images: SUBSET.map((f) => join(paintings(), f)), prompts: [' '], out }),
      ).rejects.toThrow(/non-empty prompt/);
    });
  },
);
