/**
 * Input gradient (saliency; Simonyan et al., 2014): |∂s/∂x| summed over colour channels, at pixel level.
 * Targets are batched: one backward pass gives the maps of up to `batch` targets.
 *
 * @example
 * const [map] = await gradient.attributeMany(input, [target], gradient.resolveParams({}));
 */
import { validateMethodParams } from './method-params.ts';
import type { PreparedTarget } from './target.ts';
import type { AttributionInput, AttributionMap, AttributionMethod } from './types.ts';
import { inBatches, inputGradients, makeMap, sumAbsChannels } from './utils.ts';

export interface GradientParams {
  batch: number;
}

/** Raw ∂s/∂x [3, S, S] for each target (used by gradient × input and by parity tests). */
export function rawGradients(
  input: AttributionInput,
  targets: PreparedTarget[],
  batch: number,
): Promise<{ grad: Float32Array; score: number }[]> {
  const S = input.model.config.vision.imageSize;
  // one painting for every target: its forward pass is shared by the rows of a pass
  const shape = { sharedImage: true, outputsPerRow: 3 * S * S };
  return inBatches(targets, input.model.batchFor(batch, shape), async (chunk) => {
    const { grads, scores } = await inputGradients(input.model, input.pixels, chunk);
    const n = 3 * S * S;
    return chunk.map((_, i) => ({ grad: grads.slice(i * n, (i + 1) * n), score: scores[i] }));
  });
}

export const gradient: AttributionMethod<GradientParams> = {
  id: 'gradient',
  title: 'Input gradient (Simonyan et al., 2014)',
  signed: false,
  resolveParams: (p) => validateMethodParams('gradient', p),
  async attributeMany(input, targets, params): Promise<AttributionMap[]> {
    const S = input.model.config.vision.imageSize;
    return (await rawGradients(input, targets, params.batch)).map(({ grad, score }, i) =>
      makeMap(input, {
        method: 'gradient',
        target: targets[i].spec,
        params: { ...params },
        grid: { rows: S, cols: S },
        values: sumAbsChannels(grad, S),
        signed: false,
        score,
      }),
    );
  },
};
