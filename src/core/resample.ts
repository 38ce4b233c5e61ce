/**
 * Pure-TypeScript port of Pillow's `Image.resize(size, filter)` for 8-bit images (libImaging/Resample.c,
 * `ImagingResample` with the default box and no `reducing_gap`). It reproduces Pillow bit for bit:
 * - separable: a horizontal pass over only the rows the vertical pass needs, then a vertical pass;
 * - the filter support is widened by the scale factor when downscaling (antialiasing);
 * - per-output weights are normalised to sum 1 in float64, then converted to fixed point with
 *   PRECISION_BITS = 32 - 8 - 2 = 22 (round half away from zero);
 * - each pass accumulates `u8 * weight` in integers starting from 1 << 21 and clips `acc >> 22` to 0..255.
 * A same-size resize is a copy, as in Pillow.
 *
 * @example
 * const small = resizeBicubic({ width: 640, height: 480, data }, 298, 224); // == PIL img.resize((298,224), BICUBIC)
 */

/** An interleaved 8-bit image; `data` is [height, width, channels] (channels = data.length / (w*h), 1..4). */
export interface U8Image {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Pillow's resampling filters (name → kernel and support radius at scale 1). */
export type ResampleFilter = 'nearest-box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

interface Kernel {
  fn: (x: number) => number;
  support: number;
}

const KERNELS: Record<ResampleFilter, Kernel> = {
  'nearest-box': { fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0), support: 0.5 },
  bilinear: {
    fn: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
    support: 1,
  },
  hamming: {
    fn: (x) => {
      const a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      const t = a * Math.PI;
      // Pillow's literals are float constants (0.54f, 0.46f).
      return (Math.sin(t) / t) * (Math.fround(0.54) + Math.fround(0.46) * Math.cos(t));
    },
    support: 1,
  },
  bicubic: {
    // Keys cubic convolution, a = -0.5 (same expression order as Pillow).
    fn: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
    support: 2,
  },
  lanczos: {
    fn: (x) => (-3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0),
    support: 3,
  },
};

function sinc(x: number): number {
  if (x === 0) return 1;
  const t = x * Math.PI;
  return Math.sin(t) / t;
}

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);
const ONE = 1 << PRECISION_BITS;

/** Fixed-point weights for one axis: output i reads `count[i]` inputs from `start[i]` with `k[i*ksize ...]`. */
interface Coeffs {
  ksize: number;
  start: Int32Array;
  count: Int32Array;
  k: Int32Array;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the box [0, inSize). */
function computeCoeffs(inSize: number, outSize: number, kernel: Kernel): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = kernel.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C casts to int (truncation toward zero).
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const v = kernel.fn((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x] / ww : w[x];
      k[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    start[xx] = xmin;
    count[xx] = Math.max(0, xmax);
  }
  return { ksize, start, count, k };
}

/** Clip a fixed-point accumulator to uint8 (Pillow's clip8: acc >> 22, clamped). */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return Math.min(255, Math.max(0, v));
}

function channelsOf(img: U8Image): number {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`resize: invalid image size ${width}x${height}`);
  }
  const c = data.length / (width * height);
  if (!Number.isInteger(c) || c < 1 || c > 4) {
    throw new Error(`resize: data length ${data.length} does not match ${width}x${height} with 1-4 channels`);
  }
  return c;
}

/**
 * Horizontal pass over rows [y0, y0 + rows): [rows, inW, C] → [rows, outW, C].
 * @example const tmp = passHorizontal(src, 640, 3, 10, 20, coeffs);
 */
