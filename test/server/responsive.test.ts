/**
 * Never blocked by its own work: `/api/health` is polled over loopback HTTP (from a process of its own, so that
 * only the server's event loop is measured) while the heaviest job of each kind
 * runs (an explanation job, a painting bundle export of ~125 MB, region metrics on a 1024×1024 map, a
 * 10000×10000 upload being fully decoded, a catalog of 200 000 rows), and every answer must come within
 * 200 ms. Metrics are cached: asking again for the same map and annotations is instant.
 */
import { spawn } from 'node:child_process';
import { randomFillSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeNpy } from '../../src/core/npy.ts';
import { buildApp } from '../../src/server/app.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

interface Latency {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

/** A poller in its own process (so that only the server's event loop is measured, not this test's). */
const POLLER = `
const base = process.argv[1];
const times = [];
let stop = false;
process.stdin.on('data', () => { stop = true; });
while (!stop) {
  const t0 = performance.now();
  const r = await fetch(base + '/api/health');
  await r.arrayBuffer();
  if (r.status !== 200) { console.log(JSON.stringify({ status: r.status })); process.exit(1); }
  times.push(performance.now() - t0);
  if (times.length === 1) console.log('ready');
  await new Promise((r) => setTimeout(r, 20));
}
console.log(JSON.stringify(times));
process.exit(0);
`;

/**
 * Polls /api/health from another process, one request after another (20 ms apart), while `work()` runs (and
 * for at least `minMs`), returning the latencies and what `work` gave.
 */
/**
 * /api/health answered within 200 ms: 99% of the samples (the poller runs in its own process, and vitest runs other
 * test files on the same two cores, so a rare sample waits for the scheduler), none beyond a second.
 */
function expectResponsive(latency: Latency): void {
  expect(latency.p99).toBeLessThan(200);
  expect(latency.max).toBeLessThan(1000);
}

async function pollWhile<T>(
  base: string,
  work: () => Promise<T>,
  minMs = 300,
): Promise<{ latency: Latency; value: T }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', POLLER, base], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  for (let i = 0; i < 400 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 25));
  expect(out).toContain('ready');
  const t0 = performance.now();
  const value = await work();
  const left = minMs - (performance.now() - t0);
  if (left > 0) await new Promise((r) => setTimeout(r, left));
  child.stdin.write('stop\n');
  expect(await exited).toBe(0);
  const times = (JSON.parse(out.slice(out.indexOf('ready') + 5).trim()) as number[]).sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  return {
    value,
    latency: {
      samples: times.length,
      p50: Math.round(q(0.5)),
      p99: Math.round(q(0.99)),
      max: Math.round(times.at(-1) ?? 0),
    },
  };
}

/** Reads a response body to the end without keeping it, returning its length. */
async function drain(r: Response): Promise<number> {
  let n = 0;
  for await (const chunk of r.body ?? []) n += (chunk as Uint8Array).length;
  return n;
}

