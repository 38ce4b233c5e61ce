/**
 * Zero-shot probe answers for a report: for each dimension of the probe suites (style, century, defect, …) the
 * softmax over its labels of exp(logit_scale)·cos(image, label), where a label's embedding is the normalised mean
 * of its prompts' normalised text embeddings (the usual prompt ensemble).
 *
 * @example
 * const dims = selectDimensions(await resolveSuites(), ['style', 'century']);
 * const answers = await computeProbeAnswers(clip, ['wave.jpg'], dims);
 * answers[0][0].top[0]; // { label: 'Ukiyo-e', p: 0.41 }
 */
import type { Clip, ImageInput } from '../core/clip.ts';
import type { SuiteDimension } from '../probe/suites.ts';

export interface ProbeAnswer {
  dimension: string;
  /** Labels sorted by probability, highest first. */
  top: { label: string; p: number }[];
}

/** Normalises a vector in place and returns it. */
function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

/** Label embeddings [labels][E] of one dimension (prompt-ensemble means, normalised). */
async function labelEmbeddings(clip: Clip, dim: SuiteDimension): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const label of dim.labels) {
    if (label.prompts.length === 0)
      throw new Error(`probe dimension "${dim.name}": label "${label.id}" has no prompts`);
    const rows = await clip.encodeText(label.prompts, { normalize: true });
    const mean = new Float32Array(rows[0].length);
    for (const r of rows) for (let k = 0; k < r.length; k++) mean[k] += r[k];
    out.push(normalise(mean));
  }
  return out;
}

/**
 * Answers of every image for every dimension: result[image][dimension], each with all labels sorted by probability.
 *
 * @example
 * const [[style]] = await computeProbeAnswers(clip, [rgb], [styleDimension]);
 */
export async function computeProbeAnswers(
  clip: Clip,
  images: ImageInput[],
  dims: SuiteDimension[],
): Promise<ProbeAnswer[][]> {
  const imageEmbeds = await clip.encodeImage(images, { normalize: true });
  const scale = clip.model.logitScale;
  const labelsPerDim: Float32Array[][] = [];
  for (const d of dims) labelsPerDim.push(await labelEmbeddings(clip, d));
  return imageEmbeds.map((iv) =>
    dims.map((d, di) => {
      const logits = labelsPerDim[di].map((tv) => scale * tv.reduce((a, x, k) => a + x * iv[k], 0));
      const m = Math.max(...logits);
      const ex = logits.map((l) => Math.exp(l - m));
      const z = ex.reduce((a, b) => a + b, 0);
      const top = d.labels.map((l, i) => ({ label: l.id, p: ex[i] / z })).sort((a, b) => b.p - a.p);
      return { dimension: d.name, top };
    }),
  );
}
