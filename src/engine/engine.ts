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

/** Attention probabilities of each vision layer and the gradient of each row's score with respect to them. */
export interface AttentionGradients {
  /** Per layer [n, H, T, T]; empty arrays for layers below `fromLayer`. */
  probs: Float32Array[];
  /** ∂s/∂A per layer [n, H, T, T] (total derivatives); empty below `fromLayer`. */
  grads: Float32Array[];
  /** Each row's score [n]. */
  scores: Float32Array;
}

/** A loaded CLIP on one engine. All pixel inputs are normalised, row-major [n, 3, S, S]. */
export interface ClipEngine {
  readonly kind: EngineKind;
  /** What runs, for `doctor` and manifests, e.g. "onnx (onnxruntime-node 1.30.0, cpu, 2 threads)". */
  readonly description: string;
  readonly config: ClipConfig;
  /** exp(logit_scale): the factor on cosine similarities. */
  readonly logitScale: number;
  /** Tokens of the image tower: 1 + grid². */
  readonly visionTokens: number;
  /** Rows per pass this engine can afford for a model of this size (≤ requested, ≥ 1). */
  batchFor(requested: number, forwardOnly?: boolean): number;
  /** Projected image embeddings (not normalised): pixels [n, 3, S, S] -> [n, E]. */
  embedImages(pixels: Float32Array, n: number): Promise<Float32Array>;
  /** Embeddings [n, E] and every layer's attention probabilities, each [n, H, T, T]. */
  imageAttentions(pixels: Float32Array, n: number): Promise<{ embeds: Float32Array; attentions: Float32Array[] }>;
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
export function scoreEmbeddings(embeds: Float32Array, n: number, heads: ScoreHead[], logitScale: number): number[][] {
  const E = embeds.length / n;
  return Array.from({ length: n }, (_, b) => {
    const e = embeds.subarray(b * E, (b + 1) * E);
    return heads.map((h) => scoreEmbedding(e, h, logitScale));
  });
}
