/**
 * Heatmap colouring in the browser: 256-entry lookup tables from d3-scale-chromatic (inferno or viridis for
 * unsigned maps, RdBu reversed — red positive — for signed maps), and the RGBA pixels of an overlay with opacity
 * and threshold. Unsigned maps are scaled min–max, signed ones symmetrically around zero (±max|v|).
 *
 * @example
 * const rgba = colourMap(map, { signed: false, opacity: 0.6, threshold: 0.2, scheme: 'inferno' });
 * ctx.putImageData(new ImageData(rgba, w, h), 0, 0);
 */
import { color, interpolateInferno, interpolateRdBu, interpolateViridis } from 'd3';

export type Scheme = 'inferno' | 'viridis';

const INTERPOLATORS = {
  inferno: interpolateInferno,
  viridis: interpolateViridis,
  diverging: (t: number) => interpolateRdBu(1 - t),
};
const cache = new Map<string, Uint8Array>();

/** A 256 × RGB lookup table of a colour scheme ('diverging' for signed maps). */
export function lookupTable(scheme: Scheme | 'diverging'): Uint8Array {
  let lut = cache.get(scheme);
  if (!lut) {
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const c = color(INTERPOLATORS[scheme](i / 255))?.rgb();
      lut.set([c?.r ?? 0, c?.g ?? 0, c?.b ?? 0], 3 * i);
    }
    cache.set(scheme, lut);
  }
  return lut;
}

/** Finite range of a map: [min, max] (NaN, NaN when empty). */
export function mapRange(map: ArrayLike<number>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return Number.isFinite(lo) ? [lo, hi] : [Number.NaN, Number.NaN];
}

/** Map values scaled to 0..1 colour positions (NaN stays NaN): min–max, or 0.5 ± v / 2max|v| when signed. */
export function normaliseMap(map: ArrayLike<number>, signed: boolean): Float32Array {
  const [lo, hi] = mapRange(map);
  const out = new Float32Array(map.length);
  const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  const span = hi - lo || 1;
  for (let i = 0; i < map.length; i++) out[i] = signed ? 0.5 + map[i] / (2 * m) : (map[i] - lo) / span;
  return out;
}

export interface ColourOptions {
  signed: boolean;
  /** Overlay opacity 0..1. */
  opacity: number;
  /** Strength (0..1 of the range, |v| for signed maps) at or below which nothing is drawn. */
  threshold: number;
  scheme: Scheme;
}

/** RGBA pixels [H, W, 4] of the coloured map; alpha grows with strength so weak areas show the painting. */
export function colourMap(map: ArrayLike<number>, opts: ColourOptions): Uint8ClampedArray<ArrayBuffer> {
  const t = normaliseMap(map, opts.signed);
  const lut = lookupTable(opts.signed ? 'diverging' : opts.scheme);
  const out = new Uint8ClampedArray(new ArrayBuffer(t.length * 4));
  for (let i = 0; i < t.length; i++) {
    const v = t[i];
    if (Number.isNaN(v)) continue;
    const strength = opts.signed ? Math.abs(v - 0.5) * 2 : v;
    if (strength <= opts.threshold) continue;
    const k = Math.max(0, Math.min(255, Math.round(v * 255))) * 3;
    out[4 * i] = lut[k];
    out[4 * i + 1] = lut[k + 1];
    out[4 * i + 2] = lut[k + 2];
    out[4 * i + 3] = Math.round(255 * opts.opacity * Math.sqrt(strength));
  }
  return out;
}

/** CSS gradient of a scheme, for legends. */
export function schemeGradient(scheme: Scheme | 'diverging'): string {
  const f = INTERPOLATORS[scheme];
  return `linear-gradient(to right, ${Array.from({ length: 9 }, (_, i) => f(i / 8)).join(', ')})`;
}
