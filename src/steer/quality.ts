/**
 * How visible a change is: PSNR and SSIM of two images with values in [0, 1], channel-major `[C, H, W]`
 * (model inputs) — or of two RGB paintings (`RgbImage`, interleaved uint8, converted to [0, 1]).
 * SSIM follows Wang et al. (2004) as scikit-image computes it with `gaussian_weights=True`: an 11×11 Gaussian
 * window with σ = 1.5, K1 = 0.01, K2 = 0.03, data range 1, population (co)variances, averaged over the
 * positions where the window fits and over channels.
 *
 * @example
 * psnr(a, b);                 // dB, Infinity when identical
 * ssim(a, b, 3, 224, 224);    // 1 when identical
 */
import type { RgbImage } from '../core/image-decode.ts';

/**
 * Peak signal-to-noise ratio for data range 1: 10·log10(1 / MSE) (Infinity for identical images).
 *
 * @example
 * psnr(x0, x1); // ≈ 36.1 dB for a ±4/255 change of every value
 */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`psnr: ${a.length} vs ${b.length} values`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  const mse = s / a.length;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(1 / mse);
}

const WIN = 11;
const SIGMA = 1.5;
const GAUSS = (() => {
  const g = Float64Array.from({ length: WIN }, (_, i) =>
    Math.exp(-((i - (WIN - 1) / 2) ** 2) / (2 * SIGMA * SIGMA)),
  );
  const s = g.reduce((x, y) => x + y, 0);
  return g.map((x) => x / s);
})();

/** Separable Gaussian filter of one [H, W] plane, 'valid' region: -> [H − 10, W − 10]. */
function filterValid(x: Float64Array, h: number, w: number): Float64Array {
  const ow = w - WIN + 1;
  const oh = h - WIN + 1;
  const tmp = new Float64Array(h * ow); // rows filtered: [H, W − 10]
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < ow; c++) {
      let s = 0;
      for (let k = 0; k < WIN; k++) s += GAUSS[k] * x[r * w + c + k];
      tmp[r * ow + c] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < ow; c++) {
      let s = 0;
      for (let k = 0; k < WIN; k++) s += GAUSS[k] * tmp[(r + k) * ow + c];
      out[r * ow + c] = s;
    }
  }
  return out;
}

/**
 * Mean SSIM of two channel-major images [C, H, W] with values in [0, 1].
 *
 * @example
 * ssim(x0, x1, 3, 224, 224); // 0.97
 */
export function ssim(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  channels: number,
  h: number,
  w: number,
): number {
  if (a.length !== channels * h * w || b.length !== a.length) {
    throw new Error(`ssim: expected ${channels}×${h}×${w} values, got ${a.length} and ${b.length}`);
  }
  if (h < WIN || w < WIN) throw new Error(`ssim: images must be at least ${WIN}×${WIN}, got ${w}×${h}`);
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  let total = 0;
  let count = 0;
  for (let c = 0; c < channels; c++) {
    const x = Float64Array.from({ length: h * w }, (_, i) => a[c * h * w + i]);
    const y = Float64Array.from({ length: h * w }, (_, i) => b[c * h * w + i]);
    const mx = filterValid(x, h, w);
    const my = filterValid(y, h, w);
    const mxx = filterValid(
      x.map((v) => v * v),
      h,
      w,
    );
    const myy = filterValid(
      y.map((v) => v * v),
      h,
      w,
    );
    const mxy = filterValid(
      x.map((v, i) => v * y[i]),
      h,
      w,
    );
    for (let i = 0; i < mx.length; i++) {
      const vx = mxx[i] - mx[i] * mx[i];
      const vy = myy[i] - my[i] * my[i];
      const cxy = mxy[i] - mx[i] * my[i];
      total +=
        ((2 * mx[i] * my[i] + c1) * (2 * cxy + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2));
      count++;
    }
  }
  return total / count;
}

/**
 * An RGB painting as channel-major [3, H, W] values in [0, 1].
 *
 * @example
 * const x = rgbToPlanes(painting);
 */
export function rgbToPlanes(img: RgbImage): Float64Array {
  const { width: W, height: H, data } = img;
  const out = new Float64Array(3 * W * H);
  for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) out[c * W * H + i] = data[3 * i + c] / 255;
  return out;
}

/**
 * PSNR and SSIM of two RGB paintings of the same size.
 *
 * @example
 * const { psnr, ssim } = compareImages(original, steered);
 */
export function compareImages(a: RgbImage, b: RgbImage): { psnr: number; ssim: number } {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`compareImages: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  }
  const x = rgbToPlanes(a);
  const y = rgbToPlanes(b);
  return { psnr: psnr(x, y), ssim: ssim(x, y, 3, a.height, a.width) };
}
