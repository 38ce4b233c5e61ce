/**
 * Occlusion (Zeiler & Fergus, 2014): map = s(x) − s(x with a window replaced by a fill). With window = stride
 * (default: the model's patch size) the map is on the cell grid, exactly as the golden reference; otherwise
 * windows slide with the given stride and each pixel gets the mean score drop of the windows covering it
 * (Captum's convention), at pixel level. Fill: `mean` (0 in normalised space = the dataset mean colour),
 * `black`, or `blurred` (Gaussian blur of the input). Every occluded image is scored for all targets in the
 * same forward pass, so the cost does not grow with the number of prompts.
 *
 * @example
 * const maps = await occlusion.attributeMany(input, targets, occlusion.resolveParams({ fill: 'mean' }));
 */

import { validateMethodParams } from './method-params.ts';
import { scoreImages } from './target.ts';
import type { AttributionMethod } from './types.ts';
import {
  constantImage,
  DEFAULT_BATCH,
  gaussianBlur,
  inBatches,
  makeMap,
  normalisedColour,
  OPENAI_NORMALISATION,
  stackPixels,
} from './utils.ts';

export const OCCLUSION_FILLS = ['mean', 'black', 'blurred'] as const;

export interface OcclusionParams {
  /** Window side in model-input pixels (default: the patch size). */
  window: number;
  /** Step between windows (default: the window, i.e. non-overlapping cells). */
  stride: number;
  fill: (typeof OCCLUSION_FILLS)[number];
  blurSigma: number;
  batch: number;
}

export const occlusion: AttributionMethod<Partial<OcclusionParams>> = {
  id: 'occlusion',
  title: 'Occlusion (Zeiler & Fergus, 2014)',
  signed: true,
  resolveParams: (p) => validateMethodParams('occlusion', p),
  async attributeMany(input, targets, partial) {
    const { imageSize: S, patchSize } = input.model.config.vision;
    const window = partial.window ?? patchSize;
    const stride = partial.stride ?? window;
    if (window > S) throw new Error(`occlusion: window ${window} is larger than the input (${S})`);
    const params = { ...partial, window, stride };
    const x = input.pixels;
    const n = S * S;
    const { mean, std } = input.normalisation ?? OPENAI_NORMALISATION;
    const fill =
      params.fill === 'mean'
        ? new Float32Array(3 * n)
        : params.fill === 'black'
          ? constantImage(normalisedColour([0, 0, 0], mean, std), S)
          : gaussianBlur(x, S, params.blurSigma ?? 10);
    const steps = Math.floor((S - window) / stride) + 1;
    const positions = Array.from({ length: steps * steps }, (_, i) => ({
      y: Math.floor(i / steps) * stride,
      x: (i % steps) * stride,
    }));
    const occlude = (p: { x: number; y: number }) => {
      const img = Float32Array.from(x);
      for (let c = 0; c < 3; c++)
        for (let yy = p.y; yy < p.y + window; yy++) {
          const o = c * n + yy * S;
          img.set(fill.subarray(o + p.x, o + p.x + window), o + p.x);
        }
      return img;
    };
    const [base] = await scoreImages(input.model, x, 1, targets);
    // drops[i][t] = s_t(x) − s_t(x occluded at position i)
    const drops = await inBatches(
      positions,
      input.model.batchFor(params.batch ?? DEFAULT_BATCH, { forwardOnly: true }),
      async (chunk) => {
        const scores = await scoreImages(
          input.model,
          stackPixels(chunk.map(occlude), S),
          chunk.length,
          targets,
        );
        return scores.map((row) => row.map((s, t) => base[t] - s));
      },
    );
    const cells = window === stride && S % window === 0;
    return targets.map((t, ti) => {
      let values: Float32Array;
      if (cells) {
        values = Float32Array.from(drops, (d) => d[ti]);
      } else {
        const sum = new Float64Array(n);
        const count = new Float64Array(n);
        positions.forEach((p, i) => {
          for (let yy = p.y; yy < p.y + window; yy++)
            for (let xx = p.x; xx < p.x + window; xx++) {
              sum[yy * S + xx] += drops[i][ti];
              count[yy * S + xx] += 1;
            }
        });
        values = Float32Array.from(sum, (v, i) => (count[i] ? v / count[i] : 0));
      }
      const side = cells ? S / window : S;
      return makeMap(input, {
        method: 'occlusion',
        target: t.spec,
        params: { ...params },
        grid: { rows: side, cols: side },
        values,
        signed: true,
        score: base[ti],
      });
    });
  },
};
