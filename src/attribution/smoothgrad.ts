/**
 * SmoothGrad (Smilkov et al., 2017): the mean of |∂s/∂x| over `samples` noisy copies x + N(0, σ²), where
 * σ = `sigma` × (max(x) − min(x)) as in the paper's noise level; summed over channels. Noise is seeded.
 * The noisy copies are shared by all targets (one forward pass per copy and pass when there are several).
 *
 * @example
 * const maps = await smoothgrad.attributeMany(input, targets, smoothgrad.resolveParams({ samples: 16, sigma: 0.15 }));
 */

import { validateMethodParams } from './method-params.ts';
import type { AttributionMethod } from './types.ts';
import { cleanScores, createRng, forEachInputGradient, makeMap, sumAbsChannels } from './utils.ts';

export interface SmoothGradParams {
  samples: number;
  sigma: number;
  seed: number;
  batch: number;
}

export const smoothgrad: AttributionMethod<SmoothGradParams> = {
  id: 'smoothgrad',
  title: 'SmoothGrad (Smilkov et al., 2017)',
  signed: false,
  resolveParams: (p) => validateMethodParams('smoothgrad', p),
  async attributeMany(input, targets, params) {
    const S = input.model.config.vision.imageSize;
    const x = input.pixels;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of x) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const sd = params.sigma * (hi - lo);
    const rng = createRng(params.seed);
    // every (target, sample) pair is one row; the same noise draws are used for every target
    const noisy = Array.from({ length: params.samples }, () => x.map((v) => v + sd * rng.normal()));
    const sums = targets.map(() => new Float32Array(S * S));
    await forEachInputGradient(input.model, noisy, targets, params.batch, (t, _k, grad) => {
      const m = sumAbsChannels(grad, S);
      const acc = sums[t];
      for (let j = 0; j < acc.length; j++) acc[j] += m[j] / params.samples;
    });
    const scores = await cleanScores(input, targets);
    return targets.map((t, i) =>
      makeMap(input, {
        method: 'smoothgrad',
        target: t.spec,
        params: { ...params },
        grid: { rows: S, cols: S },
        values: sums[i],
        signed: false,
        score: scores[i],
      }),
    );
  },
};
