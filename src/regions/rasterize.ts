/**
 * Turns region geometry into a binary mask at an image's pixel resolution. A pixel (row i, column j)
 * is inside when its centre (j + 0.5, i + 0.5) is inside the shape: boxes are half-open
 * [x, x + w) × [y, y + h), polygons use a scanline with the even-odd or nonzero fill rule.
 *
 * @example
 * const mask = rasterizeRegion(region, 546, 768); // Uint8Array [546, 768], 1 = inside
 */
import type { Geometry, Point, Region } from './region.ts';

/** Scales geometry by (sx, sy), e.g. from the annotated image size to a resized one. */
export function scaleGeometry(g: Geometry, sx: number, sy: number): Geometry {
  if (sx === 1 && sy === 1) return g;
  switch (g.kind) {
    case 'box':
      return g.unit === 'percent' ? g : { ...g, x: g.x * sx, y: g.y * sy, w: g.w * sx, h: g.h * sy };
    case 'polygon':
    case 'path':
      return {
        kind: g.kind,
        fillRule: g.fillRule,
        rings: g.rings.map((r) => r.map(([x, y]) => [x * sx, y * sy] as Point)),
      };
    case 'circle':
      return { kind: 'ellipse', cx: g.cx * sx, cy: g.cy * sy, rx: g.r * sx, ry: g.r * sy };
    case 'ellipse': {
      if (!g.rotation || sx === sy)
        return { ...g, cx: g.cx * sx, cy: g.cy * sy, rx: g.rx * sx, ry: g.ry * sy };
      const ring: Point[] = [];
      for (let k = 0; k < 180; k++) {
        const t = (2 * Math.PI * k) / 180;
        const x = g.rx * Math.cos(t);
        const y = g.ry * Math.sin(t);
        const c = Math.cos(g.rotation);
        const s = Math.sin(g.rotation);
        ring.push([(g.cx + x * c - y * s) * sx, (g.cy + x * s + y * c) * sy]);
      }
      return { kind: 'polygon', fillRule: 'nonzero', rings: [ring] };
    }
    case 'mask':
      return g; // resampled in rasterizeGeometry
    case 'multi':
      return { kind: 'multi', parts: g.parts.map((p) => scaleGeometry(p, sx, sy)) };
  }
}

/** Fills rings into `out` ([h, w]) with the given rule, sampling pixel centres. */
function fillRings(
  rings: Point[][],
  rule: 'nonzero' | 'evenodd',
  out: Uint8Array,
  h: number,
  w: number,
): void {
  const edges: [number, number, number, number][] = [];
  let minY = Infinity;
  let maxY = -Infinity;
  for (const ring of rings)
    for (let k = 0; k < ring.length; k++) {
      const a = ring[k];
      const b = ring[(k + 1) % ring.length];
      if (a[1] === b[1]) continue;
      edges.push([a[0], a[1], b[0], b[1]]);
      minY = Math.min(minY, a[1], b[1]);
      maxY = Math.max(maxY, a[1], b[1]);
    }
  const i0 = Math.max(0, Math.ceil(minY - 0.5));
  const i1 = Math.min(h - 1, Math.floor(maxY - 0.5));
  const xs: [number, number][] = [];
  for (let i = i0; i <= i1; i++) {
    const y = i + 0.5;
    xs.length = 0;
    for (const [x0, y0, x1, y1] of edges)
      if (y0 <= y !== y1 <= y) xs.push([x0 + ((y - y0) * (x1 - x0)) / (y1 - y0), y1 > y0 ? 1 : -1]);
    xs.sort((p, q) => p[0] - q[0]);
    let wind = 0;
    for (let k = 0; k + 1 < xs.length; k++) {
      wind += xs[k][1];
      const inside = rule === 'evenodd' ? (k + 1) % 2 === 1 : wind !== 0;
      if (!inside) continue;
      const j0 = Math.max(0, Math.ceil(xs[k][0] - 0.5));
      const j1 = Math.min(w, Math.ceil(xs[k + 1][0] - 0.5));
      out.fill(1, i * w + j0, i * w + Math.max(j0, j1));
    }
  }
}

