/**
 * CLIP (OpenAI ViT architecture) in TensorFlow.js: pre-LN transformer towers, class token, EOT pooling,
 * projections and the logit scale. Dimensions come from {@link ClipConfig}; parameters from {@link ClipParams}.
 *
 * Speed on tfjs-wasm (see notes/tfjs-wasm-performance.md): activations stay 2-D `[batch*tokens, width]`
 * around every linear layer, weights are stored pre-transposed (`[in, out]`), and each linear layer has a
 * custom gradient that multiplies by an untransposed `[out, in]` copy, so neither the forward nor the
 * backward pass uses a transposed matmul operand; biases are fused into the products. LayerNorm and quick_gelu
 * have analytic gradients (fewer kernels, fewer kept tensors), and each block runs in its own tf.tidy, so
 * inference keeps no intermediates. The patch embedding is a reshape plus a linear layer.
 *
 * @example
 * const model = ClipModel.fromParams(cfg, params);
 * const emb = tf.tidy(() => model.forwardVision(pixels).embeds); // [B, E]
 * model.dispose();
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation, ClipConfig, TowerConfig } from './clip-config.ts';
import type { BlockParams, ClipParams, NormParams, Param } from './weights.ts';

/** A linear layer y = x·Wᵀ + b on 2-D activations, with a backward pass free of transposed matmuls. */
class Linear {
  readonly wT: tf.Tensor2D; // [in, out]
  readonly bias: tf.Tensor1D | undefined; // [out]
  private w: tf.Tensor2D | undefined; // [out, in], made on first backward pass
  private readonly fn: (x: tf.Tensor2D) => tf.Tensor2D;

  constructor(weight: Param, bias?: Param, rowScale?: { rows: number; scale: number }) {
    const [out, inp] = weight.shape;
    let data = weight.data;
    let b = bias?.data;
    if (rowScale) {
      // fold a per-output scale (the attention 1/sqrt(head_dim) for q) into the first rows
      data = Float32Array.from(data);
      b = b ? Float32Array.from(b) : undefined;
      for (let i = 0; i < rowScale.rows * inp; i++) data[i] *= rowScale.scale;
      if (b) for (let i = 0; i < rowScale.rows; i++) b[i] *= rowScale.scale;
    }
    this.wT = tf.tidy(() => tf.transpose(tf.tensor2d(data, [out, inp])) as tf.Tensor2D);
    this.bias = b ? tf.tensor1d(b) : undefined;
    // the bias is fused into the (fast-path) product; only dx is needed, so backward is one untransposed product
    this.fn = tf.customGrad((x, _save) => ({
      value: tf.fused.matMul({ a: x as tf.Tensor2D, b: this.wT, bias: this.bias }),
      gradFunc: (dy) => tf.matMul(dy as tf.Tensor2D, this.weight()),
    })) as unknown as (x: tf.Tensor2D) => tf.Tensor2D;
  }

  /** [out, in]: the untransposed weight, materialised once for backward passes. */
  private weight(): tf.Tensor2D {
    if (!this.w) this.w = tf.keep(tf.tidy(() => tf.transpose(this.wT) as tf.Tensor2D));
    return this.w;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return this.fn(x);
  }

  dispose(): void {
    this.wT.dispose();
    this.bias?.dispose();
    this.w?.dispose();
  }
}

