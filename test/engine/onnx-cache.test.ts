/**
 * The ONNX engine's compiled-model folder and its runtime bookkeeping: a second create() reuses the files
 * (without loading weights), truncated or unmarked files are rebuilt instead of loaded, other weights in the same
 * folder are detected, at most three sessions stay live, and bad inputs fail with clear errors.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHfConfig } from '../../src/core/clip-config.ts';
import { hfConfigJson, randomClipParams } from '../../src/core/random-weights.ts';
import type { ClipParams } from '../../src/core/weights.ts';
import type { ScoreHead } from '../../src/engine/engine.ts';
import { MAX_SESSIONS, OnnxEngine, onnxBatchRows, onnxCacheKey } from '../../src/engine/onnx/onnx-engine.ts';
import { WEIGHT_ALIGN } from '../../src/engine/onnx/onnx-writer.ts';
import { probeOnnxRuntime } from '../../src/engine/select-engine.ts';
import { maxAbs, maxAbsDiff } from '../helpers/tensors.ts';

const { onnx } = onnxProto;
const cfg = parseHfConfig(
  hfConfigJson({
    embedDim: 8,
    vision: { width: 16, layers: 2, heads: 2, imageSize: 32, patchSize: 16 },
    text: { width: 16, layers: 1, heads: 2, vocabSize: 300 },
  }),
);
const params = randomClipParams(cfg, 3);
const S = cfg.vision.imageSize;
const pixels = Float32Array.from({ length: 2 * 3 * S * S }, (_, i) => Math.sin(i * 0.1));
const head: ScoreHead = {
  text: new Float32Array(8).fill(Math.SQRT1_2 / 2),
  k: 1,
  weights: Float32Array.of(1),
  softmax: false,
};

const root = mkdtempSync(join(tmpdir(), 'artprobe-onnx-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const noLoad = async (): Promise<ClipParams> => {
  throw new Error('parameters were loaded although the compiled folder is complete');
};

describe('ONNX compiled-model folder', () => {
  const dir = join(root, 'model');
  let reference: Float32Array;

  it('compiles once; a second create() reuses weights and graphs without loading parameters', async () => {
    const a = await OnnxEngine.create(cfg, params, { cacheDir: dir, threads: 1 });
    expect(a.compiled.rebuilt).toBe(true);
    reference = await a.embedImages(pixels, 2);
    a.dispose();
    expect(readdirSync(dir).sort()).toEqual([
      'vision.onnx',
      'vision.onnx.json',
      'weights.bin',
      'weights.bin.json',
    ]);
    expect(statSync(join(dir, 'weights.bin')).size % WEIGHT_ALIGN).toBe(0);
    const mtimes = ['weights.bin', 'vision.onnx'].map((f) => statSync(join(dir, f)).mtimeMs);
    const b = await OnnxEngine.create(cfg, noLoad, { cacheDir: dir, threads: 1 });
    expect(b.compiled.rebuilt).toBe(false);
    expect(b.logitScale).toBeCloseTo(100, 4);
    expect(maxAbsDiff(await b.embedImages(pixels, 2), reference)).toBe(0);
    b.dispose();
    expect(['weights.bin', 'vision.onnx'].map((f) => statSync(join(dir, f)).mtimeMs)).toEqual(mtimes);
    // parameters given as values must match the folder's weights too
    const c = await OnnxEngine.create(cfg, params, { cacheDir: dir, threads: 1 });
    expect(c.compiled.rebuilt).toBe(false);
    c.dispose();
  });

  it('graphs reference their weights as aligned external data in weights.bin', () => {
    const model = onnx.ModelProto.decode(readFileSync(join(dir, 'vision.onnx')));
    const inits = model.graph?.initializer ?? [];
    const external = inits.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
    // every block weight and bias is external; only small constants (shapes, scalars) are inline
    expect(external.length).toBeGreaterThan(12 * cfg.vision.layers);
    for (const t of external) {
      const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
      expect(kv.location).toBe('weights.bin');
      expect(Number(kv.offset) % WEIGHT_ALIGN).toBe(0);
      expect(Number(kv.length)).toBe(4 * (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1));
    }
    for (const t of inits)
      if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL)
        expect(t.rawData?.length ?? 0).toBeLessThan(1024);
    expect(Number(model.opsetImport?.[0].version)).toBe(17);
  });

  it('rebuilds a truncated weights.bin (loading parameters only then)', async () => {
    const full = statSync(join(dir, 'weights.bin')).size;
    truncateSync(join(dir, 'weights.bin'), 1000);
    let loads = 0;
    const e = await OnnxEngine.create(
      cfg,
      async () => {
        loads++;
        return params;
      },
      { cacheDir: dir, threads: 1 },
    );
    expect(loads).toBe(1);
    expect(e.compiled.rebuilt).toBe(true);
    expect(statSync(join(dir, 'weights.bin')).size).toBe(full);
    expect(maxAbsDiff(await e.embedImages(pixels, 2), reference)).toBe(0);
    e.dispose();
  });

  it('rebuilds a truncated or unmarked graph instead of loading it', async () => {
    const path = join(dir, 'vision.onnx');
    const full = statSync(path).size;
    truncateSync(path, 100);
    const e = await OnnxEngine.create(cfg, noLoad, { cacheDir: dir, threads: 1 });
    expect(e.compiled.hasGraph('vision')).toBe(false);
    expect(maxAbsDiff(await e.embedImages(pixels, 2), reference)).toBe(0);
    expect(statSync(path).size).toBe(full);
    e.dispose();
    unlinkSync(`${path}.json`);
    const f = await OnnxEngine.create(cfg, noLoad, { cacheDir: dir, threads: 1 });
    expect(f.compiled.hasGraph('vision')).toBe(false);
    expect(maxAbsDiff(await f.embedImages(pixels, 2), reference)).toBe(0);
    expect(f.compiled.hasGraph('vision')).toBe(true);
    f.dispose();
  });

  it('rewrites weights.bin when other parameter values are given for the same folder', async () => {
    const e = await OnnxEngine.create(cfg, randomClipParams(cfg, 4), { cacheDir: dir, threads: 1 });
    expect(e.compiled.rebuilt).toBe(true);
    expect(maxAbsDiff(await e.embedImages(pixels, 2), reference)).toBeGreaterThan(1e-3);
    e.dispose();
  });
});

describe('ONNX engine bookkeeping', () => {
  it('keeps at most three sessions live, and evicted graphs still run', async () => {
    const e = await OnnxEngine.create(cfg, params, { cacheDir: join(root, 'lru'), threads: 1 });
    const first = await e.embedImages(pixels, 2);
    await e.imageAttentions(pixels, 2);
    await e.inputGradients(pixels, 2, [head, head]);
    await e.attentionGradients(pixels, 2, [head, head], 1);
    expect(MAX_SESSIONS).toBe(3);
    expect(e.liveSessions()).toEqual(['vision_attn', 'vision_grad', 'vision_attn_grad_1']);
    expect(maxAbsDiff(await e.embedImages(pixels, 2), first)).toBe(0);
    expect(e.liveSessions()).toEqual(['vision_grad', 'vision_attn_grad_1', 'vision']);
    // concurrent calls run one at a time and each gets its own answer
    const [x, y] = await Promise.all([e.embedImages(pixels, 2), e.inputGradients(pixels, 2, [head, head])]);
    expect(maxAbsDiff(x, first)).toBe(0);
    expect(y.scores).toHaveLength(2);
    // dispose() releases the sessions once the call in flight is done; calls not yet started fail
    const running = e.embedImages(pixels, 2);
    e.dispose();
    await expect(running).rejects.toThrow(/disposed/);
    await expect(e.embedImages(pixels, 2)).rejects.toThrow(/disposed/);
  });

  it('gives the same results in passes of one row (maxBatch) as in one pass', async () => {
    const whole = await OnnxEngine.create(cfg, params, { cacheDir: join(root, 'lru'), threads: 1 });
    const split = await OnnxEngine.create(cfg, noLoad, {
      cacheDir: join(root, 'lru'),
      threads: 1,
      maxBatch: 1,
    });
    expect(split.batchFor(8)).toBe(1);
    const other: ScoreHead = { ...head, text: head.text.map((v, i) => (i % 2 ? -v : v)) };
    const heads = [head, other];
    // float sums may block differently per batch size: equal to ~1e-6 of the magnitudes
    const same = (a: Float32Array, b: Float32Array) =>
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-6 * Math.max(1, maxAbs(b)));
    same(await split.embedImages(pixels, 2), await whole.embedImages(pixels, 2));
    const [aa, ab] = [await split.imageAttentions(pixels, 2), await whole.imageAttentions(pixels, 2)];
    aa.attentions.forEach((a, l) => same(a, ab.attentions[l]));
    const [ga, gb] = [
      await split.inputGradients(pixels, 2, heads),
      await whole.inputGradients(pixels, 2, heads),
    ];
    same(ga.grads, gb.grads);
    same(ga.scores, gb.scores);
    const [ta, tb] = [
      await split.attentionGradients(pixels, 2, heads, 1),
      await whole.attentionGradients(pixels, 2, heads, 1),
    ];
    expect(ta.grads[0]).toHaveLength(0);
    same(ta.grads[1], tb.grads[1]);
    same(ta.probs[1], tb.probs[1]);
    const ids = new Int32Array(2 * 77);
    ids.set([5, 299], 0);
    ids.set([7, 8, 9, 299], 77);
    same(await split.embedTexts(ids, [1, 3]), await whole.embedTexts(ids, [1, 3]));
    split.dispose();
    whole.dispose();
  });

  it('validates inputs with clear errors', async () => {
    const e = await OnnxEngine.create(cfg, params, { cacheDir: join(root, 'lru'), threads: 1 });
    await expect(e.embedImages(pixels, 3)).rejects.toThrow(/expected 3 × 3 × 32 × 32/);
    await expect(e.inputGradients(pixels, 2, [head])).rejects.toThrow(/1 score heads for 2 images/);
    await expect(e.inputGradients(pixels, 2, [head, { ...head, k: 2 }])).rejects.toThrow(
      /head 1: text has 8 values/,
    );
    await expect(e.attentionGradients(pixels, 2, [head, head], 2)).rejects.toThrow(
      /fromLayer 2 is outside 0..1/,
    );
    await expect(e.embedTexts(new Int32Array(77), [77])).rejects.toThrow(/eot index 77/);
    await expect(e.embedTexts(Int32Array.of(300, ...new Int32Array(76)), [0])).rejects.toThrow(
      /outside the vocabulary/,
    );
    await expect(e.embedTexts(new Int32Array(76), [0])).rejects.toThrow(/expected 1 × 77/);
    // no rows: empty results, no session
    expect(await e.embedImages(new Float32Array(0), 0)).toHaveLength(0);
    expect(await e.embedTexts(new Int32Array(0), [])).toHaveLength(0);
    const none = await e.attentionGradients(new Float32Array(0), 0, [], 1);
    expect([none.scores.length, none.probs[1].length, none.grads[0].length]).toEqual([0, 0, 0]);
    expect(e.liveSessions()).toEqual([]);
    e.dispose();
  });

  it("device 'cuda' either works or fails at create() with a clear message", async () => {
    const made = OnnxEngine.create(cfg, noLoad, { cacheDir: join(root, 'lru'), threads: 1, device: 'cuda' });
    const e = await made.catch((err: Error) => err);
    if (e instanceof Error) expect(e.message).toMatch(/cannot use CUDA.*device 'cpu'/);
    else {
      expect(e.description).toMatch(/, cuda, 1 threads\)$/);
      e.dispose();
    }
  });

  it('describes the runtime, names cache folders and sizes batches', async () => {
    const probe = await probeOnnxRuntime();
    const info = { available: probe.error === undefined, version: probe.version };
    expect(info.available).toBe(true);
    expect(info.version).toMatch(/^1\.\d+\.\d+/);
    const e = await OnnxEngine.create(cfg, params, { cacheDir: join(root, 'lru'), threads: 2 });
    expect(e.description).toBe(`onnx (onnxruntime-node ${info.version}, cpu, 2 threads)`);
    expect(e.visionTokens).toBe(5);
    e.dispose();
    const key = onnxCacheKey(cfg, 'abc');
    expect(key).toMatch(/^[0-9a-f]{20}$/);
    expect(onnxCacheKey(cfg, 'abc')).toBe(key);
    expect(onnxCacheKey(cfg, 'abd')).not.toBe(key);
    const b32 = parseHfConfig(hfConfigJson());
    expect(onnxBatchRows(b32, 8, { forwardOnly: true })).toBe(8);
    expect(onnxBatchRows(b32, 8)).toBe(8);
    expect(onnxBatchRows(b32, 1000)).toBeLessThan(100);
    const l336 = parseHfConfig(
      hfConfigJson({ vision: { width: 1024, layers: 24, heads: 16, patchSize: 14, imageSize: 336 } }),
    );
    expect(onnxBatchRows(l336, 8)).toBe(1);
    expect(onnxBatchRows(l336, 8, { forwardOnly: true })).toBeGreaterThanOrEqual(2);
    // one painting, many prompts: the forward tape is kept once per pass, so rows cost a layer's backward buffers
    // and their outputs (6 input gradients: 8 took 11 GB; Chefer-all's 24 layers of [16, 577, 577] gradients per row
    // take more)
    expect(onnxBatchRows(l336, 8, { sharedImage: true, outputsPerRow: 3 * 336 * 336 })).toBe(6);
    expect(onnxBatchRows(b32, 8, { sharedImage: true, outputsPerRow: 3 * 224 * 224 })).toBe(8);
    const cheferAll = onnxBatchRows(l336, 8, { sharedImage: true, outputsPerRow: 24 * 16 * 577 * 577 });
    expect(cheferAll).toBeGreaterThanOrEqual(2);
    expect(cheferAll).toBeLessThan(8);
  });
});
