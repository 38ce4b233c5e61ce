import { describe, expect, it } from 'vitest';
import { maskStats, rasterizeGeometry } from '../../src/regions/rasterize.ts';
import { geometryArea, type PolygonGeometry } from '../../src/regions/region.ts';
import { flattenPath, parseSvgShapes, parseTransform, writeSvgShapes } from '../../src/regions/svg-shapes.ts';

const svg = (inner: string) =>
  `<svg xmlns='http://www.w3.org/2000/svg' width='100' height='80'>${inner}</svg>`;

describe('flattenPath', () => {
  it('reads M/L/H/V/Z, absolute and relative, with implicit line-tos', () => {
    expect(flattenPath('M10 10 H 30 V 40 L 10 40 Z')).toEqual([
      [
        [10, 10],
        [30, 10],
        [30, 40],
        [10, 40],
      ],
    ]);
    expect(flattenPath('m10,10 h20 v30 h-20 z')).toEqual([
      [
        [10, 10],
        [30, 10],
        [30, 40],
        [10, 40],
      ],
    ]);
    expect(flattenPath('M0 0 10 0 10 10')).toEqual([
      [
        [0, 0],
        [10, 0],
        [10, 10],
      ],
    ]);
    expect(flattenPath('M0-1.5.5.5 1e0,1z')).toEqual([
      [
        [0, -1.5],
        [0.5, 0.5],
        [1, 1],
      ],
    ]); // compact number syntax
  });
  it('keeps subpaths as rings; relative moves after Z start at the subpath start', () => {
    const rings = flattenPath('M0 0 h10 v10 h-10 z m2 2 h6 v6 h-6 z');
    expect(rings).toHaveLength(2);
    expect(rings[1][0]).toEqual([2, 2]);
  });
  it('flattens cubic and quadratic curves through their end points', () => {
    const [c] = flattenPath('M0 0 C 0 10 10 10 10 0 Z');
    expect(c[0]).toEqual([0, 0]);
    expect(c[c.length - 1][0]).toBeCloseTo(10, 12);
    // the cubic's apex is at t = 0.5: (5, 7.5)
    expect(Math.max(...c.map((p) => p[1]))).toBeCloseTo(7.5, 1);
    const [q] = flattenPath('M0 0 q5 10 10 0 z');
    expect(Math.max(...q.map((p) => p[1]))).toBeCloseTo(5, 1); // quadratic apex (5, 5)
    // quadratic area: 2/3 * base * height = 2/3 * 10 * 5
    expect(Math.abs(geometryArea({ kind: 'path', rings: [q], fillRule: 'nonzero' }))).toBeCloseTo(100 / 3, 0);
  });
  it('flattens arcs: two half circles make a circle of area πr²', () => {
    const rings = flattenPath('M 20 50 A 30 30 0 0 1 80 50 A 30 30 0 0 1 20 50 Z');
    const area = geometryArea({ kind: 'path', rings, fillRule: 'nonzero' });
    expect(area / (Math.PI * 900)).toBeGreaterThan(0.995);
    expect(area / (Math.PI * 900)).toBeLessThan(1.0001);
  });
  it('reports malformed data', () => {
    expect(() => flattenPath('L 1 2')).toThrow(/start with/);
    expect(() => flattenPath('M 1 2 L 3')).toThrow(/needs 2 numbers/);
    expect(() => flattenPath('M 1 2 X 3 4')).toThrow(/unexpected characters/);
  });
});

describe('parseSvgShapes', () => {
  it('reads polygon, rect, circle, ellipse and the svg size', () => {
    const p = parseSvgShapes(svg("<polygon points='1,1 9,1 9,9'/>"));
    expect(p.size).toEqual({ width: 100, height: 80 });
    expect(p.geometry).toEqual({
      kind: 'polygon',
      rings: [
        [
          [1, 1],
          [9, 1],
          [9, 9],
        ],
      ],
      fillRule: 'nonzero',
    });
    expect(parseSvgShapes(svg('<rect x="2" y="3" width="4" height="5"/>')).geometry).toEqual({
      kind: 'box',
      x: 2,
      y: 3,
      w: 4,
      h: 5,
    });
    expect(parseSvgShapes(svg('<circle cx="5" cy="6" r="2"/>')).geometry).toEqual({
      kind: 'circle',
      cx: 5,
      cy: 6,
      r: 2,
    });
    expect(parseSvgShapes(svg('<ellipse cx="5" cy="6" rx="3" ry="2"></ellipse>')).geometry).toEqual({
      kind: 'ellipse',
      cx: 5,
      cy: 6,
      rx: 3,
      ry: 2,
    });
  });
  it('unites several shapes and keeps the fill rule', () => {
    const g = parseSvgShapes(
      svg("<path fill-rule='evenodd' d='M0 0h10v10h-10z M2 2h6v6h-6z'/><circle cx='50' cy='50' r='3'/>"),
    ).geometry;
    expect(g.kind).toBe('multi');
    if (g.kind !== 'multi') return;
    expect((g.parts[0] as PolygonGeometry).fillRule).toBe('evenodd');
    const mask = rasterizeGeometry(g.parts[0], 20, 20);
    expect(maskStats(mask, 20, 20).area).toBe(100 - 36); // the inner square is a hole under even-odd
  });
  it('applies transforms (rotation keeps ellipses, others map the points)', () => {
    const r = parseSvgShapes(
      svg("<rect x='0' y='0' width='10' height='4' transform='translate(5 6)'/>"),
    ).geometry;
    expect(r).toEqual({ kind: 'box', x: 5, y: 6, w: 10, h: 4 });
    const e = parseSvgShapes(
      svg("<ellipse cx='10' cy='10' rx='6' ry='2' transform='rotate(90 10 10)'/>"),
    ).geometry;
    expect(e.kind).toBe('ellipse');
    if (e.kind === 'ellipse') expect(e.rotation).toBeCloseTo(Math.PI / 2, 12);
    const m = parseTransform('matrix(1 0 0 1 3 4) scale(2)');
    expect(m).toEqual([2, 0, 0, 2, 3, 4]);
    expect(() => parseTransform('wobble(3)')).toThrow(/not understood/);
  });
  it('rejects malformed SVG with a reason', () => {
    expect(() => parseSvgShapes('<div/>')).toThrow(/does not start with <svg/);
    expect(() => parseSvgShapes("<svg><polygon points='1,1 2,2 3,1'/>")).toThrow(/not closed/);
    expect(() => parseSvgShapes(svg("<polygon points='1,1 2,2'/>"))).toThrow(/at least 6 numbers/);
    expect(() => parseSvgShapes(svg('<text>hi</text>'))).toThrow(/no polygon/);
    expect(() => parseSvgShapes(svg('<circle cx="1" cy="1"/>'))).toThrow(/lacks the r attribute/);
  });
  it('writes geometry back that reads the same', () => {
    for (const inner of [
      "<polygon points='1,1 9,1 9,9'/>",
      "<circle cx='5' cy='6' r='2'/>",
      "<rect x='2' y='3' width='4' height='5'/>",
    ]) {
      const g = parseSvgShapes(svg(inner)).geometry;
      expect(parseSvgShapes(writeSvgShapes(g, { width: 100, height: 80 })).geometry).toEqual(g);
    }
    const mask = {
      kind: 'mask' as const,
      width: 4,
      height: 3,
      data: new Uint8Array([0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 0]),
    };
    const back = parseSvgShapes(writeSvgShapes(mask)).geometry;
    expect(Array.from(rasterizeGeometry(back, 3, 4))).toEqual(Array.from(mask.data));
  });
});
