import { describe, expect, it } from 'vitest';
import { decodeRle, decodeRleString, readCocoAnnotations } from '../../src/regions/coco.ts';
import { maskStats, rasterizeRegion } from '../../src/regions/rasterize.ts';

describe('COCO RLE', () => {
  it('decodes uncompressed counts column-major, zeros first', () => {
    // 3x2 mask, column-major sequence 0,1,1,1,0,0 -> column 0 = [0,1,1], column 1 = [1,0,0]
    expect(Array.from(decodeRle([1, 3, 2], 3, 2))).toEqual([0, 1, 1, 0, 1, 0]);
    expect(() => decodeRle([1, 2], 3, 2)).toThrow(/sum to 3, not 3x2/);
  });
  it('decodes compressed strings (5-bit groups, offset 48, deltas from the third run)', () => {
    expect(decodeRleString('52203')).toEqual([5, 2, 2, 2, 5]);
    // 100 = 0b11_00100: low group 4 with continuation (4 | 32) + 48 = 'T', high group 3 -> '3'
    expect(decodeRleString('T3')).toEqual([100]);
    // a negative delta (from the fourth run on): 1 = counts[1] (5) - 4, -4 is group 0b11100 = 28 -> 'L'
    expect(decodeRleString('255L')).toEqual([2, 5, 5, 1]);
    expect(() => decodeRleString('T')).toThrow(/ends inside a number/);
  });
});

describe('readCocoAnnotations', () => {
  const doc = {
    images: [{ id: 1, file_name: 'a.jpg', width: 10, height: 8 }],
    categories: [
      { id: 1, name: 'boat', supercategory: 'content' },
      { id: 2, name: 'brushwork', supercategory: 'style' },
    ],
    annotations: [
      { id: 11, image_id: 1, category_id: 1, bbox: [1, 1, 4, 3] },
      { id: 12, image_id: 1, category_id: 2, segmentation: [[0, 0, 4, 0, 0, 4]], bbox: [0, 0, 4, 4] },
      {
        id: 13,
        image_id: 1,
        category_id: 1,
        segmentation: [
          [0, 0, 2, 0, 2, 2, 0, 2],
          [6, 6, 8, 6, 8, 8, 6, 8],
        ],
      },
      {
        id: 14,
        image_id: 1,
        category_id: 1,
        iscrowd: 1,
        segmentation: { size: [8, 10], counts: [9, 3, 68] },
      },
      { id: 15, image_id: 1, category_id: 1, segmentation: { size: [8, 10], counts: '93T2' } },
      { id: 16, image_id: 9, category_id: 1, bbox: [1, 1, 2, 2] },
      { id: 17, image_id: 1, category_id: 1, bbox: [20, 20, 2, 2] },
      { id: 18, image_id: 1, category_id: 1, segmentation: { size: [8, 10], counts: [1, 2] } },
      { id: 19, image_id: 1, category_id: 1, segmentation: [[0, 0, 1]] },
    ],
  };
  const { regions, warnings } = readCocoAnnotations(doc);
  it('reads boxes, polygons (union), RLE counts and strings with labels and dimensions', () => {
    expect(regions.map((r) => r.id)).toEqual(['11', '12', '13', '14', '15']);
    expect(regions[0]).toMatchObject({
      label: 'boat',
      dimension: 'content',
      source: 'a.jpg',
      imageSize: { width: 10, height: 8 },
    });
    expect(regions[1].dimension).toBe('style');
    const area = (k: number) => maskStats(rasterizeRegion(regions[k], 8, 10), 8, 10).area;
    expect(area(0)).toBe(12);
    expect(area(1)).toBe(6); // triangle of legs 4: centres with i + j + 1 < 4 -> 3 + 2 + 1
    expect(area(2)).toBe(8);
    // 9 zeros then 3 ones, column-major in an 8-row image: column 1, rows 1..3
    const m = rasterizeRegion(regions[3], 8, 10);
    expect([m[1 * 10 + 1], m[2 * 10 + 1], m[3 * 10 + 1], m[4 * 10 + 1]]).toEqual([1, 1, 1, 0]);
    expect(area(3)).toBe(3);
    expect(Array.from(rasterizeRegion(regions[4], 8, 10))).toEqual(Array.from(m)); // '93T2' = [9, 3, 68]: 68 = 4 + 2·32 -> (4 | 32) + 48 = 'T', 2 + 48 = '2'
  });
  it('warns with the annotation id for unusable annotations', () => {
    const byId = Object.fromEntries(warnings.map((w) => [w.id, w.message]));
    expect(byId['16']).toMatch(/annotation 16: image_id 9 has no image/);
    expect(byId['17']).toMatch(/annotation 17: .*outside the 10x8 image/);
    expect(byId['18']).toMatch(/annotation 18: RLE counts sum to 3/);
    expect(byId['19']).toMatch(/annotation 19: segmentation polygon 0/);
    expect(() => readCocoAnnotations({ images: [] })).toThrow(/"annotations" array/);
  });
});
