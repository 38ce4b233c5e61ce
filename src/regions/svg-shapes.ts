/**
 * Parses the SVG of a W3C `SvgSelector` into region geometry: polygon, polyline, path (M L H V C S Q T A Z,
 * absolute and relative, read by svgpath; curves and arcs flattened to line segments), rect, circle and ellipse,
 * with their `transform`s. Several shapes become a `multi` (union). Also writes geometry back to SVG markup.
 *
 * @example
 * const { geometry } = parseSvgShapes("<svg><polygon points='0,0 10,0 10,10'/></svg>");
 * // geometry = { kind: 'polygon', rings: [[[0,0],[10,0],[10,10]]], fillRule: 'nonzero' }
 */
import svgpath from 'svgpath';
import type { Geometry, ImageSize, Point } from './region.ts';

export interface ParsedSvg {
  geometry: Geometry;
  /** The `<svg>` width/height (or viewBox size) when given. */
  size?: ImageSize;
  /** Non-fatal remarks (ignored transforms, rounded corners). */
  notes: string[];
}

const SHAPE_RE = /<\s*(polygon|polyline|path|rect|circle|ellipse|line|text|image|use|g)\b([^>]*?)\/?\s*>/gi;
const ATTR_RE = /([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function attributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(ATTR_RE)) out[m[1]] = m[2] ?? m[3];
  return out;
}

function num(attrs: Record<string, string>, name: string, required = true): number {
  const raw = attrs[name];
  if (raw === undefined) {
    if (required) throw new Error(`<${attrs['#tag']}> lacks the ${name} attribute`);
    return 0;
  }
  const v = Number.parseFloat(raw);
  if (!Number.isFinite(v)) throw new Error(`<${attrs['#tag']}> has a non-numeric ${name}="${raw}"`);
  return v;
}

