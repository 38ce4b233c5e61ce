/**
 * Methods whose rows differ only by target run one image for many score heads (the forward pass is shared by a
 * pass's rows; IG and SmoothGrad share each path image or noisy copy). Asking for several targets at once must
 * give each target's map as asking for it alone (which takes the unshared path), on both engines.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getMethod } from '../../src/attribution/registry.ts';
import { prepareTargets } from '../../src/attribution/target.ts';
import { type Clip, loadClip } from '../../src/core/clip.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { maxAbs, maxAbsDiff, useWasm } from '../helpers/tensors.ts';

const METHODS: [string, Record<string, unknown>][] = [
  ['gradient', {}],
  ['gradient-x-input', {}],
  ['smoothgrad', { samples: 3 }],
  ['integrated-gradients', { steps: 3 }],
  ['chefer-last', {}],
  ['chefer-all', {}],
  ['legrad', {}],
  ['grad-eclip', {}],
];

for (const engine of ['onnx', 'tfjs'] as const) {
  describeShared(`one image for many targets (${engine})`, ['toy/A'], () => {
    let clip: Clip;
    beforeAll(async () => {
      if (engine === 'tfjs') await useWasm();
      clip = await loadClip(sharedPath('toy/A/model'), { engine });
    });
    afterAll(() => clip?.dispose());

    it('several targets at once equal each target alone, for every gradient-family method', async () => {
      const [p] = await clip.preprocess([sharedPath('toy/A/eval/images/img_007.png')]);
      const targets = await prepareTargets(clip, [
        { kind: 'prompt', prompt: 'a red circle' },
        { kind: 'contrast', a: 'a blue square', b: 'a red circle' },
        { kind: 'prompt', prompt: 'a green triangle' },
      ]);
      const input = { model: clip.engine, pixels: p.pixelValues };
      for (const [id, params] of METHODS) {
        const m = getMethod(id);
        const resolved = m.resolveParams(params);
        const together = await m.attributeMany(input, targets, resolved);
        for (const [i, t] of targets.entries()) {
          const [alone] = await m.attributeMany(input, [t], resolved);
          const rel = maxAbsDiff(together[i].values, alone.values) / maxAbs(alone.values);
          expect(rel, `${id} target ${i}`).toBeLessThan(1e-4);
          expect(together[i].score, `${id} target ${i} score`).toBeCloseTo(alone.score as number, 4);
        }
      }
    });
  });
}
