import { describe, expect, it } from 'vitest';
import { resizeBilinear } from '../../src/core/resize-map.ts';

/** Independent float64 reference of F.interpolate(bilinear, align_corners=False). */
function reference(map: number[], h: number, w: number, oh: number, ow: number): number[] {
  const src = (d: number, n: number, o: number) => Math.max(0, ((d + 0.5) * n) / o - 0.5);
  const out: number[] = [];
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      const sy = src(y, h, oh);
      const sx = src(x, w, ow);
      const y0 = Math.min(Math.floor(sy), h - 1);
      const x0 = Math.min(Math.floor(sx), w - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      const x1 = Math.min(x0 + 1, w - 1);
      const ly = sy - y0;
      const lx = sx - x0;
      const at = (i: number, j: number) => map[i * w + j];
      out.push(
        (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1)),
      );
    }
  return out;
}

describe('resizeBilinear (align_corners = false)', () => {
  it('upsamples 2x2 -> 4x4 as PyTorch (hand computed)', () => {
    const out = Array.from(resizeBilinear(new Float32Array([0, 1, 2, 3]), 2, 2, 4, 4));
    // source coords: 0 (clamped), 0.25, 0.75, 1.25 (clamped to the last index)
    expect(out).toEqual([0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]);
  });
  it('downsamples 4 -> 2 by averaging neighbour pairs', () => {
    const out = resizeBilinear(new Float32Array([0, 2, 4, 6]), 1, 4, 1, 2);
    expect(Array.from(out)).toEqual([1, 5]);
  });
  it('matches a float64 reference for 7x7 -> 224x224 and non-square sizes', () => {
    const g = Array.from({ length: 49 }, (_, k) => Math.sin(k * 1.7) * 3);
    const got = resizeBilinear(new Float32Array(g), 7, 7, 224, 224);
    const want = reference(Array.from(new Float32Array(g)), 7, 7, 224, 224);
    expect(Math.max(...want.map((v, k) => Math.abs(v - got[k])))).toBeLessThan(1e-5);
    const g2 = Array.from({ length: 15 }, (_, k) => k * k - 3);
    const got2 = resizeBilinear(new Float32Array(g2), 3, 5, 17, 11);
    const want2 = reference(g2, 3, 5, 17, 11);
    expect(Math.max(...want2.map((v, k) => Math.abs(v - got2[k])))).toBeLessThan(1e-4);
  });
  it('keeps a constant map constant and copies when sizes agree', () => {
    const c = resizeBilinear(new Float32Array(49).fill(0.3), 7, 7, 224, 224);
    expect(c.every((v) => v === Math.fround(0.3))).toBe(true);
    const same = new Float32Array([1, 2, 3, 4]);
    const copy = resizeBilinear(same, 2, 2, 2, 2);
    expect(Array.from(copy)).toEqual([1, 2, 3, 4]);
    expect(copy).not.toBe(same);
  });
  it('rejects bad sizes', () => {
    expect(() => resizeBilinear(new Float32Array(5), 2, 2, 4, 4)).toThrow(/5 values, expected 2x2/);
    expect(() => resizeBilinear(new Float32Array(4), 2, 2, 0, 4)).toThrow(/positive integers/);
  });
});
