import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cheferAll, cheferLast } from '../../src/attribution/chefer.ts';
import { rawGradients } from '../../src/attribution/gradient.ts';
import { integratedGradients } from '../../src/attribution/integrated-gradients.ts';
import { occlusion } from '../../src/attribution/occlusion.ts';
import { rollout } from '../../src/attribution/rollout.ts';
import type { PreparedTarget } from '../../src/attribution/target.ts';
import type { AttributionInput } from '../../src/attribution/types.ts';
import { type Golden, loadGolden } from '../helpers/golden.ts';
import { describeShared } from '../helpers/shared-data.ts';
import { maxAbs, maxAbsDiff, useWasm } from '../helpers/tensors.ts';

const report: string[] = [];
afterAll(() => console.log(`attribution parity (max |diff| / max |ref|):\n${report.join('\n')}`));

for (const [name, engine] of [
  ['tiny-b32', 'tfjs'],
  ['tiny-b16', 'tfjs'],
  ['tiny-b32', 'onnx'],
  ['tiny-b16', 'onnx'],
] as const) {
  describeShared(
    `attribution parity with PyTorch: ${name} on ${engine}`,
    ['golden/models', 'golden/reference', 'golden/inputs'],
    () => {
      let g: Golden;
      let targets: PreparedTarget[];
      let startTensors: number;
      const inputs: AttributionInput[] = [];
      beforeAll(async () => {
        await useWasm();
        startTensors = tf.memory().numTensors;
        g = await loadGolden(name, engine);
        targets = await g.promptTargets([0, 1, 2]);
        for (const i of [0, 1]) inputs.push({ model: g.model, pixels: g.image(i) });
      });
      afterAll(() => {
        g.dispose();
        expect(tf.memory().numTensors).toBe(startTensors);
      });

      /** Compares our [images × texts] maps with a reference tensor [2, 3, ...] using atol = rel × max|ref|. */
      function compare(key: string, ours: Float32Array[][], rel = 1e-4, floor = 0) {
        const ref = g.ref.getFloat32(key);
        const per = ref.data.length / 6;
        let worst = 0;
        for (let i = 0; i < 2; i++)
          for (let j = 0; j < 3; j++) {
            const r = ref.data.subarray((i * 3 + j) * per, (i * 3 + j + 1) * per);
            const scale = maxAbs(r);
            const d = maxAbsDiff(ours[i][j], r);
            expect(d, `${key} [${i},${j}]`).toBeLessThanOrEqual(Math.max(rel * scale, floor));
            worst = Math.max(worst, d / scale);
          }
        report.push(`${name} ${engine} ${key}: ${worst.toExponential(2)}`);
      }

      it('scores and input gradients', async () => {
        const res = await Promise.all(inputs.map((inp) => rawGradients(inp, targets, 8)));
        const scores = g.ref.getFloat32('scores').data;
        const ours = res.flatMap((r) => r.map((x) => x.score));
        expect(maxAbsDiff(ours, scores)).toBeLessThan(1e-3);
        compare(
          'input_gradient',
          res.map((r) => r.map((x) => x.grad)),
        );
      });

      it('Chefer relevance, last layer and all layers', async () => {
        const last = await Promise.all(
          inputs.map((inp) => cheferLast.attributeMany(inp, targets, cheferLast.resolveParams({}))),
        );
        compare(
          'chefer_last_layer',
          last.map((ms) => ms.map((m) => m.values)),
        );
        const all = await Promise.all(
          inputs.map((inp) => cheferAll.attributeMany(inp, targets, cheferAll.resolveParams({}))),
        );
        compare(
          'chefer_all_layers',
          all.map((ms) => ms.map((m) => m.values)),
        );
      });

      it('occlusion of patch cells', async () => {
        const maps = [];
        for (const inp of inputs)
          maps.push(await occlusion.attributeMany(inp, targets, occlusion.resolveParams({})));
        compare(
          'occlusion',
          maps.map((ms) => ms.map((m) => m.values)),
          1e-4,
          1e-3,
        );
      });

      it('integrated gradients and completeness sums', async () => {
        const maps = [];
        for (const inp of inputs) {
          maps.push(
            await integratedGradients.attributeMany(
              inp,
              targets,
              integratedGradients.resolveParams({ steps: 32 }),
            ),
          );
        }
        compare(
          'integrated_gradients',
          maps.map((ms) => ms.map((m) => m.values)),
        );
        const sums = g.ref.getFloat32('ig_attribution_sum').data;
        const diffs = g.ref.getFloat32('ig_score_minus_baseline').data;
        const base = g.ref.getFloat32('ig_baseline_score').data;
        const flat = maps.flat();
        expect(
          maxAbsDiff(
            flat.map((m) => m.extras?.attributionSum as number),
            sums,
          ),
        ).toBeLessThan(1e-3);
        expect(
          maxAbsDiff(
            flat.map((m) => m.extras?.scoreMinusBaseline as number),
            diffs,
          ),
        ).toBeLessThan(1e-3);
        expect(
          maxAbsDiff(
            flat.map((m) => m.extras?.baselineScore as number),
            base,
          ),
        ).toBeLessThan(1e-3);
      });

      it('attention rollout for all 7 images', async () => {
        const ref = g.ref.getFloat32('rollout');
        const per = ref.data.length / 7;
        let worst = 0;
        for (let i = 0; i < 7; i++) {
          const [m] = await rollout.attributeMany(
            { model: g.model, pixels: g.image(i) },
            [targets[0]],
            rollout.resolveParams({}),
          );
          const r = ref.data.subarray(i * per, (i + 1) * per);
          const d = maxAbsDiff(m.values, r);
          expect(d).toBeLessThanOrEqual(1e-4 * maxAbs(r));
          worst = Math.max(worst, d / maxAbs(r));
        }
        report.push(`${name} ${engine} rollout: ${worst.toExponential(2)}`);
      });
    },
  );
}
