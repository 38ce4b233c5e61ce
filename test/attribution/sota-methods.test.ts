/**
 * LeGrad, Grad-ECLIP and text relevance on the toy CLIP, on both engines: every target kind (prompt, label-set
 * softmax, contrast, ensemble) through every view, the documented target conventions (cosines for linear targets,
 * the probability for a label), agreement of the engines, and text relevance with tokens as strings.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { explainImage } from '../../src/attribution/explain.ts';
import { gradEclip } from '../../src/attribution/grad-eclip.ts';
import { legrad } from '../../src/attribution/legrad.ts';
import { prepareTargets, type TargetSpec } from '../../src/attribution/target.ts';
import { explainTextRelevance, type TextRelevance } from '../../src/attribution/text-relevance.ts';
import type { AttributionMap } from '../../src/attribution/types.ts';
import { type Clip, loadClip } from '../../src/core/clip.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { maxAbsDiff, useWasm } from '../helpers/tensors.ts';

const targets: TargetSpec[] = [
  { kind: 'prompt', prompt: 'a green square' },
  { kind: 'label', label: 'a green square', labels: ['a green square', 'a red circle', 'a blue triangle'] },
  { kind: 'contrast', a: 'a green square', b: 'a red circle' },
  { kind: 'ensemble', label: 'green square', prompts: ['a green square', 'a painting of a green square'] },
];
const image = sharedPath('toy/A/eval/images/img_010.png');
const wide = sharedPath('golden/inputs/images/landscape_640x480.png');

/** Maps and text relevance per engine, compared across engines at the end. */
const byEngine: Record<string, { maps: AttributionMap[]; text: TextRelevance[] }> = {};

