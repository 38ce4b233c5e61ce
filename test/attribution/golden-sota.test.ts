/**
 * LeGrad, Grad-ECLIP and Chefer's text relevance against the PyTorch references of the golden tiny models
 * (reference/<model>/saliency_sota.safetensors, see manifest_sota.json), on both engines: maps within 1e-4 of the
 * reference map's maximum, min-max maps and text relevance within 1e-4 absolute, targets within 1e-4.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gradEclip } from '../../src/attribution/grad-eclip.ts';
import { legrad } from '../../src/attribution/legrad.ts';
import type { PreparedTarget } from '../../src/attribution/target.ts';
import { textRelevance, textRelevanceRow } from '../../src/attribution/text-relevance.ts';
import type { AttributionInput, AttributionMap } from '../../src/attribution/types.ts';
import { minMaxNormalise } from '../../src/attribution/utils.ts';
import { resizeBilinear } from '../../src/core/resize-map.ts';
import { SafetensorsFile } from '../../src/core/safetensors.ts';
import { ClipTokenizer } from '../../src/core/tokenizer.ts';
import { type Golden, loadGolden } from '../helpers/golden.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { maxAbs, maxAbsDiff, useWasm } from '../helpers/tensors.ts';

const report: string[] = [];
/** LeGrad's per-block readout scores of a map. */
const readout = (m: AttributionMap) => (m.extras?.readoutScores ?? []) as number[];
afterAll(() =>
  console.log(`LeGrad / Grad-ECLIP / text relevance parity (max |diff| / max |ref|):\n${report.join('\n')}`),
);

