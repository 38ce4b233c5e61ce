/**
 * Float64 building blocks of the decomposition: LayerNorm, CLIP's activations (quick_gelu, exact gelu with a
 * double-precision erf, tanh gelu), dot products and matrix–vector products on row-major PyTorch-oriented
 * (`[out, in]`) weights. Everything is plain TypeScript so that the decomposition is exact to float64 rounding.
 *
 * @example
 * const y = layerNorm64(x, gamma, beta, 1e-5);        // [W]
 * const h = matVec(weight, x, out, inp, bias);          // weight [out, in] · x [in] + bias -> [out]
 */
import type { Activation } from '../core/clip-config.ts';

/** A numeric vector, float32 (parameters, activations read from the model) or float64 (our own results). */
export type Vec = Float32Array | Float64Array;

/**
 * ⟨a, b⟩ over n values starting at offsets ao / bo.
 *
 * @example
 * dot(a, b); // Σ a_i b_i
 */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length, ao = 0, bo = 0): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
  return s;
}

/**
 * y = W x (+ b) for W stored row-major `[out, in]` (PyTorch's orientation); optional row and column offsets
 * select a block of a larger matrix: rows [r0, r0 + out) and columns [c0, c0 + inp) of a matrix with `stride`
 * columns.
 *
 * @example
 * const v = matVec(qkv.weight.data, y, W, W, qkv.bias.data, { r0: 2 * W }); // the v rows of [3W, W]
 */
export function matVec(
  w: Vec,
  x: ArrayLike<number>,
  out: number,
  inp: number,
  bias?: Vec,
  o: { r0?: number; c0?: number; stride?: number; biasOffset?: number } = {},
): Float64Array {
  const r0 = o.r0 ?? 0;
  const c0 = o.c0 ?? 0;
  const stride = o.stride ?? inp;
  const bo = o.biasOffset ?? r0;
  const y = new Float64Array(out);
  for (let r = 0; r < out; r++) {
    const base = (r0 + r) * stride + c0;
    let s = bias ? bias[bo + r] : 0;
    for (let c = 0; c < inp; c++) s += w[base + c] * x[c];
    y[r] = s;
  }
  return y;
}

/**
 * y = Wᵀ x for W stored row-major `[out, in]` (so x has `out` values and y has `inp`), with the same block
 * selection as {@link matVec}.
 *
 * @example
 * const g = matTVec(proj.data, d, E, W); // Pᵀ d: a direction of the embedding space pulled back to the residual
 */
export function matTVec(
  w: Vec,
  x: ArrayLike<number>,
  out: number,
  inp: number,
  o: { r0?: number; c0?: number; stride?: number } = {},
): Float64Array {
  const r0 = o.r0 ?? 0;
  const c0 = o.c0 ?? 0;
  const stride = o.stride ?? inp;
  const y = new Float64Array(inp);
  for (let r = 0; r < out; r++) {
    const a = x[r];
    if (a === 0) continue;
    const base = (r0 + r) * stride + c0;
    for (let c = 0; c < inp; c++) y[c] += a * w[base + c];
  }
  return y;
}

/**
 * LayerNorm statistics of one row: its mean and σ = sqrt(var + eps) (population variance, as PyTorch).
 *
 * @example
 * const { mean, sigma } = lnStats(z, 1e-5);
 */
export function lnStats(
  x: ArrayLike<number>,
  eps: number,
  n = x.length,
  off = 0,
): { mean: number; sigma: number } {
  let m = 0;
  for (let i = 0; i < n; i++) m += x[off + i];
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = x[off + i] - m;
    v += d * d;
  }
  return { mean: m, sigma: Math.sqrt(v / n + eps) };
}

/**
 * LayerNorm of one row (starting at `off`) in float64: γ ⊙ (x − mean) / σ + β.
 *
 * @example
 * const y = layerNorm64(hidden, ln.weight.data, ln.bias.data, 1e-5, W, t * W); // token t of [T, W]
 */
export function layerNorm64(
  x: ArrayLike<number>,
  gamma: Vec,
  beta: Vec,
  eps: number,
  n = gamma.length,
  off = 0,
): Float64Array {
  const { mean, sigma } = lnStats(x, eps, n, off);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = (gamma[i] * (x[off + i] - mean)) / sigma + beta[i];
  return y;
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * The error function to float64 precision: erf(x) = 2/√π · e^{−x²} · Σₙ 2ⁿ x^{2n+1} / (2n+1)!! (a series of
 * positive terms, so no cancellation); |x| ≥ 6 gives ±1 (the remainder is below 1e-17).
 *
 * @example
 * erf(1); // 0.8427007929497149
 */
export function erf(x: number): number {
  if (x === 0 || Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  const x2 = ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 0; n < 500; n++) {
    term *= (2 * x2) / (2 * n + 3);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.sign(x) * TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * CLIP's MLP activations in float64: quick_gelu x·σ(1.702x), exact gelu ½x(1 + erf(x/√2)), tanh gelu.
 *
 * @example
 * activation64(1, 'quick_gelu'); // 0.8457...
 */
export function activation64(x: number, act: Activation): number {
  switch (act) {
    case 'quick_gelu':
      return x / (1 + Math.exp(-1.702 * x));
    case 'gelu':
      return 0.5 * x * (1 + erf(x * Math.SQRT1_2));
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
  }
}

/**
 * Unit-length float64 copy of v (a zero vector stays zero).
 *
 * @example
 * unit64([3, 4]); // [0.6, 0.8]
 */
export function unit64(v: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  n = Math.sqrt(n) || 1;
  return Float64Array.from({ length: v.length }, (_, i) => v[i] / n);
}
