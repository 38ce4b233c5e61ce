/**
 * Heatmap overlays: a painting-resolution map coloured with a perceptually uniform colour map (inferno for
 * unsigned maps; a diverging red–blue map centred on zero for signed ones) and blended over the painting.
 *
 * @example
 * const png = await renderOverlay(paintingRgb, paintingMap, { signed: false, opacity: 0.6 });
 */
import { color, interpolateInferno, interpolateRdBu } from 'd3';
import sharp from 'sharp';
import type { RgbImage } from '../core/image-decode.ts';

/** 256-entry RGB lookup table of a d3 interpolator. */
function makeLut(interp: (t: number) => string): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const c = color(interp(i / 255))?.rgb();
    lut[3 * i] = c?.r ?? 0;
    lut[3 * i + 1] = c?.g ?? 0;
    lut[3 * i + 2] = c?.b ?? 0;
  }
  return lut;
}

const LUTS = {
  inferno: makeLut(interpolateInferno),
  // RdBu runs red (0) to blue (1); reversed so positive evidence is red
  diverging: makeLut((t) => interpolateRdBu(1 - t)),
};

export interface OverlayOptions {
  /** Signed maps use the diverging map with 0 at the centre; unsigned ones inferno from min to max. */
  signed: boolean;
  /** Heatmap opacity 0..1 (default 0.6). */
  opacity?: number;
  /** Values at or below this fraction of the range are not drawn (default 0). */
  threshold?: number;
}

/** Maps values to 0..1 colour positions (NaN stays NaN): min–max for unsigned, ±max|v| for signed maps. */
export function normaliseForDisplay(values: Float32Array, signed: boolean): Float32Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return values.map(() => Number.NaN);
  if (signed) {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return values.map((v) => 0.5 + v / (2 * m));
  }
  const span = hi - lo || 1;
  return values.map((v) => (v - lo) / span);
}

/** Renders the overlay as PNG bytes at the painting's size. */
export async function renderOverlay(
  painting: RgbImage,
  map: Float32Array,
  opts: OverlayOptions,
): Promise<Buffer> {
  const { width: W, height: H } = painting;
  if (map.length !== W * H)
    throw new Error(`renderOverlay: map has ${map.length} values for a ${W}×${H} painting`);
  const alpha = opts.opacity ?? 0.6;
  const threshold = opts.threshold ?? 0;
  const lut = opts.signed ? LUTS.diverging : LUTS.inferno;
  const t = normaliseForDisplay(map, opts.signed);
  const out = Buffer.alloc(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    const v = t[i];
    const strength = opts.signed ? Math.abs(v - 0.5) * 2 : v;
    // weak values fade out so the painting stays readable where the map is low
    const a = Number.isNaN(v) || strength <= threshold ? 0 : alpha * Math.sqrt(strength);
    const k = Number.isNaN(v) ? 0 : Math.max(0, Math.min(255, Math.round(v * 255))) * 3;
    for (let c = 0; c < 3; c++) {
      const base = painting.data[3 * i + c] * (Number.isNaN(v) ? 0.45 : 1); // uncovered pixels are dimmed
      out[3 * i + c] = Math.round(base * (1 - a) + lut[k + c] * a);
    }
  }
  return sharp(out, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toBuffer();
}
