/**
 * Zero-shot probing with suites: for every painting and dimension, labels ranked by the softmax over
 * `scale · cos(image, label)`, where a label's text embedding is CLIP's prompt ensemble (mean of the normalised
 * prompt embeddings, renormalised). Each answer carries the attribution target that explains it, and can be
 * scored against catalog ground truth (top-1/top-k accuracy, macro-F1, confusion matrix) or explained with
 * any attribution method.
 *
 * @example
 * const clip = await loadClip('../shared/toy/A/model');
 * const suites = await resolveSuites(['style']);
 * const result = await runZeroShot(clip, ['starry-night.jpg'], suites, ['style'], { topK: 3 });
 * result.images[0].answers.style.ranked[0]; // { label: 'Post-Impressionism', probability: 0.41, … }
 * const ev = evaluateZeroShot(result, { style: ['Post-Impressionism'] });
 */
import { explainImage } from '../attribution/explain.ts';
import { type ManifestEntry, writeExplanations } from '../attribution/manifest.ts';
import type { TargetSpec } from '../attribution/target.ts';
import type { ViewKind } from '../attribution/views.ts';
import type { Clip, ImageInput } from '../core/clip.ts';
import type { Cell } from './embeddings.ts';
import type { ReportTable, TableCell } from './report.ts';
import { accuracy, classificationReport } from './stats.ts';
import { createLabelMatcher, type Suite, type SuiteDimension, selectDimensions } from './suites.ts';

/** CLIP's zero-shot temperature: logits are 100 · cosine (OpenAI's learned scale, clamped at 100). */
export const DEFAULT_LOGIT_SCALE = 100;

export interface ZeroShotOptions {
  /** Ranked labels kept per answer (default 5; capped at the number of labels). */
  topK?: number;
  /** Logit scale applied to cosines before the softmax (default 100); `'model'`: the model's own learned scale. */
  logitScale?: number | 'model';
  /** Images per encodeImage call between progress reports (default 32). */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** A painting given to runZeroShot: a path, or a named input (bytes / decoded image). */
export type ZeroShotInput = string | { name: string; input: ImageInput };

export interface RankedLabel {
  label: string;
  probability: number;
  /** scale · cos(image, label ensemble). */
  logit: number;
  /** The single prompt standing for this label in the explain target. */
  prompt: string;
}

export interface ZeroShotAnswer {
  /** Top-k labels, most probable first. */
  ranked: RankedLabel[];
  /** Probabilities of every label, in the dimension's label order (sum 1). */
  probabilities: number[];
  /** Attribution target explaining the top-1 answer (softmax over the labels' first prompts). */
  explain: TargetSpec;
  /** Filled by explainZeroShot: files of the top-1 explanation, relative to its output folder. */
  explanation?: { method: string; overlay: string; map: string; mapPainting: string; score: number }[];
}

export interface ZeroShotDimensionInfo {
  name: string;
  suite: string;
  source: string;
  description: string;
  labels: { id: string; prompts: string[] }[];
}

export interface ZeroShotResult {
  model: string;
  logitScale: number;
  topK: number;
  dimensions: ZeroShotDimensionInfo[];
  images: { image: string; answers: Record<string, ZeroShotAnswer> }[];
}

/** Normalised prompt-ensemble embedding [E] of each label. */
async function labelEmbeddings(clip: Clip, dim: SuiteDimension): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const label of dim.labels) {
    const rows = await clip.encodeText(label.prompts, { normalize: true }); // [P][E], unit rows
    const mean = new Float64Array(rows[0].length);
    for (const r of rows) for (let k = 0; k < r.length; k++) mean[k] += r[k] / rows.length;
    const n = Math.hypot(...mean);
    out.push(mean.map((v) => v / n));
  }
  return out;
}

/**
 * Numerically stable softmax.
 *
 * @example
 * softmax([1, 2, 3]); // [0.090, 0.245, 0.665]
 */
