/**
 * Whole-painting views and the way back into the painting's own pixels.
 * - `crop`: what CLIP sees by default (shortest side resized, centre crop); the edges are not covered.
 * - `pad`: the painting letterboxed into a square with the preprocessing mean colour, then resized.
 * - `tiles`: overlapping square crops along the long side that cover the whole painting.
 * Each model input is described by the painting rectangle it covers ({@link ViewRect}); maps are brought back
 * by upsampling to the model input (bilinear, align_corners = false), then resampling through that rectangle;
 * tiles are stitched with a tent weight that is largest at each tile's centre.
 *
 * @example
 * const view = prepareView(image, 'tiles', preprocessConfig);
 * const painting = mapToPainting([tile0Map, tile1Map], view.transform); // Float32Array [H, W]
 */
import type { RgbImage } from '../core/image-decode.ts';
import {
  centerCrop,
  cropRegion,
  type PreprocessConfig,
  padToSquare,
  resizeShortestSide,
  type Triple,
  toPixelValues,
} from '../core/preprocess.ts';
import { resizeBicubic } from '../core/resample.ts';
import { resizeBilinear } from '../core/resize-map.ts';
import type { ViewRect, ViewTransform } from './types.ts';

export const VIEW_KINDS = ['crop', 'pad', 'tiles'] as const;
export type ViewKind = (typeof VIEW_KINDS)[number];

export interface PreparedView {
  transform: ViewTransform;
  /** Normalised model inputs [3, S, S], one per rect. */
  inputs: Float32Array[];
}

/** Tile origins along one axis: n windows of `side` covering [0, length] with at least `overlap` shared. */
export function tileOrigins(length: number, side: number, overlap: number): number[] {
  if (length <= side) return [0];
  const step = side * (1 - overlap);
  const n = Math.ceil((length - side) / step) + 1;
  return Array.from({ length: n }, (_, i) => Math.round((i * (length - side)) / (n - 1)));
}

/**
 * Builds the model inputs of a view of a decoded painting.
 */
export function prepareView(
  image: RgbImage,
  kind: ViewKind,
  pre: PreprocessConfig,
  opts: { tileOverlap?: number } = {},
): PreparedView {
  const S = pre.cropSize;
  const { width: W, height: H } = image;
  const painting = { width: W, height: H };
  const normalise = (img: RgbImage) => toPixelValues(img, pre.mean, pre.std);
  if (kind === 'crop') {
    const resized = resizeShortestSide(image, pre.size);
    const { image: crop, top, left } = centerCrop(resized, S);
    const sx = W / resized.width;
    const sy = H / resized.height;
    const rect = { x: left * sx, y: top * sy, w: S * sx, h: S * sy };
    return { transform: { kind, painting, inputSize: S, rects: [rect] }, inputs: [normalise(crop)] };
  }
  if (kind === 'pad') {
    const fill = pre.mean.map((m) => Math.round(m * 255)) as Triple;
    const { image: square, top, left } = padToSquare(image, fill);
    const M = square.width;
    const rect = { x: -left, y: -top, w: M, h: M };
    return {
      transform: { kind, painting, inputSize: S, rects: [rect] },
      inputs: [normalise(resizeBicubic(square, S, S))],
    };
  }
  if (kind !== 'tiles') throw new Error(`unknown view "${kind}" (choose ${VIEW_KINDS.join(', ')})`);
  const overlap = opts.tileOverlap ?? 0.25;
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`tiles: overlap must be in [0, 1), got ${overlap}`);
  const side = Math.min(W, H);
  const rects: ViewRect[] = [];
  const inputs: Float32Array[] = [];
  for (const y of tileOrigins(H, side, overlap)) {
    for (const x of tileOrigins(W, side, overlap)) {
      rects.push({ x, y, w: side, h: side });
      inputs.push(normalise(resizeBicubic(cropRegion(image, x, y, side, side), S, S)));
    }
  }
  return { transform: { kind, painting, inputSize: S, rects }, inputs };
}

/** Bilinear sample of a [S, S] map at continuous pixel-centre coordinates (u, v), edges clamped. */
function sample(map: Float32Array, S: number, u: number, v: number): number {
  const x = Math.min(Math.max(u - 0.5, 0), S - 1);
  const y = Math.min(Math.max(v - 0.5, 0), S - 1);
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(x0 + 1, S - 1);
  const y1 = Math.min(y0 + 1, S - 1);
  const fx = x - x0;
  const fy = y - y0;
  const top = map[y0 * S + x0] * (1 - fx) + map[y0 * S + x1] * fx;
  const bottom = map[y1 * S + x0] * (1 - fx) + map[y1 * S + x1] * fx;
  return top * (1 - fy) + bottom * fy;
}

/** A map on its native grid brought to the model input's S×S pixels. */
export function mapToInput(
  values: Float32Array,
  grid: { rows: number; cols: number },
  S: number,
): Float32Array {
  return grid.rows === S && grid.cols === S ? values : resizeBilinear(values, grid.rows, grid.cols, S, S);
}

/**
 * Brings per-input maps (one per rect of the view, on any grid) into painting pixels [H, W].
 * Pixels no input covers (outside a centre crop) are NaN.
 */
export function mapToPainting(
  maps: { values: Float32Array; grid: { rows: number; cols: number } }[],
  view: ViewTransform,
): Float32Array {
  if (maps.length !== view.rects.length) {
    throw new Error(`mapToPainting: ${maps.length} maps for a view with ${view.rects.length} inputs`);
  }
  const { width: W, height: H } = view.painting;
  const S = view.inputSize;
  const sum = new Float64Array(W * H);
  const weight = new Float64Array(W * H);
  maps.forEach((m, i) => {
    const r = view.rects[i];
    const up = mapToInput(m.values, m.grid, S);
    const x0 = Math.max(0, Math.floor(r.x));
    const x1 = Math.min(W, Math.ceil(r.x + r.w));
    const y0 = Math.max(0, Math.floor(r.y));
    const y1 = Math.min(H, Math.ceil(r.y + r.h));
    for (let py = y0; py < y1; py++) {
      const v = ((py + 0.5 - r.y) / r.h) * S;
      if (v < 0 || v > S) continue;
      const wy = view.rects.length > 1 ? 1 - Math.abs((2 * v) / S - 1) + 1e-3 : 1;
      for (let px = x0; px < x1; px++) {
        const u = ((px + 0.5 - r.x) / r.w) * S;
        if (u < 0 || u > S) continue;
        const w = view.rects.length > 1 ? wy * (1 - Math.abs((2 * u) / S - 1) + 1e-3) : 1;
        sum[py * W + px] += w * sample(up, S, u, v);
        weight[py * W + px] += w;
      }
    }
  });
  return Float32Array.from(sum, (s, i) => (weight[i] > 0 ? s / weight[i] : Number.NaN));
}

/** Where a painting pixel lands in model input `i` of a view (continuous S×S coordinates). */
export function paintingToInput(view: ViewTransform, i: number, px: number, py: number): [number, number] {
  const r = view.rects[i];
  return [((px - r.x) / r.w) * view.inputSize, ((py - r.y) / r.h) * view.inputSize];
}
