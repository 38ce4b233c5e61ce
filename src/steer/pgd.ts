/**
 * Projected gradient ascent under an L∞ budget in pixel space (Madry et al., 2018), on any engine: the score
 * is a {@link ScoreHead} (a prompt's logit, a contrast, a label's probability within a label set, or its
 * negation), its gradient comes from `engine.inputGradients` with respect to the *normalised* input and is
 * brought to [0, 1] pixels by the chain rule (÷ std per channel). Each step is
 *   x ← clip_[0,1]( clip_[x₀−ε, x₀+ε]( x + α · sign(∂s/∂x) ) ),
 * so the change never exceeds ε in any pixel and pixels stay valid. Several rows (images, or one image with
 * several budgets) run together in the engine's batches; a row can stop early when `stop` says it is done
 * (e.g. once the zero-shot answer flips), keeping the image that stopped it.
 *
 * @example
 * const res = await pgdLinf(clip.engine, x01, 1, [target.head], { epsilon: 4 / 255, steps: 40, mean, std });
 * res.pixels; // [1, 3, S, S] in [0, 1], |res.pixels − x01| ≤ 4/255
 */
import { type ClipEngine, type ScoreHead, scoreEmbedding } from '../engine/engine.ts';

export type Triple = readonly [number, number, number] | readonly number[];

export interface PgdOptions {
  /** L∞ budget in [0, 1] pixel units: one for all rows or one per row. */
  epsilon: number | number[];
  steps: number;
  /** Step α as a fraction of ε (default 2.5 / steps, Madry et al.'s choice). */
  stepFraction?: number;
  /** Preprocessing mean and std per channel. */
  mean: Triple;
  std: Triple;
  /** Called with each active row's current embedding [E]; true stops that row (its current image is kept). */
  stop?: (row: number, embedding: Float32Array) => boolean;
  /** Check `stop` every this many steps (default 1). */
  checkEvery?: number;
  onStep?: (step: number, steps: number) => void;
}

export interface PgdResult {
  /** The steered images [n, 3, S, S] in [0, 1]. */
  pixels: Float32Array;
  /** Scores of the rows' heads before and after. */
  scoresBefore: number[];
  scoresAfter: number[];
  /** The step after which each row stopped (1-based), or null when it ran all steps. */
  stoppedAt: (number | null)[];
  /** Gradient rows pushed through the engine. */
  gradientRows: number;
}

/**
 * Normalises [0, 1] pixels [n, 3, S, S] with mean/std per channel.
 *
 * @example
 * const x = normalisePixels(x01, S, mean, std);
 */
export function normalisePixels(x: Float32Array, S: number, mean: Triple, std: Triple): Float32Array {
  const plane = S * S;
  const out = new Float32Array(x.length);
  for (let p0 = 0, c = 0; p0 < x.length; p0 += plane, c = (c + 1) % 3) {
    const m = mean[c];
    const s = std[c];
    for (let i = p0; i < p0 + plane; i++) out[i] = (x[i] - m) / s;
  }
  return out;
}

/**
 * Undoes the normalisation: normalised pixels -> [0, 1] (clamped).
 *
 * @example
 * const x01 = denormalisePixels(pre.pixelValues, S, mean, std);
 */
export function denormalisePixels(x: Float32Array, S: number, mean: Triple, std: Triple): Float32Array {
  const plane = S * S;
  const out = new Float32Array(x.length);
  for (let p0 = 0, c = 0; p0 < x.length; p0 += plane, c = (c + 1) % 3) {
    const m = mean[c];
    const s = std[c];
    for (let i = p0; i < p0 + plane; i++) out[i] = Math.min(1, Math.max(0, x[i] * s + m));
  }
  return out;
}

/**
 * Runs projected sign-gradient ascent for n rows, each with its own head (and budget).
 *
 * @example
 * const res = await pgdLinf(engine, x01, 3, heads, { epsilon: [1 / 255, 2 / 255, 4 / 255], steps: 40, mean, std });
 */
