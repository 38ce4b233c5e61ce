/**
 * The model work of the decomposition and steering diagnostics, done in a model worker process (`model-worker.ts`
 * hands `diagnostics` requests to {@link runDiagnostics}): the decomposition of one painting (every head's, MLP's
 * and embedding term's direct contribution scored on text directions, with every head's patch map), steering one
 * painting along CLIP's gradient under an L∞ budget (answers before and after, PSNR/SSIM, the images as PNG),
 * head roles over several paintings (TextSpan) and robustness curves (the smallest budget that flips each
 * dimension's answer). Paintings are decoded under the request's pixel budget, like explanation jobs; error
 * messages name paintings by their workspace names, never by their paths.
 *
 * The decomposition runs on a TF.js copy of the model's vision tower built once per loaded model (the
 * decomposition needs every block's parameters; `ClipDecomposer.forClip`), whatever the worker's engine.
 *
 * @example
 * const out = await runDiagnostics(clip, { type: 'diagnostics', requestId, task: { op: 'decompose', image, imageName,
 *   texts: ['a red circle'], versusRest: false, view: 'crop' } }, { maxPixels, progress: () => {} });
 */
import sharp from 'sharp';
import { describeTarget } from '../attribution/target.ts';
import { prepareView } from '../attribution/views.ts';
import type { Clip } from '../core/clip.ts';
import { decodeImage, type RgbImage } from '../core/image-decode.ts';
import { encodeNpy } from '../core/npy.ts';
import { ClipDecomposer, headTokenMap, patchGrid } from '../decompose/decompose.ts';
import { type DirectionInfo, textDirections } from '../decompose/directions.ts';
import { headRoles } from '../decompose/heads.ts';
import { DEFAULT_VOCABULARY, loadVocabulary, parseVocabulary } from '../decompose/vocabulary.ts';
import type { SuiteDimension } from '../probe/suites.ts';
import { type DimensionAnswer, prepareDimensions } from '../steer/answers.ts';
import { denormalisePixels } from '../steer/pgd.ts';
import { flipCurves } from '../steer/robustness.ts';
import { planesToRgb, steerPainting } from '../steer/steer.ts';
import {
  type Decomposition,
  type DirectionScores,
  type HeadRolesResult,
  MAX_DIMENSION_DIRECTIONS,
  type RobustnessResult,
  type SteerFile,
  type SteerResult,
} from './schemas/decompose.ts';

/** A painting file of the workspace and the name errors give it. */
export interface NamedImage {
  file: string;
  name: string;
  id: string;
}

/** One piece of diagnostics work. Budgets (`epsilon`, `epsilons`) are in [0, 1] pixel units. */
export type DiagnosticsTask =
  | {
      op: 'decompose';
      image: NamedImage;
      texts?: string[];
      versusRest: boolean;
      /** Instead of texts: each label of the dimension against the mean of the others. */
      dimension?: SuiteDimension;
      view: 'crop' | 'pad';
    }
  | {
      op: 'steer';
      image: NamedImage;
      toward: string;
      away?: string;
      labels?: string[];
      epsilon: number;
      steps: number;
      stepFraction?: number;
      dimensions: SuiteDimension[];
      topK: number;
    }
  | {
      op: 'headRoles';
      images: NamedImage[];
      layers?: number[];
      lastLayers: number;
      textsPerHead: number;
      rank: number;
      /** Vocabulary text (the file format); absent: the shipped vocabulary. */
      vocabulary?: string;
    }
  | {
      op: 'robustness';
      images: NamedImage[];
      dimensions: SuiteDimension[];
      epsilons: number[];
      steps: number;
      stepFraction?: number;
    };

/** The request a model worker receives. */
export interface DiagnosticsWorkerRequest {
  type: 'diagnostics';
  requestId: string;
  /** Pixel budget of each decoded painting (default: no shrinking). */
  maxMapPixels?: number;
  task: DiagnosticsTask;
}

/** A decomposition as the worker answers it: the JSON and every head's patch map, float32 [K, L, H, G, G]. */
export interface DecomposeOutput {
  json: Omit<Decomposition, 'id' | 'paintingId' | 'cached' | 'model'>;
  maps: Float32Array;
}

/** A steering run as the worker answers it: the JSON and its files. */
export interface SteerOutput {
  json: Omit<SteerResult, 'id' | 'paintingId' | 'cached' | 'model' | 'files'>;
  files: Record<SteerFile, Uint8Array>;
}

export interface DiagnosticsResults {
  decompose: DecomposeOutput;
  steer: SteerOutput;
  headRoles: HeadRolesResult;
  robustness: RobustnessResult;
}

