/**
 * Gradient-weighted attention relevance of Chefer et al. (ICCV 2021), following their CLIP notebook's
 * `interpret()`: R = I; for each vision block l ≥ start: cam_l = mean_h clamp(∂s/∂A_l ⊙ A_l, min 0),
 * R = R + cam_l·R; the map is R[0, 1:] on the patch grid. `chefer-last` starts at the last block (the
 * notebook's default), `chefer-all` at block 0 (the paper). Gradients are total derivatives (all layers in the
 * graph), taken through zero tensors added to the attention probabilities. Targets are batched.
 *
 * @example
 * const maps = await cheferAll.attributeMany(input, targets, cheferAll.resolveParams({}));
 */
import { validateMethodParams } from './method-params.ts';
import type { AttributionMethod } from './types.ts';
import { attentionGradients, clsRow, inBatches, makeMap, rowTimesMatrix } from './utils.ts';

export interface CheferParams {
  /** First block included; negative counts from the end (−1 = last block). */
  startLayer: number;
  batch: number;
}

/**
 * CLS-row relevance [G*G] from per-layer probabilities and gradients of one row (each [H, T, T], the gradients at
 * offset o, the probabilities at offset po: 0 when one image is shared by every row).
 * The product R = Π_l (I + cam_l) is read through its CLS row: r ← r + r·cam_l from the last block down.
 */
export function cheferFromGradients(
  probs: Float32Array[],
  grads: Float32Array[],
  H: number,
  T: number,
  start: number,
  o = 0,
  po = o,
): Float32Array {
  const r: Float64Array = new Float64Array(T);
  r[0] = 1;
  for (let l = probs.length - 1; l >= start; l--) {
    const cam = new Float64Array(T * T);
    const a = probs[l];
    const g = grads[l];
    for (let h = 0; h < H; h++) {
      const base = o + h * T * T;
      const pbase = po + h * T * T;
      for (let i = 0; i < T * T; i++) {
        const v = g[base + i] * a[pbase + i];
        if (v > 0) cam[i] += v / H;
      }
    }
    const rc = rowTimesMatrix(r, cam, T);
    for (let j = 0; j < T; j++) r[j] += rc[j];
  }
  return clsRow(r, T);
}

/** A Chefer method; its default start block (−1 or 0) and ranges live in method-params.ts. */
function makeChefer(id: 'chefer-last' | 'chefer-all', title: string): AttributionMethod<CheferParams> {
  return {
    id,
    title,
    signed: false,
    resolveParams: (p) => validateMethodParams(id, p),
    async attributeMany(input, targets, params) {
      const { heads: H, grid: G, layers: L } = input.model.config.vision;
      const T = input.model.visionTokens;
      const start = params.startLayer < 0 ? L + params.startLayer : params.startLayer;
      if (start < 0 || start >= L)
        throw new Error(`${id}: startLayer ${params.startLayer} is outside 0..${L - 1}`);
      // one painting for every target: its forward pass is shared by the rows of a pass
      const shape = { sharedImage: true, outputsPerRow: (L - start) * H * T * T };
      return inBatches(targets, input.model.batchFor(params.batch, shape), async (chunk) => {
        const { probs, grads, scores } = await attentionGradients(input.model, input.pixels, chunk, start);
        const perImage = probs[start].length === H * T * T; // one row of probabilities (shared image)
        return chunk.map((t, b) =>
          makeMap(input, {
            method: id,
            target: t.spec,
            params: { ...params },
            grid: { rows: G, cols: G },
            values: cheferFromGradients(
              probs,
              grads,
              H,
              T,
              start,
              b * H * T * T,
              perImage ? 0 : b * H * T * T,
            ),
            signed: false,
            score: scores[b],
          }),
        );
      });
    },
  };
}

export const cheferLast = makeChefer(
  'chefer-last',
  'Chefer et al. relevance, last block (CLIP notebook default)',
);
export const cheferAll = makeChefer('chefer-all', 'Chefer et al. relevance, all blocks (ICCV 2021)');
