/**
 * Parity with scikit-learn for human-vs-AI separability: the authors' protocol (section 1, float32 PCA),
 * 5-fold grouped CV (section 2), the AI-ness score vs human ratings (section 5a) and the 2-D PCA (section 6).
 */
import { beforeAll, expect, it } from 'vitest';
import { labelColumn, numberColumn } from '../../src/probe/embeddings.ts';
import { runMap, runSeparability, type SeparabilityResult } from '../../src/probe/probes.ts';
import { spearman } from '../../src/probe/stats.ts';
import { describeShared } from '../helpers/shared-data.ts';
import { loadReference, logParity, NEEDS, type Reference } from './reference-data.ts';

describeShared('probe separability parity (sklearn reference)', NEEDS, () => {
  let R: Reference;
  let cv: SeparabilityResult;
  beforeAll(async () => {
    R = await loadReference();
  });

  it("authors' protocol: PCA(k) + LR_HVA on the given split, k = 2, 10, 50, 768 (float32)", () => {
    const ref = R.ref['1_authors_protocol'].results_svd_full_float32_REFERENCE;
    const split = R.splits.authors_protocol;
    const r = runSeparability(R.ngd.X, R.ai.X, {
      pca: [2, 10, 50, 0],
      float32: true,
      split: { train: split.train_rows, test: split.test_rows },
    });
    expect(r.n_train).toBe(R.ref['1_authors_protocol'].split.n_train);
    expect(r.n_test).toBe(R.ref['1_authors_protocol'].split.n_test);
    expect(r.results.map((x) => x.k)).toEqual([2, 10, 50, 768]);
    for (const x of r.results) {
      const e = ref[String(x.k)];
      logParity(`authors k=${x.k} accuracy`, x.accuracy, e.accuracy);
      expect(Math.abs(x.accuracy - e.accuracy)).toBeLessThanOrEqual(0.005);
      for (const [mine, theirs] of [
        [x.precision_weighted, e.precision_weighted],
        [x.recall_weighted, e.recall_weighted],
        [x.f1_weighted, e.f1_weighted],
      ]) {
        expect(Math.abs(mine - theirs)).toBeLessThanOrEqual(0.005);
      }
      if (e.pca_explained_variance_ratio_sum !== undefined) {
        expect(x.explained_variance_ratio_sum).toBeCloseTo(e.pca_explained_variance_ratio_sum, 5);
      }
    }
  });

  it('5-fold grouped CV: fold-mean accuracy for k = 2, 10, 50, 768', () => {
    const ref = R.ref['2_cv_human_vs_ai'];
    const per = [...new Array<string>(R.ngd.X.rows).fill('NGA'), ...labelColumn(R.ai, 'generative_model')];
    cv = runSeparability(R.ngd.X, R.ai.X, {
      pca: [2, 10, 50, 0],
      foldOfRow: R.splits.cv_human_vs_ai_fold_of_row,
      per,
    });
    expect(cv.mode).toBe('cv');
    for (const x of cv.results) {
      const e = ref[x.pca ? `k=${x.k}` : 'no_pca_768'];
      logParity(`CV k=${x.k} mean accuracy`, x.folds?.mean ?? Number.NaN, e.mean);
      expect(Math.abs((x.folds?.mean ?? Number.NaN) - e.mean)).toBeLessThanOrEqual(0.005);
      expect(Math.abs((x.folds?.sd ?? Number.NaN) - e.sd_ddof1)).toBeLessThanOrEqual(0.005);
      expect(Math.abs(x.accuracy - e.pooled_oof_accuracy)).toBeLessThanOrEqual(0.005);
    }
    const k50 = cv.results[2];
    expect(Math.abs(k50.human_recall - ref.nga_oof_specificity_k50)).toBeLessThanOrEqual(0.005);
    // per-generator out-of-fold recall (accuracy on AI rows of each generator)
    for (const [gen, recall] of Object.entries(ref.per_generator_oof_recall_k50)) {
      expect(
        Math.abs((k50.per_group?.[gen].accuracy ?? Number.NaN) - (recall as number)),
      ).toBeLessThanOrEqual(0.005);
    }
    expect(
      Math.abs((k50.per_group?.NGA.accuracy ?? Number.NaN) - ref.nga_oof_specificity_k50),
    ).toBeLessThanOrEqual(0.005);
  });

  it('AI-ness score (out-of-fold decision function) vs authenticity, defects, adherence', () => {
    const ref = R.ref['5a_ai_score_vs_authenticity'];
    const nH = R.ngd.X.rows;
    // scores of the AI rows in parquet order
    const scoreOf = (t: number): Float64Array => {
      const s = new Float64Array(R.ai.X.rows);
      cv.rows.forEach((row, j) => {
        if (row >= nH) s[row - nH] = cv.results[t].score[j];
      });
      return s;
    };
    const checks: [number, string, { rho: number; p: number }][] = [
      [2, 'authenticity', ref.spearman_vs_authenticity],
      [2, 'defects', ref.spearman_vs_defects],
      [2, 'adherence', ref.spearman_vs_adherence],
      [0, 'authenticity', ref['k=2_spearman_vs_authenticity']],
      [1, 'authenticity', ref['k=10_spearman_vs_authenticity']],
    ];
    for (const [t, col, e] of checks) {
      const s = spearman(scoreOf(t), numberColumn(R.ai, col));
      logParity(`score k=${cv.results[t].k} vs ${col} rho`, s.rho, e.rho);
      expect(Math.abs(s.rho - e.rho)).toBeLessThanOrEqual(0.02);
      expect(Math.log10(s.p)).toBeCloseTo(Math.log10(e.p), 0); // p within a factor of ~3
    }
  });

  it('2-D PCA of all 1906 rows agrees up to sign', () => {
    const ref = R.ref['6_pca2d_all_1906'];
    const m = runMap([
      { name: 'ngd', X: R.ngd.X },
      { name: 'ai', X: R.ai.X },
    ]);
    expect(m.coords.rows).toBe(1906);
    for (let c = 0; c < 2; c++) {
      logParity(
        `PCA-2D explained variance ratio PC${c + 1}`,
        m.explained_variance_ratio?.[c] ?? Number.NaN,
        ref.explained_variance_ratio[c],
      );
      expect(m.explained_variance_ratio?.[c]).toBeCloseTo(ref.explained_variance_ratio[c], 6);
      // our axes are flipped so the AI centroid is positive, as in the reference
      expect(m.centroids.ai[c]).toBeCloseTo(ref.centroid_ai[c], 6);
      expect(m.centroids.ngd[c]).toBeCloseTo(ref.centroid_ngd[c], 6);
    }
    let aiPos = 0;
    let ngdNeg = 0;
    for (let i = 0; i < 1906; i++) {
      if (m.set[i] === 1 && m.coords.data[2 * i] > 0) aiPos++;
      if (m.set[i] === 0 && m.coords.data[2 * i] <= 0) ngdNeg++;
    }
    expect(aiPos / 953).toBeCloseTo(ref.share_ai_with_pc1_gt_0, 5);
    expect(ngdNeg / 953).toBeCloseTo(ref.share_ngd_with_pc1_le_0, 5);
  });
});