/** What the decomposition JSON says its numbers are. */
export const DECOMPOSITION_DEFINITION =
  'embedding = Σ_terms P(γ ⊙ (c − mean c)/σ) + P β with σ = sqrt(var(z) + eps) of the final class token z ' +
  '(ln_post with its per-image scale fixed, Gandelsman et al. 2024); a term’s score is ⟨its contribution, the ' +
  'direction⟩, and the scores of all terms add up to ⟨embedding, direction⟩; a head’s map is each patch token’s part ' +
  'of its score (the class token’s part is clsToken).';

let decomposer: { clip: Clip; dec: Promise<ClipDecomposer> } | undefined;

/** The decomposer of the loaded model (built once per model). */
function decomposerFor(clip: Clip): Promise<ClipDecomposer> {
  if (decomposer?.clip !== clip) {
    releaseDiagnostics();
    const dec = ClipDecomposer.forClip(clip);
    decomposer = { clip, dec };
    dec.catch(() => {
      if (decomposer?.dec === dec) decomposer = undefined;
    });
  }
  return decomposer.dec;
}

/**
 * Frees what the diagnostics keep of a model (its decomposer): call before the model is disposed.
 *
 * @example
 * releaseDiagnostics(); clip.dispose();
 */
export function releaseDiagnostics(): void {
  const d = decomposer;
  decomposer = undefined;
  d?.dec.then(
    (x) => x.dispose(),
    () => undefined,
  );
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const r255 = (e: number) => Number((e * 255).toPrecision(4));

const png = (img: RgbImage): Promise<Uint8Array> =>
  sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .png()
    .toBuffer()
    .then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));

/** Each label of a dimension against the mean of the others (unit prompt-ensemble embeddings). */
async function dimensionDirections(clip: Clip, dim: SuiteDimension): Promise<DirectionInfo[]> {
  if (dim.labels.length > MAX_DIMENSION_DIRECTIONS)
    throw new Error(
      `dimension ${dim.name} has ${dim.labels.length} labels; a decomposition takes at most ${MAX_DIMENSION_DIRECTIONS}`,
    );
  const [probe] = await prepareDimensions(clip, [dim]);
  const n = probe.labels.length;
  return probe.labels.map((label, k) => {
    const v = Float64Array.from(probe.text[k]);
    for (let j = 0; j < n; j++) {
      if (j === k) continue;
      for (let i = 0; i < v.length; i++) v[i] -= probe.text[j][i] / (n - 1);
    }
    return {
      kind: 'versus-rest',
      label: `${label} − mean(rest)`,
      texts: [label, ...probe.labels.filter((x) => x !== label)],
      vector: v,
    };
  });
}

async function decompose(
  clip: Clip,
  task: Extract<DiagnosticsTask, { op: 'decompose' }>,
  decode: (im: NamedImage) => Promise<RgbImage>,
): Promise<DecomposeOutput> {
  const t0 = performance.now();
  const dec = await decomposerFor(clip);
  const directions = task.dimension
    ? await dimensionDirections(clip, task.dimension)
    : await textDirections(clip, task.texts ?? [], { versusRest: task.versusRest });
  if (directions.length === 0) throw new Error('decompose: give texts or a dimension');
  const decoded = await decode(task.image);
  const view = prepareView(decoded, task.view, clip.preprocessor.config);
  let d: Awaited<ReturnType<ClipDecomposer['decompose']>>[number];
  try {
    [d] = await dec.decompose(view.inputs[0], 1, directions);
  } finally {
    dec.clearDirections();
  }
  const { layers: L, heads: H, grid: G } = d;
  const K = directions.length;
  const maps = new Float32Array(K * L * H * G * G);
  const scores: DirectionScores[] = directions.map((dir, k) => {
    const zeros = () => Array.from({ length: L }, () => new Array<number>(H).fill(0));
    const heads = zeros();
    const clsToken = zeros();
    const mlp = new Array<number>(L).fill(0);
    const attentionBias = new Array<number>(L).fill(0);
    let embed = 0;
    let lnPostBias = 0;
    for (const t of d.terms) {
      const s = t.scores[k];
      if (t.kind === 'head' && t.layer !== null && t.head !== undefined) {
        heads[t.layer][t.head] = s;
        const tokens = headTokenMap(d, t.layer, t.head, k);
        clsToken[t.layer][t.head] = tokens[0];
        maps.set(patchGrid(tokens), ((k * L + t.layer) * H + t.head) * G * G);
      } else if (t.kind === 'mlp' && t.layer !== null) mlp[t.layer] += s;
      else if (t.kind === 'attn_bias' && t.layer !== null) attentionBias[t.layer] += s;
      else if (t.kind === 'embed') embed += s;
      else if (t.kind === 'ln_bias') lnPostBias += s;
    }
    const top = heads
      .flatMap((row, layer) => row.map((score, head) => ({ layer, head, score })))
      .sort((a, b) => Math.abs(b.score) - Math.abs(a.score))
      .slice(0, 10);
    return {
      label: dir.label,
      kind: dir.kind,
      texts: dir.texts,
      total: d.totals[k],
      heads,
      clsToken,
      mlp,
      attentionBias,
      embed,
      lnPostBias,
      top,
    };
  });
  return {
    json: {
      view: task.view,
      definition: DECOMPOSITION_DEFINITION,
      painting: { width: decoded.width, height: decoded.height },
      inputRect: view.transform.rects[0],
      layers: L,
      heads: H,
      grid: G,
      embeddingNorm: Math.hypot(...d.embedding),
      sigma: d.sigma,
      reconstructionError: d.reconstructionError,
      streamError: d.streamError,
      directions: scores,
      seconds: (performance.now() - t0) / 1000,
    },
    maps,
  };
}

