/**
 * Zero-shot probing over the API (`POST /api/paintings/:id/probe`) and job deletion (`DELETE /api/jobs/:id`)
 * through app.inject with the toy model: results against runZeroShot in this process, the workspace cache,
 * waiting for and giving up on a busy model, bad input, and maps kept while a cached copy still needs them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadClip } from '../../src/core/clip.ts';
import { parseSuite } from '../../src/probe/suites.ts';
import { runZeroShot } from '../../src/probe/zero-shot.ts';
import { buildApp } from '../../src/server/app.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { multipart } from './helpers.ts';

const COLOURS = ['red', 'green', 'blue'];
const SHAPES = ['circle', 'square', 'triangle'];
const CAPTIONS = COLOURS.flatMap((c) => SHAPES.map((s) => `a ${c} ${s}`));
const SUITE = {
  name: 'shapes',
  description: 'toy captions',
  dimensions: {
    colour: { templates: ['a {} shape', 'something {}'], labels: COLOURS },
    caption: { templates: ['{}'], labels: CAPTIONS },
  },
};
const UNKNOWN_JOB = '00000000-0000-4000-8000-000000000000';

interface Answer {
  ranked: { label: string; probability: number; logit: number; prompt: string }[];
  probabilities: number[];
  explain: { kind: string; label: string; labels: string[]; prompts?: string[][] };
}

describeShared('zero-shot probe and job deletion routes (app.inject, toy model)', ['toy/A'], () => {
  let app: FastifyInstance;
  let dir: string;
  let ws: string;
  let pid = '';
  const image = sharedPath('toy/A/eval/images/img_000.png');
  const post = (url: string, payload?: unknown) =>
    app.inject({ method: 'POST', url, ...(payload === undefined ? {} : { payload: payload as object }) });
  const probe = (payload?: unknown) => post(`/api/paintings/${pid}/probe`, payload);
  const del = (id: string) => app.inject({ method: 'DELETE', url: `/api/jobs/${id}` });
  const job = async (id: string) => (await app.inject(`/api/jobs/${id}`)).json();
  const waitJob = async (id: string, states = ['done', 'failed', 'cancelled']) => {
    for (let i = 0; i < 600; i++) {
      const j = await job(id);
      if (states.includes(j.state)) return j;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`job ${id} did not reach ${states.join('/')}`);
  };
  const slowJob = async (prompt: string) => {
    const r = await post('/api/jobs', {
      paintingId: pid,
      method: 'integrated-gradients',
      params: { steps: 2048 },
      target: { kind: 'prompt', prompt },
    });
    expect(r.statusCode).toBe(202);
    return r.json().id as string;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'artprobe-probe-'));
    ws = join(dir, 'ws');
    app = await buildApp({
      workspace: ws,
      model: sharedPath('toy/A/model'),
      uiDir: join(dir, 'no-ui'),
      modelsDir: join(dir, 'models'),
    });
    await app.artprobe.modelReady;
    const up = await app.inject({
      method: 'POST',
      url: '/api/paintings',
      ...multipart([{ name: 'file', filename: 'img_000.png', content: readFileSync(image) }]),
    });
    pid = up.json().id;
    const put = await app.inject({ method: 'PUT', url: '/api/suites/shapes', payload: SUITE });
    expect(put.statusCode).toBe(200);
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('probes a painting like runZeroShot does, with ranks, probabilities and explain targets', async () => {
    const r = await probe({ suites: ['shapes'], topK: 3 });
    expect(r.statusCode).toBe(200);
    const res = r.json();
    expect(res).toMatchObject({
      paintingId: pid,
      cached: false,
      suites: ['shapes'],
      topK: 3,
      model: 'model',
    });
    expect(res.modelFingerprint).toBe(app.artprobe.host.info?.fingerprint);
    expect(res.dimensions.map((d: { name: string }) => d.name)).toEqual(['colour', 'caption']);
    expect(res.dimensions[0].source).toBe('workspace:shapes'); // no server paths
    expect(res.images).toHaveLength(1);
    const answers = res.images[0].answers as Record<string, Answer>;

    // the same probe computed here, in this process
    const start = tf.memory().numTensors;
    const clip = await loadClip(sharedPath('toy/A/model'), { engine: 'tfjs' });
    const ref = await runZeroShot(clip, [image], parseSuite(SUITE), ['colour', 'caption'], { topK: 3 });
    clip.dispose();
    expect(tf.memory().numTensors).toBe(start);

    for (const [name, labels] of [
      ['colour', COLOURS],
      ['caption', CAPTIONS],
    ] as const) {
      const a = answers[name];
      const want = ref.images[0].answers[name];
      expect(a.probabilities).toHaveLength(labels.length);
      expect(a.probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 6);
      a.probabilities.forEach((p, i) => expect(Math.abs(p - want.probabilities[i])).toBeLessThan(1e-5));
      expect(a.ranked.map((x) => x.label)).toEqual(want.ranked.map((x) => x.label));
      // ranks: descending, each the probability of its label, the first one the argmax
      expect(a.ranked).toHaveLength(3);
      for (const [k, x] of a.ranked.entries()) {
        expect(x.probability).toBe(a.probabilities[labels.indexOf(x.label as never)]);
        if (k > 0) expect(x.probability).toBeLessThanOrEqual(a.ranked[k - 1].probability);
      }
      expect(a.ranked[0].probability).toBe(Math.max(...a.probabilities));
      expect(a.explain).toEqual(want.explain);
      expect(a.explain).toMatchObject({ kind: 'label', label: a.ranked[0].label });
      expect(a.explain.prompts).toHaveLength(labels.length);
      expect(a.explain.labels).toHaveLength(labels.length);
    }
    // the toy model recognises a shape that is in the painting
    const doc = JSON.parse(readFileSync(sharedPath('toy/A/eval/annotations.jsonld'), 'utf8'));
    const truth = doc.first.items
      .filter((x: { target: { source: string } }) => x.target.source === 'images/img_000.png')
      .map((x: { body: { value: string } }) => x.body.value);
    expect(truth).toContain(answers.caption.ranked[0].label);

    // the explain target is a valid job target: the heatmap of the top answer
    const j = await post('/api/jobs', {
      paintingId: pid,
      method: 'rollout',
      target: answers.caption.explain,
    });
    expect(j.statusCode).toBe(202);
    expect((await waitJob(j.json().id)).state).toBe('done');
  });

  it('answers a repeat from the workspace cache, whatever the order, even while the model is busy', async () => {
    const first = (await probe({ suites: ['shapes'], topK: 3 })).json();
    expect(first.cached).toBe(true);
    const reordered = (
      await probe({ topK: 3, dimensions: ['caption', 'colour', 'caption'], suites: ['shapes', 'shapes'] })
    ).json();
    expect(reordered).toMatchObject({ cached: true, cacheKey: first.cacheKey });
    expect(reordered.images).toEqual(first.images);
    // other topK or dimension subset: another key
    const top2 = (await probe({ suites: ['shapes'], topK: 2, dimensions: ['colour'] })).json();
    expect(top2.cached).toBe(false);
    expect(top2.cacheKey).not.toBe(first.cacheKey);
    expect(Object.keys(top2.images[0].answers)).toEqual(['colour']);
    expect(top2.images[0].answers.colour.ranked).toHaveLength(2);

    // a busy model: the cached probe still answers at once; an uncached one gives up after probeWaitMs
    app.artprobe.opts.probeWaitMs = 300;
    const slow = await slowJob('a red circle');
    await waitJob(slow, ['running']);
    const t0 = Date.now();
    expect((await probe({ suites: ['shapes'], topK: 3 })).json().cached).toBe(true);
    const busy = await probe({ suites: ['shapes'], topK: 1 });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('5');
    expect(busy.json().message).toMatch(/busy .*300 ms.*try again/);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((await job(slow)).state).toBe('running');
    app.artprobe.opts.probeWaitMs = 30_000;

    // deleting the running job cancels it first; the replaced worker then serves a waiting probe
    const waiting = probe({ suites: ['shapes'], topK: 1 });
    const d = await del(slow);
    expect(d.json()).toEqual({ ok: true, cancelled: true });
    expect((await job(slow)).statusCode).toBe(404);
    expect(existsSync(join(ws, 'maps', slow))).toBe(false);
    const served = await waiting;
    expect(served.statusCode).toBe(200);
    expect(served.json().images[0].answers.caption.ranked).toHaveLength(1);

    // editing the workspace suite changes the key
    const edited = {
      ...SUITE,
      dimensions: { ...SUITE.dimensions, colour: { templates: ['a {} thing'], labels: COLOURS } },
    };
    await app.inject({ method: 'PUT', url: '/api/suites/shapes', payload: edited });
    const after = (await probe({ suites: ['shapes'], topK: 3 })).json();
    expect(after.cached).toBe(false);
    expect(after.dimensions[0].labels[0].prompts).toEqual(['a red thing']);
    await app.inject({ method: 'PUT', url: '/api/suites/shapes', payload: SUITE });
    expect((await probe({ suites: ['shapes'], topK: 3 })).json()).toMatchObject({
      cached: true,
      cacheKey: first.cacheKey,
    });
  });

  it('shares workers with queued jobs: a probe sent behind two jobs waits, and all of them finish', async () => {
    const a = (
      await post('/api/jobs', {
        paintingId: pid,
        method: 'chefer-all',
        target: { kind: 'prompt', prompt: 'a blue square' },
      })
    ).json().id;
    const b = (
      await post('/api/jobs', {
        paintingId: pid,
        method: 'rollout',
        target: { kind: 'prompt', prompt: 'a blue square' },
      })
    ).json().id;
    const [p1, p2] = await Promise.all([
      probe({ suites: ['shapes'], dimensions: ['colour'], topK: 1 }),
      probe({ suites: ['shapes'], dimensions: ['colour'], topK: 1 }), // identical: computed once
    ]);
    expect(p1.statusCode).toBe(200);
    expect(p2.json().cacheKey).toBe(p1.json().cacheKey);
    expect((await waitJob(a)).state).toBe('done');
    expect((await waitJob(b)).state).toBe('done');
    expect(app.artprobe.queue.stats()).toMatchObject({ pending: 0, running: 0 });
  });

  it('probes every default suite when no body is sent', async () => {
    const r = await probe();
    expect(r.statusCode).toBe(200);
    const res = r.json();
    const suites = (await app.inject('/api/suites'))
      .json()
      .filter((s: { origin: string }) => s.origin === 'default');
    expect(res.suites).toEqual(suites.map((s: { name: string }) => s.name).sort());
    const names = res.dimensions.map((d: { name: string }) => d.name);
    expect(names.sort()).toEqual(suites.flatMap((s: { dimensions: string[] }) => s.dimensions).sort());
    for (const a of Object.values(res.images[0].answers) as Answer[]) {
      expect(a.probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 6);
      expect(a.ranked).toHaveLength(Math.min(5, a.probabilities.length));
    }
    expect((await probe({})).json()).toMatchObject({ cached: true, cacheKey: res.cacheKey });
  });

  it('refuses unknown suites, dimensions and paintings, bad topK and path tricks, naming the problem', async () => {
    const unknownSuite = await probe({ suites: ['shapes', 'nope'] });
    expect(unknownSuite.statusCode).toBe(400);
    expect(unknownSuite.json().message).toMatch(/unknown suite "nope" \(known suites: .*style.*shapes/);
    const unknownDim = await probe({ suites: ['shapes'], dimensions: ['texture'] });
    expect(unknownDim.statusCode).toBe(400);
    expect(unknownDim.json().message).toMatch(
      /unknown dimension "texture" \(known dimensions: colour, caption/,
    );
    // a workspace dimension without its suite: the message says how
    expect((await probe({ dimensions: ['caption'] })).json().message).toMatch(/need the suite in "suites"/);
    const unknownPainting = await post(`/api/paintings/${'f'.repeat(64)}/probe`, {});
    expect(unknownPainting.statusCode).toBe(404);
    expect(unknownPainting.json().message).toContain(`painting ${'f'.repeat(64)} not found`);
    // an unreadable workspace suite file is named
    writeFileSync(join(ws, 'suites', 'broken.json'), '{ not json');
    const broken = await probe({ suites: ['broken'] });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().message).toMatch(/suite broken cannot be used: .*not valid JSON/);
    const TRICKS = [
      '../../etc/passwd',
      '..',
      '../shapes',
      'a/b',
      '/etc/passwd',
      'style.json',
      '%2e%2e',
      '',
      ' style',
      'x'.repeat(65),
    ];
    const bad: unknown[] = [
      ...[0, -1, 1.5, '3', 101, null, true].map((topK) => ({ topK })),
      ...TRICKS.map((s) => ({ suites: [s] })),
      ...TRICKS.filter((s) => s.length < 65).map((s) => ({ suites: ['shapes'], dimensions: [s] })),
      { suites: 'shapes' },
      { suites: [3] },
      { dimensions: 'colour' },
      { extra: 1 },
      [],
    ];
    for (const b of bad) {
      const r = await probe(b);
      expect(r.statusCode, JSON.stringify(b)).toBe(400);
      expect(r.json().message.length).toBeGreaterThan(5);
      expect(r.body).not.toContain('root:');
    }
    const raw = await app.inject({
      method: 'POST',
      url: `/api/paintings/${pid}/probe`,
      payload: '"style"',
      headers: { 'content-type': 'application/json' },
    });
    expect(raw.statusCode).toBe(400);
    for (const id of ['../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', 'F'.repeat(64), '123']) {
      const r = await post(`/api/paintings/${id}/probe`, {});
      expect([400, 404]).toContain(r.statusCode);
    }
    expect(existsSync(join(ws, 'suites', 'broken.json'))).toBe(true);
    rmSync(join(ws, 'suites', 'broken.json'));
  });

  it('answers 503 with the install hint when no model is loaded', async () => {
    const other = await buildApp({
      workspace: join(dir, 'ws-none'),
      uiDir: join(dir, 'no-ui'),
      modelHint: 'see docs/offline.md',
    });
    try {
      const p = (
        await other.inject({
          method: 'POST',
          url: '/api/paintings',
          ...multipart([{ name: 'file', filename: 'a.png', content: readFileSync(image) }]),
        })
      ).json();
      const r = await other.inject({ method: 'POST', url: `/api/paintings/${p.id}/probe`, payload: {} });
      expect(r.statusCode).toBe(503);
      expect(r.json().message).toMatch(/no model is loaded.*artprobe model pull.*see docs\/offline\.md/);
    } finally {
      await other.close();
    }
  });

  it('deletes jobs and their maps, keeping maps a cached copy still uses', async () => {
    const body = { paintingId: pid, method: 'rollout', target: { kind: 'prompt', prompt: 'a green circle' } };
    const orig = (await post('/api/jobs', body)).json().id;
    expect((await waitJob(orig)).state).toBe('done');
    const copy = (await post('/api/jobs', body)).json();
    expect(copy).toMatchObject({ cached: true, cachedFrom: orig });
    expect(existsSync(join(ws, 'maps', orig))).toBe(true);
    // the original goes; its maps stay for the copy
    expect((await del(orig)).json()).toEqual({ ok: true, cancelled: false });
    expect((await job(orig)).statusCode).toBe(404);
    expect(existsSync(join(ws, 'maps', orig))).toBe(true);
    expect((await app.inject(`/api/jobs/${copy.id}/maps/overlay.png`)).statusCode).toBe(200);
    // a new identical request is still a cache hit (from the copy)
    const third = (await post('/api/jobs', body)).json();
    expect(third).toMatchObject({ cached: true, cachedFrom: copy.id });
    expect((await del(copy.id)).statusCode).toBe(200);
    expect(existsSync(join(ws, 'maps', orig))).toBe(true);
    expect((await del(third.id)).statusCode).toBe(200);
    expect(existsSync(join(ws, 'maps', orig))).toBe(false);
    expect((await del(third.id)).statusCode).toBe(404);
    expect((await del(UNKNOWN_JOB)).json().message).toBe(`job ${UNKNOWN_JOB} not found`);

    // a queued job (behind a running one) is cancelled, then deleted; a failed job is deleted too
    const running = await slowJob('a blue circle');
    const queued = (
      await post('/api/jobs', { ...body, target: { kind: 'prompt', prompt: 'a red square' } })
    ).json().id;
    expect((await job(queued)).state).toBe('queued');
    expect((await del(queued)).json()).toEqual({ ok: true, cancelled: true });
    expect((await post(`/api/jobs/${running}/cancel`, {})).json()).toEqual({ ok: true });
    expect((await del(running)).json()).toEqual({ ok: true, cancelled: false });
    const raw = await app.inject({
      method: 'POST',
      url: `/api/paintings/${pid}/probe`,
      payload: '"style"',
      headers: { 'content-type': 'application/json' },
    });
    expect(raw.statusCode).toBe(400);
    for (const id of ['../../etc/passwd', '..%2F..%2Fmaps', 'not-a-uuid', UNKNOWN_JOB.toUpperCase()]) {
      const r = await app.inject({ method: 'DELETE', url: `/api/jobs/${id}` });
      expect([400, 404]).toContain(r.statusCode);
    }
    expect(app.artprobe.ws.integrityCheck()).toBe('ok');
  });

  it('forgets cached probes with their painting', async () => {
    const count = () =>
      (
        app.artprobe.ws.db.prepare('SELECT COUNT(*) AS n FROM probes WHERE painting_id = ?').get(pid) as {
          n: number;
        }
      ).n;
    expect(count()).toBeGreaterThan(0);
    expect((await app.inject({ method: 'DELETE', url: `/api/paintings/${pid}` })).json()).toEqual({
      ok: true,
    });
    expect(count()).toBe(0);
    expect((await probe({ suites: ['shapes'] })).statusCode).toBe(404);
  });

  it('documents both routes with their schemas in the OpenAPI document', async () => {
    const doc = (await app.inject('/api/openapi.json')).json();
    const p = doc.paths['/api/paintings/{id}/probe'].post;
    expect(p.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
    expect(Object.keys(p.requestBody.content['application/json'].schema.properties)).toEqual([
      'suites',
      'dimensions',
      'topK',
    ]);
    expect(Object.keys(p.responses).sort()).toEqual(['200', '400', '404', '503']);
    const answer =
      p.responses['200'].content['application/json'].schema.properties.images.items.properties.answers;
    expect(answer.additionalProperties.required).toEqual(['ranked', 'probabilities', 'explain']);
    const d = doc.paths['/api/jobs/{id}'].delete;
    expect(d.summary).toMatch(/cancelled first/);
    expect(Object.keys(d.responses).sort()).toEqual(['200', '400', '404']);
    expect(d.responses['200'].content['application/json'].schema.required).toEqual(['ok', 'cancelled']);
  });
});
