/**
 * Attention rollout (Abnar & Zuidema, 2020): per layer fuse heads (mean, max or min), optionally discard the
 * lowest `discardRatio` of each fused matrix's entries (the CLS→CLS entry is never discarded), take
 * A' = ½A + ½I with rows renormalised, multiply A'_{L−1} ⋯ A'_0 and read the CLS row over the patch tokens.
 * Prompt-blind: the map is the same for every target (only the reported score differs).
 *
 * @example
 * const [m] = await rollout.attributeMany(input, [t], rollout.resolveParams({ headFusion: 'mean' }));
 */
import { scoreEmbeddings } from '../engine/engine.ts';
import { validateMethodParams } from './method-params.ts';
import type { AttributionMethod } from './types.ts';
import { clsRow, makeMap, rowTimesMatrix } from './utils.ts';

export const HEAD_FUSIONS = ['mean', 'max', 'min'] as const;

export interface RolloutParams {
  headFusion: (typeof HEAD_FUSIONS)[number];
  discardRatio: number;
}

/** Rollout CLS-row map [G*G] from per-layer attention probabilities (each [H, T, T], flat). */
export function rolloutFromAttentions(
  attn: Float32Array[],
  H: number,
  T: number,
  params: RolloutParams,
): Float32Array {
  const fused = attn.map((a) => {
    const m = new Float64Array(T * T);
    for (let i = 0; i < T * T; i++) {
      let v = params.headFusion === 'mean' ? 0 : a[i];
      for (let h = 0; h < H; h++) {
        const x = a[h * T * T + i];
        if (params.headFusion === 'mean') v += x / H;
        else if (params.headFusion === 'max') v = Math.max(v, x);
        else v = Math.min(v, x);
      }
      m[i] = v;
    }
    if (params.discardRatio > 0) {
      const order = Array.from({ length: T * T - 1 }, (_, i) => i + 1).sort((p, q) => m[p] - m[q]);
      const drop = Math.floor(order.length * params.discardRatio);
      for (let i = 0; i < drop; i++) m[order[i]] = 0;
    }
    for (let r = 0; r < T; r++) {
      let sum = 0;
      for (let c = 0; c < T; c++) {
        const v = 0.5 * m[r * T + c] + (r === c ? 0.5 : 0);
        m[r * T + c] = v;
        sum += v;
      }
      for (let c = 0; c < T; c++) m[r * T + c] /= sum;
    }
    return m;
  });
  // CLS row of A'_{L-1} ⋯ A'_0: propagate e₀ᵀ from the last layer down
  let r: Float64Array = new Float64Array(T);
  r[0] = 1;
  for (let l = fused.length - 1; l >= 0; l--) r = rowTimesMatrix(r, fused[l], T);
  return clsRow(r, T);
}

export const rollout: AttributionMethod<RolloutParams> = {
  id: 'rollout',
  title: 'Attention rollout (Abnar & Zuidema, 2020)',
  signed: false,
  resolveParams: (p) => validateMethodParams('rollout', p),
  async attributeMany(input, targets, params) {
    const { heads: H, grid: G } = input.model.config.vision;
    const T = input.model.visionTokens;
    const { embeds, attentions } = await input.model.imageAttentions(input.pixels, 1);
    const values = rolloutFromAttentions(attentions, H, T, params);
    const [scores] = scoreEmbeddings(
      embeds,
      1,
      targets.map((t) => t.head),
      input.model.logitScale,
    );
    return targets.map((t, i) =>
      makeMap(input, {
        method: 'rollout',
        target: t.spec,
        params: { ...params },
        grid: { rows: G, cols: G },
        values: Float32Array.from(values),
        signed: false,
        score: scores[i],
      }),
    );
  },
};