/**
 * Rasterises geometry given in the target pixel frame into a mask [height, width] (OR-ed into `out`).
 *
 * @example
 * rasterizeGeometry({ kind: 'box', x: 1, y: 1, w: 2, h: 2 }, 4, 4); // 4 ones
 */
export function rasterizeGeometry(
  g: Geometry,
  height: number,
  width: number,
  out = new Uint8Array(height * width),
): Uint8Array {
  switch (g.kind) {
    case 'box': {
      const [sx, sy] = g.unit === 'percent' ? [width / 100, height / 100] : [1, 1];
      const x0 = g.x * sx;
      const y0 = g.y * sy;
      const x1 = x0 + g.w * sx;
      const y1 = y0 + g.h * sy;
      const j0 = Math.max(0, Math.ceil(Math.min(x0, x1) - 0.5));
      const j1 = Math.min(width, Math.ceil(Math.max(x0, x1) - 0.5));
      const i0 = Math.max(0, Math.ceil(Math.min(y0, y1) - 0.5));
      const i1 = Math.min(height, Math.ceil(Math.max(y0, y1) - 0.5));
      for (let i = i0; i < i1; i++) if (j1 > j0) out.fill(1, i * width + j0, i * width + j1);
      return out;
    }
    case 'polygon':
    case 'path':
      fillRings(g.rings, g.fillRule, out, height, width);
      return out;
    case 'circle':
      return rasterizeGeometry({ kind: 'ellipse', cx: g.cx, cy: g.cy, rx: g.r, ry: g.r }, height, width, out);
    case 'ellipse': {
      const c = Math.cos(g.rotation ?? 0);
      const s = Math.sin(g.rotation ?? 0);
      const ext = Math.max(Math.abs(g.rx), Math.abs(g.ry));
      for (let i = Math.max(0, Math.floor(g.cy - ext)); i < Math.min(height, Math.ceil(g.cy + ext) + 1); i++)
        for (
          let j = Math.max(0, Math.floor(g.cx - ext));
          j < Math.min(width, Math.ceil(g.cx + ext) + 1);
          j++
        ) {
          const dx = j + 0.5 - g.cx;
          const dy = i + 0.5 - g.cy;
          const u = (dx * c + dy * s) / g.rx; // rotate the offset back into the ellipse frame
          const v = (-dx * s + dy * c) / g.ry;
          if (u * u + v * v <= 1) out[i * width + j] = 1;
        }
      return out;
    }
    case 'mask':
      for (let i = 0; i < height; i++) {
        const si = Math.min(g.height - 1, Math.floor(((i + 0.5) * g.height) / height));
        for (let j = 0; j < width; j++) {
          const sj = Math.min(g.width - 1, Math.floor(((j + 0.5) * g.width) / width));
          if (g.data[si * g.width + sj]) out[i * width + j] = 1;
        }
      }
      return out;
    case 'multi':
      for (const p of g.parts) rasterizeGeometry(p, height, width, out);
      return out;
  }
}

/**
 * Rasterises a region at height × width; when the region knows its image size and it differs, the
 * geometry is scaled from that size first (so annotations on the full painting fit a resized copy).
 *
 * @example
 * const mask = rasterizeRegion(region, 224, 224); // mask[i * 224 + j] = 1 inside
 */
export function rasterizeRegion(region: Region, height: number, width: number): Uint8Array {
  const size = region.imageSize;
  const g = size ? scaleGeometry(region.geometry, width / size.width, height / size.height) : region.geometry;
  return rasterizeGeometry(g, height, width);
}

/** Pixel count, centroid (x, y in pixel-centre coordinates) and bounds of a mask. */
export function maskStats(
  mask: Uint8Array,
  height: number,
  width: number,
): { area: number; cx: number; cy: number } {
  let area = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < height; i++)
    for (let j = 0; j < width; j++)
      if (mask[i * width + j]) {
        area++;
        sx += j + 0.5;
        sy += i + 0.5;
      }
  return { area, cx: area ? sx / area : Number.NaN, cy: area ? sy / area : Number.NaN };
}
