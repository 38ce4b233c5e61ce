/**
 * The TensorFlow.js reference engine: {@link ClipModel} behind the {@link ClipEngine} interface. Gradients come
 * from tf.grad over the model's analytic layer gradients; scores are computed from {@link ScoreHead}s with the
 * same maths as `scoreEmbedding`. Every call runs in tf.tidy and returns plain arrays.
 *
 * @example
 * const engine = new TfjsEngine(ClipModel.fromParams(cfg, params), backendInfo);
 * const emb = await engine.embedImages(pixels, 1); // [1, E]
 * engine.dispose();
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../core/backend.ts';
import type { ClipConfig } from '../core/clip-config.ts';
import type { ClipModel } from '../core/clip-model.ts';
import { tidyRead } from '../core/tidy-read.ts';
import type { AttentionGradients, ClipEngine, ScoreHead } from './engine.ts';

/** The wasm backend's heap cannot grow past 4 GB; stay clearly below it. */
const WASM_HEAP_BUDGET = 3.6e9;

/**
 * Each row's score from its head: emb [B, E] (unnormalised) -> [B]. Rows sharing a head are scored together.
 * Call inside tf.tidy / tf.grad.
 */
export function scoreHeadsTf(logitScale: number, emb: tf.Tensor2D, heads: ScoreHead[]): tf.Tensor1D {
  const B = emb.shape[0];
  const E = emb.shape[1];
  const img = tf.div(emb, tf.norm(emb, 'euclidean', 1, true)) as tf.Tensor2D; // [B, E]
  let total: tf.Tensor1D | undefined;
  for (const h of new Set(heads)) {
    // logits [B, K]: the text side is a constant [E, K], so backward needs no transposed operand
    const textT = tf.transpose(tf.tensor2d(h.text, [h.k, E])) as tf.Tensor2D;
    const logits = tf.mul(tf.matMul(img, textT), logitScale) as tf.Tensor2D;
    const terms = h.softmax ? tf.softmax(logits) : logits;
    const w = tf.tensor2d(h.weights, [h.k, 1]);
    let s = tf.reshape(tf.matMul(terms, w), [B]) as tf.Tensor1D; // [B]
    if (heads.length > 1 && !heads.every((x) => x === h)) {
      s = tf.mul(s, tf.tensor1d(Float32Array.from(heads, (x) => (x === h ? 1 : 0)))) as tf.Tensor1D;
    }
    total = total ? (tf.add(total, s) as tf.Tensor1D) : s;
  }
  return total as tf.Tensor1D;
}

export class TfjsEngine implements ClipEngine {
  readonly kind = 'tfjs' as const;
  readonly config: ClipConfig;
  readonly logitScale: number;
  readonly description: string;

  constructor(
    /** The TF.js model (the reference port). */
    readonly model: ClipModel,
    readonly backend?: BackendInfo,
  ) {
    this.config = model.config;
    this.logitScale = model.logitScale;
    this.description = `tfjs (${backend ? `${backend.name}, ${backend.package}` : tf.getBackend()})`;
  }

  get visionTokens(): number {
    return this.model.visionTokens;
  }

  /**
   * Rows per pass: the requested batch, capped so that activation memory stays near ViT-B/32 at batch 8
   * (ViT-B/16 gets 2, ViT-L/14 1). Forward-only passes keep no activations and may take four times as many rows.
   */
  batchFor(requested: number, forwardOnly = false): number {
    const { width, layers } = this.config.vision;
    const budget = 8 * 50 * 768 * 12 * (forwardOnly ? 4 : 1);
    const cap = Math.max(1, Math.floor(budget / (this.visionTokens * width * layers)));
    return Math.max(1, Math.min(requested, cap));
  }

  private pixels(pixels: Float32Array, n: number): tf.Tensor4D {
    const S = this.config.vision.imageSize;
    if (pixels.length !== n * 3 * S * S) {
      throw new Error(`pixels hold ${pixels.length} values, expected ${n} × 3 × ${S} × ${S}`);
    }
    return tf.tensor4d(pixels, [n, 3, S, S]);
  }

