/**
 * End to end on a real `redis-server` (127.0.0.1, a free port, its own folder, no persistence): the 120 toy A
 * paintings × 3 prompts × 2 methods explained by three worker processes, one of them SIGKILLed mid-job and the
 * submitting `artprobe batch` SIGKILLed too; every map must exist exactly once and be byte-identical to a
 * single-process `artprobe explain` (same engine on both sides: the default, or ARTPROBE_ENGINE). Then: a re-run
 * enqueues nothing, `batch status` reports the run, failing jobs are parked with their reasons, and results go
 * to an S3-compatible bucket (s3rver) as they go to a folder.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobFragment } from '../../src/batch/assemble.ts';
import { type LocalRedis, startLocalRedis } from '../../src/batch/redis.ts';
import { loadRegionsFile } from '../../src/regions/load.ts';
import { scoreExplanations } from '../../src/regions/score-explanations.ts';
import { sharedPath } from '../helpers/shared-data.ts';
import { type CliProcess, describeWithRedis, runCli, spawnCli } from './helpers.ts';

const MODEL = sharedPath('toy/A/model');
const IMAGES = sharedPath('toy/A/eval/images');
const PROMPTS = ['a red circle', 'a green square', 'a blue triangle'];
const METHODS = 'rollout,chefer-last';
const WORKER_FLAGS = ['--verbose', '--lock-ms', '4000', '--stalled-ms', '1000', '--poll-ms', '300'];

/** Top-level files of an output folder (maps and overlays), without manifests and run folders. */
function mapFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && d.name !== 'manifest.json')
    .map((d) => d.name)
    .sort();
}

function parseJsonOutput<T>(stdout: string): T {
  const start = stdout.indexOf('{');
  return JSON.parse(stdout.slice(start)) as T;
}

interface Outcome {
  run: string;
  submit: { jobs: number; enqueued: number; done: number; queued: number; parked: number };
  progress?: { done: number; failed: number; total: number; pending: number };
  manifest?: { entries: number; fragments: number };
}

