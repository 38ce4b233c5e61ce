/**
 * The ONNX Runtime engine against the TF.js reference engine on random models of shapes the golden models do not
 * cover: patch 14 at 336 px (577 tokens) with exact gelu and 5 heads, and small towers with gelu_tanh and
 * quick_gelu. Embeddings, attentions, input gradients (label softmax, contrast and padded heads in one batch)
 * and attention gradients agree to ~1e-4 of each quantity's maximum.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHfConfig } from '../../src/core/clip-config.ts';
import { ClipModel } from '../../src/core/clip-model.ts';
import { hfConfigJson, randomClipParams } from '../../src/core/random-weights.ts';
import { type ScoreHead, scoreEmbeddings } from '../../src/engine/engine.ts';
import { OnnxEngine } from '../../src/engine/onnx/onnx-engine.ts';
import { TfjsEngine } from '../../src/engine/tfjs-engine.ts';
import { maxAbs, maxAbsDiff, useWasm } from '../helpers/tensors.ts';

const shapes = [
  { act: 'gelu', imageSize: 336, patchSize: 14, width: 40, heads: 5 },
  { act: 'gelu_new', imageSize: 64, patchSize: 16, width: 24, heads: 3 },
  { act: 'quick_gelu', imageSize: 64, patchSize: 16, width: 24, heads: 3 },
] as const;

/** max|a − b| / max|b| */
const rel = (a: Float32Array, b: Float32Array) => maxAbsDiff(a, b) / maxAbs(b);

/** A unit vector [E] from a seed, near a shared direction (so logits differ by O(1) and softmax is not saturated). */
function unit(E: number, seed: number): Float32Array {
  const v = Float32Array.from(
    { length: E },
    (_, i) => Math.sin(1 + i * 0.7) + 0.08 * Math.sin(seed * 12.9898 + i * 78.233),
  );
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const root = mkdtempSync(join(tmpdir(), 'artprobe-onnx-tfjs-'));
const measured: string[] = [];
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  console.log(`onnx vs tfjs maxima (relative to max|tfjs|):\n${measured.join('\n')}`);
});
/** Records and returns a deviation. */
function note(what: string, v: number): number {
  measured.push(`${what} ${v.toExponential(1)}`);
  return v;
}

