/**
 * Decomposition maps in the browser: a selection of head patch maps summed (one head, a layer's heads, or all
 * heads of all layers) from a decomposition's `[L, H, G, G]` array, and a patch-grid map brought onto the
 * painting at a display size — bilinear on the grid (align_corners = false, as the server's maps), through the
 * rectangle of the painting the model input covers; NaN outside it (the crop's edges are not seen).
 *
 * @example
 * const grid = selectHeads(heads.data, 4, 4, 7, 3, 1);          // [49]
 * const size = displaySize(768, 546);                             // { width: 480, height: 341 }
 * const map = gridToDisplay(grid, 7, d.inputRect, d.painting, size); // Float32Array [341 × 480]
 */

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A layer or head index, or every one. */
export type Pick = number | 'all';

/**
 * Sum of the patch maps of the selected heads, [G * G].
 *
 * @example
 * selectHeads(data, L, H, G, 'all', 'all'); // the total direct attention map
 */
export function selectHeads(
  heads: ArrayLike<number>,
  L: number,
  H: number,
  G: number,
  layer: Pick,
  head: Pick,
): Float32Array {
  const out = new Float32Array(G * G);
  const ls = layer === 'all' ? Array.from({ length: L }, (_, i) => i) : [layer];
  const hs = head === 'all' ? Array.from({ length: H }, (_, i) => i) : [head];
  for (const l of ls)
    for (const h of hs) {
      const off = (l * H + h) * G * G;
      for (let i = 0; i < G * G; i++) out[i] += heads[off + i];
    }
  return out;
}

/**
 * A display size of the painting: longest side `maxSide` (never enlarged).
 *
 * @example
 * displaySize(224, 224, 480); // { width: 224, height: 224 }
 */
export function displaySize(width: number, height: number, maxSide = 480): { width: number; height: number } {
  const k = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

/**
 * A G×G grid map in display pixels [out.height × out.width]: `rect` is where the model input lies in the
 * painting's pixels (`painting` is the painting's size in those pixels), NaN outside it.
 *
 * @example
 * gridToDisplay(grid, 7, { x: 0, y: 0, w: 224, h: 224 }, { width: 224, height: 224 }, { width: 224, height: 224 });
 */
export function gridToDisplay(
  grid: ArrayLike<number>,
  G: number,
  rect: Rect,
  painting: { width: number; height: number },
  out: { width: number; height: number },
): Float32Array {
  const { width: W, height: Hh } = out;
  const sx = painting.width / W;
  const sy = painting.height / Hh;
  const res = new Float32Array(W * Hh);
  const at = (r: number, c: number) =>
    grid[Math.min(G - 1, Math.max(0, r)) * G + Math.min(G - 1, Math.max(0, c))];
  for (let py = 0; py < Hh; py++) {
    const v = ((py + 0.5) * sy - rect.y) / rect.h; // 0..1 down the model input
    for (let px = 0; px < W; px++) {
      const u = ((px + 0.5) * sx - rect.x) / rect.w;
      if (u < 0 || u > 1 || v < 0 || v > 1) {
        res[py * W + px] = Number.NaN;
        continue;
      }
      const gx = u * G - 0.5;
      const gy = v * G - 0.5;
      const x0 = Math.floor(gx);
      const y0 = Math.floor(gy);
      const fx = gx - x0;
      const fy = gy - y0;
      const top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx;
      const bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx;
      res[py * W + px] = top * (1 - fy) + bottom * fy;
    }
  }
  return res;
}

/**
 * Black or white text, whichever contrasts more with a background (WCAG luminance): at least 4.58:1.
 *
 * @example
 * textOn('rgb(5, 48, 97)'); // '#ffffff'
 */
export function textOn(rgb: { r: number; g: number; b: number }): '#000000' | '#ffffff' {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const L = 0.2126 * lin(rgb.r) + 0.7152 * lin(rgb.g) + 0.0722 * lin(rgb.b);
  return (L + 0.05) / 0.05 >= 1.05 / (L + 0.05) ? '#000000' : '#ffffff';
}
