/**
 * CLIP image preprocessing, reproducing OpenAI `clip._transform(n)` (torchvision Resize(n, BICUBIC) on PIL,
 * CenterCrop(n), ToTensor, Normalize) bit for bit on the uint8 stages and to float32 rounding on the output:
 * 1. resize the shortest side to `size` with PIL bicubic; the long side is `trunc(size * long / short)`;
 * 2. centre crop with Python's round-half-even offsets (not JS Math.round, not transformers' floor);
 * 3. `((u8 / 255) - mean) / std`, each step rounded to float32 as torch does.
 * The transform (original size, resized size, crop offsets) is kept so maps can be projected back.
 *
 * @example
 * const pre = new ImagePreprocessor(await loadPreprocessConfig('models/clip-vit-b32'));
 * const { pixelValues, crop } = await pre.preprocess('painting.jpg'); // pixelValues: [3, 224, 224]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeImage, type RgbImage } from './image-decode.ts';
import { resizeBicubic } from './resample.ts';

export type Triple = [number, number, number];

/** Preprocessing parameters (CLIPImageProcessor subset). */
export interface PreprocessConfig {
  /** Target length of the shortest side after resizing. */
  size: number;
  /** Side of the square centre crop. */
  cropSize: number;
  mean: Triple;
  std: Triple;
}

/** OpenAI CLIP defaults (224 px, ImageNet-like CLIP statistics). */
export const OPENAI_CLIP_CONFIG: Readonly<PreprocessConfig> = Object.freeze({
  size: 224,
  cropSize: 224,
  mean: [0.48145466, 0.4578275, 0.40821073] as Triple,
  std: [0.26862954, 0.26130258, 0.27577711] as Triple,
});

/** Where the model input came from in the original image. */
export interface PreprocessTransform {
  original: { width: number; height: number };
  resized: { width: number; height: number };
  /** Crop origin in resized-image pixels (negative when the resized image was padded) and crop side. */
  crop: { top: number; left: number; size: number };
}

export interface PreprocessResult extends PreprocessTransform {
  /** Float32 [3, S, S], channel-major, normalised. */
  pixelValues: Float32Array;
}

function isPosInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function readTriple(v: unknown, field: string, file: string, positive: boolean): Triple {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new Error(`${file}: "${field}" must be an array of 3 finite numbers, got ${JSON.stringify(v)}`);
  }
  if (positive && !v.every((x) => x > 0))
    throw new Error(`${file}: "${field}" values must be > 0, got ${JSON.stringify(v)}`);
  return [v[0], v[1], v[2]];
}

/**
 * Validate a parsed preprocessor_config.json (transformers CLIPImageProcessor or the older
 * CLIPFeatureExtractor) and convert it; missing fields take the OpenAI defaults.
 * `file` is only used in error messages.
 *
 * @example
 * parsePreprocessConfig({ size: { shortest_edge: 336 }, crop_size: { height: 336, width: 336 } });
 */
