/**
 * Parses the SVG of a W3C `SvgSelector` into region geometry: polygon, polyline, path (M L H V C S Q T A Z,
 * absolute and relative; curves and arcs flattened to line segments), rect, circle and ellipse. Several
 * shapes become a `multi` (union). Also writes geometry back to SVG markup.
 *
 * @example
 * const { geometry } = parseSvgShapes("<svg><polygon points='0,0 10,0 10,10'/></svg>");
 * // geometry = { kind: 'polygon', rings: [[[0,0],[10,0],[10,10]]], fillRule: 'nonzero' }
 */
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

/**
 * Flattens SVG path data to closed rings (each subpath is one ring).
 *
 * @example
 * flattenPath('M0 0 h10 v10 z'); // [[[0,0],[10,0],[10,10]]]
 */
export function flattenPath(d: string): Point[][] {
  const tokens = d.match(/[MmLlHhVvCcSsQqTtAaZz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/g);
  const leftover = d.replace(/[MmLlHhVvCcSsQqTtAaZz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[\s,]/g, '');
  if (!tokens || leftover.length > 0)
    throw new Error(`path data has unexpected characters "${leftover.slice(0, 20)}"`);
  const rings: Point[][] = [];
  let ring: Point[] = [];
  let cx = 0;
  let cy = 0;
  let sx = 0;
  let sy = 0;
  let lastCtrl: Point | null = null; // reflected control point for S / T
  let lastCmd = '';
  let i = 0;
  let cmd = '';
  const isCmd = (t: string) => /^[A-Za-z]$/.test(t);
  const take = (n: number): number[] => {
    const out: number[] = [];
    for (let k = 0; k < n; k++) {
      const t = tokens[i++];
      if (t === undefined || isCmd(t)) throw new Error(`path command ${cmd} needs ${n} numbers`);
      out.push(Number(t));
    }
    return out;
  };
  const flush = () => {
    if (ring.length >= 3) rings.push(ring);
    ring = [];
  };
  const lineTo = (x: number, y: number) => {
    if (ring.length === 0) ring.push([cx, cy]);
    ring.push([x, y]);
    cx = x;
    cy = y;
  };
  const cubic = (p1: Point, p2: Point, p3: Point) => {
    const p0: Point = [cx, cy];
    const n = segmentsFor(
      Math.hypot(p1[0] - p0[0], p1[1] - p0[1]) +
        Math.hypot(p2[0] - p1[0], p2[1] - p1[1]) +
        Math.hypot(p3[0] - p2[0], p3[1] - p2[1]),
    );
    for (let k = 1; k <= n; k++) {
      const t = k / n;
      const u = 1 - t;
      const a = u * u * u;
      const b = 3 * u * u * t;
      const c = 3 * u * t * t;
      const e = t * t * t;
      lineTo(a * p0[0] + b * p1[0] + c * p2[0] + e * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + e * p3[1]);
    }
  };
  const quad = (p1: Point, p2: Point) => {
    const p0: Point = [cx, cy];
    const n = segmentsFor(
      Math.hypot(p1[0] - p0[0], p1[1] - p0[1]) + Math.hypot(p2[0] - p1[0], p2[1] - p1[1]),
    );
    for (let k = 1; k <= n; k++) {
      const t = k / n;
      const u = 1 - t;
      lineTo(
        u * u * p0[0] + 2 * u * t * p1[0] + t * t * p2[0],
        u * u * p0[1] + 2 * u * t * p1[1] + t * t * p2[1],
      );
    }
  };
  // Elliptical arc, endpoint parameterisation -> centre parameterisation (SVG 1.1 appendix F.6).
  const arc = (
    rxIn: number,
    ryIn: number,
    phiDeg: number,
    large: number,
    sweep: number,
    x: number,
    y: number,
  ) => {
    let rx = Math.abs(rxIn);
    let ry = Math.abs(ryIn);
    if (rx === 0 || ry === 0) return lineTo(x, y);
    const phi = (phiDeg * Math.PI) / 180;
    const cos = Math.cos(phi);
    const sin = Math.sin(phi);
    const dx = (cx - x) / 2;
    const dy = (cy - y) / 2;
    const x1 = cos * dx + sin * dy;
    const y1 = -sin * dx + cos * dy;
    const lambda = (x1 * x1) / (rx * rx) + (y1 * y1) / (ry * ry);
    if (lambda > 1) {
      rx *= Math.sqrt(lambda);
      ry *= Math.sqrt(lambda);
    }
    const num2 = rx * rx * ry * ry - rx * rx * y1 * y1 - ry * ry * x1 * x1;
    const coef =
      (large === sweep ? -1 : 1) * Math.sqrt(Math.max(0, num2 / (rx * rx * y1 * y1 + ry * ry * x1 * x1)));
    const cxp = (coef * rx * y1) / ry;
    const cyp = (-coef * ry * x1) / rx;
    const ccx = cos * cxp - sin * cyp + (cx + x) / 2;
    const ccy = sin * cxp + cos * cyp + (cy + y) / 2;
    const ang = (ux: number, uy: number, vx: number, vy: number) =>
      Math.atan2(ux * vy - uy * vx, ux * vx + uy * vy);
    const t1 = ang(1, 0, (x1 - cxp) / rx, (y1 - cyp) / ry);
    let dt = ang((x1 - cxp) / rx, (y1 - cyp) / ry, (-x1 - cxp) / rx, (-y1 - cyp) / ry);
    if (!sweep && dt > 0) dt -= 2 * Math.PI;
    if (sweep && dt < 0) dt += 2 * Math.PI;
    const n = segmentsFor(Math.abs(dt) * Math.max(rx, ry));
    for (let k = 1; k <= n; k++) {
      const t = t1 + (dt * k) / n;
      if (k === n) lineTo(x, y);
      else
        lineTo(
          ccx + rx * Math.cos(t) * cos - ry * Math.sin(t) * sin,
          ccy + rx * Math.cos(t) * sin + ry * Math.sin(t) * cos,
        );
    }
  };
  while (i < tokens.length) {
    if (isCmd(tokens[i])) cmd = tokens[i++];
    else if (!cmd) throw new Error('path data must start with a command (M)');
    else if (cmd === 'Z' || cmd === 'z') throw new Error('path has numbers after Z');
    const rel = cmd === cmd.toLowerCase();
    const ox = rel ? cx : 0;
    const oy = rel ? cy : 0;
    const C = cmd.toUpperCase();
    if (lastCmd === '' && C !== 'M') throw new Error('path data must start with M');
    let ctrl: Point | null = null;
    switch (C) {
      case 'M': {
        const [x, y] = take(2);
        flush();
        cx = sx = x + ox;
        cy = sy = y + oy;
        ring = [[cx, cy]];
        cmd = rel ? 'l' : 'L'; // further pairs are implicit line-tos
        break;
      }
      case 'L': {
        const [x, y] = take(2);
        lineTo(x + ox, y + oy);
        break;
      }
      case 'H':
        lineTo(take(1)[0] + ox, cy);
        break;
      case 'V':
        lineTo(cx, take(1)[0] + oy);
        break;
      case 'C': {
        const v = take(6);
        const p2: Point = [v[2] + ox, v[3] + oy];
        cubic([v[0] + ox, v[1] + oy], p2, [v[4] + ox, v[5] + oy]);
        ctrl = p2;
        break;
      }
      case 'S': {
        const v = take(4);
        const p1: Point =
          lastCtrl && /[CS]/i.test(lastCmd) ? [2 * cx - lastCtrl[0], 2 * cy - lastCtrl[1]] : [cx, cy];
        const p2: Point = [v[0] + ox, v[1] + oy];
        cubic(p1, p2, [v[2] + ox, v[3] + oy]);
        ctrl = p2;
        break;
      }
      case 'Q': {
        const v = take(4);
        const p1: Point = [v[0] + ox, v[1] + oy];
        quad(p1, [v[2] + ox, v[3] + oy]);
        ctrl = p1;
        break;
      }
      case 'T': {
        const v = take(2);
        const p1: Point =
          lastCtrl && /[QT]/i.test(lastCmd) ? [2 * cx - lastCtrl[0], 2 * cy - lastCtrl[1]] : [cx, cy];
        quad(p1, [v[0] + ox, v[1] + oy]);
        ctrl = p1;
        break;
      }
      case 'A': {
        const v = take(7);
        arc(v[0], v[1], v[2], v[3], v[4], v[5] + ox, v[6] + oy);
        break;
      }
      case 'Z':
        flush();
        cx = sx;
        cy = sy;
        break;
      default:
        throw new Error(`unknown path command ${cmd}`);
    }
    lastCtrl = ctrl;
    lastCmd = C;
  }
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

const mul = (m: Affine, n: Affine): Affine => [
  m[0] * n[0] + m[2] * n[1],
  m[1] * n[0] + m[3] * n[1],
  m[0] * n[2] + m[2] * n[3],
  m[1] * n[2] + m[3] * n[3],
  m[0] * n[4] + m[2] * n[5] + m[4],
  m[1] * n[4] + m[3] * n[5] + m[5],
];

/** Parses an SVG transform list (matrix, translate, scale, rotate, skewX, skewY). */
export function parseTransform(s: string): Affine {
  let m: Affine = [1, 0, 0, 1, 0, 0];
  const re = /(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)/g;
  const rest = s.replace(re, '').trim().replace(/,/g, '');
  if (rest) throw new Error(`transform "${s}" is not understood`);
  for (const [, op, args] of s.matchAll(re)) {
    const v = args
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    if (v.some((x) => !Number.isFinite(x))) throw new Error(`transform "${s}" has non-numeric arguments`);
    const rad = ((v[0] ?? 0) * Math.PI) / 180;
    let t: Affine;
    if (op === 'matrix' && v.length === 6) t = v as Affine;
    else if (op === 'translate') t = [1, 0, 0, 1, v[0] ?? 0, v[1] ?? 0];
    else if (op === 'scale') t = [v[0] ?? 1, 0, 0, v[1] ?? v[0] ?? 1, 0, 0];
    else if (op === 'rotate') {
      const r: Affine = [Math.cos(rad), Math.sin(rad), -Math.sin(rad), Math.cos(rad), 0, 0];
      t = v.length === 3 ? mul(mul([1, 0, 0, 1, v[1], v[2]], r), [1, 0, 0, 1, -v[1], -v[2]]) : r;
    } else if (op === 'skewX') t = [1, 0, Math.tan(rad), 1, 0, 0];
    else if (op === 'skewY') t = [1, Math.tan(rad), 0, 1, 0, 0];
    else throw new Error(`transform ${op}(${args}) has the wrong number of arguments`);
    m = mul(m, t);
  }
  return m;
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