export async function pgdLinf(
  engine: ClipEngine,
  x0: Float32Array,
  n: number,
  heads: ScoreHead[],
  opts: PgdOptions,
): Promise<PgdResult> {
  const S = engine.config.vision.imageSize;
  const size = 3 * S * S;
  if (x0.length !== n * size)
    throw new Error(`steer: pixels hold ${x0.length} values, expected ${n} × 3 × ${S} × ${S}`);
  if (heads.length !== n) throw new Error(`steer: ${heads.length} score heads for ${n} rows`);
  const eps = Array.isArray(opts.epsilon) ? opts.epsilon : new Array<number>(n).fill(opts.epsilon);
  if (eps.length !== n) throw new Error(`steer: ${eps.length} budgets for ${n} rows`);
  for (const e of eps) {
    if (!(e > 0 && e <= 1)) throw new Error(`steer: epsilon must be in (0, 1] (pixel units), got ${e}`);
  }
  if (!Number.isInteger(opts.steps) || opts.steps < 1)
    throw new Error(`steer: steps must be a positive integer, got ${opts.steps}`);
  const frac = opts.stepFraction ?? 2.5 / opts.steps;
  if (!(frac > 0)) throw new Error(`steer: the step fraction must be positive, got ${frac}`);
  const checkEvery = opts.checkEvery ?? 1;
  const { mean, std } = opts;
  const x = Float32Array.from(x0);
  const stoppedAt: (number | null)[] = new Array(n).fill(null);
  let scoresBefore: number[] = new Array(n).fill(Number.NaN);
  let gradientRows = 0;
  const batch = Math.max(1, engine.batchFor(n));
  const gather = (rows: number[]) => {
    const out = new Float32Array(rows.length * size);
    rows.forEach((r, j) => out.set(x.subarray(r * size, (r + 1) * size), j * size));
    return normalisePixels(out, S, mean, std);
  };
  for (let step = 0; step < opts.steps; step++) {
    const active = Array.from({ length: n }, (_, r) => r).filter((r) => stoppedAt[r] === null);
    if (active.length === 0) break;
    for (let i = 0; i < active.length; i += batch) {
      const rows = active.slice(i, i + batch);
      const { grads, scores } = await engine.inputGradients(
        gather(rows),
        rows.length,
        rows.map((r) => heads[r]),
      );
      gradientRows += rows.length;
      rows.forEach((r, j) => {
        if (step === 0) scoresBefore[r] = scores[j];
        const alpha = frac * eps[r];
        const o = r * size;
        const e = eps[r];
        // ∂s/∂x01 = ∂s/∂x_norm / std_c: the same sign as the normalised gradient (std > 0), so sign steps need
        // no division
        for (let k = 0; k < size; k++) {
          const g = grads[j * size + k];
          if (g === 0) continue;
          const a = x0[o + k];
          const v = x[o + k] + (g > 0 ? alpha : -alpha);
          // project onto [x₀ − ε, x₀ + ε] ∩ [0, 1]
          x[o + k] = Math.max(Math.max(a - e, 0), Math.min(v, Math.min(a + e, 1)));
        }
      });
    }
    opts.onStep?.(step + 1, opts.steps);
    if (opts.stop && ((step + 1) % checkEvery === 0 || step + 1 === opts.steps)) {
      const E = engine.config.embedDim;
      for (let i = 0; i < active.length; i += batch) {
        const rows = active.slice(i, i + batch);
        const emb = await engine.embedImages(gather(rows), rows.length);
        rows.forEach((r, j) => {
          if (opts.stop?.(r, emb.subarray(j * E, (j + 1) * E))) stoppedAt[r] = step + 1;
        });
      }
    }
  }
  if (scoresBefore.some(Number.isNaN)) scoresBefore = await scoreRows(engine, x0, n, heads, mean, std);
  const scoresAfter = await scoreRows(engine, x, n, heads, mean, std);
  return { pixels: x, scoresBefore, scoresAfter, stoppedAt, gradientRows };
}

/** Scores of [0, 1] rows [n, 3, S, S], each with its own head. */
async function scoreRows(
  engine: ClipEngine,
  x: Float32Array,
  n: number,
  heads: ScoreHead[],
  mean: Triple,
  std: Triple,
): Promise<number[]> {
  const S = engine.config.vision.imageSize;
  const E = engine.config.embedDim;
  const emb = await engine.embedImages(normalisePixels(x, S, mean, std), n);
  return heads.map((h, i) => scoreEmbedding(emb.subarray(i * E, (i + 1) * E), h, engine.logitScale));
}
