/** Parity with scikit-learn RidgeCV probes of the human ratings (KFold and GroupKFold by prompt). */
import { beforeAll, expect, it } from 'vitest';
import { numberColumn } from '../../src/probe/embeddings.ts';
import { runRatingsProbe } from '../../src/probe/probes.ts';
import { describeShared } from '../helpers/shared-data.ts';
import { loadReference, logParity, NEEDS, type Reference } from './reference-data.ts';

describeShared('probe ratings parity (RidgeCV)', NEEDS, () => {
  let R: Reference;
  beforeAll(async () => {
    R = await loadReference();
  });

  for (const [foldKey, refKey] of [
    ['ridge_kfold_fold_of_ai_row', 'kfold_shuffle_rs0 (PRIMARY)'],
    ['ridge_groupkfold_by_prompt_fold_of_ai_row', 'groupkfold_by_prompt'],
  ]) {
    it(`ridge probes with ${refKey}`, () => {
      const ref = R.ref['5b_ridge_probe_human_ratings'];
      const names = ['defects', 'authenticity', 'adherence'];
      const r = runRatingsProbe(R.ai.X, Object.fromEntries(names.map((n) => [n, numberColumn(R.ai, n)])), {
        foldOfRow: R.splits[foldKey],
        alphas: ref.alphas,
      });
      expect(r.n).toBe(953);
      for (const n of names) {
        const e = ref[n][refKey];
        const m = r.ridge[n];
        logParity(`ridge ${n} ${refKey.split(' ')[0]} spearman`, m.spearman_rho, e.spearman_rho);
        logParity(`ridge ${n} ${refKey.split(' ')[0]} R2`, m.r2, e.r2);
        expect(Math.abs(m.spearman_rho - e.spearman_rho)).toBeLessThanOrEqual(0.02);
        expect(Math.abs(m.r2 - e.r2)).toBeLessThanOrEqual(0.02);
        expect(Math.abs(m.pearson_r - e.pearson_r)).toBeLessThanOrEqual(0.02);
        for (const [f, a] of m.alpha_per_fold.entries()) expect(a).toBeCloseTo(e.chosen_alpha_per_fold[f], 6);
      }
    });
  }
});