/** Parses the number list of a `points` attribute into points. */
function parsePoints(s: string): Point[] {
  const nums = (s.match(/[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/g) ?? []).map(Number);
  if (nums.length < 6 || nums.length % 2 !== 0)
    throw new Error(`points="${s.slice(0, 60)}" needs an even count of at least 6 numbers`);
  const out: Point[] = [];
  for (let i = 0; i < nums.length; i += 2) out.push([nums[i], nums[i + 1]]);
  return out;
}

function fillRuleOf(attrs: Record<string, string>): 'nonzero' | 'evenodd' {
  const style = attrs.style ?? '';
  const m = /fill-rule\s*:\s*(evenodd|nonzero)/.exec(style);
  return (m?.[1] ?? attrs['fill-rule']) === 'evenodd' ? 'evenodd' : 'nonzero';
}

/** Number of line segments used for a curve whose control polygon has this length. */
function segmentsFor(len: number): number {
  return Math.max(4, Math.min(64, Math.ceil(len / 2)));
}

/** The points at t = k/n, k = 1..n, of a quadratic (3 control points) or cubic (4) Bézier curve. */
function bezierPoints(c: Point[]): Point[] {
  let len = 0;
  for (let j = 1; j < c.length; j++) len += Math.hypot(c[j][0] - c[j - 1][0], c[j][1] - c[j - 1][1]);
  const n = segmentsFor(len);
  const out: Point[] = [];
  for (let k = 1; k <= n; k++) {
    const t = k / n;
    const u = 1 - t;
    const w =
      c.length === 4 ? [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t] : [u * u, 2 * u * t, t * t];
    let x = w[0] * c[0][0];
    let y = w[0] * c[0][1];
    for (let j = 1; j < c.length; j++) {
      x += w[j] * c[j][0];
      y += w[j] * c[j][1];
    }
    out.push([x, y]);
  }
  return out;
}

const PATH_TOKEN_RE = /[MmLlHhVvCcSsQqTtAaZz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[\s,]/g;
const PATH_ARITY: Record<string, number> = { a: 7, c: 6, h: 1, l: 2, m: 2, q: 4, s: 4, t: 2, v: 1 };

/** Parses path data with svgpath, turning its parse errors into messages that name the command at fault. */
function parsePath(d: string): ReturnType<typeof svgpath> {
  const leftover = d.replace(PATH_TOKEN_RE, '');
  if (leftover) throw new Error(`path data has unexpected characters "${leftover.slice(0, 20)}"`);
  if (!/^\s*[Mm]/.test(d)) throw new Error('path data must start with M');
  const path = svgpath(d);
  const err = (path as unknown as { err: string }).err;
  if (!err) return path;
  if (/bad command [-+.\d]/.test(err)) throw new Error('path has numbers after Z');
  const at = Number(/at pos (\d+)/.exec(err)?.[1] ?? d.length);
  const cmd = /[MLHVCSQTAZ](?=[^MLHVCSQTAZ]*$)/i.exec(d.slice(0, at))?.[0] ?? 'M';
  if (/missed param|param should start/.test(err))
    throw new Error(`path command ${cmd} needs ${PATH_ARITY[cmd.toLowerCase()]} numbers`);
  throw new Error(`path command ${cmd}: ${err.replace(/^SvgPath: /, '')}`);
}

/**
 * Flattens SVG path data to closed rings (each subpath is one ring). svgpath parses the data and makes it
 * absolute, smooth curves explicit and arcs cubic; the curves are then sampled to line segments.
 *
 * @example
 * flattenPath('M0 0 h10 v10 z'); // [[[0,0],[10,0],[10,10]]]
 */
export function flattenPath(d: string): Point[][] {
  const rings: Point[][] = [];
  let ring: Point[] = [];
  const flush = () => {
    if (ring.length >= 3) rings.push(ring);
    ring = [];
  };
  parsePath(d)
    .abs()
    .unshort()
    .iterate((s, _i, x, y) => {
      const from: Point = [x, y];
      const lineTo = (...ps: Point[]) => {
        if (ring.length === 0) ring.push(from);
        ring.push(...ps);
      };
      switch (s[0]) {
        case 'M':
          flush();
          ring = [[s[1], s[2]]];
          break;
        case 'L':
          lineTo([s[1], s[2]]);
          break;
        case 'H':
          lineTo([s[1], y]);
          break;
        case 'V':
          lineTo([x, s[1]]);
          break;
        case 'C':
          lineTo(...bezierPoints([from, [s[1], s[2]], [s[3], s[4]], [s[5], s[6]]]));
          break;
        case 'Q':
          lineTo(...bezierPoints([from, [s[1], s[2]], [s[3], s[4]]]));
          break;
        case 'A': {
          if (s[6] === x && s[7] === y && s[1] !== 0 && s[2] !== 0) break; // an arc to its start is omitted
          const pts: Point[] = [];
          svgpath(`M${x} ${y}A${s.slice(1).join(' ')}`)
            .unarc()
            .iterate((c, _j, cx, cy) => {
              if (c[0] === 'C')
                pts.push(
                  ...bezierPoints([
                    [cx, cy],
                    [c[1], c[2]],
                    [c[3], c[4]],
                    [c[5], c[6]],
                  ]),
                );
            });
          pts[Math.max(0, pts.length - 1)] = [s[6], s[7]]; // the exact end point (also for rx or ry = 0)
          lineTo(...pts);
          break;
        }
        case 'Z':
          flush();
          break;
      }
    });
  flush();
  if (rings.length === 0) throw new Error('path encloses no area (fewer than 3 points)');
  return rings;
}

/**
 * Parses SVG markup (as in an SvgSelector) into geometry. Throws an Error describing what is malformed.
 *
 * @example
 * parseSvgShapes("<svg width='10' height='10'><circle cx='5' cy='5' r='2'/></svg>").geometry; // circle
 */
export function parseSvgShapes(svg: string): ParsedSvg {
  if (typeof svg !== 'string' || !/^\s*(<\?xml[^>]*>\s*)?<svg\b/i.test(svg))
    throw new Error('SVG value does not start with <svg');
  if (!/<\/svg\s*>\s*$/i.test(svg) && !/^\s*(<\?xml[^>]*>\s*)?<svg\b[^>]*\/>\s*$/i.test(svg))
    throw new Error('SVG value is not closed by </svg>');
  if ((svg.match(/</g) ?? []).length !== (svg.match(/>/g) ?? []).length)
    throw new Error('SVG value has unbalanced < and >');
  const notes: string[] = [];
  const svgAttrs = attributes(/<svg\b([^>]*)>/i.exec(svg)?.[1] ?? '');
  let size: ImageSize | undefined;
  const w = Number.parseFloat(svgAttrs.width ?? '');
  const h = Number.parseFloat(svgAttrs.height ?? '');
  const vb = (svgAttrs.viewBox ?? '')
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  if (w > 0 && h > 0) size = { width: w, height: h };
  else if (vb.length === 4 && vb[2] > 0 && vb[3] > 0) size = { width: vb[2], height: vb[3] };
  if (vb.length === 4 && (vb[0] !== 0 || vb[1] !== 0 || (w > 0 && vb[2] !== w) || (h > 0 && vb[3] !== h)))
    notes.push(
      `viewBox "${svgAttrs.viewBox}" differs from the image frame; coordinates are read as image pixels`,
    );
  const parts: Geometry[] = [];
  for (const m of svg.matchAll(SHAPE_RE)) {
    const tag = m[1].toLowerCase();
    const a = attributes(m[2]);
    a['#tag'] = tag;
    const before = parts.length;
    switch (tag) {
      case 'polygon':
      case 'polyline':
        if (a.points === undefined) throw new Error(`<${tag}> lacks the points attribute`);
        parts.push({ kind: 'polygon', rings: [parsePoints(a.points)], fillRule: fillRuleOf(a) });
        break;
      case 'path':
        if (a.d === undefined) throw new Error('<path> lacks the d attribute');
        parts.push({ kind: 'path', rings: flattenPath(a.d), fillRule: fillRuleOf(a), d: a.d });
        break;
      case 'rect': {
        if (a.rx || a.ry) notes.push('<rect> rounded corners are ignored');
        parts.push({
          kind: 'box',
          x: num(a, 'x', false),
          y: num(a, 'y', false),
          w: num(a, 'width'),
          h: num(a, 'height'),
        });
        break;
      }
      case 'circle':
        parts.push({ kind: 'circle', cx: num(a, 'cx', false), cy: num(a, 'cy', false), r: num(a, 'r') });
        break;
      case 'ellipse':
        parts.push({
          kind: 'ellipse',
          cx: num(a, 'cx', false),
          cy: num(a, 'cy', false),
          rx: num(a, 'rx'),
          ry: num(a, 'ry'),
        });
        break;
      case 'g':
        if (a.transform) notes.push(`<g> transform="${a.transform}" is ignored`);
        break;
      default:
        notes.push(`<${tag}> has no area and is ignored`);
    }
    if (a.transform && parts.length > before)
      parts[parts.length - 1] = applyTransform(parts[parts.length - 1], parseTransform(a.transform));
  }
  if (parts.length === 0) throw new Error('SVG contains no polygon, path, rect, circle or ellipse');
  return { geometry: parts.length === 1 ? parts[0] : { kind: 'multi', parts }, size, notes };
}

/** Affine matrix [a, b, c, d, e, f] as in SVG: x' = a x + c y + e, y' = b x + d y + f. */
type Affine = [number, number, number, number, number, number];

const TRANSFORM_RE = /(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)/g;
/** Each operation's arguments as svgpath takes them, with SVG's defaults filled in (matrix needs all six). */
const TRANSFORM_ARGS: Record<string, (v: number[]) => number[] | undefined> = {
  matrix: (v) => (v.length === 6 ? v : undefined),
  translate: (v) => [v[0] ?? 0, v[1] ?? 0],
  scale: (v) => [v[0] ?? 1, v[1] ?? v[0] ?? 1],
  rotate: (v) => (v.length === 3 ? v : [v[0] ?? 0]),
  skewX: (v) => [v[0] ?? 0],
  skewY: (v) => [v[0] ?? 0],
};

/**
 * Parses an SVG transform list (matrix, translate, scale, rotate, skewX, skewY) into one matrix: checked and
 * completed here, composed by svgpath.
 *
 * @example
 * parseTransform('translate(3 4) scale(2)'); // [2, 0, 0, 2, 3, 4]
 */
export function parseTransform(s: string): Affine {
  if (s.replace(TRANSFORM_RE, '').trim().replace(/,/g, ''))
    throw new Error(`transform "${s}" is not understood`);
  const ops: string[] = [];
  for (const [, op, args] of s.matchAll(TRANSFORM_RE)) {
    const v = args
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    if (v.some((x) => !Number.isFinite(x))) throw new Error(`transform "${s}" has non-numeric arguments`);
    const full = TRANSFORM_ARGS[op](v);
    if (!full) throw new Error(`transform ${op}(${args}) has the wrong number of arguments`);
    ops.push(`${op}(${full.join(' ')})`);
  }
  // Read the matrix off the images of the origin and of the unit vectors (relative moves skip the translation).
  const m: number[] = [];
  svgpath('M0 0l1 0l0 1')
    .transform(ops.join(' '))
    .iterate((seg) => {
      m.push(seg[1] as number, seg[2] as number);
    });
  return [m[2], m[3], m[4], m[5], m[0], m[1]];
}

const ellipsePoints = (cx: number, cy: number, rx: number, ry: number, rot: number, n = 72): Point[] =>
  Array.from({ length: n }, (_, k) => {
    const t = (2 * Math.PI * k) / n;
    const x = rx * Math.cos(t);
    const y = ry * Math.sin(t);
    return [cx + x * Math.cos(rot) - y * Math.sin(rot), cy + x * Math.sin(rot) + y * Math.cos(rot)] as Point;
  });

/** Applies an affine transform to a geometry (rotations keep ellipses; other maps flatten them). */
function applyTransform(g: Geometry, m: Affine): Geometry {
  const tp = (p: Point): Point => [m[0] * p[0] + m[2] * p[1] + m[4], m[1] * p[0] + m[3] * p[1] + m[5]];
  const rigid =
    Math.abs(m[0] - m[3]) < 1e-12 &&
    Math.abs(m[1] + m[2]) < 1e-12 &&
    Math.abs(m[0] * m[0] + m[1] * m[1] - 1) < 1e-9;
  switch (g.kind) {
    case 'box':
      if (m[1] === 0 && m[2] === 0 && m[0] > 0 && m[3] > 0)
        return { kind: 'box', x: g.x * m[0] + m[4], y: g.y * m[3] + m[5], w: g.w * m[0], h: g.h * m[3] };
      return {
        kind: 'polygon',
        fillRule: 'nonzero',
        rings: [
          [
            [g.x, g.y],
            [g.x + g.w, g.y],
            [g.x + g.w, g.y + g.h],
            [g.x, g.y + g.h],
          ].map((p) => tp(p as Point)),
        ],
      };
    case 'circle':
    case 'ellipse': {
      const e =
        g.kind === 'circle'
          ? { cx: g.cx, cy: g.cy, rx: g.r, ry: g.r, rotation: 0 }
          : { ...g, rotation: g.rotation ?? 0 };
      const [cx, cy] = tp([e.cx, e.cy]);
      if (rigid)
        return { kind: 'ellipse', cx, cy, rx: e.rx, ry: e.ry, rotation: e.rotation + Math.atan2(m[1], m[0]) };
      return {
        kind: 'polygon',
        fillRule: 'nonzero',
        rings: [ellipsePoints(e.cx, e.cy, e.rx, e.ry, e.rotation).map(tp)],
      };
    }
    case 'polygon':
    case 'path':
      return { kind: g.kind, fillRule: g.fillRule, rings: g.rings.map((r) => r.map(tp)) };
    default:
      return g;
  }
}

const fmt = (v: number) => String(Math.round(v * 1000) / 1000);

/** SVG element markup for one geometry (a mask is written as one path of row runs, exact under nonzero). */
function shapeMarkup(g: Geometry): string {
  switch (g.kind) {
    case 'box':
      return `<rect x='${fmt(g.x)}' y='${fmt(g.y)}' width='${fmt(g.w)}' height='${fmt(g.h)}'/>`;
    case 'polygon':
      if (g.rings.length === 1)
        return `<polygon points='${g.rings[0].map((p) => `${fmt(p[0])},${fmt(p[1])}`).join(' ')}'${g.fillRule === 'evenodd' ? " fill-rule='evenodd'" : ''}/>`;
      return shapeMarkup({ ...g, kind: 'path', d: undefined });
    case 'path': {
      const d =
        g.d ?? g.rings.map((r) => `M${r.map((p) => `${fmt(p[0])},${fmt(p[1])}`).join(' L')} Z`).join(' ');
      return `<path d='${d}'${g.fillRule === 'evenodd' ? " fill-rule='evenodd'" : ''}/>`;
    }
    case 'circle':
      return `<circle cx='${fmt(g.cx)}' cy='${fmt(g.cy)}' r='${fmt(g.r)}'/>`;
    case 'ellipse': {
      const rot = g.rotation
        ? ` transform='rotate(${fmt((g.rotation * 180) / Math.PI)} ${fmt(g.cx)} ${fmt(g.cy)})'`
        : '';
      return `<ellipse cx='${fmt(g.cx)}' cy='${fmt(g.cy)}' rx='${fmt(g.rx)}' ry='${fmt(g.ry)}'${rot}/>`;
    }
    case 'mask': {
      const runs: string[] = [];
      for (let y = 0; y < g.height; y++) {
        let x = 0;
        while (x < g.width) {
          if (!g.data[y * g.width + x]) {
            x++;
            continue;
          }
          const x0 = x;
          while (x < g.width && g.data[y * g.width + x]) x++;
          runs.push(`M${x0},${y}h${x - x0}v1h${x0 - x}z`);
        }
      }
      return `<path d='${runs.join('')}'/>`;
    }
    case 'multi':
      return g.parts.map(shapeMarkup).join('');
  }
}

/**
 * Writes geometry as the SVG of an SvgSelector.
 *
 * @example
 * writeSvgShapes({ kind: 'circle', cx: 5, cy: 5, r: 2 }, { width: 10, height: 10 });
 */
export function writeSvgShapes(g: Geometry, size?: ImageSize): string {
  const dims = size
    ? ` width='${size.width}' height='${size.height}' viewBox='0 0 ${size.width} ${size.height}'`
    : '';
  return `<svg xmlns='http://www.w3.org/2000/svg'${dims}>${shapeMarkup(g)}</svg>`;
}
