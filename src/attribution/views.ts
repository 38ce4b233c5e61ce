/**
 * Whole-painting views and the way back into the painting's own pixels.
 * - `crop`: what CLIP sees by default (shortest side resized, centre crop); the edges are not covered.
 * - `pad`: the painting letterboxed into a square with the preprocessing mean colour, then resized.
 * - `tiles`: overlapping square crops along the long side that cover the whole painting.
 * Each model input is described by the painting rectangle it covers ({@link ViewRect}); maps are brought back
 * by upsampling to the model input (bilinear, align_corners = false), then resampling through that rectangle;
 * tiles are stitched with a tent weight that is largest at each tile's centre. The tiles view is capped
 * (`maxTiles`, at most {@link MAX_TILES}; the command line and the server default to
 * {@link DEFAULT_MAX_TILES}): the count is checked from the size before any tile is cut, and a view over the
 * cap is refused with a {@link TileLimitError} that names the count and the limit.
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

/**
 * Tiles a view may have unless the caller says otherwise (a 64:1 strip at the default overlap of 0.25 needs
 * 85; a square painting needs 1).
 *
 * @example
 * prepareView(image, 'tiles', pre, { maxTiles: DEFAULT_MAX_TILES });
 */
export const DEFAULT_MAX_TILES = 64;

/**
 * The most tiles any tiles view may have (`prepareView`'s cap when none is given, and the largest value
 * `--max-tiles` takes): 256 inputs of 3 × 224 × 224 floats are 154 MB.
 *
 * @example
 * checkTileCount(w, h, overlap, MAX_TILES);
 */
export const MAX_TILES = 256;

/**
 * A tiles view that would need more tiles than allowed (refused before any tile is cut).
 *
 * @example
 * try { prepareView(img, 'tiles', pre, { tileOverlap: 0.9999 }); } catch (e) { if (e instanceof TileLimitError) e.tiles; }
 */
export class TileLimitError extends Error {
  override name = 'TileLimitError';
  constructor(
    readonly tiles: number,
    readonly limit: number,
    readonly size: { width: number; height: number },
    readonly overlap: number,
    hint?: string,
  ) {
    super(
      `the tiles view of a ${size.width}x${size.height} image with an overlap of ${overlap} needs ${tiles} tiles, above the limit of ${limit}${hint ? ` (${hint})` : ''}`,
    );
  }
}

/** Number of windows of `side` covering [0, length] with at least `overlap` shared (no array is made). */
function tileCount1d(length: number, side: number, overlap: number): number {
  if (length <= side) return 1;
  const step = side * (1 - overlap);
  return Math.ceil((length - side) / step) + 1;
}

/** Tile origins along one axis: n windows of `side` covering [0, length] with at least `overlap` shared. */
export function tileOrigins(length: number, side: number, overlap: number): number[] {
  if (length <= side) return [0];
  const n = tileCount1d(length, side, overlap);
  return Array.from({ length: n }, (_, i) => Math.round((i * (length - side)) / (n - 1)));
}

/**
 * How many tiles the tiles view of a `width` × `height` image makes (computed, nothing allocated).
 *
 * @example
 * countTiles(64, 48, 0.25); // 2
 * countTiles(64, 48, 0.9999); // 3335
 */
export function countTiles(width: number, height: number, overlap = 0.25): number {
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`tiles: overlap must be in [0, 1), got ${overlap}`);
  const side = Math.min(width, height);
  return tileCount1d(width, side, overlap) * tileCount1d(height, side, overlap);
}

/**
 * Throws a {@link TileLimitError} when the tiles view of this size needs more than `maxTiles` tiles.
 *
 * @example
 * checkTileCount(64, 48, 0.9999, 64, 'raise it with --max-tiles'); // throws: 3335 tiles, above 64
 */
export function checkTileCount(
  width: number,
  height: number,
  overlap = 0.25,
  maxTiles = DEFAULT_MAX_TILES,
  hint?: string,
): number {
  const n = countTiles(width, height, overlap);
  if (n > maxTiles) throw new TileLimitError(n, maxTiles, { width, height }, overlap, hint);
  return n;
}

/**
 * Builds the model inputs of a view of a decoded painting (the tiles view refuses more than `maxTiles`
 * tiles, default and at most {@link MAX_TILES}, before cutting any).
 *
 * @example
 * const { inputs, transform } = prepareView(image, 'pad', clip.preprocessor.config);
 */
export function prepareView(
  image: RgbImage,
  kind: ViewKind,
  pre: PreprocessConfig,
  opts: { tileOverlap?: number; maxTiles?: number } = {},
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
  checkTileCount(W, H, overlap, Math.min(opts.maxTiles ?? MAX_TILES, MAX_TILES));
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
