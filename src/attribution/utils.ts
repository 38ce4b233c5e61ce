/**
 * Shared maths of the attribution methods (the one place for gradients, attention gradients, baselines,
 * noise, channel reductions and parameter checks). Methods compose these; none repeats them.
 *
 * @example
 * const { grads, scores } = await inputGradients(engine, pixels, rowTargets); // grads [B, 3, S, S]
 */
import type { AttentionGradients, ClipEngine, ScoreHead } from '../engine/engine.ts';
import { type PreparedTarget, scoreImages } from './target.ts';
import type { AttributionInput, AttributionMap, MethodId } from './types.ts';

/** Rows per forward/backward pass requested by default; each engine caps it by model size (`batchFor`). */
export const DEFAULT_BATCH = 8;

/**
 * Gradient of each row's target score with respect to its normalised pixels.
 * pixels [n, 3, S, S] -> grads (flat [n, 3, S, S]) and scores [n].
 *
 * @example
 * const { grads, scores } = await inputGradients(engine, stackPixels([px], S), [target]);
 */
export function inputGradients(
  engine: ClipEngine,
  pixels: Float32Array,
  rowTargets: PreparedTarget[],
): Promise<{ grads: Float32Array; scores: Float32Array }> {
  return engine.inputGradients(
    pixels,
    rowTargets.length,
    rowTargets.map((t) => t.head),
  );
}

/**
 * ∂s_t/∂x of every target t at every image k (each [3, S, S]), handed to `use(t, k, grad)` row by row. With
 * several targets on an engine that shares forward passes, each image's forward pass is shared by its targets'
 * rows (one image, many score heads); otherwise (image, target) rows are batched. `batch`: rows per pass.
 *
 * @example
 * await forEachInputGradient(engine, noisyCopies, targets, 8, (t, k, g) => accumulate(t, g));
 */
export async function forEachInputGradient(
  engine: ClipEngine,
  images: Float32Array[],
  targets: PreparedTarget[],
  batch: number,
  use: (t: number, k: number, grad: Float32Array) => void,
): Promise<void> {
  const S = engine.config.vision.imageSize;
  const n = 3 * S * S;
  if (targets.length === 1 || !engine.sharesForward) {
    const rows = targets.flatMap((_, t) => images.map((_, k) => ({ t, k })));
    await inBatches(rows, engine.batchFor(batch), async (chunk) => {
      const x = stackPixels(
        chunk.map((r) => images[r.k]),
        S,
      );
      const { grads } = await inputGradients(
        engine,
        x,
        chunk.map((r) => targets[r.t]),
      );
      chunk.forEach((r, i) => {
        use(r.t, r.k, grads.subarray(i * n, (i + 1) * n));
      });
      return [];
    });
    return;
  }
  const rows = engine.batchFor(batch, { sharedImage: true, outputsPerRow: n });
  const ts = targets.map((_, t) => t);
  for (let k = 0; k < images.length; k++) {
    await inBatches(ts, rows, async (chunk) => {
      const { grads } = await inputGradients(
        engine,
        images[k],
        chunk.map((t) => targets[t]),
      );
      chunk.forEach((t, i) => {
        use(t, k, grads.subarray(i * n, (i + 1) * n));
      });
      return [];
    });
  }
}

/**
 * Attention probabilities of vision layers fromLayer..L−1 and the gradient of each row's score with respect to
 * them (total derivatives, all layers in the graph). Per layer [n, H, T, T] as flat arrays.
 */
export function attentionGradients(
  engine: ClipEngine,
  pixels: Float32Array,
  rowTargets: PreparedTarget[],
  fromLayer = 0,
): Promise<AttentionGradients> {
  return engine.attentionGradients(
    pixels,
    rowTargets.length,
    rowTargets.map((t) => t.head),
    fromLayer,
  );
}

/**
 * Runs `fn` over `items` in batches of `batch`, one batch at a time, concatenating results (keeps memory bounded).
 *
 * @example
 * const maps = await inBatches(targets, 8, async (chunk) => chunk.map(render));
 */
export async function inBatches<T, R>(
  items: T[],
  batch: number,
  fn: (chunk: T[], offset: number) => Promise<R[]> | R[],
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += batch) out.push(...(await fn(items.slice(i, i + batch), i)));
  return out;
}

/** Stacks [3, S, S] arrays into one row-major [n, 3, S, S] array. */
export function stackPixels(images: Float32Array[], S: number): Float32Array {
  const data = new Float32Array(images.length * 3 * S * S);
  images.forEach((im, i) => data.set(im, i * 3 * S * S));
  return data;
}

/** Σ over channels of |g|: [3, S, S] -> [S, S]. */
export function sumAbsChannels(g: Float32Array, S: number): Float32Array {
  const n = S * S;
  const out = new Float32Array(n);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out[i] += Math.abs(g[c * n + i]);
  return out;
}

/** Σ over channels of a·b: [3, S, S] × [3, S, S] -> [S, S]. */
export function sumProductChannels(a: Float32Array, b: Float32Array, S: number): Float32Array {
  const n = S * S;
  const out = new Float32Array(n);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out[i] += a[c * n + i] * b[c * n + i];
  return out;
}

