/**
 * What a map explains: a prompt's image–text logit, a label's softmax probability within a label set,
 * a contrast "A rather than B" (logit difference), or a prompt ensemble (several templates for one label).
 * A prepared target holds its normalised text embeddings once; scoring any batch of images is then
 * one matmul plus a small reduction.
 *
 * @example
 * const [t] = await prepareTargets(clip, [{ kind: 'contrast', a: 'a cat', b: 'a dog' }]);
 * const [[s]] = await scoreImages(clip.engine, pixels, 1, [t]);
 */
import { type ClipEngine, type ScoreHead, scoreEmbeddings } from '../engine/engine.ts';

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

/** A target with its score as data: unit text directions [K, E], weights and the softmax flag. */
export interface PreparedTarget {
  spec: TargetSpec;
  head: ScoreHead;
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
 * Builds a prepared target from raw (unnormalised) text embeddings of {@link targetPrompts}, one [E] per prompt.
 * Ensembles (and label sets with per-label prompts) average the normalised prompt embeddings and renormalise
 * (CLIP's prompt ensembling). The score itself is data ({@link ScoreHead}), so every engine can compute it.
 *
 * @example
 * const t = prepareTarget({ kind: 'contrast', a: 'a cat', b: 'a dog' }, await clip.encodeText(['a cat', 'a dog']));
 */
export function prepareTarget(spec: TargetSpec, textEmbeds: Float32Array[]): PreparedTarget {
  checkTarget(spec);
  const expected = targetPrompts(spec).length;
  if (textEmbeds.length !== expected) {
    throw new Error(`target: ${expected} text embeddings needed, got ${textEmbeds.length}`);
  }
  const unit = (v: ArrayLike<number>) => {
    let n = 0;
    for (let i = 0; i < v.length; i++) n += v[i] * v[i];
    n = Math.sqrt(n);
    return Float64Array.from(v, (x) => x / n);
  };
  const ensemble = (rows: Float64Array[]) => {
    const mean = new Float64Array(rows[0].length);
    for (const r of rows) for (let i = 0; i < r.length; i++) mean[i] += r[i] / rows.length;
    return unit(mean);
  };
  const normed = textEmbeds.map(unit);
  let rows: Float64Array[];
  if (spec.kind === 'ensemble') rows = [ensemble(normed)];
  else if (spec.kind === 'label' && spec.prompts) {
    // one ensemble per label: rows [offset, offset + count) of the flattened prompts -> [labels][E]
    let offset = 0;
    rows = spec.prompts.map((ps) => {
      const part = normed.slice(offset, offset + ps.length);
      offset += ps.length;
      return ensemble(part);
    });
  } else rows = normed;
  const E = rows[0].length;
  const text = new Float32Array(rows.length * E); // [K, E]
  rows.forEach((r, k) => text.set(r, k * E));
  const index = spec.kind === 'label' ? spec.labels.indexOf(spec.label) : 0;
  const weights = new Float32Array(rows.length);
  if (spec.kind === 'contrast') weights.set([1, -1]);
  else weights[index] = 1;
  return { spec, head: { text, k: rows.length, weights, softmax: spec.kind === 'label' }, index };
}

/**
 * Prepares targets with a model's text embeddings (computed once per prompt and cached by the model).
 *
 * @example
 * const [t] = await prepareTargets(clip, [{ kind: 'prompt', prompt: 'a wave' }]);
 */
export async function prepareTargets(
  clip: { encodeText(texts: string[]): Promise<Float32Array[]> },
  specs: TargetSpec[],
): Promise<PreparedTarget[]> {
  const out: PreparedTarget[] = [];
  for (const spec of specs)
    out.push(prepareTarget(checkTarget(spec), await clip.encodeText(targetPrompts(spec))));
  return out;
}

/**
 * Scores of several targets for each image, in one forward pass: pixels [n, 3, S, S] -> [n][targets].
 *
 * @example
 * const [[s]] = await scoreImages(engine, pixels, 1, [target]);
 */
export async function scoreImages(
  engine: ClipEngine,
  pixels: Float32Array,
  n: number,
  targets: PreparedTarget[],
): Promise<number[][]> {
  const emb = await engine.embedImages(pixels, n);
  return scoreEmbeddings(
    emb,
    n,
    targets.map((t) => t.head),
    engine.logitScale,
  );
}
