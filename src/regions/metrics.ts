/**
 * How well a saliency map agrees with an expert region. Every function takes the map and the mask at the
 * same resolution (row-major [h, w]; mask 1 = inside) and returns one number:
 * pointing game (Zhang et al. 2016: on the region's bounding box, optionally with a 15 px tolerance, or on the
 * exact outline), energy-based pointing game (Wang et al. 2020, Score-CAM), relevance mass
 * and rank accuracy (Arras et al. 2022, CLEVR-XAI), AUROC (Mann–Whitney, ties as average ranks), IoU of the
 * top-k pixels (k = mask area), NSS (Peters et al. 2005) and the contrastive pointing game.
 *
 * @example
 * const mask = rasterizeRegion(region, 224, 224);
 * const m = scoreMap(map224, 224, 224, { mask, box: { x: 9, y: 6, w: 83, h: 83 } });
 */

/** A pixel box: columns x ≤ j + 0.5 < x + w, rows y ≤ i + 0.5 < y + h (as the rasteriser). */
export interface PixelBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

function checkSizes(map: ArrayLike<number>, mask: ArrayLike<number>, fn: string): void {
  if (map.length !== mask.length)
    throw new Error(
      `${fn}: map has ${map.length} values but the mask ${mask.length}; resize the map to the mask first`,
    );
}

/**
 * Row-major index of the first maximum (NaN values are skipped).
 *
 * @example
 * peakIndex(new Float32Array([1, 3, 3])); // 1
 */
export function peakIndex(map: ArrayLike<number>): number {
  let best = -1;
  let v = -Infinity;
  for (let k = 0; k < map.length; k++)
    if (map[k] > v) {
      v = map[k];
      best = k;
    }
  if (best < 0) throw new Error('peakIndex: map has no finite maximum (empty or all NaN / -Infinity)');
  return best;
}

/**
 * The tight pixel box of a mask [h, w]: the smallest box holding every inside pixel (undefined for an empty mask).
 * Pointing at it is the pointing game on the region's bounding box, as Zhang et al. score it.
 *
 * @example
 * maskBoundingBox(Uint8Array.of(0, 0, 0, 1, 1, 0), 2, 3); // { x: 0, y: 1, w: 2, h: 1 }
 */
export function maskBoundingBox(mask: Uint8Array, h: number, w: number): PixelBox | undefined {
  if (mask.length !== h * w)
    throw new Error(`maskBoundingBox: mask has ${mask.length} values, expected ${h}x${w}`);
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++)
      if (mask[i * w + j]) {
        if (j < x0) x0 = j;
        if (j > x1) x1 = j;
        if (i < y0) y0 = i;
        if (i > y1) y1 = i;
      }
  return x1 < 0 ? undefined : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/** True when the pixel (row i, column j) centre lies inside the box. */
export function boxContains(box: PixelBox, i: number, j: number): boolean {
  return box.x <= j + 0.5 && j + 0.5 < box.x + box.w && box.y <= i + 0.5 && i + 0.5 < box.y + box.h;
}

/**
 * Pointing game: 1 when the first maximum (row-major) lies in the target (a mask, or a box), else 0. With
 * `tolerance` (pixels, e.g. 15 as Zhang et al.), a hit is a target pixel within that Euclidean distance.
 *
 * @example
 * pointingGame(map, 224, 224, { x: 9, y: 6, w: 83, h: 83 });           // box
 * pointingGame(map, 224, 224, mask, { tolerance: 15 });                // mask with 15 px tolerance
 */
export function pointingGame(
  map: ArrayLike<number>,
  h: number,
  w: number,
  target: Uint8Array | PixelBox,
  opts: { tolerance?: number } = {},
): number {
  if (map.length !== h * w) throw new Error(`pointingGame: map has ${map.length} values, expected ${h}x${w}`);
  const p = peakIndex(map);
  const pi = Math.floor(p / w);
  const pj = p - pi * w;
  const tol = opts.tolerance ?? 0;
  if (!(target instanceof Uint8Array)) {
    if (tol <= 0) return boxContains(target, pi, pj) ? 1 : 0;
    // distance from the peak's centre to the nearest inside pixel centre of the box
    const j0 = Math.ceil(target.x - 0.5);
    const j1 = Math.ceil(target.x + target.w - 0.5) - 1;
    const i0 = Math.ceil(target.y - 0.5);
    const i1 = Math.ceil(target.y + target.h - 0.5) - 1;
    if (j1 < j0 || i1 < i0) return 0;
    const dj = pj < j0 ? j0 - pj : pj > j1 ? pj - j1 : 0;
    const di = pi < i0 ? i0 - pi : pi > i1 ? pi - i1 : 0;
    return dj * dj + di * di <= tol * tol ? 1 : 0;
  }
  checkSizes(map, target, 'pointingGame');
  if (target[p]) return 1;
  const r = Math.floor(tol);
  for (let i = Math.max(0, pi - r); i <= Math.min(h - 1, pi + r); i++)
    for (let j = Math.max(0, pj - r); j <= Math.min(w - 1, pj + r); j++)
      if (target[i * w + j] && (i - pi) ** 2 + (j - pj) ** 2 <= tol * tol) return 1;
  return 0;
}

