/**
 * Image decoding with sharp into 8-bit RGB, matching what CLIP's PIL pipeline (`Image.open(f).convert('RGB')`)
 * sees for ordinary files, plus EXIF orientation:
 * - EXIF orientation is applied (PIL's `Image.open` does not; paintings photographed sideways are upright here);
 * - alpha is dropped without compositing (as PIL's `convert('RGB')`), palette images are expanded,
 *   grayscale is replicated to three channels, 16-bit samples are reduced to 8 bits;
 * - embedded ICC profiles are ignored (PIL ignores them too); CMYK is converted with PIL's own naive
 *   formula (`nk = 255 - k; r = nk - c*nk/255`), or with libvips' colour-managed transform (`cmyk: 'icc'`);
 * - the header is read first and images above `maxPixels` are refused before any pixel is decoded.
 * Errors are `ImageDecodeError`s whose message names the file (or `<buffer>`).
 *
 * @example
 * const img = await decodeImage('painting.jpg'); // { width, height, data: Uint8Array [H, W, 3] }
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

function labelOf(input: string | Uint8Array, name?: string): string {
  return typeof input === 'string' ? input : (name ?? '<buffer>');
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
  const pixels = info.storedWidth * info.storedHeight;
  if (pixels > maxPixels) {
    throw new ImageDecodeError(
      `${label}: image is ${info.storedWidth}x${info.storedHeight} (${pixels} pixels), above the limit of ${maxPixels} pixels`,
    );
  }
  const pilCmyk = info.space === 'cmyk' && options.cmyk !== 'icc';
  try {
    // PIL ignores ICC profiles; the embedded profile is used only for `cmyk: 'icc'`.
    const ignoreIcc = !(info.space === 'cmyk' && options.cmyk === 'icc');
    const pipeline = sharp(input, { limitInputPixels: maxPixels, ignoreIcc, failOn: 'truncated' })
      .autoOrient()
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
