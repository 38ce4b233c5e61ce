/**
 * L2-regularised logistic regression with scikit-learn semantics (lbfgs solver, sklearn ≤ 1.3):
 * minimises C·Σ wᵢ·loglossᵢ + ½‖W‖² (the intercept is not penalised). With two classes and
 * `multiClass: 'auto'` it is sklearn's binary model (one weight vector, positive = second class);
 * otherwise the multinomial (softmax) model with one weight vector per class. The problem is convex,
 * so optimising to a tight tolerance reaches the same optimum as sklearn.
 *
 * @example
 * const model = fitLogistic(X, labels, { fitIntercept: false, classWeight: 'balanced' });
 * const pred = predictLogistic(model, Xtest); // class names
 */
import { minimizeLbfgs } from './lbfgs.ts';
import type { Mat } from './linalg.ts';

export interface LogisticOptions {
  /** Inverse regularisation strength (default 1). */
  C?: number;
  fitIntercept?: boolean;
  /** `'balanced'` gives each sample the weight n / (n_classes · n_its_class). */
  classWeight?: 'balanced' | null;
  /** `'auto'`: binary model for two classes, multinomial otherwise (sklearn default). */
  multiClass?: 'auto' | 'multinomial';
  /** Max |gradient| of the objective divided by C·Σ weights at which to stop (default 1e-8;
   *  sklearn's tol=1e-4 on the unscaled gradient is ≈ 1e-4 / n here, i.e. looser). */
  tol?: number;
  maxIter?: number;
}

export interface LogisticModel {
  /** Sorted class names (like sklearn `classes_`). */
  classes: string[];
  /** Binary: 1 × d. Multinomial: K × d (row k = class k). */
  coef: Mat;
  intercept: Float64Array;
  binary: boolean;
  iterations: number;
  converged: boolean;
}

/**
 * Sorted unique labels (code-unit order, like numpy on str).
 *
 * @example
 * uniqueSorted(['b', 'a', 'b']); // ['a', 'b']
 */
export function uniqueSorted(labels: readonly string[]): string[] {
  return [...new Set(labels)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Fits the model on the rows of `x` with string labels.
 *
 * @example
 * const m = fitLogistic(X, ['cat', 'dog', ...]);
 */
export function fitLogistic(x: Mat, labels: readonly string[], opts: LogisticOptions = {}): LogisticModel {
  const {
    C = 1,
    fitIntercept = true,
    classWeight = null,
    multiClass = 'auto',
    tol = 1e-8,
    maxIter = 5000,
  } = opts;
  const n = x.rows;
  const d = x.cols;
  if (labels.length !== n) throw new Error(`logistic regression: ${n} rows but ${labels.length} labels`);
  const classes = uniqueSorted(labels);
  if (classes.length < 2) {
    throw new Error(`logistic regression needs at least 2 classes, got only '${classes[0] ?? '(none)'}'`);
  }
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i]))
      throw new Error(`logistic regression: non-finite value in row ${Math.floor(i / d)}`);
  }
  const index = new Map(classes.map((c, k) => [c, k]));
  const y = Int32Array.from(labels, (l) => index.get(l) as number);
  const K = classes.length;
  const counts = new Float64Array(K);
  for (const v of y) counts[v]++;
  const sw = new Float64Array(n).fill(1);
  if (classWeight === 'balanced') for (let i = 0; i < n; i++) sw[i] = n / (K * counts[y[i]]);
  const wsum = sw.reduce((a, b) => a + b, 0);
  const binary = K === 2 && multiClass === 'auto';
  const nOut = binary ? 1 : K;
  const nW = nOut * d;
  const nParam = nW + (fitIntercept ? nOut : 0);
  // With an intercept, centring X leaves the optimal W unchanged (b absorbs W·mean) and removes the
  // large shared mean direction of embeddings, which makes the problem far better conditioned.
  const mu = new Float64Array(d);
  if (fitIntercept) {
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += x.data[i * d + j] / n;
  }
  const X = fitIntercept ? x.data.map((v, t) => v - mu[t % d]) : x.data;
  const z = new Float64Array(nOut);

  // objective scaled by 1/(C·Σw) so that the tolerance is independent of n and C
  const scale = 1 / (C * wsum);
  const fg = (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let k = 0; k < nOut; k++) z[k] = (fitIntercept ? w[nW + k] : 0) + dotAt(w, k * d, X, o, d);
      if (binary) {
        // sklearn binary: label +1 for classes[1], −1 for classes[0]
        const yi = y[i] === 1 ? 1 : -1;
        const m = yi * z[0];
        loss += sw[i] * (m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m)));
        const coefR = (-sw[i] * yi) / (1 + Math.exp(m));
        axpyAt(coefR, X, o, g, 0, d);
        if (fitIntercept) g[nW] += coefR;
      } else {
        let mx = Number.NEGATIVE_INFINITY;
        for (let k = 0; k < K; k++) mx = Math.max(mx, z[k]);
        let se = 0;
        for (let k = 0; k < K; k++) se += Math.exp(z[k] - mx);
        const lse = mx + Math.log(se);
        loss += sw[i] * (lse - z[y[i]]);
        for (let k = 0; k < K; k++) {
          const coefR = sw[i] * (Math.exp(z[k] - lse) - (k === y[i] ? 1 : 0));
          axpyAt(coefR, X, o, g, k * d, d);
          if (fitIntercept) g[nW + k] += coefR;
        }
      }
    }
    let pen = 0;
    for (let j = 0; j < nW; j++) pen += w[j] * w[j];
    for (let j = 0; j < nParam; j++) g[j] *= C * scale;
    for (let j = 0; j < nW; j++) g[j] += w[j] * scale;
    return (C * loss + 0.5 * pen) * scale;
  };
  const res = minimizeLbfgs(fg, new Float64Array(nParam), { gtol: tol, maxIter });
  const coef = res.x.slice(0, nW);
  const intercept = fitIntercept ? res.x.slice(nW) : new Float64Array(nOut);
  for (let k = 0; k < nOut; k++) intercept[k] -= dotAt(coef, k * d, mu, 0, d); // back to uncentred X
  return {
    classes,
    coef: { data: coef, rows: nOut, cols: d },
    intercept,
    binary,
    iterations: res.iterations,
    converged: res.converged,
  };
}

