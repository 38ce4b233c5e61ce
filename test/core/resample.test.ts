import { describe, expect, it } from 'vitest';
import { resizeBicubic, resizeBilinear, resizePil, type U8Image } from '../../src/core/resample.ts';
import { SafetensorsFile } from '../../src/core/safetensors.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

function diffStats(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

describeShared('resizeBicubic vs PIL resized_u8 (golden)', ['golden/inputs'], () => {
  it('matches PIL Image.resize(BICUBIC) for all 7 images (down- and upscaling)', async () => {
    const st = await SafetensorsFile.open(sharedPath('golden', 'inputs', 'pixel_values.safetensors'));
    for (let i = 0; i < 7; i++) {
      const [h, w] = st.info(`decoded_u8_${i}`).shape; // [H, W, 3]
      const [rh, rw] = st.info(`resized_u8_${i}`).shape; // [H', W', 3]
      const out = resizeBicubic({ width: w, height: h, data: st.raw(`decoded_u8_${i}`) }, rw, rh);
      const { max, mean } = diffStats(out.data, st.raw(`resized_u8_${i}`));
      console.log(`resize image ${i}: ${w}x${h} -> ${rw}x${rh}: max abs diff ${max}, mean ${mean}`);
      expect(out.data.length).toBe(rw * rh * 3);
      expect(max).toBeLessThanOrEqual(1);
    }
  });
});

/** Smooth pseudo-random RGB test image (no hard clipping, so float and fixed point agree closely). */
function smoothImage(w: number, h: number, seed: number): U8Image {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const v =
          128 +
          60 * Math.sin((x + seed) * 0.07 * (c + 1)) * Math.cos(y * 0.05 + c + seed) +
          30 * Math.sin((x * y) / 500 + c);
        data[(y * w + x) * 3 + c] = Math.round(v);
      }
    }
  }
  return { width: w, height: h, data };
}

/** Independent float64 separable reference (same kernel/grid as PIL, no fixed point, no intermediate rounding). */
function referenceResize(
  img: U8Image,
  W: number,
  H: number,
  kernel: (x: number) => number,
  support: number,
): Float64Array {
  const weights = (inSize: number, outSize: number) => {
    const scale = inSize / outSize;
    const fs = Math.max(1, scale);
    return Array.from({ length: outSize }, (_, o) => {
      const center = (o + 0.5) * scale;
      const taps: [number, number][] = [];
      for (
        let i = Math.max(0, Math.floor(center - support * fs));
        i < Math.min(inSize, Math.ceil(center + support * fs));
        i++
      ) {
        taps.push([i, kernel((i + 0.5 - center) / fs)]);
      }
      const s = taps.reduce((a, t) => a + t[1], 0);
      return taps.map(([i, v]) => [i, v / s] as [number, number]);
    });
  };
  const wx = weights(img.width, W);
  const wy = weights(img.height, H);
  const tmp = new Float64Array(img.height * W * 3); // [H, W', 3]
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++)
        tmp[(y * W + x) * 3 + c] = wx[x].reduce(
          (a, [i, v]) => a + v * img.data[(y * img.width + i) * 3 + c],
          0,
        );
  const out = new Float64Array(H * W * 3); // [H', W', 3]
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++)
        out[(y * W + x) * 3 + c] = wy[y].reduce((a, [i, v]) => a + v * tmp[(i * W + x) * 3 + c], 0);
  return out;
}

const cubic = (x: number) => {
  const t = Math.abs(x);
  return t < 1 ? 1.5 * t ** 3 - 2.5 * t ** 2 + 1 : t < 2 ? -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2 : 0;
};
const tri = (x: number) => Math.max(0, 1 - Math.abs(x));

describe('resizePil', () => {
  it('agrees with an independent float reference within 1.5 levels (bicubic and bilinear, down and up)', () => {
    const img = smoothImage(97, 61, 3);
    for (const [W, H] of [
      [40, 25],
      [23, 61],
      [97, 30],
      [150, 90],
      [211, 64],
    ]) {
      for (const [name, fn, k, s] of [
        ['bicubic', resizeBicubic, cubic, 2],
        ['bilinear', resizeBilinear, tri, 1],
      ] as const) {
        const out = fn(img, W, H);
        const ref = referenceResize(img, W, H, k, s);
        let max = 0;
        for (let i = 0; i < ref.length; i++)
          max = Math.max(max, Math.abs(out.data[i] - Math.min(255, Math.max(0, ref[i]))));
        expect(max, `${name} ${W}x${H}`).toBeLessThanOrEqual(1.5);
      }
    }
  });

  it('bilinear 4 -> 2 gives the hand-computed antialiased values', () => {
    // Output 0: centre 1, support 2, taps x=0..2 with weights .75,.75,.25 (normalised 3/7, 3/7, 1/7).
    const img = {
      width: 4,
      height: 1,
      data: new Uint8Array([0, 0, 0, 70, 70, 70, 140, 140, 140, 210, 210, 210]),
    };
    const out = resizeBilinear(img, 2, 1);
    // x0: (0*3 + 70*3 + 140)/7 = 50; x1: taps 1..3 weights .25,.75,.75 -> (70 + 140*3 + 210*3)/7 = 160
    expect([...out.data]).toEqual([50, 50, 50, 160, 160, 160]);
  });

  it('keeps constant images constant and returns a copy for same-size resizes', () => {
    const data = new Uint8Array(50 * 30 * 3).fill(77);
    const img = { width: 50, height: 30, data };
    for (const [w, h] of [
      [7, 5],
      [200, 13],
      [50, 90],
    ]) {
      const out = resizeBicubic(img, w, h);
      expect(out.data.every((v) => v === 77)).toBe(true);
    }
    const same = resizeBicubic(img, 50, 30);
    expect(same.data).not.toBe(data);
    expect(same.data).toEqual(data);
  });

  it('handles 1- and 4-channel data like the 3-channel path', () => {
    const rgb = smoothImage(31, 17, 1);
    const grey = new Uint8Array(31 * 17);
    for (let i = 0; i < grey.length; i++) grey[i] = rgb.data[i * 3];
    const g = resizePil({ width: 31, height: 17, data: grey }, 12, 40, 'bicubic');
    const c = resizeBicubic(rgb, 12, 40);
    for (let i = 0; i < g.data.length; i++) expect(g.data[i]).toBe(c.data[i * 3]);
  });

  it('rejects bad sizes and data with clear errors', () => {
    const img = { width: 4, height: 4, data: new Uint8Array(48) };
    expect(() => resizeBicubic(img, 0, 3)).toThrow(/invalid target size 0x3/);
    expect(() => resizeBicubic(img, 2.5, 3)).toThrow(/invalid target size/);
    expect(() => resizeBicubic({ width: 4, height: 4, data: new Uint8Array(47) }, 2, 2)).toThrow(
      /data length 47/,
    );
  });

  it('downsizes a 4000x3000 painting to 298x224 quickly', () => {
    const data = new Uint8Array(4000 * 3000 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const t0 = performance.now();
    const out = resizeBicubic({ width: 4000, height: 3000, data }, 298, 224);
    const ms = performance.now() - t0;
    console.log(`resizeBicubic 4000x3000 -> 298x224: ${ms.toFixed(0)} ms`);
    expect(out.data.length).toBe(298 * 224 * 3);
    expect(ms).toBeLessThan(2000); // ~130 ms on an idle core; loose bound for a shared machine
  });
});
