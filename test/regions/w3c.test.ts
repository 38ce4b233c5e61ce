import { describe, expect, it } from 'vitest';
import { maskStats, rasterizeRegion } from '../../src/regions/rasterize.ts';
import { parseXywh, readW3CAnnotations, writeW3CAnnotations } from '../../src/regions/w3c.ts';

const anno = (id: string, target: unknown, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'Annotation',
  body: [
    { type: 'TextualBody', purpose: 'tagging', value: `label ${id}` },
    { type: 'TextualBody', purpose: 'classifying', value: 'content' },
  ],
  target,
  ...extra,
});
const svgSel = (inner: string) => ({
  type: 'SvgSelector',
  value: `<svg xmlns='http://www.w3.org/2000/svg' width='100' height='50'>${inner}</svg>`,
});
const frag = (v: string) => ({
  type: 'FragmentSelector',
  conformsTo: 'http://www.w3.org/TR/media-frags/',
  value: v,
});

describe('parseXywh', () => {
  it('reads pixel (explicit or default) and percent boxes', () => {
    expect(parseXywh('xywh=pixel:1,2,3,4')).toEqual({ kind: 'box', x: 1, y: 2, w: 3, h: 4 });
    expect(parseXywh('xywh=1,2,3,4')).toEqual({ kind: 'box', x: 1, y: 2, w: 3, h: 4 });
    expect(parseXywh('xywh=percent:10,20,30.5,40')).toEqual({
      kind: 'box',
      x: 10,
      y: 20,
      w: 30.5,
      h: 40,
      unit: 'percent',
    });
    expect(() => parseXywh('xywh=1,2,3')).toThrow(/four numbers/);
    expect(() => parseXywh('t=10,20')).toThrow(/not an xywh/);
  });
});

