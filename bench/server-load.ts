/**
 * Load test of the server: 50 concurrent explanation requests with the toy model over loopback HTTP, each
 * followed through its Server-Sent Events stream until it ends. Reports completion, wall time, peak RSS of
 * the process (model worker threads included) and checks the job count in the database.
 *
 * @example
 * npx tsx bench/server-load.ts
 * const r = await runServerLoadBench({ requests: 50 }); // { completed: 50, peakRssMB, dbJobs: 50, ... }
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
  peakRssMB: number;
  dbJobs: number;
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
        return {
          state: (JSON.parse(last.split('data: ')[1] ?? '{}') as { state?: string }).state,
          cached: !!job.cached,
        };
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
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
      dbJobs,
      ok: completed === requests && dbJobs === requests,
    };
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await runServerLoadBench();
  console.log(JSON.stringify(r, null, 2));
  if (!r.ok) process.exitCode = 1;
}