describeWithRedis('artprobe batch + worker on a real Redis', () => {
  let redis: LocalRedis;
  let tmp: string;
  let url: string;
  const procs: CliProcess[] = [];
  let ref: string;
  let out: string;
  let batchArgs: string[];
  let killedWorkerId = '';

  beforeAll(async () => {
    redis = await startLocalRedis();
    url = redis.url;
    tmp = mkdtempSync(join(tmpdir(), 'artprobe-batch-test-'));
    ref = join(tmp, 'ref');
    out = join(tmp, 'out');
    batchArgs = [
      'batch',
      '--redis',
      url,
      '--model',
      MODEL,
      '--images',
      IMAGES,
      '--prompt',
      ...PROMPTS,
      '--method',
      METHODS,
      '--out',
      out,
      '--run',
      'toy-a',
    ];
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop(3000)));
    await redis?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('explains 120 paintings × 3 prompts × 2 methods on 3 workers through a SIGKILL, byte-identical to explain', async () => {
    const t0 = Date.now();
    const images = readdirSync(IMAGES)
      .filter((f) => f.endsWith('.png'))
      .sort()
      .map((f) => join(IMAGES, f));
    expect(images).toHaveLength(120);
    const reference = await runCli([
      'explain',
      '--model',
      MODEL,
      '--image',
      ...images,
      '--prompt',
      ...PROMPTS,
      '--method',
      METHODS,
      '--out',
      ref,
      '--quiet',
    ]);
    expect(reference.code, reference.output).toBe(0);
    const tRef = Date.now();

    // the submitter: enqueues 240 jobs, then follows the run (it is SIGKILLed while it does)
    const submitter = spawnCli(batchArgs);
    procs.push(submitter);
    await new Promise<void>((res, rej) => {
      submitter.onLine((l) => {
        if (/enqueued 240\b/.test(l)) res();
      });
      void submitter.exited.then((c) => rej(new Error(`batch exited (${c}): ${submitter.lines.join('\n')}`)));
    });

    const workers = [0, 1, 2].map(() => spawnCli(['worker', '--redis', url, ...WORKER_FLAGS]));
    procs.push(...workers);
    let done = 0;
    let killedKey: string | undefined;
    let startedInKilled: string | undefined;
    const killedDone = new Set<string>();
    const killed = new Promise<void>((res) => {
      workers.forEach((w, i) =>
        w.onLine((line) => {
          const [word, key] = line.split(' ');
          if (word === 'done') {
            done++;
            if (i === 0) killedDone.add(key);
            if (done >= 30 && submitter.child.exitCode === null && submitter.child.signalCode === null)
              submitter.child.kill('SIGKILL'); // the batch command dies; the run goes on
          }
          if (i === 0 && word === 'start') {
            startedInKilled = key;
            if (done >= 80 && !killedKey) {
              killedKey = key;
              w.child.kill('SIGKILL'); // mid-job: it has just taken this job
              res();
            }
          }
          const m = /^(\S+:\d+): waiting for jobs/.exec(line);
          if (i === 0 && m) killedWorkerId = m[1];
        }),
      );
    });
    await killed;
    console.log(
      `killed worker 0 after ${done} jobs, ${((Date.now() - tRef) / 1000).toFixed(1)} s into the batch`,
    );
    expect(await workers[0].exited).toBe('SIGKILL');
    expect(await submitter.exited).toBe('SIGKILL');
    expect(startedInKilled).toBe(killedKey);

    // the same command again: nothing to enqueue, it follows the run to its end and writes the manifest
    const again = await runCli([...batchArgs, '--json']);
    expect(again.code, again.output).toBe(0);
    const outcome = parseJsonOutput<Outcome>(again.stdout);
    expect(outcome.submit.jobs).toBe(240);
    expect(outcome.submit.enqueued).toBe(0);
    expect(outcome.submit.done + outcome.submit.queued).toBe(240);
    expect(outcome.progress).toMatchObject({ done: 240, failed: 0, total: 240, pending: 0 });
    const tBatch = Date.now();

    // the job the killed worker held came back and was finished by another worker
    const key = killedKey as string;
    expect(killedDone.has(key)).toBe(false);
    const fragment = JSON.parse(
      readFileSync(join(out, '.batch', 'toy-a', 'jobs', `${key}.json`), 'utf8'),
    ) as JobFragment;
    expect(fragment.worker).not.toBe(killedWorkerId);
    expect(fragment.entries).toHaveLength(3);

    // every (image, prompt, method) map exactly once, byte-identical to explain
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      model: string;
      entries: {
        image: string;
        method: string;
        target: string;
        map: string;
        map_painting: string;
        overlay: string;
      }[];
    };
    expect(manifest.model).toBe('model');
    expect(manifest.entries).toHaveLength(120 * 3 * 2);
    const triples = new Set(manifest.entries.map((e) => `${e.image}|${e.target}|${e.method}`));
    expect(triples.size).toBe(720);
    for (const img of images.map((p) => p.split('/').pop()))
      for (const p of PROMPTS)
        for (const m of METHODS.split(',')) expect(triples.has(`${img}|${p}|${m}`)).toBe(true);
    const files = mapFiles(out);
    expect(files).toHaveLength(720 * 3);
    expect(files).toEqual(mapFiles(ref));
    const refManifest = JSON.parse(readFileSync(join(ref, 'manifest.json'), 'utf8')) as typeof manifest;
    expect(manifest.entries.map((e) => [e.map, e.map_painting, e.overlay])).toEqual(
      refManifest.entries.map((e) => [e.map, e.map_painting, e.overlay]),
    );
    let differing = 0;
    for (const f of files) if (!readFileSync(join(out, f)).equals(readFileSync(join(ref, f)))) differing++;
    expect(differing).toBe(0);

    // `regions score` reads the run's manifest
    const { regions } = await loadRegionsFile(sharedPath('toy/A/eval/annotations.jsonld'));
    const few = regions.filter((r) => /img_00[01]\.png$/.test(r.source)); // scoring all 720 maps takes a minute
    const scored = await scoreExplanations(out, few);
    expect(new Set(scored.rows.map((r) => r.method))).toEqual(new Set(METHODS.split(',')));
    console.log(
      `batch test: explain (1 process) ${((tRef - t0) / 1000).toFixed(1)} s; batch on 3 workers with kills ${((tBatch - tRef) / 1000).toFixed(1)} s`,
    );
  });

  it('re-running after completion enqueues nothing and keeps the manifest', async () => {
    const before = readFileSync(join(out, 'manifest.json'));
    const r = await runCli([...batchArgs, '--json']);
    expect(r.code, r.output).toBe(0);
    const o = parseJsonOutput<Outcome>(r.stdout);
    expect(o.submit).toMatchObject({ jobs: 240, enqueued: 0, done: 240, queued: 0, parked: 0 });
    expect(readFileSync(join(out, 'manifest.json')).equals(before)).toBe(true);
    const runManifest = JSON.parse(readFileSync(join(out, 'runs', 'toy-a.json'), 'utf8'));
    expect(runManifest).toMatchObject({ run: 'toy-a', entries: 720, fragments: 240 });
  });

  it('batch status reports totals, workers, slowest jobs (text and --json)', async () => {
    const j = await runCli(['batch', 'status', '--redis', url, '--run', 'toy-a', '--json', '--slowest', '5']);
    expect(j.code, j.output).toBe(0);
    const s = parseJsonOutput<{
      counts: Record<string, number>;
      slowest: { ms: number }[];
      failures: unknown[];
      workers: { id: string; jobs: number }[];
    }>(j.stdout);
    expect(s.counts).toMatchObject({ total: 240, done: 240, failed: 0, active: 0, waiting: 0, maps: 720 });
    expect(s.slowest).toHaveLength(5);
    expect(s.slowest[0].ms).toBeGreaterThanOrEqual(s.slowest[4].ms);
    expect(s.failures).toEqual([]);
    expect(s.workers.length).toBeGreaterThanOrEqual(2);
    expect(s.workers.reduce((a, w) => a + w.jobs, 0)).toBeGreaterThanOrEqual(240);
    const text = await runCli(['batch', 'status', '--redis', url, '--run', 'toy-a']);
    expect(text.stdout).toMatch(/total 240 {2}done 240 {2}failed 0/);
    expect(text.stdout).toMatch(/slowest jobs:/);
    const all = await runCli(['batch', 'status', '--redis', url]);
    expect(all.stdout).toMatch(/^toy-a {2}total 240 {2}done 240/m);
  });

  it('parks a job that fails every attempt, with its reason', async () => {
    await Promise.all(procs.map((p) => p.stop()));
    const dir = join(tmp, 'bad-images');
    mkdirSync(dir);
    copyFileSync(join(IMAGES, 'img_000.png'), join(dir, 'a.png'));
    copyFileSync(join(IMAGES, 'img_001.png'), join(dir, 'b.png'));
    const args = ['batch', '--redis', url, '--model', MODEL, '--images', dir, '--prompt', 'a red circle'];
    const badArgs = [
      ...args,
      '--method',
      'rollout',
      '--out',
      join(tmp, 'bad-out'),
      '--run',
      'bad',
      '--attempts',
      '2',
    ];
    const sub = await runCli([...badArgs, '--detach']);
    expect(sub.code, sub.output).toBe(0);
    copyFileSync(join(IMAGES, 'img_002.png'), join(dir, 'a.png')); // changed: cannot succeed anywhere
    unlinkSync(join(dir, 'b.png')); // unreadable: retried, then parked
    const w = spawnCli(['worker', '--redis', url, '--run', 'bad', ...WORKER_FLAGS, '--exit-when-idle', '1']);
    procs.push(w);
    expect(await w.exited).toBe(0);
    expect(w.lines.join('\n')).toMatch(/will retry/);
    const st = await runCli(['batch', 'status', '--redis', url, '--run', 'bad', '--json']);
    const s = parseJsonOutput<{
      counts: Record<string, number>;
      failures: { image: string; attempts: number; reason: string }[];
    }>(st.stdout);
    expect(s.counts).toMatchObject({ total: 2, done: 0, failed: 2, pending: 0 });
    const byImage = Object.fromEntries(s.failures.map((f) => [f.image, f]));
    expect(byImage['a.png']).toMatchObject({ attempts: 1 });
    expect(byImage['a.png'].reason).toMatch(/changed since the run was submitted/);
    expect(byImage['b.png']).toMatchObject({ attempts: 2 });
    expect(byImage['b.png'].reason).toMatch(/cannot read .*b\.png/);
    const text = await runCli(['batch', 'status', '--redis', url, '--run', 'bad']);
    expect(text.stdout).toMatch(/failures:\n/);
    expect(text.stdout).toMatch(/^ {2}a\.png {2}rollout {2}after 1 attempt\(s\): .*changed since/m);

    // b.png is back: --retry-failed gives its parked job fresh attempts; the changed a.png is a new job
    copyFileSync(join(IMAGES, 'img_001.png'), join(dir, 'b.png'));
    const w2 = spawnCli(['worker', '--redis', url, '--run', 'bad', ...WORKER_FLAGS]);
    procs.push(w2);
    const retry = await runCli([...badArgs, '--retry-failed', '--json']);
    await w2.stop();
    expect(retry.code).toBe(1); // the obsolete job of the old a.png stays parked
    expect(retry.output).toMatch(/parked after failing/);
    const o = parseJsonOutput<Outcome & { submit: { retried: number } }>(retry.stdout);
    expect(o.submit).toMatchObject({ jobs: 2, enqueued: 1, parked: 1, retried: 1 });
    expect(o.progress).toMatchObject({ total: 3, done: 2, failed: 1, pending: 0 });
    expect(o.manifest).toMatchObject({ entries: 2, fragments: 2 });
  });

  it('writes to an S3-compatible bucket (s3rver) exactly what it writes to a folder', async () => {
    let S3rver: typeof import('s3rver').default;
    try {
      S3rver = (await import('s3rver')).default;
    } catch {
      const msg = '\n!!! SKIPPED S3 batch test: s3rver is not installed\n';
      console.warn(msg);
      process.stderr.write(msg);
      return;
    }
    const s3dir = join(tmp, 's3');
    mkdirSync(s3dir);
    const server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: s3dir,
      configureBuckets: [{ name: 'museum-maps', configs: [] }],
    });
    const { port } = await server.run();
    try {
      const env = {
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_REGION: 'us-east-1',
      };
      const dir = join(tmp, 's3-images');
      mkdirSync(dir);
      for (const n of ['img_000.png', 'img_001.png', 'img_002.png'])
        copyFileSync(join(IMAGES, n), join(dir, n));
      const args = ['batch', '--redis', url, '--model', MODEL, '--images', dir, '--prompt', ...PROMPTS];
      const common = [...args, '--method', METHODS, '--out', 's3://museum-maps/toy', '--run', 's3'];
      const sub = await runCli([...common, '--detach'], env);
      expect(sub.code, sub.output).toBe(0);
      const w = spawnCli(
        ['worker', '--redis', url, '--run', 's3', ...WORKER_FLAGS, '--exit-when-idle', '1'],
        env,
      );
      procs.push(w);
      const fin = await runCli([...common, '--json'], env);
      expect(fin.code, fin.output).toBe(0);
      expect(parseJsonOutput<Outcome>(fin.stdout).manifest).toMatchObject({ entries: 18, fragments: 6 });
      expect(await w.exited).toBe(0);

      const { S3Store } = await import('../../src/batch/store.ts');
      Object.assign(process.env, env);
      const store = await S3Store.open('s3://museum-maps/toy');
      try {
        const manifest = JSON.parse(new TextDecoder().decode(await store.get('manifest.json'))) as {
          entries: { map: string; map_painting: string; overlay: string }[];
        };
        expect(manifest.entries).toHaveLength(18);
        for (const e of manifest.entries)
          for (const f of [e.map, e.map_painting, e.overlay]) {
            const got = await store.get(f);
            expect(got, f).toBeDefined();
            expect(Buffer.from(got as Uint8Array).equals(readFileSync(join(ref, f))), f).toBe(true);
          }
        expect(await store.get('runs/s3.json')).toBeDefined();
      } finally {
        store.close();
        for (const k of Object.keys(env)) delete process.env[k];
      }
    } finally {
      await server.close();
    }
  });
});