const answer = (a: DimensionAnswer) => ({ top: a.top, ranked: a.ranked });

async function steer(
  clip: Clip,
  task: Extract<DiagnosticsTask, { op: 'steer' }>,
  decode: (im: NamedImage) => Promise<RgbImage>,
): Promise<SteerOutput> {
  const probes = await prepareDimensions(clip, task.dimensions);
  const decoded = await decode(task.image);
  const r = await steerPainting(
    clip,
    task.image.name,
    {
      toward: task.toward,
      away: task.away,
      labels: task.labels,
      epsilon: task.epsilon,
      steps: task.steps,
      stepFraction: task.stepFraction,
      probes,
      topK: task.topK,
    },
    { decoded },
  );
  const S = clip.config.vision.imageSize;
  const delta = r.arrays.steered.map((v, k) => v - r.arrays.original[k]);
  const amplified = delta.map((x) => 0.5 + x / (2 * r.epsilon));
  const files: Record<SteerFile, Uint8Array> = {
    'original.png': await png(planesToRgb(r.arrays.original, S)),
    'steered.png': await png(planesToRgb(r.arrays.steered, S)),
    'perturbation.png': await png(planesToRgb(amplified, S)),
    'painting.png': await png(r.arrays.steeredPainting),
    'perturbation.npy': encodeNpy(delta, [3, S, S]),
  };
  const quality = (q: { linf: number; psnr: number; ssim: number }) => ({
    linf: finite(q.linf),
    psnr: finite(q.psnr),
    ssim: finite(q.ssim),
  });
  return {
    json: {
      engine: r.engine,
      targetText: describeTarget(r.target),
      scoreKind:
        r.target.kind === 'label'
          ? 'probability'
          : r.target.kind === 'contrast'
            ? 'logit difference'
            : 'logit',
      epsilon: r.epsilon,
      epsilon255: Number((r.epsilon * 255).toPrecision(6)),
      steps: r.steps,
      stepSize: r.stepSize,
      inputRect: r.inputRect,
      paintingSize: r.paintingSize,
      score: {
        before: finite(r.score.before),
        after: finite(r.score.after),
        after8bit: finite(r.score.after8bit),
        afterPainting: finite(r.score.afterPainting),
      },
      dimensions: Object.entries(r.zeroShot).map(([name, a]) => ({
        name,
        before: answer(a.before),
        after: answer(a.after),
        after8bit: answer(a.after8bit),
        afterPainting: answer(a.afterPainting),
        flipped: a.flipped,
        flippedPainting: a.flippedPainting,
      })),
      change: { input: quality(r.change.input), painting: quality(r.change.painting) },
      seconds: r.seconds,
    },
    files,
  };
}

async function roles(
  clip: Clip,
  task: Extract<DiagnosticsTask, { op: 'headRoles' }>,
  decode: (im: NamedImage) => Promise<RgbImage>,
  progress: (done: number, total: number) => void,
): Promise<HeadRolesResult> {
  const vocabulary = task.vocabulary
    ? parseVocabulary(task.vocabulary, 'vocabulary')
    : await loadVocabulary(DEFAULT_VOCABULARY);
  const byFile = new Map(task.images.map((im) => [im.file, im]));
  progress(0, task.images.length);
  const dec = await decomposerFor(clip);
  // paintings decoded under the budget, one at a time
  const budgeted = {
    preprocess: async (files: string[]) => {
      const out: Awaited<ReturnType<Clip['preprocess']>> = [];
      for (const f of files)
        out.push(...(await clip.preprocess([await decode(byFile.get(f) as NamedImage)])));
      return out;
    },
    encodeText: (texts: string[], opts?: { normalize?: boolean }) => clip.encodeText(texts, opts),
  };
  let res: Awaited<ReturnType<typeof headRoles>>;
  try {
    res = await headRoles(
      budgeted,
      dec,
      task.images.map((im) => im.file),
      vocabulary,
      {
        layers: task.layers,
        lastLayers: task.lastLayers,
        iterations: task.textsPerHead,
        rank: task.rank,
        onProgress: progress,
      },
    );
  } catch (e) {
    throw new Error((e as Error).message.replace(/^--layers: /, 'layers: '));
  }
  return {
    vocabulary: {
      source: task.vocabulary ? 'request' : 'vocabularies/art-descriptions.txt',
      descriptions: vocabulary.entries.length,
      categories: vocabulary.categories,
    },
    images: res.images,
    layers: res.layers,
    textsPerHead: res.iterations,
    rank: res.rank,
    embeddingVariance: res.embeddingVariance,
    reconstructionError: res.reconstructionError,
    heads: res.heads.map((h) => ({
      layer: h.layer,
      head: h.head,
      variance: h.variance,
      varianceShare: h.varianceShare,
      meanNorm: h.meanNorm,
      explained: h.picks.length ? h.picks[h.picks.length - 1].varianceExplained : 0,
      descriptions: h.picks.map((p) => ({
        text: p.text,
        category: p.category,
        varianceExplained: p.varianceExplained,
        gain: p.gain,
      })),
    })),
  };
}

