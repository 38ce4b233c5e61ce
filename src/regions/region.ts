/**
 * Shared types for expert regions: a `Region` is one annotated area of one image (or IIIF canvas),
 * whatever format it came from (W3C Web Annotation, COCO, LabelMe, VIA). Coordinates are image pixels
 * (x right, y down, origin at the top-left corner of the top-left pixel) unless a box says `percent`.
 *
 * @example
 * const r: Region = { id: 'a1', label: 'Mount Fuji', dimension: 'content', source: 'wave.jpg',
 *   geometry: { kind: 'box', x: 430, y: 333, w: 100, h: 52 }, imageSize: { width: 768, height: 546 } };
 */

/** The aspects of a painting an expert can point at (a W3C `classifying` body). */
export const DIMENSIONS = ['content', 'scene', 'style', 'period', 'artifact'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** A 2-D point [x, y] in pixels. */
export type Point = [number, number];

export interface BoxGeometry {
  kind: 'box';
  x: number;
  y: number;
  w: number;
  h: number;
  /** `percent`: x, w are % of the width, y, h % of the height (media fragments `xywh=percent:`). */
  unit?: 'pixel' | 'percent';
}

/** One or more closed rings filled together with one fill rule (an SVG polygon or a flattened path). */
export interface PolygonGeometry {
  kind: 'polygon' | 'path';
  rings: Point[][];
  fillRule: 'nonzero' | 'evenodd';
  /** The original SVG path data for `path`. */
  d?: string;
}

export interface CircleGeometry {
  kind: 'circle';
  cx: number;
  cy: number;
  r: number;
}

export interface EllipseGeometry {
  kind: 'ellipse';
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  /** Rotation in radians, clockwise on screen (y down). */
  rotation?: number;
}

/** A binary raster (a decoded COCO RLE): `data` is row-major [height, width], 1 = inside. */
export interface MaskGeometry {
  kind: 'mask';
  width: number;
  height: number;
  data: Uint8Array;
}

/** Union of several shapes (several SVG elements, or several COCO polygons). */
export interface MultiGeometry {
  kind: 'multi';
  parts: Geometry[];
}

export type Geometry =
  | BoxGeometry
  | PolygonGeometry
  | CircleGeometry
  | EllipseGeometry
  | MaskGeometry
  | MultiGeometry;

export interface ImageSize {
  width: number;
  height: number;
}

export interface Region {
  id: string;
  /** The tagging body text (or category / class label). */
  label: string;
  dimension?: Dimension;
  /** Image file name / URL, or the IIIF canvas URI (without its `#xywh=` fragment). */
  source: string;
  geometry: Geometry;
  imageSize?: ImageSize;
  /** Free-text description (a W3C `describing` body), when present. */
  description?: string;
  /** The annotation as read, for round trips and provenance. */
  original?: unknown;
}

/** A problem with one annotation; `message` already names the id. */
export interface RegionWarning {
  id: string;
  message: string;
}

export interface RegionLoadResult {
  regions: Region[];
  warnings: RegionWarning[];
}

/** Builds a warning whose message names the annotation id. */
export function makeWarning(id: string, problem: string): RegionWarning {
  return { id, message: `annotation ${id}: ${problem}` };
}

/** True when the value is one of the known dimensions. */
export function isDimension(v: unknown): v is Dimension {
  return typeof v === 'string' && (DIMENSIONS as readonly string[]).includes(v);
}

/** Signed area of a ring by the shoelace formula (positive when clockwise on screen, y down). */
export function ringArea(ring: Point[]): number {
  let s = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++)
    s += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return s / 2;
}