/**
 * Decision scores: binary → n × 1 (positive favours `classes[1]`), multinomial → n × K.
 *
 * @example
 * const s = decisionFunction(model, X).data;
 */
export function decisionFunction(model: LogisticModel, x: Mat): Mat {
  const d = model.coef.cols;
  if (x.cols !== d) throw new Error(`model expects ${d} features, got ${x.cols}`);
  const nOut = model.coef.rows;
  const out = new Float64Array(x.rows * nOut);
  const W = model.coef.data;
  for (let i = 0; i < x.rows; i++) {
    const o = i * d;
    for (let k = 0; k < nOut; k++) {
      let s = model.intercept[k];
      const r = k * d;
      for (let j = 0; j < d; j++) s += W[r + j] * x.data[o + j];
      out[i * nOut + k] = s;
    }
  }
  return { data: out, rows: x.rows, cols: nOut };
}

/**
 * Predicted class names (argmax; first class wins ties, as numpy).
 *
 * @example
 * const pred = predictLogistic(model, X);
 */
export function predictLogistic(model: LogisticModel, x: Mat): string[] {
  const s = decisionFunction(model, x);
  const out: string[] = [];
  for (let i = 0; i < s.rows; i++) {
    if (model.binary) {
      out.push(model.classes[s.data[i] > 0 ? 1 : 0]);
      continue;
    }
    let best = 0;
    for (let k = 1; k < s.cols; k++) if (s.data[i * s.cols + k] > s.data[i * s.cols + best]) best = k;
    out.push(model.classes[best]);
  }
  return out;
}

/** Σ_j a[ao + j]·b[bo + j], unrolled by 4. */
function dotAt(a: Float64Array, ao: number, b: Float64Array, bo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < len; j += 4) {
    s0 += a[ao + j] * b[bo + j];
    s1 += a[ao + j + 1] * b[bo + j + 1];
    s2 += a[ao + j + 2] * b[bo + j + 2];
    s3 += a[ao + j + 3] * b[bo + j + 3];
  }
  for (; j < len; j++) s0 += a[ao + j] * b[bo + j];
  return s0 + s1 + s2 + s3;
}

/** y[yo + j] += alpha·x[xo + j]. */
function axpyAt(alpha: number, x: Float64Array, xo: number, y: Float64Array, yo: number, len: number): void {
  if (alpha === 0) return;
  for (let j = 0; j < len; j++) y[yo + j] += alpha * x[xo + j];
}
