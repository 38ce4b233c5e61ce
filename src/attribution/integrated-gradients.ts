/**
 * Integrated gradients (Sundararajan et al., 2017): (x − x₀) · mean_k ∂s/∂x(x₀ + α_k (x − x₀)), summed over
 * channels, with the midpoint rule α_k = (k + ½)/m. Baselines: `zero` (0 in normalised space, the dataset
 * mean colour), `black` (pixel value 0) or `blurred` (Gaussian blur of the input, σ = `blurSigma` px).
 * The completeness delta Σ attr − (s(x) − s(x₀)) is reported in `extras`.
 * The path images are shared by all targets (one forward pass per image and pass when there are several).
 *
 * @example
 * const [m] = await integratedGradients.attributeMany(input, [t], integratedGradients.resolveParams({ steps: 32 }));
 * m.extras?.completenessDelta;
 */

import { validateMethodParams } from './method-params.ts';
import { scoreImages } from './target.ts';
import type { AttributionMethod } from './types.ts';
import {
  constantImage,
  forEachInputGradient,
  gaussianBlur,
  makeMap,
  normalisedColour,
  OPENAI_NORMALISATION,
  stackPixels,
  sumProductChannels,
} from './utils.ts';

export const IG_BASELINES = ['zero', 'black', 'blurred'] as const;

export interface IntegratedGradientsParams {
  steps: number;
  baseline: (typeof IG_BASELINES)[number];
  blurSigma: number;
  batch: number;
}

/** The baseline image [3, S, S] for a model input. */
export function makeBaseline(
  x: Float32Array,
  S: number,
  kind: IntegratedGradientsParams['baseline'],
  mean: number[],
  std: number[],
  blurSigma: number,
): Float32Array {
  if (kind === 'zero') return new Float32Array(x.length);
  if (kind === 'black') return constantImage(normalisedColour([0, 0, 0], mean, std), S);
  return gaussianBlur(x, S, blurSigma);
}

export const integratedGradients: AttributionMethod<IntegratedGradientsParams> = {
  id: 'integrated-gradients',
  title: 'Integrated gradients (Sundararajan et al., 2017)',
  signed: true,
  resolveParams: (p) => validateMethodParams('integrated-gradients', p),
  async attributeMany(input, targets, params) {
    const S = input.model.config.vision.imageSize;
    const x = input.pixels;
    const { mean, std } = input.normalisation ?? OPENAI_NORMALISATION;
    const x0 = makeBaseline(x, S, params.baseline, mean, std, params.blurSigma);
    const n = 3 * S * S;
    // the path images x₀ + α_k (x − x₀), the same for every target
    const images = Array.from({ length: params.steps }, (_, k) => {
      const a = (k + 0.5) / params.steps;
      return x.map((v, i) => x0[i] + a * (v - x0[i]));
    });
    const gradSums = targets.map(() => new Float32Array(n));
    await forEachInputGradient(input.model, images, targets, params.batch, (t, _k, grad) => {
      const acc = gradSums[t];
      for (let j = 0; j < n; j++) acc[j] += grad[j];
    });
    const [sx, s0] = await scoreImages(input.model, stackPixels([x, x0], S), 2, targets);
    const diff = x.map((v, i) => v - x0[i]);
    return targets.map((t, i) => {
      const meanGrad = gradSums[i].map((g) => g / params.steps);
      const values = sumProductChannels(diff, meanGrad, S);
      let total = 0;
      for (const v of values) total += v;
      return makeMap(input, {
        method: 'integrated-gradients',
        target: t.spec,
        params: { ...params },
        grid: { rows: S, cols: S },
        values,
        signed: true,
        score: sx[i],
        extras: {
          baselineScore: s0[i],
          attributionSum: total,
          scoreMinusBaseline: sx[i] - s0[i],
          completenessDelta: total - (sx[i] - s0[i]),
        },
      });
    });
  },
};
