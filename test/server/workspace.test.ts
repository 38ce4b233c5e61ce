/**
 * The Workspace facade over its per-table modules: records round-trip, jobs keep their life cycle, deletes
 * cascade (rows, then files), shared maps folders survive while a job still points at them, crash leftovers
 * are removed at open, ids are checked before they become paths.
 *
 * @example
 * npx vitest run test/server/workspace.test.ts
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageInfo } from '../../src/core/image-decode.ts';
import { type JobRow, sha256Hex, Workspace } from '../../src/server/workspace.ts';

const info = (format = 'png'): ImageInfo => ({
  width: 4,
  height: 3,
  storedWidth: 4,
  storedHeight: 3,
  format,
  orientation: 1,
  channels: 3,
  space: 'srgb',
  hasAlpha: false,
});

let dir: string;
let ws: Workspace;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'artprobe-ws-'));
  ws = Workspace.open(dir);
});
afterEach(() => {
  ws.close();
  rmSync(dir, { recursive: true, force: true });
});

function newJob(paintingId: string, extra: Partial<Omit<JobRow, 'error'>> & { error?: string } = {}) {
  return ws.insertJob({
    id: randomUUID(),
    state: 'queued',
    paintingId,
    modelId: 'toy',
    modelFingerprint: 'f'.repeat(64),
    method: 'chefer-all',
    params: { a: 1 },
    target: { kind: 'prompt', prompt: 'x' },
    view: 'squash',
    cacheKey: 'k'.repeat(64),
    cachedFrom: null,
    result: null,
    ...extra,
  });
}

const resultOf = (mapsJob: string) => ({
  mapsJob,
  score: 1,
  grid: [2, 2] as [number, number],
  paintingSize: [4, 3] as [number, number],
  signed: false,
  tiles: 1,
  files: { raw: 'raw.npy', painting: 'painting.npy', overlay: 'overlay.png' },
});

describe('Workspace', () => {
  it('stores paintings content-addressed; the same bytes twice give the same painting', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const a = await ws.addPainting(bytes, { name: 'a.png', info: info() });
    expect(a.created).toBe(true);
    expect(a.painting).toMatchObject({
      id: sha256Hex(bytes),
      name: 'a.png',
      ext: 'png',
      format: 'png',
      width: 4,
      height: 3,
      bytes: 3,
      sourceUrl: null,
      metadata: null,
    });
    expect(readFileSync(ws.paintingFile(a.painting))).toEqual(Buffer.from(bytes));
    const b = await ws.addPainting(bytes, { name: 'b.png', info: info(), sourceUrl: 'http://x' });
    expect(b).toEqual({ painting: a.painting, created: false });
    ws.setPaintingMetadata(a.painting.id, { title: 'T' });
    expect(ws.getPainting(a.painting.id)?.metadata).toEqual({ title: 'T' });
    const c = await ws.addPainting(new Uint8Array([9]), {
      name: 'c.jpg',
      info: info('jpeg'),
      sourceUrl: 'u',
    });
    expect(c.painting.ext).toBe('jpg');
    expect(c.painting.sourceUrl).toBe('u');
    expect(ws.listPaintings().map((p) => p.name)).toEqual(['a.png', 'c.jpg']);
    await expect(ws.addPainting(new Uint8Array([7]), { name: 'x.bmp', info: info('bmp') })).rejects.toThrow(
      /unsupported image format bmp/,
    );
    expect(() => ws.paintingFile({ id: '../x', ext: 'png' })).toThrow(/invalid painting id/);
    expect(() => ws.paintingFile({ id: 'a'.repeat(64), ext: 'exe' })).toThrow(/unexpected extension/);
    expect(() => ws.mapsDir('../../etc')).toThrow(/invalid job id/);
  });

  it('keeps a job through its life: queued, running, progress, done; filters, counts, the cache', async () => {
    const { painting } = await ws.addPainting(new Uint8Array([1]), { name: 'p.png', info: info() });
    const j = newJob(painting.id);
    expect(j).toMatchObject({
      state: 'queued',
      progress: { done: 0, total: 0 },
      attempts: 0,
      error: null,
      result: null,
      startedAt: null,
      finishedAt: null,
      params: { a: 1 },
      target: { kind: 'prompt', prompt: 'x' },
    });
    ws.markRunning(j.id);
    ws.setProgress(j.id, 3, 5);
    expect(ws.getJob(j.id)).toMatchObject({ state: 'running', attempts: 1, progress: { done: 3, total: 5 } });
    expect(ws.getJob(j.id)?.startedAt).not.toBeNull();
    expect(ws.findCached(j.cacheKey)).toBeUndefined();
    ws.requeueJob(j.id);
    expect(ws.getJob(j.id)).toMatchObject({ state: 'queued', startedAt: null, attempts: 1 });
    ws.markRunning(j.id);
    ws.finishJob(j.id, 'done', { result: resultOf(j.id) });
    const done = ws.getJob(j.id) as JobRow;
    expect(done).toMatchObject({ state: 'done', attempts: 2, result: resultOf(j.id), cachedFrom: null });
    expect(done.finishedAt).not.toBeNull();
    expect(ws.findCached(j.cacheKey)?.id).toBe(j.id);

    const hit = newJob(painting.id, { state: 'done', cachedFrom: j.id, result: resultOf(j.id) });
    expect(hit.startedAt).toBe(hit.createdAt);
    expect(hit.finishedAt).toBe(hit.createdAt);
    const failed = newJob(painting.id, { cacheKey: 'z'.repeat(64), error: 'no' });
    expect(failed.error).toBe('no');
    ws.finishJob(failed.id, 'failed', { error: 'gone', cachedFrom: 'abc' });
    expect(ws.getJob(failed.id)).toMatchObject({ state: 'failed', error: 'gone', cachedFrom: 'abc' });
    ws.finishJob(failed.id, 'cancelled');
    expect(ws.getJob(failed.id)).toMatchObject({ state: 'cancelled', error: null, cachedFrom: 'abc' });

    expect(ws.listJobs().map((x) => x.id)).toEqual([j.id, hit.id, failed.id]);
    expect(ws.listJobs({ state: 'done' }).map((x) => x.id)).toEqual([j.id, hit.id]);
    expect(ws.listJobs({ paintingId: painting.id, limit: 1, offset: 2 }).map((x) => x.id)).toEqual([
      failed.id,
    ]);
    expect(ws.listJobs({ state: 'done', paintingId: 'nope' })).toEqual([]);
    expect(ws.countJobs()).toEqual({ queued: 0, running: 0, done: 2, failed: 0, cancelled: 1, total: 3 });
    expect(ws.getJob(randomUUID())).toBeUndefined();
  });

  it('deletes a job, keeping a maps folder another job still points to', async () => {
    const { painting } = await ws.addPainting(new Uint8Array([1]), { name: 'p.png', info: info() });
    const j = newJob(painting.id);
    mkdirSync(ws.mapsDir(j.id), { recursive: true });
    writeFileSync(join(ws.mapsDir(j.id), 'raw.npy'), 'x');
    ws.finishJob(j.id, 'done', { result: resultOf(j.id) });
    const hit = newJob(painting.id, { state: 'done', cachedFrom: j.id, result: resultOf(j.id) });
    expect(await ws.deleteJob(j.id)).toBe(true);
    expect(existsSync(ws.mapsDir(j.id))).toBe(true);
    expect(await ws.deleteJob(hit.id)).toBe(true);
    expect(existsSync(ws.mapsDir(j.id))).toBe(false);
    expect(await ws.deleteJob(hit.id)).toBe(false);
  });

  it('deletes a painting with its jobs, maps, annotations, probes and embeddings', async () => {
    const { painting } = await ws.addPainting(new Uint8Array([1]), { name: 'p.png', info: info() });
    const other = (await ws.addPainting(new Uint8Array([2]), { name: 'q.png', info: info() })).painting;
    const j = newJob(painting.id);
    mkdirSync(ws.mapsDir(j.id), { recursive: true });
    const keep = newJob(other.id);
    const a = ws.insertAnnotation(randomUUID(), painting.id, { body: 'a' });
    ws.insertAnnotation(randomUUID(), other.id, { body: 'b' });
    writeFileSync(join(ws.dir('annotations'), `${painting.id}.jsonld`), '{}');
    ws.putProbe({ cacheKey: 'p1', paintingId: painting.id, modelFingerprint: 'f', result: { x: 1 } });
    ws.putImageEmbeddings('f', [
      { id: painting.id, vector: new Float32Array([1, 0]) },
      { id: other.id, vector: new Float32Array([0, 1]) },
    ]);
    expect(await ws.deletePainting(painting.id)).toBe(true);
    expect(ws.getPainting(painting.id)).toBeUndefined();
    expect(existsSync(ws.paintingFile(painting))).toBe(false);
    expect(existsSync(ws.mapsDir(j.id))).toBe(false);
    expect(existsSync(join(ws.dir('annotations'), `${painting.id}.jsonld`))).toBe(false);
    expect(ws.getJob(j.id)).toBeUndefined();
    expect(ws.getAnnotation(a.id)).toBeUndefined();
    expect(ws.getProbe('p1')).toBeUndefined();
    expect([...ws.getImageEmbeddings('f', [painting.id, other.id]).keys()]).toEqual([other.id]);
    expect(ws.getJob(keep.id)).toBeDefined();
    expect(ws.listAnnotations(other.id)).toHaveLength(1);
    expect(await ws.deletePainting(painting.id)).toBe(false);
  });

  it('annotations, probes, image embeddings round-trip', async () => {
    const pid = 'a'.repeat(64);
    const a1 = ws.insertAnnotation(randomUUID(), pid, { n: 1 });
    expect(a1.createdAt).toBe(a1.modifiedAt);
    const a2 = ws.insertAnnotation(randomUUID(), pid, { n: 2 });
    ws.updateAnnotation(a1.id, { n: 3 });
    expect(ws.getAnnotation(a1.id)?.doc).toEqual({ n: 3 });
    // oldest first, then by id
    const order = a1.createdAt === a2.createdAt ? [a1.id, a2.id].sort() : [a1.id, a2.id];
    expect(ws.listAnnotations(pid).map((a) => a.id)).toEqual(order);
    expect(ws.deleteAnnotation(a2.id)).toBe(true);
    expect(ws.deleteAnnotation(a2.id)).toBe(false);

    const p = ws.putProbe({ cacheKey: 'k', paintingId: pid, modelFingerprint: 'f', result: { a: [1, 2] } });
    expect(p).toMatchObject({ cacheKey: 'k', paintingId: pid, modelFingerprint: 'f', result: { a: [1, 2] } });
    expect(ws.putProbe({ ...p, result: { a: [3] } }).result).toEqual({ a: [3] });

    const v = new Float32Array([0.25, -1.5, 3]);
    ws.putImageEmbeddings('fp', [{ id: pid, vector: v.subarray(1) }]);
    expect([...(ws.getImageEmbeddings('fp', [pid, 'b'.repeat(64)]).get(pid) ?? [])]).toEqual([-1.5, 3]);
    expect(ws.getImageEmbeddings('other', [pid]).size).toBe(0);
  });

  it('catalogs and embedding tables: file first, then the row; deletes remove both', async () => {
    const c = await ws.addCatalog('c.csv', 'csv', [{ file: 'a' }, { title: 't', file: 'b' }], 1);
    expect(c).toMatchObject({
      name: 'c.csv',
      format: 'csv',
      rows: 2,
      columns: ['file', 'title'],
      matched: 1,
    });
    expect(JSON.parse(readFileSync(ws.catalogFile(c.id), 'utf8'))).toHaveLength(2);
    expect(ws.listCatalogs()).toEqual([c]);
    expect(await ws.deleteCatalog(c.id)).toBe(true);
    expect(existsSync(ws.catalogFile(c.id))).toBe(false);
    expect(await ws.deleteCatalog(c.id)).toBe(false);

    const t = await ws.addEmbeddingTable(new Uint8Array([1, 2]), {
      name: 'e.npy',
      format: 'npy',
      column: '',
      rows: 1,
      dims: 2,
      columns: [],
    });
    expect(t).toMatchObject({ name: 'e.npy', format: 'npy', column: '', rows: 1, dims: 2, columns: [] });
    expect(readFileSync(ws.embeddingTableFile(t))).toEqual(Buffer.from([1, 2]));
    expect(ws.listEmbeddingTables()).toEqual([t]);
    expect(() => ws.embeddingTableFile({ id: t.id, format: 'exe' as 'npy' })).toThrow(/unexpected format/);
    expect(await ws.deleteEmbeddingTable(t.id)).toBe(true);
    expect(existsSync(ws.embeddingTableFile(t))).toBe(false);
    expect(await ws.deleteEmbeddingTable(t.id)).toBe(false);
  });

  it('removes crash leftovers at open and reopens with its records', async () => {
    const c = await ws.addCatalog('c.json', 'json', [], 0);
    ws.close();
    writeFileSync(join(dir, 'catalogs', '.tmp-123'), 'x');
    writeFileSync(join(dir, '.tmp-9'), 'x');
    ws = Workspace.open(dir);
    expect(existsSync(join(dir, 'catalogs', '.tmp-123'))).toBe(false);
    expect(existsSync(join(dir, '.tmp-9'))).toBe(false);
    expect(ws.getCatalog(c.id)).toEqual(c);
    expect(ws.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(ws.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(ws.integrityCheck()).toBe('ok');
  });
});