/** LayerNorm over the last axis of [N, W], with an analytic input gradient (few kernels, two saved tensors). */
class LayerNorm {
  readonly gamma: tf.Tensor1D;
  readonly beta: tf.Tensor1D;
  private readonly fn: (x: tf.Tensor2D) => tf.Tensor2D;
  constructor(
    p: NormParams,
    readonly eps: number,
  ) {
    this.gamma = tf.tensor1d(p.weight.data);
    this.beta = tf.tensor1d(p.bias.data);
    this.fn = tf.customGrad((input, save) => {
      const x = input as tf.Tensor2D;
      const xc = tf.sub(x, tf.mean(x, 1, true)); // [N, W]
      const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), 1, true), this.eps)); // [N, 1]
      const xhat = tf.mul(xc, rstd);
      (save as tf.GradSaveFunc)([xhat, rstd]);
      return {
        value: tf.add(tf.mul(xhat, this.gamma), this.beta),
        // dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)), g = dy · γ
        gradFunc: (dy, [xh, r]) => {
          const g = tf.mul(dy, this.gamma);
          const inner = tf.sub(tf.sub(g, tf.mean(g, 1, true)), tf.mul(xh, tf.mean(tf.mul(g, xh), 1, true)));
          return tf.mul(inner, r);
        },
      };
    }) as unknown as (x: tf.Tensor2D) => tf.Tensor2D;
  }
  /** x: [N, W] */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return this.fn(x);
  }
  dispose(): void {
    this.gamma.dispose();
    this.beta.dispose();
  }
}

/** x·σ(1.702x) on [N, M] with an analytic gradient σ·(1 + 1.702·x·(1 − σ)) (saves x and σ only). */
const quickGelu = tf.customGrad((input, save) => {
  const x = input as tf.Tensor2D;
  const s = tf.sigmoid(tf.mul(x, 1.702));
  (save as tf.GradSaveFunc)([x, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy, [xs, ss]) => tf.mul(dy, tf.mul(ss, tf.add(tf.mul(tf.mul(xs, tf.sub(1, ss)), 1.702), 1))),
  };
}) as unknown as (x: tf.Tensor2D) => tf.Tensor2D;

function activate(x: tf.Tensor2D, act: Activation): tf.Tensor2D {
  switch (act) {
    case 'quick_gelu':
      return quickGelu(x);
    case 'gelu':
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'gelu_tanh': {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
    }
  }
}

/** Per-call options of a transformer pass. */
interface PassOptions {
  /** Collect each layer's attention probabilities [B, H, T, T]. */
  attentions?: boolean;
  /** Collect the residual stream before the first block and after each block, [B, T, W] each. */
  hidden?: boolean;
  /** Tensors [B, H, T, T] added to each layer's attention probabilities (zeros give d/dA through tf.grads). */
  attentionDeltas?: tf.Tensor[];
}

class Block {
  private readonly ln1: LayerNorm;
  private readonly ln2: LayerNorm;
  private readonly qkv: Linear;
  private readonly out: Linear;
  private readonly fc1: Linear;
  private readonly fc2: Linear;

  constructor(
    p: BlockParams,
    private readonly cfg: TowerConfig,
  ) {
    const headDim = cfg.width / cfg.heads;
    this.ln1 = new LayerNorm(p.ln1, cfg.eps);
    this.ln2 = new LayerNorm(p.ln2, cfg.eps);
    this.qkv = new Linear(p.qkv.weight, p.qkv.bias, { rows: cfg.width, scale: headDim ** -0.5 });
    this.out = new Linear(p.out.weight, p.out.bias);
    this.fc1 = new Linear(p.fc1.weight, p.fc1.bias);
    this.fc2 = new Linear(p.fc2.weight, p.fc2.bias);
  }

