/**
 * Dense row-major matrix helpers on Float64Array, and an exact PCA (centred on the training mean,
 * no whitening) from the symmetric eigendecomposition of the scatter matrix (ml-matrix).
 *
 * @example
 * const pca = fitPca({ data: X, rows: n, cols: d });
 * const Z = transformPca(pca, { data: Xtest, rows: m, cols: d }, 50); // m × 50
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** Row-major dense matrix: element (i, j) is `data[i * cols + j]`. */
export interface Mat {
  data: Float64Array;
  rows: number;
  cols: number;
}

/**
 * Makes a Mat, checking that the data length fits.
 *
 * @example
 * const m = makeMat(new Float64Array(6), 2, 3);
 */
export function makeMat(data: Float64Array, rows: number, cols: number): Mat {
  if (data.length !== rows * cols) throw new Error(`matrix data has ${data.length} values, expected ${rows}×${cols}`);
  return { data, rows, cols };
}

/**
 * Selects rows of a matrix (copy).
 *
 * @example
 * const train = takeRows(X, [0, 2, 5]);
 */
export function takeRows(m: Mat, rows: ArrayLike<number>): Mat {
  const out = new Float64Array(rows.length * m.cols);
  for (let i = 0; i < rows.length; i++) out.set(m.data.subarray(rows[i] * m.cols, (rows[i] + 1) * m.cols), i * m.cols);
  return { data: out, rows: rows.length, cols: m.cols };
}

/**
 * Stacks matrices vertically.
 *
 * @example
 * const all = vstack([human, ai]); // (n1 + n2) × d
 */
export function vstack(ms: Mat[]): Mat {
  const cols = ms[0].cols;
  for (const m of ms) if (m.cols !== cols) throw new Error(`cannot stack matrices with ${cols} and ${m.cols} columns`);
  const out = new Float64Array(ms.reduce((a, m) => a + m.data.length, 0));
  let off = 0;
  for (const m of ms) {
    out.set(m.data, off);
    off += m.data.length;
  }
  return { data: out, rows: out.length / cols, cols };
}

/**
 * Rounds every element to float32 precision (a float32 cast, kept in a Float64Array).
 *
 * @example
 * const X32 = roundToFloat32(X);
 */
export function roundToFloat32(m: Mat): Mat {
  return { data: Float64Array.from(new Float32Array(m.data)), rows: m.rows, cols: m.cols };
}

/**
 * Column means.
 *
 * @example
 * const mu = columnMeans(X); // length d
 */
export function columnMeans(m: Mat): Float64Array {
  const mu = new Float64Array(m.cols);
  for (let i = 0; i < m.rows; i++) {
    const o = i * m.cols;
    for (let j = 0; j < m.cols; j++) mu[j] += m.data[o + j];
  }
  for (let j = 0; j < m.cols; j++) mu[j] /= m.rows;
  return mu;
}

/**
 * Subtracts a row vector from every row (copy).
 *
 * @example
 * const Xc = centerRows(X, columnMeans(X));
 */
export function centerRows(m: Mat, mu: Float64Array): Mat {
  const out = new Float64Array(m.data.length);
  for (let i = 0; i < m.rows; i++) {
    const o = i * m.cols;
    for (let j = 0; j < m.cols; j++) out[o + j] = m.data[o + j] - mu[j];
  }
  return { data: out, rows: m.rows, cols: m.cols };
}

/**
 * XᵀX (cols × cols), symmetric.
 *
 * @example
 * const S = crossProduct(Xc); // d × d scatter matrix
 */
export function crossProduct(m: Mat): Mat {
  const d = m.cols;
  const out = new Float64Array(d * d);
  const x = m.data;
  for (let i = 0; i < m.rows; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const a = x[o + j];
      if (a === 0) continue;
      const r = j * d;
      for (let k = j; k < d; k++) out[r + k] += a * x[o + k];
    }
  }
  for (let j = 0; j < d; j++) for (let k = j + 1; k < d; k++) out[k * d + j] = out[j * d + k];
  return { data: out, rows: d, cols: d };
}

/**
 * XXᵀ (rows × rows), symmetric.
 *
 * @example
 * const K = gramMatrix(Xc); // n × n
 */
export function gramMatrix(m: Mat): Mat {
  const n = m.rows;
  const d = m.cols;
  const out = new Float64Array(n * n);
  const x = m.data;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      const oi = i * d;
      const oj = j * d;
      for (let k = 0; k < d; k++) s += x[oi + k] * x[oj + k];
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return { data: out, rows: n, cols: n };
}

/**
 * Eigendecomposition of a symmetric matrix, eigenvalues in descending order.
 * `vectors` is n × n with eigenvector k in column k.
 *
 * @example
 * const { values, vectors } = eigSymmetric(S);
 */
export function eigSymmetric(s: Mat): { values: Float64Array; vectors: Mat } {
  const n = s.rows;
  const rows: Float64Array[] = [];
  for (let i = 0; i < n; i++) rows.push(s.data.slice(i * n, (i + 1) * n));
  const evd = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const vals = evd.realEigenvalues;
  const V = evd.eigenvectorMatrix;
  const order = Array.from(vals.keys()).sort((a, b) => vals[b] - vals[a]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    values[k] = vals[order[k]];
    const col = V.getColumn(order[k]);
    for (let i = 0; i < n; i++) vectors[i * n + k] = col[i];
  }
  return { values, vectors: { data: vectors, rows: n, cols: n } };
}

/** A fitted PCA: all components, ordered by explained variance. */
export interface Pca {
  mean: Float64Array;
  /** d × d, component k in column k (sign arbitrary). */
  components: Mat;
  /** Variance along each component (ddof = 1). */
  explainedVariance: Float64Array;
  explainedVarianceRatio: Float64Array;
}

/**
 * Exact PCA: eigendecomposition of the centred scatter matrix (like sklearn `svd_solver='full'`).
 *
 * @example
 * const pca = fitPca(Xtrain);
 * pca.explainedVarianceRatio[0]; // share of PC1
 */
export function fitPca(x: Mat): Pca {
  if (x.rows < 2) throw new Error(`PCA needs at least 2 rows, got ${x.rows}`);
  const mean = columnMeans(x);
  const { values, vectors } = eigSymmetric(crossProduct(centerRows(x, mean)));
  const explainedVariance = values.map((v) => Math.max(v, 0) / (x.rows - 1));
  const total = explainedVariance.reduce((a, b) => a + b, 0);
  return { mean, components: vectors, explainedVariance, explainedVarianceRatio: explainedVariance.map((v) => v / total) };
}

/**
 * Projects rows onto the first k components: (X − mean) V[:, :k].
 *
 * @example
 * const Z = transformPca(pca, X, 2); // n × 2
 */
export function transformPca(pca: Pca, x: Mat, k: number): Mat {
  const d = x.cols;
  if (d !== pca.mean.length) throw new Error(`PCA was fit on ${pca.mean.length} columns, got ${d}`);
  if (k < 1 || k > d) throw new Error(`PCA k must be in 1..${d}, got ${k}`);
  const V = pca.components.data;
  const out = new Float64Array(x.rows * k);
  const row = new Float64Array(d);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < d; j++) row[j] = x.data[i * d + j] - pca.mean[j];
    for (let j = 0; j < d; j++) {
      const a = row[j];
      const r = j * d;
      for (let c = 0; c < k; c++) out[i * k + c] += a * V[r + c];
    }
  }
  return { data: out, rows: x.rows, cols: k };
}
