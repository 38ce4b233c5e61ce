/**
 * Bounded work per painting (issue: "safe against hostile files"): a 10000×10000 PNG (under the 100-megapixel
 * limit) is accepted, explained from a copy within the map pixel budget (2048 × 2048 by default) and its
 * maps are stored at that size, with the model worker's and the server's peak RSS under 2 GB; a 200000×1 strip
 * and truncated PNG/JPEG files are refused at upload (fully decoded there); the tiles view is capped before
 * any work; a job's error never shows a server path.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTiles, prepareView, TileLimitError } from '../../src/attribution/views.ts';
import { decodeImage } from '../../src/core/image-decode.ts';
import { decodeNpy } from '../../src/core/npy.ts';
import { OPENAI_CLIP_CONFIG } from '../../src/core/preprocess.ts';
import { buildApp } from '../../src/server/app.ts';
import { DEFAULT_MAX_MAP_PIXELS } from '../../src/server/jobs.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { multipart } from './helpers.ts';

const GB = 1024 ** 3;
const dirSize = (d: string): number =>
  readdirSync(d, { withFileTypes: true }).reduce(
    (a, e) => a + (e.isDirectory() ? dirSize(join(d, e.name)) : statSync(join(d, e.name)).size),
    0,
  );

describe('tile and aspect-ratio limits (no model)', () => {
  it('counts tiles without making them and refuses a view over the cap', () => {
    expect(countTiles(64, 48, 0.25)).toBe(2);
    expect(countTiles(64, 48, 0.9999)).toBe(3335);
    const img = { width: 64, height: 48, data: new Uint8Array(64 * 48 * 3) };
    expect(() => prepareView(img, 'tiles', OPENAI_CLIP_CONFIG, { tileOverlap: 0.9999 })).toThrow(
      TileLimitError,
    );
    expect(() =>
      prepareView(img, 'tiles', OPENAI_CLIP_CONFIG, { tileOverlap: 0.9999, maxTiles: 64 }),
    ).toThrow(/needs 3335 tiles, above the limit of 64/);
    expect(prepareView(img, 'tiles', OPENAI_CLIP_CONFIG, { tileOverlap: 0.25 }).inputs).toHaveLength(2);
  });

  it('refuses a 200000×1 strip before decoding instead of failing on a typed array', async () => {
    const strip = await sharp({ create: { width: 200_000, height: 1, channels: 3, background: '#888' } })
      .png()
      .toBuffer();
    await expect(decodeImage(strip, { name: 'strip.png' })).rejects.toThrow(
      /strip\.png: image is 200000x1, an aspect ratio of 200000:1, above the limit of 1000:1/,
    );
  });
});

describeShared('bounded work per painting (toy model)', ['toy/A/model', 'toy/A/eval/images'], () => {
  let app: FastifyInstance;
  let dir: string;
  let ws: string;
  const post = (url: string, payload: unknown) =>
    app.inject({ method: 'POST', url, payload: payload as object });
  const upload = (content: Uint8Array, filename: string) =>
    app.inject({
      method: 'POST',
      url: '/api/paintings',
      ...multipart([{ name: 'file', filename, content }]),
    });
  const waitJob = async (id: string) => {
    for (let i = 0; i < 1200; i++) {
      const j = (await app.inject(`/api/jobs/${id}`)).json();
      if (['done', 'failed', 'cancelled'].includes(j.state)) return j;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${id} did not finish`);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'artprobe-budget-'));
    ws = join(dir, 'ws');
    app = await buildApp({ workspace: ws, model: sharedPath('toy/A/model'), uiDir: join(dir, 'no-ui') });
    await app.artprobe.modelReady;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('explains a 10000×10000 PNG within the map pixel budget, under 2 GB of RSS', async () => {
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    try {
      // a gradient, so that the PNG is small but not trivially uniform
      const side = 10_000;
      const png = await sharp({ create: { width: side, height: side, channels: 3, background: '#6a8' } })
        .composite([
          {
            input: await sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#c33' } })
              .png()
              .toBuffer(),
            left: 1000,
            top: 1000,
          },
        ])
        .png({ compressionLevel: 9 })
        .toBuffer();
      const t0 = performance.now();
      const up = await upload(png, 'huge.png');
      const uploadMs = performance.now() - t0;
      expect(up.statusCode).toBe(201);
      expect(up.json()).toMatchObject({ width: side, height: side });
      const job = await post('/api/jobs', {
        paintingId: up.json().id,
        method: 'rollout',
        target: { kind: 'prompt', prompt: 'a red square' },
      });
      expect(job.statusCode).toBe(202);
      const done = await waitJob(job.json().id);
      expect(done.state, done.error).toBe('done');
      expect(done.result.paintingSize).toEqual([2048, 2048]);
      const map = decodeNpy((await app.inject(`/api/jobs/${done.id}/maps/painting.npy`)).rawPayload);
      expect(map.shape).toEqual([2048, 2048]);
      expect(2048 * 2048).toBeLessThanOrEqual(DEFAULT_MAX_MAP_PIXELS);
      const mapsBytes = dirSize(join(ws, 'maps', done.id));
      expect(mapsBytes).toBeLessThan(40 * 1024 * 1024);
      const workers = (await app.inject('/api/health')).json().memory.workers as { peakRss: number }[];
      const workerPeak = Math.max(...workers.map((w) => w.peakRss));
      expect(workerPeak).toBeGreaterThan(0);
      expect(workerPeak).toBeLessThan(2 * GB);
      // regions drawn on the full painting are scored on the smaller map (the red square is 2000 px wide)
      const anno = await post(`/api/paintings/${up.json().id}/annotations`, {
        type: 'Annotation',
        body: { type: 'TextualBody', purpose: 'tagging', value: 'red square' },
        target: {
          source: 'huge.png',
          selector: { type: 'FragmentSelector', value: 'xywh=pixel:1000,1000,2000,2000' },
        },
      });
      expect(anno.statusCode).toBe(201);
      const m = await post('/api/metrics', { jobId: done.id });
      expect(m.statusCode).toBe(200);
      expect(Math.abs(m.json().rows[0].area - 409.6 ** 2)).toBeLessThan(1000);
      clearInterval(sampler);
      expect(peak).toBeLessThan(2 * GB);
      console.log(
        `10000×10000 PNG (${png.length} bytes): upload (full decode) ${uploadMs.toFixed(0)} ms; rollout maps ${(mapsBytes / 1e6).toFixed(1)} MB at 2048×2048; model worker peak RSS ${(workerPeak / 1e6).toFixed(0)} MB; server (test process) peak RSS ${(peak / 1e6).toFixed(0)} MB`,
      );
    } finally {
      clearInterval(sampler);
    }
  });

  it('refuses strips and truncated files at upload, storing nothing', async () => {
    const before = readdirSync(join(ws, 'paintings')).length;
    const strip = await sharp({ create: { width: 200_000, height: 1, channels: 3, background: '#888' } })
      .png()
      .toBuffer();
    const s = await upload(strip, 'strip.png');
    expect(s.statusCode).toBe(415);
    expect(s.json().message).toMatch(/aspect ratio of 200000:1, above the limit of 1000:1/);
    const png = readFileSync(sharedPath('toy/A/eval/images/img_003.png'));
    const jpg = await sharp(png).jpeg({ quality: 90 }).toBuffer();
    for (const [name, bytes] of [
      ['cut.png', png.subarray(0, Math.floor(png.length * 0.8))],
      ['cut.jpg', jpg.subarray(0, Math.floor(jpg.length * 0.6))],
    ] as const) {
      const r = await upload(bytes, name);
      expect(r.statusCode, name).toBe(415);
      expect(r.json().message).toMatch(/damaged or truncated/);
      expect(r.json().message).not.toContain(dir);
    }
    expect(readdirSync(join(ws, 'paintings')).length).toBe(before);
  });

  it('caps the tiles view before any work, naming the limit and the flag', async () => {
    const wide = await sharp({ create: { width: 4000, height: 50, channels: 3, background: '#246' } })
      .png()
      .toBuffer();
    const p = (await upload(wide, 'scroll.png')).json();
    const r = await post('/api/jobs', {
      paintingId: p.id,
      method: 'rollout',
      target: { kind: 'prompt', prompt: 'a scroll' },
      view: 'tiles',
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().message).toMatch(
      /needs 107 tiles, above the limit of 64 \(raise it with artprobe serve --max-tiles/,
    );
    expect((await app.inject(`/api/jobs?paintingId=${p.id}`)).json()).toEqual([]);
    // the crop view of the same painting is fine
    const crop = await post('/api/jobs', {
      paintingId: p.id,
      method: 'rollout',
      target: { kind: 'prompt', prompt: 'a scroll' },
    });
    expect((await waitJob(crop.json().id)).state).toBe('done');
  });

  it('a job whose painting file went bad fails without showing a server path', async () => {
    const png = readFileSync(sharedPath('toy/A/eval/images/img_004.png'));
    const p = (await upload(png, 'img_004.png')).json();
    // the file is damaged on disk after it was accepted
    writeFileSync(join(ws, 'paintings', `${p.id}.png`), png.subarray(0, 200));
    const r = await post('/api/jobs', {
      paintingId: p.id,
      method: 'rollout',
      target: { kind: 'prompt', prompt: 'a shape' },
    });
    const j = await waitJob(r.json().id);
    expect(j.state).toBe('failed');
    expect(j.error).toMatch(/img_004\.png/);
    expect(j.error).not.toContain(dir);
    expect(j.error).not.toContain('/paintings/');
  });
});