  /**
   * x: [B*T, W]; mask: [T, T] added to the attention scores; delta: [B, H, T, T].
   * Returns the new residual stream and the attention probabilities [B, H, T, T].
   */
  apply(
    x: tf.Tensor2D,
    B: number,
    T: number,
    mask?: tf.Tensor2D,
    delta?: tf.Tensor,
  ): [tf.Tensor2D, tf.Tensor4D] {
    const { width: W, heads: H } = this.cfg;
    const D = W / H;
    const qkv = this.qkv.apply(this.ln1.apply(x)); // [B*T, 3W]
    const [q, k, v] = tf.split(qkv, 3, 1) as tf.Tensor2D[]; // 3 × [B*T, W]
    // [B*T, W] -> [B, T, H, D] -> [B, H, T, D] -> [B*H, T, D]
    const heads = (t: tf.Tensor2D) =>
      tf.reshape(tf.transpose(tf.reshape(t, [B, T, H, D]), [0, 2, 1, 3]), [B * H, T, D]);
    let scores = tf.matMul(heads(q), heads(k), false, true) as tf.Tensor3D; // [B*H, T, T]
    if (mask) scores = tf.add(scores, mask);
    let probs = tf.reshape(tf.softmax(scores), [B, H, T, T]) as tf.Tensor4D;
    if (delta) probs = tf.add(probs, delta);
    const ctx = tf.matMul(tf.reshape(probs, [B * H, T, T]) as tf.Tensor3D, heads(v)); // [B*H, T, D]
    // [B*H, T, D] -> [B, H, T, D] -> [B, T, H, D] -> [B*T, W]
    const merged = tf.reshape(tf.transpose(tf.reshape(ctx, [B, H, T, D]), [0, 2, 1, 3]), [
      B * T,
      W,
    ]) as tf.Tensor2D;
    const h = tf.add(x, this.out.apply(merged)) as tf.Tensor2D;
    const m = this.fc2.apply(activate(this.fc1.apply(this.ln2.apply(h)), this.cfg.act));
    return [tf.add(h, m) as tf.Tensor2D, probs];
  }

  dispose(): void {
    for (const m of [this.ln1, this.ln2, this.qkv, this.out, this.fc1, this.fc2]) m.dispose();
  }
}

function runBlocks(
  blocks: Block[],
  x: tf.Tensor2D,
  B: number,
  T: number,
  W: number,
  opts: PassOptions,
  mask?: tf.Tensor2D,
): { x: tf.Tensor2D; attentions: tf.Tensor4D[]; hidden: tf.Tensor3D[] } {
  const attentions: tf.Tensor4D[] = [];
  const hidden: tf.Tensor3D[] = [];
  if (opts.hidden) hidden.push(tf.reshape(x, [B, T, W]));
  blocks.forEach((blk, i) => {
    // a tidy per block frees its intermediates at once in inference; under tf.grad the kernels keep what
    // their gradients need, so this is safe there too
    const [y, probs] = tf.tidy(() => blk.apply(x, B, T, mask, opts.attentionDeltas?.[i]));
    x = y;
    if (opts.attentions) attentions.push(probs);
    else probs.dispose();
    if (opts.hidden) hidden.push(tf.reshape(x, [B, T, W]));
  });
  return { x, attentions, hidden };
}

export interface VisionOutput {
  /** Projected image embeddings, not normalised: [B, E] */
  embeds: tf.Tensor2D;
  /** CLS token after ln_post, before projection: [B, W] */
  pooled: tf.Tensor2D;
  /** Per layer [B, H, T, T] (when requested). */
  attentions: tf.Tensor4D[];
  /** Residual stream after ln_pre and after each block, [B, T, W] (when requested). */
  hidden: tf.Tensor3D[];
  /** Patch embeddings [B, G*G, W] and embeddings with class token and positions [B, T, W] (when hidden). */
  patchEmbeds?: tf.Tensor3D;
  embeddings?: tf.Tensor3D;
}

export interface TextOutput {
  /** Projected text embeddings, not normalised: [B, E] */
  embeds: tf.Tensor2D;
  /** EOT token after ln_final: [B, W] */
  pooled: tf.Tensor2D;
  attentions: tf.Tensor4D[];
  hidden: tf.Tensor3D[];
  /** ln_final over all positions [B, L, W] (when hidden). */
  finalLn?: tf.Tensor3D;
}

/** The CLIP image and text towers as TensorFlow.js tensors. */
export class ClipModel {
  private readonly patch: Linear;
  private readonly classEmbedding: tf.Tensor3D; // [1, 1, W]
  private readonly visionPos: tf.Tensor2D; // [T, W]
  private readonly lnPre: LayerNorm;
  private readonly visionBlocks: Block[];
  private readonly lnPost: LayerNorm;
  private readonly visualProjection: Linear;
  private readonly tokenEmbedding: tf.Tensor2D; // [V, W]
  private readonly textPos: tf.Tensor2D; // [C, W]
  private readonly textBlocks: Block[];
  private readonly lnFinal: LayerNorm;
  private readonly textProjection: Linear;
  private readonly causalMask: tf.Tensor2D; // [C, C]
  /** exp(logit_scale), the factor on cosine similarities. */
  readonly logitScale: number;

