/**
 * Bilinear resizing of a single-channel map with PyTorch `F.interpolate(mode='bilinear',
 * align_corners=False)` semantics: source coordinate = (dst + 0.5) · in/out − 0.5, clamped at 0 below,
 * neighbours clamped at the last row/column. Arithmetic is rounded to float32 the way PyTorch's CPU kernel
 * (compiled with fused multiply-add) rounds it: out = fma(t1, λ1, t0·λ0) per axis, width first. This matters
 * for ties: where two grid values are equal, the first maximum of the upsampled map depends on the last bit.
 *
 * @example
 * const up = resizeBilinear(grid7x7, 7, 7, 224, 224); // Float32Array [224, 224]
 */

/** Per output index: first source index, whether a second one exists, and its weight (lambda). */
function axisWeights(
  inSize: number,
  outSize: number,
): { i0: Int32Array; step: Int32Array; l1: Float32Array } {
  const scale = Math.fround(inSize / outSize);
  const i0 = new Int32Array(outSize);
  const step = new Int32Array(outSize);
  const l1 = new Float32Array(outSize);
  for (let d = 0; d < outSize; d++) {
    const src = Math.max(0, Math.fround(Math.fround(scale * (d + 0.5)) - 0.5));
    const i = Math.min(Math.floor(src), inSize - 1);
    i0[d] = i;
    step[d] = i < inSize - 1 ? 1 : 0;
    l1[d] = Math.fround(src - i);
  }
  return { i0, step, l1 };
}

/**
 * Resizes a row-major map [h, w] to [outH, outW] bilinearly (align_corners = false).
 *
 * @example
 * resizeBilinear(new Float32Array([0, 1, 2, 3]), 2, 2, 4, 4); // rows [0,.25,.75,1], ..., [2,2.25,2.75,3]
 */
export function resizeBilinear(
  map: Float32Array,
  h: number,
  w: number,
  outH: number,
  outW: number,
): Float32Array {
  if (map.length !== h * w)
    throw new Error(`resizeBilinear: map has ${map.length} values, expected ${h}x${w} = ${h * w}`);
  if (![h, w, outH, outW].every((v) => Number.isInteger(v) && v > 0))
    throw new Error(`resizeBilinear: sizes must be positive integers (${h}x${w} -> ${outH}x${outW})`);
  if (h === outH && w === outW) return Float32Array.from(map);
  const ry = axisWeights(h, outH);
  const rx = axisWeights(w, outW);
  const out = new Float32Array(outH * outW);
  const f = Math.fround;
  for (let y = 0; y < outH; y++) {
    const a = ry.i0[y] * w;
    const b = a + ry.step[y] * w;
    const h1 = ry.l1[y];
    const h0 = f(1 - h1);
    for (let x = 0; x < outW; x++) {
      const c = rx.i0[x];
      const d = c + rx.step[x];
      const w1 = rx.l1[x];
      const w0 = f(1 - w1);
      // [outH, outW] <- weighted sum of the 4 neighbours; f(p * q + r) is an exact fused multiply-add
      // (a float32 product is exact in float64) rounded once to float32
      const top = f(map[a + d] * w1 + f(map[a + c] * w0));
      const bottom = f(map[b + d] * w1 + f(map[b + c] * w0));
      out[y * outW + x] = f(bottom * h1 + f(top * h0));
    }
  }
  return out;
}
