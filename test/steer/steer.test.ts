/**
 * Steering units on the golden tiny-b32: PSNR/SSIM, the L∞ projection (|δ| ≤ ε, pixels in [0, 1]), the score
 * rising along the gradient, the painting mapping, zero-shot answers from pixels equal to `runZeroShot`'s, and
 * no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareTargets } from '../../src/attribution/target.ts';
import { initBackend } from '../../src/core/backend.ts';
import { type Clip, loadClip } from '../../src/core/clip.ts';
import { createRng } from '../../src/core/rng.ts';
import { resolveSuites, selectDimensions } from '../../src/probe/suites.ts';
import { runZeroShot } from '../../src/probe/zero-shot.ts';
import { answerDimension, prepareDimensions } from '../../src/steer/answers.ts';
import { denormalisePixels, normalisePixels, pgdLinf } from '../../src/steer/pgd.ts';
import { compareImages, psnr, ssim } from '../../src/steer/quality.ts';
import { flipCurves } from '../../src/steer/robustness.ts';
import { applyToPainting, steerPainting, steerTarget } from '../../src/steer/steer.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

describe('image quality', () => {
  it('PSNR of a uniform ±ε change is 20·log10(1/ε); identical images give Infinity', () => {
    const rng = createRng(1);
    const a = Float64Array.from({ length: 3 * 32 * 32 }, () => 0.2 + 0.6 * rng.uniform());
    const b = a.map((v, i) => v + (i % 2 ? 4 : -4) / 255);
    expect(psnr(a, b)).toBeCloseTo(20 * Math.log10(255 / 4), 9);
    expect(psnr(a, a)).toBe(Number.POSITIVE_INFINITY);
  });

  it('SSIM is 1 for identical images, symmetric, and falls as noise grows', () => {
    const rng = createRng(2);
    const S = 40;
    const a = Float64Array.from(
      { length: 3 * S * S },
      (_, i) => 0.5 + 0.3 * Math.sin(i / 7) + 0.05 * rng.normal(),
    );
    const noisy = (s: number) => a.map((v) => v + s * rng.normal());
    expect(ssim(a, a, 3, S, S)).toBeCloseTo(1, 12);
    const b = noisy(0.02);
    expect(ssim(a, b, 3, S, S)).toBeCloseTo(ssim(b, a, 3, S, S), 12);
    const s1 = ssim(a, b, 3, S, S);
    const s2 = ssim(a, noisy(0.1), 3, S, S);
    expect(s1).toBeLessThan(1);
    expect(s2).toBeLessThan(s1);
    // a constant shift of the mean barely changes structure, unlike noise of the same size
    expect(
      ssim(
        a,
        a.map((v) => v + 0.02),
        3,
        S,
        S,
      ),
    ).toBeGreaterThan(s1);
  });

  it('compareImages on RGB paintings; applyToPainting maps the input change onto the crop only', () => {
    const W = 60;
    const H = 40;
    const data = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37) % 256);
    const painting = { width: W, height: H, data };
    const S = 20;
    const delta = new Float32Array(3 * S * S).fill(4 / 255);
    // the input covers painting x in [20, 40), y in [10, 30): each input pixel is one painting pixel
    const out = applyToPainting(painting, { x: 20, y: 10, w: 20, h: 20 }, S, delta);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const inside = x >= 20 && x < 40 && y >= 10 && y < 30;
        const i = 3 * (y * W + x);
        expect(out.data[i]).toBe(inside ? Math.min(255, data[i] + 4) : data[i]);
      }
    }
    const q = compareImages(painting, out);
    expect(q.psnr).toBeGreaterThan(40);
    expect(q.ssim).toBeGreaterThan(0.9);
  });

  it('steerTarget: prompt, contrast, label set', () => {
    expect(steerTarget({ toward: 'a' })).toEqual({ kind: 'prompt', prompt: 'a' });
    expect(steerTarget({ toward: 'a', away: 'b' })).toEqual({ kind: 'contrast', a: 'a', b: 'b' });
    expect(steerTarget({ toward: 'a', labels: ['a', 'b'] })).toEqual({
      kind: 'label',
      label: 'a',
      labels: ['a', 'b'],
    });
    expect(() => steerTarget({ toward: 'c', labels: ['a', 'b'] })).toThrow(/must contain/);
  });
});

describeShared('steering on the golden tiny-b32', ['golden/models/tiny-b32', 'golden/inputs/images'], () => {
  let clip: Clip;
  let start = 0;
  beforeAll(async () => {
    await initBackend('wasm');
    start = tf.memory().numTensors;
    clip = await loadClip(sharedPath('golden/models/tiny-b32'), { engine: 'tfjs', backend: 'wasm' });
  });
  afterAll(() => {
    // the model keeps untransposed weight copies made by its first backward pass until it is disposed
    clip.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('projected ascent: |δ|∞ ≤ ε, pixels in [0, 1], the score rises; rows with different budgets run together', async () => {
    const [pre] = await clip.preprocess([sharedPath('golden/inputs/images/landscape_640x480.png')]);
    const { mean, std } = clip.preprocessor.config;
    const x01 = denormalisePixels(pre.pixelValues, 224, mean, std);
    // round trip of the normalisation
    const back = normalisePixels(x01, 224, mean, std);
    let d = 0;
    for (let i = 0; i < back.length; i++) d = Math.max(d, Math.abs(back[i] - pre.pixelValues[i]));
    expect(d).toBeLessThan(1e-5);
    const [t] = await prepareTargets(clip, [{ kind: 'contrast', a: 'a painting of a cat', b: 'a photo' }]);
    const eps = [2 / 255, 8 / 255];
    const x0 = new Float32Array(2 * x01.length);
    x0.set(x01, 0);
    x0.set(x01, x01.length);
    const res = await pgdLinf(clip.engine, x0, 2, [t.head, t.head], { epsilon: eps, steps: 5, mean, std });
    for (let r = 0; r < 2; r++) {
      let linf = 0;
      for (let i = 0; i < x01.length; i++) {
        const v = res.pixels[r * x01.length + i];
        expect(v >= 0 && v <= 1).toBe(true);
        linf = Math.max(linf, Math.abs(v - x01[i]));
      }
      expect(linf).toBeLessThanOrEqual(eps[r] + 1e-6);
      expect(linf).toBeGreaterThan(eps[r] * 0.5);
      expect(res.scoresAfter[r]).toBeGreaterThan(res.scoresBefore[r]);
    }
    expect(res.scoresAfter[1]).toBeGreaterThan(res.scoresAfter[0]);
    expect(res.gradientRows).toBe(10);
  });

  it('zero-shot answers from pixels equal runZeroShot on the painting', async () => {
    const image = sharedPath('golden/inputs/images/portrait_480x640.png');
    const suites = await resolveSuites();
    const dims = selectDimensions(suites, ['style', 'century']);
    const probes = await prepareDimensions(clip, dims);
    const zs = await runZeroShot(clip, [image], suites, ['style', 'century'], { topK: 3 });
    const [emb] = await clip.encodeImage([image]);
    for (const p of probes) {
      const a = answerDimension(p, emb, 3);
      const b = zs.images[0].answers[p.name].ranked;
      expect(a.ranked.map((r) => r.label)).toEqual(b.map((r) => r.label));
      a.ranked.forEach((r, i) => expect(r.probability).toBeCloseTo(b[i].probability, 6));
    }
  });

  it('steerPainting reports scores, answers before/after, change sizes, and keeps the painting size', async () => {
    const image = sharedPath('golden/inputs/images/landscape_640x480.png');
    const probes = await prepareDimensions(clip, selectDimensions(await resolveSuites(), ['style']));
    const res = await steerPainting(clip, image, {
      toward: 'an AI-generated image',
      epsilon: 4 / 255,
      steps: 6,
      probes,
    });
    expect(res.score.after).toBeGreaterThan(res.score.before);
    expect(res.change.input.linf).toBeLessThanOrEqual(4 / 255 + 1e-6);
    expect(res.change.painting.linf).toBeLessThanOrEqual(4.5 / 255);
    expect(res.change.input.psnr).toBeGreaterThan(30);
    expect(res.change.input.ssim).toBeGreaterThan(0.5);
    expect(res.paintingSize).toEqual([480, 640]);
    expect(res.arrays.steeredPainting.width).toBe(640);
    expect(Object.keys(res.zeroShot)).toEqual(['style']);
    expect(res.zeroShot.style.before.ranked).toHaveLength(3);
  });

  it('untargeted flip curves stop each budget at its flip and report the smallest budget', async () => {
    const probes = await prepareDimensions(clip, selectDimensions(await resolveSuites(), ['style']));
    const { mean, std } = clip.preprocessor.config;
    const items = [];
    for (const f of ['landscape_640x480.png', 'square_224x224.png']) {
      const [pre] = await clip.preprocess([sharedPath('golden/inputs/images', f)]);
      items.push({ x01: denormalisePixels(pre.pixelValues, 224, mean, std), probe: probes[0] });
    }
    const curves = await flipCurves(clip, items, { epsilons: [1 / 255, 16 / 255], steps: 8 });
    for (const c of curves) {
      expect(c.curve).toHaveLength(2);
      const big = c.curve[1];
      // a random tiny model flips easily at 16/255
      expect(big.flipped).toBe(true);
      expect(big.topAfter).not.toBe(c.topBefore);
      expect(big.step).toBeGreaterThanOrEqual(1);
      expect(c.smallestEpsilon).toBe(c.curve.find((p) => p.flipped)?.epsilon);
      expect(c.curve[0].psnr).toBeGreaterThan(big.psnr);
    }
  });
});