  private constructor(
    readonly config: ClipConfig,
    p: ClipParams,
  ) {
    const v = config.vision;
    const t = config.text;
    const P = v.patchSize;
    // conv1 weight [W, 3, P, P] is a linear map on flattened (c, kh, kw) patches: [W, 3*P*P]
    this.patch = new Linear({ shape: [v.width, 3 * P * P], data: p.vision.patchWeight.data });
    this.classEmbedding = tf.tensor3d(p.vision.classEmbedding.data, [1, 1, v.width]);
    this.visionPos = tf.tensor2d(
      p.vision.positionEmbedding.data,
      p.vision.positionEmbedding.shape as [number, number],
    );
    this.lnPre = new LayerNorm(p.vision.lnPre, v.eps);
    this.visionBlocks = p.vision.blocks.map((b) => new Block(b, v));
    this.lnPost = new LayerNorm(p.vision.lnPost, v.eps);
    this.visualProjection = new Linear(p.vision.projection);
    this.tokenEmbedding = tf.tensor2d(
      p.text.tokenEmbedding.data,
      p.text.tokenEmbedding.shape as [number, number],
    );
    this.textPos = tf.tensor2d(
      p.text.positionEmbedding.data,
      p.text.positionEmbedding.shape as [number, number],
    );
    this.textBlocks = p.text.blocks.map((b) => new Block(b, t));
    this.lnFinal = new LayerNorm(p.text.lnFinal, t.eps);
    this.textProjection = new Linear(p.text.projection);
    const C = t.contextLength;
    const mask = new Float32Array(C * C);
    for (let i = 0; i < C; i++) for (let j = i + 1; j < C; j++) mask[i * C + j] = -1e9;
    this.causalMask = tf.tensor2d(mask, [C, C]);
    this.logitScale = Math.exp(p.logitScale);
  }

  /** Uploads parameters to the active backend. */
  static fromParams(config: ClipConfig, params: ClipParams): ClipModel {
    return new ClipModel(config, params);
  }

  /** Number of tokens of the image tower: 1 + grid². */
  get visionTokens(): number {
    return this.config.vision.grid ** 2 + 1;
  }

  /**
   * Image tower. pixels: normalised [B, 3, S, S]. Call inside tf.tidy (or tf.grads); returns new tensors.
   */
  forwardVision(pixels: tf.Tensor4D, opts: PassOptions = {}): VisionOutput {
    const { imageSize: S, patchSize: P, grid: G, width: W } = this.config.vision;
    const B = pixels.shape[0];
    if (pixels.shape[1] !== 3 || pixels.shape[2] !== S || pixels.shape[3] !== S) {
      throw new Error(`image tensor has shape [${pixels.shape}], the model needs [B, 3, ${S}, ${S}]`);
    }
    const T = G * G + 1;
    // [B, 3, S, S] -> [B*3*G, P, G, P] -> [B*3*G, G, P, P] -> [B, 3, G*G, P*P] -> [B, G*G, 3, P*P] -> [B*G*G, 3*P*P]
    let patches = tf.transpose(tf.reshape(pixels, [B * 3 * G, P, G, P]), [0, 2, 1, 3]);
    patches = tf.transpose(tf.reshape(patches, [B, 3, G * G, P * P]), [0, 2, 1, 3]);
    const flat = tf.reshape(patches, [B * G * G, 3 * P * P]) as tf.Tensor2D;
    const patchEmbeds = tf.reshape(this.patch.apply(flat), [B, G * G, W]) as tf.Tensor3D; // [B, G*G, W]
    const cls = tf.tile(this.classEmbedding, [B, 1, 1]); // [B, 1, W]
    const embeddings = tf.add(tf.concat([cls, patchEmbeds], 1), this.visionPos) as tf.Tensor3D; // [B, T, W]
    const x0 = this.lnPre.apply(tf.reshape(embeddings, [B * T, W])); // [B*T, W]
    const { x, attentions, hidden } = runBlocks(this.visionBlocks, x0, B, T, W, opts);
    // CLS rows: [B*T, W] -> [B, T, W] -> [B, W]
    const clsOut = tf.reshape(tf.slice(tf.reshape(x, [B, T, W]), [0, 0, 0], [B, 1, W]), [
      B,
      W,
    ]) as tf.Tensor2D;
    const pooled = this.lnPost.apply(clsOut);
    const embeds = this.visualProjection.apply(pooled); // [B, E]
    return { embeds, pooled, attentions, hidden, ...(opts.hidden ? { patchEmbeds, embeddings } : {}) };
  }

