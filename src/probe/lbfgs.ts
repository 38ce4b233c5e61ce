/**
 * Limited-memory BFGS with a strong-Wolfe line search, for smooth (here: convex) objectives.
 *
 * @example
 * const r = minimizeLbfgs((x, g) => { g[0] = 2 * (x[0] - 3); return (x[0] - 3) ** 2; }, new Float64Array(1));
 * r.x[0]; // ≈ 3
 */

/** Objective: returns f(x) and writes ∇f(x) into g. */
export type ObjectiveFn = (x: Float64Array, g: Float64Array) => number;

export interface LbfgsOptions {
  /** Stop when max |g_i| ≤ gtol (default 1e-9). */
  gtol?: number;
  /** Stop when the relative decrease of f is below ftol (default 1e-15). */
  ftol?: number;
  maxIter?: number;
  /** Number of correction pairs kept (default 10, as scipy). */
  memory?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  gradMax: number;
  iterations: number;
  converged: boolean;
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const maxAbs = (a: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

/**
 * Minimises `fg` from `x0` by L-BFGS.
 *
 * @example
 * const { x, converged } = minimizeLbfgs(fg, new Float64Array(n), { gtol: 1e-10 });
 */
export function minimizeLbfgs(fg: ObjectiveFn, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const { gtol = 1e-9, ftol = 1e-15, maxIter = 2000, memory = 10 } = opts;
  const n = x0.length;
  let x: Float64Array = Float64Array.from(x0);
  let g: Float64Array = new Float64Array(n);
  let f = fg(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(memory);
  const dir = new Float64Array(n);
  let iter = 0;
  let converged = maxAbs(g) <= gtol;
  while (!converged && iter < maxIter) {
    iter++;
    // two-loop recursion: dir = −H g
    for (let i = 0; i < n; i++) dir[i] = -g[i];
    for (let j = S.length - 1; j >= 0; j--) {
      alpha[j] = rho[j] * dot(S[j], dir);
      const y = Y[j];
      for (let i = 0; i < n; i++) dir[i] -= alpha[j] * y[i];
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let i = 0; i < n; i++) dir[i] *= gamma;
    }
    for (let j = 0; j < S.length; j++) {
      const beta = rho[j] * dot(Y[j], dir);
      const s = S[j];
      for (let i = 0; i < n; i++) dir[i] += (alpha[j] - beta) * s[i];
    }
    let gd = dot(g, dir);
    if (!(gd < 0)) {
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -g[i];
      gd = dot(g, dir);
    }
    const a0 = S.length === 0 ? Math.min(1, 1 / Math.sqrt(-gd)) : 1;
    const ls = lineSearchWolfe(fg, x, f, g, dir, gd, a0);
    if (!ls) break; // no progress possible at this precision
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = ls.x[i] - x[i];
      y[i] = ls.g[i] - g[i];
    }
    const sy = dot(s, y);
    const fPrev = f;
    x = ls.x;
    g = ls.g;
    f = ls.f;
    if (sy > 1e-300) {
      if (S.length === memory) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    if (maxAbs(g) <= gtol) converged = true;
    else if (fPrev - f <= ftol * Math.max(Math.abs(f), Math.abs(fPrev), 1)) converged = true;
  }
  return { x, f, gradMax: maxAbs(g), iterations: iter, converged };
}

interface Point {
  a: number;
  f: number;
  d: number;
  x: Float64Array;
  g: Float64Array;
}

/** Strong-Wolfe line search (Nocedal & Wright, alg. 3.5/3.6) with cubic interpolation. */
function lineSearchWolfe(
  fg: ObjectiveFn,
  x: Float64Array,
  f0: number,
  g0: Float64Array,
  dir: Float64Array,
  d0: number,
  a0: number,
): Point | null {
  const c1 = 1e-4;
  const c2 = 0.9;
  const n = x.length;
  const evalAt = (a: number): Point => {
    const xa = new Float64Array(n);
    for (let i = 0; i < n; i++) xa[i] = x[i] + a * dir[i];
    const ga = new Float64Array(n);
    const fa = fg(xa, ga);
    return { a, f: fa, d: dot(ga, dir), x: xa, g: ga };
  };
  let prev: Point = { a: 0, f: f0, d: d0, x, g: g0 };
  let a = a0;
  for (let i = 0; i < 40; i++) {
    const cur = evalAt(a);
    if (!Number.isFinite(cur.f) || cur.f > f0 + c1 * a * d0 || (i > 0 && cur.f >= prev.f)) {
      return zoom(prev, cur);
    }
    if (Math.abs(cur.d) <= -c2 * d0) return cur;
    if (cur.d >= 0) return zoom(cur, prev);
    prev = cur;
    a *= 2;
  }
  return null;

  function zoom(lo: Point, hi: Point): Point | null {
    for (let i = 0; i < 60; i++) {
      const width = Math.abs(hi.a - lo.a);
      if (width < 1e-16 * Math.max(1, Math.abs(lo.a))) break;
      let a = cubicMin(lo, hi);
      const lowB = Math.min(lo.a, hi.a) + 0.1 * width;
      const highB = Math.max(lo.a, hi.a) - 0.1 * width;
      if (!Number.isFinite(a) || a < lowB || a > highB) a = (lo.a + hi.a) / 2;
      const cur = evalAt(a);
      if (!Number.isFinite(cur.f) || cur.f > f0 + c1 * a * d0 || cur.f >= lo.f) {
        hi = cur;
      } else {
        if (Math.abs(cur.d) <= -c2 * d0) return cur;
        if (cur.d * (hi.a - lo.a) >= 0) hi = lo;
        lo = cur;
      }
    }
    return lo.a > 0 && lo.f < f0 ? lo : null;
  }
}

/** Minimiser of the cubic through two points with values and slopes. */
function cubicMin(p: Point, q: Point): number {
  if (!Number.isFinite(q.f) || !Number.isFinite(q.d)) return Number.NaN;
  const d1 = p.d + q.d - 3 * ((p.f - q.f) / (p.a - q.a));
  const disc = d1 * d1 - p.d * q.d;
  if (disc < 0) return Number.NaN;
  const d2 = Math.sign(q.a - p.a) * Math.sqrt(disc);
  return q.a - (q.a - p.a) * ((q.d + d2 - d1) / (q.d - p.d + 2 * d2));
}