  private checkHeads(heads: ScoreHead[], n: number): void {
    if (heads.length !== n) throw new Error(`${heads.length} score heads for ${n} images`);
  }

  /**
   * Refuses, with a clear message, a backward pass that cannot fit the wasm heap (which aborts the process when
   * exhausted). Estimate: live tensors (mostly weights) × 1.6 for the matmul engine's packed copies, plus the
   * activations a backward pass keeps, ≈ 120 floats × width per token and layer (measured on ViT-B/32).
   */
  checkGradientMemory(rows: number): void {
    if (tf.getBackend() !== 'wasm') return;
    const { width, layers } = this.config.vision;
    const activations = rows * this.visionTokens * layers * 120 * width * 4;
    const need = tf.memory().numBytes * 1.6 + activations;
    if (need > WASM_HEAP_BUDGET) {
      throw new Error(
        `gradient methods on this model need about ${(need / 1e9).toFixed(1)} GB, more than the wasm backend's 4 GB heap ` +
          `(${this.visionTokens} tokens × ${layers} layers × width ${width}); use --engine onnx, or rollout and ` +
          'occlusion, or install @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu (see README)',
      );
    }
  }

  async embedImages(pixels: Float32Array, n: number): Promise<Float32Array> {
    const [emb] = tidyRead(() => this.model.forwardVision(this.pixels(pixels, n)).embeds);
    return emb;
  }

  async imageAttentions(pixels: Float32Array, n: number): Promise<{ embeds: Float32Array; attentions: Float32Array[] }> {
    const [embeds, ...attentions] = tidyRead(() => {
      const out = this.model.forwardVision(this.pixels(pixels, n), { attentions: true });
      return [out.embeds, ...out.attentions];
    });
    return { embeds, attentions };
  }

  async embedTexts(ids: Int32Array, eotIndex: ArrayLike<number>): Promise<Float32Array> {
    const [emb] = tidyRead(() => this.model.forwardText(ids, eotIndex).embeds);
    return emb;
  }

  async inputGradients(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
  ): Promise<{ grads: Float32Array; scores: Float32Array }> {
    this.checkHeads(heads, n);
    this.checkGradientMemory(n);
    const [grads, scores] = tidyRead(() => {
      let scores: tf.Tensor1D | undefined;
      const g = tf.grad((x: tf.Tensor) => {
        const s = scoreHeadsTf(this.logitScale, this.model.forwardVision(x as tf.Tensor4D).embeds, heads);
        scores = tf.keep(s);
        return tf.sum(s);
      })(this.pixels(pixels, n));
      return [g, scores as tf.Tensor1D];
    });
    return { grads, scores };
  }

  async attentionGradients(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
    fromLayer = 0,
  ): Promise<AttentionGradients> {
    this.checkHeads(heads, n);
    const { layers, heads: H } = this.config.vision;
    const T = this.visionTokens;
    this.checkGradientMemory(n);
    const read = tidyRead(() => {
      const x = this.pixels(pixels, n);
      const deltas = Array.from({ length: layers }, () => tf.zeros([n, H, T, T]));
      const kept: tf.Tensor[] = [];
      let scores: tf.Tensor1D | undefined;
      const grads = tf.grads((...ds: tf.Tensor[]) => {
        const out = this.model.forwardVision(x, { attentions: true, attentionDeltas: ds });
        for (const a of out.attentions) kept.push(tf.keep(a));
        const s = scoreHeadsTf(this.logitScale, out.embeds, heads);
        scores = tf.keep(s);
        return tf.sum(s);
      })(deltas);
      return [...kept, ...grads, scores as tf.Tensor1D];
    });
    const empty = new Float32Array(0);
    const below = (l: number, a: Float32Array) => (l < fromLayer ? empty : a);
    return {
      probs: read.slice(0, layers).map((a, l) => below(l, a)),
      grads: read.slice(layers, 2 * layers).map((a, l) => below(l, a)),
      scores: read[2 * layers],
    };
  }

  dispose(): void {
    this.model.dispose();
  }
}
