/**
 * Zero-shot answers of suite dimensions for images given as model-input pixels (the steered inputs are not
 * files). The maths is that of `probe/zero-shot.ts`: a label's text embedding is the normalised mean of its
 * normalised prompt embeddings, probabilities are the softmax of scale · cos (scale 100 by default), and the
 * answer is the most probable label. Each dimension also yields the attribution target of any of its labels
 * (a `label` target with the dimension's prompt ensembles), which steering uses as its score.
 *
 * @example
 * const dims = await prepareDimensions(clip, selectDimensions(await resolveSuites(), ['style']));
 * answerDimension(dims[0], embedding).ranked[0]; // { label: 'Baroque', probability: 0.31 }
 */
import type { TargetSpec } from '../attribution/target.ts';
import type { SuiteDimension } from '../probe/suites.ts';
import { DEFAULT_LOGIT_SCALE, softmax } from '../probe/zero-shot.ts';

export interface DimensionProbe {
  name: string;
  labels: string[];
  /** Prompts per label (the ensemble). */
  prompts: string[][];
  /** Unit label embeddings [E] each. */
  text: Float64Array[];
  scale: number;
}

export interface DimensionAnswer {
  top: string;
  /** Labels by probability, highest first (top k). */
  ranked: { label: string; probability: number }[];
}

/**
 * Label embeddings of each dimension (prompt ensembles), ready to answer from image embeddings.
 *
 * @example
 * const probes = await prepareDimensions(clip, dims);
 */
export async function prepareDimensions(
  clip: { encodeText(texts: string[], opts?: { normalize?: boolean }): Promise<Float32Array[]> },
  dims: SuiteDimension[],
  scale = DEFAULT_LOGIT_SCALE,
): Promise<DimensionProbe[]> {
  const out: DimensionProbe[] = [];
  for (const d of dims) {
    const text: Float64Array[] = [];
    for (const label of d.labels) {
      const rows = await clip.encodeText(label.prompts, { normalize: true });
      const mean = new Float64Array(rows[0].length);
      for (const r of rows) for (let k = 0; k < r.length; k++) mean[k] += r[k] / rows.length;
      const n = Math.hypot(...mean);
      text.push(mean.map((v) => v / n));
    }
    out.push({
      name: d.name,
      labels: d.labels.map((l) => l.id),
      prompts: d.labels.map((l) => l.prompts),
      text,
      scale,
    });
  }
  return out;
}

/**
 * Probabilities of a dimension's labels for one image embedding [E] (unnormalised is fine).
 *
 * @example
 * const p = dimensionProbabilities(probe, emb);
 */
export function dimensionProbabilities(probe: DimensionProbe, embedding: ArrayLike<number>): number[] {
  let n = 0;
  for (let i = 0; i < embedding.length; i++) n += embedding[i] * embedding[i];
  n = Math.sqrt(n) || 1;
  const logits = probe.text.map((t) => {
    let s = 0;
    for (let i = 0; i < t.length; i++) s += t[i] * embedding[i];
    return (probe.scale * s) / n;
  });
  return softmax(logits);
}

/**
 * The zero-shot answer (top label and the k most probable) of one dimension for an image embedding.
 *
 * @example
 * answerDimension(probe, emb, 3).top; // 'Impressionism'
 */
export function answerDimension(probe: DimensionProbe, embedding: ArrayLike<number>, k = 3): DimensionAnswer {
  const p = dimensionProbabilities(probe, embedding);
  const order = p.map((_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
  return {
    top: probe.labels[order[0]],
    ranked: order.slice(0, Math.min(k, p.length)).map((i) => ({ label: probe.labels[i], probability: p[i] })),
  };
}

/**
 * The attribution/steering target of one label of a dimension: its softmax probability within the dimension,
 * with the dimension's prompt ensembles.
 *
 * @example
 * const spec = labelTarget(probe, 'Baroque'); // { kind: 'label', label: 'Baroque', labels: [...], prompts: [...] }
 */
export function labelTarget(probe: DimensionProbe, label: string): TargetSpec {
  if (!probe.labels.includes(label)) throw new Error(`dimension ${probe.name} has no label "${label}"`);
  return { kind: 'label', label, labels: probe.labels, prompts: probe.prompts };
}
