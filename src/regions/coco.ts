/**
 * Reads COCO object annotations (https://cocodataset.org/#format-data) as regions: `bbox` [x, y, w, h],
 * polygon `segmentation` ([[x1, y1, x2, y2, ...], ...], the union of the polygons), and RLE masks, both
 * uncompressed (`counts` as numbers) and compressed (`counts` as the pycocotools string). RLE runs are
 * column-major (Fortran order) and start with a run of zeros. The label is the category name; a category
 * `supercategory` (or an annotation `attributes.dimension`) that names a dimension sets the dimension.
 *
 * @example
 * const { regions, warnings } = readCocoAnnotations(JSON.parse(await readFile('instances.json', 'utf8')));
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

/**
 * Decodes a pycocotools compressed RLE string into run lengths (LEB128-like, 5 bits per character,
 * offset 48; from the third run on, each value is stored as the difference to the run two before).
 *
 * @example
 * decodeRleString('52203'); // [5, 2, 2, 2, 5]
 */
export function decodeRleString(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new Error(`RLE string ends inside a number at character ${p}`);
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`RLE string has an invalid character "${s[p]}" at ${p}`);
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/**
 * Decodes RLE run lengths into a row-major mask [h, w] (runs are column-major, zeros first).
 *
 * @example
 * decodeRle([1, 2, 1], 2, 2); // column-major 0,1,1,0 -> rows [0,1],[1,0]
 */
export function decodeRle(counts: number[], h: number, w: number): Uint8Array {
  const total = counts.reduce((s, c) => s + c, 0);
  if (counts.some((c) => !Number.isInteger(c) || c < 0))
    throw new Error('RLE counts must be non-negative integers');
  if (total !== h * w) throw new Error(`RLE counts sum to ${total}, not ${h}x${w} = ${h * w}`);
  const out = new Uint8Array(h * w);
  let pos = 0;
  counts.forEach((c, k) => {
    if (k % 2 === 1)
      for (let q = pos; q < pos + c; q++) {
        const col = Math.floor(q / h);
        out[(q - col * h) * w + col] = 1;
      }
    pos += c;
  });
  return out;
}

/** Geometry of one COCO annotation (segmentation preferred over bbox). */
function cocoGeometry(a: Json): Geometry {
  const seg = a.segmentation;
  if (Array.isArray(seg) && seg.length > 0) {
    const parts: Geometry[] = seg.map((poly, k) => {
      if (
        !Array.isArray(poly) ||
        poly.length < 6 ||
        poly.length % 2 !== 0 ||
        poly.some((v) => typeof v !== 'number')
      )
        throw new Error(`segmentation polygon ${k} needs an even count (>= 6) of numbers`);
      const ring: Point[] = [];
      for (let i = 0; i < poly.length; i += 2) ring.push([poly[i], poly[i + 1]]);
      return { kind: 'polygon', rings: [ring], fillRule: 'nonzero' };
    });
    return parts.length === 1 ? parts[0] : { kind: 'multi', parts };
  }
  if (isObj(seg)) {
    const size = seg.size;
    if (!Array.isArray(size) || size.length !== 2) throw new Error('RLE segmentation lacks size [h, w]');
    const [h, w] = size as number[];
    const counts = typeof seg.counts === 'string' ? decodeRleString(seg.counts) : seg.counts;
    if (!Array.isArray(counts)) throw new Error('RLE segmentation lacks counts');
    return { kind: 'mask', width: w, height: h, data: decodeRle(counts as number[], h, w) };
  }
  const b = a.bbox;
  if (Array.isArray(b) && b.length === 4 && b.every((v) => typeof v === 'number'))
    return { kind: 'box', x: b[0], y: b[1], w: b[2], h: b[3] };
  throw new Error('has neither a segmentation nor a bbox [x, y, w, h]');
}

/**
 * Reads a COCO annotation file; bad annotations become warnings naming their id.
 *
 * @example
 * readCocoAnnotations({ images: [{ id: 1, file_name: 'a.jpg', width: 8, height: 8 }], categories: [{ id: 1, name: 'cat' }],
 *   annotations: [{ id: 7, image_id: 1, category_id: 1, bbox: [1, 1, 4, 4] }] }).regions[0].label; // 'cat'
 */
export function readCocoAnnotations(doc: unknown): RegionLoadResult {
  if (!isObj(doc) || !Array.isArray(doc.annotations))
    throw new Error('COCO document needs an "annotations" array');
  const images = new Map<unknown, Json>();
  for (const im of (doc.images as unknown[]) ?? []) if (isObj(im)) images.set(im.id, im);
  const cats = new Map<unknown, Json>();
  for (const c of (doc.categories as unknown[]) ?? []) if (isObj(c)) cats.set(c.id, c);
  const regions: Region[] = [];
  const warnings: RegionWarning[] = [];
  doc.annotations.forEach((a: unknown, k: number) => {
    const id = isObj(a) && a.id !== undefined ? String(a.id) : `#${k}`;
    const warn = (m: string) => warnings.push(makeWarning(id, m));
    if (!isObj(a)) {
      warn('is not a JSON object');
      return;
    }
    const im = images.get(a.image_id);
    if (!im || typeof im.file_name !== 'string') {
      warn(`image_id ${JSON.stringify(a.image_id)} has no image with a file_name`);
      return;
    }
    let geometry: Geometry;
    try {
      geometry = cocoGeometry(a);
    } catch (e) {
      warn((e as Error).message);
      return;
    }
    const imageSize =
      typeof im.width === 'number' && typeof im.height === 'number'
        ? { width: im.width, height: im.height }
        : undefined;
    if (
      geometry.kind === 'mask' &&
      imageSize &&
      (geometry.width !== imageSize.width || geometry.height !== imageSize.height)
    )
      warn(
        `RLE size ${geometry.height}x${geometry.width} differs from the image ${imageSize.height}x${imageSize.width}`,
      );
    if (!usableGeometry(geometry, imageSize, warn)) return;
    const cat = cats.get(a.category_id);
    if (!cat) warn(`category_id ${JSON.stringify(a.category_id)} is not among the categories`);
    const attrs = isObj(a.attributes) ? a.attributes : {};
    const dim = [attrs.dimension, cat?.supercategory].find(isDimension);
    const region: Region = {
      id,
      label: String(cat?.name ?? a.category_id ?? ''),
      source: im.file_name,
      geometry,
      original: a,
    };
    if (dim) region.dimension = dim;
    if (imageSize) region.imageSize = imageSize;
    regions.push(region);
  });
  return { regions, warnings };
}
