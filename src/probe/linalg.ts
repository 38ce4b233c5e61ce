/**
 * Dense row-major matrix helpers on Float64Array, and an exact PCA (centred on the training mean,
 * no whitening) from the symmetric eigendecomposition of the scatter matrix.
 *
 * @example
 * const pca = fitPca({ data: X, rows: n, cols: d });
 * const Z = transformPca(pca, { data: Xtest, rows: m, cols: d }, 50); // m × 50
 */

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
  if (data.length !== rows * cols)
    throw new Error(`matrix data has ${data.length} values, expected ${rows}×${cols}`);
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
  for (let i = 0; i < rows.length; i++)
    out.set(m.data.subarray(rows[i] * m.cols, (rows[i] + 1) * m.cols), i * m.cols);
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
  for (const m of ms)
    if (m.cols !== cols) throw new Error(`cannot stack matrices with ${cols} and ${m.cols} columns`);
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
 * `vectors` is n × n with eigenvector k in column k. Householder tridiagonalisation + implicit QL
 * (the EISPACK tred2/tql2 algorithm, as in JAMA and ml-matrix) on flat arrays, with the
 * transformation stored transposed so that every inner loop runs over contiguous memory
 * (several times faster than ml-matrix's `EigenvalueDecomposition` for n ≈ 800; tests check
 * that both agree).
 *
 * @example
 * const { values, vectors } = eigSymmetric(S);
 */
export function eigSymmetric(s: Mat): { values: Float64Array; vectors: Mat } {
  const n = s.rows;
  if (s.cols !== n) throw new Error(`eigSymmetric needs a square matrix, got ${s.rows}×${s.cols}`);
  const W = Float64Array.from(s.data); // W[b*n + a] holds JAMA's V[a][b]
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(n, W, d, e);
  tql2(n, W, d, e);
  const order = Array.from(d.keys()).sort((a, b) => d[b] - d[a]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    values[k] = d[order[k]];
    const row = order[k] * n; // eigenvector order[k] is row order[k] of W
    for (let i = 0; i < n; i++) vectors[i * n + k] = W[row + i];
  }
  return { values, vectors: { data: vectors, rows: n, cols: n } };
}

/** Householder reduction to tridiagonal form; W is V transposed (row-major n × n). */
function tred2(n: number, W: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = W[j * n + n - 1]; // V[n-1][j]
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = W[j * n + i - 1]; // V[i-1][j]
        W[j * n + i] = 0; // V[i][j]
        W[i * n + j] = 0; // V[j][i]
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        W[i * n + j] = f; // V[j][i]
        const wj = j * n; // V[k][j] = W[j*n + k]
        g = e[j] + W[wj + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += W[wj + k] * d[k];
          e[k] += W[wj + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        const wj = j * n;
        for (let k = j; k <= i - 1; k++) W[wj + k] -= f * e[k] + g * d[k];
        d[j] = W[wj + i - 1]; // V[i-1][j]
        W[wj + i] = 0; // V[i][j]
      }
    }
    d[i] = h;
  }
  // accumulate transformations
  for (let i = 0; i < n - 1; i++) {
    W[i * n + n - 1] = W[i * n + i]; // V[n-1][i] = V[i][i]
    W[i * n + i] = 1;
    const h = d[i + 1];
    const wi1 = (i + 1) * n; // V[k][i+1] = W[(i+1)*n + k]
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = W[wi1 + k] / h;
      for (let j = 0; j <= i; j++) {
        const wj = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += W[wi1 + k] * W[wj + k];
        for (let k = 0; k <= i; k++) W[wj + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) W[wi1 + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = W[j * n + n - 1];
    W[j * n + n - 1] = 0;
  }
  W[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL iterations on the tridiagonal matrix; rotations update contiguous rows of W. */
function tql2(n: number, W: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('eigSymmetric: QL iteration did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const a = (i + 1) * n; // V[k][i+1]
          const b = i * n; // V[k][i]
          for (let k = 0; k < n; k++) {
            const t = W[a + k];
            W[a + k] = s * W[b + k] + c * t;
            W[b + k] = c * W[b + k] - s * t;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
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
  return {
    mean,
    components: vectors,
    explainedVariance,
    explainedVarianceRatio: explainedVariance.map((v) => v / total),
  };
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
