/**
 * The 72 expert regions of the paintings test collection load, and rasterised masks agree with the selectors:
 * box masks exactly, polygon masks with the shoelace area and the polygon centroid (computed here, independently).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { maskStats, rasterizeRegion } from '../../src/regions/rasterize.ts';
import type { ImageSize, Region } from '../../src/regions/region.ts';
import { readW3CAnnotations } from '../../src/regions/w3c.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

/** Shoelace area and centroid of a simple polygon, from the raw `points` string. */
function polygonFacts(points: string): { area: number; cx: number; cy: number; perimeter: number } {
  const p = points
    .trim()
    .split(/\s+/)
    .map((s) => s.split(',').map(Number));
  let a = 0;
  let cx = 0;
  let cy = 0;
  let perimeter = 0;
  for (let i = 0; i < p.length; i++) {
    const [x0, y0] = p[i];
    const [x1, y1] = p[(i + 1) % p.length];
    const cross = x0 * y1 - x1 * y0;
    a += cross;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
    perimeter += Math.hypot(x1 - x0, y1 - y0);
  }
  return { area: Math.abs(a / 2), cx: cx / (3 * a), cy: cy / (3 * a), perimeter };
}

describeShared('paintings expert regions', ['paintings/annotations.jsonld', 'paintings/catalog.json'], () => {
  let regions: Region[];
  let warnings: { id: string; message: string }[];
  let sizes: Record<string, ImageSize>;
  let items: { id: string; target: { source: string; selector: { type: string; value: string } } }[];

  beforeAll(() => {
    const doc = JSON.parse(readFileSync(sharedPath('paintings/annotations.jsonld'), 'utf8'));
    items = doc.first.items;
    const catalog: { file: string; width: number; height: number }[] = JSON.parse(
      readFileSync(sharedPath('paintings/catalog.json'), 'utf8'),
    );
    sizes = Object.fromEntries(catalog.map((c) => [c.file, { width: c.width, height: c.height }]));
    ({ regions, warnings } = readW3CAnnotations(doc, { imageSizes: sizes }));
  });

  it('loads all 72 regions with labels, dimensions and image sizes', () => {
    expect(warnings).toEqual([]);
    expect(regions).toHaveLength(72);
    expect(
      regions.every((r) => r.label.length > 0 && r.dimension !== undefined && r.imageSize !== undefined),
    ).toBe(true);
    const dims = new Set(regions.map((r) => r.dimension));
    console.log(
      `paintings: dimensions ${[...dims].join(', ')}; kinds ${[...new Set(regions.map((r) => r.geometry.kind))].join(', ')}`,
    );
    expect(new Set(regions.map((r) => r.source)).size).toBeGreaterThan(10);
  });

  it('box masks have exactly w*h pixels centred on the box', () => {
    const boxes = items.filter((a) => a.target.selector.type === 'FragmentSelector').slice(0, 12);
    expect(boxes.length).toBe(12);
    for (const a of boxes) {
      const [x, y, w, h] = a.target.selector.value.split(':')[1].split(',').map(Number);
      const size = sizes[a.target.source];
      const r = regions.find((q) => q.id === a.id) as Region;
      const s = maskStats(rasterizeRegion(r, size.height, size.width), size.height, size.width);
      // clipped to the image, as the rasteriser does
      const cw = Math.min(x + w, size.width) - Math.max(x, 0);
      const ch = Math.min(y + h, size.height) - Math.max(y, 0);
      expect(s.area, a.id).toBe(cw * ch);
      expect(s.cx).toBeCloseTo(Math.max(x, 0) + cw / 2, 9);
      expect(s.cy).toBeCloseTo(Math.max(y, 0) + ch / 2, 9);
    }
  });

  it('polygon masks match the shoelace area and polygon centroid', () => {
    const polys = items.filter((a) => a.target.selector.type === 'SvgSelector');
    expect(polys.length).toBe(18);
    let worstArea = 0;
    let worstCentroid = 0;
    for (const a of polys) {
      const points = /points="([^"]+)"/.exec(a.target.selector.value)?.[1] as string;
      const want = polygonFacts(points);
      const size = sizes[a.target.source];
      const r = regions.find((q) => q.id === a.id) as Region;
      const s = maskStats(rasterizeRegion(r, size.height, size.width), size.height, size.width);
      // pixel-centre sampling errs by at most about half a pixel along the outline
      expect(Math.abs(s.area - want.area), a.id).toBeLessThan(0.5 * want.perimeter);
      worstArea = Math.max(worstArea, Math.abs(s.area - want.area) / want.area);
      worstCentroid = Math.max(worstCentroid, Math.hypot(s.cx - want.cx, s.cy - want.cy));
      expect(Math.hypot(s.cx - want.cx, s.cy - want.cy), a.id).toBeLessThan(0.5);
    }
    console.log(
      `paintings polygons: worst relative area error ${worstArea.toExponential(2)}, worst centroid offset ${worstCentroid.toFixed(3)} px`,
    );
    expect(worstArea).toBeLessThan(0.01);
  });

  it('scales masks to a resized copy of the painting', () => {
    const r = regions.find((q) => q.geometry.kind === 'box') as Region;
    const size = r.imageSize as ImageSize;
    const full = maskStats(rasterizeRegion(r, size.height, size.width), size.height, size.width);
    const half = maskStats(
      rasterizeRegion(r, Math.round(size.height / 2), Math.round(size.width / 2)),
      Math.round(size.height / 2),
      Math.round(size.width / 2),
    );
    expect(half.area / full.area).toBeGreaterThan(0.2);
    expect(half.area / full.area).toBeLessThan(0.3);
    expect(half.cx * 2).toBeCloseTo(full.cx, -0.5);
  });
});