/**
 * Energy-based pointing game: positive map mass inside the mask ÷ all positive mass (0 when none is positive).
 *
 * @example
 * energyPointingGame(new Float32Array([2, -1, 1, 1]), new Uint8Array([1, 1, 0, 0])); // 0.5
 */
export function energyPointingGame(map: ArrayLike<number>, mask: Uint8Array): number {
  checkSizes(map, mask, 'energyPointingGame');
  let inside = 0;
  let total = 0;
  for (let k = 0; k < map.length; k++)
    if (map[k] > 0) {
      total += map[k];
      if (mask[k]) inside += map[k];
    }
  return total > 0 ? inside / total : 0;
}

/**
 * Relevance mass accuracy (Arras et al.): relevance inside the mask ÷ total relevance. By default only positive
 * relevance counts (as in the paper, where it then equals the energy pointing game); `{ signed: true }` uses
 * the raw sums, `{ absolute: true }` the absolute values.
 *
 * @example
 * relevanceMassAccuracy(new Float32Array([3, 1]), new Uint8Array([1, 0])); // 0.75
 */
export function relevanceMassAccuracy(
  map: ArrayLike<number>,
  mask: Uint8Array,
  opts: { signed?: boolean; absolute?: boolean } = {},
): number {
  checkSizes(map, mask, 'relevanceMassAccuracy');
  let inside = 0;
  let total = 0;
  for (let k = 0; k < map.length; k++) {
    const v = opts.absolute ? Math.abs(map[k]) : opts.signed ? map[k] : Math.max(0, map[k]);
    total += v;
    if (mask[k]) inside += v;
  }
  return total !== 0 ? inside / total : 0;
}

/**
 * Indices sorted by value, descending, stable (ties keep row-major order), as numpy's
 * `argsort(-x, kind='stable')`.
 */
export function descendingOrder(map: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(map.length);
  for (let k = 0; k < idx.length; k++) idx[k] = k;
  const v = Float64Array.from(map, (x) => (Number.isNaN(x) ? -Infinity : x));
  return idx.sort((a, b) => v[b] - v[a] || a - b);
}

function maskArea(mask: Uint8Array): number {
  let n = 0;
  for (let k = 0; k < mask.length; k++) if (mask[k]) n++;
  return n;
}

/**
 * The k-th smallest value (0-based) of `a`, found in place in O(n) on average (quickselect with a median of three;
 * `a` is reordered).
 */
