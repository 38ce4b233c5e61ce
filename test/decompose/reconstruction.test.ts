/**
 * The decomposition is exact: on tiny-b32, tiny-b16 and a random patch-14/336/gelu model the sum of all terms
 * (embedding term, every head, attention biases, MLPs, ln_post bias) equals the model's image embedding
 * (projected, before normalisation) within 1e-4, each head's token map sums to the head's score, the
 * recomputed class-token attention rows match OpenAI CLIP's (golden), and no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadClipConfig, parseHfConfig } from '../../src/core/clip-config.ts';
import { hfConfigJson, randomClipParams } from '../../src/core/random-weights.ts';
import { createRng } from '../../src/core/rng.ts';
import { SafetensorsFile } from '../../src/core/safetensors.ts';
import { loadClipParams } from '../../src/core/weights.ts';
import {
  ClipDecomposer,
  headTokenMap,
  type ImageDecomposition,
  type TextDirection,
} from '../../src/decompose/decompose.ts';
import { erf } from '../../src/decompose/math.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { useWasm } from '../helpers/tensors.ts';

let startTensors = 0;
beforeAll(async () => {
  await useWasm();
  startTensors = tf.memory().numTensors;
});
afterAll(() => {
  expect(tf.memory().numTensors).toBe(startTensors);
});

function randomDirections(E: number, k: number, seed: number): TextDirection[] {
  const rng = createRng(seed);
  return Array.from({ length: k }, (_, i) => ({
    label: `random ${i}`,
    vector: Float64Array.from({ length: E }, () => rng.normal()),
  }));
}

/** Checks one decomposition; returns the largest reconstruction error. */
function checkDecomposition(d: ImageDecomposition, K: number): number {
  const E = d.embedding.length;
  const sum = new Float64Array(E);
  for (const t of d.terms) for (let i = 0; i < E; i++) sum[i] += t.contribution[i];
  let err = 0;
  for (let i = 0; i < E; i++) err = Math.max(err, Math.abs(sum[i] - d.embedding[i]));
  expect(err).toBeCloseTo(d.reconstructionError, 12);
  expect(err).toBeLessThan(1e-4);
  expect(d.streamError).toBeLessThan(1e-4);
  // terms: embed + L·H heads + L attention biases + L MLPs + ln_post bias
  expect(d.terms.length).toBe(2 + d.layers * (d.heads + 2));
  for (let k = 0; k < K; k++) {
    // the scores add up to the projected embedding
    const total = d.terms.reduce((a, t) => a + t.scores[k], 0);
    expect(Math.abs(total - d.totals[k])).toBeLessThan(1e-4 * Math.max(1, Math.abs(d.totals[k])));
    // each head's token map sums to its term's score
    for (const t of d.terms) {
      if (t.kind !== 'head' || t.layer === null || t.head === undefined) continue;
      const m = headTokenMap(d, t.layer, t.head, k);
      const s = m.reduce((a, x) => a + x, 0);
      expect(Math.abs(s - t.scores[k])).toBeLessThan(1e-9 * Math.max(1, Math.abs(t.scores[k])));
    }
  }
  return err;
}

it('erf is exact to float64 rounding', () => {
  const ref: [number, number][] = [
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [3.5, 0.9999992569016276],
    [-1.5, -0.9661051464753108],
  ];
  for (const [x, y] of ref) expect(Math.abs(erf(x) - y)).toBeLessThan(1e-15);
});

describeShared(
  'decomposition reconstructs the golden tiny models',
  ['golden/models', 'golden/inputs'],
  () => {
    for (const name of ['tiny-b32', 'tiny-b16'] as const) {
      it(`${name}: Σ terms = image embedding (7 images), head maps sum to head terms, CLS attention = reference`, async () => {
        const dir = sharedPath('golden/models', name);
        const cfg = await loadClipConfig(dir);
        const params = await loadClipParams(dir, cfg);
        const px = (
          await SafetensorsFile.open(sharedPath('golden/inputs/pixel_values.safetensors'))
        ).getFloat32('pixel_values');
        const ref = await SafetensorsFile.open(sharedPath('golden/reference', name, 'outputs.safetensors'));
        const refEmb = ref.getFloat32('image_embeds').data; // [7, E], float64 PyTorch
        const att = (
          await SafetensorsFile.open(sharedPath('golden/reference', name, 'attentions.safetensors'))
        ).getFloat32('vision_attentions'); // [N, L, H, T, T]
        const dec = ClipDecomposer.fromParams(cfg, params);
        try {
          const K = 3;
          const out = await dec.decompose(px.data, 7, randomDirections(cfg.embedDim, K, 5));
          const E = cfg.embedDim;
          const { layers: L, heads: H, grid: G } = cfg.vision;
          const T = G * G + 1;
          let worst = 0;
          let worstRef = 0;
          let worstAtt = 0;
          out.forEach((d, b) => {
            worst = Math.max(worst, checkDecomposition(d, K));
            for (let i = 0; i < E; i++)
              worstRef = Math.max(worstRef, Math.abs(d.reconstruction[i] - refEmb[b * E + i]));
            for (let l = 0; l < L; l++) {
              for (let h = 0; h < H; h++) {
                for (let t = 0; t < T; t++) {
                  const ours = d.attention[(l * H + h) * T + t];
                  const theirs = att.data[(((b * L + l) * H + h) * T + 0) * T + t];
                  worstAtt = Math.max(worstAtt, Math.abs(ours - theirs));
                }
              }
            }
          });
          console.log(
            `${name}: max |Σ terms − embedding| ${worst.toExponential(2)}, vs PyTorch float64 ${worstRef.toExponential(2)}, CLS attention ${worstAtt.toExponential(2)}`,
          );
          expect(worstRef).toBeLessThan(1e-4);
          expect(worstAtt).toBeLessThan(1e-5);
        } finally {
          dec.dispose();
        }
      });
    }
  },
);

it('a random patch-14 / 336 / gelu model (random LayerNorms): Σ terms = image embedding', async () => {
  const cfg = parseHfConfig(
    hfConfigJson({
      embedDim: 24,
      vision: { width: 32, layers: 2, heads: 4, imageSize: 336, patchSize: 14, act: 'gelu' },
      text: { width: 16, layers: 1, heads: 2, vocabSize: 100 },
    }),
  );
  expect(cfg.vision.grid).toBe(24);
  expect(cfg.vision.act).toBe('gelu');
  const params = randomClipParams(cfg, 14);
  // LayerNorms away from identity, so that γ, β and the per-image scale all matter
  const rng = createRng(336);
  const jitter = (p: { data: Float32Array }, base: number) => {
    for (let i = 0; i < p.data.length; i++) p.data[i] = base + 0.3 * rng.normal();
  };
  const v = params.vision;
  for (const n of [v.lnPre, v.lnPost, ...v.blocks.flatMap((b) => [b.ln1, b.ln2])]) {
    jitter(n.weight, 1);
    jitter(n.bias, 0);
  }
  const S = cfg.vision.imageSize;
  const pixels = Float32Array.from({ length: 2 * 3 * S * S }, () => rng.normal());
  const dec = ClipDecomposer.fromParams(cfg, params);
  try {
    const out = await dec.decompose(pixels, 2, randomDirections(cfg.embedDim, 2, 9));
    const worst = Math.max(...out.map((d) => checkDecomposition(d, 2)));
    expect(out[0].tokens).toBe(577);
    console.log(`random p14/336/gelu: max |Σ terms − embedding| ${worst.toExponential(2)}`);
  } finally {
    dec.dispose();
  }
});
