/**
 * Faithfulness of a saliency map by the deletion and insertion games of RISE (Petsiuk et al., BMVC 2018):
 * pixels are ranked by the map (descending, stable); deletion starts from the image and replaces `step` pixels
 * per step with the substrate (0 in normalised space, i.e. the dataset mean colour), insertion starts from a
 * blurred image (Gaussian, 11 px kernel, σ = 5, zero padding, as RISE) and puts original pixels back. The
 * model score is recorded after each step (n = ⌈HW / step⌉ steps, n + 1 scores) and the curve's area is the
 * trapezoid rule over x ∈ [0, 1]. Low deletion AUC and high insertion AUC mean a faithful map. Any model can
 * be plugged in through a scorer of normalised images.
 *
 * @example
 * const score: ImageScorer = async (imgs) => imgs.map((x) => myModel(x));
 * const { deletion, insertion } = await faithfulness({ score, image, height: 224, width: 224, map, mapHeight: 7, mapWidth: 7 });
 */
import { resizeBilinear } from '../core/resize-map.ts';

/** Scores a batch of normalised images, each [3, H, W] row-major; returns one number per image. */
export type ImageScorer = (images: Float32Array[]) => Promise<number[]>;

export interface FaithfulnessInput {
  score: ImageScorer;
  /** The normalised image [3, H, W]. */
  image: Float32Array;
  height: number;
  width: number;
  /** The saliency map [mapHeight, mapWidth]; upsampled bilinearly (align_corners = false) when smaller. */
  map: Float32Array;
  mapHeight?: number;
  mapWidth?: number;
  /** Pixels changed per step (default: the image width, as RISE's 224 for 224 × 224). */
  step?: number;
  /** Images per scorer call (default 16). */
  batchSize?: number;
}

export interface GameCurve {
  /** Scores after 0, 1, …, n steps. */
  scores: number[];
  /** Trapezoid area under the curve over [0, 1]. */
  auc: number;
}

/**
 * Area under a curve sampled at equal spacing on [0, 1] (RISE's `auc`).
 *
 * @example
 * curveAuc([1, 0]); // 0.5
 */
export function curveAuc(scores: number[]): number {
  if (scores.length < 2) throw new Error('curveAuc: needs at least two scores');
  const s = scores.reduce((a, b) => a + b, 0);
  return (s - scores[0] / 2 - scores[scores.length - 1] / 2) / (scores.length - 1);
}

/**
 * Gaussian blur of each channel of [C, H, W] with a normalised klen × klen kernel (separable, zero padding).
 *
 * @example
 * const blurred = gaussianBlur(image, 3, 224, 224); // RISE's insertion start (klen 11, σ 5)
 */
export function gaussianBlur(
  image: Float32Array,
  channels: number,
  h: number,
  w: number,
  klen = 11,
  sigma = 5,
): Float32Array {
  if (image.length !== channels * h * w)
    throw new Error(`gaussianBlur: image has ${image.length} values, expected ${channels}x${h}x${w}`);
  const r = Math.floor(klen / 2);
  const k = Array.from({ length: klen }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const ks = k.reduce((a, b) => a + b, 0);
  for (let i = 0; i < klen; i++) k[i] /= ks;
  const tmp = new Float32Array(image.length);
  const out = new Float32Array(image.length);
  for (let c = 0; c < channels; c++) {
    const o = c * h * w;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let t = -r; t <= r; t++) if (x + t >= 0 && x + t < w) s += k[t + r] * image[o + y * w + x + t];
        tmp[o + y * w + x] = s;
      }
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let t = -r; t <= r; t++) if (y + t >= 0 && y + t < h) s += k[t + r] * tmp[o + (y + t) * w + x];
        out[o + y * w + x] = s;
      }
  }
  return out;
}