/** OpenAI CLIP's preprocessing statistics. */
export const OPENAI_NORMALISATION = {
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

/** Normalised value of a pixel-space colour (0..1 per channel) for a model's mean/std. */
export function normalisedColour(rgb: [number, number, number], mean: number[], std: number[]): number[] {
  return rgb.map((v, c) => (v - mean[c]) / std[c]);
}

/** A constant image [3, S, S] with one value per channel. */
export function constantImage(values: number[], S: number): Float32Array {
  const n = S * S;
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) out.fill(values[c], c * n, (c + 1) * n);
  return out;
}

/** Separable Gaussian blur of [3, S, S] with standard deviation sigma (pixels), edges clamped. */
export function gaussianBlur(img: Float32Array, S: number, sigma: number): Float32Array {
  if (sigma <= 0) return Float32Array.from(img);
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = Float32Array.from({ length: 2 * r + 1 }, (_, i) =>
    Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)),
  );
  const sum = k.reduce((a, b) => a + b, 0);
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const n = S * S;
  const tmp = new Float32Array(3 * n);
  const out = new Float32Array(3 * n);
  const clamp = (v: number) => (v < 0 ? 0 : v >= S ? S - 1 : v);
  for (let c = 0; c < 3; c++) {
    const o = c * n;
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        let acc = 0;
        for (let j = -r; j <= r; j++) acc += k[j + r] * img[o + y * S + clamp(x + j)];
        tmp[o + y * S + x] = acc;
      }
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        let acc = 0;
        for (let j = -r; j <= r; j++) acc += k[j + r] * tmp[o + clamp(y + j) * S + x];
        out[o + y * S + x] = acc;
      }
  }
  return out;
}

export { createRng } from '../core/rng.ts';

/** Parameter checks with messages that name the method and parameter. */
export function checkInt(
  method: MethodId,
  name: string,
  v: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new Error(`${method}: ${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

export function checkNumber(method: MethodId, name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new Error(`${method}: ${name} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

export function checkChoice<T extends string>(
  method: MethodId,
  name: string,
  v: unknown,
  choices: readonly T[],
): T {
  if (!choices.includes(v as T)) {
    throw new Error(`${method}: ${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** Rejects parameters a method does not know (catches typos such as `step` for `steps`). */
export function checkKnownParams(method: MethodId, params: object, known: string[]): void {
  for (const k of Object.keys(params)) {
    if (!known.includes(k))
      throw new Error(`${method}: unknown parameter "${k}" (known: ${known.join(', ') || 'none'})`);
  }
}

/** Fills the identity fields every map carries. */
export function makeMap(
  input: AttributionInput,
  fields: Omit<AttributionMap, 'model' | 'image' | 'view' | 'tile'>,
): AttributionMap {
  return { ...fields, model: input.modelId, image: input.imageId, view: input.view, tile: input.tile };
}

/** The CLS row over patch tokens of a [T, T] matrix stored at offset `o` in `m`: -> [G*G]. */
export function clsRow(m: Float32Array | Float64Array, T: number, o = 0): Float32Array {
  return Float32Array.from(m.subarray(o + 1, o + T));
}

/**
 * Row vector times matrix: r [T] · M [T, T] (M stored at offset `o`), float64 accumulation.
 * Products of per-layer matrices are only needed through their CLS row, so rollout and relevance propagate
 * e₀ᵀ from the last layer down in O(T²) per layer instead of multiplying T×T matrices.
 */
export function rowTimesMatrix(r: Float64Array, m: ArrayLike<number>, T: number, o = 0): Float64Array {
  const out = new Float64Array(T);
  for (let k = 0; k < T; k++) {
    const rk = r[k];
    if (rk === 0) continue;
    const base = o + k * T;
    for (let j = 0; j < T; j++) out[j] += rk * m[base + j];
  }
  return out;
}

/** Target scores of the unmodified input, one forward pass for all targets. */
export async function cleanScores(input: AttributionInput, targets: PreparedTarget[]): Promise<number[]> {
  return (await scoreImages(input.model, input.pixels, 1, targets))[0];
}

/** Map normalisations offered by the methods whose official output is min-max normalised (LeGrad, Grad-ECLIP). */
export const MAP_NORMALISATIONS = ['minmax', 'none'] as const;
export type MapNormalisation = (typeof MAP_NORMALISATIONS)[number];

/**
 * (v − min) / (max − min) over the whole array (float64 arithmetic); a constant array becomes all zeros (where
 * the official code would divide by zero).
 *
 * @example
 * minMaxNormalise(Float32Array.of(2, 4, 3)); // Float32Array [0, 1, 0.5]
 */
export function minMaxNormalise(values: ArrayLike<number>): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  const span = hi - lo;
  return Float32Array.from(values, (v) => (span > 0 ? (v - lo) / span : 0));
}

/**
 * The factor from an engine score (a {@link ScoreHead} score: logits scaled by exp(logit_scale), or a softmax
 * probability) to the cosine convention of LeGrad and Grad-ECLIP, whose official target is a cosine without the
 * logit scale: 1 / logitScale for linear heads (prompt, contrast, ensemble: Σ_k w_k·cos_k), 1 for label sets (the
 * probability softmax(logitScale·cos)_label, since a softmax of bare cosines is nearly uniform).
 *
 * @example
 * cosineFactor(target.head, engine.logitScale); // 0.01 for a prompt on OpenAI CLIP
 */
export function cosineFactor(head: ScoreHead, logitScale: number): number {
  return head.softmax ? 1 : 1 / logitScale;
}