for (const [name, engine] of [
  ['tiny-b32', 'tfjs'],
  ['tiny-b16', 'tfjs'],
  ['tiny-b32', 'onnx'],
  ['tiny-b16', 'onnx'],
] as const) {
  describeShared(
    `LeGrad, Grad-ECLIP and text relevance parity with PyTorch: ${name} on ${engine}`,
    ['golden/models', 'golden/reference', 'golden/inputs'],
    () => {
      let g: Golden;
      let ref: SafetensorsFile;
      let targets: PreparedTarget[];
      let startTensors: number;
      const inputs: AttributionInput[] = [];
      beforeAll(async () => {
        await useWasm();
        startTensors = tf.memory().numTensors;
        g = await loadGolden(name, engine);
        ref = await SafetensorsFile.open(sharedPath('golden/reference', name, 'saliency_sota.safetensors'));
        targets = await g.promptTargets([0, 1, 2]);
        for (const i of [0, 1]) inputs.push({ model: g.model, pixels: g.image(i) });
      });
      afterAll(() => {
        g.dispose();
        expect(tf.memory().numTensors).toBe(startTensors);
      });

      /**
       * Compares our [images × texts] values with a reference tensor [2, 3, ...]: |diff| ≤ rel × max|ref| (or
       * ≤ atol when given) per pair.
       */
      function compare(key: string, ours: ArrayLike<number>[][], tol: { rel?: number; atol?: number } = {}) {
        const r6 = ref.getFloat32(key);
        const per = r6.data.length / 6;
        let worst = 0;
        for (let i = 0; i < 2; i++)
          for (let j = 0; j < 3; j++) {
            const r = r6.data.subarray((i * 3 + j) * per, (i * 3 + j + 1) * per);
            const scale = maxAbs(r) || 1;
            const d = maxAbsDiff(ours[i][j], r);
            const bound = tol.atol ?? (tol.rel ?? 1e-4) * scale;
            expect(d, `${key} [${i},${j}]`).toBeLessThanOrEqual(bound);
            worst = Math.max(worst, d / scale);
          }
        report.push(`${name} ${engine} ${key}: ${worst.toExponential(2)}`);
      }

      it('LeGrad: raw sum, per-layer readout score, grid min-max and the official 224 output', async () => {
        const { layers: L, grid: G, imageSize: S } = g.model.config.vision;
        const raw = await Promise.all(
          inputs.map((inp) =>
            legrad.attributeMany(inp, targets, legrad.resolveParams({ normalize: 'none' })),
          ),
        );
        compare(
          'legrad_raw',
          raw.map((ms) => ms.map((m) => m.values)),
        );
        const normed = await Promise.all(
          inputs.map((inp) => legrad.attributeMany(inp, targets, legrad.resolveParams({}))),
        );
        compare(
          'legrad',
          normed.map((ms) => ms.map((m) => m.values)),
          { atol: 1e-4 },
        );
        // the last layer's readout cosine (mean-pooled, not CLS)
        compare(
          'legrad_score_final_layer_meanpool',
          raw.map((ms) => ms.map((m) => [readout(m)[1]])),
          { atol: 1e-4 },
        );
        expect(readout(raw[0][0]).length).toBe(2);
        expect(raw[0][0].params.startLayer).toBe(-2);
        // official output: upsample (align_corners = false) then min-max over 224 × 224
        compare(
          'legrad_224',
          raw.map((ms) => ms.map((m) => minMaxNormalise(resizeBilinear(m.values, G, G, S, S)))),
          { atol: 1e-4 },
        );
        // per-layer terms: startLayer = l alone equals the sum minus later terms; check the last layer's term
        const last = await Promise.all(
          inputs.map((inp) =>
            legrad.attributeMany(inp, targets, legrad.resolveParams({ normalize: 'none', startLayer: -1 })),
          ),
        );
        const layers = ref.getFloat32('legrad_layers'); // [2, 3, 2, G, G]
        const per = G * G;
        for (let i = 0; i < 2; i++)
          for (let j = 0; j < 3; j++) {
            const r = layers.data.subarray(((i * 3 + j) * 2 + 1) * per, ((i * 3 + j) * 2 + 2) * per);
            expect(maxAbsDiff(last[i][j].values, r)).toBeLessThanOrEqual(1e-4 * maxAbs(r));
          }
        expect(L).toBeGreaterThanOrEqual(2);
      });

      it('Grad-ECLIP: one-head map (raw and min-max), its target, and the true-heads variant', async () => {
        const raw = await Promise.all(
          inputs.map((inp) =>
            gradEclip.attributeMany(inp, targets, gradEclip.resolveParams({ normalize: 'none' })),
          ),
        );
        compare(
          'grad_eclip_raw',
          raw.map((ms) => ms.map((m) => m.values)),
        );
        compare(
          'grad_eclip_score',
          raw.map((ms) => ms.map((m) => [m.extras?.targetScore as number])),
          { atol: 1e-4 },
        );
        const normed = await Promise.all(
          inputs.map((inp) => gradEclip.attributeMany(inp, targets, gradEclip.resolveParams({}))),
        );
        compare(
          'grad_eclip',
          normed.map((ms) => ms.map((m) => m.values)),
          { atol: 1e-4 },
        );
        // the reported score is the model's own logit, as for every other method
        const scores = (
          await SafetensorsFile.open(sharedPath('golden/reference', name, 'saliency.safetensors'))
        ).getFloat32('scores').data;
        expect(
          maxAbsDiff(
            normed.flat().map((m) => m.score),
            scores,
          ),
        ).toBeLessThan(1e-3);
        const heads = await Promise.all(
          inputs.map((inp) =>
            gradEclip.attributeMany(
              inp,
              targets,
              gradEclip.resolveParams({ normalize: 'none', attentionHeads: 'model' }),
            ),
          ),
        );
        compare(
          'grad_eclip_true_heads_raw',
          heads.map((ms) => ms.map((m) => m.values)),
        );
        compare(
          'grad_eclip_true_heads_score',
          heads.map((ms) => ms.map((m) => [m.extras?.targetScore as number])),
          { atol: 1e-4 },
        );
      });

      it('text relevance: last block and all blocks, raw rows and the notebook normalisation', async () => {
        const { layers: L, heads: H, contextLength: C } = g.model.config.text;
        const E = g.model.config.embedDim;
        const ids = ref.getInt32('text_input_ids').data; // [3, 77]
        const eot = ref.getInt32('text_eot_index').data; // [3]
        const emb = await g.model.embedImages(Float32Array.from([...g.image(0), ...g.image(1)]), 2); // [2, E]
        const rows = async (start: number) => {
          const out: Float64Array[][] = [];
          for (let i = 0; i < 2; i++) {
            const e = emb.subarray(i * E, (i + 1) * E);
            const n = Math.hypot(...e);
            const unit = new Float32Array(3 * E);
            for (let j = 0; j < 3; j++)
              unit.set(
                Float32Array.from(e, (v) => v / n),
                j * E,
              );
            const r = await g.model.textAttentionGradients(ids, eot, unit, start);
            expect(r.probs[start].length).toBe(3 * H * C * C);
            compareScores(i, r.scores);
            out.push(
              [0, 1, 2].map((j) => textRelevanceRow(r.probs, r.grads, H, C, eot[j], start, j * H * C * C)),
            );
          }
          return out;
        };
        const scoreRef = ref.getFloat32('score').data;
        const compareScores = (i: number, s: Float32Array) => {
          for (let j = 0; j < 3; j++) expect(Math.abs(s[j] - scoreRef[i * 3 + j])).toBeLessThan(1e-3);
        };
        const last = await rows(L - 1);
        compare('chefer_text', last, { atol: 1e-4 });
        compare(
          'chefer_text_normalized',
          last.map((rs) =>
            rs.map((r, j) => {
              let sum = 0;
              for (let k = 1; k < eot[j]; k++) sum += r[k];
              return Float64Array.from(r, (v, k) => (k >= 1 && k < eot[j] ? v / sum : 0));
            }),
          ),
          { atol: 1e-4 },
        );
        compare('chefer_text_all_layers', await rows(0), { atol: 1e-4 });
      });

      it('text relevance through the tokenizer: tokens as strings, shares summing to 1', async () => {
        const tokenizer = await ClipTokenizer.fromDir(sharedPath('golden/models', name));
        const texts: string[] = JSON.parse(readFileSync(sharedPath('golden/inputs/texts.json'), 'utf8')).map(
          (t: { text: string }) => t.text,
        );
        const E = g.model.config.embedDim;
        const emb = (await g.model.embedImages(g.image(1), 1)).slice(0, E);
        const res = await textRelevance(g.model, tokenizer, [emb, emb, emb], texts.slice(0, 3));
        const norm = ref.getFloat32('chefer_text_normalized').data; // [2, 3, 77]
        const eot = ref.getInt32('text_eot_index').data;
        res.forEach((r, j) => {
          expect(r.tokens.length).toBe(eot[j] - 1);
          const ours = r.tokens.map((t) => t.value);
          const theirs = Array.from(norm.subarray((3 + j) * 77 + 1, (3 + j) * 77 + eot[j]));
          expect(maxAbsDiff(ours, theirs)).toBeLessThanOrEqual(1e-4);
          if (ours.length) expect(ours.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
          expect(r.tokens.map((t) => t.token).join(' ').length).toBeGreaterThan(0);
          expect(Math.abs(r.score - ref.getFloat32('score').data[3 + j])).toBeLessThan(1e-3);
        });
      });
    },
  );
}
