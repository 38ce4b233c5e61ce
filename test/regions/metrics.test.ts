import { describe, expect, it } from 'vitest';
import {
  auroc,
  contrastivePointing,
  descendingOrder,
  energyPointingGame,
  iouTopK,
  maskBoundingBox,
  nss,
  peakIndex,
  pointingGame,
  relevanceMassAccuracy,
  relevanceRankAccuracy,
  scoreMap,
  summarizeContrastive,
} from '../../src/regions/metrics.ts';

const f32 = (a: number[]) => new Float32Array(a);
const u8 = (a: number[]) => new Uint8Array(a);

describe('pointing game', () => {
  // 4x4 map, maximum 5 at (1,2) and again at (3,3): the first (row-major) wins
  const map = f32([0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
  it('uses the first maximum in row-major order', () => {
    expect(peakIndex(map)).toBe(6);
    expect(pointingGame(map, 4, 4, { x: 2, y: 1, w: 1, h: 1 })).toBe(1);
    expect(pointingGame(map, 4, 4, { x: 3, y: 3, w: 1, h: 1 })).toBe(0);
  });
  it('treats boxes as half-open [x, x+w) on pixel centres', () => {
    expect(pointingGame(map, 4, 4, { x: 0, y: 0, w: 2, h: 4 })).toBe(0); // columns 0,1
    expect(pointingGame(map, 4, 4, { x: 0, y: 0, w: 3, h: 2 })).toBe(1); // columns 0..2, rows 0..1
  });
  it('works with masks', () => {
    const mask = new Uint8Array(16);
    mask[6] = 1;
    expect(pointingGame(map, 4, 4, mask)).toBe(1);
    mask[6] = 0;
    mask[15] = 1;
    expect(pointingGame(map, 4, 4, mask)).toBe(0);
  });
  it('honours a pixel tolerance (Euclidean) for masks and boxes', () => {
    const h = 5;
    const w = 10;
    const m = new Float32Array(h * w);
    m[2 * w + 2] = 1; // peak at (2, 2)
    const mask = new Uint8Array(h * w);
    mask[2 * w + 6] = 1; // 4 px to the right
    expect(pointingGame(m, h, w, mask, { tolerance: 3 })).toBe(0);
    expect(pointingGame(m, h, w, mask, { tolerance: 4 })).toBe(1);
    expect(pointingGame(m, h, w, { x: 6, y: 2, w: 1, h: 1 }, { tolerance: 3.9 })).toBe(0);
    expect(pointingGame(m, h, w, { x: 6, y: 2, w: 1, h: 1 }, { tolerance: 4 })).toBe(1);
    // diagonal: peak (2,2) to box pixel (4,5) is sqrt(4 + 9) = 3.606
    expect(pointingGame(m, h, w, { x: 5, y: 4, w: 2, h: 1 }, { tolerance: 3.6 })).toBe(0);
    expect(pointingGame(m, h, w, { x: 5, y: 4, w: 2, h: 1 }, { tolerance: 3.61 })).toBe(1);
  });
  it('rejects size mismatches and all-NaN maps', () => {
    expect(() => pointingGame(f32([1, 2, 3]), 2, 2, u8([1, 0, 0, 0]))).toThrow(/expected 2x2/);
    expect(() => peakIndex(f32([Number.NaN, Number.NaN]))).toThrow(/no finite maximum/);
  });
});

describe('mass metrics', () => {
  it('energy pointing game counts positive mass only', () => {
    expect(energyPointingGame(f32([2, -1, 1, 1]), u8([1, 1, 0, 0]))).toBeCloseTo(0.5, 12);
    expect(energyPointingGame(f32([-1, -2]), u8([1, 0]))).toBe(0);
  });
  it('relevance mass accuracy: positive (default), signed, absolute', () => {
    const m = f32([3, -1, 1]);
    const mask = u8([1, 1, 0]);
    expect(relevanceMassAccuracy(m, mask)).toBeCloseTo(3 / 4, 12);
    expect(relevanceMassAccuracy(m, mask, { signed: true })).toBeCloseTo(2 / 3, 12);
    expect(relevanceMassAccuracy(m, mask, { absolute: true })).toBeCloseTo(4 / 5, 12);
  });
  it('relevance rank accuracy takes the top K = mask area', () => {
    expect(relevanceRankAccuracy(f32([3, 2, 1, 0]), u8([1, 0, 1, 0]))).toBe(0.5);
    expect(relevanceRankAccuracy(f32([3, 0, 1, 2]), u8([1, 0, 0, 1]))).toBe(1);
  });
});

describe('rank metrics', () => {
  it('IoU of the top-k pixels (hand computed)', () => {
    expect(iouTopK(f32([3, 2, 1, 0]), u8([1, 0, 1, 0]))).toBeCloseTo(1 / 3, 12);
    expect(iouTopK(f32([3, 2, 1, 0]), u8([1, 1, 0, 0]))).toBe(1);
    expect(iouTopK(f32([3, 2, 1, 0]), u8([1, 0, 1, 0]), 3)).toBeCloseTo(2 / 3, 12); // top3 {0,1,2}, inter 2, union 3
  });
  it('breaks ties stably in row-major order', () => {
    expect(Array.from(descendingOrder(f32([1, 2, 2, 1])))).toEqual([1, 2, 0, 3]);
    expect(iouTopK(f32([1, 1, 1, 1]), u8([1, 1, 0, 0]))).toBe(1);
    expect(iouTopK(f32([1, 1, 1, 1]), u8([0, 0, 1, 1]))).toBe(0);
    expect(iouTopK(f32([0, 2, 1, 1, 1]), u8([1, 1, 0, 0, 1]))).toBeCloseTo(1 / 5, 12); // top3 {1,2,3}: inter 1, union 5
  });
  it('AUROC with ties as average ranks', () => {
    expect(auroc(f32([0.9, 0.1, 0.5, 0.5]), u8([1, 0, 1, 0]))).toBeCloseTo(0.875, 12);
    expect(auroc(f32([1, 1, 1, 1]), u8([1, 0, 0, 1]))).toBe(0.5);
    expect(auroc(f32([0, 1, 2, 3]), u8([0, 0, 1, 1]))).toBe(1);
    expect(auroc(f32([3, 2, 1, 0]), u8([0, 0, 1, 1]))).toBe(0);
    // positives {2, 1, 1}, negatives {1, 0}: pairs 2>1, 2>0, 1=1 (½), 1>0, 1=1 (½), 1>0 -> 5/6
    expect(auroc(f32([2, 1, 1, 1, 0]), u8([1, 1, 1, 0, 0]))).toBeCloseTo(5 / 6, 12);
    expect(auroc(f32([1, 2]), u8([1, 1]))).toBeNaN();
  });
  it('NSS standardises with the population std', () => {
    expect(nss(f32([1, 0, 0, 0]), u8([1, 0, 0, 0]))).toBeCloseTo(Math.sqrt(3), 6);
    expect(nss(f32([1, 0, 0, 0]), u8([0, 1, 1, 0]))).toBeCloseTo(-1 / Math.sqrt(3), 6);
    expect(nss(f32([2, 2]), u8([1, 0]))).toBe(0);
  });
});

describe('contrastive pointing game', () => {
  it('aggregates ordered pairs', () => {
    const s = summarizeContrastive([
      { onX: 1, onY: 0 },
      { onX: 0, onY: 1 },
      { onX: 1, onY: 0 },
    ]);
    expect(s.cpg).toBeCloseTo(2 / 3, 12);
    expect(s.peakOnX).toBeCloseTo(2 / 3, 12);
    expect(s.peakOnY).toBeCloseTo(1 / 3, 12);
    expect(s.n).toBe(3);
  });
  it('gives exactly 0.5 for a prompt-independent map', () => {
    const map = f32([0, 0, 0, 0, 9, 0, 0, 0, 0]); // peak at (1,1), in both boxes' union of pairs once each way
    const a = { x: 0, y: 0, w: 2, h: 2 };
    const b = { x: 2, y: 2, w: 1, h: 1 };
    const hits = [contrastivePointing(map, 3, 3, a, b), contrastivePointing(map, 3, 3, b, a)];
    expect(hits[0]).toEqual({ onX: 1, onY: 0 });
    expect(summarizeContrastive(hits).cpg).toBe(0.5);
  });
});

describe('scoreMap', () => {
  it('combines the metrics and leaves NaN pixels out', () => {
    const map = f32([Number.NaN, 3, 2, 1, 0, Number.NaN]);
    const mask = u8([1, 1, 0, 1, 0, 0]);
    const s = scoreMap(map, 2, 3, { mask });
    // valid pixels: values [3, 2, 1, 0], mask [1, 0, 1, 0]
    expect(s.pointing).toBe(1);
    expect(s.energy).toBeCloseTo(4 / 6, 12);
    expect(s.iouTopK).toBeCloseTo(1 / 3, 12);
    expect(s.auroc).toBeCloseTo(0.75, 12);
    expect(s.rankAccuracy).toBe(0.5);
  });
});

describe('pointing on the bounding box, with the tolerance, and on the exact outline', () => {
  // an L-shaped region in a 40 × 40 image: rows 0..29 of columns 0..9, and rows 20..29 of columns 0..29
  const H = 40;
  const W = 40;
  const mask = new Uint8Array(H * W);
  for (let i = 0; i < 30; i++) for (let j = 0; j < 10; j++) mask[i * W + j] = 1;
  for (let i = 20; i < 30; i++) for (let j = 0; j < 30; j++) mask[i * W + j] = 1;
  const peakAt = (i: number, j: number) => {
    const m = new Float32Array(H * W);
    m[i * W + j] = 1;
    return m;
  };
  it('finds the tight box of a mask', () => {
    expect(maskBoundingBox(mask, H, W)).toEqual({ x: 0, y: 0, w: 30, h: 30 });
    expect(maskBoundingBox(new Uint8Array(4), 2, 2)).toBeUndefined();
    expect(maskBoundingBox(u8([0, 0, 0, 1, 1, 0]), 2, 3)).toEqual({ x: 0, y: 1, w: 2, h: 1 });
  });
  it('a peak in the notch of the L: inside the box, outside the shape', () => {
    const s = scoreMap(peakAt(5, 20), H, W, { mask });
    expect([s.pointing, s.pointingTol, s.pointingShape]).toEqual([1, 1, 0]);
  });
  it('a peak 10 px right of the box: only the tolerance (15 px) counts it', () => {
    const s = scoreMap(peakAt(25, 39), H, W, { mask });
    expect([s.pointing, s.pointingTol, s.pointingShape]).toEqual([0, 1, 0]);
    expect(scoreMap(peakAt(25, 39), H, W, { mask, tolerance: 5 }).pointingTol).toBe(0);
  });
  it('a peak on the shape counts everywhere; a given box overrides the mask box', () => {
    const s = scoreMap(peakAt(25, 25), H, W, { mask });
    expect([s.pointing, s.pointingTol, s.pointingShape]).toEqual([1, 1, 1]);
    const boxed = scoreMap(peakAt(25, 25), H, W, { mask, box: { x: 0, y: 0, w: 10, h: 10 } });
    expect([boxed.pointing, boxed.pointingShape]).toEqual([0, 1]);
  });
  it('an empty region points nowhere', () => {
    const s = scoreMap(peakAt(0, 0), H, W, { mask: new Uint8Array(H * W) });
    expect([s.pointing, s.pointingTol, s.pointingShape]).toEqual([0, 0, 0]);
  });
});