describeShared('health answers within 200 ms during heavy work', ['toy/A/model', 'toy/A/eval/images'], () => {
  let app: FastifyInstance;
  let dir: string;
  let base: string;
  const report: Record<string, Latency> = {};
  const postJson = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const uploadHttp = async (bytes: Uint8Array, name: string) => {
    const form = new FormData();
    form.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>]), name);
    return fetch(`${base}/api/paintings`, { method: 'POST', body: form });
  };

  /** A finished job made directly in the workspace, with maps of the given size (random values). */
  const fakeJob = (paintingId: string, side: number, overlayBytes: number): string => {
    const { ws } = app.artprobe;
    const id = randomUUID();
    const mapsDir = ws.mapsDir(id);
    mkdirSync(mapsDir, { recursive: true });
    const values = new Float32Array(side * side);
    randomFillSync(values);
    for (let k = 0; k < values.length; k++) values[k] = (values[k] % 1000) / 1000; // finite values
    writeFileSync(join(mapsDir, 'painting.npy'), encodeNpy(values, [side, side]));
    writeFileSync(join(mapsDir, 'raw.npy'), encodeNpy(new Float32Array(49), [7, 7]));
    writeFileSync(join(mapsDir, 'overlay.png'), randomFillSync(Buffer.alloc(overlayBytes)));
    ws.insertJob({
      id,
      state: 'done',
      paintingId,
      modelId: 'fake',
      modelFingerprint: 'f'.repeat(64),
      method: 'rollout',
      params: {},
      target: { kind: 'prompt', prompt: `p ${id}` },
      view: 'crop',
      cacheKey: randomUUID(),
      cachedFrom: null,
      result: {
        mapsJob: id,
        score: 0,
        grid: [7, 7],
        paintingSize: [side, side],
        signed: false,
        tiles: 1,
        files: { raw: 'raw.npy', painting: 'painting.npy', overlay: 'overlay.png' },
      },
    });
    return id;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'artprobe-responsive-'));
    app = await buildApp({
      workspace: join(dir, 'ws'),
      model: sharedPath('toy/A/model'),
      uiDir: join(dir, 'no-ui'),
    });
    await app.artprobe.modelReady;
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    console.log(`/api/health latency (ms) during heavy work: ${JSON.stringify(report)}`);
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('during an explanation job', async () => {
    const png = readFileSync(sharedPath('toy/A/eval/images/img_003.png'));
    const p = (await (await uploadHttp(png, 'img_003.png')).json()) as { id: string };
    const job = (await (
      await postJson('/api/jobs', {
        paintingId: p.id,
        method: 'integrated-gradients',
        params: { steps: 4096 },
        target: { kind: 'prompt', prompt: 'a blue circle' },
      })
    ).json()) as { id: string };
    // three seconds of the job running, then it is cancelled
    const running = (async () => {
      for (let i = 0; i < 200; i++) {
        if (
          ((await (await fetch(`${base}/api/jobs/${job.id}`)).json()) as { state: string }).state ===
          'running'
        )
          break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await new Promise((r) => setTimeout(r, 3000));
    })();
    const { latency } = await pollWhile(base, () => running);
    await postJson(`/api/jobs/${job.id}/cancel`, {});
    report.explanation = latency;
    expectResponsive(latency);
  });

  it('during a large export', async () => {
    const png = await sharp({ create: { width: 2048, height: 2048, channels: 3, background: '#345' } })
      .png()
      .toBuffer();
    const p = (await (await uploadHttp(png, 'big.png')).json()) as { id: string };
    for (let k = 0; k < 6; k++) fakeJob(p.id, 2048, 4 << 20);
    const { latency, value } = await pollWhile(base, async () => {
      const r = await fetch(`${base}/api/paintings/${p.id}/export`);
      return { status: r.status, length: r.headers.get('content-length'), bytes: await drain(r) };
    });
    expect(value.status).toBe(200);
    expect(value.bytes).toBeGreaterThan(100e6);
    expect(String(value.bytes)).toBe(value.length);
    report.export = latency;
    expectResponsive(latency);
  });

  it('during region metrics on a 1024×1024 map, which are then cached', async () => {
    const png = await sharp({ create: { width: 1024, height: 1024, channels: 3, background: '#543' } })
      .png()
      .toBuffer();
    const p = (await (await uploadHttp(png, 'metrics.png')).json()) as { id: string };
    const jobId = fakeJob(p.id, 1024, 1000);
    for (let k = 0; k < 4; k++) {
      const r = await postJson(`/api/paintings/${p.id}/annotations`, {
        type: 'Annotation',
        body: { type: 'TextualBody', purpose: 'tagging', value: `region ${k}` },
        target: {
          source: 'metrics.png',
          selector: { type: 'FragmentSelector', value: `xywh=pixel:${50 + 150 * k},50,400,600` },
        },
      });
      expect(r.status).toBe(201);
    }
    const { latency, value } = await pollWhile(base, async () => {
      const r = await postJson('/api/metrics', { jobId });
      return { status: r.status, rows: ((await r.json()) as { rows: unknown[] }).rows };
    });
    expect(value.status).toBe(200);
    expect(value.rows).toHaveLength(4);
    report.metrics = latency;
    expectResponsive(latency);
    // asked again (as the UI does when another map finishes): from the cache
    const t0 = performance.now();
    const again = (await (await postJson('/api/metrics', { jobId })).json()) as { rows: unknown[] };
    const cachedMs = performance.now() - t0;
    expect(again.rows).toEqual(value.rows);
    expect(cachedMs).toBeLessThan(100);
    expect(app.artprobe.metricCache?.hits).toBeGreaterThanOrEqual(4);
  });

  it('during the full decode of a 10000×10000 upload and the import of a 200 000-row catalog', async () => {
    const huge = await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#777' } })
      .png()
      .toBuffer();
    const up = await pollWhile(base, () => uploadHttp(huge, 'huge.png').then((r) => r.status));
    expect(up.value).toBe(201);
    report.upload = up.latency;
    expectResponsive(up.latency);
    const rows = Array.from(
      { length: 200_000 },
      (_, i) => `img_${i}.png,Title number ${i},${1500 + (i % 400)}`,
    );
    const csv = `file,title,year\n${rows.join('\n')}\n`;
    const form = new FormData();
    form.append('file', new Blob([csv]), 'big.csv');
    const cat = await pollWhile(base, () =>
      fetch(`${base}/api/catalogs`, { method: 'POST', body: form }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { rows: number },
      })),
    );
    expect(cat.value.status).toBe(201);
    expect(cat.value.body.rows).toBe(200_000);
    report.catalog = cat.latency;
    expectResponsive(cat.latency);
  });
});
