/**
 * The engine interface: one CLIP computation contract that every attribution method, probe and command uses,
 * implemented by the TensorFlow.js reference port ({@link TfjsEngine}) and by ONNX Runtime (`OnnxEngine`).
 * Everything crosses it as plain row-major Float32Arrays, so no caller depends on an engine's tensor type.
 *
 * Scores are data ({@link ScoreHead}): a row's score is a fixed function of its image embedding, so each engine
 * can fuse it into its backward pass.
 *
 * @example
 * const emb = await engine.embedImages(pixels, n);                    // [n, E]
 * const { grads, scores } = await engine.inputGradients(pixels, n, heads); // grads [n, 3, S, S]
 */
import type { ClipConfig } from '../core/clip-config.ts';

export const ENGINE_KINDS = ['onnx', 'tfjs'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

/**
 * A target score as data. With unit text directions t̂_k (rows of `text`, [K, E]) and the image embedding e,
 * logits are l_k = logitScale · ⟨e/|e|, t̂_k⟩ and the score is
 *   Σ_k w_k · l_k            (softmax = false: a prompt's logit, a contrast's difference)
 *   Σ_k w_k · softmax(l)_k   (softmax = true: a label's probability within its label set).
 */
export interface ScoreHead {
  /** Unit text embeddings, row-major [K, E]. */
  text: Float32Array;
  /** Number of rows K. */
  k: number;
  /** One weight per logit (or per softmax probability), [K]. */
  weights: Float32Array;
  softmax: boolean;
}

/**
 * Attention probabilities of each vision layer and the gradient of each row's score with respect to them.
 * Probabilities depend on the image only: m = n rows, or 1 when one image is shared by all heads.
 */
export interface AttentionGradients {
  /** Per layer [m, H, T, T]; empty arrays for layers below `fromLayer`. */
  probs: Float32Array[];
  /** ∂s/∂A per layer [n, H, T, T] (total derivatives); empty below `fromLayer`. */
  grads: Float32Array[];
  /** Each row's score [n]. */
  scores: Float32Array;
}

/**
 * LeGrad's ingredients (Bousselham et al. 2024): for each vision block l ≥ fromLayer, the score of the block's own
 * readout and its gradient with respect to that block's attention probabilities. The readout of block l is
 * f_l = ln_post(mean over all T tokens, CLS included, of block l's output) · proj, and s_l is the row's
 * {@link ScoreHead} applied to f_l. Only block l lies on the path from A_l to s_l (a local derivative: later
 * blocks do not read s_l), so ∂s_l/∂A_l is taken through block l alone, with earlier blocks held fixed.
 */
export interface ReadoutGradients {
  /** ∂s_l/∂A_l per layer [n, H, T, T]; empty arrays for layers below `fromLayer`. */
  grads: Float32Array[];
  /** s_l per layer [n]; empty below `fromLayer`. */
  layerScores: Float32Array[];
  /** Each row's score on the model's own (CLS) embedding [n], as `attentionGradients` reports it. */
  scores: Float32Array;
}

/**
 * Grad-ECLIP's ingredients (Zhao et al. 2024) from the last vision block, recomputed with `attentionHeads` heads
 * over the full width W (1 head, scale W^-1/2, as the official notebook; the model's own head count gives the true
 * forward). The block's attention output is attn_output = softmax(q·kᵀ·(W/heads)^-1/2)·v per head, merged over
 * heads back to width W (before out_proj); the target is the row's {@link ScoreHead} on the embedding of that
 * recomputed forward.
 */
export interface GradEclipInputs {
  /** ∂s/∂attn_output at the CLS token [n, W]. */
  grad: Float32Array;
  /** q at the CLS token [m, W]: the last block's in_proj output with bias, before any scaling (m images). */
  q: Float32Array;
  /** k and v of every token [m, T, W] (in_proj outputs with bias). */
  k: Float32Array;
  v: Float32Array;
  /** The head's score of the recomputed forward's embedding [n] (the target differentiated). */
  targetScores: Float32Array;
  /** Each row's score on the model's own embedding [n]. */
  scores: Float32Array;
}

/**
 * Text-side attention gradients (Chefer et al.'s text branch): the text tower's attention probabilities and the
 * gradient of s_b = logitScale · ⟨t_b/|t_b|, î_b⟩ (the prompt's logit, the unit image embedding î_b held fixed)
 * with respect to them. Every row runs at the full context length C (positions after EOT are padding; the causal
 * mask keeps them out of the EOT row, so their gradients are 0).
 */
export interface TextAttentionGradients {
  /** Per text layer [B, H, C, C]; empty arrays for layers below `fromLayer`. */
  probs: Float32Array[];
  /** ∂s/∂A per text layer [B, H, C, C] (total derivatives); empty below `fromLayer`. */
  grads: Float32Array[];
  /** Each row's logit [B]. */
  scores: Float32Array;
}

/**
 * How a pass will be used, for {@link ClipEngine.batchFor}: forward only, or a backward pass; `sharedImage`: one
 * image shared by every head (its forward runs once per pass); `outputsPerRow`: floats each row returns.
 */
export interface BatchShape {
  forwardOnly?: boolean;
  sharedImage?: boolean;
  outputsPerRow?: number;
}

/**
 * A loaded CLIP on one engine. All pixel inputs are normalised, row-major [n, 3, S, S]. Methods with score heads
 * also take one image for all n heads (pixels [1, 3, S, S]): the image's forward pass is then shared by the rows,
 * and outputs that depend on the image only have one row.
 */
export interface ClipEngine {
  readonly kind: EngineKind;
  /** What runs, for `doctor` and manifests, e.g. "onnx (onnxruntime-node 1.30.0, cpu, 2 threads)". */
  readonly description: string;
  readonly config: ClipConfig;
  /** exp(logit_scale): the factor on cosine similarities. */
  readonly logitScale: number;
  /** Tokens of the image tower: 1 + grid². */
  readonly visionTokens: number;
  /**
   * Whether one image for many score heads runs its forward pass once (ONNX), or is repeated per row (TF.js,
   * which differentiates whole batches): callers then batch different images instead.
   */
  readonly sharesForward: boolean;
  /** Rows per pass this engine can afford for a model of this size (≤ requested, ≥ 1). */
  batchFor(requested: number, shape?: BatchShape): number;
  /** Projected image embeddings (not normalised): pixels [n, 3, S, S] -> [n, E]. */
  embedImages(pixels: Float32Array, n: number): Promise<Float32Array>;
  /** Embeddings [n, E] and every layer's attention probabilities, each [n, H, T, T]. */
  imageAttentions(
    pixels: Float32Array,
    n: number,
  ): Promise<{ embeds: Float32Array; attentions: Float32Array[] }>;
  /** Projected text embeddings (not normalised): ids [B, C] (C = context length), pooled at eotIndex -> [B, E]. */
  embedTexts(ids: Int32Array, eotIndex: ArrayLike<number>): Promise<Float32Array>;
  /** ∂s_b/∂pixels_b for each row's head: grads [n, 3, S, S] and scores [n]. */
  inputGradients(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
  ): Promise<{ grads: Float32Array; scores: Float32Array }>;
  /** Attention probabilities and ∂s/∂A for layers fromLayer..L−1 (default 0). */
  attentionGradients(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
    fromLayer?: number,
  ): Promise<AttentionGradients>;
  /**
   * LeGrad: each block's readout score s_l and ∂s_l/∂A_l for blocks fromLayer..L−1 ({@link ReadoutGradients}).
   *
   * @example
   * const { grads } = await engine.legradGradients(pixels, 1, [head], L - 2); // grads[L - 1]: [1, H, T, T]
   */
  legradGradients(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
    fromLayer: number,
  ): Promise<ReadoutGradients>;
  /**
   * Grad-ECLIP: the last block's q (CLS), k, v and ∂s/∂attn_output[CLS], with the block recomputed with
   * `attentionHeads` heads (a divisor of the width; 1 as the official notebook) ({@link GradEclipInputs}).
   *
   * @example
   * const { grad, q, k, v } = await engine.gradEclip(pixels, 1, [head], 1); // grad, q: [1, W]; k, v: [1, T, W]
   */
  gradEclip(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
    attentionHeads: number,
  ): Promise<GradEclipInputs>;
  /**
   * Text attention probabilities and ∂(logit)/∂A for text layers fromLayer..L−1, with each row's unit image
   * embedding held fixed ({@link TextAttentionGradients}). ids [B, C] (C = context length), imageUnit [B, E].
   *
   * @example
   * const { probs, grads } = await engine.textAttentionGradients(ids, [eot], imageUnit, L - 1); // [1, H, C, C]
   */
  textAttentionGradients(
    ids: Int32Array,
    eotIndex: ArrayLike<number>,
    imageUnit: Float32Array,
    fromLayer?: number,
  ): Promise<TextAttentionGradients>;
  /** Releases weights, sessions and tensors. */
  dispose(): void;
}

/**
 * The score of one image embedding under a head (float64 arithmetic): e [E] -> s.
 *
 * @example
 * scoreEmbedding(emb, { text, k: 2, weights: Float32Array.of(1, -1), softmax: false }, 100); // contrast
 */
export function scoreEmbedding(e: ArrayLike<number>, head: ScoreHead, logitScale: number): number {
  const E = e.length;
  let norm = 0;
  for (let i = 0; i < E; i++) norm += e[i] * e[i];
  norm = Math.sqrt(norm);
  const logits = new Float64Array(head.k);
  for (let k = 0; k < head.k; k++) {
    let dot = 0;
    for (let i = 0; i < E; i++) dot += e[i] * head.text[k * E + i];
    logits[k] = (logitScale * dot) / norm;
  }
  if (!head.softmax) return logits.reduce((a, l, k) => a + head.weights[k] * l, 0);
  const max = Math.max(...logits);
  const ex = logits.map((l) => Math.exp(l - max));
  const sum = ex.reduce((a, b) => a + b, 0);
  return ex.reduce((a, v, k) => a + (head.weights[k] * v) / sum, 0);
}

/** Scores of several heads for each of n embeddings [n, E]: -> [n][heads]. */
export function scoreEmbeddings(
  embeds: Float32Array,
  n: number,
  heads: ScoreHead[],
  logitScale: number,
): number[][] {
  const E = embeds.length / n;
  return Array.from({ length: n }, (_, b) => {
    const e = embeds.subarray(b * E, (b + 1) * E);
    return heads.map((h) => scoreEmbedding(e, h, logitScale));
  });
}