export function softmax(logits: readonly number[]): number[] {
  const m = Math.max(...logits);
  const e = logits.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Label indices by descending probability (ties: label order). */
function rankOrder(p: readonly number[]): number[] {
  return p.map((_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
}

/**
 * Runs the zero-shot probe of `dimensions` (names, or all dimensions of the suites when omitted) on images.
 *
 * @example
 * const r = await runZeroShot(clip, ['a.jpg', 'b.jpg'], suites, ['content', 'century'], { topK: 5 });
 */
export async function runZeroShot(
  clip: Clip,
  images: ZeroShotInput[],
  suites: Suite | Suite[],
  dimensions?: string[],
  opts: ZeroShotOptions = {},
): Promise<ZeroShotResult> {
  const dims = selectDimensions(Array.isArray(suites) ? suites : [suites], dimensions);
  if (images.length === 0) throw new Error('zero-shot: no images given');
  const scale =
    opts.logitScale === 'model' ? clip.engine.logitScale : (opts.logitScale ?? DEFAULT_LOGIT_SCALE);
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new Error(`zero-shot: logit scale must be a positive number, got ${scale}`);
  const topKWanted = opts.topK ?? 5;
  if (!Number.isInteger(topKWanted) || topKWanted < 1)
    throw new Error(`zero-shot: topK must be a positive integer, got ${topKWanted}`);
  const textByDim = new Map<string, Float64Array[]>();
  for (const d of dims) textByDim.set(d.name, await labelEmbeddings(clip, d));

  const named = images.map((im, i) =>
    typeof im === 'string' ? { name: im, input: im } : { name: im.name ?? `image ${i}`, input: im.input },
  );
  const chunk = opts.chunkSize ?? 32;
  const imageEmbeds: Float32Array[] = [];
  for (let i = 0; i < named.length; i += chunk) {
    imageEmbeds.push(
      ...(await clip.encodeImage(
        named.slice(i, i + chunk).map((x) => x.input),
        { normalize: true },
      )),
    );
    opts.onProgress?.(Math.min(i + chunk, named.length), named.length);
  }

  const out: ZeroShotResult = {
    model: clip.id,
    logitScale: scale,
    topK: topKWanted,
    dimensions: dims.map((d) => ({
      name: d.name,
      suite: d.suite,
      source: d.source,
      description: d.description,
      labels: d.labels.map((l) => ({ id: l.id, prompts: l.prompts })),
    })),
    images: [],
  };
  named.forEach((im, i) => {
    const img = imageEmbeds[i];
    const answers: Record<string, ZeroShotAnswer> = {};
    for (const d of dims) {
      const text = textByDim.get(d.name) as Float64Array[];
      const logits = text.map((t) => scale * t.reduce((a, x, k) => a + x * img[k], 0));
      const probabilities = softmax(logits);
      const order = rankOrder(probabilities).slice(0, Math.min(topKWanted, d.labels.length));
      const prompts = d.labels.map((l) => l.prompts[0]);
      answers[d.name] = {
        ranked: order.map((k) => ({
          label: d.labels[k].id,
          probability: probabilities[k],
          logit: logits[k],
          prompt: prompts[k],
        })),
        probabilities,
        explain: {
          kind: 'label',
          label: d.labels[order[0]].id,
          labels: d.labels.map((l) => l.id),
          prompts: d.labels.map((l) => l.prompts),
        },
      };
    }
    out.images.push({ image: im.name, answers });
  });
  return out;
}

export interface DimensionEvaluation {
  dimension: string;
  /** Images whose truth matched a label (the ones scored). */
  n: number;
  /** Images without a truth value. */
  missing: number;
  /** Truth values that match no label, with their counts (most frequent first). */
  unmatched: { value: string; count: number }[];
  top1: number;
  /** Accuracy of "truth among the top k" for k = min(5, labels). */
  top5: number;
  k5: number;
  macroF1: number;
  /** Accuracy of always guessing the most frequent true label. */
  majority: number;
  /** 1 / number of labels. */
  chance: number;
  /** Labels of the confusion matrix (suite order; those seen in truth or predictions). */
  labels: string[];
  /** confusion[i][j]: true labels[i] predicted as labels[j]. */
  confusion: number[][];
  perLabel: { label: string; precision: number; recall: number; f1: number; support: number }[];
}

export interface ZeroShotEvaluation {
  dimensions: Record<string, DimensionEvaluation>;
  /** Per image: each evaluated dimension's truth value and the label it matched (null if none). */
  truth: Record<string, { value: Cell; label: string | null }>[];
}

/**
 * Scores zero-shot answers against ground truth: `truth[dimension][i]` is image i's value (label id, alias,
 * or a year for labels with ranges; null = unknown). Matching is case-insensitive.
 *
 * @example
 * const ev = evaluateZeroShot(result, { style: catalog.rows.map((r) => r.truth.style) });
 * ev.dimensions.style.macroF1;
 */
export function evaluateZeroShot(
  result: ZeroShotResult,
  truth: Record<string, readonly Cell[]>,
  suites: Suite[],
): ZeroShotEvaluation {
  const perImage: ZeroShotEvaluation['truth'] = result.images.map(() => ({}));
  const dimensions: Record<string, DimensionEvaluation> = {};
  for (const [name, values] of Object.entries(truth)) {
    const info = result.dimensions.find((d) => d.name === name);
    if (!info) {
      throw new Error(
        `ground truth given for dimension "${name}", which was not run (dimensions: ${result.dimensions.map((d) => d.name).join(', ')})`,
      );
    }
    if (values.length !== result.images.length) {
      throw new Error(
        `ground truth of "${name}" has ${values.length} values for ${result.images.length} images`,
      );
    }
    const dim = selectDimensions(suites, [name])[0];
    const match = createLabelMatcher(dim);
    const yTrue: string[] = [];
    const yPred: string[] = [];
    let inTopK = 0;
    let missing = 0;
    const unmatched = new Map<string, number>();
    const k5 = Math.min(5, info.labels.length);
    values.forEach((v, i) => {
      const label = match(v) ?? null;
      perImage[i][name] = { value: v, label };
      if (v === null) missing++;
      else if (label === null) unmatched.set(String(v), (unmatched.get(String(v)) ?? 0) + 1);
      else {
        const p = result.images[i].answers[name].probabilities;
        const order = rankOrder(p);
        yTrue.push(label);
        yPred.push(info.labels[order[0]].id);
        if (order.slice(0, k5).some((k) => info.labels[k].id === label)) inTopK++;
      }
    });
    const unmatchedList = [...unmatched]
      .sort((a, b) => b[1] - a[1])
      .map(([value, count]) => ({ value, count }));
    if (yTrue.length === 0) {
      const ex = unmatchedList.slice(0, 5).map((u) => JSON.stringify(u.value));
      throw new Error(
        `no ground-truth value of dimension "${name}" matches a label${ex.length ? ` (values such as ${ex.join(', ')})` : ' (all values are missing)'}; labels: ${info.labels.map((l) => l.id).join(', ')} — add aliases in ${info.source}`,
      );
    }
    const seen = new Set([...yTrue, ...yPred]);
    const labels = info.labels.map((l) => l.id).filter((l) => seen.has(l));
    const rep = classificationReport(yTrue, yPred, labels);
    const counts = labels.map((l) => yTrue.filter((t) => t === l).length);
    dimensions[name] = {
      dimension: name,
      n: yTrue.length,
      missing,
      unmatched: unmatchedList,
      top1: accuracy(yTrue, yPred),
      top5: inTopK / yTrue.length,
      k5,
      macroF1: rep.macroF1,
      majority: Math.max(...counts) / yTrue.length,
      chance: 1 / info.labels.length,
      labels,
      confusion: rep.confusion,
      perLabel: labels.map((label, j) => ({
        label,
        precision: rep.precision[j],
        recall: rep.recall[j],
        f1: rep.f1[j],
        support: rep.support[j],
      })),
    };
  }
  return { dimensions, truth: perImage };
}

export interface ExplainZeroShotOptions {
  /** Attribution method id (see METHOD_IDS). */
  method: string;
  params?: Record<string, unknown>;
  view?: ViewKind;
  /** Folder for maps, overlays and manifest.json. */
  outDir: string;
  /** Dimensions to explain (default all in the result). */
  dimensions?: string[];
  onProgress?: (done: number, total: number) => void;
}

/**
 * Computes the heatmap of each top-1 answer with the attribution engine and writes it (maps, overlay,
 * manifest.json) to `outDir`; fills `answer.explanation` with the file names. `inputs[i]` is image i's input.
 *
 * @example
 * await explainZeroShot(clip, result, ['a.jpg'], { method: 'chefer-all', outDir: 'out/explanations' });
 */
export async function explainZeroShot(
  clip: Clip,
  result: ZeroShotResult,
  inputs: ZeroShotInput[],
  opts: ExplainZeroShotOptions,
): Promise<ManifestEntry[]> {
  if (inputs.length !== result.images.length)
    throw new Error(`explain: ${inputs.length} inputs for ${result.images.length} results`);
  const dims = opts.dimensions ?? result.dimensions.map((d) => d.name);
  const written: ManifestEntry[] = [];
  for (const [i, im] of result.images.entries()) {
    const given = inputs[i];
    const input = typeof given === 'string' ? given : given.input;
    const targets = dims.map((d) => {
      const a = im.answers[d];
      if (!a) throw new Error(`explain: dimension "${d}" was not run`);
      return a.explain;
    });
    const unique = [...new Map(targets.map((t) => [JSON.stringify(t), t])).values()];
    const res = await explainImage(clip, {
      image: input,
      imageName: im.image,
      targets: unique,
      methods: [{ id: opts.method, params: opts.params }],
      view: opts.view,
    });
    const entries = await writeExplanations(opts.outDir, clip.id, res);
    for (const d of dims) {
      const key = JSON.stringify(im.answers[d].explain);
      im.answers[d].explanation = entries
        .filter((e) => JSON.stringify(e.target_spec) === key)
        .map((e) => ({
          method: e.method,
          overlay: e.overlay,
          map: e.map,
          mapPainting: e.map_painting,
          score: e.score,
        }));
    }
    written.push(...entries);
    opts.onProgress?.(i + 1, result.images.length);
  }
  return written;
}

/**
 * Tables for stdout / report.md: predictions (top-k per image and dimension, with truth when evaluated),
 * accuracy per dimension, and a confusion matrix per dimension.
 *
 * @example
 * const tables = zeroShotTables(result, evaluation, { maxImages: 50 });
 */
export function zeroShotTables(
  result: ZeroShotResult,
  ev?: ZeroShotEvaluation,
  opts: { maxImages?: number } = {},
): ReportTable[] {
  const k = Math.max(...result.dimensions.map((d) => Math.min(result.topK, d.labels.length)));
  const shown = result.images.slice(0, opts.maxImages ?? result.images.length);
  const predictions: TableCell[][] = [];
  shown.forEach((im, i) => {
    for (const d of result.dimensions) {
      const a = im.answers[d.name];
      const t = ev?.truth[i]?.[d.name];
      const cells: TableCell[] = a.ranked.map((r) => `${r.label} ${r.probability.toFixed(3)}`);
      while (cells.length < k) cells.push('');
      predictions.push([
        im.image,
        d.name,
        ...(ev ? [t ? (t.label ?? (t.value === null ? '' : `? ${t.value}`)) : ''] : []),
        ...cells,
      ]);
    }
  });
  const more = result.images.length - shown.length;
  const tables: ReportTable[] = [
    {
      title: `Predictions${more > 0 ? ` (first ${shown.length} of ${result.images.length} images)` : ''}`,
      header: [
        'image',
        'dimension',
        ...(ev ? ['truth'] : []),
        ...Array.from({ length: k }, (_, j) => `#${j + 1}`),
      ],
      rows: predictions,
    },
  ];
  if (!ev) return tables;
  const evs = Object.values(ev.dimensions);
  tables.push({
    title: 'Accuracy against ground truth',
    header: ['dimension', 'n', 'missing', 'unmatched', 'top-1', 'top-5', 'macro-F1', 'majority', 'chance'],
    rows: evs.map((e) => [
      e.dimension,
      e.n,
      e.missing,
      e.unmatched.reduce((a, u) => a + u.count, 0),
      e.top1,
      e.top5,
      e.macroF1,
      e.majority,
      e.chance,
    ]),
  });
  for (const e of evs) {
    tables.push({
      title: `Confusion: ${e.dimension} (rows true, columns predicted)`,
      header: ['true \\ predicted', ...e.labels],
      rows: e.labels.map((l, i) => [l, ...e.confusion[i]]),
    });
  }
  return tables;
}