/** Axis-aligned bounds [minX, minY, maxX, maxY] of a geometry in pixels (`percent` boxes need the size). */
export function geometryBounds(g: Geometry, size?: ImageSize): [number, number, number, number] {
  switch (g.kind) {
    case 'box': {
      if (g.unit === 'percent') {
        if (!size) return [Number.NaN, Number.NaN, Number.NaN, Number.NaN];
        const sx = size.width / 100;
        const sy = size.height / 100;
        return [g.x * sx, g.y * sy, (g.x + g.w) * sx, (g.y + g.h) * sy];
      }
      return [g.x, g.y, g.x + g.w, g.y + g.h];
    }
    case 'polygon':
    case 'path': {
      const b: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
      for (const ring of g.rings)
        for (const [x, y] of ring) {
          b[0] = Math.min(b[0], x);
          b[1] = Math.min(b[1], y);
          b[2] = Math.max(b[2], x);
          b[3] = Math.max(b[3], y);
        }
      return b;
    }
    case 'circle':
      return [g.cx - g.r, g.cy - g.r, g.cx + g.r, g.cy + g.r];
    case 'ellipse': {
      const t = g.rotation ?? 0;
      const hx = Math.hypot(g.rx * Math.cos(t), g.ry * Math.sin(t));
      const hy = Math.hypot(g.rx * Math.sin(t), g.ry * Math.cos(t));
      return [g.cx - hx, g.cy - hy, g.cx + hx, g.cy + hy];
    }
    case 'mask': {
      const b: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
      for (let y = 0; y < g.height; y++)
        for (let x = 0; x < g.width; x++)
          if (g.data[y * g.width + x]) {
            b[0] = Math.min(b[0], x);
            b[1] = Math.min(b[1], y);
            b[2] = Math.max(b[2], x + 1);
            b[3] = Math.max(b[3], y + 1);
          }
      return b;
    }
    case 'multi': {
      const b: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
      for (const p of g.parts) {
        const q = geometryBounds(p, size);
        b[0] = Math.min(b[0], q[0]);
        b[1] = Math.min(b[1], q[1]);
        b[2] = Math.max(b[2], q[2]);
        b[3] = Math.max(b[3], q[3]);
      }
      return b;
    }
  }
}

/**
 * Checks a geometry against zero area and (when the size is known) the image bounds; returns a problem
 * description for an unusable region, a softer note for a partly-outside one, or null when fine.
 */
/** A parsed JSON object. */
export type Json = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a geometry against the image and reports through `warn`: false (after warning) when the region cannot
 * be used, true otherwise (possibly after a note, e.g. a box clipped to the image).
 *
 * @example
 * if (!usableGeometry(geometry, imageSize, warn)) return;
 */
export function usableGeometry(
  g: Geometry,
  size: ImageSize | undefined,
  warn: (msg: string) => void,
): boolean {
  const check = checkGeometry(g, size);
  if (check?.fatal) {
    warn(check.fatal);
    return false;
  }
  if (check?.note) warn(check.note);
  return true;
}

export function checkGeometry(g: Geometry, size?: ImageSize): { fatal?: string; note?: string } | null {
  const [x0, y0, x1, y1] = geometryBounds(g, size);
  if (Number.isNaN(x0)) return null; // percent box without a size: checked when rasterised
  if (![x0, y0, x1, y1].every(Number.isFinite)) return { fatal: 'geometry has no points' };
  if (!(x1 > x0) || !(y1 > y0) || geometryArea(g) === 0) return { fatal: 'region has zero area' };
  if (!size) return null;
  if (x1 <= 0 || y1 <= 0 || x0 >= size.width || y0 >= size.height)
    return {
      fatal: `region [${x0}, ${y0}, ${x1}, ${y1}] lies outside the ${size.width}x${size.height} image`,
    };
  if (x0 < 0 || y0 < 0 || x1 > size.width || y1 > size.height)
    return {
      note: `region [${x0}, ${y0}, ${x1}, ${y1}] extends beyond the ${size.width}x${size.height} image (clipped)`,
    };
  return null;
}

/** Geometric area in pixels² (polygon rings by the shoelace formula, with their signs for holes). */
export function geometryArea(g: Geometry): number {
  switch (g.kind) {
    case 'box':
      return Math.abs(g.w * g.h);
    case 'polygon':
    case 'path':
      return (
        Math.abs(g.rings.reduce((s, r) => s + ringArea(r), 0)) ||
        g.rings.reduce((s, r) => s + Math.abs(ringArea(r)), 0)
      );
    case 'circle':
      return Math.PI * g.r * g.r;
    case 'ellipse':
      return Math.PI * Math.abs(g.rx * g.ry);
    case 'mask':
      return g.data.reduce((s, v) => s + (v ? 1 : 0), 0);
    case 'multi':
      return g.parts.reduce((s, p) => s + geometryArea(p), 0);
  }
}
