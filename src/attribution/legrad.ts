/**
 * LeGrad (Bousselham et al., 2024), following the official `LeWrapper.compute_legrad_clip` (WalBouss/LeGrad @
 * a9edb03): for each of the last vision blocks l ≥ startLayer (default −2: the last two, the official
 * `layer_index=-2`), the block's own readout f_l = ln_post(mean over all tokens of block l's output) · proj is
 * scored against the target, s_l, and
 *   term_l = mean over heads and over all T query rows of relu(∂s_l/∂A_l), read at the patch columns;
 * the map is Σ_l term_l on the patch grid (a sum, as the official code), min-max normalised by default.
 * The official output upsamples each term bilinearly to the input and min-maxes there; min-max before or after a
 * (linear) bilinear upsampling differs only by the range the upsampled map reaches, and ranks, peaks and
 * AUROC are the same.
 *
 * Targets (the method's cosine convention; see `cosineFactor`): a prompt is its cosine ⟨t̂, f̂_l⟩ (no logit scale,
 * as the official code), a contrast the difference of the two cosines, an ensemble the cosine with the averaged
 * prompt direction; a label within a label set is its probability softmax(logitScale · cos(f_l, t̂_k))_label,
 * with f_l in place of the CLS embedding. Targets are batched; both engines compute ∂s_l/∂A_l through block l only.
 *
 * @example
 * const maps = await legrad.attributeMany(input, targets, legrad.resolveParams({})); // 2 last blocks, min-max
 */
import { validateMethodParams } from './method-params.ts';
import type { AttributionMethod } from './types.ts';
import { cosineFactor, inBatches, type MapNormalisation, makeMap, minMaxNormalise } from './utils.ts';

export interface LegradParams {
  /** First block used; negative counts from the end (−2 = the last two blocks, the official default). */
  startLayer: number;
  /** `minmax` (the official output, on the patch grid) or `none` (the raw sum of the layer terms). */
  normalize: MapNormalisation;
  batch: number;
}

/**
 * One layer's LeGrad term [G*G] of one row: relu(g) averaged over heads and all query rows, at the patch columns.
 * g: [.., H, T, T] at offset o; `factor` rescales g first (e.g. 1 / logitScale for the cosine convention).
 */
export function legradTerm(g: Float32Array, H: number, T: number, o = 0, factor = 1): Float64Array {
  const col = new Float64Array(T);
  for (let h = 0; h < H; h++)
    for (let i = 0; i < T; i++) {
      const base = o + (h * T + i) * T;
      for (let j = 1; j < T; j++) {
        const v = g[base + j];
        if (v > 0) col[j] += v;
      }
    }
  const scale = factor / (H * T);
  return Float64Array.from(col.subarray(1), (v) => v * scale);
}

export const legrad: AttributionMethod<LegradParams> = {
  id: 'legrad',
  title: 'LeGrad (Bousselham et al., 2024), sum over the last blocks',
  signed: false,
  resolveParams: (p) => validateMethodParams('legrad', p),
  async attributeMany(input, targets, params) {
    const { heads: H, grid: G, layers: L } = input.model.config.vision;
    const T = input.model.visionTokens;
    const start = params.startLayer < 0 ? L + params.startLayer : params.startLayer;
    if (start < 0 || start >= L)
      throw new Error(`legrad: startLayer ${params.startLayer} is outside 0..${L - 1}`);
    // one painting for every target: its forward pass is shared by the rows of a pass
    const shape = { sharedImage: true, outputsPerRow: (L - start) * H * T * T };
    return inBatches(targets, input.model.batchFor(params.batch, shape), async (chunk) => {
      const heads = chunk.map((t) => t.head);
      const { grads, layerScores, scores } = await input.model.legradGradients(
        input.pixels,
        chunk.length,
        heads,
        start,
      );
      return chunk.map((t, b) => {
        const factor = cosineFactor(t.head, input.model.logitScale);
        const raw = new Float64Array(G * G);
        for (let l = start; l < L; l++) {
          const term = legradTerm(grads[l], H, T, b * H * T * T, factor);
          for (let j = 0; j < raw.length; j++) raw[j] += term[j];
        }
        const readout: number[] = [];
        for (let l = start; l < L; l++) readout.push(layerScores[l][b] * factor);
        return makeMap(input, {
          method: 'legrad',
          target: t.spec,
          params: { ...params },
          grid: { rows: G, cols: G },
          values: params.normalize === 'minmax' ? minMaxNormalise(raw) : Float32Array.from(raw),
          signed: false,
          score: scores[b],
          extras: { readoutScores: readout },
        });
      });
    });
  },
};