function selectKth(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as the pivot
    let x = a[lo];
    let y = a[mid];
    let z = a[hi];
    if (x > y) [x, y] = [y, x];
    if (y > z) [y, z] = [z, y];
    if (x > y) [x, y] = [y, x];
    const pivot = y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/**
 * Number of the `k` highest-valued pixels that lie inside the mask, ties at the threshold taken in row-major
 * order (the same set as the first k of `descendingOrder`, found by selecting the k-th largest value).
 */
function topKInside(map: ArrayLike<number>, mask: Uint8Array, k: number): number {
  if (k <= 0) return 0;
  const vals = new Float64Array(map.length);
  for (let q = 0; q < map.length; q++) vals[q] = Number.isNaN(map[q]) ? -Infinity : map[q];
  const t = selectKth(vals, vals.length - k); // k-th largest value
  let above = 0;
  let hit = 0;
  for (let q = 0; q < map.length; q++)
    if (map[q] > t) {
      above++;
      if (mask[q]) hit++;
    }
  let ties = k - above; // pixels equal to t still to take, in row-major order
  for (let q = 0; q < map.length && ties > 0; q++)
    if (map[q] === t || (Number.isNaN(map[q]) && t === -Infinity)) {
      ties--;
      if (mask[q]) hit++;
    }
  return hit;
}

/**
 * Relevance rank accuracy (Arras et al.): of the K highest-ranked pixels, K = mask area, the fraction inside the mask.
 *
 * @example
 * relevanceRankAccuracy(new Float32Array([3, 2, 1, 0]), new Uint8Array([1, 0, 1, 0])); // 0.5
 */
export function relevanceRankAccuracy(map: ArrayLike<number>, mask: Uint8Array): number {
  checkSizes(map, mask, 'relevanceRankAccuracy');
  const k = maskArea(mask);
  return k ? topKInside(map, mask, k) / k : 0;
}

/**
 * IoU between the top-k pixels (k = mask area unless given; stable descending sort) and the mask.
 *
 * @example
 * iouTopK(new Float32Array([3, 2, 1, 0]), new Uint8Array([1, 0, 1, 0])); // 1 / 3
 */
export function iouTopK(map: ArrayLike<number>, mask: Uint8Array, k?: number): number {
  checkSizes(map, mask, 'iouTopK');
  const area = maskArea(mask);
  const n = Math.min(map.length, k ?? area);
  if (n === 0 && area === 0) return 0;
  const inter = topKInside(map, mask, n);
  return inter / (n + area - inter);
}

/**
 * AUROC of the map as a classifier of mask pixels (Mann–Whitney U ÷ (P·N)); tied values get average ranks,
 * so a constant map scores exactly 0.5. NaN when the mask is empty or full.
 *
 * @example
 * auroc(new Float32Array([0.9, 0.1, 0.5, 0.5]), new Uint8Array([1, 0, 1, 0])); // 0.875
 */
export function auroc(map: ArrayLike<number>, mask: Uint8Array): number {
  checkSizes(map, mask, 'auroc');
  const { pos, neg } = splitSorted(map, mask);
  return aurocSorted(pos, neg);
}

/** The map's values inside and outside the mask, each sorted ascending. */
function splitSorted(map: ArrayLike<number>, mask: Uint8Array): { pos: Float64Array; neg: Float64Array } {
  const area = maskArea(mask);
  const pos = new Float64Array(area);
  const neg = new Float64Array(map.length - area);
  for (let k = 0, a = 0, b = 0; k < map.length; k++) {
    if (mask[k]) pos[a++] = map[k];
    else neg[b++] = map[k];
  }
  return { pos: pos.sort(), neg: neg.sort() };
}

/** AUROC of ascending-sorted positive and negative scores (NaN when either is empty). */
function aurocSorted(pos: Float64Array, neg: Float64Array): number {
  if (pos.length === 0 || neg.length === 0) return Number.NaN;
  // U = Σ over positives of (#negatives below + ½ #negatives equal): equal to the average-rank formula
  let u = 0;
  let lo = 0;
  let hi = 0;
  for (const p of pos) {
    while (lo < neg.length && neg[lo] < p) lo++;
    if (hi < lo) hi = lo;
    while (hi < neg.length && neg[hi] === p) hi++;
    u += lo + (hi - lo) / 2;
  }
  return u / (pos.length * neg.length);
}

/** The absolute values of an ascending-sorted array (no NaN), sorted ascending, in O(n) by a merge. */
function absSorted(s: Float64Array): Float64Array {
  let z = 0; // first value ≥ 0
  while (z < s.length && s[z] < 0) z++;
  const out = new Float64Array(s.length);
  let i = z - 1; // negatives, from the one nearest 0
  let j = z;
  for (let k = 0; k < out.length; k++) {
    if (j >= s.length || (i >= 0 && -s[i] <= s[j])) out[k] = -s[i--];
    else out[k] = Math.abs(s[j++]);
  }
  return out;
}

/**
 * Normalised scanpath saliency: the map standardised (mean 0, population std 1) averaged over mask pixels.
 * 0 for a constant map.
 *
 * @example
 * nss(new Float32Array([1, 0, 0, 0]), new Uint8Array([1, 0, 0, 0])); // √3
 */
export function nss(map: ArrayLike<number>, mask: Uint8Array): number {
  checkSizes(map, mask, 'nss');
  let mean = 0;
  for (let k = 0; k < map.length; k++) mean += map[k];
  mean /= map.length;
  let varSum = 0;
  for (let k = 0; k < map.length; k++) varSum += (map[k] - mean) ** 2;
  const std = Math.sqrt(varSum / map.length);
  let s = 0;
  let c = 0;
  for (let k = 0; k < map.length; k++)
    if (mask[k]) {
      s += map[k] - mean;
      c++;
    }
  if (c === 0) return Number.NaN;
  return std > 0 ? s / c / std : 0;
}

/** One ordered pair of the contrastive pointing game: does the peak (for a prompt naming X) fall in X's box, in Y's box? */
export interface ContrastiveHit {
  onX: number;
  onY: number;
}

/**
 * Contrastive pointing for one map made for a prompt naming X: where its first maximum falls relative to the
 * boxes (or masks) of X and of another object Y in the same image.
 *
 * @example
 * contrastivePointing(map, 224, 224, boxOfX, boxOfY); // { onX: 1, onY: 0 }
 */
export function contrastivePointing(
  map: ArrayLike<number>,
  h: number,
  w: number,
  x: Uint8Array | PixelBox,
  y: Uint8Array | PixelBox,
): ContrastiveHit {
  return { onX: pointingGame(map, h, w, x), onY: pointingGame(map, h, w, y) };
}

/**
 * Contrastive pointing game over ordered pairs (X ≠ Y in one image): Σ onX ÷ (Σ onX + Σ onY), plus the rates.
 * 0.5 for a prompt-independent map; NaN when no peak fell in either box.
 *
 * @example
 * summarizeContrastive([{ onX: 1, onY: 0 }, { onX: 0, onY: 1 }, { onX: 1, onY: 0 }]).cpg; // 2 / 3
 */
export function summarizeContrastive(hits: ContrastiveHit[]): {
  cpg: number;
  peakOnX: number;
  peakOnY: number;
  n: number;
} {
  const x = hits.reduce((s, q) => s + q.onX, 0);
  const y = hits.reduce((s, q) => s + q.onY, 0);
  const n = hits.length;
  return {
    cpg: x + y > 0 ? x / (x + y) : Number.NaN,
    peakOnX: n ? x / n : Number.NaN,
    peakOnY: n ? y / n : Number.NaN,
    n,
  };
}

export interface MapScores {
  /** Pointing game on the region's bounding box (Zhang et al.). */
  pointing: number;
  /** Pointing game on the bounding box with a tolerance (default 15 px, as Zhang et al.). */
  pointingTol: number;
  /** Pointing game on the exact outline (the mask). */
  pointingShape: number;
  energy: number;
  massAccuracy: number;
  rankAccuracy: number;
  auroc: number;
  aurocAbs: number;
  iouTopK: number;
  nss: number;
}

/**
 * All agreement metrics for one map and one region. Three pointing games: `pointing` on the region's bounding box
 * (Zhang et al.; `box` when given, e.g. an annotated box as the toy reference uses, else the tight box of the
 * mask), `pointingTol` on that box with `tolerance` (default 15 px, Zhang et al.'s), `pointingShape` on the exact
 * outline (the mask). The other metrics use the mask. NaN map pixels (outside the model's view of a painting)
 * never win the pointing game and are left out of the other metrics. An empty mask scores 0 at pointing.
 *
 * @example
 * const s = scoreMap(map, 224, 224, { mask }); // s.pointing (box), s.pointingShape (outline), s.energy, ...
 */
export function scoreMap(
  map: ArrayLike<number>,
  h: number,
  w: number,
  target: { mask: Uint8Array; box?: PixelBox; tolerance?: number },
): MapScores {
  const { mask, box } = target;
  checkSizes(map, mask, 'scoreMap');
  if (map.length !== h * w) throw new Error(`scoreMap: map has ${map.length} values, expected ${h}x${w}`);
  // pixels where the map is NaN (not covered by the model's view) are left out of the area metrics
  let vals: ArrayLike<number> = map;
  let m = mask;
  let valid = 0;
  for (let k = 0; k < map.length; k++) if (!Number.isNaN(map[k])) valid++;
  if (valid < map.length) {
    const v = new Float32Array(valid);
    m = new Uint8Array(valid);
    for (let k = 0, q = 0; k < map.length; k++)
      if (!Number.isNaN(map[k])) {
        v[q] = map[k];
        m[q++] = mask[k];
      }
    vals = v;
  }
  const area = maskArea(m);
  const inter = topKInside(vals, m, area); // shared by rank accuracy and IoU@k (k = mask area)
  const { pos, neg } = splitSorted(vals, m); // shared by both AUROCs
  const bbox = box ?? maskBoundingBox(mask, h, w);
  return {
    pointing: bbox ? pointingGame(map, h, w, bbox) : 0,
    pointingTol: bbox ? pointingGame(map, h, w, bbox, { tolerance: target.tolerance ?? 15 }) : 0,
    pointingShape: pointingGame(map, h, w, mask),
    energy: energyPointingGame(vals, m),
    massAccuracy: relevanceMassAccuracy(vals, m),
    rankAccuracy: area ? inter / area : 0,
    auroc: aurocSorted(pos, neg),
    // |x| in order from the sorted values: no second sort
    aurocAbs: aurocSorted(absSorted(pos), absSorted(neg)),
    iouTopK: area ? inter / (2 * area - inter) : 0,
    nss: nss(vals, m),
  };
}
