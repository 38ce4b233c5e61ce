/**
 * Reads and writes W3C Web Annotations (https://www.w3.org/TR/annotation-model/) as regions.
 * Accepts a single Annotation, an AnnotationPage (`items`), an AnnotationCollection (`first.items`, following
 * embedded `next` pages), or an array of any of these. Targets may be a string (`img.jpg#xywh=...`, a IIIF
 * `canvas#xywh=...`), an object with `source` + `selector`, or a SpecificResource whose source is an object
 * (e.g. a IIIF Canvas with width/height). Selectors: FragmentSelector (`xywh=` pixel or percent) and
 * SvgSelector; a list of selectors is read as alternatives and the most precise (SVG) is used.
 * Bad annotations become warnings naming their id; the others still load.
 *
 * @example
 * const { regions, warnings } = readW3CAnnotations(JSON.parse(await readFile('annotations.jsonld', 'utf8')));
 * const doc = writeW3CAnnotations(regions, { id: 'urn:example:regions' });
 */

import {
  type Geometry,
  type ImageSize,
  isDimension,
  isObj,
  type Json,
  makeWarning,
  type Region,
  type RegionLoadResult,
  type RegionWarning,
  usableGeometry,
} from './region.ts';
import { parseSvgShapes, writeSvgShapes } from './svg-shapes.ts';

