import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainImage } from '../../src/attribution/explain.ts';
import { attribute, getMethod, METHODS } from '../../src/attribution/registry.ts';
import { checkTarget, prepareTargets } from '../../src/attribution/target.ts';
import { parseTargets } from '../../src/cli/commands/explain.ts';
import { type Clip, loadClip } from '../../src/core/clip.ts';
import { ClipModel } from '../../src/core/clip-model.ts';
import { randomClipParams } from '../../src/core/random-weights.ts';
import { loadClipParams } from '../../src/core/weights.ts';
import { TfjsEngine } from '../../src/engine/tfjs-engine.ts';
import { spearman } from '../../src/probe/stats.ts';
import { type Golden, loadGolden } from '../helpers/golden.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { useWasm } from '../helpers/tensors.ts';

describeShared('sanity checks of the attribution methods', ['toy/A', 'golden/models'], () => {
  let clip: Clip;
  beforeAll(async () => {
    await useWasm();
    clip = await loadClip(sharedPath('toy/A/model'), { engine: 'tfjs' });
  });
  afterAll(() => clip?.dispose());

  it('model-parameter randomisation (Adebayo et al. 2018): cascading from the top, maps decorrelate; rollout is reported', async () => {
    const cfg = clip.config;
    const random = randomClipParams(cfg, 2018);
    const L = cfg.vision.layers;
    const images = [0, 1, 2, 3, 4, 5].map((i) =>
      sharedPath(`toy/A/eval/images/img_${String(i).padStart(3, '0')}.png`),
    );
    const pre = await clip.preprocess(images);
    const [target] = await prepareTargets(clip, [{ kind: 'prompt', prompt: 'a red circle' }]);
    const methods = ['gradient', 'chefer-all', 'chefer-last', 'rollout', 'legrad', 'grad-eclip'];
    const original = new Map<string, Float32Array>();
    for (const [i, p] of pre.entries())
      for (const id of methods)
        original.set(
          `${i}/${id}`,
          (await attribute({ model: clip.engine, pixels: p.pixelValues }, { method: id, target })).values,
        );
    // cascade: randomise the projection and post-LN, then blocks L-1, L-2, ... down to 0
    const cascade: Record<string, number>[] = [];
    const constant: Record<string, number> = {};
    for (let k = 1; k <= L; k++) {
      const params = await loadClipParams(clip.dir, cfg);
      params.vision.lnPost = random.vision.lnPost;
      params.vision.projection = random.vision.projection;
      for (let l = L - k; l < L; l++) params.vision.blocks[l] = random.vision.blocks[l];
      const randomized = new TfjsEngine(ClipModel.fromParams(cfg, params));
      const row: Record<string, number> = {};
      for (const id of methods) {
        let sum = 0;
        for (const [i, p] of pre.entries()) {
          const b = await attribute({ model: randomized, pixels: p.pixelValues }, { method: id, target });
          const rho = spearman(original.get(`${i}/${id}`) as Float32Array, b.values).rho;
          // a constant map (ReLU-based methods can give all zeros) keeps no ranking of the original: rho 0
          if (Number.isNaN(rho)) constant[id] = (constant[id] ?? 0) + 1;
          sum += Number.isNaN(rho) ? 0 : rho;
        }
        row[id] = sum / pre.length;
      }
      randomized.dispose();
      cascade.push(row);
    }
    console.log(
      `randomisation cascade, mean Spearman(original, randomised) over ${pre.length} images:\n` +
        cascade
          .map(
            (r, k) =>
              `  top ${k + 1} of ${L} blocks: ${methods.map((m) => `${m} ${r[m].toFixed(3)}`).join(', ')}`,
          )
          .join('\n') +
        `\n  constant randomised maps (counted as rho 0): ${JSON.stringify(constant)}`,
    );
    const half = cascade[Math.floor(L / 2) - 1];
    expect(half['chefer-all']).toBeLessThan(0.5);
    expect(half['chefer-last']).toBeLessThan(0.5);
    // LeGrad reads the last two blocks: it loses the image as soon as the top block is random
    expect(cascade[0].legrad).toBeLessThan(0.5);
    expect(cascade[L - 1].legrad).toBeLessThan(0.5);
    // Grad-ECLIP weighs the last block's values, which keep image structure from the blocks below (as |gradient|
    // keeps edges); it must decorrelate by the full cascade
    expect(cascade[L - 1]['grad-eclip']).toBeLessThan(0.5);
    expect(cascade[L - 1]['grad-eclip']).toBeLessThan(cascade[0]['grad-eclip']);
    // |gradient| keeps image edges longer (as Adebayo et al. found); it must decorrelate by the full cascade
    expect(cascade[L - 1].gradient).toBeLessThan(0.5);
    expect(cascade[L - 1].gradient).toBeLessThan(cascade[0].gradient);
    expect(methods.every((m) => cascade.every((r) => Number.isFinite(r[m])))).toBe(true);
  });

  it('no tensor leaks after 20 explanations; bad options get clear errors', async () => {
    const image = sharedPath('toy/A/eval/images/img_007.png');
    const req = {
      image,
      targets: [
        { kind: 'prompt' as const, prompt: 'a blue square' },
        { kind: 'contrast' as const, a: 'a blue square', b: 'a red circle' },
      ],
    };
    const methods = [
      'gradient',
      'chefer-last',
      'rollout',
      'occlusion',
      'gradient-x-input',
      'legrad',
      'grad-eclip',
    ].map((id) => ({
      id,
    }));
    await explainImage(clip, { ...req, methods }); // warm-up: the model materialises its backward weights once
    const start = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      await explainImage(clip, {
        ...req,
        methods: [methods[i % methods.length]],
        view: i % 2 ? 'pad' : 'crop',
      });
    }
    expect(tf.memory().numTensors).toBe(start);

    await expect(explainImage(clip, { ...req, methods: [{ id: 'lime' }] })).rejects.toThrow(
      /unknown attribution method "lime"/,
    );
    await expect(
      explainImage(clip, { ...req, methods: [{ id: 'integrated-gradients', params: { steps: 0 } }] }),
    ).rejects.toThrow(/steps/);
    await expect(
      explainImage(clip, { ...req, methods: [{ id: 'smoothgrad', params: { samples: -3 } }] }),
    ).rejects.toThrow(/samples/);
    await expect(
      explainImage(clip, { ...req, methods: [{ id: 'occlusion', params: { fil: 'mean' } }] }),
    ).rejects.toThrow(/unknown parameter "fil"/);
    await expect(explainImage(clip, { image, targets: [], methods })).rejects.toThrow(/at least one target/);
    await expect(explainImage(clip, { ...req, methods, view: 'zoom' as never })).rejects.toThrow(
      /unknown view/,
    );
    expect(() => checkTarget({ kind: 'contrast', a: 'a cat', b: '' })).toThrow(/contrast side B/);
    expect(() => parseTargets({ prompt: [], contrast: ['only one side'], ensemble: [] })).toThrow(
      /two sides/,
    );
    expect(() => parseTargets({ prompt: [], contrast: [], ensemble: [] })).toThrow(/at least one/);
    expect(() => parseTargets({ prompt: [], labels: 'cat', contrast: [], ensemble: [] })).toThrow(/two/);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('every method runs on every target kind and reports a finite score', async () => {
    const image = sharedPath('toy/A/eval/images/img_010.png');
    const targets = [
      { kind: 'prompt' as const, prompt: 'a green square' },
      {
        kind: 'label' as const,
        label: 'a green square',
        labels: ['a green square', 'a red circle', 'a blue triangle'],
      },
      { kind: 'contrast' as const, a: 'a green square', b: 'a red circle' },
      {
        kind: 'ensemble' as const,
        label: 'green square',
        prompts: ['a green square', 'a painting of a green square'],
      },
    ];
    const methods = Object.keys(METHODS).map((id) => ({
      id,
      params: id === 'integrated-gradients' ? { steps: 4 } : id === 'smoothgrad' ? { samples: 2 } : {},
    }));
    const r = await explainImage(clip, { image, targets, methods });
    expect(r.entries.length).toBe(methods.length * targets.length);
    for (const e of r.entries) {
      expect(Number.isFinite(e.score), `${e.method} ${e.target.kind}`).toBe(true);
      expect(e.painting.some(Number.isFinite)).toBe(true);
    }
    const label = r.entries.find((e) => e.method === 'gradient' && e.target.kind === 'label');
    expect(label?.score).toBeGreaterThan(0);
    expect(label?.score).toBeLessThan(1);
    expect(getMethod('occlusion').signed).toBe(true);
  });
});

describe('memory guard of backward passes on the wasm backend', () => {
  it('refuses a ViT-L/14@336-sized backward pass with a clear message, lets ViT-B/32 at batch 8 through', async () => {
    await useWasm();
    const shaped = (width: number, layers: number, tokens: number) =>
      ({ config: { vision: { width, layers } }, visionTokens: tokens }) as unknown as ClipModel;
    const check = (m: ClipModel, rows: number) => new TfjsEngine(m).checkGradientMemory(rows);
    expect(() => check(shaped(1024, 24, 577), 1)).toThrow(
      /more than the wasm backend's 4 GB heap.*--engine onnx/,
    );
    expect(() => check(shaped(768, 12, 50), 8)).not.toThrow();
    expect(() => check(shaped(768, 12, 197), 2)).not.toThrow();
  });
});

describeShared('integrated gradients completeness', ['golden/models'], () => {
  let g: Golden;
  beforeAll(async () => {
    await useWasm();
    g = await loadGolden('tiny-b32');
  });
  afterAll(() => g?.dispose());

  it('the completeness delta shrinks as steps grow (midpoint rule)', async () => {
    const [target] = await g.promptTargets([2]);
    const deltas: number[] = [];
    for (const steps of [2, 8, 32, 128]) {
      const m = await attribute(
        { model: g.model, pixels: g.image(0) },
        { method: 'integrated-gradients', target, steps, batch: 16 },
      );
      deltas.push(Math.abs(m.extras?.completenessDelta as number));
    }
    console.log(
      `IG |completeness delta| for 2, 8, 32, 128 steps: ${deltas.map((d) => d.toExponential(2)).join(', ')}`,
    );
    for (let i = 1; i < deltas.length; i++) expect(deltas[i]).toBeLessThan(deltas[i - 1]);
  });
});
