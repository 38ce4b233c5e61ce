/**
 * Image decoding with sharp into 8-bit RGB, matching what CLIP's PIL pipeline (`Image.open(f).convert('RGB')`)
 * sees for ordinary files, plus EXIF orientation:
 * - EXIF orientation is applied (PIL's `Image.open` does not; paintings photographed sideways are upright here);
 * - alpha is dropped without compositing (as PIL's `convert('RGB')`), palette images are expanded,
 *   grayscale is replicated to three channels, 16-bit samples are reduced to 8 bits;
 * - embedded ICC profiles are ignored (PIL ignores them too); CMYK is converted with PIL's own naive
 *   formula (`nk = 255 - k; r = nk - c*nk/255`), or with libvips' colour-managed transform (`cmyk: 'icc'`);
 * - the header is read first and images above `maxPixels` are refused before any pixel is decoded, as are
 *   strips whose aspect ratio is above `maxAspectRatio` (resizing their short side to the model's input
 *   would make an image of billions of pixels);
 * - `maxDecodedPixels` is a budget for the decoded copy: a larger image is shrunk while it is decoded
 *   (libvips streams the rows and shrinks JPEGs on load), so memory stays bounded by the budget, not by
 *   the file's size.
 * `verifyImage` decodes every pixel of a file (at a small size, so memory stays low) to catch truncated or
 * corrupt files before they are accepted. Errors are `ImageDecodeError`s whose message names the file (its
 * `name` when given, else the path or `<buffer>`).
 *
 * @example
 * const img = await decodeImage('painting.jpg'); // { width, height, data: Uint8Array [H, W, 3] }
 * const small = await decodeImage('huge.png', { maxDecodedPixels: 4_000_000 }); // at most 4 M pixels
 */
import { stat } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';

/** 8-bit RGB image; `data` is [height, width, 3] row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Header information, read without decoding pixels. `width`/`height` are after EXIF orientation. */
export interface ImageInfo {
  width: number;
  height: number;
  /** Stored size, before EXIF orientation. */
  storedWidth: number;
  storedHeight: number;
  /** sharp's format name: 'jpeg', 'png', 'webp', 'tiff', 'gif', ... */
  format: string;
  /** EXIF orientation 1-8 (1 when absent). */
  orientation: number;
  channels: number;
  /** libvips interpretation, e.g. 'srgb', 'b-w', 'cmyk', 'rgb16', 'grey16'. */
  space: string;
  hasAlpha: boolean;
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this (default 100 million). */
  maxPixels?: number;
  /**
   * Budget of the decoded copy: an image with more pixels is shrunk (same aspect ratio, Lanczos) while it is
   * decoded, so that the result has at most this many pixels. Default: no shrinking.
   */
  maxDecodedPixels?: number;
  /** Refuse images whose long side is more than this many times the short side (default 1000). */
  maxAspectRatio?: number;
  /** Name used in error messages for byte inputs (default `<buffer>`). */
  name?: string;
  /** CMYK → RGB: PIL's formula (default, what CLIP's pipeline sees) or libvips' ICC transform. */
  cmyk?: 'pil' | 'icc';
}

/** Any failure to read or decode an image; the message names the file. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

/**
 * Default of `maxAspectRatio`: a 1000:1 strip resized to a 224-pixel short side is 50 M pixels.
 *
 * @example
 * checkImageSize({ width: 200_000, height: 1 }, {}); // throws: aspect ratio 200000:1 above 1000:1
 */
export const DEFAULT_MAX_ASPECT_RATIO = 1000;

function labelOf(input: string | Uint8Array, name?: string): string {
  return name ?? (typeof input === 'string' ? input : '<buffer>');
}

/**
 * Refuses a size above the pixel limit or the aspect-ratio limit (before anything is decoded); `label`
 * names the image and `hint` (e.g. `raise it with --max-pixels`) is added to the message.
 *
 * @example
 * checkImageSize({ width: 10_000, height: 10_001 }, { maxPixels: 100_000_000, label: 'a.png' }); // throws
 */