  /**
   * Text tower. ids: [B, C] token ids (row-major), eotIndex: the pooling position of each row.
   * Because the mask is causal, positions after the last EOT cannot influence the pooled outputs; the tower
   * runs on the first max(eot)+1 positions only unless `fullContext` is set (e.g. for debugging all positions).
   */
  forwardText(
    ids: Int32Array,
    eotIndex: ArrayLike<number>,
    opts: PassOptions & { fullContext?: boolean } = {},
  ): TextOutput {
    const { contextLength: C, width: W, vocabSize } = this.config.text;
    const B = eotIndex.length;
    if (ids.length !== B * C) throw new Error(`token ids have ${ids.length} values, expected ${B} × ${C}`);
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= vocabSize)
        throw new Error(`token id ${ids[i]} is outside the vocabulary (0..${vocabSize - 1})`);
    }
    let L = C;
    if (!opts.fullContext) L = Math.max(...Array.from(eotIndex, (e) => e + 1));
    const used = new Int32Array(B * L);
    for (let b = 0; b < B; b++) used.set(ids.subarray(b * C, b * C + L), b * L);
    const tok = tf.gather(this.tokenEmbedding, tf.tensor1d(used, 'int32')); // [B*L, W]
    const pos = tf.slice(this.textPos, [0, 0], [L, W]); // [L, W]
    const x0 = tf.reshape(tf.add(tf.reshape(tok, [B, L, W]), pos), [B * L, W]) as tf.Tensor2D;
    const mask = tf.slice(this.causalMask, [0, 0], [L, L]);
    const { x, attentions, hidden } = runBlocks(this.textBlocks, x0, B, L, W, opts, mask);
    const finalLn = this.lnFinal.apply(x); // [B*L, W]
    const rows = Int32Array.from({ length: B }, (_, b) => b * L + eotIndex[b]);
    const pooled = tf.gather(finalLn, tf.tensor1d(rows, 'int32')) as tf.Tensor2D; // [B, W]
    const embeds = this.textProjection.apply(pooled); // [B, E]
    return {
      embeds,
      pooled,
      attentions,
      hidden,
      ...(opts.hidden ? { finalLn: tf.reshape(finalLn, [B, L, W]) } : {}),
    };
  }

  /** exp(logit_scale) · cos: imageEmbeds [N, E], textEmbeds [M, E] (unnormalised) -> [N, M]. */
  logits(imageEmbeds: tf.Tensor2D, textEmbeds: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() =>
      tf.mul(tf.matMul(l2Normalize(imageEmbeds), l2Normalize(textEmbeds), false, true), this.logitScale),
    );
  }

  dispose(): void {
    this.patch.dispose();
    for (const t of [this.classEmbedding, this.visionPos, this.tokenEmbedding, this.textPos, this.causalMask])
      t.dispose();
    for (const m of [this.lnPre, this.lnPost, this.lnFinal, this.visualProjection, this.textProjection])
      m.dispose();
    for (const b of [...this.visionBlocks, ...this.textBlocks]) b.dispose();
  }
}

/** Row-wise L2 normalisation of [N, E]. */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.norm(x, 'euclidean', 1, true)));
}
