/**
 * Load test of the server: 50 concurrent explanation requests with the toy model over loopback HTTP, each
 * followed through its Server-Sent Events stream until it ends, plus an export of a painting's bundle once
 * half of them are done. Meanwhile `/api/health` is polled (one request after another, 20 ms apart) and its
 * latency recorded. Reports completion, wall time, the health latency (p50, p99, max), the peak RSS of the
 * server process and of its model worker processes, and checks the job count in the database.
 *
 * @example
 * npx tsx bench/server-load.ts
 * const r = await runServerLoadBench({ requests: 50 }); // { completed: 50, healthP99Ms, peakRssMB, workerPeakRssMB, dbJobs: 50, ... }
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/server/app.ts';

export interface ServerLoadResult {
  requests: number;
  completed: number;
  failed: number;
  cached: number;
  seconds: number;
  startRssMB: number;
  /** Peak RSS of the server process (HTTP thread, compute threads). */
  peakRssMB: number;
  /** Largest peak RSS of a model worker process. */
  workerPeakRssMB: number;
  /** Server peak plus every worker's peak (an upper bound of the whole server's memory). */
  totalPeakRssMB: number;
  /** /api/health latency while the jobs and the export ran. */
  healthSamples: number;
  healthP50Ms: number;
  healthP99Ms: number;
  healthMaxMs: number;
  /** The export made under load: its size and how long it took. */
  exportMB: number;
  exportSeconds: number;
  dbJobs: number;
  /** Every job completed, the database holds exactly `requests` jobs, health p99 under 200 ms. */
  ok: boolean;
}

const shared = process.env.ARTPROBE_SHARED
  ? resolve(process.env.ARTPROBE_SHARED)
  : resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'shared');

/** Runs the load test; `ok` is true when every job completed and the database holds exactly `requests` jobs. */
export async function runServerLoadBench(
  opts: { requests?: number; concurrency?: number } = {},
): Promise<ServerLoadResult> {
  const requests = opts.requests ?? 50;
  const dir = mkdtempSync(join(tmpdir(), 'artprobe-load-'));
  // the model workers do not hold the event loop open: keep it alive while the model loads
  const keepAlive = setInterval(() => {}, 1000);
  const app = await buildApp({
    workspace: join(dir, 'ws'),
    model: join(shared, 'toy/A/model'),
    concurrency: opts.concurrency ?? 1,
  });
  try {
    await app.artprobe.modelReady;
    if (app.artprobe.host.state !== 'ready')
      throw new Error(`toy model did not load: ${app.artprobe.host.error}`);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const ids: string[] = [];
    for (const k of [0, 1, 2]) {
      const form = new FormData();
      form.append(
        'file',
        new Blob([readFileSync(join(shared, `toy/A/eval/images/img_00${k}.png`))]),
        `img_00${k}.png`,
      );
      ids.push(
        (
          (await (await fetch(`${base}/api/paintings`, { method: 'POST', body: form })).json()) as {
            id: string;
          }
        ).id,
      );
    }
    const captions = ['red', 'green', 'blue'].flatMap((c) =>
      ['circle', 'square', 'triangle'].map((s) => `a ${c} ${s}`),
    );
    const methods = ['chefer-all', 'rollout', 'gradient'];
    const startRss = process.memoryUsage().rss;
    let peak = startRss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 25);
    // health, polled one request after another while the load runs
    let loadDone = false;
    const latencies: number[] = [];
    const poller = (async () => {
      while (!loadDone) {
        const h0 = performance.now();
        await (await fetch(`${base}/api/health`)).arrayBuffer();
        latencies.push(performance.now() - h0);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    let finished = 0;
    let halfway: () => void = () => {};
    const half = new Promise<void>((r) => {
      halfway = r;
    });
    const exported = half.then(async () => {
      const e0 = performance.now();
      const res = await fetch(`${base}/api/paintings/${ids[0]}/export`);
      const bytes = (await res.arrayBuffer()).byteLength;
      if (res.status !== 200) throw new Error(`export answered ${res.status}`);
      return { bytes, seconds: (performance.now() - e0) / 1000 };
    });
    const t0 = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: requests }, async (_, i) => {
        const body = {
          paintingId: ids[i % 3],
          method: methods[Math.floor(i / 3) % 3],
          target: { kind: 'prompt', prompt: captions[Math.floor(i / 9) % 9] },
        };
        const res = await fetch(`${base}/api/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const job = (await res.json()) as { id: string; cached?: boolean; message?: string };
        if (!job.id) throw new Error(`job ${i} refused: ${job.message}`);
        // follow the SSE stream to its end; the last event carries the final state
        const text = await (await fetch(`${base}/api/jobs/${job.id}/events`)).text();
        const last = text.trim().split('\n\n').at(-1) ?? '';
        if (++finished === Math.ceil(requests / 2)) halfway();
        return {
          state: (JSON.parse(last.split('data: ')[1] ?? '{}') as { state?: string }).state,
          cached: !!job.cached,
        };
      }),
    );
    halfway();
    const exp = await exported;
    const seconds = (performance.now() - t0) / 1000;
    loadDone = true;
    await poller;
    clearInterval(sampler);
    const workerPeaks = app.artprobe.host.workerMemory().map((w) => w.peakRss);
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
    const ms = (v: number) => Math.round(v * 10) / 10;
    const dbJobs = app.artprobe.ws.countJobs().total;
    const completed = outcomes.filter((o) => o.state === 'done').length;
    const mb = (b: number) => Math.round(b / 1e5) / 10;
    return {
      requests,
      completed,
      failed: requests - completed,
      cached: outcomes.filter((o) => o.cached).length,
      seconds: Math.round(seconds * 100) / 100,
      startRssMB: mb(startRss),
      peakRssMB: mb(peak),
      workerPeakRssMB: mb(Math.max(0, ...workerPeaks)),
      totalPeakRssMB: mb(peak + workerPeaks.reduce((a, b) => a + b, 0)),
      healthSamples: latencies.length,
      healthP50Ms: ms(q(0.5)),
      healthP99Ms: ms(q(0.99)),
      healthMaxMs: ms(latencies.at(-1) ?? 0),
      exportMB: mb(exp.bytes),
      exportSeconds: Math.round(exp.seconds * 100) / 100,
      dbJobs,
      ok: completed === requests && dbJobs === requests && q(0.99) < 200,
    };
  } finally {
    clearInterval(keepAlive);
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await runServerLoadBench();
  console.log(JSON.stringify(r, null, 2));
  if (!r.ok) process.exitCode = 1;
}
