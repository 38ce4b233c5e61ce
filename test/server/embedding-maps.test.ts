/**
 * Embedding maps over the API (app.inject): the collection's map from CLIP image embeddings computed in the
 * model worker (toy model) and cached per model × painting, checked against embeddings and runMap computed
 * here; imported tables (the 1,906 shared CLIP-art embeddings, plus small .npy and CSV files) mapped like
 * src/probe's runMap up to sign; bad input.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadClip } from '../../src/core/clip.ts';
import { encodeNpy } from '../../src/core/npy.ts';
import { loadEmbeddings } from '../../src/probe/embeddings.ts';
import { runMap } from '../../src/probe/probes.ts';
import { buildApp } from '../../src/server/app.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { multipart } from './helpers.ts';

interface Point {
  x: number;
  y: number;
  set: string;
  id?: string;
  title: string;
  meta: Record<string, string | number | null>;
}

/** Largest |a − s·b| over both axes, with the sign s per axis that fits best. */
function maxDiffUpToSign(a: Float64Array, b: Float64Array): number {
  let worst = 0;
  for (let c = 0; c < 2; c++) {
    let pos = 0;
    let neg = 0;
    for (let i = c; i < a.length; i += 2) {
      pos = Math.max(pos, Math.abs(a[i] - b[i]));
      neg = Math.max(neg, Math.abs(a[i] + b[i]));
    }
    worst = Math.max(worst, Math.min(pos, neg));
  }
  return worst;
}

const coordsOf = (pts: Point[]) => Float64Array.from(pts.flatMap((p) => [p.x, p.y]));