export function checkImageSize(
  size: { width: number; height: number },
  o: { maxPixels?: number; maxAspectRatio?: number; label?: string; hint?: string } = {},
): void {
  const label = o.label ?? '<buffer>';
  const maxPixels = o.maxPixels ?? DEFAULT_MAX_PIXELS;
  const maxAspect = o.maxAspectRatio ?? DEFAULT_MAX_ASPECT_RATIO;
  const { width, height } = size;
  const pixels = width * height;
  const hint = o.hint ? ` (${o.hint})` : '';
  if (pixels > maxPixels)
    throw new ImageDecodeError(
      `${label}: image is ${width}x${height} (${pixels} pixels), above the limit of ${maxPixels} pixels${hint}`,
    );
  const aspect = Math.max(width, height) / Math.max(1, Math.min(width, height));
  if (aspect > maxAspect)
    throw new ImageDecodeError(
      `${label}: image is ${width}x${height}, an aspect ratio of ${Math.round(aspect)}:1, above the limit of ${maxAspect}:1 (such a strip cannot be resized for the model)`,
    );
}

/**
 * The size an image of `width` × `height` is decoded at under a pixel budget: unchanged when it fits,
 * else shrunk with the same aspect ratio to at most `budget` pixels (each side at least 1).
 *
 * @example
 * budgetSize(10_000, 10_000, 4_000_000); // { width: 2000, height: 2000 }
 */
export function budgetSize(
  width: number,
  height: number,
  budget: number | undefined,
): { width: number; height: number } {
  if (!budget || width * height <= budget) return { width, height };
  const s = Math.sqrt(budget / (width * height));
  return {
    width: Math.max(1, Math.min(width, Math.floor(width * s))),
    height: Math.max(1, Math.min(height, Math.floor(height * s))),
  };
}

async function checkReadable(input: string | Uint8Array, label: string): Promise<void> {
  if (typeof input !== 'string') {
    if (!(input instanceof Uint8Array))
      throw new ImageDecodeError(`${label}: input must be a file path or bytes`);
    if (input.length === 0) throw new ImageDecodeError(`${label}: empty input (0 bytes), not an image`);
    return;
  }
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(input);
  } catch {
    throw new ImageDecodeError(`${label}: file not found or not readable`);
  }
  if (!st.isFile()) throw new ImageDecodeError(`${label}: not a regular file`);
  if (st.size === 0) throw new ImageDecodeError(`${label}: empty file (0 bytes), not an image`);
}

/**
 * Read width, height and format from the header only (no pixel decoding).
 *
 * @example
 * const { width, height, format } = await readImageInfo('painting.jpg');
 */
export async function readImageInfo(
  input: string | Uint8Array,
  options: { name?: string } = {},
): Promise<ImageInfo> {
  const label = labelOf(input, options.name);
  await checkReadable(input, label);
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageDecodeError(`${label}: not a readable image (${(err as Error).message})`);
  }
  const { width, height, format } = meta;
  if (!width || !height || !format) {
    throw new ImageDecodeError(`${label}: image header has no size or format`);
  }
  const orientation = meta.orientation ?? 1;
  const swap = orientation >= 5 && orientation <= 8;
  return {
    width: swap ? height : width,
    height: swap ? width : height,
    storedWidth: width,
    storedHeight: height,
    format,
    orientation,
    channels: meta.channels ?? 0,
    space: meta.space ?? 'unknown',
    hasAlpha: meta.hasAlpha ?? false,
  };
}

/**
 * Decode an image file or bytes to 8-bit RGB [H, W, 3] with EXIF orientation applied.
 * Refuses images above `maxPixels` (checked on the header before decoding).
 *
 * @example
 * const { width, height, data } = await decodeImage(bytes, { maxPixels: 50_000_000, name: 'upload.png' });
 */
