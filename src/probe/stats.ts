/**
 * Classification and correlation statistics with scikit-learn / scipy semantics: accuracy, macro-F1,
 * support-weighted precision/recall/F1 (`zero_division=0`), confusion matrix, Spearman (average
 * ranks for ties, two-sided t-test p-value), Pearson, R², mean/sd.
 *
 * @example
 * accuracy(['a', 'b'], ['a', 'a']); // 0.5
 * spearman([1, 2, 3], [3, 2, 1]).rho; // -1
 */

/**
 * Share of equal pairs.
 *
 * @example
 * accuracy(yTrue, yPred);
 */
export function accuracy(yTrue: readonly string[], yPred: readonly string[]): number {
  checkSame(yTrue, yPred);
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return ok / yTrue.length;
}

function checkSame(a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) throw new Error(`metric inputs differ in length: ${a.length} vs ${b.length}`);
  if (a.length === 0) throw new Error('metric inputs are empty');
}

export interface ClassReport {
  /** Labels in sorted order: the union of true and predicted labels (sklearn default). */
  labels: string[];
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
  /** confusion[i][j]: true labels[i] predicted as labels[j]. */
  confusion: number[][];
  accuracy: number;
  macroF1: number;
  precisionWeighted: number;
  recallWeighted: number;
  f1Weighted: number;
}

/**
 * Per-class precision/recall/F1 and their macro and support-weighted averages (zero_division = 0).
 * `labels` restricts/extends the label set like sklearn's `labels=` argument.
 *
 * @example
 * const r = classificationReport(yTrue, yPred);
 * r.macroF1;
 */
export function classificationReport(
  yTrue: readonly string[],
  yPred: readonly string[],
  labels?: readonly string[],
): ClassReport {
  checkSame(yTrue, yPred);
  const labs = labels
    ? [...labels]
    : [...new Set([...yTrue, ...yPred])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const idx = new Map(labs.map((l, i) => [l, i]));
  const K = labs.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = idx.get(yTrue[i]);
    const p = idx.get(yPred[i]);
    if (t !== undefined && p !== undefined) confusion[t][p]++;
  }
  const tp = labs.map((_, k) => confusion[k][k]);
  const predCount = labs.map((l) => yPred.filter((v) => v === l).length);
  const support = labs.map((l) => yTrue.filter((v) => v === l).length);
  const div = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  const precision = tp.map((t, k) => div(t, predCount[k]));
  const recall = tp.map((t, k) => div(t, support[k]));
  const f1 = precision.map((p, k) => div(2 * p * recall[k], p + recall[k]));
  const total = support.reduce((a, b) => a + b, 0);
  const weighted = (v: number[]): number =>
    div(
      v.reduce((a, x, k) => a + x * support[k], 0),
      total,
    );
  return {
    labels: labs,
    precision,
    recall,
    f1,
    support,
    confusion,
    accuracy: accuracy(yTrue, yPred),
    macroF1: f1.reduce((a, b) => a + b, 0) / K,
    precisionWeighted: weighted(precision),
    recallWeighted: weighted(recall),
    f1Weighted: weighted(f1),
  };
}

/**
 * Ranks 1..n, ties get the average of their ranks (scipy `rankdata(method='average')`).
 *
 * @example
 * rankAverage([10, 20, 20]); // [1, 2.5, 2.5]
 */
export function rankAverage(v: ArrayLike<number>): Float64Array {
  const n = v.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && v[order[j + 1]] === v[order[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

/**
 * Pearson correlation with the two-sided p-value (t-test with n − 2 degrees of freedom).
 *
 * @example
 * pearson([1, 2, 3], [2, 4, 7]).r;
 */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): { r: number; p: number } {
  checkSame(a, b);
  const n = a.length;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i]))
      throw new Error(`correlation: non-finite value at row ${i}`);
  }
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  if (saa === 0 || sbb === 0) return { r: Number.NaN, p: Number.NaN };
  const r = Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
  return { r, p: correlationPValue(r, n) };
}

/**
 * Spearman rank correlation (average ranks for ties) with its two-sided p-value.
 *
 * @example
 * spearman(score, ratings).rho;
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): { rho: number; p: number } {
  checkSame(a, b);
  const { r, p } = pearson(rankAverage(a), rankAverage(b));
  return { rho: r, p };
}

/** Two-sided p of a correlation r over n pairs: t = r·√((n−2)/(1−r²)), Student t with n−2 dof. */
function correlationPValue(r: number, n: number): number {
  const df = n - 2;
  if (df <= 0) return Number.NaN;
  if (Math.abs(r) >= 1) return 0;
  const t2 = (r * r * df) / (1 - r * r);
  return regularizedIncompleteBeta(df / (df + t2), df / 2, 0.5);
}

/** log Γ(x) by the Lanczos approximation (g = 7, n = 9). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const xx = x - 1;
  let a = c[0];
  const t = xx + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (xx + i);
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(a);
}

/** I_x(a, b) by Lentz's continued fraction. */
function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x > (a + 1) / (a + b + 2)) return 1 - regularizedIncompleteBeta(1 - x, b, a);
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 0;
  for (let i = 0; i <= 400; i++) {
    const m = Math.floor(i / 2);
    let num: number;
    if (i === 0) num = 1;
    else if (i % 2 === 0) num = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    else num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    const cd = c * d;
    f *= cd;
    if (Math.abs(1 - cd) < 1e-15) break;
  }
  return (Math.exp(lnFront) * (f - 1)) / a;
}

/**
 * Coefficient of determination, sklearn `r2_score(true, pred)`.
 *
 * @example
 * r2Score([1, 2, 3], [1, 2, 4]); // 0.5
 */
export function r2Score(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkSame(yTrue, yPred);
  let m = 0;
  for (let i = 0; i < yTrue.length; i++) m += yTrue[i];
  m /= yTrue.length;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < yTrue.length; i++) {
    ssRes += (yTrue[i] - yPred[i]) ** 2;
    ssTot += (yTrue[i] - m) ** 2;
  }
  return 1 - ssRes / ssTot;
}

/**
 * Mean and standard deviations (ddof 1 and 0).
 *
 * @example
 * meanSd([1, 2, 3]); // { mean: 2, sd: 1, sd0: 0.816… }
 */
export function meanSd(v: readonly number[]): { mean: number; sd: number; sd0: number } {
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const ss = v.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN, sd0: Math.sqrt(ss / n) };
}
