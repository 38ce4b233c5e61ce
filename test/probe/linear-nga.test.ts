/** Parity with scikit-learn for the three NGA linear probes (style, period, school) on the given folds. */
import { beforeAll, expect, it } from 'vitest';
import { labelColumn } from '../../src/probe/embeddings.ts';
import { runLinearProbe } from '../../src/probe/probes.ts';
import { describeShared } from '../helpers/shared-data.ts';
import { loadReference, logParity, NEEDS, type Reference } from './reference-data.ts';

describeShared('probe linear parity: NGA', NEEDS, () => {
  let R: Reference;
  beforeAll(async () => {
    R = await loadReference();
  });

  for (const col of ['style', 'period', 'school']) {
    it(`NGA ${col}: pooled out-of-fold accuracy and macro-F1`, () => {
      const e = R.ref['4_linear_probes'][`nga_${col}`];
      const r = runLinearProbe(
        { X: R.ngd.X, labels: labelColumn(R.ngd, col) },
        { foldOfRow: R.splits[`probe_nga_${col}_fold_of_row`] },
      );
      logParity(`NGA ${col} accuracy`, r.accuracy, e.accuracy_pooled_oof);
      logParity(`NGA ${col} macro-F1`, r.macro_f1, e.macro_f1_pooled_oof);
      expect(Math.abs(r.accuracy - e.accuracy_pooled_oof)).toBeLessThanOrEqual(0.005);
      expect(Math.abs(r.macro_f1 - e.macro_f1_pooled_oof)).toBeLessThanOrEqual(0.005);
      expect(r.n_train).toBe(e.n_rows_kept);
      expect(r.classes).toEqual(e.classes_kept);
      expect(r.majority_class).toBe(e.majority_class);
      expect(r.majority_baseline).toBeCloseTo(e.majority_baseline_accuracy, 8);
      for (const [f, a] of (r.folds?.accuracy ?? []).entries()) {
        expect(Math.abs(a - e.accuracy_folds.per_fold[f])).toBeLessThanOrEqual(0.011);
      }
    });
  }
});