/** Pixel indices by map value, descending; ties in row-major order (NaN last). */
function pixelOrder(map: Float32Array): Uint32Array {
  const idx = new Uint32Array(map.length);
  for (let k = 0; k < idx.length; k++) idx[k] = k;
  const v = Float64Array.from(map, (x) => (Number.isNaN(x) ? -Infinity : x));
  return idx.sort((a, b) => v[b] - v[a] || a - b);
}

/** Runs one game: from `start`, copy pixels of `finish` in map order, scoring after every step. */
async function playGame(
  input: FaithfulnessInput,
  start: Float32Array,
  finish: Float32Array,
): Promise<GameCurve> {
  const { height: H, width: W } = input;
  const HW = H * W;
  const mh = input.mapHeight ?? H;
  const mw = input.mapWidth ?? W;
  if (input.image.length !== 3 * HW)
    throw new Error(`faithfulness: image has ${input.image.length} values, expected 3x${H}x${W}`);
  if (input.map.length !== mh * mw)
    throw new Error(`faithfulness: map has ${input.map.length} values, expected ${mh}x${mw}`);
  const map = mh === H && mw === W ? input.map : resizeBilinear(input.map, mh, mw, H, W);
  const step = input.step ?? W;
  const batchSize = input.batchSize ?? 16;
  if (!Number.isInteger(step) || step <= 0)
    throw new Error(`faithfulness: step must be a positive integer, got ${step}`);
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw new Error(`faithfulness: batchSize must be a positive integer, got ${batchSize}`);
  const order = pixelOrder(map);
  const nSteps = Math.ceil(HW / step);
  const state = Float32Array.from(start);
  const scores: number[] = [];
  let batch: Float32Array[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const got = await input.score(batch);
    if (
      !Array.isArray(got) ||
      got.length !== batch.length ||
      got.some((v) => typeof v !== 'number' || Number.isNaN(v))
    )
      throw new Error(
        `faithfulness: the scorer returned ${Array.isArray(got) ? got.length : typeof got} values for ${batch.length} images (or a NaN)`,
      );
    scores.push(...got);
    batch = [];
  };
  for (let i = 0; i <= nSteps; i++) {
    batch.push(Float32Array.from(state));
    if (batch.length === batchSize) await flush();
    if (i === nSteps) break;
    for (let r = i * step; r < Math.min(HW, (i + 1) * step); r++) {
      const p = order[r];
      // [3, H, W]: copy the pixel in every channel
      state[p] = finish[p];
      state[HW + p] = finish[HW + p];
      state[2 * HW + p] = finish[2 * HW + p];
    }
  }
  await flush();
  return { scores, auc: curveAuc(scores) };
}

/**
 * Deletion game: image → zeros (normalised space), most salient pixels first. Lower AUC = more faithful.
 *
 * @example
 * const { auc, scores } = await deletionGame({ score, image, height: 224, width: 224, map });
 */
export function deletionGame(input: FaithfulnessInput): Promise<GameCurve> {
  return playGame(input, input.image, new Float32Array(input.image.length));
}

/**
 * Insertion game: blurred image → image, most salient pixels first. Higher AUC = more faithful.
 *
 * @example
 * const { auc } = await insertionGame({ score, image, height: 224, width: 224, map });
 */
export function insertionGame(input: FaithfulnessInput): Promise<GameCurve> {
  if (input.image.length !== 3 * input.height * input.width)
    throw new Error(
      `faithfulness: image has ${input.image.length} values, expected 3x${input.height}x${input.width}`,
    );
  return playGame(input, gaussianBlur(input.image, 3, input.height, input.width), input.image);
}

/**
 * Both games for one map.
 *
 * @example
 * const { deletion, insertion } = await faithfulness({ score, image, height: 224, width: 224, map, mapHeight: 7, mapWidth: 7 });
 */
export async function faithfulness(
  input: FaithfulnessInput,
): Promise<{ deletion: GameCurve; insertion: GameCurve }> {
  return { deletion: await deletionGame(input), insertion: await insertionGame(input) };
}
