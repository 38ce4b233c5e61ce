/**
 * How easily a zero-shot judgement moves: for one model input and one suite dimension, projected gradient
 * ascent is run at each budget of a ladder (default 1, 2, 4, 8, 16 /255, all budgets as rows of one batch)
 * and each row stops as soon as the answer flips. Untargeted (default): the score is minus the probability of
 * the current top label within the dimension, and any other top label counts as a flip. Targeted: the score
 * is the probability of `target`, and the flip is `target` becoming the top label. The smallest budget that
 * flips is the painting's robustness on that dimension (null when none of the ladder does).
 *
 * @example
 * const curve = await flipCurve(clip, x01, probe, { epsilons: [1, 2, 4, 8].map((e) => e / 255), steps: 40 });
 * curve.smallestEpsilon; // 0.0157 (= 4/255)
 */
import { prepareTargets } from '../attribution/target.ts';
import { prepareView } from '../attribution/views.ts';
import { decodeImage } from '../core/image-decode.ts';
import type { PreprocessConfig } from '../core/preprocess.ts';
import type { ClipEngine, ScoreHead } from '../engine/engine.ts';
import { answerDimension, type DimensionProbe, dimensionProbabilities, labelTarget } from './answers.ts';
import { denormalisePixels, normalisePixels, pgdLinf } from './pgd.ts';
import { psnr } from './quality.ts';

/** The default ladder of budgets: 1, 2, 4, 8 and 16 /255. */
export const DEFAULT_EPSILONS: readonly number[] = [1, 2, 4, 8, 16].map((e) => e / 255);

export interface FlipPoint {
  /** Budget in [0, 1] pixel units. */
  epsilon: number;
  flipped: boolean;
  /** Step at which the answer flipped (null: it did not). */
  step: number | null;
  /** Top label after steering at this budget. */
  topAfter: string;
  /** Probability of the original top label after steering. */
  originalProbabilityAfter: number;
  /** Probability of the target label after steering (targeted runs). */
  targetProbabilityAfter?: number;
  /** PSNR (dB) of the steered input against the original. */
  psnr: number;
}

export interface FlipCurve {
  dimension: string;
  topBefore: string;
  probabilityBefore: number;
  /** The target label of a targeted run. */
  target?: string;
  /** Smallest budget of the ladder that flips the answer, or null. */
  smallestEpsilon: number | null;
  curve: FlipPoint[];
  /** Gradient rows used (a cost measure). */
  gradientRows: number;
}

export interface FlipCurveOptions {
  epsilons?: readonly number[];
  steps?: number;
  stepFraction?: number;
  /** Targeted: steer toward this label; untargeted (default): away from the current top label. */
  target?: string;
}

/** One input of {@link flipCurves}: a model input in [0, 1] and the dimension (and optional target) to flip. */
export interface FlipItem {
  /** [3, S, S] in [0, 1]. */
  x01: Float32Array;
  probe: DimensionProbe;
  /** Targeted: steer toward this label; untargeted (default): away from the current top label. */
  target?: string;
}

/**
 * Flip curve of one model input x01 ([3, S, S] in [0, 1]) on one dimension.
 *
 * @example
 * const c = await flipCurve(clip, x01, probes[0], { target: 'a red circle', steps: 40 });
 */
export async function flipCurve(
  clip: FlipClip,
  x01: Float32Array,
  probe: DimensionProbe,
  opts: FlipCurveOptions = {},
): Promise<FlipCurve> {
  const [c] = await flipCurves(clip, [{ x01, probe, target: opts.target }], opts);
  return c;
}

/** What flip curves need of a loaded Clip. */
export interface FlipClip {
  engine: ClipEngine;
  preprocessor: { config: { mean: readonly number[]; std: readonly number[] } };
  encodeText(texts: string[], opts?: { normalize?: boolean }): Promise<Float32Array[]>;
}

/**
 * Flip curves of several inputs at once: every (input, budget) pair is one row of the same projected-gradient
 * run, so the engine sees few, large batches; each item has its own target (or none).
 *
 * @example
 * const curves = await flipCurves(clip, paintings.map((x01) => ({ x01, probe: style })), { steps: 40 });
 */