describe('readW3CAnnotations', () => {
  it('reads a single annotation, a page and a collection (following embedded next pages)', () => {
    const a = anno('a', { source: 'img.jpg', selector: frag('xywh=pixel:10,10,20,20') });
    expect(readW3CAnnotations(a).regions).toHaveLength(1);
    const page = {
      type: 'AnnotationPage',
      items: [a, anno('b', { source: 'img.jpg', selector: frag('xywh=0,0,5,5') })],
    };
    expect(readW3CAnnotations(page).regions.map((r) => r.id)).toEqual(['a', 'b']);
    const coll = {
      type: 'AnnotationCollection',
      first: { ...page, next: { type: 'AnnotationPage', items: [anno('c', 'img.jpg#xywh=1,1,2,2')] } },
    };
    const { regions, warnings } = readW3CAnnotations(coll);
    expect(regions.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(warnings).toEqual([]);
    expect(regions[0]).toMatchObject({ label: 'label a', dimension: 'content', source: 'img.jpg' });
    const linked = readW3CAnnotations({
      id: 'coll',
      type: 'AnnotationCollection',
      first: 'https://example.org/page1',
    });
    expect(linked.warnings[0].message).toMatch(/coll.*not embedded/);
  });

  it('prefers the SVG alternative over the box in a selector list, whatever the order', () => {
    for (const sel of [
      [frag('xywh=0,0,100,50'), svgSel("<polygon points='10,10 30,10 30,30'/>")],
      [svgSel("<polygon points='10,10 30,10 30,30'/>"), frag('xywh=0,0,100,50')],
    ]) {
      const { regions } = readW3CAnnotations(anno('x', { source: 'i.png', selector: sel }));
      expect(regions[0].geometry.kind).toBe('polygon');
      expect(regions[0].imageSize).toEqual({ width: 100, height: 50 });
    }
  });

  it('falls back to the box (with a warning) when the SVG alternative is malformed', () => {
    const { regions, warnings } = readW3CAnnotations(
      anno('m', { source: 'i.png', selector: [frag('xywh=1,2,3,4'), svgSel("<polygon points='1,1'/>")] }),
    );
    expect(regions[0].geometry).toEqual({ kind: 'box', x: 1, y: 2, w: 3, h: 4 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toMatch(/annotation m: malformed SvgSelector.*fell back/);
  });

  it('reads IIIF canvas targets: fragment URIs and SpecificResources with a Canvas source', () => {
    const canvas = 'https://example.org/iiif/book1/canvas/p1';
    const a = readW3CAnnotations(anno('i1', `${canvas}#xywh=100,50,200,100`)).regions[0];
    expect(a.source).toBe(canvas);
    expect(a.geometry).toEqual({ kind: 'box', x: 100, y: 50, w: 200, h: 100 });
    const b = readW3CAnnotations(
      anno('i2', {
        type: 'SpecificResource',
        source: { id: canvas, type: 'Canvas', width: 1000, height: 800 },
        selector: frag('xywh=percent:10,10,50,25'),
      }),
    ).regions[0];
    expect(b.source).toBe(canvas);
    expect(b.imageSize).toEqual({ width: 1000, height: 800 });
    expect(maskStats(rasterizeRegion(b, 800, 1000), 800, 1000).area).toBe(500 * 200);
    const c = readW3CAnnotations(anno('i3', { type: 'SpecificResource', source: `${canvas}#xywh=1,2,3,4` }))
      .regions[0];
    expect(c.geometry).toEqual({ kind: 'box', x: 1, y: 2, w: 3, h: 4 });
  });

  it('turns bad annotations into warnings naming the id, and keeps the good ones', () => {
    const doc = {
      type: 'AnnotationPage',
      items: [
        anno('good', { source: 'i.png', selector: frag('xywh=1,1,5,5') }),
        anno('unknown-selector', { source: 'i.png', selector: { type: 'TextQuoteSelector', exact: 'x' } }),
        anno('outside', { source: 'i.png', selector: svgSel("<polygon points='200,200 300,200 300,300'/>") }),
        anno('partly-outside', {
          source: 'i.png',
          selector: svgSel("<rect x='90' y='40' width='20' height='20'/>"),
        }),
        anno('bad-svg', {
          source: 'i.png',
          selector: { type: 'SvgSelector', value: "<svg><polygon points='1,1 5,5 1,5'/>" },
        }),
        anno('no-source', { selector: frag('xywh=1,1,5,5') }),
        anno('zero-area', { source: 'i.png', selector: frag('xywh=1,1,0,5') }),
        anno('flat-polygon', { source: 'i.png', selector: svgSel("<polygon points='1,1 5,5 9,9'/>") }),
        { id: 'no-target', type: 'Annotation', body: { value: 'x', purpose: 'tagging' } },
        42,
      ],
    };
    const { regions, warnings } = readW3CAnnotations(doc, {
      imageSizes: { 'i.png': { width: 100, height: 50 } },
    });
    expect(regions.map((r) => r.id)).toEqual(['good', 'partly-outside']);
    const byId = Object.fromEntries(warnings.map((w) => [w.id, w.message]));
    expect(byId['unknown-selector']).toMatch(
      /^annotation unknown-selector: unsupported selector type "TextQuoteSelector"/,
    );
    expect(byId.outside).toMatch(/outside the 100x50 image/);
    expect(byId['partly-outside']).toMatch(/extends beyond the 100x50 image/);
    expect(byId['bad-svg']).toMatch(/malformed SvgSelector.*not closed/);
    expect(byId['no-source']).toMatch(/target has no source/);
    expect(byId['zero-area']).toMatch(/zero area/);
    expect(byId['flat-polygon']).toMatch(/zero area/);
    expect(byId['no-target']).toMatch(/has no target/);
    expect(byId['#9']).toMatch(/not a JSON object/);
    expect(Object.keys(byId)).toHaveLength(9);
  });

  it('warns about unknown dimensions and duplicate ids', () => {
    const a = anno('d', { source: 'i.png', selector: frag('xywh=1,1,5,5') });
    a.body[1].value = 'mood';
    const { regions, warnings } = readW3CAnnotations([a, a]);
    expect(regions[0].dimension).toBeUndefined();
    expect(warnings.some((w) => /classifying body "mood"/.test(w.message))).toBe(true);
    expect(warnings.some((w) => /id is used by 2 annotations/.test(w.message))).toBe(true);
  });
});

describe('writeW3CAnnotations', () => {
  it('round-trips boxes, percent boxes, polygons, paths, circles and ellipses', () => {
    const doc = {
      type: 'AnnotationPage',
      items: [
        anno('box', { source: 'a.jpg', selector: frag('xywh=pixel:1,2,30,40') }),
        anno('pct', { source: 'a.jpg', selector: frag('xywh=percent:10,20,30,40') }),
        anno('poly', { source: 'a.jpg', selector: svgSel("<polygon points='10,10 30,10 30,30'/>") }),
        anno('path', { source: 'a.jpg', selector: svgSel("<path d='M10 10 h20 v20 z'/>") }),
        anno('circle', { source: 'a.jpg', selector: svgSel("<circle cx='50' cy='25' r='10'/>") }),
        anno('ellipse', {
          source: 'a.jpg',
          selector: svgSel("<ellipse cx='50' cy='25' rx='10' ry='5' transform='rotate(30 50 25)'/>"),
        }),
      ],
    };
    const first = readW3CAnnotations(doc, { imageSizes: { 'a.jpg': { width: 100, height: 50 } } });
    expect(first.warnings).toEqual([]);
    first.regions[0].description = 'a note';
    const written = writeW3CAnnotations(first.regions, { id: 'urn:test' });
    expect(written.type).toBe('AnnotationCollection');
    expect(written.total).toBe(6);
    const again = readW3CAnnotations(JSON.parse(JSON.stringify(written)));
    expect(again.warnings).toEqual([]);
    expect(again.regions.map((r) => r.id)).toEqual(first.regions.map((r) => r.id));
    again.regions.forEach((r, k) => {
      const orig = first.regions[k];
      expect(r.label).toBe(orig.label);
      expect(r.dimension).toBe('content');
      expect(Array.from(rasterizeRegion(r, 50, 100))).toEqual(Array.from(rasterizeRegion(orig, 50, 100)));
    });
    expect(again.regions[0].description).toBe('a note');
  });
});
