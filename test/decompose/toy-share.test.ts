/**
 * Toy A, the 29 images with a red circle: projected on d = t̂("a red circle") − mean of the other eight captions'
 * t̂, the total token map (every head of every layer: each patch token's direct attention term at the class
 * token, through ln_post with its per-image scale and the projection) puts more of its positive mass inside the
 * circle (per-patch mask fraction) than a uniform map on every image; the mean share matches an independent
 * float64 PyTorch decomposition (0.545, uniform 0.066; per layer 0.19 / 0.52 / 0.31 / 0.39 above uniform).
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { loadClip } from '../../src/core/clip.ts';
import { ClipDecomposer, headTokenMap, tokenMap } from '../../src/decompose/decompose.ts';
import { textDirections } from '../../src/decompose/directions.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { loadToyPairs } from '../helpers/toy.ts';

const CAPTIONS = [
  'a red circle',
  'a red square',
  'a red triangle',
  'a green circle',
  'a green square',
  'a green triangle',
  'a blue circle',
  'a blue square',
  'a blue triangle',
];

/** Share of a token map's positive patch mass inside the mask (per-patch mask fraction); class token excluded. */
function positiveShare(tokens: ArrayLike<number>, frac: Float64Array): number {
  let pos = 0;
  let inside = 0;
  for (let j = 1; j < tokens.length; j++) {
    const v = Math.max(tokens[j], 0);
    pos += v;
    inside += v * frac[j - 1];
  }
  return pos > 0 ? inside / pos : 0;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describeShared('decomposition on toy A: where "a red circle" comes from', ['toy/A'], () => {
  it('the total token map favours the red circle on all 29 images; mean share 0.545 ± 0.01', async () => {
    const start = tf.memory().numTensors;
    const clip = await loadClip(sharedPath('toy/A/model'), { engine: 'tfjs', backend: 'wasm' });
    const dec = await ClipDecomposer.forClip(clip);
    try {
      const dirs = await textDirections(clip, CAPTIONS, { versusRest: true });
      const dir = dirs[0];
      expect(dir.label).toBe('a red circle − mean(rest)');
      const toy = await loadToyPairs();
      const masks = new Map<string, Uint8Array>();
      toy.pairs.forEach((p, i) => {
        if (p.text !== 'a red circle') return;
        const prev = masks.get(p.src);
        masks.set(p.src, prev ? prev.map((v, k) => v | toy.masks[i][k]) : toy.masks[i]);
      });
      expect(masks.size).toBe(29);
      const G = clip.config.vision.grid;
      const P = clip.config.vision.patchSize;
      const { layers: L, heads: H } = clip.config.vision;
      const shares: number[] = [];
      const uniform: number[] = [];
      const perLayer: number[][] = Array.from({ length: L }, () => []);
      const perHead: number[][] = Array.from({ length: L * H }, () => []);
      for (const [src, mask] of masks) {
        const [pre] = await clip.preprocess([sharedPath('toy/A/eval', src)]);
        const [d] = await dec.decompose(pre.pixelValues, 1, [dir]);
        expect(d.reconstructionError).toBeLessThan(1e-4);
        const frac = new Float64Array(G * G);
        const S = G * P;
        for (let y = 0; y < S; y++) {
          for (let x = 0; x < S; x++)
            frac[Math.floor(y / P) * G + Math.floor(x / P)] += mask[y * S + x] / (P * P);
        }
        const u = frac.reduce((a, b) => a + b, 0) / frac.length;
        const s = positiveShare(tokenMap(d, 0), frac);
        expect(s, src).toBeGreaterThan(u);
        shares.push(s);
        uniform.push(u);
        for (let l = 0; l < L; l++) {
          perLayer[l].push(positiveShare(tokenMap(d, 0, { layers: [l] }), frac) - u);
          for (let h = 0; h < H; h++)
            perHead[l * H + h].push(positiveShare(headTokenMap(d, l, h, 0), frac) - u);
        }
      }
      const layerExcess = perLayer.map(mean);
      console.log(
        `toy A red circle: mean share ${mean(shares).toFixed(4)} (uniform ${mean(uniform).toFixed(4)}); ` +
          `per layer above uniform ${layerExcess.map((x) => x.toFixed(3)).join(' / ')}\n` +
          `per head above uniform (rows = layers):\n${Array.from({ length: L }, (_, l) =>
            perHead
              .slice(l * H, (l + 1) * H)
              .map((x) => mean(x).toFixed(3))
              .join('  '),
          ).join('\n')}`,
      );
      expect(Math.abs(mean(shares) - 0.545)).toBeLessThan(0.01);
      expect(Math.abs(mean(uniform) - 0.066)).toBeLessThan(0.001);
      [0.19, 0.52, 0.31, 0.39].forEach((ref, l) => expect(Math.abs(layerExcess[l] - ref)).toBeLessThan(0.01));
    } finally {
      dec.dispose();
      clip.dispose();
    }
    expect(tf.memory().numTensors).toBe(start);
  });
});
