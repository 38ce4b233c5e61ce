/**
 * Heatmap colouring in the browser: 256-entry lookup tables from d3-scale-chromatic (inferno or viridis for
 * unsigned maps, RdBu reversed — red positive — for signed maps), the value range a map is coloured over (its
 * own min–max, or a shared domain for a grid, optionally clipped at a percentile so a few extreme pixels do not
 * wash the rest out; signed maps symmetric around zero), and the RGBA pixels of an overlay. Opacity follows a
 * transparency ramp: values below 15 % of the range are fully transparent and the opacity grows to its full
 * value at 70 %, so weak values leave the painting untouched.
 *
 * @example
 * const domain = displayDomain(map, { signed: false, clip: 99 });
 * const rgba = colourMap(map, { signed: false, opacity: 0.7, threshold: 0, scheme: 'inferno', domain });
 * ctx.putImageData(new ImageData(rgba, w, h), 0, 0);
 */
import { color } from 'd3';
import { SCHEMES } from '../report/legend.ts';

export type Scheme = 'inferno' | 'viridis';

const cache = new Map<string, Uint8Array>();

/** Where the transparency ramp starts and where it reaches the full opacity (share of the range). */
export const RAMP = { start: 0.15, full: 0.7 } as const;

/** A 256 × RGB lookup table of a colour scheme ('diverging' for signed maps). */
export function lookupTable(scheme: Scheme | 'diverging'): Uint8Array {
  let lut = cache.get(scheme);
  if (!lut) {
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const c = color(SCHEMES[scheme](i / 255))?.rgb();
      lut.set([c?.r ?? 0, c?.g ?? 0, c?.b ?? 0], 3 * i);
    }
    cache.set(scheme, lut);
  }
  return lut;
}

/**
 * The grid of a map of `n` values shown over a `width` × `height` painting: the painting's own size, or the smaller
 * copy of the same aspect ratio the server stores for paintings above its map pixel budget (`--max-map-pixels`).
 * `shape` [h, w] (the `.npy` header's) wins when it has `n` cells. The overlay is drawn at the map's grid and
 * stretched over the painting, so a map of any size fits.
 *
 * @example
 * mapGrid(1024 * 512, 8192, 4096); // { width: 1024, height: 512 }
 */
export function mapGrid(
  n: number,
  width: number,
  height: number,
  shape?: readonly number[],
): { width: number; height: number } {
  if (shape?.length === 2 && shape[0] * shape[1] === n) return { width: shape[1], height: shape[0] };
  if (n === width * height) return { width, height };
  const aspect = width / height;
  const w0 = Math.sqrt(n * aspect);
  let best: { width: number; height: number } | undefined;
  let err = Number.POSITIVE_INFINITY;
  for (let w = Math.max(1, Math.floor(w0) - 3); w <= Math.ceil(w0) + 3; w++) {
    if (n % w) continue;
    const e = Math.abs(Math.log(w / (n / w) / aspect));
    if (e < err) [best, err] = [{ width: w, height: n / w }, e];
  }
  // the server's budget copy keeps the aspect ratio to a pixel
  if (!best || Math.abs(best.height - best.width / aspect) > 1.5)
    throw new Error(`a map of ${n} values has no grid of the painting's ${width}×${height} aspect`);
  return best;
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

/**
 * The p-th percentile (0..100) of the finite values (of |v| when `abs`), from at most 65 536 evenly spaced
 * samples.
 *
 * @example
 * percentile(map, 99); // the value 99 % of the pixels are at or below
 */
export function percentile(map: ArrayLike<number>, p: number, abs = false): number {
  const stride = Math.max(1, Math.floor(map.length / 65536));
  const vals: number[] = [];
  for (let i = 0; i < map.length; i += stride) {
    const v = map[i];
    if (!Number.isNaN(v)) vals.push(abs ? Math.abs(v) : v);
  }
  if (!vals.length) return Number.NaN;
  vals.sort((a, b) => a - b);
  const k = (vals.length - 1) * Math.min(100, Math.max(0, p)) * 0.01;
  const lo = Math.floor(k);
  return vals[lo] + (vals[Math.min(vals.length - 1, lo + 1)] - vals[lo]) * (k - lo);
}

/**
 * The value range a map is coloured over: min to max (or to the clip percentile), or ±max|v| (or ± the clip
 * percentile of |v|) for signed maps.
 *
 * @example
 * displayDomain(map, { signed: true, clip: 99 }); // [-m, m]
 */
export function displayDomain(
  map: ArrayLike<number>,
  opts: { signed: boolean; clip?: number },
): [number, number] {
  const [lo, hi] = mapRange(map);
  if (!Number.isFinite(lo)) return [Number.NaN, Number.NaN];
  const clip = opts.clip ?? 100;
  if (opts.signed) {
    const m = clip < 100 ? percentile(map, clip, true) : Math.max(Math.abs(lo), Math.abs(hi));
    return [-(m || 1), m || 1];
  }
  const top = clip < 100 ? Math.max(lo, percentile(map, clip)) : hi;
  return [lo, top > lo ? top : lo + 1];
}

/**
 * One domain for several maps (a grid on a shared scale): the widest range of theirs.
 *
 * @example
 * sharedDomain([a, b], { signed: false, clip: 100 });
 */
export function sharedDomain(
  maps: ArrayLike<number>[],
  opts: { signed: boolean; clip?: number },
): [number, number] | undefined {
  const ds = maps.map((m) => displayDomain(m, opts)).filter((d) => Number.isFinite(d[0]));
  if (!ds.length) return undefined;
  return [Math.min(...ds.map((d) => d[0])), Math.max(...ds.map((d) => d[1]))];
}

/** Map values scaled to 0..1 colour positions over a domain (clamped; NaN stays NaN). */
export function normaliseMap(
  map: ArrayLike<number>,
  signed: boolean,
  domain: [number, number] = displayDomain(map, { signed }),
): Float32Array {
  const [lo, hi] = domain;
  const span = hi - lo || 1;
  const out = new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    out[i] = Number.isNaN(v) ? Number.NaN : Math.min(1, Math.max(0, (v - lo) / span));
  }
  return out;
}

