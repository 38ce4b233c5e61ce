/**
 * Reads VGG Image Annotator (VIA 2.x, also 1.x) project or export JSON as regions. Accepts the export
 * object keyed by `<filename><size>`, a project with `_via_img_metadata`, or a list of file entries. Each
 * file entry has `filename` and `regions` (a list, or an object keyed by index in VIA 1.x) whose
 * `shape_attributes.name` is `rect`, `polygon`, `circle` or `ellipse` (`theta` in radians). The label is the
 * region attribute named by `labelKey` (else `label`, `name`, `class`, or the first string attribute);
 * a `dimension` attribute sets the dimension. Ids are `<filename>#<region index>`.
 *
 * @example
 * const { regions } = readVia(JSON.parse(await readFile('via_export.json', 'utf8')), { labelKey: 'object' });
 */
import {
  type Geometry,
  type ImageSize,
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

function viaGeometry(sa: Json): Geometry {
  const n = (k: string): number => {
    const v = sa[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${sa.name} lacks a numeric ${k}`);
    return v;
  };
  switch (sa.name) {
    case 'rect':
      return { kind: 'box', x: n('x'), y: n('y'), w: n('width'), h: n('height') };
    case 'circle':
      return { kind: 'circle', cx: n('cx'), cy: n('cy'), r: n('r') };
    case 'ellipse':
      return {
        kind: 'ellipse',
        cx: n('cx'),
        cy: n('cy'),
        rx: n('rx'),
        ry: n('ry'),
        rotation: typeof sa.theta === 'number' ? sa.theta : 0,
      };
    case 'polygon': {
      const xs = sa.all_points_x;
      const ys = sa.all_points_y;
      if (!Array.isArray(xs) || !Array.isArray(ys) || xs.length !== ys.length || xs.length < 3)
        throw new Error('polygon needs all_points_x and all_points_y of equal length >= 3');
      return { kind: 'polygon', rings: [xs.map((x, k) => [x, ys[k]] as Point)], fillRule: 'nonzero' };
    }
    default:
      throw new Error(`shape "${String(sa.name)}" is not supported (rect, polygon, circle, ellipse)`);
  }
}

/**
 * Reads a VIA document; unusable regions become warnings naming their id.
 *
 * @example
 * readVia({ 'a.jpg123': { filename: 'a.jpg', size: 123, regions: [{ shape_attributes: { name: 'rect', x: 1, y: 1, width: 3, height: 3 },
 *   region_attributes: { label: 'boat' } }] } }).regions[0].label; // 'boat'
 */
export function readVia(
  doc: unknown,
  opts: { labelKey?: string; imageSizes?: Record<string, ImageSize> } = {},
): RegionLoadResult {
  let entries: unknown[];
  if (Array.isArray(doc)) entries = doc;
  else if (isObj(doc) && isObj(doc._via_img_metadata)) entries = Object.values(doc._via_img_metadata);
  else if (isObj(doc)) entries = Object.values(doc);
  else throw new Error('VIA document is not a JSON object or array');
  const regions: Region[] = [];
  const warnings: RegionWarning[] = [];
  entries.forEach((e, k) => {
    if (!isObj(e) || typeof e.filename !== 'string') {
      warnings.push(makeWarning(`#${k}`, 'file entry lacks a filename'));
      return;
    }
    const source = e.filename;
    const imageSize = opts.imageSizes?.[source];
    const list = Array.isArray(e.regions) ? e.regions : isObj(e.regions) ? Object.values(e.regions) : [];
    list.forEach((r: unknown, j: number) => {
      const id = `${source}#${j}`;
      const warn = (m: string) => warnings.push(makeWarning(id, m));
      if (!isObj(r) || !isObj(r.shape_attributes)) {
        warn('region lacks shape_attributes');
        return;
      }
      let geometry: Geometry;
      try {
        geometry = viaGeometry(r.shape_attributes);
      } catch (err) {
        warn((err as Error).message);
        return;
      }
      if (!usableGeometry(geometry, imageSize, warn)) return;
      const attrs = isObj(r.region_attributes) ? r.region_attributes : {};
      const keys = opts.labelKey ? [opts.labelKey] : ['label', 'name', 'class'];
      const found = keys.map((key) => attrs[key]).find((v) => typeof v === 'string' && v);
      const label = (found ??
        Object.entries(attrs).find(([key, v]) => key !== 'dimension' && typeof v === 'string' && v)?.[1] ??
        '') as string;
      const region: Region = { id, label, source, geometry, original: r };
      if (isDimension(attrs.dimension)) region.dimension = attrs.dimension;
      if (imageSize) region.imageSize = imageSize;
      regions.push(region);
    });
  });
  return { regions, warnings };
}
