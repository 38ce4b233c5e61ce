/**
 * The embedding probes: linear probes of a label (k-fold, grouped, given folds or train/test),
 * human-vs-AI separability (PCA(k) + balanced logistic regression without intercept), ridge probes of
 * human ratings, and 2-D maps (exact PCA or UMAP). All inputs are plain matrices and arrays; see
 * `embeddings.ts` for loading them.
 *
 * @example
 * const r = runLinearProbe({ X, labels: styles }, { cv: 5 });
 * r.accuracy; r.macro_f1;
 */
import { UMAP } from 'umap-js';
import { fitPca, type Mat, roundToFloat32, takeRows, transformPca, vstack } from './linalg.ts';
import { decisionFunction, fitLogistic, predictLogistic } from './logistic.ts';
import { fitRidgeCv, logspace, predictRidge, ridgeBasis } from './ridge.ts';
import {
  type Fold,
  foldsFromAssignment,
  groupKFold,
  seededRandom,
  shuffleSplit,
  stratifiedKFold,
} from './splits.ts';
import { accuracy, classificationReport, meanSd, pearson, r2Score, spearman } from './stats.ts';

// ---------------------------------------------------------------------------------------------
// Linear probe

export interface ProbeData {
  X: Mat;
  /** Label per row; null/'' rows are dropped. */
  labels: readonly (string | null)[];
  /** Group per row for grouped folds (e.g. prompt). */
  groups?: readonly (string | null)[];
  /** Column for per-group accuracy of the evaluated rows (e.g. generator). */
  per?: readonly (string | null)[];
}

export interface LinearProbeOptions {
  /** Classes with fewer rows than this (in the training data, and in the test data) are dropped. Default 10. */
  minClassSize?: number;
  /** Number of folds when no test set is given (default 5). */
  cv?: number;
  seed?: number;
  /** Given fold id per row (−1 = drop the row), e.g. exported from sklearn. Overrides `cv`/groups. */
  foldOfRow?: ArrayLike<number>;
  /** Held-out test set: train on all of the main data, evaluate on this. */
  test?: ProbeData;
  /** Renames training labels (cross-domain probes). */
  labelMap?: Record<string, string>;
  /** With `labelMap`: drop training rows whose label is not mapped (default) or keep them as they are. */
  unmapped?: 'drop' | 'keep';
  /** Train/test: also require each class to have `minClassSize` test rows (default true). */
  requireTestClasses?: boolean;
  /** Inverse L2 strength of the multinomial logistic regression (default 1). */
  C?: number;
}

export interface LinearProbeResult {
  mode: 'cv' | 'train-test';
  /** Accuracy of the pooled out-of-fold (or test) predictions. */
  accuracy: number;
  /** Macro-F1 over the classes that occur among the evaluated true labels. */
  macro_f1: number;
  /** Rows the classifier was trained on (CV: all kept rows, each used in k−1 folds). */
  n_train: number;
  /** Rows with a prediction (CV: pooled out-of-fold rows). */
  n_test: number;
  n_classes: number;
  /** Kept classes with their training row counts. */
  classes: Record<string, number>;
  majority_class: string;
  /** Accuracy of always predicting the largest training class. */
  majority_baseline: number;
  per_class_recall: Record<string, number>;
  /** Confusion matrix over `labels` (true × predicted). */
  confusion: { labels: string[]; matrix: number[][] };
  folds?: { accuracy: number[]; macro_f1: number[]; accuracy_mean: number; accuracy_sd: number };
  /** Accuracy per value of the `per` column. */
  per_group?: Record<string, { n: number; accuracy: number }>;
  /** Evaluated row indices (into the evaluated data) and their true / predicted labels. */
  rows: number[];
  y_true: string[];
  y_pred: string[];
}

const countBy = (v: readonly string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const x of v) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};

