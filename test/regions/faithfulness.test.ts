import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainImage } from '../../src/attribution/explain.ts';
import { prepareTargets, scoreImages } from '../../src/attribution/target.ts';
import { prepareView } from '../../src/attribution/views.ts';
import { type Clip, loadClip } from '../../src/core/clip.ts';
import { decodeImage } from '../../src/core/image-decode.ts';
import { SafetensorsFile } from '../../src/core/safetensors.ts';
import {
  curveAuc,
  deletionGame,
  gaussianBlur,
  type ImageScorer,
  insertionGame,
} from '../../src/regions/faithfulness.ts';
import { mapFaithfulness } from '../../src/regions/map-faithfulness.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { useWasm } from '../helpers/tensors.ts';

/** A synthetic model: the sum of channel 0 over the pixels whose weight is set. */
const linearScorer =
  (weights: number[]): ImageScorer =>
  async (images) =>
    images.map((im) => weights.reduce((s, w, p) => s + w * im[p], 0));

describe('RISE deletion / insertion (synthetic scorer)', () => {
  it('computes the trapezoid AUC over [0, 1]', () => {
    expect(curveAuc([1, 0])).toBe(0.5);
    expect(curveAuc([1, 1, 1])).toBe(1);
    expect(curveAuc([4, 2, 0])).toBe(2);
  });

  it('deletes pixels in map order, ties row-major (hand computed)', async () => {
    // 1x4 image; channel 0 = [1, 2, 3, 4]; score = sum of channel 0; map ranks pixel 3 first, then 0, 1, 2
    const image = new Float32Array([1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    const calls: number[] = [];
    const base = linearScorer([1, 1, 1, 1]);
    const score: ImageScorer = async (ims) => {
      calls.push(ims.length);
      return base(ims);
    };
    const g = await deletionGame({
      score,
      image,
      height: 1,
      width: 4,
      map: new Float32Array([0, 0, 0, 1]),
      step: 1,
      batchSize: 2,
    });
    expect(g.scores).toEqual([10, 6, 5, 3, 0]);
    expect(g.auc).toBeCloseTo((10 + 6 + 5 + 3 + 0 - 5 - 0) / 4, 12);
    expect(calls).toEqual([2, 2, 1]);
    // two pixels per step: ceil(4 / 3) = 2 steps with a step of 3
    expect(
      (
        await deletionGame({
          score: base,
          image,
          height: 1,
          width: 4,
          map: new Float32Array([0, 0, 0, 1]),
          step: 3,
        })
      ).scores,
    ).toEqual([10, 3, 0]);
  });

  it('inserts from the blurred image back to the original', async () => {
    const H = 16;
    const W = 16;
    const image = Float32Array.from({ length: 3 * H * W }, (_, k) => Math.sin(k));
    const blurred = gaussianBlur(image, 3, H, W);
    const w = Array.from({ length: H * W }, (_, p) => (p % 5 === 0 ? 1 : 0));
    const score = linearScorer(w);
    const g = await insertionGame({ score, image, height: H, width: W, map: Float32Array.from(w) });
    expect(g.scores).toHaveLength(H + 1);
    expect(g.scores[0]).toBeCloseTo((await score([blurred]))[0], 4);
    expect(g.scores[H]).toBeCloseTo((await score([image]))[0], 4);
  });

  it('blurs with a normalised kernel and zero padding', () => {
    const c = new Float32Array(3 * 30 * 30).fill(2);
    const b = gaussianBlur(c, 3, 30, 30);
    expect(b[15 * 30 + 15]).toBeCloseTo(2, 5); // interior: kernel sums to 1
    expect(b[0]).toBeLessThan(2 * 0.6); // corner: zero padding
    expect(() => gaussianBlur(c, 3, 30, 29)).toThrow(/expected 3x30x29/);
  });

  it('a map on the influential pixels beats a random map', async () => {
    const H = 8;
    const W = 8;
    const w = Array.from({ length: H * W }, (_, p) => (Math.floor(p / W) < 2 && p % W < 2 ? 1 : 0)); // a 2x2 hot corner
    const image = Float32Array.from({ length: 3 * H * W }, () => 1);
    const score = linearScorer(w);
    const good = await deletionGame({
      score,
      image,
      height: H,
      width: W,
      map: Float32Array.from(w),
      step: 2,
    });
    let seed = 7;
    const rnd = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const random = await deletionGame({
      score,
      image,
      height: H,
      width: W,
      map: Float32Array.from({ length: H * W }, rnd),
      step: 2,
    });
    expect(good.auc).toBeLessThan(random.auc);
  });

  it('reports scorer and size errors', async () => {
    const image = new Float32Array(12);
    const bad: ImageScorer = async () => [1];
    await expect(
      deletionGame({ score: bad, image, height: 1, width: 4, map: new Float32Array(4), step: 1 }),
    ).rejects.toThrow(/returned 1 values for/);
    await expect(
      deletionGame({ score: bad, image, height: 2, width: 4, map: new Float32Array(4) }),
    ).rejects.toThrow(/expected 3x2x4/);
    await expect(
      deletionGame({ score: bad, image, height: 1, width: 4, map: new Float32Array(3) }),
    ).rejects.toThrow(/map has 3 values/);
  });
});

describeShared(
  'RISE games on the tiny golden CLIP',
  ['golden/models/tiny-b32', 'golden/inputs/pixel_values.safetensors'],
  () => {
    let clip: Clip;
    let image: Float32Array;
    let score: ImageScorer;
    const S = 224;
    const P = 32;
    beforeAll(async () => {
      await useWasm();
      clip = await loadClip(sharedPath('golden/models/tiny-b32'), { engine: 'tfjs', backend: 'wasm' });
      const px = (
        await SafetensorsFile.open(sharedPath('golden/inputs/pixel_values.safetensors'))
      ).getFloat32('pixel_values');
      image = px.data.slice(0, 3 * S * S); // image 0, [3, 224, 224]
      const [text] = await clip.encodeText('a painting in the style of Impressionism', { normalize: true });
      // score = 100 · cos(image, text), as the toy reference
      score = async (ims) => {
        const flat = new Float32Array(ims.length * 3 * S * S);
        for (const [i, im] of ims.entries()) flat.set(im, i * 3 * S * S);
        return (await clip.embedPixels(flat, ims.length, true)).map(
          (e) => 100 * e.reduce((s, v, k) => s + v * text[k], 0),
        );
      };
    });
    afterAll(() => clip?.dispose());

    it('deletion: a map on the most influential patch beats random maps; no tensors leak', async () => {
      const start = tf.memory().numTensors;
      const [s0] = await score([image]);
      // occlusion per 32x32 patch with 0 (the deletion substrate): the largest drop marks the most influential patch
      const occluded: Float32Array[] = [];
      for (let q = 0; q < 49; q++) {
        const im = image.slice();
        const r0 = Math.floor(q / 7) * P;
        const c0 = (q % 7) * P;
        for (let c = 0; c < 3; c++)
          for (let y = r0; y < r0 + P; y++) im.fill(0, c * S * S + y * S + c0, c * S * S + y * S + c0 + P);
        occluded.push(im);
      }
      const drops = (await score(occluded)).map((v) => s0 - v);
      const best = drops.indexOf(Math.max(...drops));
      const map = new Float32Array(S * S);
      for (let y = 0; y < P; y++)
        map.fill(
          1,
          (Math.floor(best / 7) * P + y) * S + (best % 7) * P,
          (Math.floor(best / 7) * P + y) * S + (best % 7) * P + P,
        );
      const pointed = await deletionGame({ score, image, height: S, width: S, map, step: P * P });
      // the first deletion step removes exactly that patch: the same image as its occlusion
      expect(pointed.scores[0]).toBeCloseTo(s0, 4);
      expect(pointed.scores[1]).toBeCloseTo(s0 - drops[best], 3);
      let seed = 12345;
      const rnd = () => {
        seed = (seed * 16807) % 2147483647;
        return seed / 2147483647;
      };
      const randomAucs: number[] = [];
      for (let k = 0; k < 3; k++) {
        const random = Float32Array.from({ length: 49 }, rnd); // random patch order, nearest-upsampled to pixels
        const up = Float32Array.from(
          { length: S * S },
          (_, p) => random[Math.floor(Math.floor(p / S) / P) * 7 + Math.floor((p % S) / P)],
        );
        randomAucs.push(
          (await deletionGame({ score, image, height: S, width: S, map: up, step: P * P })).auc,
        );
      }
      const ins = await insertionGame({ score, image, height: S, width: S, map, step: P * P });
      console.log(
        `tiny-b32 RISE: s(x) = ${s0.toFixed(4)}, best patch ${best} (drop ${drops[best].toFixed(4)}); deletion AUC pointed ${pointed.auc.toFixed(4)} vs random ${randomAucs.map((a) => a.toFixed(4)).join(', ')}; insertion AUC pointed ${ins.auc.toFixed(4)}`,
      );
      for (const a of randomAucs) expect(pointed.auc).toBeLessThan(a);
      expect(ins.scores[ins.scores.length - 1]).toBeCloseTo(s0, 4);
      expect(tf.memory().numTensors).toBe(start);
    });
  },
);

describeShared(
  "deletion / insertion of an explanation map (toy CLIP, the server's and report's code)",
  ['toy/A'],
  () => {
    let clip: Clip;
    beforeAll(async () => {
      clip = await loadClip(sharedPath('toy/A/model'));
    });
    afterAll(() => clip?.dispose());

    it('plays both games on the view the map was made on: curves start and end at the score, and equal the bare games', async () => {
      const pairs = JSON.parse(readFileSync(sharedPath('toy/A/saliency/pairs.json'), 'utf8')).pairs.slice(
        0,
        6,
      ) as {
        src: string;
        text: string;
      }[];
      const lines: string[] = [];
      const better = { deletion: 0 };
      for (const [k, pair] of pairs.entries()) {
        const image = await decodeImage(sharedPath('toy/A/eval', pair.src));
        const target = { kind: 'prompt' as const, prompt: pair.text };
        const r = await explainImage(clip, {
          image,
          targets: [target],
          methods: [{ id: 'chefer-all' }],
          view: 'pad',
        });
        const [e] = r.entries;
        const raw = e.maps[0].values;
        const f = await mapFaithfulness(clip, {
          image,
          view: 'pad',
          target,
          raw,
          rawShape: [7, 7],
          steps: 16,
        });
        expect(f.steps).toBe(16);
        expect(f.deletionCurve).toHaveLength(17);
        expect(f.deletionCurve[0]).toBeCloseTo(e.score, 3);
        expect(f.insertionCurve[16]).toBeCloseTo(e.score, 3);
        // the inverted map deletes the least salient pixels first
        const inv = await mapFaithfulness(clip, {
          image,
          view: 'pad',
          target,
          raw: raw.map((v) => -v),
          rawShape: [7, 7],
          steps: 16,
        });
        if (f.deletion < inv.deletion) better.deletion++;
        lines.push(
          `${pair.src} "${pair.text}": score ${e.score.toFixed(3)}, deletion ${f.deletion.toFixed(3)} (inverted map ${inv.deletion.toFixed(3)}), insertion ${f.insertion.toFixed(3)} (inverted ${inv.insertion.toFixed(3)})`,
        );
        if (k === 0) {
          // the same numbers as the bare RISE games on the model input, 3136 pixels per step
          const input = prepareView(image, 'pad', clip.preprocessor.config).inputs[0];
          const [t] = await prepareTargets(clip, [target]);
          const score: ImageScorer = async (ims) => {
            const flat = new Float32Array(ims.length * 3 * 224 * 224);
            ims.forEach((im, i) => flat.set(im, i * 3 * 224 * 224));
            return (await scoreImages(clip.engine, flat, ims.length, [t])).map((x) => x[0]);
          };
          const game = {
            score,
            image: input,
            height: 224,
            width: 224,
            map: raw,
            mapHeight: 7,
            mapWidth: 7,
            step: 3136,
          };
          expect(f.deletion).toBeCloseTo((await deletionGame(game)).auc, 5);
          expect(f.insertion).toBeCloseTo((await insertionGame(game)).auc, 5);
        }
      }
      console.log(`toy chefer-all deletion / insertion (16 steps, pad view):\n${lines.join('\n')}`);
      // deleting along Chefer's map drops the score faster than along its inverse; insertion does not tell
      // them apart on the toy (its blurred start keeps the flat shapes recognisable: the curve starts near the score)
      expect(better.deletion).toBeGreaterThanOrEqual(5);
      await expect(
        mapFaithfulness(clip, {
          image: await decodeImage(sharedPath('toy/A/eval', pairs[0].src)),
          view: 'pad',
          target: { kind: 'prompt', prompt: 'x' },
          raw: new Float32Array(49),
          rawShape: [7, 7],
          steps: 65,
        }),
      ).rejects.toThrow(/steps must be an integer in 1..64/);
    });
  },
);