for (const s of shapes) {
  describe(`ONNX and TF.js engines agree (${s.act}, ${s.imageSize}/${s.patchSize}, width ${s.width})`, () => {
    const json = hfConfigJson({
      embedDim: 20,
      vision: {
        width: s.width,
        layers: 2,
        heads: s.heads,
        imageSize: s.imageSize,
        patchSize: s.patchSize,
        act: s.act,
      },
      text: { width: s.width, layers: 2, heads: s.heads, act: s.act, vocabSize: 500 },
    });
    const cfg = parseHfConfig(json);
    const { imageSize: S, layers: L } = cfg.vision;
    const E = cfg.embedDim;
    const n = 3;
    const pixels = Float32Array.from(
      { length: n * 3 * S * S },
      (_, i) => 1.5 * Math.sin(i * 0.0137 + Math.cos(i * 0.31)),
    );
    // one batch: a label's softmax probability (K = 3), a contrast (K = 2, no softmax), a padded softmax (K = 2)
    const heads: ScoreHead[] = [
      {
        text: Float32Array.of(...unit(E, 1), ...unit(E, 2), ...unit(E, 3)),
        k: 3,
        weights: Float32Array.of(0, 1, 0),
        softmax: true,
      },
      {
        text: Float32Array.of(...unit(E, 4), ...unit(E, 5)),
        k: 2,
        weights: Float32Array.of(1, -1),
        softmax: false,
      },
      {
        text: Float32Array.of(...unit(E, 6), ...unit(E, 7)),
        k: 2,
        weights: Float32Array.of(1, 0),
        softmax: true,
      },
    ];
    let onnx: OnnxEngine;
    let tfjs: TfjsEngine;
    beforeAll(async () => {
      await useWasm();
      const params = randomClipParams(cfg, 14);
      tfjs = new TfjsEngine(ClipModel.fromParams(cfg, params));
      onnx = await OnnxEngine.create(cfg, params, { cacheDir: join(root, s.act), threads: 2 });
    });
    afterAll(() => {
      onnx?.dispose();
      tfjs?.dispose();
    });

    it('image embeddings and attention probabilities', async () => {
      const [a, b] = [await onnx.imageAttentions(pixels, n), await tfjs.imageAttentions(pixels, n)];
      expect(note(`${s.act} image embeds`, rel(a.embeds, b.embeds))).toBeLessThan(1e-4);
      expect(rel(await onnx.embedImages(pixels, n), b.embeds)).toBeLessThan(1e-4);
      let dA = 0;
      for (let l = 0; l < L; l++) dA = Math.max(dA, maxAbsDiff(a.attentions[l], b.attentions[l]));
      expect(note(`${s.act} attentions (abs)`, dA)).toBeLessThan(1e-5);
    });

    it('text embeddings (rows of different lengths, trimmed context)', async () => {
      const C = cfg.text.contextLength;
      const eot = [5, 1, 11];
      const ids = new Int32Array(eot.length * C);
      eot.forEach((e, r) => {
        for (let j = 0; j <= e; j++) ids[r * C + j] = j === e ? 499 : (r * 31 + j * 17) % 400;
      });
      const [a, b] = [await onnx.embedTexts(ids, eot), await tfjs.embedTexts(ids, eot)];
      expect(note(`${s.act} text embeds`, rel(a, b))).toBeLessThan(1e-4);
    });

    it('input gradients and scores for label, contrast and padded heads', async () => {
      const [a, b] = [
        await onnx.inputGradients(pixels, n, heads),
        await tfjs.inputGradients(pixels, n, heads),
      ];
      expect(rel(a.scores, b.scores)).toBeLessThan(1e-4);
      // the softmax rows are well conditioned (not saturated), so relative gradient errors are meaningful
      for (const r of [0, 2]) {
        expect(a.scores[r]).toBeGreaterThan(0.1);
        expect(a.scores[r]).toBeLessThan(0.9);
      }
      const direct = scoreEmbeddings(await onnx.embedImages(pixels, n), n, heads, onnx.logitScale);
      for (let r = 0; r < n; r++) expect(a.scores[r]).toBeCloseTo(direct[r][r], 4);
      const per = 3 * S * S;
      for (let r = 0; r < n; r++) {
        const [ga, gb] = [a.grads.subarray(r * per, (r + 1) * per), b.grads.subarray(r * per, (r + 1) * per)];
        expect(note(`${s.act} input gradient row ${r}`, rel(ga, gb))).toBeLessThan(1e-4);
      }
    });

    it('attention gradients from the first and from the last block', async () => {
      for (const from of [0, L - 1]) {
        const [a, b] = [
          await onnx.attentionGradients(pixels, n, heads, from),
          await tfjs.attentionGradients(pixels, n, heads, from),
        ];
        expect(rel(a.scores, b.scores)).toBeLessThan(1e-4);
        for (let l = 0; l < L; l++) {
          expect(a.probs[l].length, `layer ${l}`).toBe(b.probs[l].length);
          if (l < from) continue;
          expect(maxAbsDiff(a.probs[l], b.probs[l]), `probs ${l}`).toBeLessThan(1e-5);
          expect(
            note(`${s.act} attention gradient ${l} from ${from}`, rel(a.grads[l], b.grads[l])),
          ).toBeLessThan(1e-4);
        }
      }
    });

    it('one image shared by every head: rows equal the repeated image, image-only outputs have one row', async () => {
      const per = 3 * S * S;
      const one = pixels.subarray(0, per);
      const repeated = new Float32Array(n * per);
      for (let r = 0; r < n; r++) repeated.set(one, r * per);
      const attn = cfg.vision.heads * (cfg.vision.grid ** 2 + 1) ** 2;
      for (const [name, e] of [
        ['onnx', onnx],
        ['tfjs', tfjs],
      ] as const) {
        const [a, b] = [await e.inputGradients(one, n, heads), await e.inputGradients(repeated, n, heads)];
        expect(rel(a.scores, b.scores), `${name} scores`).toBeLessThan(1e-5);
        expect(note(`${s.act} ${name} shared-image input gradient`, rel(a.grads, b.grads))).toBeLessThan(
          1e-5,
        );
        const [c, d] = [
          await e.attentionGradients(one, n, heads, 0),
          await e.attentionGradients(repeated, n, heads, 0),
        ];
        for (let l = 0; l < L; l++) {
          expect(c.probs[l].length, `${name} probs ${l}: one row`).toBe(attn);
          expect(maxAbsDiff(c.probs[l], d.probs[l].subarray(0, attn))).toBeLessThan(1e-5);
          expect(rel(c.grads[l], d.grads[l]), `${name} attention gradient ${l}`).toBeLessThan(1e-5);
        }
        const [f, g] = [
          await e.legradGradients(one, n, heads, 0),
          await e.legradGradients(repeated, n, heads, 0),
        ];
        for (let l = 0; l < L; l++)
          expect(rel(f.grads[l], g.grads[l]), `${name} LeGrad ${l}`).toBeLessThan(1e-5);
        const [h, k] = [await e.gradEclip(one, n, heads, 1), await e.gradEclip(repeated, n, heads, 1)];
        const W = cfg.vision.width;
        expect(h.q.length, `${name} Grad-ECLIP q: one row`).toBe(W);
        expect(rel(h.k, k.k.subarray(0, h.k.length))).toBeLessThan(1e-5);
        expect(rel(h.grad, k.grad), `${name} Grad-ECLIP gradient`).toBeLessThan(1e-5);
      }
    });

    it('LeGrad readout gradients, Grad-ECLIP inputs (one head and the model heads), text attention gradients', async () => {
      for (const from of [0, L - 1]) {
        const [a, b] = [
          await onnx.legradGradients(pixels, n, heads, from),
          await tfjs.legradGradients(pixels, n, heads, from),
        ];
        expect(rel(a.scores, b.scores)).toBeLessThan(1e-4);
        for (let l = 0; l < L; l++) {
          expect(a.grads[l].length, `layer ${l}`).toBe(b.grads[l].length);
          if (l < from) continue;
          expect(rel(a.layerScores[l], b.layerScores[l]), `readout score ${l}`).toBeLessThan(1e-4);
          expect(
            note(`${s.act} LeGrad gradient ${l} from ${from}`, rel(a.grads[l], b.grads[l])),
          ).toBeLessThan(1e-4);
        }
      }
      for (const nh of [1, s.heads]) {
        const [a, b] = [
          await onnx.gradEclip(pixels, n, heads, nh),
          await tfjs.gradEclip(pixels, n, heads, nh),
        ];
        expect(rel(a.scores, b.scores)).toBeLessThan(1e-4);
        expect(rel(a.targetScores, b.targetScores)).toBeLessThan(1e-4);
        for (const k of ['q', 'k', 'v'] as const) expect(rel(a[k], b[k]), k).toBeLessThan(1e-4);
        expect(note(`${s.act} Grad-ECLIP ∂s/∂attn_output (${nh} heads)`, rel(a.grad, b.grad))).toBeLessThan(
          1e-4,
        );
      }
      // the model heads reproduce the model's own forward: its target is the usual score
      const own = await tfjs.gradEclip(pixels, n, heads, s.heads);
      expect(rel(own.targetScores, own.scores)).toBeLessThan(1e-5);
      const C = cfg.text.contextLength;
      const eot = [5, 1, 11];
      const ids = new Int32Array(eot.length * C);
      eot.forEach((e, r) => {
        for (let j = 0; j <= e; j++) ids[r * C + j] = j === e ? 499 : (r * 31 + j * 17) % 400;
      });
      const image = Float32Array.of(...unit(E, 8), ...unit(E, 9), ...unit(E, 10));
      for (const from of [0, cfg.text.layers - 1]) {
        const [a, b] = [
          await onnx.textAttentionGradients(ids, eot, image, from),
          await tfjs.textAttentionGradients(ids, eot, image, from),
        ];
        expect(rel(a.scores, b.scores)).toBeLessThan(1e-4);
        for (let l = 0; l < cfg.text.layers; l++) {
          expect(a.probs[l].length, `text layer ${l}`).toBe(b.probs[l].length);
          if (l < from) continue;
          expect(maxAbsDiff(a.probs[l], b.probs[l]), `text probs ${l}`).toBeLessThan(1e-5);
          expect(
            note(`${s.act} text attention gradient ${l} from ${from}`, rel(a.grads[l], b.grads[l])),
          ).toBeLessThan(1e-4);
        }
      }
      // the text logit with the image held fixed is the usual image–text logit
      const te = await tfjs.embedTexts(ids, eot);
      const { scores } = await tfjs.textAttentionGradients(ids, eot, image, 0);
      for (let r = 0; r < eot.length; r++) {
        const t = te.subarray(r * E, (r + 1) * E);
        const cos = t.reduce((acc, v, i) => acc + v * image[r * E + i], 0) / Math.hypot(...t);
        expect(scores[r]).toBeCloseTo(tfjs.logitScale * cos, 3);
      }
    });
  });
}