function checkRows(d: ProbeData, what: string): void {
  if (d.labels.length !== d.X.rows) {
    throw new Error(`mismatched lengths: ${what} has ${d.X.rows} embeddings but ${d.labels.length} labels`);
  }
  for (const [name, col] of [
    ['groups', d.groups],
    ['per', d.per],
  ] as const) {
    if (col && col.length !== d.X.rows) {
      throw new Error(
        `mismatched lengths: ${what} has ${d.X.rows} embeddings but ${col.length} ${name} values`,
      );
    }
  }
}

const present = (l: string | null | undefined): l is string => l !== null && l !== undefined && l !== '';

/**
 * Multinomial logistic-regression probe of a label (sklearn `LogisticRegression(C=1, lbfgs,
 * multinomial)` with intercept on raw embeddings). Rows with a missing label are dropped, then
 * classes with fewer than `minClassSize` rows. Metrics are on pooled out-of-fold predictions.
 *
 * @example
 * runLinearProbe({ X, labels }, { foldOfRow: folds });
 * runLinearProbe({ X: ai, labels: aiStyles }, { test: { X: nga, labels: ngaStyles }, labelMap });
 */
export function runLinearProbe(data: ProbeData, opts: LinearProbeOptions = {}): LinearProbeResult {
  const { minClassSize = 10, cv = 5, seed = 0, C = 1, unmapped = 'drop', requireTestClasses = true } = opts;
  checkRows(data, 'training data');
  const mapLabel = (l: string | null): string | null => {
    if (!present(l) || !opts.labelMap) return present(l) ? l : null;
    return opts.labelMap[l] ?? (unmapped === 'keep' ? l : null);
  };
  const trainLabels = data.labels.map(mapLabel);
  const counts = countBy(trainLabels.filter(present));
  let testCounts: Map<string, number> | undefined;
  if (opts.test) {
    checkRows(opts.test, 'test data');
    testCounts = countBy(opts.test.labels.filter(present));
  }
  const kept = new Set(
    [...counts]
      .filter(
        ([l, c]) =>
          c >= minClassSize &&
          (!testCounts || !requireTestClasses || (testCounts.get(l) ?? 0) >= minClassSize),
      )
      .map(([l]) => l),
  );
  let rows = trainLabels.flatMap((l, i) => (present(l) && kept.has(l) ? [i] : []));
  if (opts.foldOfRow) {
    if (opts.foldOfRow.length !== data.X.rows) {
      throw new Error(`mismatched lengths: ${data.X.rows} rows but ${opts.foldOfRow.length} fold ids`);
    }
    const f = opts.foldOfRow;
    rows = rows.filter((i) => f[i] >= 0);
  }
  if (kept.size < 2) {
    const all = [...counts].map(([l, c]) => `${l} (${c})`).join(', ');
    throw new Error(
      `linear probe needs at least 2 classes with ≥${minClassSize} rows${opts.test && requireTestClasses ? ' on both sides' : ''}; label counts: ${all || 'none'}`,
    );
  }
  const keptLabels = rows.map((i) => trainLabels[i] as string);
  const keptCounts = countBy(keptLabels);
  const classes = Object.fromEntries([...keptCounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const majority = [...keptCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];

  let evalRows: number[];
  let yTrue: string[];
  let yPred: string[];
  let per: readonly (string | null)[] | undefined;
  let folds: LinearProbeResult['folds'];
  if (opts.test) {
    const test = opts.test;
    const model = fitLogistic(takeRows(data.X, rows), keptLabels, { C, multiClass: 'multinomial' });
    evalRows = test.labels.flatMap((l, i) => (present(l) && kept.has(l) ? [i] : []));
    if (evalRows.length === 0) throw new Error('test data has no rows with a kept class');
    yTrue = evalRows.map((i) => test.labels[i] as string);
    yPred = predictLogistic(model, takeRows(test.X, evalRows));
    per = test.per;
  } else {
    // fold id per kept row
    let foldOfKept: ArrayLike<number>;
    if (opts.foldOfRow) {
      const f = opts.foldOfRow;
      foldOfKept = rows.map((i) => f[i]);
    } else if (data.groups) {
      const g = data.groups;
      foldOfKept = groupKFold(
        rows.map((i) => (present(g[i]) ? (g[i] as string) : `row:${i}`)),
        cv,
        seed,
      );
    } else foldOfKept = stratifiedKFold(keptLabels, cv, seed);
    const fs: Fold[] = foldsFromAssignment(foldOfKept);
    const pred = new Array<string>(rows.length);
    const accs: number[] = [];
    const f1s: number[] = [];
    for (const f of fs) {
      const trainLabels = f.train.map((j) => keptLabels[j]);
      const model = fitLogistic(
        takeRows(
          data.X,
          f.train.map((j) => rows[j]),
        ),
        trainLabels,
        { C, multiClass: 'multinomial' },
      );
      const p = predictLogistic(
        model,
        takeRows(
          data.X,
          f.test.map((j) => rows[j]),
        ),
      );
      f.test.forEach((j, t) => {
        pred[j] = p[t];
      });
      const truth = f.test.map((j) => keptLabels[j]);
      accs.push(accuracy(truth, p));
      f1s.push(classificationReport(truth, p).macroF1);
    }
    evalRows = rows;
    yTrue = keptLabels;
    yPred = pred;
    per = data.per;
    const ms = meanSd(accs);
    folds = { accuracy: accs, macro_f1: f1s, accuracy_mean: ms.mean, accuracy_sd: ms.sd };
  }
  // macro-F1 over the evaluated classes (a predicted class that never occurs in y_true, possible in
  // train/test mode with extra training classes, does not count; in CV this equals sklearn's default)
  const rep = classificationReport(
    yTrue,
    yPred,
    [...new Set(yTrue)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  const result: LinearProbeResult = {
    mode: opts.test ? 'train-test' : 'cv',
    accuracy: rep.accuracy,
    macro_f1: rep.macroF1,
    n_train: rows.length,
    n_test: evalRows.length,
    n_classes: kept.size,
    classes,
    majority_class: majority,
    majority_baseline: yTrue.filter((l) => l === majority).length / yTrue.length,
    per_class_recall: Object.fromEntries(
      rep.labels.flatMap((l, k) => (rep.support[k] > 0 ? [[l, rep.recall[k]]] : [])),
    ),
    confusion: { labels: rep.labels, matrix: rep.confusion },
    folds,
    rows: evalRows,
    y_true: yTrue,
    y_pred: yPred,
  };
  if (per)
    result.per_group = perGroupAccuracy(
      evalRows.map((i) => per[i] ?? '(missing)'),
      yTrue,
      yPred,
    );
  return result;
}

function perGroupAccuracy(
  group: readonly string[],
  yTrue: readonly string[],
  yPred: readonly string[],
): Record<string, { n: number; accuracy: number }> {
  const out: Record<string, { n: number; accuracy: number }> = {};
  for (const g of [...new Set(group)].sort()) {
    const idx = group.flatMap((x, i) => (x === g ? [i] : []));
    out[g] = { n: idx.length, accuracy: idx.filter((i) => yTrue[i] === yPred[i]).length / idx.length };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Human vs AI separability

export interface SeparabilityOptions {
  /** PCA sizes; a k of 0 or ≥ d means no PCA (raw embeddings). Default [2, 10, 50, 0]. */
  pca?: number[];
  /** Cast the embeddings to float32 first (the authors' notebook does). */
  float32?: boolean;
  /** k-fold CV with this many folds (grouped when groups are given). */
  cv?: number;
  /** Given fold id per row of [human; ai] (−1 = drop). */
  foldOfRow?: ArrayLike<number>;
  /** Given split: row indices into [human; ai]. */
  split?: { train: number[]; test: number[] };
  /** Held-out test sets. */
  test?: { human: Mat; ai: Mat };
  /** Group per row (human, ai): grouped folds / grouped split of the AI rows. */
  humanGroups?: readonly (string | null)[];
  aiGroups?: readonly (string | null)[];
  /** Test share of the default split (0.2) and its seed. */
  testSize?: number;
  seed?: number;
  /** Per-group accuracy column for the evaluated rows of [human; ai] (e.g. generator). */
  per?: readonly (string | null)[];
}

export interface SeparabilityK {
  /** PCA size, or the embedding width when no PCA was used. */
  k: number;
  pca: boolean;
  accuracy: number;
  macro_f1: number;
  precision_weighted: number;
  recall_weighted: number;
  f1_weighted: number;
  n_correct: number;
  /** Recall of AI rows (sensitivity) and of human rows (specificity). */
  ai_recall: number;
  human_recall: number;
  folds?: { accuracy: number[]; mean: number; sd: number; sd0: number };
  explained_variance_ratio_sum?: number;
  per_group?: Record<string, { n: number; accuracy: number }>;
  /** Decision score (positive = AI) per evaluated row, aligned with `rows`. */
  score: Float64Array;
}

export interface SeparabilityResult {
  mode: 'split' | 'cv' | 'train-test';
  n_train: number;
  n_test: number;
  n_human: number;
  n_ai: number;
  /** Evaluated rows of [human; ai] (test-set mode: of [testHuman; testAi]). */
  rows: number[];
  results: SeparabilityK[];
}

/**
 * Human-vs-AI separability: PCA(k) fit on the training rows, then `LogisticRegression(C=1,
 * fit_intercept=False, class_weight='balanced')` (labels human = 0, AI = 1). Modes: given split,
 * held-out test sets, k-fold CV (given folds, or grouped/stratified folds), or by default the
 * authors' protocol (80/20 split, AI rows split by group).
 *
 * @example
 * const r = runSeparability(human, ai, { pca: [2, 10, 50], cv: 5, aiGroups: prompts });
 * r.results[0].folds?.mean;
 */
export function runSeparability(human: Mat, ai: Mat, opts: SeparabilityOptions = {}): SeparabilityResult {
  const { pca = [2, 10, 50, 0], float32 = false, testSize = 0.2, seed = 42 } = opts;
  if (human.cols !== ai.cols)
    throw new Error(`human embeddings are ${human.cols}-d but AI embeddings are ${ai.cols}-d`);
  for (const [name, col, n] of [
    ['human groups', opts.humanGroups, human.rows],
    ['AI groups', opts.aiGroups, ai.rows],
  ] as const) {
    if (col && col.length !== n) throw new Error(`mismatched lengths: ${n} rows but ${col.length} ${name}`);
  }
  let X = vstack([human, ai]);
  if (float32) X = roundToFloat32(X);
  const n = X.rows;
  const d = X.cols;
  const y = Array.from({ length: n }, (_, i) => (i < human.rows ? '0' : '1'));
  const groups = [
    ...Array.from({ length: human.rows }, (_, i) => `human:${opts.humanGroups?.[i] ?? `row${i}`}`),
    ...Array.from({ length: ai.rows }, (_, i) => `ai:${opts.aiGroups?.[i] ?? `row${i}`}`),
  ];
  let mode: SeparabilityResult['mode'];
  let folds: Fold[];
  let evalX = X;
  let evalY = y;
  if (opts.test) {
    mode = 'train-test';
    const nTestHuman = opts.test.human.rows;
    evalX = vstack([opts.test.human, opts.test.ai]);
    if (evalX.cols !== d) throw new Error(`test embeddings are ${evalX.cols}-d, training embeddings ${d}-d`);
    if (float32) evalX = roundToFloat32(evalX);
    evalY = Array.from({ length: evalX.rows }, (_, i) => (i < nTestHuman ? '0' : '1'));
    folds = [
      {
        train: Array.from({ length: n }, (_, i) => i),
        test: Array.from({ length: evalX.rows }, (_, i) => i),
      },
    ];
  } else if (opts.split) {
    mode = 'split';
    for (const i of [...opts.split.train, ...opts.split.test]) {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`split row ${i} is outside 0..${n - 1}`);
    }
    folds = [{ train: opts.split.train, test: opts.split.test }];
  } else if (opts.foldOfRow || opts.cv) {
    mode = 'cv';
    if (opts.foldOfRow && opts.foldOfRow.length !== n) {
      throw new Error(`mismatched lengths: ${n} rows of [human; ai] but ${opts.foldOfRow.length} fold ids`);
    }
    const fold =
      opts.foldOfRow ??
      (opts.humanGroups || opts.aiGroups
        ? groupKFold(groups, opts.cv as number, seed)
        : stratifiedKFold(y, opts.cv as number, seed));
    folds = foldsFromAssignment(fold);
  } else {
    mode = 'split';
    // authors' protocol: human rows split at random, AI rows split by group (prompt)
    const h = shuffleSplit(human.rows, testSize, seed);
    const a = shuffleSplit(
      ai.rows,
      testSize,
      seed,
      opts.aiGroups?.map((g, i) => g ?? `row${i}`),
    );
    folds = [
      {
        train: [...h.train, ...a.train.map((i) => i + human.rows)],
        test: [...h.test, ...a.test.map((i) => i + human.rows)],
      },
    ];
  }
  const rows = folds.flatMap((f) => f.test);
  const ks = pca.map((k) => (k <= 0 || k >= d ? 0 : k));
  const pred: string[][] = ks.map(() => new Array<string>(rows.length));
  const score: Float64Array[] = ks.map(() => new Float64Array(rows.length));
  const foldAcc: number[][] = ks.map(() => []);
  const evr: number[] = ks.map(() => 0);
  let offset = 0;
  for (const f of folds) {
    const Xtr = takeRows(X, f.train);
    const Xte = takeRows(evalX, f.test);
    const ytr = f.train.map((i) => y[i]);
    const yte = f.test.map((i) => evalY[i]);
    const needPca = ks.some((k) => k > 0);
    const p = needPca ? fitPca(Xtr) : undefined;
    ks.forEach((k, t) => {
      const [A, B] = k > 0 && p ? [transformPca(p, Xtr, k), transformPca(p, Xte, k)] : [Xtr, Xte];
      const model = fitLogistic(A, ytr, { fitIntercept: false, classWeight: 'balanced' });
      const s = decisionFunction(model, B).data;
      const yp = predictLogistic(model, B);
      for (let j = 0; j < f.test.length; j++) {
        score[t][offset + j] = s[j];
        pred[t][offset + j] = yp[j];
      }
      foldAcc[t].push(accuracy(yte, yp));
      if (k > 0 && p)
        evr[t] += p.explainedVarianceRatio.slice(0, k).reduce((a, b) => a + b, 0) / folds.length;
    });
    offset += f.test.length;
  }
  const yTrue = rows.map((i) => evalY[i]);
  const results = ks.map((k, t): SeparabilityK => {
    const rep = classificationReport(yTrue, pred[t], ['0', '1']);
    const ms = meanSd(foldAcc[t]);
    const out: SeparabilityK = {
      k: k > 0 ? k : d,
      pca: k > 0,
      accuracy: rep.accuracy,
      macro_f1: rep.macroF1,
      precision_weighted: rep.precisionWeighted,
      recall_weighted: rep.recallWeighted,
      f1_weighted: rep.f1Weighted,
      n_correct: Math.round(rep.accuracy * rows.length),
      ai_recall: rep.recall[1],
      human_recall: rep.recall[0],
      score: score[t],
    };
    if (mode === 'cv') out.folds = { accuracy: foldAcc[t], mean: ms.mean, sd: ms.sd, sd0: ms.sd0 };
    if (k > 0) out.explained_variance_ratio_sum = evr[t];
    if (opts.per && mode !== 'train-test') {
      const per = opts.per;
      out.per_group = perGroupAccuracy(
        rows.map((i) => per[i] ?? '(missing)'),
        yTrue,
        pred[t],
      );
    }
    return out;
  });
  return {
    mode,
    n_train: mode === 'cv' ? n : folds[0].train.length,
    n_test: rows.length,
    n_human: human.rows,
    n_ai: ai.rows,
    rows,
    results,
  };
}

// ---------------------------------------------------------------------------------------------
// Ratings probe

export interface RatingsProbeOptions {
  /** Folds (default 5). */
  cv?: number;
  seed?: number;
  /** Given fold id per row (−1 = drop). */
  foldOfRow?: ArrayLike<number>;
  /** Group per row (e.g. prompt) for grouped folds. */
  groups?: readonly (string | null)[];
  alphas?: number[];
  /** A score per row (e.g. out-of-fold AI-ness) to rank-correlate with each rating. */
  score?: ArrayLike<number>;
}

export interface RatingResult {
  spearman_rho: number;
  spearman_p: number;
  pearson_r: number;
  r2: number;
  alpha_per_fold: number[];
  prediction: Float64Array;
}

export interface RatingsProbeResult {
  n: number;
  folds: number;
  ridge: Record<string, RatingResult>;
  /** Spearman of `score` with each rating. */
  score?: Record<string, { rho: number; p: number }>;
}

/**
 * Ridge probes (RidgeCV, alphas logspace(−3, 3, 13), efficient LOO) of human ratings from
 * embeddings, scored on pooled out-of-fold predictions; optionally Spearman of a given score.
 *
 * @example
 * runRatingsProbe(X, { authenticity: a, defects: d }, { groups: prompts });
 */
export function runRatingsProbe(
  X: Mat,
  ratings: Record<string, ArrayLike<number>>,
  opts: RatingsProbeOptions = {},
): RatingsProbeResult {
  const { cv = 5, seed = 0, alphas = logspace(-3, 3, 13) } = opts;
  const names = Object.keys(ratings);
  if (names.length === 0) throw new Error('ratings probe needs at least one rating column');
  for (const nm of names) {
    const r = ratings[nm];
    if (r.length !== X.rows)
      throw new Error(`mismatched lengths: ${X.rows} embeddings but ${r.length} '${nm}' ratings`);
    for (let i = 0; i < r.length; i++)
      if (!Number.isFinite(r[i])) throw new Error(`rating '${nm}' at row ${i} is not a number`);
  }
  if (opts.groups && opts.groups.length !== X.rows)
    throw new Error(`mismatched lengths: ${X.rows} rows but ${opts.groups.length} groups`);
  const fold =
    opts.foldOfRow ??
    (opts.groups
      ? groupKFold(
          opts.groups.map((g, i) => g ?? `row${i}`),
          cv,
          seed,
        )
      : randomKFold(X.rows, cv, seed));
  if (fold.length !== X.rows)
    throw new Error(`mismatched lengths: ${X.rows} rows but ${fold.length} fold ids`);
  const folds = foldsFromAssignment(fold);
  const rows = folds.flatMap((f) => f.test).sort((a, b) => a - b);
  const preds: Record<string, Float64Array> = Object.fromEntries(
    names.map((nm) => [nm, new Float64Array(X.rows).fill(Number.NaN)]),
  );
  const alphaPer: Record<string, number[]> = Object.fromEntries(names.map((nm) => [nm, []]));
  for (const f of folds) {
    const Xtr = takeRows(X, f.train);
    const Xte = takeRows(X, f.test);
    const basis = ridgeBasis(Xtr);
    for (const nm of names) {
      const model = fitRidgeCv(
        Xtr,
        f.train.map((i) => ratings[nm][i]),
        { alphas, basis },
      );
      const p = predictRidge(model, Xte);
      f.test.forEach((i, t) => {
        preds[nm][i] = p[t];
      });
      alphaPer[nm].push(model.alpha);
    }
  }
  const ridge: Record<string, RatingResult> = {};
  for (const nm of names) {
    const yt = rows.map((i) => ratings[nm][i]);
    const yp = rows.map((i) => preds[nm][i]);
    const s = spearman(yt, yp);
    ridge[nm] = {
      spearman_rho: s.rho,
      spearman_p: s.p,
      pearson_r: pearson(yt, yp).r,
      r2: r2Score(yt, yp),
      alpha_per_fold: alphaPer[nm],
      prediction: preds[nm],
    };
  }
  const out: RatingsProbeResult = { n: rows.length, folds: folds.length, ridge };
  if (opts.score) {
    const sc = opts.score;
    if (sc.length !== X.rows) throw new Error(`mismatched lengths: ${X.rows} rows but ${sc.length} scores`);
    out.score = Object.fromEntries(names.map((nm) => [nm, spearman(sc, ratings[nm])]));
  }
  return out;
}

function randomKFold(n: number, k: number, seed: number): Int32Array {
  if (k < 2 || k > n) throw new Error(`cannot make ${k} folds from ${n} rows`);
  const rand = seededRandom(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const fold = new Int32Array(n);
  idx.forEach((r, t) => {
    fold[r] = Math.floor((t * k) / n);
  });
  return fold;
}

// ---------------------------------------------------------------------------------------------
// 2-D maps

export interface MapOptions {
  method?: 'pca' | 'umap';
  seed?: number;
  nNeighbors?: number;
  minDist?: number;
}

export interface MapResult {
  method: 'pca' | 'umap';
  /** n × 2 coordinates, rows in the order of the sets given. */
  coords: Mat;
  /** Set index per row. */
  set: Int32Array;
  names: string[];
  centroids: Record<string, [number, number]>;
  explained_variance_ratio?: [number, number];
}

/**
 * 2-D map of several embedding sets stacked in order: exact PCA (each axis flipped so that the LAST
 * set's centroid is positive, e.g. AI after human) or UMAP (umap-js, seeded).
 *
 * @example
 * const m = runMap([{ name: 'nga', X: h }, { name: 'ai', X: a }], { method: 'pca' });
 */
export function runMap(sets: { name: string; X: Mat }[], opts: MapOptions = {}): MapResult {
  const { method = 'pca', seed = 42, nNeighbors = 15, minDist = 0.1 } = opts;
  if (sets.length === 0) throw new Error('map needs at least one embedding set');
  const X = vstack(sets.map((s) => s.X));
  const set = new Int32Array(X.rows);
  let o = 0;
  sets.forEach((s, k) => {
    set.fill(k, o, o + s.X.rows);
    o += s.X.rows;
  });
  let coords: Mat;
  let evr: [number, number] | undefined;
  if (method === 'pca') {
    const p = fitPca(X);
    coords = transformPca(p, X, 2);
    evr = [p.explainedVarianceRatio[0], p.explainedVarianceRatio[1]];
    const last = sets.length - 1;
    for (let c = 0; c < 2; c++) {
      let m = 0;
      for (let i = 0; i < X.rows; i++) if (set[i] === last) m += coords.data[i * 2 + c];
      if (m < 0) for (let i = 0; i < X.rows; i++) coords.data[i * 2 + c] *= -1;
    }
  } else if (method === 'umap') {
    if (X.rows <= nNeighbors)
      throw new Error(`UMAP needs more than nNeighbors=${nNeighbors} rows, got ${X.rows}`);
    const rows: number[][] = [];
    for (let i = 0; i < X.rows; i++) rows.push(Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols)));
    const umap = new UMAP({ nComponents: 2, nNeighbors, minDist, random: seededRandom(seed) });
    const emb = umap.fit(rows);
    coords = { data: Float64Array.from(emb.flat()), rows: X.rows, cols: 2 };
  } else {
    throw new Error(`unknown map method '${method}' (use pca or umap)`);
  }
  const centroids: Record<string, [number, number]> = {};
  sets.forEach((s, k) => {
    let a = 0;
    let b = 0;
    let c = 0;
    for (let i = 0; i < X.rows; i++) {
      if (set[i] !== k) continue;
      a += coords.data[i * 2];
      b += coords.data[i * 2 + 1];
      c++;
    }
    centroids[s.name] = [a / c, b / c];
  });
  return { method, coords, set, names: sets.map((s) => s.name), centroids, explained_variance_ratio: evr };
}