function passHorizontal(
  src: Uint8Array,
  inW: number,
  C: number,
  y0: number,
  rows: number,
  co: Coeffs,
): Uint8Array {
  const outW = co.start.length;
  const out = new Uint8Array(rows * outW * C);
  const { ksize, start, count, k } = co;
  for (let y = 0; y < rows; y++) {
    const rowIn = (y + y0) * inW * C;
    const rowOut = y * outW * C;
    for (let xx = 0; xx < outW; xx++) {
      const n = count[xx];
      const kb = xx * ksize;
      let p = rowIn + start[xx] * C;
      const o = rowOut + xx * C;
      if (C === 3) {
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let x = 0; x < n; x++, p += 3) {
          const w = k[kb + x];
          s0 += src[p] * w;
          s1 += src[p + 1] * w;
          s2 += src[p + 2] * w;
        }
        out[o] = clip8(s0);
        out[o + 1] = clip8(s1);
        out[o + 2] = clip8(s2);
      } else {
        for (let c = 0; c < C; c++) {
          let s = HALF;
          for (let x = 0; x < n; x++) s += src[p + x * C + c] * k[kb + x];
          out[o + c] = clip8(s);
        }
      }
    }
  }
  return out;
}

/**
 * Vertical pass: [inH, W, C] → [outH, W, C]; `start` indices are relative to the first row of `src`.
 * @example const out = passVertical(tmp, 298, 3, coeffs, -ybox0);
 */
function passVertical(src: Uint8Array, W: number, C: number, co: Coeffs, shift: number): Uint8Array {
  const outH = co.start.length;
  const rowLen = W * C;
  const out = new Uint8Array(outH * rowLen);
  const { ksize, start, count, k } = co;
  for (let yy = 0; yy < outH; yy++) {
    const n = count[yy];
    const kb = yy * ksize;
    const base = (start[yy] + shift) * rowLen;
    const o = yy * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let s = HALF;
      let p = base + i;
      for (let y = 0; y < n; y++, p += rowLen) s += src[p] * k[kb + y];
      out[o + i] = clip8(s);
    }
  }
  return out;
}

/**
 * Resize an 8-bit interleaved image exactly like Pillow's `Image.resize((width, height), filter)`
 * (no box, no reducing_gap). Works for 1-4 channels; for RGBA note that Pillow premultiplies alpha first,
 * which this function does not do.
 *
 * @example
 * const out = resizePil(img, 224, 224, 'bilinear');
 */
export function resizePil(img: U8Image, width: number, height: number, filter: ResampleFilter): U8Image {
  const C = channelsOf(img);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`resize: invalid target size ${width}x${height}`);
  }
  const kernel = KERNELS[filter];
  if (!kernel) throw new Error(`resize: unknown filter "${filter}"`);
  if (width === img.width && height === img.height) {
    return { width, height, data: img.data.slice() };
  }
  const needH = width !== img.width;
  const needV = height !== img.height;
  const vert = computeCoeffs(img.height, height, kernel);
  let data = img.data;
  let shift = 0;
  if (needH) {
    // Only rows used by the vertical pass are resampled horizontally (Pillow's ybox_first..ybox_last).
    const y0 = vert.start[0];
    const y1 = vert.start[height - 1] + vert.count[height - 1];
    data = passHorizontal(img.data, img.width, C, y0, y1 - y0, computeCoeffs(img.width, width, kernel));
    shift = -y0;
  }
  if (needV) data = passVertical(data, width, C, vert, shift);
  // needH && !needV: the vertical box covers all rows (identity scale), so `data` is the full image.
  return { width, height, data };
}

/**
 * Pillow `Image.resize(size, Image.BICUBIC)` for uint8 images (what CLIP's transform uses).
 * @example
 * const r = resizeBicubic({ width: 640, height: 480, data }, 298, 224); // r.data: [224, 298, 3]
 */
export function resizeBicubic(img: U8Image, width: number, height: number): U8Image {
  return resizePil(img, width, height, 'bicubic');
}

/**
 * Pillow `Image.resize(size, Image.BILINEAR)` for uint8 images (triangle filter, antialiased when shrinking).
 * @example
 * const r = resizeBilinear(img, 112, 112);
 */
export function resizeBilinear(img: U8Image, width: number, height: number): U8Image {
  return resizePil(img, width, height, 'bilinear');
}
