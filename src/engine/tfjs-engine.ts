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
import type { Activation, ClipConfig } from '../core/clip-config.ts';
import type { ClipModel } from '../core/clip-model.ts';
import { tidyRead } from '../core/tidy-read.ts';
import type {
  AttentionGradients,
  BatchShape,
  ClipEngine,
  GradEclipInputs,
  ReadoutGradients,
  ScoreHead,
  TextAttentionGradients,
} from './engine.ts';
import { modelInternals } from './tfjs-internals.ts';

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

/** The MLP activation of a tower, with TF.js's own gradients (for the custom forwards). x: [N, M]. */
function activation(x: tf.Tensor2D, act: Activation): tf.Tensor2D {
  switch (act) {
    case 'quick_gelu':
      return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
    case 'gelu':
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'gelu_tanh': {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
    }
  }
}

/** Throws unless `from` is a layer index 0..L−1. */
function checkFromLayer(from: number, L: number): void {
  if (!Number.isInteger(from) || from < 0 || from >= L)
    throw new Error(`fromLayer ${from} is outside 0..${L - 1}`);
}

export class TfjsEngine implements ClipEngine {
  readonly kind = 'tfjs' as const;
  readonly sharesForward = false;
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
   * A shared image is repeated per row here (TF.js differentiates the whole batch), so it costs the same.
   */
  batchFor(requested: number, shape: BatchShape = {}): number {
    const { width, layers } = this.config.vision;
    const budget = 8 * 50 * 768 * 12 * (shape.forwardOnly ? 4 : 1);
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

  /** Whether n score-head rows share one image (pixels [1, 3, S, S]). */
  private sharedImage(pixels: Float32Array, n: number): boolean {
    const S = this.config.vision.imageSize;
    return n > 1 && pixels.length === 3 * S * S;
  }

  /** Pixels of n score-head rows: n images, or one image shared by all (repeated: [1, …] -> [n, …]). */
  private headPixels(pixels: Float32Array, n: number): tf.Tensor4D {
    if (this.sharedImage(pixels, n)) return tf.tile(this.pixels(pixels, 1), [n, 1, 1, 1]) as tf.Tensor4D;
    return this.pixels(pixels, n);
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

  async imageAttentions(
    pixels: Float32Array,
    n: number,
  ): Promise<{ embeds: Float32Array; attentions: Float32Array[] }> {
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
      })(this.headPixels(pixels, n));
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
      const x = this.headPixels(pixels, n);
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
    // probabilities depend on the image only: one row when it is shared
    const perImage = (a: Float32Array) => (this.sharedImage(pixels, n) ? a.slice(0, H * T * T) : a);
    return {
      probs: read.slice(0, layers).map((a, l) => below(l, perImage(a))),
      grads: read.slice(layers, 2 * layers).map((a, l) => below(l, a)),
      scores: read[2 * layers],
    };
  }

  async legradGradients(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
    fromLayer: number,
  ): Promise<ReadoutGradients> {
    this.checkHeads(heads, n);
    const { layers: L, heads: H, width: W } = this.config.vision;
    checkFromLayer(fromLayer, L);
    const T = this.visionTokens;
    this.checkGradientMemory(n);
    const { visionBlocks, lnPost, visualProjection } = modelInternals(this.model);
    const read = tidyRead(() => {
      // hidden[l]: the input of block l [n, T, W]
      const out = this.model.forwardVision(this.headPixels(pixels, n), { hidden: true });
      const res: tf.Tensor[] = [scoreHeadsTf(this.logitScale, out.embeds, heads)];
      for (let l = fromLayer; l < L; l++) {
        const x = tf.reshape(out.hidden[l], [n * T, W]) as tf.Tensor2D; // [n, T, W] -> [n·T, W], a constant here
        let s: tf.Tensor1D | undefined;
        // block l alone, with a zero tensor added to its probabilities: d s_l / d delta = d s_l / d A_l
        const g = tf.grad((delta: tf.Tensor) => {
          const [y] = visionBlocks[l].apply(x, n, T, undefined, delta); // [n·T, W]
          const pooled = tf.mean(tf.reshape(y, [n, T, W]), 1) as tf.Tensor2D; // [n, T, W] -> [n, W]
          s = tf.keep(scoreHeadsTf(this.logitScale, visualProjection.apply(lnPost.apply(pooled)), heads));
          return tf.sum(s);
        })(tf.zeros([n, H, T, T]));
        res.push(g, s as tf.Tensor1D);
      }
      return res;
    });
    const empty = new Float32Array(0);
    const grads: Float32Array[] = Array.from({ length: L }, () => empty);
    const layerScores: Float32Array[] = Array.from({ length: L }, () => empty);
    for (let l = fromLayer; l < L; l++) {
      grads[l] = read[1 + 2 * (l - fromLayer)];
      layerScores[l] = read[2 + 2 * (l - fromLayer)];
    }
    return { grads, layerScores, scores: read[0] };
  }

