/**
 * Reads LabelMe JSON (one file per image: `imagePath`, `imageWidth`, `imageHeight`, `shapes`) as regions.
 * Supported `shape_type`s: `polygon` (default), `rectangle` (two opposite corners), `circle` (centre and a
 * point on the circle). Other types (line, point, linestrip) have no area and become warnings.
 * Region ids are `<imagePath>#<shape index>` unless the shape has an `id`.
 *
 * @example
 * const { regions } = readLabelMe(JSON.parse(await readFile('img.json', 'utf8')));
 */
import {
  type Geometry,
  isDimension,
  isObj,
  type Json,
  makeWarning,
  type Point,
  type Region,
  type RegionLoadResult,
  type RegionWarning,
  usableGeometry,
} from './region.ts';

function points(s: Json): Point[] {
  const p = s.points;
  if (
    !Array.isArray(p) ||
    !p.every((q) => Array.isArray(q) && q.length === 2 && q.every((v) => typeof v === 'number'))
  )
    throw new Error('points must be a list of [x, y] pairs');
  return p as Point[];
}

function labelMeGeometry(s: Json): Geometry {
  const type = (s.shape_type as string | undefined) ?? 'polygon';
  const p = points(s);
  switch (type) {
    case 'polygon':
      if (p.length < 3) throw new Error(`polygon has ${p.length} points (needs 3)`);
      return { kind: 'polygon', rings: [p], fillRule: 'nonzero' };
    case 'rectangle': {
      if (p.length !== 2) throw new Error(`rectangle needs 2 corner points, got ${p.length}`);
      const [[x0, y0], [x1, y1]] = p;
      return {
        kind: 'box',
        x: Math.min(x0, x1),
        y: Math.min(y0, y1),
        w: Math.abs(x1 - x0),
        h: Math.abs(y1 - y0),
      };
    }
    case 'circle': {
      if (p.length !== 2) throw new Error(`circle needs a centre and a rim point, got ${p.length} points`);
      const [[cx, cy], [x, y]] = p;
      return { kind: 'circle', cx, cy, r: Math.hypot(x - cx, y - cy) };
    }
    default:
      throw new Error(`shape_type "${type}" has no area (supported: polygon, rectangle, circle)`);
  }
}

/**
 * Reads one LabelMe document; shapes that cannot be used become warnings naming their id.
 *
 * @example
 * readLabelMe({ imagePath: 'a.jpg', imageWidth: 10, imageHeight: 10,
 *   shapes: [{ label: 'sun', shape_type: 'circle', points: [[5, 5], [8, 5]] }] }).regions[0].geometry; // circle r=3
 */
export function readLabelMe(doc: unknown): RegionLoadResult {
  if (!isObj(doc) || !Array.isArray(doc.shapes)) throw new Error('LabelMe document needs a "shapes" array');
  if (typeof doc.imagePath !== 'string' || !doc.imagePath)
    throw new Error('LabelMe document has no imagePath');
  const source = doc.imagePath;
  const imageSize =
    typeof doc.imageWidth === 'number' && typeof doc.imageHeight === 'number'
      ? { width: doc.imageWidth, height: doc.imageHeight }
      : undefined;
  const regions: Region[] = [];
  const warnings: RegionWarning[] = [];
  doc.shapes.forEach((s: unknown, k: number) => {
    const id =
      isObj(s) && (typeof s.id === 'string' || typeof s.id === 'number') ? String(s.id) : `${source}#${k}`;
    const warn = (m: string) => warnings.push(makeWarning(id, m));
    if (!isObj(s)) {
      warn('is not a JSON object');
      return;
    }
    let geometry: Geometry;
    try {
      geometry = labelMeGeometry(s);
    } catch (e) {
      warn((e as Error).message);
      return;
    }
    if (!usableGeometry(geometry, imageSize, warn)) return;
    const flags = isObj(s.flags) ? s.flags : {};
    const region: Region = { id, label: String(s.label ?? ''), source, geometry, original: s };
    const dim = [s.dimension, ...Object.keys(flags).filter((f) => flags[f] === true)].find(isDimension);
    if (dim) region.dimension = dim;
    if (typeof s.description === 'string' && s.description) region.description = s.description;
    if (imageSize) region.imageSize = imageSize;
    regions.push(region);
  });
  return { regions, warnings };
}
