/** svg-shapes on top of svgpath: the behaviour the hand-written parser had, kept. */
import { describe, expect, it } from 'vitest';
import { geometryArea } from '../../src/regions/region.ts';
import { flattenPath, parseSvgShapes, parseTransform } from '../../src/regions/svg-shapes.ts';

describe('flattenPath via svgpath', () => {
  it('reflects control points for S and T, and starts a curve from a plain point otherwise', () => {
    // S after C mirrors C's second control point; T after Q mirrors Q's control point
    expect(flattenPath('M0 0 C0 10 10 10 10 0 S20 -10 20 0')).toEqual(
      flattenPath('M0 0 C0 10 10 10 10 0 C10 -10 20 -10 20 0'),
    );
    expect(flattenPath('M0 0 Q5 10 10 0 T20 0')).toEqual(flattenPath('M0 0 Q5 10 10 0 Q15 -10 20 0'));
    expect(flattenPath('M0 0 L10 0 S20 10 20 0')).toEqual(flattenPath('M0 0 L10 0 C10 0 20 10 20 0'));
  });
  it('ends arcs exactly on their end point; a zero radius draws a line, an arc to its own start nothing', () => {
    const [ring] = flattenPath('M0 0 A7 3 30 0 1 10.1 0.3 L5 9 z');
    expect(ring[ring.findIndex((p) => p[0] === 10.1)]).toEqual([10.1, 0.3]);
    expect(flattenPath('M0 0 A0 5 0 0 1 10 0 L5 5 z')).toEqual([
      [
        [0, 0],
        [10, 0],
        [5, 5],
      ],
    ]);
    expect(flattenPath('M0 0 L10 0 A5 5 0 0 1 10 0 L5 5 z')).toEqual(flattenPath('M0 0 L10 0 L5 5 z'));
    // a quarter-circle arc flattened to within 0.05% of the circle's area
    const area = geometryArea({
      kind: 'path',
      rings: flattenPath('M0 0 L100 0 A100 100 0 0 1 0 100 z'),
      fillRule: 'nonzero',
    });
    expect(Math.abs(area / ((Math.PI * 100 * 100) / 4) - 1)).toBeLessThan(5e-4);
  });
  it('names the fault in malformed path data', () => {
    expect(() => flattenPath('M0 0 L1 1 Z 3 4')).toThrow(/numbers after Z/);
    expect(() => flattenPath('M0 0 C1 1 2 2')).toThrow(/path command C needs 6 numbers/);
    expect(() => flattenPath('M0 0 Q1 1 2 2 z 3')).toThrow(/numbers after Z/);
    expect(() => flattenPath('M0 0 A5 5 0 2 1 10 0')).toThrow(/path command A: arc flag/);
    expect(() => flattenPath('')).toThrow(/start with M/);
    expect(() => flattenPath('M0 0 L1 1')).toThrow(/encloses no area/);
  });
});

describe('parseTransform via svgpath', () => {
  it('composes transform lists left to right, rotating about a given centre', () => {
    const m = parseTransform('translate(10, 20) rotate(90 1 1) scale(2 3)');
    const apply = (x: number, y: number) => [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
    const [x, y] = apply(1, 1); // scale -> (2, 3); rotate 90° about (1, 1) -> (-1, 2); translate -> (9, 22)
    expect(x).toBeCloseTo(9, 12);
    expect(y).toBeCloseTo(22, 12);
    expect(parseTransform('skewX(45)')[2]).toBeCloseTo(1, 12);
  });
  it('keeps the lenient defaults for short or long argument lists, and rejects the rest', () => {
    expect(parseTransform('translate()')).toEqual([1, 0, 0, 1, 0, 0]);
    expect(parseTransform('translate(1 2 3) scale(3)')).toEqual([3, 0, 0, 3, 1, 2]);
    const r = parseTransform('rotate(90 5)'); // no centre: about the origin
    expect(r[4]).toBe(0);
    expect(r[1]).toBeCloseTo(1, 12);
    expect(() => parseTransform('matrix(1 0 0 1)')).toThrow(/wrong number of arguments/);
    expect(() => parseTransform('scale(2px)')).toThrow(/non-numeric/);
  });
  it('applies to shapes: a skewed rect becomes a polygon', () => {
    const g = parseSvgShapes("<svg><rect width='10' height='10' transform='skewX(45)'/></svg>").geometry;
    expect(g.kind).toBe('polygon');
    if (g.kind === 'polygon') expect(g.rings[0][2][0]).toBeCloseTo(20, 12);
  });
});
