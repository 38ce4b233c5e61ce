/**
 * SmoothGrad (Smilkov et al., 2017): the mean of |∂s/∂x| over `samples` noisy copies x + N(0, σ²), where
 * σ = `sigma` × (max(x) − min(x)) as in the paper's noise level; summed over channels. Noise is seeded.
 * All samples of all targets run as one stream of batched backward passes.
 *
 * @example
 * const maps = await smoothgrad.attributeMany(input, targets, smoothgrad.resolveParams({ samples: 16, sigma: 0.15 }));
 */

import { validateMethodParams } from './method-params.ts';
import type { PreparedTarget } from './target.ts';
import type { AttributionMethod } from './types.ts';
import {
  cleanScores,
  createRng,
  inBatches,
  inputGradients,
  makeMap,
  stackPixels,
  sumAbsChannels,
} from './utils.ts';

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
    const rows: { t: number; k: number }[] = targets.flatMap((_, t) => noisy.map((_, k) => ({ t, k })));
    const sums = targets.map(() => new Float32Array(S * S));
    const n = 3 * S * S;
    await inBatches(rows, input.model.batchFor(params.batch), async (chunk) => {
      const batch = stackPixels(
        chunk.map((r) => noisy[r.k]),
        S,
      );
      const rowTargets: PreparedTarget[] = chunk.map((r) => targets[r.t]);
      const { grads } = await inputGradients(input.model, batch, rowTargets);
      chunk.forEach((r, i) => {
        const m = sumAbsChannels(grads.subarray(i * n, (i + 1) * n), S);
        const acc = sums[r.t];
        for (let j = 0; j < acc.length; j++) acc[j] += m[j] / params.samples;
      });
      return [];
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
