/**
 * What a map explains: a prompt's image–text logit, a label's softmax probability within a label set,
 * a contrast "A rather than B" (logit difference), or a prompt ensemble (several templates for one label).
 * A prepared target holds its normalised text embeddings once; scoring any batch of images is then
 * one matmul plus a small reduction.
 *
 * @example
 * const t = prepareTarget({ kind: 'contrast', a: 'a cat', b: 'a dog' }, (texts) => clip.textEmbeddings(texts));
 * const s = tf.tidy(() => scoreTarget(model, imageEmbeds, t)); // [B]
 */
import * as tf from '@tensorflow/tfjs';
import type { ClipModel } from '../core/clip-model.ts';
import { tidyRead } from '../core/tidy-read.ts';

export type TargetSpec =
  | { kind: 'prompt'; prompt: string }
  | {
      kind: 'label';
      label: string;
      labels: string[];
      /** Optional prompt ensemble per label (parallel to `labels`); by default each label is its own prompt. */
      prompts?: string[][];
    }
  | { kind: 'contrast'; a: string; b: string }
  | { kind: 'ensemble'; label: string; prompts: string[] };

/** A target with its text embeddings, normalised, as a kept tensor [K, E]; dispose when done. */
export interface PreparedTarget {
  spec: TargetSpec;
  /** Normalised text embeddings [K, E]. */
  text: tf.Tensor2D;
  /** Index of the label within the set (label targets). */
  index: number;
}

/** Short, stable description of a target, e.g. `a cat` or `a cat | a dog` or `label: cat`. */
export function describeTarget(spec: TargetSpec): string {
  switch (spec.kind) {
    case 'prompt':
      return spec.prompt;
    case 'label':
      return `${spec.label} (within ${spec.labels.length} labels)`;
    case 'contrast':
      return `${spec.a} rather than ${spec.b}`;
    case 'ensemble':
      return `${spec.label} (ensemble of ${spec.prompts.length})`;
  }
}

/** Validates a target specification; errors name the problem. */
export function checkTarget(spec: TargetSpec): TargetSpec {
  const nonEmpty = (s: unknown, what: string) => {
    if (typeof s !== 'string' || s.trim() === '')
      throw new Error(`target: ${what} must be a non-empty string`);
  };
  switch (spec?.kind) {
    case 'prompt':
      nonEmpty(spec.prompt, 'prompt');
      break;
    case 'label':
      if (!Array.isArray(spec.labels) || spec.labels.length < 2)
        throw new Error('target: a label set needs at least two labels');
      spec.labels.forEach((l, i) => nonEmpty(l, `label ${i + 1}`));
      if (!spec.labels.includes(spec.label))
        throw new Error(`target: label "${spec.label}" is not in the label set`);
      if (spec.prompts !== undefined) {
        if (!Array.isArray(spec.prompts) || spec.prompts.length !== spec.labels.length) {
          throw new Error(`target: prompts must hold one prompt list per label (${spec.labels.length})`);
        }
        spec.prompts.forEach((ps, i) => {
          if (!Array.isArray(ps) || ps.length === 0) throw new Error(`target: label ${i + 1} has no prompts`);
          ps.forEach((p, j) => nonEmpty(p, `prompt ${j + 1} of label ${i + 1}`));
        });
      }
      break;
    case 'contrast':
      nonEmpty(spec.a, 'contrast side A');
      nonEmpty(spec.b, 'contrast side B');
      break;
    case 'ensemble':
      nonEmpty(spec.label, 'ensemble label');
      if (!Array.isArray(spec.prompts) || spec.prompts.length === 0)
        throw new Error('target: an ensemble needs prompts');
      spec.prompts.forEach((p, i) => nonEmpty(p, `ensemble prompt ${i + 1}`));
      break;
    default:
      throw new Error(`target: unknown kind ${JSON.stringify((spec as { kind?: unknown })?.kind)}`);
  }
  return spec;
}

/** The prompts whose embeddings a target needs. */
export function targetPrompts(spec: TargetSpec): string[] {
  switch (spec.kind) {
    case 'prompt':
      return [spec.prompt];
    case 'label':
      return spec.prompts ? spec.prompts.flat() : spec.labels;
    case 'contrast':
      return [spec.a, spec.b];
    case 'ensemble':
      return spec.prompts;
  }
}

/**
 * Builds a prepared target from raw (unnormalised) text embeddings of {@link targetPrompts}, [K, E].
 * Ensembles (and label sets with per-label prompts) average the normalised prompt embeddings and renormalise
 * (CLIP's prompt ensembling).
 */
export function prepareTarget(spec: TargetSpec, textEmbeds: tf.Tensor2D): PreparedTarget {
  checkTarget(spec);
  const text = tf.tidy(() => {
    const n = tf.div(textEmbeds, tf.norm(textEmbeds, 'euclidean', 1, true)) as tf.Tensor2D; // [K, E]
    const ensemble = (rows: tf.Tensor2D) => {
      const mean = tf.mean(rows, 0, true); // [1, E]
      return tf.div(mean, tf.norm(mean, 'euclidean', 1, true)) as tf.Tensor2D;
    };
    if (spec.kind === 'ensemble') return ensemble(n);
    if (spec.kind !== 'label' || !spec.prompts) return n;
    // one ensemble per label: rows [offset, offset + count) of the flattened prompts -> [labels, E]
    let offset = 0;
    const rows = spec.prompts.map((ps) => {
      const part = tf.slice(n, [offset, 0], [ps.length, -1]) as tf.Tensor2D;
      offset += ps.length;
      return ensemble(part);
    });
    return tf.concat(rows, 0) as tf.Tensor2D;
  });
  return { spec, text: tf.keep(text), index: spec.kind === 'label' ? spec.labels.indexOf(spec.label) : 0 };
}

/** Releases a prepared target's tensors. */
export function disposeTarget(t: PreparedTarget): void {
  t.text.dispose();
}

/**
 * Target score of each image: imageEmbeds [B, E] (unnormalised) -> [B]. Call inside tf.tidy / tf.grads.
 */
export function scoreTarget(model: ClipModel, imageEmbeds: tf.Tensor2D, t: PreparedTarget): tf.Tensor1D {
  const img = tf.div(imageEmbeds, tf.norm(imageEmbeds, 'euclidean', 1, true)) as tf.Tensor2D; // [B, E]
  // logits [B, K]; the text side is a constant, so this product needs no transposed operand in backward
  const logits = tf.mul(tf.matMul(img, tf.transpose(t.text)), model.logitScale) as tf.Tensor2D;
  const B = imageEmbeds.shape[0];
  const K = t.text.shape[0];
  const column = (k: number) => tf.reshape(tf.slice(logits, [0, k], [B, 1]), [B]) as tf.Tensor1D;
  switch (t.spec.kind) {
    case 'prompt':
    case 'ensemble':
      return column(0);
    case 'contrast':
      return tf.sub(column(0), column(1));
    case 'label':
      return tf.reshape(tf.slice(tf.softmax(logits), [0, t.index], [B, 1]), [B]) as tf.Tensor1D;
  }
  throw new Error(`unsupported target with ${K} embeddings`);
}

/**
 * Scores of several targets for each image, in one forward pass: pixels [B, 3, S, S] -> [B][targets].
 */
export function scoreImages(model: ClipModel, pixels: tf.Tensor4D, targets: PreparedTarget[]): number[][] {
  const cols = tidyRead(() => {
    const emb = model.forwardVision(pixels).embeds;
    return targets.map((t) => scoreTarget(model, emb, t));
  });
  return Array.from({ length: pixels.shape[0] }, (_, b) => cols.map((c) => c[b]));
}
