/**
 * Zero-shot probe answers for a report, computed by the probe module's `runZeroShot` (src/probe/zero-shot.ts),
 * the code the CLI (`artprobe probe zero-shot`) and the server (`POST /api/paintings/:id/probe`) run: for each
 * dimension of the probe suites (style, century, defect, …) the softmax over its labels of
 * `scale · cos(image, label)`, where a label's embedding is the normalised mean of its prompts' normalised text
 * embeddings and the scale is the probe's (`DEFAULT_LOGIT_SCALE`, 100, as the CLI and the server use by
 * default). So a painting gets the same answers and probabilities in the report as from the CLI or the server.
 *
 * @example
 * const dims = selectDimensions(await resolveSuites(), ['style', 'century']);
 * const answers = await computeProbeAnswers(clip, ['wave.jpg'], dims);
 * answers[0][0].top[0]; // { label: 'Ukiyo-e', p: 0.41 }
 */
import type { Clip, ImageInput } from '../core/clip.ts';
import type { Suite, SuiteDimension } from '../probe/suites.ts';
import { runZeroShot, type ZeroShotOptions, type ZeroShotResult } from '../probe/zero-shot.ts';
import type { ProbeAnswer } from './report-data.ts';

export type { ProbeAnswer } from './report-data.ts';

/**
 * The report's view of a zero-shot result: per image, per dimension (in the result's order), every label with
 * its probability, most probable first.
 *
 * @example
 * const result = await runZeroShot(clip, ['wave.jpg'], suites, ['style'], { topK: 10 });
 * probeAnswersOf(result)[0][0].top[0].label;
 */
export function probeAnswersOf(result: ZeroShotResult): ProbeAnswer[][] {
  return result.images.map((im) =>
    result.dimensions.map((d) => {
      const a = im.answers[d.name];
      if (!a) throw new Error(`zero-shot result of ${im.image} has no answer for dimension "${d.name}"`);
      // rank every label (runZeroShot's ranking: probability, ties in label order), not only the top-k
      const order = a.probabilities
        .map((_, i) => i)
        .sort((x, y) => a.probabilities[y] - a.probabilities[x] || x - y);
      return { dimension: d.name, top: order.map((k) => ({ label: d.labels[k].id, p: a.probabilities[k] })) };
    }),
  );
}

/**
 * Answers of every image for every dimension: result[image][dimension], each with all labels sorted by
 * probability, computed with `runZeroShot` (same scale, precision and ranking as the CLI and the server).
 *
 * @example
 * const [[style]] = await computeProbeAnswers(clip, [rgb], [styleDimension]);
 */
export async function computeProbeAnswers(
  clip: Clip,
  images: ImageInput[],
  dims: SuiteDimension[],
  opts: Pick<ZeroShotOptions, 'logitScale'> = {},
): Promise<ProbeAnswer[][]> {
  if (images.length === 0) return [];
  if (dims.length === 0) return images.map(() => []);
  for (const d of dims) {
    for (const label of d.labels)
      if (label.prompts.length === 0)
        throw new Error(`probe dimension "${d.name}": label "${label.id}" has no prompts`);
  }
  // exactly these dimensions, in this order (no lookup by name)
  const suite: Suite = {
    name: 'report',
    description: 'dimensions of the report',
    source: '<report>',
    dimensions: dims,
  };
  const result = await runZeroShot(
    clip,
    images.map((input, i) => ({ name: typeof input === 'string' ? input : `image ${i}`, input })),
    suite,
    undefined,
    { logitScale: opts.logitScale, topK: Math.max(...dims.map((d) => d.labels.length)) },
  );
  return probeAnswersOf(result);
}