export async function flipCurves(
  clip: FlipClip,
  items: FlipItem[],
  opts: Omit<FlipCurveOptions, 'target'> = {},
): Promise<FlipCurve[]> {
  const engine = clip.engine;
  const { mean, std } = clip.preprocessor.config;
  const epsilons = [...(opts.epsilons ?? DEFAULT_EPSILONS)];
  const steps = opts.steps ?? 40;
  const S = engine.config.vision.imageSize;
  const E = engine.config.embedDim;
  const size = 3 * S * S;
  const m = epsilons.length;
  if (m === 0) throw new Error('steer: give at least one budget');
  if (items.length === 0) return [];
  const x0s = new Float32Array(items.length * size);
  items.forEach((it, i) => {
    if (it.x01.length !== size)
      throw new Error(`steer: input ${i} has ${it.x01.length} values, expected 3 × ${S} × ${S}`);
    x0s.set(it.x01, i * size);
  });
  const e0 = await engine.embedImages(normalisePixels(x0s, S, mean, std), items.length);
  // per item: the answer before, the score head and the flip test
  const setups: {
    top: string;
    p0: number[];
    head: ScoreHead;
    flipped: (emb: Float32Array) => boolean;
    already: boolean;
  }[] = [];
  for (const [i, it] of items.entries()) {
    const emb0 = e0.subarray(i * E, (i + 1) * E);
    const top = answerDimension(it.probe, emb0, 1).top;
    const p0 = dimensionProbabilities(it.probe, emb0);
    const label = it.target ?? top;
    const [t] = await prepareTargets(clip, [labelTarget(it.probe, label)]);
    const head: ScoreHead =
      it.target !== undefined ? t.head : { ...t.head, weights: t.head.weights.map((w) => -w) };
    const flipped = (emb: Float32Array) => {
      const now = answerDimension(it.probe, emb, 1).top;
      return it.target !== undefined ? now === it.target : now !== top;
    };
    setups.push({ top, p0, head, flipped, already: it.target !== undefined && top === it.target });
  }
  // rows: item-major, budget-minor
  const n = items.length * m;
  const x0 = new Float32Array(n * size);
  for (let r = 0; r < n; r++) x0.set(items[Math.floor(r / m)].x01, r * size);
  const anyToRun = setups.some((s) => !s.already);
  const res = await pgdLinf(
    engine,
    x0,
    n,
    Array.from({ length: n }, (_, r) => setups[Math.floor(r / m)].head),
    {
      epsilon: Array.from({ length: n }, (_, r) => epsilons[r % m]),
      steps: anyToRun ? steps : 1,
      stepFraction: opts.stepFraction,
      mean,
      std,
      stop: (r, emb) => setups[Math.floor(r / m)].already || setups[Math.floor(r / m)].flipped(emb),
    },
  );
  const emb = await engine.embedImages(normalisePixels(res.pixels, S, mean, std), n);
  return items.map((it, i) => {
    const su = setups[i];
    const topIndex = it.probe.labels.indexOf(su.top);
    const targetIndex = it.target !== undefined ? it.probe.labels.indexOf(it.target) : -1;
    const curve: FlipPoint[] = epsilons.map((epsilon, j) => {
      const r = i * m + j;
      const e = emb.subarray(r * E, (r + 1) * E);
      const p = dimensionProbabilities(it.probe, e);
      const isFlipped = su.already || su.flipped(e);
      return {
        epsilon,
        flipped: isFlipped,
        step: isFlipped ? (su.already ? 0 : (res.stoppedAt[r] ?? steps)) : null,
        topAfter: answerDimension(it.probe, e, 1).top,
        originalProbabilityAfter: p[topIndex],
        ...(targetIndex >= 0 ? { targetProbabilityAfter: p[targetIndex] } : {}),
        psnr: psnr(it.x01, res.pixels.subarray(r * size, (r + 1) * size)),
      };
    });
    const flips = curve.filter((c) => c.flipped).map((c) => c.epsilon);
    return {
      dimension: it.probe.name,
      topBefore: su.top,
      probabilityBefore: su.p0[topIndex],
      ...(it.target !== undefined ? { target: it.target } : {}),
      smallestEpsilon: flips.length ? Math.min(...flips) : null,
      curve,
      // rows of this item that ran, each for its stopping step or all steps
      gradientRows: epsilons.reduce((a, _, j) => a + (res.stoppedAt[i * m + j] ?? steps), 0),
    };
  });
}

/** The flip curves of one painting on several dimensions. */
export interface PaintingRobustness {
  image: string;
  curves: FlipCurve[];
  /** Wall time for this painting (all its dimensions). */
  seconds: number;
}

/**
 * Robustness curves of paintings: each painting's model input (CLIP's centre crop) is steered away from its
 * current top answer on every probe dimension, at every budget of the ladder (untargeted flips).
 *
 * @example
 * const rows = await paintingRobustness(clip, files, probes, { steps: 40 }, (i, n) => log(`${i}/${n}`));
 */
export async function paintingRobustness(
  clip: FlipClip & {
    preprocessor: { config: PreprocessConfig };
    maxPixels: number;
  },
  images: string[],
  probes: DimensionProbe[],
  opts: Omit<FlipCurveOptions, 'target'> = {},
  onProgress?: (done: number, total: number, row: PaintingRobustness) => void,
): Promise<PaintingRobustness[]> {
  const pre = clip.preprocessor.config;
  const S = clip.engine.config.vision.imageSize;
  const out: PaintingRobustness[] = [];
  for (const [i, image] of images.entries()) {
    const t0 = performance.now();
    const decoded = await decodeImage(image, { maxPixels: clip.maxPixels });
    const x01 = denormalisePixels(prepareView(decoded, 'crop', pre).inputs[0], S, pre.mean, pre.std);
    const curves = await flipCurves(
      clip,
      probes.map((probe) => ({ x01, probe })),
      opts,
    );
    const row = { image, curves, seconds: (performance.now() - t0) / 1000 };
    out.push(row);
    onProgress?.(i + 1, images.length, row);
  }
  return out;
}
