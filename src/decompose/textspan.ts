/**
 * TextSpan (Gandelsman, Efros & Steinhardt, ICLR 2024, Algorithm 1): a greedy search for the few text
 * descriptions whose directions span most of the variance of one head's outputs over a collection of images.
 *
 * Given the head's direct contributions C [N, E] over N images and unit text embeddings R [M, E]:
 * 1. centre C over the images; project every text onto the span of C's top-`rank` principal directions (so that
 *    texts are compared only along directions the head actually varies in);
 * 2. repeat `iterations` times: pick the text r whose projection C·r has the largest variance over the images;
 *    remove r's direction from C and from every remaining text (C ← C − (C r / |r|²) rᵀ, likewise for R).
 * The variance explained after each pick is 1 − ‖C_residual‖² / ‖C_centred‖² (Frobenius, i.e. the trace of the
 * covariance); each pick's `gain` is its increment.
 *
 * @example
 * const res = textSpan(C, n, R, texts, { iterations: 5, rank: 80 });
 * res.picks[0]; // { index: 12, text: 'a Baroque painting', varianceExplained: 0.31, gain: 0.31 }
 */
import { eigSymmetric, type Mat } from '../probe/linalg.ts';

export interface TextSpanOptions {
  /** Descriptions picked per head (default 5). */
  iterations?: number;
  /** Principal directions of the head outputs the texts are projected on (default 80, capped at the data's rank). */
  rank?: number;
}

export interface TextSpanPick {
  /** Row of the text in the vocabulary. */
  index: number;
  text: string;
  /** Cumulative share of the head's output variance explained by the picks so far. */
  varianceExplained: number;
  /** This pick's increment of the explained variance. */
  gain: number;
}

export interface TextSpanResult {
  picks: TextSpanPick[];
  /** Total variance of the head's outputs (trace of the covariance, ddof 0). */
  variance: number;
  /** Rank actually used for the text projection. */
  rank: number;
}

/**
 * Top-`rank` principal directions (unit vectors, [E] each) of centred rows X [N, E], via the smaller of the
 * Gram (N×N) and scatter (E×E) eigenproblems.
 */
function principalDirections(x: Float64Array, n: number, e: number, rank: number): Float64Array[] {
  const out: Float64Array[] = [];
  if (n <= e) {
    const gram = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        let s = 0;
        for (let k = 0; k < e; k++) s += x[i * e + k] * x[j * e + k];
        gram[i * n + j] = s;
        gram[j * n + i] = s;
      }
    }
    const { values, vectors } = eigSymmetric({ data: gram, rows: n, cols: n } as Mat);
    const tol = Math.max(values[0], 0) * 1e-10;
    for (let c = 0; c < n && out.length < rank; c++) {
      if (!(values[c] > tol)) break;
      // right singular vector v = Xᵀ u / s
      const v = new Float64Array(e);
      for (let i = 0; i < n; i++) {
        const u = vectors.data[i * n + c];
        for (let k = 0; k < e; k++) v[k] += u * x[i * e + k];
      }
      const norm = Math.hypot(...v);
      out.push(v.map((a) => a / norm));
    }
    return out;
  }
  const scatter = new Float64Array(e * e);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < e; a++) {
      const xa = x[i * e + a];
      for (let b = a; b < e; b++) scatter[a * e + b] += xa * x[i * e + b];
    }
  }
  for (let a = 0; a < e; a++) for (let b = a + 1; b < e; b++) scatter[b * e + a] = scatter[a * e + b];
  const { values, vectors } = eigSymmetric({ data: scatter, rows: e, cols: e } as Mat);
  const tol = Math.max(values[0], 0) * 1e-10;
  for (let c = 0; c < e && out.length < rank; c++) {
    if (!(values[c] > tol)) break;
    out.push(Float64Array.from({ length: e }, (_, k) => vectors.data[k * e + c]));
  }
  return out;
}