for (const engine of ['tfjs', 'onnx'] as const) {
  describeShared(
    `LeGrad, Grad-ECLIP and text relevance on the toy CLIP (${engine})`,
    ['toy/A', 'golden/inputs'],
    () => {
      let clip: Clip;
      let start: number;
      beforeAll(async () => {
        await useWasm();
        clip = await loadClip(sharedPath('toy/A/model'), { engine });
        // warm-up: the TF.js model materialises its backward weights once (text and vision), then holds steady
        await explainImage(clip, {
          image,
          targets: targets.slice(0, 1),
          methods: [{ id: 'legrad' }, { id: 'grad-eclip' }],
        });
        await explainTextRelevance(clip, { image, prompts: ['a green square'], startLayer: 0 });
        start = tf.memory().numTensors;
        byEngine[engine] = { maps: [], text: [] };
      });
      afterAll(() => {
        clip?.dispose();
      });

      it('every target kind through every view gives finite maps in painting pixels', async () => {
        for (const view of ['crop', 'pad', 'tiles'] as const) {
          const r = await explainImage(clip, {
            image: view === 'crop' ? image : wide,
            targets,
            methods: [{ id: 'legrad' }, { id: 'grad-eclip' }],
            view,
          });
          expect(r.entries.length).toBe(8);
          if (view === 'tiles') expect(r.view.rects.length).toBeGreaterThan(1);
          for (const e of r.entries) {
            const label = `${view} ${e.method} ${e.target.kind}`;
            expect(Number.isFinite(e.score), label).toBe(true);
            expect(e.painting.length, label).toBe(r.view.painting.width * r.view.painting.height);
            expect(e.painting.some(Number.isFinite), label).toBe(true);
            for (const m of e.maps) {
              expect(m.grid, label).toEqual({ rows: 7, cols: 7 });
              expect(Math.max(...m.values), label).toBeLessThanOrEqual(1);
              expect(Math.min(...m.values), label).toBeGreaterThanOrEqual(0);
            }
            if (e.target.kind === 'label') {
              expect(e.score).toBeGreaterThan(0);
              expect(e.score).toBeLessThan(1);
            }
          }
          if (view === 'crop') byEngine[engine].maps.push(...r.entries.flatMap((e) => e.maps));
        }
        if (engine === 'tfjs') expect(tf.memory().numTensors).toBe(start);
      });

      it('targets follow the cosine convention: Grad-ECLIP with the model heads reproduces the model score', async () => {
        const prepared = await prepareTargets(clip, targets);
        const [pre] = await clip.preprocess([image]);
        const input = { model: clip.engine, pixels: pre.pixelValues };
        const maps = await gradEclip.attributeMany(
          input,
          prepared,
          gradEclip.resolveParams({ attentionHeads: 'model' }),
        );
        const scale = clip.engine.logitScale;
        maps.forEach((m, i) => {
          const c = m.extras?.targetScore as number;
          // linear targets: cosines (logit / scale); a label: its probability
          const expected = prepared[i].head.softmax ? m.score : m.score / scale;
          expect(Math.abs(c - expected), m.target.kind).toBeLessThan(1e-4);
        });
        // a one-prompt ensemble is that prompt; LeGrad readouts are cosines in [-1, 1] or a probability
        const [one, prompt] = await prepareTargets(clip, [
          { kind: 'ensemble', label: 'green square', prompts: ['a green square'] },
          targets[0],
        ]);
        const lg = await legrad.attributeMany(input, [one, prompt, ...prepared], legrad.resolveParams({}));
        expect(maxAbsDiff(lg[0].values, lg[1].values)).toBeLessThan(1e-5);
        for (const m of lg)
          for (const r of (m.extras?.readoutScores ?? []) as number[])
            expect(Math.abs(r), m.target.kind).toBeLessThanOrEqual(2);
        const labelReadout = lg[3].extras?.readoutScores as number[];
        for (const r of labelReadout) expect(r > 0 && r < 1).toBe(true);
      });

      it('text relevance: the tokens of each prompt as strings, with shares summing to 1, on every view', async () => {
        for (const view of ['crop', 'tiles'] as const) {
          const res = await explainTextRelevance(clip, {
            image: view === 'crop' ? image : wide,
            prompts: ['a green square', 'a painting of a red circle'],
            view,
          });
          expect(res.map((r) => r.tokens.map((t) => t.token))).toEqual([
            ['a', 'green', 'square'],
            ['a', 'painting', 'of', 'a', 'red', 'circle'],
          ]);
          for (const r of res) {
            expect(r.tokens.reduce((a, t) => a + t.value, 0)).toBeCloseTo(1, 5);
            expect(r.tokens.every((t) => t.value >= 0)).toBe(true);
            expect(r.row.length).toBe(r.tokens.length + 2);
            expect(r.row[r.row.length - 1]).toBeGreaterThanOrEqual(1); // the identity at EOT
            expect(r.startLayer).toBe(clip.config.text.layers - 1);
            expect(Number.isFinite(r.score)).toBe(true);
          }
          if (view === 'crop') byEngine[engine].text = res;
        }
        const all = await explainTextRelevance(clip, { image, prompts: ['a green square'], startLayer: 0 });
        expect(all[0].startLayer).toBe(0);
        await expect(explainTextRelevance(clip, { image, prompts: [] })).rejects.toThrow(
          /at least one prompt/,
        );
        await expect(explainTextRelevance(clip, { image, prompts: ['x'], startLayer: 40 })).rejects.toThrow(
          /startLayer 40/,
        );
        if (engine === 'tfjs') expect(tf.memory().numTensors).toBe(start);
      });
    },
  );
}

describeShared('LeGrad, Grad-ECLIP and text relevance: the engines agree', ['toy/A', 'golden/inputs'], () => {
  it('maps within 1e-4 (min-max maps in [0, 1]) and token shares within 1e-4', () => {
    const [a, b] = [byEngine.tfjs, byEngine.onnx];
    expect(a?.maps.length).toBeGreaterThan(0);
    expect(b?.maps.length).toBe(a.maps.length);
    let worst = 0;
    a.maps.forEach((m, i) => {
      worst = Math.max(worst, maxAbsDiff(m.values, b.maps[i].values));
    });
    expect(worst).toBeLessThan(1e-4);
    a.text.forEach((t, i) => {
      expect(
        maxAbsDiff(
          t.tokens.map((x) => x.value),
          b.text[i].tokens.map((x) => x.value),
        ),
      ).toBeLessThan(1e-4);
    });
  });
});
