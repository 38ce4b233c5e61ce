/**
 * RidgeCV like scikit-learn's default (`cv=None`): for every alpha the exact leave-one-out squared
 * error is computed from one eigendecomposition (of XcXcᵀ when n ≤ d, else of XcᵀXc), with an
 * unpenalised intercept (X and y centred); the alpha with the lowest mean LOO error (first on ties)
 * is refit on all rows.
 *
 * @example
 * const m = fitRidgeCv(X, y); // alphas logspace(-3, 3, 13)
 * const yHat = predictRidge(m, Xtest);
 */
import { centerRows, columnMeans, crossProduct, eigSymmetric, gramMatrix, type Mat } from './linalg.ts';

/**
 * `count` values spaced evenly on a log10 scale from 10^start to 10^stop (numpy `logspace`).
 *
 * @example
 * logspace(-3, 3, 13); // [0.001, 0.00316…, …, 1000]
 */
export function logspace(start: number, stop: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => 10 ** (start + ((stop - start) * i) / (count - 1)));
}

export interface RidgeModel {
  coef: Float64Array;
  intercept: number;
  alpha: number;
  /** Mean LOO squared error for each alpha. */
  looMse: number[];
  alphas: number[];
}

/**
 * Spectral basis of the centred training rows: B (n × r, orthonormal columns) and eigenvalues e of XcXcᵀ.
 * Reusable across targets that share X.
 *
 * @example
 * const basis = ridgeBasis(X); fitRidgeCv(X, y1, { basis }); fitRidgeCv(X, y2, { basis });
 */
export function ridgeBasis(x: Mat): { mean: Float64Array; xc: Mat; B: Mat; e: Float64Array } {
  const n = x.rows;
  const d = x.cols;
  const mean = columnMeans(x);
  const xc = centerRows(x, mean);
  let B: Mat;
  let e: Float64Array;
  if (n <= d) {
    const eg = eigSymmetric(gramMatrix(xc));
    B = eg.vectors;
    e = eg.values;
  } else {
    // XcᵀXc = V Σ² Vᵀ; U = Xc V Σ⁻¹
    const eg = eigSymmetric(crossProduct(xc));
    e = eg.values;
    const V = eg.vectors.data;
    const U = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const a = xc.data[i * d + j];
        for (let k = 0; k < d; k++) U[i * d + k] += a * V[j * d + k];
      }
    }
    for (let k = 0; k < d; k++) {
      const s = Math.sqrt(Math.max(e[k], 0));
      for (let i = 0; i < n; i++) U[i * d + k] = s > 0 ? U[i * d + k] / s : 0;
    }
    B = { data: U, rows: n, cols: d };
  }
  // drop the null space (it holds the intercept direction and contributes nothing)
  const r = e.filter((v) => v > 1e-10 * e[0]).length;
  const Bd = new Float64Array(n * r);
  for (let i = 0; i < n; i++) for (let k = 0; k < r; k++) Bd[i * r + k] = B.data[i * B.cols + k];
  return { mean, xc, B: { data: Bd, rows: n, cols: r }, e: e.slice(0, r) };
}

/**
 * Fits ridge regression, choosing alpha by efficient leave-one-out.
 *
 * @example
 * const m = fitRidgeCv(X, ratings, { alphas: logspace(-3, 3, 13) });
 */
export function fitRidgeCv(
  x: Mat,
  y: ArrayLike<number>,
  opts: { alphas?: number[]; basis?: ReturnType<typeof ridgeBasis> } = {},
): RidgeModel {
  const { alphas = logspace(-3, 3, 13) } = opts;
  const n = x.rows;
  if (y.length !== n) throw new Error(`ridge: ${n} rows but ${y.length} targets`);
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(y[i])) throw new Error(`ridge: target at row ${i} is not a finite number`);
  const { mean, xc, B, e } = opts.basis ?? ridgeBasis(x);
  const r = B.cols;
  let ym = 0;
  for (let i = 0; i < n; i++) ym += y[i];
  const yBar = ym / n;
  const yc = Float64Array.from(y, (v) => v - yBar);
  const proj = new Float64Array(r); // Bᵀ yc
  for (let i = 0; i < n; i++) for (let k = 0; k < r; k++) proj[k] += B.data[i * r + k] * yc[i];
  const looMse = alphas.map((alpha) => {
    let sse = 0;
    for (let i = 0; i < n; i++) {
      let h = 1 / n;
      let fit = 0;
      for (let k = 0; k < r; k++) {
        const b = B.data[i * r + k];
        const f = e[k] / (e[k] + alpha);
        h += b * b * f;
        fit += b * f * proj[k];
      }
      sse += ((yc[i] - fit) / (1 - h)) ** 2;
    }
    return sse / n;
  });
  let best = 0;
  for (let a = 1; a < alphas.length; a++) if (looMse[a] < looMse[best]) best = a;
  const alpha = alphas[best];
  // coef = Xcᵀ B diag(1/(e+α)) Bᵀ yc
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < r; k++) s += (B.data[i * r + k] * proj[k]) / (e[k] + alpha);
    c[i] = s;
  }
  const d = x.cols;
  const coef = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) coef[j] += xc.data[i * d + j] * c[i];
  let intercept = yBar;
  for (let j = 0; j < d; j++) intercept -= mean[j] * coef[j];
  return { coef, intercept, alpha, looMse, alphas };
}

/**
 * Predictions X·coef + intercept.
 *
 * @example
 * const yHat = predictRidge(model, Xtest);
 */
export function predictRidge(model: RidgeModel, x: Mat): Float64Array {
  const d = model.coef.length;
  if (x.cols !== d) throw new Error(`ridge model expects ${d} features, got ${x.cols}`);
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let s = model.intercept;
    for (let j = 0; j < d; j++) s += x.data[i * d + j] * model.coef[j];
    out[i] = s;
  }
  return out;
}
