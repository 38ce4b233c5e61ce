/**
 * A typed view of the layers inside a {@link ClipModel} (its vision blocks, ln_post, the visual and text
 * projections), for the TF.js engine's custom forwards (LeGrad recomputes one block, Grad-ECLIP recomputes the last
 * block with another head count, text relevance pools the EOT row without a gather, whose gradient the wasm
 * backend lacks). The layers are the model's own objects, so the custom forwards share its weights and its
 * analytic gradients and allocate nothing. `clip-model.ts` keeps them private; this is the one place that reads
 * them, and it checks their shape so that a refactor of the model fails here with a clear message, not deep in
 * a backward pass.
 *
 * @example
 * const m = modelInternals(model);
 * const [y, probs] = m.visionBlocks[l].apply(x, B, T, undefined, delta); // x, y: [B·T, W]; probs [B, H, T, T]
 */
import type * as tf from '@tensorflow/tfjs';
import type { TowerConfig } from '../core/clip-config.ts';
import type { ClipModel } from '../core/clip-model.ts';

/** A linear layer y = x·Wᵀ + b; `wT` [in, out] (for qkv, the q columns are pre-scaled by head_dim^-1/2). */
export interface LinearLayer {
  readonly wT: tf.Tensor2D;
  readonly bias: tf.Tensor1D | undefined;
  /** x [N, in] -> [N, out] */
  apply(x: tf.Tensor2D): tf.Tensor2D;
}

/** LayerNorm over the last axis of [N, W]. */
export interface NormLayer {
  /** x [N, W] -> [N, W] */
  apply(x: tf.Tensor2D): tf.Tensor2D;
}

/** One pre-LN residual block. */
export interface BlockLayer {
  readonly ln1: NormLayer;
  readonly ln2: NormLayer;
  readonly qkv: LinearLayer;
  readonly out: LinearLayer;
  readonly fc1: LinearLayer;
  readonly fc2: LinearLayer;
  readonly cfg: TowerConfig;
  /** x [B·T, W] -> [new stream [B·T, W], probabilities [B, H, T, T]] (delta [B, H, T, T] added to the probabilities). */
  apply(
    x: tf.Tensor2D,
    B: number,
    T: number,
    mask?: tf.Tensor2D,
    delta?: tf.Tensor,
  ): [tf.Tensor2D, tf.Tensor4D];
}

export interface ModelInternals {
  visionBlocks: BlockLayer[];
  lnPost: NormLayer;
  visualProjection: LinearLayer;
  /** The text projection [W, E] (applied to the EOT row after ln_final). */
  textProjection: LinearLayer;
}

/**
 * The vision layers of a model, checked.
 *
 * @example
 * const { lnPost, visualProjection } = modelInternals(model);
 */
export function modelInternals(model: ClipModel): ModelInternals {
  const m = model as unknown as Partial<ModelInternals>;
  const fn = (o: unknown, k: string) => typeof (o as Record<string, unknown> | undefined)?.[k] === 'function';
  const ok =
    Array.isArray(m.visionBlocks) &&
    m.visionBlocks.length === model.config.vision.layers &&
    m.visionBlocks.every(
      (b) =>
        fn(b, 'apply') &&
        ['ln1', 'ln2', 'qkv', 'out', 'fc1', 'fc2'].every((k) => fn(b[k as keyof BlockLayer], 'apply')),
    ) &&
    fn(m.lnPost, 'apply') &&
    fn(m.visualProjection, 'apply') &&
    fn(m.textProjection, 'apply');
  if (!ok)
    throw new Error(
      'the TF.js engine cannot read the vision layers of ClipModel (visionBlocks, lnPost, visualProjection, textProjection); ' +
        'src/engine/tfjs-internals.ts must follow src/core/clip-model.ts',
    );
  return m as ModelInternals;
}
