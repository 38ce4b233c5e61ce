import { describe, expect, it } from 'vitest';
import { readLabelMe } from '../../src/regions/labelme.ts';
import { detectRegionFormat } from '../../src/regions/load.ts';
import { maskStats, rasterizeRegion } from '../../src/regions/rasterize.ts';
import { readVia } from '../../src/regions/via.ts';

describe('readLabelMe', () => {
  const doc = {
    version: '5.4.1',
    imagePath: 'wave.jpg',
    imageWidth: 40,
    imageHeight: 30,
    shapes: [
      {
        label: 'boat',
        shape_type: 'rectangle',
        points: [
          [12, 10],
          [2, 4],
        ],
      },
      {
        label: 'sun',
        shape_type: 'circle',
        points: [
          [20, 15],
          [20, 20],
        ],
      },
      {
        label: 'wave',
        shape_type: 'polygon',
        points: [
          [0, 0],
          [10, 0],
          [10, 10],
          [0, 10],
        ],
        flags: { style: true },
      },
      {
        label: 'edge',
        shape_type: 'line',
        points: [
          [0, 0],
          [5, 5],
        ],
      },
      {
        label: 'far',
        shape_type: 'rectangle',
        points: [
          [50, 50],
          [60, 60],
        ],
      },
    ],
  };
  it('reads rectangles (any corner order), circles and polygons', () => {
    const { regions, warnings } = readLabelMe(doc);
    expect(regions.map((r) => r.label)).toEqual(['boat', 'sun', 'wave']);
    expect(regions[0].geometry).toEqual({ kind: 'box', x: 2, y: 4, w: 10, h: 6 });
    expect(regions[1].geometry).toEqual({ kind: 'circle', cx: 20, cy: 15, r: 5 });
    expect(regions[2].dimension).toBe('style');
    expect(maskStats(rasterizeRegion(regions[2], 30, 40), 30, 40).area).toBe(100);
    expect(warnings.map((w) => w.id)).toEqual(['wave.jpg#3', 'wave.jpg#4']);
    expect(warnings[0].message).toMatch(/annotation wave.jpg#3: shape_type "line" has no area/);
    expect(warnings[1].message).toMatch(/outside the 40x30 image/);
  });
  it('rejects documents that are not LabelMe', () => {
    expect(() => readLabelMe({ shapes: [] })).toThrow(/imagePath/);
    expect(detectRegionFormat(doc)).toBe('labelme');
  });
});

describe('readVia', () => {
  const doc = {
    'a.jpg1234': {
      filename: 'a.jpg',
      size: 1234,
      regions: [
        {
          shape_attributes: { name: 'rect', x: 1, y: 2, width: 3, height: 4 },
          region_attributes: { label: 'boat', dimension: 'content' },
        },
        {
          shape_attributes: { name: 'polygon', all_points_x: [0, 4, 0], all_points_y: [0, 0, 4] },
          region_attributes: { object: 'sail' },
        },
        { shape_attributes: { name: 'circle', cx: 10, cy: 10, r: 3 }, region_attributes: {} },
        {
          shape_attributes: { name: 'ellipse', cx: 10, cy: 10, rx: 6, ry: 2, theta: Math.PI / 2 },
          region_attributes: { name: 'mast' },
        },
        { shape_attributes: { name: 'point', cx: 1, cy: 1 }, region_attributes: {} },
        {
          shape_attributes: { name: 'polygon', all_points_x: [0, 4], all_points_y: [0, 0, 4] },
          region_attributes: {},
        },
      ],
      file_attributes: {},
    },
  };
  it('reads VIA 2 exports: rect, polygon, circle, ellipse with labels', () => {
    const { regions, warnings } = readVia(doc);
    expect(regions.map((r) => [r.id, r.label, r.geometry.kind])).toEqual([
      ['a.jpg#0', 'boat', 'box'],
      ['a.jpg#1', 'sail', 'polygon'],
      ['a.jpg#2', '', 'circle'],
      ['a.jpg#3', 'mast', 'ellipse'],
    ]);
    expect(regions[0].dimension).toBe('content');
    const m = rasterizeRegion(regions[3], 20, 20);
    expect(m[5 * 20 + 10]).toBe(1); // rotated upright: 5 px above the centre is inside
    expect(m[10 * 20 + 5]).toBe(0);
    expect(warnings.map((w) => w.id)).toEqual(['a.jpg#4', 'a.jpg#5']);
    expect(warnings[0].message).toMatch(/shape "point" is not supported/);
    expect(detectRegionFormat(doc)).toBe('via');
  });
  it('reads VIA projects and VIA 1 region objects, with a chosen label key and sizes', () => {
    const project = {
      _via_settings: {},
      _via_img_metadata: {
        k: {
          filename: 'b.jpg',
          regions: {
            0: {
              shape_attributes: { name: 'rect', x: 8, y: 8, width: 10, height: 10 },
              region_attributes: { kind: 'x', what: 'tree' },
            },
          },
        },
      },
    };
    const { regions, warnings } = readVia(project, {
      labelKey: 'what',
      imageSizes: { 'b.jpg': { width: 12, height: 12 } },
    });
    expect(regions[0].label).toBe('tree');
    expect(warnings[0].message).toMatch(/annotation b.jpg#0: .*extends beyond the 12x12 image/);
    expect(detectRegionFormat(project)).toBe('via');
  });
});
