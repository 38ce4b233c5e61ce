/**
 * Deletion and insertion (RISE, ./faithfulness.ts) of one explanation map, on the model inputs its method saw:
 * the painting is prepared in the map's view (crop, pad or tiles, exactly as `explainImage` prepares it), each
 * model input is perturbed in the order of its own raw map (the method's native grid, upsampled bilinearly to
 * S × S) and the explained target is scored again after every step. The number of steps is bounded (default
 * {@link DEFAULT_FAITHFULNESS_STEPS}, at most {@link MAX_FAITHFULNESS_STEPS}): each step changes ⌈S² / steps⌉
 * pixels, so a game costs steps + 1 forward passes, batched. For the tiles view the curves are the mean over
 * tiles (as the job's score is the mean over tiles). Values are in the target's own unit (a prompt's logit, a
 * label's probability): deletion = area under the score curve as the most salient pixels are removed (lower =
 * more faithful), insertion = area as they are put back into a blurred copy (higher = more faithful).
 *
 * The server's batches (model worker `faithfulness` request) and the static report both call
 * {@link mapFaithfulness}, so their numbers are the same for the same map.
 *
 * @example
 * const f = await mapFaithfulness(clip, { image: decoded, view: 'pad', target, raw, rawShape: [7, 7] });
 * f.deletion; f.insertion; f.deletionCurve.length; // 17
 */
import { prepareTargets, scoreImages, type TargetSpec } from '../attribution/target.ts';
import { prepareView, type ViewKind } from '../attribution/views.ts';
import type { Clip } from '../core/clip.ts';
import type { RgbImage } from '../core/image-decode.ts';
import { curveAuc, deletionGame, insertionGame } from './faithfulness.ts';

/** Steps per game unless asked otherwise (17 forward passes per game and model input). */
export const DEFAULT_FAITHFULNESS_STEPS = 16;
/** The most steps a game may take. */
export const MAX_FAITHFULNESS_STEPS = 64;

/** Deletion and insertion of one map. */
export interface MapFaithfulness {
  /** Area under the deletion curve over [0, 1], in the target's unit (lower = more faithful). */
  deletion: number;
  /** Area under the insertion curve (higher = more faithful). */
  insertion: number;
  /** Scores after 0 … steps steps (mean over tiles). */
  deletionCurve: number[];
  insertionCurve: number[];
  steps: number;
  /** The target's score on the unperturbed input(s) (mean over tiles): the deletion curve's start. */
  score: number;
}

export interface MapFaithfulnessInput {
  /** The painting as the job decoded it (same pixel budget). */
  image: RgbImage;
  view: ViewKind;
  target: TargetSpec;
  /** The raw map: [rows, cols], or [tiles, rows, cols] for the tiles view (`raw.npy` of a job). */
  raw: Float32Array;
  rawShape: number[];
  /** Steps per game (default {@link DEFAULT_FAITHFULNESS_STEPS}). */
  steps?: number;
  /** Images per forward pass (default 17: one game's curve at the default steps). */
  batchSize?: number;
  tileOverlap?: number;
}

/**
 * Checks a step count: an integer in 1..{@link MAX_FAITHFULNESS_STEPS}.
 *
 * @example
 * checkFaithfulnessSteps(16); // 16
 */
export function checkFaithfulnessSteps(steps: number): number {
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_FAITHFULNESS_STEPS)
    throw new Error(`faithfulness: steps must be an integer in 1..${MAX_FAITHFULNESS_STEPS}, got ${steps}`);
  return steps;
}

/**
 * Deletion and insertion of a map (see the module comment).
 *
 * @example
 * const { deletion, insertion } = await mapFaithfulness(clip, { image, view: 'crop', target, raw, rawShape: [7, 7], steps: 16 });
 */
export async function mapFaithfulness(
  clip: Pick<Clip, 'engine' | 'preprocessor' | 'encodeText'>,
  input: MapFaithfulnessInput,
): Promise<MapFaithfulness> {
  const steps = checkFaithfulnessSteps(input.steps ?? DEFAULT_FAITHFULNESS_STEPS);
  const view = prepareView(input.image, input.view, clip.preprocessor.config, {
    tileOverlap: input.tileOverlap,
  });
  const shape = input.rawShape;
  const tiles = shape.length === 3 ? shape[0] : 1;
  const [rows, cols] = shape.slice(-2);
  if (shape.length < 2 || shape.length > 3 || input.raw.length !== tiles * rows * cols)
    throw new Error(
      `faithfulness: the raw map has shape [${shape.join(', ')}] and ${input.raw.length} values`,
    );
  if (tiles !== view.inputs.length)
    throw new Error(
      `faithfulness: the map has ${tiles} tile(s), the ${input.view} view of this painting has ${view.inputs.length}`,
    );
  const [target] = await prepareTargets(clip, [input.target]);
  const S = clip.preprocessor.config.cropSize;
  const plane = 3 * S * S;
  const score = async (images: Float32Array[]): Promise<number[]> => {
    const flat = new Float32Array(images.length * plane);
    images.forEach((im, i) => flat.set(im, i * plane));
    return (await scoreImages(clip.engine, flat, images.length, [target])).map((r) => r[0]);
  };
  const step = Math.ceil((S * S) / steps);
  const n = Math.ceil((S * S) / step); // = steps for every usual input size
  const batchSize = input.batchSize ?? n + 1;
  const del = new Float64Array(n + 1);
  const ins = new Float64Array(n + 1);
  for (let t = 0; t < tiles; t++) {
    const game = {
      score,
      image: view.inputs[t],
      height: S,
      width: S,
      map: input.raw.subarray(t * rows * cols, (t + 1) * rows * cols),
      mapHeight: rows,
      mapWidth: cols,
      step,
      batchSize,
    };
    const d = await deletionGame(game);
    const i = await insertionGame(game);
    d.scores.forEach((v, k) => {
      del[k] += v / tiles;
    });
    i.scores.forEach((v, k) => {
      ins[k] += v / tiles;
    });
  }
  const deletionCurve = Array.from(del);
  const insertionCurve = Array.from(ins);
  return {
    deletion: curveAuc(deletionCurve),
    insertion: curveAuc(insertionCurve),
    deletionCurve,
    insertionCurve,
    steps: n,
    score: deletionCurve[0],
  };
}