/**
 * Opacity of a value of strength s (0..1) at full opacity `opacity`: 0 up to the ramp's start, growing to the
 * full opacity at its end.
 *
 * @example
 * rampAlpha(0.1, 0.7); // 0: weak values leave the painting untouched
 */
export function rampAlpha(s: number, opacity: number): number {
  if (s <= RAMP.start) return 0;
  const t = Math.min(1, (s - RAMP.start) / (RAMP.full - RAMP.start));
  return opacity * t * t * (3 - 2 * t); // smoothstep
}

export interface ColourOptions {
  signed: boolean;
  /** Overlay opacity 0..1 (reached by strong values). */
  opacity: number;
  /** Strength (0..1 of the range, |v| for signed maps) at or below which nothing is drawn. */
  threshold: number;
  scheme: Scheme;
  /** The value range coloured (default: the map's own, see `displayDomain`). */
  domain?: [number, number];
  /** Percentile the map's own range is clipped at (100: none). */
  clip?: number;
  /** false: the older square-root opacity, which veils weak values too. */
  ramp?: boolean;
}

/** RGBA pixels [H, W, 4] of the coloured map; alpha follows the transparency ramp. */
export function colourMap(map: ArrayLike<number>, opts: ColourOptions): Uint8ClampedArray<ArrayBuffer> {
  const domain = opts.domain ?? displayDomain(map, { signed: opts.signed, clip: opts.clip });
  const t = normaliseMap(map, opts.signed, domain);
  const lut = lookupTable(opts.signed ? 'diverging' : opts.scheme);
  const out = new Uint8ClampedArray(new ArrayBuffer(t.length * 4));
  const ramp = opts.ramp !== false;
  for (let i = 0; i < t.length; i++) {
    const v = t[i];
    if (Number.isNaN(v)) continue;
    const strength = opts.signed ? Math.abs(v - 0.5) * 2 : v;
    if (strength <= opts.threshold) continue;
    const k = Math.max(0, Math.min(255, Math.round(v * 255))) * 3;
    out[4 * i] = lut[k];
    out[4 * i + 1] = lut[k + 1];
    out[4 * i + 2] = lut[k + 2];
    out[4 * i + 3] = Math.round(
      255 * (ramp ? rampAlpha(strength, opts.opacity) : opts.opacity * Math.sqrt(strength)),
    );
  }
  return out;
}

/** CSS gradient of a scheme, for legends. */
export function schemeGradient(scheme: Scheme | 'diverging'): string {
  const f = SCHEMES[scheme];
  return `linear-gradient(to right, ${Array.from({ length: 11 }, (_, i) => f(i / 10)).join(', ')})`;
}

/**
 * The clip percentile of a method for a setting: 'auto' clips pixel-gradient maps at 99 % (they are spiky)
 * and nothing else.
 *
 * @example
 * clipFor('auto', 'gradient'); // 99
 */
export function clipFor(setting: string, family: 'attention' | 'gradient' | 'perturbation'): number {
  if (setting === 'auto') return family === 'gradient' ? 99 : 100;
  const v = Number(setting);
  return Number.isFinite(v) && v > 50 && v <= 100 ? v : 100;
}