export function parsePreprocessConfig(json: unknown, file = 'preprocessor_config.json'): PreprocessConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${file}: expected a JSON object`);
  }
  const j = json as Record<string, unknown>;
  for (const flag of ['do_resize', 'do_center_crop', 'do_normalize', 'do_rescale']) {
    if (j[flag] === false)
      throw new Error(`${file}: "${flag}": false is not supported (CLIP preprocessing needs it)`);
  }
  if (j.resample !== undefined && j.resample !== 3) {
    throw new Error(
      `${file}: "resample" ${JSON.stringify(j.resample)} is not supported; only 3 (bicubic) is`,
    );
  }
  if (
    j.rescale_factor !== undefined &&
    (typeof j.rescale_factor !== 'number' || Math.abs(j.rescale_factor * 255 - 1) > 1e-9)
  ) {
    throw new Error(`${file}: "rescale_factor" must be 1/255, got ${JSON.stringify(j.rescale_factor)}`);
  }
  let size = OPENAI_CLIP_CONFIG.size;
  if (j.size !== undefined) {
    const s = j.size as Record<string, unknown> | number;
    if (isPosInt(s)) size = s;
    else if (typeof s === 'object' && s !== null && isPosInt(s.shortest_edge)) size = s.shortest_edge;
    else
      throw new Error(
        `${file}: "size" must be a positive integer or {"shortest_edge": n}, got ${JSON.stringify(s)}`,
      );
  }
  let cropSize = j.size === undefined ? OPENAI_CLIP_CONFIG.cropSize : size;
  if (j.crop_size !== undefined) {
    const c = j.crop_size as Record<string, unknown> | number;
    if (isPosInt(c)) cropSize = c;
    else if (typeof c === 'object' && c !== null && isPosInt(c.height) && c.height === c.width)
      cropSize = c.height;
    else
      throw new Error(
        `${file}: "crop_size" must be a positive integer or a square {"height": n, "width": n}, got ${JSON.stringify(c)}`,
      );
  }
  const mean =
    j.image_mean === undefined
      ? ([...OPENAI_CLIP_CONFIG.mean] as Triple)
      : readTriple(j.image_mean, 'image_mean', file, false);
  const std =
    j.image_std === undefined
      ? ([...OPENAI_CLIP_CONFIG.std] as Triple)
      : readTriple(j.image_std, 'image_std', file, true);
  return { size, cropSize, mean, std };
}

/**
 * Read `<modelDir>/preprocessor_config.json`; when the file does not exist, the OpenAI defaults are returned.
 *
 * @example
 * const cfg = await loadPreprocessConfig('models/tiny-b32'); // { size: 224, cropSize: 224, mean, std }
 */
export async function loadPreprocessConfig(modelDir: string): Promise<PreprocessConfig> {
  const file = join(modelDir, 'preprocessor_config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return {
        ...OPENAI_CLIP_CONFIG,
        mean: [...OPENAI_CLIP_CONFIG.mean] as Triple,
        std: [...OPENAI_CLIP_CONFIG.std] as Triple,
      };
    }
    throw new Error(`${file}: cannot read (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: invalid JSON (${(err as Error).message})`);
  }
  return parsePreprocessConfig(json, file);
}

/** Python's round(): to nearest, ties to even. @example roundHalfEven(36.5) // 36 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

function checkImage(img: RgbImage, what: string): void {
  if (!isPosInt(img.width) || !isPosInt(img.height) || img.data.length !== img.width * img.height * 3) {
    throw new Error(
      `${what}: expected an RGB image, got ${img.width}x${img.height} with ${img.data.length} bytes`,
    );
  }
}

/**
 * Resize so the shortest side is `size` (torchvision Resize(int) + PIL bicubic); the long side is
 * `trunc(size * long / short)` (640x480 → 298x224). Same-size input is returned as a copy.
 *
 * @example
 * resizeShortestSide(img640x480, 224); // 298x224
 */
export function resizeShortestSide(img: RgbImage, size: number): RgbImage {
  checkImage(img, 'resizeShortestSide');
  if (!isPosInt(size)) throw new Error(`resizeShortestSide: size must be a positive integer, got ${size}`);
  const { width: w, height: h } = img;
  const [short, long] = w <= h ? [w, h] : [h, w];
  const newLong = Math.trunc((size * long) / short);
  const [nw, nh] = w <= h ? [size, newLong] : [newLong, size];
  return resizeBicubic(img, nw, nh);
}

/**
 * Centre crop to `size`x`size` with Python round-half-even offsets (torchvision CenterCrop).
 * When the image is smaller than the crop it is first zero-padded like torchvision
 * (left/top get floor(diff/2)); `top`/`left` are then negative: the crop origin in input pixels.
 *
 * @example
 * centerCrop(img297x224, 224); // { image: 224x224, top: 0, left: 36 }
 */
export function centerCrop(img: RgbImage, size: number): { image: RgbImage; top: number; left: number } {
  checkImage(img, 'centerCrop');
  if (!isPosInt(size)) throw new Error(`centerCrop: size must be a positive integer, got ${size}`);
  const padL = size > img.width ? Math.floor((size - img.width) / 2) : 0;
  const padT = size > img.height ? Math.floor((size - img.height) / 2) : 0;
  const pw = Math.max(img.width, size);
  const ph = Math.max(img.height, size);
  const top = roundHalfEven((ph - size) / 2) - padT;
  const left = roundHalfEven((pw - size) / 2) - padL;
  return { image: cropPadded(img, left, top, size, size), top, left };
}

/** Crop a window that may extend outside the image (outside = 0). [size, size, 3]. */
function cropPadded(img: RgbImage, x0: number, y0: number, w: number, h: number): RgbImage {
  const out = new Uint8Array(w * h * 3);
  const xa = Math.max(0, x0);
  const xb = Math.min(img.width, x0 + w);
  if (xb > xa) {
    for (let y = Math.max(0, y0); y < Math.min(img.height, y0 + h); y++) {
      const src = (y * img.width + xa) * 3;
      out.set(img.data.subarray(src, src + (xb - xa) * 3), ((y - y0) * w + (xa - x0)) * 3);
    }
  }
  return { width: w, height: h, data: out };
}

/**
 * Copy the region [x, x+w) × [y, y+h), which must lie inside the image.
 *
 * @example
 * const detail = cropRegion(painting, 100, 50, 400, 300); // 400x300
 */
export function cropRegion(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  checkImage(img, 'cropRegion');
  const ok = [x, y].every((v) => Number.isInteger(v) && v >= 0) && isPosInt(w) && isPosInt(h);
  if (!ok || x + w > img.width || y + h > img.height) {
    throw new Error(
      `cropRegion: region x=${x} y=${y} w=${w} h=${h} is not inside the ${img.width}x${img.height} image`,
    );
  }
  return cropPadded(img, x, y, w, h);
}

/**
 * Letterbox to a square of side max(w, h) filled with `fill`; the image is centred (offsets floored).
 *
 * @example
 * const { image, top, left } = padToSquare(img300x200, [0, 0, 0]); // 300x300, top 50, left 0
 */
export function padToSquare(img: RgbImage, fill: Triple): { image: RgbImage; top: number; left: number } {
  checkImage(img, 'padToSquare');
  if (!fill.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
    throw new Error(`padToSquare: fill must be 3 integers in 0..255, got ${JSON.stringify(fill)}`);
  }
  const side = Math.max(img.width, img.height);
  const left = Math.floor((side - img.width) / 2);
  const top = Math.floor((side - img.height) / 2);
  const data = new Uint8Array(side * side * 3); // [side, side, 3]
  for (let i = 0; i < side * side; i++) data.set(fill, i * 3);
  for (let y = 0; y < img.height; y++) {
    data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + top) * side + left) * 3);
  }
  return { image: { width: side, height: side, data }, top, left };
}

/**
 * uint8 RGB [H, W, 3] → normalised Float32Array [3, H, W], as torchvision ToTensor + Normalize in float32:
 * `f32(f32(f32(u8 / 255) - f32(mean)) / f32(std))`.
 *
 * @example
 * const x = toPixelValues(crop, OPENAI_CLIP_CONFIG.mean, OPENAI_CLIP_CONFIG.std); // length 3*224*224
 */
export function toPixelValues(img: RgbImage, mean: Triple, std: Triple): Float32Array {
  checkImage(img, 'toPixelValues');
  const f = Math.fround;
  const n = img.width * img.height;
  // One 256-entry table per channel: [3, 256].
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const m = f(mean[c]);
    const s = f(std[c]);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = f(f(f(v / 255) - m) / s);
  }
  const out = new Float32Array(3 * n); // [3, H, W]
  const src = img.data;
  for (let i = 0; i < n; i++) {
    out[i] = lut[src[i * 3]];
    out[n + i] = lut[256 + src[i * 3 + 1]];
    out[2 * n + i] = lut[512 + src[i * 3 + 2]];
  }
  return out;
}

/**
 * Map a continuous point in crop coordinates (0..size, pixel edges) back to the original image
 * (continuous coordinates, as PIL's resampling grid defines them: x_orig = x_resized * orig / resized).
 *
 * @example
 * const [ox, oy] = mapCropToOriginal(result, 112, 112); // centre of the crop in painting pixels
 */
export function mapCropToOriginal(t: PreprocessTransform, x: number, y: number): [number, number] {
  return [
    ((x + t.crop.left) * t.original.width) / t.resized.width,
    ((y + t.crop.top) * t.original.height) / t.resized.height,
  ];
}

function isRgbImage(v: unknown): v is RgbImage {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && 'data' in v && 'width' in v;
}

/** Runs the CLIP preprocessing pipeline and keeps the geometric transform. */
export class ImagePreprocessor {
  readonly config: PreprocessConfig;

  /**
   * @example
   * const pre = new ImagePreprocessor(OPENAI_CLIP_CONFIG, { maxPixels: 50e6 });
   */
  constructor(
    config: PreprocessConfig = OPENAI_CLIP_CONFIG,
    private readonly options: { maxPixels?: number } = {},
  ) {
    if (!isPosInt(config.size) || !isPosInt(config.cropSize)) {
      throw new Error(
        `ImagePreprocessor: size and cropSize must be positive integers, got ${config.size}, ${config.cropSize}`,
      );
    }
    this.config = { ...config, mean: [...config.mean] as Triple, std: [...config.std] as Triple };
  }

  /**
   * Decode (if needed), resize, crop and normalise one image.
   *
   * @example
   * const { pixelValues, original, resized, crop } = await pre.preprocess('painting.jpg');
   */
  async preprocess(input: string | Uint8Array | RgbImage): Promise<PreprocessResult> {
    const img = isRgbImage(input) ? input : await decodeImage(input, { maxPixels: this.options.maxPixels });
    checkImage(img, 'preprocess');
    const { size, cropSize, mean, std } = this.config;
    const resized = resizeShortestSide(img, size);
    const { image, top, left } = centerCrop(resized, cropSize);
    return {
      pixelValues: toPixelValues(image, mean, std),
      original: { width: img.width, height: img.height },
      resized: { width: resized.width, height: resized.height },
      crop: { top, left, size: cropSize },
    };
  }
}
