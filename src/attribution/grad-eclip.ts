/**
 * Grad-ECLIP (Zhao et al., 2024), following the official notebook `grad_eclip_image.ipynb` (Cyang-Zhao/Grad-Eclip @
 * 5c1b5cc): only the last vision block is used, recomputed as the notebook does with ONE attention head over the
 * full width (`attentionHeads: 'one'`, scale W^-1/2; `'model'` keeps the model's own heads). With the target c of
 * that forward, w = ∂c/∂attn_output[CLS] (attn_output = softmax(q·kᵀ)·v before out_proj), q and k the in_proj
 * outputs with bias and λ_i the min-max over patches of cos(q_CLS, k_i):
 *   map_i = relu(Σ_d w_d · v_{i,d} · λ_i)   for every patch i,
 * min-max normalised on the grid by default (an all-zero map stays 0; when all cos(q_CLS, k_i) are equal, λ = 1).
 *
 * Targets (the method's cosine convention; see `cosineFactor`): a prompt is the cosine c = ⟨ê, t̂⟩ of the
 * recomputed embedding (no logit scale, as the notebook), a contrast the difference of two cosines, an ensemble the
 * cosine with the averaged prompt direction, a label its probability softmax(logitScale · cos)_label within the
 * set. `score` is the target's usual score on the model's own forward; `extras.targetScore` is c.
 *
 * @example
 * const [m] = await gradEclip.attributeMany(input, [target], gradEclip.resolveParams({}));
 */
import { validateMethodParams } from './method-params.ts';
import type { AttributionMethod } from './types.ts';
import { cosineFactor, inBatches, type MapNormalisation, makeMap, minMaxNormalise } from './utils.ts';

/** How many attention heads the last block is recomputed with: one (the notebook) or the model's own. */
export const GRAD_ECLIP_HEADS = ['one', 'model'] as const;

export interface GradEclipParams {
  attentionHeads: (typeof GRAD_ECLIP_HEADS)[number];
  /** `minmax` (the notebook's output, on the patch grid) or `none` (raw). */
  normalize: MapNormalisation;
  batch: number;
}

/**
 * The raw Grad-ECLIP map [T−1] of one row from the last block's ingredients: w [W] and q [W] at the CLS token,
 * k and v [T, W] (each array read from offset 0 of the given views); `factor` rescales w.
 */
export function gradEclipFromInputs(
  w: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  T: number,
  factor = 1,
): Float32Array {
  const W = w.length;
  let qn = 0;
  for (let d = 0; d < W; d++) qn += q[d] * q[d];
  qn = Math.sqrt(qn);
  const cos = new Float64Array(T - 1);
  for (let i = 1; i < T; i++) {
    let dot = 0;
    let kn = 0;
    for (let d = 0; d < W; d++) {
      const kv = k[i * W + d];
      dot += q[d] * kv;
      kn += kv * kv;
    }
    cos[i - 1] = dot / (qn * Math.sqrt(kn) || 1);
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of cos) {
    lo = Math.min(lo, c);
    hi = Math.max(hi, c);
  }
  const out = new Float32Array(T - 1);
  for (let i = 1; i < T; i++) {
    let s = 0;
    for (let d = 0; d < W; d++) s += w[d] * v[i * W + d];
    const lam = hi > lo ? (cos[i - 1] - lo) / (hi - lo) : 1;
    out[i - 1] = Math.max(0, s * factor * lam);
  }
  return out;
}

export const gradEclip: AttributionMethod<GradEclipParams> = {
  id: 'grad-eclip',
  title: 'Grad-ECLIP (Zhao et al., 2024), last block with one head (official notebook)',
  signed: false,
  resolveParams: (p) => validateMethodParams('grad-eclip', p),
  async attributeMany(input, targets, params) {
    const { heads: H, grid: G, width: W } = input.model.config.vision;
    const T = input.model.visionTokens;
    const nh = params.attentionHeads === 'one' ? 1 : H;
    // one painting for every target: its forward pass is shared by the rows of a pass
    const shape = { sharedImage: true, outputsPerRow: W };
    return inBatches(targets, input.model.batchFor(params.batch, shape), async (chunk) => {
      const r = await input.model.gradEclip(
        input.pixels,
        chunk.length,
        chunk.map((t) => t.head),
        nh,
      );
      // q, k, v depend on the painting only: one row when it is shared
      const img = (b: number) => (r.q.length === W ? 0 : b);
      return chunk.map((t, b) => {
        const factor = cosineFactor(t.head, input.model.logitScale);
        const i = img(b);
        const raw = gradEclipFromInputs(
          r.grad.subarray(b * W, (b + 1) * W),
          r.q.subarray(i * W, (i + 1) * W),
          r.k.subarray(i * T * W, (i + 1) * T * W),
          r.v.subarray(i * T * W, (i + 1) * T * W),
          T,
          factor,
        );
        return makeMap(input, {
          method: 'grad-eclip',
          target: t.spec,
          params: { ...params },
          grid: { rows: G, cols: G },
          values: params.normalize === 'minmax' ? minMaxNormalise(raw) : raw,
          signed: false,
          score: r.scores[b],
          extras: { targetScore: r.targetScores[b] * factor },
        });
      });
    });
  },
};
