import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkTarget, prepareTargets, scoreImages, targetPrompts } from '../../src/attribution/target.ts';
import { type Clip, loadClip } from '../../src/core/clip.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { useWasm } from '../helpers/tensors.ts';

describeShared('attribution targets', ['toy/A/model'], () => {
  let clip: Clip;
  beforeAll(async () => {
    await useWasm();
    clip = await loadClip(sharedPath('toy/A/model'), { engine: 'tfjs' });
  });
  afterAll(() => clip?.dispose());

  it('every target kind scores as defined, from independently computed embeddings', async () => {
    const image = sharedPath('toy/A/eval/images/img_004.png');
    const [img] = await clip.encodeImage([image], { normalize: true });
    const unit = async (texts: string[]) => clip.encodeText(texts, { normalize: true });
    const cos = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Array.from(a).reduce((s, x, k) => s + x * b[k], 0);
    const mean = (rows: Float32Array[]) => {
      const m = rows[0].map((_, k) => rows.reduce((s, r) => s + r[k], 0) / rows.length);
      const n = Math.hypot(...m);
      return m.map((v) => v / n);
    };
    const softmax = (l: number[]) => {
      const e = l.map((x) => Math.exp(x - Math.max(...l)));
      return e.map((x) => x / e.reduce((a, b) => a + b, 0));
    };
    const scale = clip.engine.logitScale;
    const labels = ['red', 'green', 'blue'];
    const prompts = labels.map((c) => [`a ${c} circle`, `a ${c} square`, `a ${c} triangle`]);
    const specs = [
      { kind: 'prompt' as const, prompt: 'a red circle' },
      { kind: 'contrast' as const, a: 'a red circle', b: 'a blue square' },
      {
        kind: 'label' as const,
        label: 'a green square',
        labels: ['a red circle', 'a green square', 'a blue triangle'],
      },
      { kind: 'ensemble' as const, label: 'green', prompts: prompts[1] },
      { kind: 'label' as const, label: 'green', labels, prompts },
    ];
    const expected = [
      scale * cos(img, (await unit(['a red circle']))[0]),
      scale * (cos(img, (await unit(['a red circle']))[0]) - cos(img, (await unit(['a blue square']))[0])),
      softmax((await unit(specs[2].labels as string[])).map((t) => scale * cos(img, t)))[1],
      scale * cos(img, mean(await unit(prompts[1]))),
      softmax(await Promise.all(prompts.map(async (ps) => scale * cos(img, mean(await unit(ps))))))[1],
    ];
    const targets = await prepareTargets(clip, specs);
    const [pre] = await clip.preprocess([image]);
    const [scores] = await scoreImages(clip.engine, pre.pixelValues, 1, targets);
    scores.forEach((s, i) => expect(s, specs[i].kind).toBeCloseTo(expected[i], 4));
    expect(targetPrompts(specs[4])).toHaveLength(9);
  });

  it('label targets with prompt ensembles are validated', () => {
    expect(() => checkTarget({ kind: 'label', label: 'a', labels: ['a', 'b'], prompts: [['x']] })).toThrow(
      /one prompt list per label/,
    );
    expect(() =>
      checkTarget({ kind: 'label', label: 'a', labels: ['a', 'b'], prompts: [['x'], []] }),
    ).toThrow(/label 2 has no prompts/);
    expect(() => checkTarget({ kind: 'label', label: 'c', labels: ['a', 'b'] })).toThrow(
      /not in the label set/,
    );
  });
});