describeShared('embedding map routes (app.inject)', ['toy/A', 'data/clip-art-embeddings'], () => {
  let app: FastifyInstance;
  let dir: string;
  const images = [0, 1, 2, 3].map((i) => sharedPath(`toy/A/eval/images/img_00${i}.png`));
  const ids: string[] = [];
  const mapOf = (payload: object) => app.inject({ method: 'POST', url: '/api/embedding-maps', payload });
  const upload = (filename: string, content: Uint8Array | string, fields: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/api/embedding-tables',
      ...multipart([
        ...Object.entries(fields).map(([name, value]) => ({ name, content: value })),
        { name: 'file', filename, content },
      ]),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'artprobe-maps-'));
    app = await buildApp({
      workspace: join(dir, 'ws'),
      model: sharedPath('toy/A/model'),
      uiDir: join(dir, 'no-ui'),
      modelsDir: join(dir, 'models'),
    });
    await app.artprobe.modelReady;
    for (const f of images) {
      const r = await app.inject({
        method: 'POST',
        url: '/api/paintings',
        ...multipart([{ name: 'file', filename: f.split('/').pop(), content: readFileSync(f) }]),
      });
      ids.push(r.json().id);
    }
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('maps the collection from CLIP image embeddings computed in the worker and cached per model', async () => {
    const r = await mapOf({ source: 'collection' });
    expect(r.statusCode).toBe(200);
    const m = r.json();
    expect(m).toMatchObject({ source: 'collection', method: 'pca', computed: 4, model: 'model' });
    expect(m.modelFingerprint).toBe(app.artprobe.host.info?.fingerprint);
    expect(m.points.map((p: Point) => p.id)).toEqual(ids);
    expect(m.points[0]).toMatchObject({ title: 'img_000.png', meta: { format: 'png' } });

    // the same embeddings and map computed here
    const start = tf.memory().numTensors;
    const clip = await loadClip(sharedPath('toy/A/model'), { engine: 'tfjs' });
    const ref = await clip.encodeImage(images, { normalize: true });
    clip.dispose();
    expect(tf.memory().numTensors).toBe(start);
    const cached = app.artprobe.ws.getImageEmbeddings(m.modelFingerprint, ids);
    let embErr = 0;
    ids.forEach((id, i) => {
      const v = cached.get(id) as Float32Array;
      expect(v.length).toBe(ref[i].length);
      for (let j = 0; j < v.length; j++) embErr = Math.max(embErr, Math.abs(v[j] - ref[i][j]));
    });
    console.log(`collection map: max |cached - in-process embedding| = ${embErr.toExponential(2)}`);
    expect(embErr).toBeLessThan(1e-5);
    const X = { data: Float64Array.from(ref.flatMap((v) => [...v])), rows: 4, cols: ref[0].length };
    const want = runMap([{ name: 'collection', X }]);
    const diff = maxDiffUpToSign(coordsOf(m.points), want.coords.data);
    console.log(`collection map: max coordinate difference vs runMap = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    expect(m.explainedVarianceRatio[0]).toBeCloseTo(want.explained_variance_ratio?.[0] ?? Number.NaN, 4);

    // second call: every embedding comes from the workspace cache; UMAP works on a small collection too
    const again = (await mapOf({ source: 'collection', method: 'umap', neighbors: 15 })).json();
    expect(again).toMatchObject({ method: 'umap', computed: 0 });
    expect(again.points).toHaveLength(4);
    for (const p of again.points) expect(Number.isFinite(p.x) && Number.isFinite(p.y)).toBe(true);

    // deleting a painting drops it (and its cached embedding)
    await app.inject({ method: 'DELETE', url: `/api/paintings/${ids[3]}` });
    expect(app.artprobe.ws.getImageEmbeddings(m.modelFingerprint, [ids[3]]).size).toBe(0);
    const three = (await mapOf({ source: 'collection' })).json();
    expect(three.points.map((p: Point) => p.id)).toEqual(ids.slice(0, 3));
    expect(three.computed).toBe(0);
  });

  it('imports the two shared embedding tables and maps all 1,906 rows like runMap (up to sign)', async () => {
    const COLUMN = 'ViT-L/14@336px';
    const table = (f: string) => sharedPath('data', 'clip-art-embeddings', f);
    const ngd = await upload('ngd.parquet', readFileSync(table('ngd.parquet')), { column: COLUMN });
    expect(ngd.statusCode).toBe(201);
    expect(ngd.json()).toMatchObject({
      name: 'ngd',
      format: 'parquet',
      column: COLUMN,
      rows: 953,
      dims: 768,
    });
    expect(ngd.json().columns).toContain('style');
    const ai = await upload('ai_pastiche.parquet', readFileSync(table('ai_pastiche.parquet')), {
      name: 'AI pastiche',
    });
    expect(ai.statusCode).toBe(201);
    expect(ai.json()).toMatchObject({ name: 'AI pastiche', column: COLUMN, rows: 953 });
    expect((await app.inject('/api/embedding-tables')).json()).toHaveLength(2);

    const t0 = performance.now();
    const r = await mapOf({ source: 'tables', tables: [ngd.json().id, ai.json().id] });
    const ms = performance.now() - t0;
    expect(r.statusCode).toBe(200);
    const m = r.json();
    console.log(`tables map: 1906 points in ${ms.toFixed(0)} ms, ${(r.body.length / 1024).toFixed(0)} KiB`);
    expect(m.points).toHaveLength(1906);
    expect(m.sets).toEqual([
      { name: 'ngd', count: 953 },
      { name: 'AI pastiche', count: 953 },
    ]);

    const [h, a] = await Promise.all([
      loadEmbeddings(table('ngd.parquet'), { column: COLUMN }),
      loadEmbeddings(table('ai_pastiche.parquet'), { column: COLUMN }),
    ]);
    const want = runMap([
      { name: 'ngd', X: h.X },
      { name: 'ai', X: a.X },
    ]);
    const diff = maxDiffUpToSign(coordsOf(m.points), want.coords.data);
    console.log(`tables map: max coordinate difference vs runMap = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-9);
    expect(m.explainedVarianceRatio[1]).toBeCloseTo(want.explained_variance_ratio?.[1] ?? Number.NaN, 9);
    // metadata: titles and short fields per table, long text left out, numbers kept as numbers
    expect(m.points[0].title).toBe(h.meta.title[0]);
    expect(m.points[953].title).toBe(a.meta.generated_image[0]);
    expect(m.points[0].meta).toMatchObject({ set: 'ngd', style: h.meta.style[0] });
    expect(m.points[0].meta).not.toHaveProperty('description');
    expect(m.points[953].meta).toMatchObject({ set: 'AI pastiche', authenticity: a.meta.authenticity[0] });
    expect(m.fields).toContainEqual({ name: 'authenticity', kind: 'number' });
    expect(m.fields).toContainEqual({ name: 'style', kind: 'text' });

    // chosen fields and title; a second request is answered from memory
    const chosen = await mapOf({
      source: 'tables',
      tables: [ngd.json().id],
      title: 'artist',
      fields: ['school'],
    });
    expect(chosen.json().points[0]).toMatchObject({
      title: h.meta.artist[0],
      meta: { set: 'ngd', school: h.meta.school[0] },
    });
    expect(Object.keys(chosen.json().points[0].meta).sort()).toEqual(['school', 'set']);
    const t1 = performance.now();
    expect(
      (await mapOf({ source: 'tables', tables: [ngd.json().id, ai.json().id] })).json().points,
    ).toHaveLength(1906);
    expect(performance.now() - t1).toBeLessThan(ms);

    const bad = await mapOf({ source: 'tables', tables: [ngd.json().id], fields: ['nope'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/unknown field 'nope'.*style/);
    expect(bad.json().message).not.toContain(dir);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/embedding-tables/${ai.json().id}` })).statusCode,
    ).toBe(200);
    expect((await mapOf({ source: 'tables', tables: [ai.json().id] })).statusCode).toBe(404);
  });

  it('imports .npy and CSV tables and rejects bad uploads and requests with clear messages', async () => {
    const rows = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [1, 1, 0],
    ];
    const npy = await upload('four.npy', encodeNpy(Float64Array.from(rows.flat()), [4, 3]));
    expect(npy.statusCode).toBe(201);
    expect(npy.json()).toMatchObject({ format: 'npy', rows: 4, dims: 3, column: '', columns: [] });
    const csvText = `id,label,emb\n${rows.map((r, i) => `p${i},${i % 2 ? 'odd' : 'even'},"${JSON.stringify(r)}"`).join('\n')}\n`;
    const csv = await upload('four.csv', csvText, { column: 'emb' });
    expect(csv.statusCode).toBe(201);
    expect(csv.json()).toMatchObject({ format: 'csv', rows: 4, dims: 3, columns: ['id', 'label'] });
    const m = (await mapOf({ source: 'tables', tables: [npy.json().id, csv.json().id] })).json();
    expect(m.points).toHaveLength(8);
    expect(m.points[0].title).toBe('four #0');
    expect(m.points[4]).toMatchObject({ set: 'four (2)', title: 'p0', meta: { label: 'even' } });
    // npy and CSV rows are the same vectors: identical coordinates
    for (let i = 0; i < 4; i++) {
      expect(m.points[i].x).toBeCloseTo(m.points[i + 4].x, 9);
      expect(m.points[i].y).toBeCloseTo(m.points[i + 4].y, 9);
    }

    const wrongCol = await upload('four.csv', csvText, { column: 'nope' });
    expect(wrongCol.statusCode).toBe(400);
    expect(wrongCol.json().message).toMatch(/four\.csv.*nope/);
    expect(wrongCol.json().message).not.toContain('.tmp-');
    expect((await upload('x.png', Buffer.from([137, 80, 78, 71]))).statusCode).toBe(415);
    const fake = await upload('x.parquet', 'not parquet');
    expect(fake.statusCode).toBe(400);
    expect(fake.json().message).toMatch(/x\.parquet/);
    expect((await mapOf({ source: 'tables' })).statusCode).toBe(400);
    expect(
      (await mapOf({ source: 'tables', tables: ['00000000-0000-4000-8000-000000000000'] })).statusCode,
    ).toBe(404);
    expect((await mapOf({ source: 'everything' })).statusCode).toBe(400);
    expect((await mapOf({ source: 'collection', method: 'tsne' })).statusCode).toBe(400);
    expect((await app.inject('/api/embedding-tables/not-a-uuid')).statusCode).toBe(400);
    const listed = (await app.inject('/api/openapi.json')).json();
    expect(Object.keys(listed.paths)).toEqual(
      expect.arrayContaining(['/api/embedding-maps', '/api/embedding-tables']),
    );
  });
});

describeShared('embedding map of the collection without a model', ['toy/A'], () => {
  it('answers 503 naming the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'artprobe-maps-nomodel-'));
    const app = await buildApp({
      workspace: join(dir, 'ws'),
      uiDir: join(dir, 'no-ui'),
      modelsDir: join(dir, 'm'),
    });
    try {
      const r = await app.inject({
        method: 'POST',
        url: '/api/embedding-maps',
        payload: { source: 'collection' },
      });
      expect(r.statusCode).toBe(503);
      expect(r.json().message).toMatch(/no model is loaded/);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
