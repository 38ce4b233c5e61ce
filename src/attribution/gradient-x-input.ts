/**
 * Gradient × input (Shrikumar et al., 2016): Σ_c x_c · ∂s/∂x_c on the normalised pixels; signed.
 *
 * @example
 * const maps = await gradientXInput.attributeMany(input, targets, gradientXInput.resolveParams({}));
 */
import { rawGradients } from './gradient.ts';
import { validateMethodParams } from './method-params.ts';
import type { AttributionMethod } from './types.ts';
import { makeMap, sumProductChannels } from './utils.ts';

export interface GradientXInputParams {
  batch: number;
}

export const gradientXInput: AttributionMethod<GradientXInputParams> = {
  id: 'gradient-x-input',
  title: 'Gradient × input (Shrikumar et al., 2016)',
  signed: true,
  resolveParams: (p) => validateMethodParams('gradient-x-input', p),
  async attributeMany(input, targets, params) {
    const S = input.model.config.vision.imageSize;
    return (await rawGradients(input, targets, params.batch)).map(({ grad, score }, i) =>
      makeMap(input, {
        method: 'gradient-x-input',
        target: targets[i].spec,
        params: { ...params },
        grid: { rows: S, cols: S },
        values: sumProductChannels(grad, input.pixels, S),
        signed: true,
        score,
      }),
    );
  },
};
