/**
 * Parity with scikit-learn for the AI-Pastiche linear probes (row-level and prompt-grouped folds) and the
 * cross-domain style probe (train on AI, test on NGA; the 19-style and reverse variants).
 */
import { beforeAll, expect, it } from 'vitest';
import { labelColumn } from '../../src/probe/embeddings.ts';
import { runLinearProbe } from '../../src/probe/probes.ts';
import { describeShared } from '../helpers/shared-data.ts';
import { loadReference, logParity, NEEDS, type Reference, readmeGrouped } from './reference-data.ts';

describeShared('probe linear parity: AI-Pastiche and cross-domain', NEEDS, () => {
  let R: Reference;
  beforeAll(async () => {
    R = await loadReference();
  });

  for (const col of ['style', 'period'] as const) {
    it(`AI ${col}: row-level folds and prompt-grouped folds`, () => {
      const e = R.ref['4_linear_probes'][`ai_${col}`];
      const labels = labelColumn(R.ai, col);
      const r = runLinearProbe({ X: R.ai.X, labels }, { foldOfRow: R.splits[`probe_ai_${col}_fold_of_row`] });
      logParity(`AI ${col} accuracy`, r.accuracy, e.accuracy_pooled_oof);
      logParity(`AI ${col} macro-F1`, r.macro_f1, e.macro_f1_pooled_oof);
      expect(Math.abs(r.accuracy - e.accuracy_pooled_oof)).toBeLessThanOrEqual(0.005);
      expect(Math.abs(r.macro_f1 - e.macro_f1_pooled_oof)).toBeLessThanOrEqual(0.005);
      expect(r.classes).toEqual(e.classes_kept);
      const g = readmeGrouped(R.readme, col === 'style' ? 'AI style' : 'AI period');
      const rg = runLinearProbe(
        { X: R.ai.X, labels },
        { foldOfRow: R.splits[`probe_ai_${col}_prompt_grouped_fold_of_row`] },
      );
      logParity(`AI ${col} prompt-grouped accuracy (README)`, rg.accuracy, g.accuracy);
      logParity(`AI ${col} prompt-grouped macro-F1 (README, 3 d.p.)`, rg.macro_f1, g.macroF1);
      expect(Math.abs(rg.accuracy - g.accuracy)).toBeLessThanOrEqual(0.005);
      expect(Math.abs(rg.macro_f1 - g.macroF1)).toBeLessThanOrEqual(0.005);
    });
  }

  it('cross-domain: train on mapped AI styles, test on NGA; all-19 and reverse variants', () => {
    const e = R.ref['4_linear_probes'].cross_domain_style_train_ai_test_nga;
    const aiStyle = labelColumn(R.ai, 'style');
    const ngdStyle = labelColumn(R.ngd, 'style');
    const r = runLinearProbe(
      { X: R.ai.X, labels: aiStyle },
      { test: { X: R.ngd.X, labels: ngdStyle }, labelMap: e.mapping_ai_to_nga_all_listed },
    );
    logParity('cross-domain accuracy', r.accuracy, e.accuracy);
    logParity('cross-domain macro-F1', r.macro_f1, e.macro_f1);
    expect(Math.abs(r.accuracy - e.accuracy)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(r.macro_f1 - e.macro_f1)).toBeLessThanOrEqual(0.005);
    expect([r.n_train, r.n_test, r.n_classes]).toEqual([e.n_train_ai, e.n_test_nga, e.n_classes]);
    expect(r.majority_class).toBe(e.majority_baseline_train_majority_class);
    for (const [c, v] of Object.entries(e.per_class_recall))
      expect(Math.abs(r.per_class_recall[c] - (v as number))).toBeLessThanOrEqual(0.02);

    const used: Record<string, string> = e['mapping_used_(both_sides_>=10_rows)'];
    const usedNga = new Set(Object.values(used));
    const all19 = runLinearProbe(
      { X: R.ai.X, labels: aiStyle },
      {
        test: { X: R.ngd.X, labels: ngdStyle.map((l) => (l && usedNga.has(l) ? l : null)) },
        labelMap: used,
        unmapped: 'keep',
        requireTestClasses: false,
      },
    );
    const v19 = e.variant_train_all_19_ai_styles;
    logParity('cross-domain all-19 accuracy', all19.accuracy, v19.accuracy);
    logParity('cross-domain all-19 macro-F1', all19.macro_f1, v19.macro_f1);
    expect(Math.abs(all19.accuracy - v19.accuracy)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(all19.macro_f1 - v19.macro_f1)).toBeLessThanOrEqual(0.005);
    const unmappedShare = all19.y_pred.filter((p) => !usedNga.has(p)).length / all19.n_test;
    expect(Math.abs(unmappedShare - v19.share_predicted_unmapped_style)).toBeLessThanOrEqual(0.005);

    const rev = runLinearProbe(
      { X: R.ngd.X, labels: ngdStyle },
      {
        test: { X: R.ai.X, labels: aiStyle.map((l) => (l ? (used[l] ?? null) : null)) },
        labelMap: Object.fromEntries([...usedNga].map((v) => [v, v])),
      },
    );
    const vr = e.variant_reverse_train_nga_test_ai;
    logParity('cross-domain reverse accuracy', rev.accuracy, vr.accuracy);
    logParity('cross-domain reverse macro-F1', rev.macro_f1, vr.macro_f1);
    expect(Math.abs(rev.accuracy - vr.accuracy)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(rev.macro_f1 - vr.macro_f1)).toBeLessThanOrEqual(0.005);
    expect(rev.majority_baseline).toBeCloseTo(vr['majority_baseline_accuracy_(predict_train_majority)'], 8);
  });
});