  async gradEclip(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
    attentionHeads: number,
  ): Promise<GradEclipInputs> {
    this.checkHeads(heads, n);
    const { layers: L, heads: H, width: W } = this.config.vision;
    const nh = attentionHeads;
    if (!Number.isInteger(nh) || nh < 1 || W % nh !== 0)
      throw new Error(`attentionHeads must be a positive divisor of the width ${W}, got ${nh}`);
    const T = this.visionTokens;
    const Dn = W / nh;
    this.checkGradientMemory(n);
    const { visionBlocks, lnPost, visualProjection } = modelInternals(this.model);
    const blk = visionBlocks[L - 1];
    const [grad, q, k, v, targetScores, scores] = tidyRead(() => {
      const out = this.model.forwardVision(this.headPixels(pixels, n), { hidden: true });
      const scores = scoreHeadsTf(this.logitScale, out.embeds, heads);
      const x = tf.reshape(out.hidden[L - 1], [n * T, W]) as tf.Tensor2D; // input of the last block [n·T, W]
      const qkv = blk.qkv.apply(blk.ln1.apply(x)); // [n·T, 3W]
      const [qScaled, k2, v2] = tf.split(qkv, 3, 1) as tf.Tensor2D[]; // 3 × [n·T, W]
      // the model stores q pre-multiplied by head_dim^-1/2; undo it
      const q2 = tf.mul(qScaled, Math.sqrt(W / H)) as tf.Tensor2D;
      // CLS rows: [n·T, W] -> [n, T, W] -> [n, 1, W] -> [n, W]
      const cls = (t: tf.Tensor2D) =>
        tf.reshape(tf.slice(tf.reshape(t, [n, T, W]), [0, 0, 0], [n, 1, W]), [n, W]) as tf.Tensor2D;
      const qc = cls(q2);
      // [n·T, W] -> [n, T, nh, Dn] -> [n, nh, T, Dn] -> [n·nh, T, Dn]
      const split = (t: tf.Tensor2D) =>
        tf.reshape(tf.transpose(tf.reshape(t, [n, T, nh, Dn]), [0, 2, 1, 3]), [n * nh, T, Dn]) as tf.Tensor3D;
      const qh = tf.reshape(qc, [n * nh, 1, Dn]) as tf.Tensor3D; // [n, W] -> [n·nh, 1, Dn]
      const probs = tf.softmax(tf.mul(tf.matMul(qh, split(k2), false, true), Dn ** -0.5)); // [n·nh, 1, T]
      // the CLS row of attn_output, merged head-major as the model does: [n·nh, 1, Dn] -> [n, W]
      const ctx = tf.reshape(tf.matMul(probs as tf.Tensor3D, split(v2)), [n, W]) as tf.Tensor2D;
      const xc = cls(x);
      let target: tf.Tensor1D | undefined;
      const g = tf.grad((c: tf.Tensor) => {
        const h = tf.add(xc, blk.out.apply(c as tf.Tensor2D)) as tf.Tensor2D; // [n, W]
        const y = tf.add(
          h,
          blk.fc2.apply(activation(blk.fc1.apply(blk.ln2.apply(h)), blk.cfg.act)),
        ) as tf.Tensor2D;
        target = tf.keep(scoreHeadsTf(this.logitScale, visualProjection.apply(lnPost.apply(y)), heads));
        return tf.sum(target);
      })(ctx);
      return [g, qc, k2, v2, target as tf.Tensor1D, scores];
    });
    if (!this.sharedImage(pixels, n)) return { grad, q, k, v, targetScores, scores };
    // q, k, v depend on the image only: one row when it is shared
    return { grad, q: q.slice(0, W), k: k.slice(0, T * W), v: v.slice(0, T * W), targetScores, scores };
  }

  async textAttentionGradients(
    ids: Int32Array,
    eotIndex: ArrayLike<number>,
    imageUnit: Float32Array,
    fromLayer = 0,
  ): Promise<TextAttentionGradients> {
    const { layers: L, heads: H, contextLength: C } = this.config.text;
    const E = this.config.embedDim;
    const B = eotIndex.length;
    checkFromLayer(fromLayer, L);
    if (imageUnit.length !== B * E)
      throw new Error(`imageUnit has ${imageUnit.length} values, expected ${B} × ${E}`);
    const used = L - fromLayer;
    const { textProjection } = modelInternals(this.model);
    // one-hot EOT rows [B, C, 1]: the pooled row as a product (a gather's gradient is missing on wasm)
    const onehot = new Float32Array(B * C);
    for (let b = 0; b < B; b++) onehot[b * C + eotIndex[b]] = 1;
    const read = tidyRead(() => {
      const img = tf.tensor2d(imageUnit, [B, E]);
      const pick = tf.tensor3d(onehot, [B, C, 1]);
      const kept: tf.Tensor[] = [];
      let scores: tf.Tensor1D | undefined;
      const grads = tf.grads((...ds: tf.Tensor[]) => {
        const attentionDeltas: tf.Tensor[] = [];
        ds.forEach((d, j) => {
          attentionDeltas[fromLayer + j] = d; // layers below fromLayer get none
        });
        const out = this.model.forwardText(ids, eotIndex, {
          attentions: true,
          attentionDeltas,
          fullContext: true,
          hidden: true,
        });
        for (let l = fromLayer; l < L; l++) kept.push(tf.keep(out.attentions[l]));
        const pooled = tf.sum(tf.mul(out.finalLn as tf.Tensor3D, pick), 1) as tf.Tensor2D; // [B, C, W] -> [B, W]
        const emb = textProjection.apply(pooled); // [B, E]
        const t = tf.div(emb, tf.norm(emb, 'euclidean', 1, true)); // [B, E]
        const s = tf.mul(tf.sum(tf.mul(t, img), 1), this.logitScale) as tf.Tensor1D; // [B]
        scores = tf.keep(s);
        return tf.sum(s);
      })(Array.from({ length: used }, () => tf.zeros([B, H, C, C])));
      return [...kept, ...grads, scores as tf.Tensor1D];
    });
    const empty = new Float32Array(0);
    const probs: Float32Array[] = Array.from({ length: L }, () => empty);
    const grads: Float32Array[] = Array.from({ length: L }, () => empty);
    for (let j = 0; j < used; j++) {
      probs[fromLayer + j] = read[j];
      grads[fromLayer + j] = read[used + j];
    }
    return { probs, grads, scores: read[2 * used] };
  }

  dispose(): void {
    this.model.dispose();
  }
}