/**
 * Runs TextSpan on one head: data [n, E] (row-major head outputs), texts [M, E] (unit text embeddings).
 *
 * @example
 * const { picks } = textSpan(headOutputs, 120, vocabEmbeddings, vocabulary.map((v) => v.text));
 */
export function textSpan(
  data: Float64Array,
  n: number,
  texts: Float64Array,
  labels: string[],
  opts: TextSpanOptions = {},
): TextSpanResult {
  const m = labels.length;
  if (n < 2) throw new Error(`TextSpan needs at least 2 images, got ${n}`);
  if (m === 0) throw new Error('TextSpan needs at least one text');
  const e = data.length / n;
  if (!Number.isInteger(e) || texts.length !== m * e) {
    throw new Error(
      `TextSpan: data [${n}, ${e}] and texts ${texts.length / e} × ${e} do not match ${m} labels`,
    );
  }
  const iterations = Math.min(opts.iterations ?? 5, m);
  // centre the head outputs over images: C [n, e]
  const c = Float64Array.from(data);
  for (let k = 0; k < e; k++) {
    let mu = 0;
    for (let i = 0; i < n; i++) mu += c[i * e + k];
    mu /= n;
    for (let i = 0; i < n; i++) c[i * e + k] -= mu;
  }
  let total = 0;
  for (const v of c) total += v * v;
  // project texts on the top principal directions: R ← R V Vᵀ
  const dirs = principalDirections(c, n, e, opts.rank ?? 80);
  const r = new Float64Array(m * e);
  for (let j = 0; j < m; j++) {
    for (const v of dirs) {
      let s = 0;
      for (let k = 0; k < e; k++) s += texts[j * e + k] * v[k];
      for (let k = 0; k < e; k++) r[j * e + k] += s * v[k];
    }
  }
  const picks: TextSpanPick[] = [];
  if (total === 0) return { picks, variance: 0, rank: dirs.length };
  // projections P = C Rᵀ [n, m], kept up to date with rank-one corrections as directions are removed
  const proj = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < e; k++) s += c[i * e + k] * r[j * e + k];
      proj[i * m + j] = s;
    }
  }
  const used = new Set<number>();
  let residual = total;
  for (let it = 0; it < iterations; it++) {
    // variance over images of C·r_j, for every text j
    let best = -1;
    let bestVar = -1;
    for (let j = 0; j < m; j++) {
      if (used.has(j)) continue;
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const p = proj[i * m + j];
        s1 += p;
        s2 += p * p;
      }
      const variance = s2 / n - (s1 / n) ** 2;
      if (variance > bestVar) {
        bestVar = variance;
        best = j;
      }
    }
    if (best < 0) break;
    const rb = r.slice(best * e, (best + 1) * e);
    const nb = rb.reduce((a, x) => a + x * x, 0);
    used.add(best);
    if (nb > 1e-24) {
      // remove rb's direction from the data and from every text: C ← C − (C rb) rbᵀ / |rb|², R likewise;
      // then C'R'ᵀ = C Rᵀ − (C rb)(R rb)ᵀ / |rb|² (C' is orthogonal to rb)
      const cb = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let p = 0;
        for (let k = 0; k < e; k++) p += c[i * e + k] * rb[k];
        cb[i] = p / nb;
        for (let k = 0; k < e; k++) c[i * e + k] -= cb[i] * rb[k];
      }
      const rr = new Float64Array(m);
      for (let j = 0; j < m; j++) {
        let p = 0;
        for (let k = 0; k < e; k++) p += r[j * e + k] * rb[k];
        rr[j] = p;
        for (let k = 0; k < e; k++) r[j * e + k] -= (p / nb) * rb[k];
      }
      for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) proj[i * m + j] -= cb[i] * rr[j];
    }
    let now = 0;
    for (const v of c) now += v * v;
    const before = 1 - residual / total;
    residual = now;
    const explained = 1 - residual / total;
    picks.push({ index: best, text: labels[best], varianceExplained: explained, gain: explained - before });
  }
  return { picks, variance: total / n, rank: dirs.length };
}
