/**
 * Shared maths of the attribution methods (the one place for gradients, attention gradients, baselines,
 * noise, channel reductions and parameter checks). Methods compose these; none repeats them.
 *
 * @example
 * const { grads, scores } = inputGradients(model, batch, rowTargets); // grads [B, 3, S, S]
 */
import * as tf from '@tensorflow/tfjs';
import type { ClipModel } from '../core/clip-model.ts';
import { tidyRead } from '../core/tidy-read.ts';
import { type PreparedTarget, scoreImages, scoreTarget } from './target.ts';
import type { AttributionInput, AttributionMap, MethodId } from './types.ts';

/** Rows per forward/backward pass; keeps the wasm heap bounded (ViT-B/32 ≈ 3 GB at batch 8 with gradients). */
export const DEFAULT_BATCH = 8;

/**
 * Rows per pass actually used: the requested batch, capped so that activation memory stays near ViT-B/32 at
 * batch 8 (activations grow with tokens × width × layers; ViT-B/16 gets 2, ViT-L/14 1). Forward-only passes keep
 * no activations for a backward pass and may take four times as many rows.
 *
 * @example
 * batchFor(model, 8); // 8 for ViT-B/32, 2 for ViT-B/16
 */
export function batchFor(model: ClipModel, requested: number, forwardOnly = false): number {
  const { width, layers } = model.config.vision;
  const budget = 8 * 50 * 768 * 12 * (forwardOnly ? 4 : 1);
  const cap = Math.max(1, Math.floor(budget / (model.visionTokens * width * layers)));
  return Math.max(1, Math.min(requested, cap));
}

/**
 * Per-row target scores: row b of the batch is scored with rowTargets[b]. emb [B, E] -> [B].
 * Each distinct target is scored once over the batch and masked to its rows.
 */
export function scoreRows(model: ClipModel, emb: tf.Tensor2D, rowTargets: PreparedTarget[]): tf.Tensor1D {
  const B = emb.shape[0];
  const distinct = [...new Set(rowTargets)];
  if (distinct.length === 1) return scoreTarget(model, emb, distinct[0]);
  let total: tf.Tensor1D | undefined;
  for (const t of distinct) {
    const mask = tf.tensor1d(Float32Array.from({ length: B }, (_, b) => (rowTargets[b] === t ? 1 : 0)));
    const part = tf.mul(scoreTarget(model, emb, t), mask) as tf.Tensor1D;
    total = total ? (tf.add(total, part) as tf.Tensor1D) : part;
  }
  return total as tf.Tensor1D;
}

/** The wasm backend's heap cannot grow past 4 GB; stay clearly below it. */
const WASM_HEAP_BUDGET = 3.6e9;

/**
 * Refuses, with a clear message, a backward pass that cannot fit the wasm heap (which aborts the process when
 * exhausted). Estimate: live tensors (mostly weights) × 1.6 for the matmul engine's packed copies, plus the
 * activations a backward pass keeps, ≈ 120 floats × width per token and layer (measured on ViT-B/32: batch 8
 * keeps ~1.7 GB). ViT-B models fit; ViT-L/14 does not (use tfjs-node, or rollout and occlusion).
 */
export function checkGradientMemory(model: ClipModel, rows: number): void {
  if (tf.getBackend() !== 'wasm') return;
  const { width, layers } = model.config.vision;
  const activations = rows * model.visionTokens * layers * 120 * width * 4;
  const need = tf.memory().numBytes * 1.6 + activations;
  if (need > WASM_HEAP_BUDGET) {
    throw new Error(
      `gradient methods on this model need about ${(need / 1e9).toFixed(1)} GB, more than the wasm backend's 4 GB heap ` +
        `(${model.visionTokens} tokens × ${layers} layers × width ${width}); use rollout or occlusion, or install ` +
        '@tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu (see README)',
    );
  }
}

/**
 * Gradient of each row's target score with respect to its normalised pixels.
 * pixels [B, 3, S, S] -> grads (flat [B, 3, S, S]) and scores [B].
 */
export function inputGradients(
  model: ClipModel,
  pixels: tf.Tensor4D,
  rowTargets: PreparedTarget[],
): { grads: Float32Array; scores: Float32Array } {
  checkGradientMemory(model, pixels.shape[0]);
  const [grads, scores] = tidyRead(() => {
    let scores: tf.Tensor1D | undefined;
    const g = tf.grad((x: tf.Tensor) => {
      const s = scoreRows(model, model.forwardVision(x as tf.Tensor4D).embeds, rowTargets);
      scores = tf.keep(s);
      return tf.sum(s);
    })(pixels);
    return [g, scores as tf.Tensor1D];
  });
  return { grads, scores };
}

/**
 * Runs `fn` over `items` in batches of `batch`, concatenating results (keeps memory bounded).
 */
export function inBatches<T, R>(items: T[], batch: number, fn: (chunk: T[], offset: number) => R[]): R[] {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += batch) out.push(...fn(items.slice(i, i + batch), i));
  return out;
}

/** Stacks [3, S, S] arrays into a tensor [B, 3, S, S]. */
export function stackPixels(images: Float32Array[], S: number): tf.Tensor4D {
  const data = new Float32Array(images.length * 3 * S * S);
  images.forEach((im, i) => data.set(im, i * 3 * S * S));
  return tf.tensor4d(data, [images.length, 3, S, S]);
}

/**
 * Attention probabilities of every vision layer and the gradient of each row's score with respect to them
 * (total derivatives, all layers in the graph). Returns per layer [B, H, T, T] as flat arrays.
 */
export function attentionGradients(
  model: ClipModel,
  pixels: tf.Tensor4D,
  rowTargets: PreparedTarget[],
): { probs: Float32Array[]; grads: Float32Array[]; scores: Float32Array } {
  const { layers, heads } = model.config.vision;
  const B = pixels.shape[0];
  const T = model.visionTokens;
  checkGradientMemory(model, B);
  const read = tidyRead(() => {
    const deltas = Array.from({ length: layers }, () => tf.zeros([B, heads, T, T]));
    const kept: tf.Tensor[] = [];
    let scores: tf.Tensor1D | undefined;
    const grads = tf.grads((...ds: tf.Tensor[]) => {
      const out = model.forwardVision(pixels, { attentions: true, attentionDeltas: ds });
      for (const a of out.attentions) kept.push(tf.keep(a));
      const s = scoreRows(model, out.embeds, rowTargets);
      scores = tf.keep(s);
      return tf.sum(s);
    })(deltas);
    return [...kept, ...grads, scores as tf.Tensor1D];
  });
  return { probs: read.slice(0, layers), grads: read.slice(layers, 2 * layers), scores: read[2 * layers] };
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

/** Deterministic PRNG (mulberry32) with standard normal samples (Box–Muller). */
export function createRng(seed: number): { uniform(): number; normal(): number } {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  const normal = () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { uniform, normal };
}

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
export function cleanScores(input: AttributionInput, targets: PreparedTarget[]): number[] {
  const S = input.model.config.vision.imageSize;
  const x = stackPixels([input.pixels], S);
  try {
    return scoreImages(input.model, x, targets)[0];
  } finally {
    x.dispose();
  }
}
