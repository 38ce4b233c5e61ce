/**
 * Toy A: steering moves the zero-shot answer (over the nine captions) to a random other caption for at least
 * 9 of 10 random (image, caption) pairs within 8/255, with a median smallest flipping budget ≤ 4/255; the
 * PSNR at the flip is reported. (An independent PyTorch run with 40 sign-gradient steps flipped 10 of 10:
 * smallest ε 1/255 once, 2/255 once, 4/255 five times, 8/255 three times; PSNR ≈ 37 dB at 4/255, 31.6 at 8/255.)
 * Steering is engine-agnostic: this runs on ONNX Runtime when onnxruntime-node loads (single thread, ~10× faster
 * than TF.js-wasm here), else on the TF.js reference; steer.test.ts covers the TF.js engine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadClip } from '../../src/core/clip.ts';
import { createRng } from '../../src/core/rng.ts';
import { probeOnnxRuntime } from '../../src/engine/select-engine.ts';
import type { SuiteDimension } from '../../src/probe/suites.ts';
import { answerDimension, prepareDimensions } from '../../src/steer/answers.ts';
import { denormalisePixels } from '../../src/steer/pgd.ts';
import { type FlipItem, flipCurves } from '../../src/steer/robustness.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

const CAPTIONS = ['red', 'green', 'blue'].flatMap((c) =>
  ['circle', 'square', 'triangle'].map((s) => `a ${c} ${s}`),
);

describeShared('steering toy A toward a caption', ['toy/A'], () => {
  it('flips ≥ 9 of 10 random pairs within 8/255, median smallest ε ≤ 4/255', async () => {
    const onnx = (await probeOnnxRuntime()).version !== undefined;
    const cacheDir = mkdtempSync(join(tmpdir(), 'steer-onnx-'));
    const clip = await loadClip(
      sharedPath('toy/A/model'),
      onnx ? { engine: 'onnx', threads: 1, cacheDir } : { engine: 'tfjs', backend: 'wasm' },
    );
    try {
      // the nine captions as a one-dimension suite (one prompt per label)
      const dim: SuiteDimension = {
        name: 'caption',
        suite: 'toy',
        description: 'toy A captions',
        templates: ['{}'],
        source: '<toy>',
        labels: CAPTIONS.map((c) => ({ id: c, text: c, prompts: [c], aliases: [] })),
      };
      const [probe] = await prepareDimensions(clip, [dim]);
      const { mean, std } = clip.preprocessor.config;
      const rng = createRng(7);
      const items: (FlipItem & { image: number })[] = [];
      for (let i = 0; i < 10; i++) {
        const image = Math.floor(rng.uniform() * 120);
        const [pre] = await clip.preprocess([
          sharedPath('toy/A/eval/images', `img_${String(image).padStart(3, '0')}.png`),
        ]);
        const top = answerDimension(probe, await clip.engine.embedImages(pre.pixelValues, 1)).top;
        const others = CAPTIONS.filter((c) => c !== top);
        items.push({
          image,
          x01: denormalisePixels(pre.pixelValues, 224, mean, std),
          probe,
          target: others[Math.floor(rng.uniform() * others.length)],
        });
      }
      const t0 = performance.now();
      const curves = await flipCurves(clip, items, { epsilons: [1, 2, 4, 8].map((e) => e / 255), steps: 40 });
      const seconds = (performance.now() - t0) / 1000;
      const smallest = curves.map((c) =>
        c.smallestEpsilon === null ? Number.POSITIVE_INFINITY : c.smallestEpsilon * 255,
      );
      const lines = curves.map((c, i) => {
        const at = c.curve.find((p) => p.epsilon === c.smallestEpsilon);
        return `img_${items[i].image}: ${c.topBefore} → ${c.target}: smallest ε ${smallest[i]}/255 (step ${at?.step}, PSNR ${at?.psnr.toFixed(1)} dB)`;
      });
      const psnrAt = (e: number) =>
        curves
          .flatMap((c) =>
            c.curve.filter(
              (p) => p.flipped && Math.abs(p.epsilon * 255 - e) < 1e-9 && c.smallestEpsilon === p.epsilon,
            ),
          )
          .map((p) => p.psnr);
      const avg = (xs: number[]) =>
        xs.length ? (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1) : '-';
      const sorted = [...smallest].sort((a, b) => a - b);
      const median = (sorted[4] + sorted[5]) / 2;
      console.log(
        `${lines.join('\n')}\nflipped ${smallest.filter((e) => e <= 8).length}/10 within 8/255; median smallest ε ${median}/255; ` +
          `mean PSNR at the flip: ${avg(psnrAt(4))} dB at 4/255, ${avg(psnrAt(8))} dB at 8/255; ${seconds.toFixed(1)} s on ` +
          clip.engine.description,
      );
      expect(smallest.filter((e) => e <= 8).length).toBeGreaterThanOrEqual(9);
      expect(median).toBeLessThanOrEqual(4);
      for (const c of curves)
        for (const p of c.curve) expect(p.psnr).toBeGreaterThan(-20 * Math.log10(p.epsilon) - 1e-9);
    } finally {
      clip.dispose();
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
