import { describe, expect, it } from 'vitest';
import { maskStats, rasterizeGeometry, rasterizeRegion } from '../../src/regions/rasterize.ts';
import type { Region } from '../../src/regions/region.ts';

const rows = (m: Uint8Array, w: number) =>
  Array.from({ length: m.length / w }, (_, i) => Array.from(m.subarray(i * w, (i + 1) * w)).join(''));

describe('rasterizeGeometry', () => {
  it('fills boxes half-open on pixel centres, clipped to the image', () => {
    expect(rows(rasterizeGeometry({ kind: 'box', x: 1, y: 1, w: 2, h: 2 }, 4, 4), 4)).toEqual([
      '0000',
      '0110',
      '0110',
      '0000',
    ]);
    // x = 0.6 .. 2.4 covers centres 1.5 only... and 0.6 <= 0.5? no; 1.5, 2.5 > 2.4 -> one column
    expect(maskStats(rasterizeGeometry({ kind: 'box', x: 0.6, y: 0, w: 1.8, h: 1 }, 1, 4), 1, 4).area).toBe(
      1,
    );
    expect(maskStats(rasterizeGeometry({ kind: 'box', x: -5, y: -5, w: 7, h: 7 }, 4, 4), 4, 4).area).toBe(4);
    expect(
      maskStats(rasterizeGeometry({ kind: 'box', x: 25, y: 25, w: 50, h: 50, unit: 'percent' }, 8, 4), 8, 4)
        .area,
    ).toBe(2 * 4);
  });
  it('fills a right triangle with the expected pixel centres', () => {
    // triangle (0,0) (4,0) (0,4): centre (j+.5, i+.5) inside when j + i + 1 < 4
    expect(
      rows(
        rasterizeGeometry(
          {
            kind: 'polygon',
            rings: [
              [
                [0, 0],
                [4, 0],
                [0, 4],
              ],
            ],
            fillRule: 'nonzero',
          },
          4,
          4,
        ),
        4,
      ),
    ).toEqual(['1110', '1100', '1000', '0000']);
  });
  it('distinguishes even-odd from nonzero for nested rings of the same orientation', () => {
    const rings: [number, number][][] = [
      [
        [0, 0],
        [6, 0],
        [6, 6],
        [0, 6],
      ],
      [
        [2, 2],
        [4, 2],
        [4, 4],
        [2, 4],
      ],
    ];
    expect(
      maskStats(rasterizeGeometry({ kind: 'polygon', rings, fillRule: 'nonzero' }, 6, 6), 6, 6).area,
    ).toBe(36);
    expect(
      maskStats(rasterizeGeometry({ kind: 'polygon', rings, fillRule: 'evenodd' }, 6, 6), 6, 6).area,
    ).toBe(32);
    // self-intersecting pentagram: the centre pentagon has winding 2 (filled under nonzero only)
    const star: [number, number][] = Array.from({ length: 5 }, (_, k) => {
      const t = -Math.PI / 2 + (k * 4 * Math.PI) / 5;
      return [50 + 40 * Math.cos(t), 50 + 40 * Math.sin(t)];
    });
    const nz = maskStats(
      rasterizeGeometry({ kind: 'polygon', rings: [star], fillRule: 'nonzero' }, 100, 100),
      100,
      100,
    );
    const eo = maskStats(
      rasterizeGeometry({ kind: 'polygon', rings: [star], fillRule: 'evenodd' }, 100, 100),
      100,
      100,
    );
    expect(nz.area).toBeGreaterThan(eo.area);
    expect(nz.cx).toBeCloseTo(50, 0);
  });
  it('fills circles and rotated ellipses with about their analytic area and centre', () => {
    const c = maskStats(rasterizeGeometry({ kind: 'circle', cx: 50, cy: 40, r: 20 }, 100, 100), 100, 100);
    expect(Math.abs(c.area - Math.PI * 400) / (Math.PI * 400)).toBeLessThan(0.01);
    expect(c.cx).toBeCloseTo(50, 1);
    expect(c.cy).toBeCloseTo(40, 1);
    const e = rasterizeGeometry(
      { kind: 'ellipse', cx: 50, cy: 50, rx: 30, ry: 5, rotation: Math.PI / 2 },
      100,
      100,
    );
    expect(e[20 * 100 + 50]).toBe(1); // 30 px above the centre: inside when rotated upright
    expect(e[50 * 100 + 20]).toBe(0);
    expect(Math.abs(maskStats(e, 100, 100).area - Math.PI * 150) / (Math.PI * 150)).toBeLessThan(0.03);
  });
  it('resamples masks by nearest neighbour and ORs multi-part geometry', () => {
    const g = { kind: 'mask' as const, width: 2, height: 2, data: new Uint8Array([1, 0, 0, 1]) };
    expect(rows(rasterizeGeometry(g, 4, 4), 4)).toEqual(['1100', '1100', '0011', '0011']);
    const multi = rasterizeGeometry(
      {
        kind: 'multi',
        parts: [
          { kind: 'box', x: 0, y: 0, w: 1, h: 1 },
          { kind: 'box', x: 3, y: 3, w: 1, h: 1 },
        ],
      },
      4,
      4,
    );
    expect(maskStats(multi, 4, 4).area).toBe(2);
  });
});

describe('rasterizeRegion', () => {
  it('scales from the annotated image size to the requested one', () => {
    const r: Region = {
      id: 'r',
      label: 'x',
      source: 'a.jpg',
      geometry: { kind: 'box', x: 10, y: 20, w: 40, h: 20 },
      imageSize: { width: 100, height: 100 },
    };
    const s = maskStats(rasterizeRegion(r, 50, 50), 50, 50);
    expect(s.area).toBe(20 * 10);
    expect([s.cx, s.cy]).toEqual([15, 15]);
  });
});