export async function decodeImage(
  input: string | Uint8Array,
  options: DecodeOptions = {},
): Promise<RgbImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const label = labelOf(input, options.name);
  if (!(maxPixels > 0)) throw new ImageDecodeError(`${label}: maxPixels must be positive, got ${maxPixels}`);
  const info = await readImageInfo(input, { name: options.name });
  checkImageSize(
    { width: info.storedWidth, height: info.storedHeight },
    { maxPixels, maxAspectRatio: options.maxAspectRatio, label },
  );
  const pilCmyk = info.space === 'cmyk' && options.cmyk !== 'icc';
  const target = budgetSize(info.width, info.height, options.maxDecodedPixels);
  const shrink = target.width !== info.width || target.height !== info.height;
  try {
    // PIL ignores ICC profiles; the embedded profile is used only for `cmyk: 'icc'`.
    const ignoreIcc = !(info.space === 'cmyk' && options.cmyk === 'icc');
    let pipeline = sharp(input, {
      limitInputPixels: maxPixels,
      ignoreIcc,
      failOn: 'truncated',
      sequentialRead: true,
    }).autoOrient();
    if (shrink) pipeline = pipeline.resize(target.width, target.height, { fit: 'fill', kernel: 'lanczos3' });
    pipeline = pipeline
      .removeAlpha()
      .toColourspace(pilCmyk ? 'cmyk' : 'srgb')
      .raw({ depth: 'uchar' });
    const { data, info: out } = await pipeline.toBuffer({ resolveWithObject: true });
    const channels = pilCmyk ? 4 : 3;
    if (out.channels !== channels || data.length !== out.width * out.height * channels) {
      throw new Error(`unexpected decoder output: ${out.width}x${out.height}x${out.channels}`);
    }
    // [H, W, 3]; always a standalone copy (Buffers may share a pooled ArrayBuffer).
    const rgb = pilCmyk ? convertCmykLikePil(data) : new Uint8Array(data);
    return { width: out.width, height: out.height, data: rgb };
  } catch (err) {
    throw new ImageDecodeError(`${label}: cannot decode ${info.format} image (${(err as Error).message})`);
  }
}

/**
 * Decodes every pixel of an image (shrunk to a thumbnail while it is decoded, so memory stays small) to make
 * sure the whole file is readable: a truncated or corrupt PNG or JPEG whose header is fine fails here, not
 * later in a job. Checks the pixel and aspect-ratio limits on the header first. Resolves with the header info.
 *
 * @example
 * const info = await verifyImage(bytes, { name: 'upload.png', maxPixels: 100_000_000 });
 */
export async function verifyImage(
  input: string | Uint8Array,
  options: { name?: string; maxPixels?: number; maxAspectRatio?: number; hint?: string } = {},
): Promise<ImageInfo> {
  const label = labelOf(input, options.name);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const info = await readImageInfo(input, { name: options.name });
  checkImageSize(
    { width: info.storedWidth, height: info.storedHeight },
    { maxPixels, maxAspectRatio: options.maxAspectRatio, label, hint: options.hint },
  );
  try {
    await sharp(input, { limitInputPixels: maxPixels, failOn: 'truncated', sequentialRead: true })
      .resize(64, 64, { fit: 'inside', withoutEnlargement: true })
      .raw()
      .toBuffer();
  } catch (err) {
    throw new ImageDecodeError(
      `${label}: the ${info.format} image is damaged or truncated (${(err as Error).message.split('\n')[0]})`,
    );
  }
  return info;
}

/**
 * PIL's cmyk2rgb (Convert.c): nk = 255 - k; channel = clip(nk - muldiv255(c, nk)). [N*4] → [N*3].
 *
 * @example
 * convertCmykLikePil(new Uint8Array([0, 160, 251, 46])); // Uint8Array [209, 78, 3]
 */
export function convertCmykLikePil(cmyk: Uint8Array): Uint8Array {
  const n = cmyk.length >> 2;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const nk = 255 - cmyk[i * 4 + 3];
    for (let c = 0; c < 3; c++) {
      const t = cmyk[i * 4 + c] * nk + 128;
      const v = nk - (((t >> 8) + t) >> 8);
      out[i * 3 + c] = Math.max(v, 0);
    }
  }
  return out;
}
