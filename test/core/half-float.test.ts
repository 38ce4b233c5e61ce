import { describe, expect, it } from 'vitest';
import { floatToHalf, halfToFloat } from '../../src/core/half-float.ts';

describe('half-float', () => {
  it('decodes every 16-bit pattern exactly and encodes it back to the same bits', () => {
    const wrong: string[] = [];
    for (let h = 0; h <= 0xffff; h++) {
      const v = halfToFloat(h);
      const exp = (h >> 10) & 0x1f;
      const frac = h & 0x3ff;
      if (exp === 0x1f && frac !== 0) {
        if (!Number.isNaN(v) || (floatToHalf(v) & 0x7c00) !== 0x7c00) wrong.push(`NaN ${h.toString(16)}`);
        continue;
      }
      const mag =
        exp === 0
          ? frac * 2 ** -24
          : exp === 0x1f
            ? Number.POSITIVE_INFINITY
            : (1024 + frac) * 2 ** (exp - 25);
      if (!Object.is(v, h & 0x8000 ? -mag : mag) || floatToHalf(v) !== h) wrong.push(h.toString(16));
    }
    expect(wrong).toEqual([]);
  });

  it('rounds to nearest even, flushes tiny values to signed zero and overflows to infinity', () => {
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie -> even (1)
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (1 + 2^-9)
    expect(floatToHalf(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal -> 0
    expect(floatToHalf(-(2 ** -30))).toBe(0x8000);
    expect(floatToHalf(65520)).toBe(0x7c00); // rounds past the largest finite half (65504)
    expect(floatToHalf(-1e6)).toBe(0xfc00);
  });
});
