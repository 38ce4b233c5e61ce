/**
 * IEEE-754 half precision (float16) conversions, shared by the `.npy` and safetensors readers and writers.
 * Pure functions with no Node-only imports, so the browser bundle can use them too.
 *
 * @example
 * halfToFloat(0x3c00); // 1
 * floatToHalf(-2); // 0xc000
 */

/**
 * Decodes the 16 bits of a half-precision float exactly (subnormals, ±Infinity and NaN included).
 *
 * @example
 * halfToFloat(0x0001); // 2 ** -24, the smallest subnormal
 */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * Encodes a number as half-precision bits (via float32, then round to nearest even; overflow gives ±Infinity).
 *
 * @example
 * floatToHalf(1 + 2 ** -11); // 0x3c00: the tie rounds to the even neighbour, 1
 */
export function floatToHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const x = new Uint32Array(f32.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}