export interface W3CReadOptions {
  /** Image sizes by source (file name or URI), e.g. from a catalog; used for `percent` boxes and bounds checks. */
  imageSizes?: Record<string, ImageSize>;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const typesOf = (v: Json): string[] =>
  asArray(v.type as string | string[] | undefined).concat(
    asArray(v['@type'] as string | string[] | undefined),
  );

/**
 * Parses a media-fragment `xywh=` value (`xywh=1,2,3,4`, `xywh=pixel:...`, `xywh=percent:...`).
 *
 * @example
 * parseXywh('xywh=percent:10,20,30,40'); // { kind: 'box', x: 10, y: 20, w: 30, h: 40, unit: 'percent' }
 */
export function parseXywh(value: string): Geometry {
  const m = /^\s*xywh\s*=\s*(?:(pixel|percent):)?\s*([^&]*)$/i.exec(value);
  if (!m) throw new Error(`FragmentSelector value "${value}" is not an xywh= fragment`);
  const nums = m[2].split(',').map((s) => s.trim());
  if (nums.length !== 4 || nums.some((s) => !/^[-+]?(\d+\.?\d*|\.\d+)$/.test(s)))
    throw new Error(`FragmentSelector value "${value}" needs four numbers x,y,w,h`);
  const [x, y, w, h] = nums.map(Number);
  if (w < 0 || h < 0) throw new Error(`FragmentSelector value "${value}" has a negative width or height`);
  return m[1]?.toLowerCase() === 'percent'
    ? { kind: 'box', x, y, w, h, unit: 'percent' }
    : { kind: 'box', x, y, w, h };
}

/** Precision rank of a selector type (higher = more precise); -1 when unsupported. */
function selectorRank(sel: unknown): number {
  if (!isObj(sel)) return -1;
  const t = typesOf(sel);
  if (t.includes('SvgSelector')) return 2;
  if (t.includes('FragmentSelector')) return 1;
  return -1;
}

interface Parsed {
  geometry: Geometry;
  size?: ImageSize;
  notes: string[];
}

function parseSelector(sel: Json): Parsed {
  const t = typesOf(sel);
  const value = sel.value;
  if (t.includes('SvgSelector')) {
    if (typeof value !== 'string') throw new Error('SvgSelector has no string value');
    try {
      return parseSvgShapes(value);
    } catch (e) {
      throw new Error(`malformed SvgSelector: ${(e as Error).message}`);
    }
  }
  if (t.includes('FragmentSelector')) {
    if (typeof value !== 'string') throw new Error('FragmentSelector has no string value');
    return { geometry: parseXywh(value), notes: [] };
  }
  throw new Error(`unsupported selector type ${JSON.stringify(sel.type ?? sel['@type'] ?? null)}`);
}

interface TargetInfo {
  source: string;
  selector?: Json;
  size?: ImageSize;
}

/** Splits a target into its source, selector (or fragment) and any size the source carries. */
function readTarget(target: unknown): TargetInfo | string {
  if (typeof target === 'string') {
    const hash = target.indexOf('#');
    if (hash < 0) return { source: target };
    return {
      source: target.slice(0, hash),
      selector: { type: 'FragmentSelector', value: target.slice(hash + 1) },
    };
  }
  if (!isObj(target)) return 'target is missing';
  let source = target.source ?? target.id ?? target['@id'];
  let size: ImageSize | undefined;
  if (isObj(source)) {
    const src = source;
    if (typeof src.width === 'number' && typeof src.height === 'number')
      size = { width: src.width, height: src.height };
    source = src.id ?? src['@id'];
  }
  if (typeof target.width === 'number' && typeof target.height === 'number')
    size = { width: target.width, height: target.height };
  if (typeof source !== 'string' || source.length === 0) return 'target has no source';
  if (target.selector === undefined && source.includes('#')) {
    const info = readTarget(source);
    return typeof info === 'string' ? info : { ...info, size };
  }
  return { source, selector: target.selector as Json | undefined, size };
}

/** Reads one annotation into a region, pushing warnings; returns null when unusable. */
function readAnnotation(
  a: unknown,
  index: number,
  opts: W3CReadOptions,
  warnings: RegionWarning[],
): Region | null {
  const id =
    isObj(a) && typeof (a.id ?? a['@id']) === 'string' ? ((a.id ?? a['@id']) as string) : `#${index}`;
  const warn = (msg: string) => warnings.push(makeWarning(id, msg));
  if (!isObj(a)) {
    warn('is not a JSON object');
    return null;
  }
  let label = '';
  let description: string | undefined;
  let dimension: Region['dimension'];
  const tags: string[] = [];
  const untyped: string[] = [];
  const bodies = asArray(a.body as unknown);
  if (typeof a.bodyValue === 'string') bodies.push({ type: 'TextualBody', value: a.bodyValue });
  for (const b of bodies) {
    const body = typeof b === 'string' ? { value: b } : b;
    if (!isObj(body) || typeof body.value !== 'string') continue;
    const purposes = asArray(body.purpose as string | string[] | undefined);
    if (purposes.includes('classifying')) {
      if (isDimension(body.value)) dimension = body.value;
      else
        warn(`classifying body "${body.value}" is not one of content|scene|style|period|artifact (ignored)`);
    } else if (purposes.includes('describing')) description = body.value;
    else if (purposes.includes('tagging')) tags.push(body.value);
    else if (purposes.length === 0) untyped.push(body.value);
  }
  label = tags[0] ?? untyped[0] ?? '';
  if (!label) warn('has no tagging body (label is empty)');
  const targets = asArray(a.target as unknown);
  if (targets.length === 0) {
    warn('has no target');
    return null;
  }
  if (targets.length > 1) warn(`has ${targets.length} targets; only the first is used`);
  const info = readTarget(targets[0]);
  if (typeof info === 'string') {
    warn(info);
    return null;
  }
  const size = opts.imageSizes?.[info.source] ?? info.size;
  let parsed: Parsed;
  if (info.selector === undefined) {
    if (!size) {
      warn('has no selector and no known image size (a whole-image region needs the size)');
      return null;
    }
    parsed = { geometry: { kind: 'box', x: 0, y: 0, w: size.width, h: size.height }, notes: [] };
  } else {
    const alternatives = asArray(info.selector as Json | Json[]);
    const ranked = alternatives
      .map((s, k) => ({ s, k, r: selectorRank(s) }))
      .sort((p, q) => q.r - p.r || p.k - q.k);
    const errors: string[] = [];
    let got: Parsed | undefined;
    for (const { s } of ranked) {
      try {
        got = parseSelector(s);
        break;
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (!got) {
      warn(errors.join('; ') || 'has an empty selector list');
      return null;
    }
    if (errors.length) warn(`${errors.join('; ')} (fell back to a less precise selector)`);
    parsed = got;
  }
  for (const n of parsed.notes) warn(n);
  const imageSize = size ?? parsed.size;
  if (!usableGeometry(parsed.geometry, imageSize, warn)) return null;
  const region: Region = { id, label, source: info.source, geometry: parsed.geometry, original: a };
  if (dimension) region.dimension = dimension;
  if (description !== undefined) region.description = description;
  if (imageSize) region.imageSize = imageSize;
  return region;
}

/** Collects the annotation objects of any container shape. */
function collectAnnotations(doc: unknown, warnings: RegionWarning[]): unknown[] {
  if (Array.isArray(doc)) return doc.flatMap((d) => collectAnnotations(d, warnings));
  if (!isObj(doc)) throw new Error('W3C annotation document is not a JSON object or array');
  const t = typesOf(doc);
  if (t.includes('AnnotationCollection')) {
    const out: unknown[] = asArray(doc.items as unknown[]);
    let page: unknown = doc.first;
    const seen = new Set<unknown>();
    while (page !== undefined && !seen.has(page)) {
      seen.add(page);
      if (!isObj(page)) {
        warnings.push(
          makeWarning(
            String(doc.id ?? 'collection'),
            `page ${JSON.stringify(page)} is a link, not embedded; it was not fetched`,
          ),
        );
        break;
      }
      out.push(...asArray(page.items as unknown[]));
      page = page.next;
    }
    return out;
  }
  if (t.includes('AnnotationPage')) return asArray(doc.items as unknown[]);
  if (Array.isArray(doc.items) && !t.includes('Annotation')) return doc.items;
  return [doc];
}

/**
 * Reads W3C Web Annotations into regions; never throws for a bad annotation (it becomes a warning).
 *
 * @example
 * const { regions, warnings } = readW3CAnnotations(json, { imageSizes: { 'a.jpg': { width: 800, height: 600 } } });
 */
export function readW3CAnnotations(doc: unknown, opts: W3CReadOptions = {}): RegionLoadResult {
  const warnings: RegionWarning[] = [];
  const regions: Region[] = [];
  collectAnnotations(doc, warnings).forEach((a, k) => {
    const r = readAnnotation(a, k, opts, warnings);
    if (r) regions.push(r);
  });
  const ids = new Map<string, number>();
  for (const r of regions) ids.set(r.id, (ids.get(r.id) ?? 0) + 1);
  for (const [id, n] of ids) if (n > 1) warnings.push(makeWarning(id, `id is used by ${n} annotations`));
  return { regions, warnings };
}

/** The W3C selector for a geometry: a FragmentSelector for boxes, an SvgSelector otherwise. */
function selectorFor(g: Geometry, size?: ImageSize): Json {
  if (g.kind === 'box')
    return {
      type: 'FragmentSelector',
      conformsTo: 'http://www.w3.org/TR/media-frags/',
      value: `xywh=${g.unit === 'percent' ? 'percent' : 'pixel'}:${g.x},${g.y},${g.w},${g.h}`,
    };
  return { type: 'SvgSelector', value: writeSvgShapes(g, size) };
}

/**
 * Writes regions as one AnnotationCollection with an embedded first page.
 *
 * @example
 * writeW3CAnnotations(regions, { id: 'urn:x', label: 'experts' }).first.items.length === regions.length;
 */
export function writeW3CAnnotations(
  regions: Region[],
  opts: { id?: string; label?: string } = {},
): {
  '@context': string;
  id: string;
  type: 'AnnotationCollection';
  label?: string;
  total: number;
  first: { type: 'AnnotationPage'; startIndex: 0; items: Json[] };
} {
  const items = regions.map((r): Json => {
    const body: Json[] = [{ type: 'TextualBody', purpose: 'tagging', value: r.label }];
    if (r.description !== undefined)
      body.push({ type: 'TextualBody', purpose: 'describing', value: r.description });
    if (r.dimension) body.push({ type: 'TextualBody', purpose: 'classifying', value: r.dimension });
    const target: Json = { source: r.source, selector: selectorFor(r.geometry, r.imageSize) };
    if (r.imageSize && r.geometry.kind === 'box') {
      // keep the size for readers (percent boxes, bounds checks) through a SpecificResource source
      target.type = 'SpecificResource';
      target.source = { id: r.source, width: r.imageSize.width, height: r.imageSize.height };
    }
    return {
      '@context': 'http://www.w3.org/ns/anno.jsonld',
      id: r.id,
      type: 'Annotation',
      motivation: 'tagging',
      body,
      target,
    };
  });
  const out = {
    '@context': 'http://www.w3.org/ns/anno.jsonld',
    id: opts.id ?? 'urn:artprobe:regions',
    type: 'AnnotationCollection' as const,
    ...(opts.label ? { label: opts.label } : {}),
    total: items.length,
    first: { type: 'AnnotationPage' as const, startIndex: 0 as const, items },
  };
  return out;
}