async function robustness(
  clip: Clip,
  task: Extract<DiagnosticsTask, { op: 'robustness' }>,
  decode: (im: NamedImage) => Promise<RgbImage>,
  progress: (done: number, total: number) => void,
): Promise<RobustnessResult> {
  const probes = await prepareDimensions(clip, task.dimensions);
  const pre = clip.preprocessor.config;
  const S = clip.config.vision.imageSize;
  const rows: RobustnessResult['rows'] = [];
  progress(0, task.images.length);
  for (const [i, im] of task.images.entries()) {
    const t0 = performance.now();
    const decoded = await decode(im);
    const x01 = denormalisePixels(prepareView(decoded, 'crop', pre).inputs[0], S, pre.mean, pre.std);
    const curves = await flipCurves(
      clip,
      probes.map((probe) => ({ x01, probe })),
      { epsilons: task.epsilons, steps: task.steps, stepFraction: task.stepFraction },
    );
    rows.push({
      paintingId: im.id,
      name: im.name,
      seconds: (performance.now() - t0) / 1000,
      dimensions: curves.map((c) => ({
        name: c.dimension,
        topBefore: c.topBefore,
        probabilityBefore: c.probabilityBefore,
        smallestEpsilon255: c.smallestEpsilon === null ? null : r255(c.smallestEpsilon),
        curve: c.curve.map((p) => ({
          epsilon255: r255(p.epsilon),
          flipped: p.flipped,
          step: p.step,
          topAfter: p.topAfter,
          originalProbabilityAfter: p.originalProbabilityAfter,
          psnr: finite(p.psnr),
        })),
      })),
    });
    progress(i + 1, task.images.length);
  }
  const summary = probes.map((p) => {
    // unflipped paintings count as +∞ in the median
    const eps = rows
      .map((r) => r.dimensions.find((d) => d.name === p.name)?.smallestEpsilon255 ?? null)
      .map((e) => (e === null ? Number.POSITIVE_INFINITY : e))
      .sort((a, b) => a - b);
    const mid = eps.length ? eps[Math.floor((eps.length - 1) / 2)] : Number.POSITIVE_INFINITY;
    return {
      dimension: p.name,
      paintings: eps.length,
      flipped: eps.filter(Number.isFinite).length,
      medianSmallestEpsilon255: Number.isFinite(mid) ? mid : null,
    };
  });
  return { epsilons255: task.epsilons.map(r255), steps: task.steps, rows, summary };
}

/**
 * Does one diagnostics request with the loaded model; `progress` reports paintings done (tasks over several).
 *
 * @example
 * const { json, maps } = (await runDiagnostics(clip, msg, { maxPixels, progress })) as DecomposeOutput;
 */
export async function runDiagnostics(
  clip: Clip,
  msg: DiagnosticsWorkerRequest,
  opts: { maxPixels?: number; progress: (done: number, total: number) => void },
): Promise<DiagnosticsResults[keyof DiagnosticsResults]> {
  const task = msg.task;
  const images = 'images' in task ? task.images : [task.image];
  const decode = (im: NamedImage) =>
    decodeImage(im.file, { maxPixels: opts.maxPixels, maxDecodedPixels: msg.maxMapPixels, name: im.name });
  try {
    if (task.op === 'decompose') return await decompose(clip, task, decode);
    if (task.op === 'steer') return await steer(clip, task, decode);
    if (task.op === 'headRoles') return await roles(clip, task, decode, opts.progress);
    return await robustness(clip, task, decode, opts.progress);
  } catch (e) {
    // messages name paintings, never their files
    let m = (e as Error).message;
    for (const im of images) m = m.split(im.file).join(im.name);
    throw new Error(m);
  }
}
