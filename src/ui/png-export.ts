/**
 * A saliency map as a PNG that stands on its own: the painting with the map over it (the same colours, range,
 * transparency ramp and threshold as on screen), optionally the expert regions with their labels, and a band
 * below with the caption (painting, model, method, target, score) and the colour bar with numbers and the
 * method's unit. Also the file names of every export (`<painting>__<method>__<target>.<ext>`), so a folder of
 * downloads stays readable.
 *
 * @example
 * const blob = await mapPng({ src, width: 768, height: 546, map, signed: false, domain: [0, 1], scheme: 'inferno',
 *   opacity: 0.7, threshold: 0, unit: 'relevance (a.u.)', caption: { painting: 'The Great Wave', model: 'toy',
 *   method: 'rollout', target: 'a wave', score: 'score 23.41' } });
 * download(blob, exportName('hokusai.jpg', 'rollout', 'a wave', 'png'));
 */
import type { Geometry } from '../regions/region.ts';
import { geometryBounds } from '../regions/region.ts';
import { formatLegend, legendTicks, SCHEMES } from '../report/legend.ts';
import type { UiRegion } from './ap-heatmap.ts';
import { colourMap, mapGrid, type Scheme } from './colormap.ts';
import { loadImage } from './report-export.ts';

/**
 * A file-name-safe slug (lower case, dashes, at most `max` characters).
 *
 * @example
 * slug('The Great Wave!'); // 'the-great-wave'
 */
export function slug(s: string, max = 40): string {
  return (
    s
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, max)
      .replace(/-+$/, '') || 'x'
  );
}

/**
 * The name of an exported file of a painting: its file name's stem, then the method and target when given.
 *
 * @example
 * exportName('hokusai-great-wave.jpg', 'rollout', 'a wave', 'npy'); // 'hokusai-great-wave__rollout__a-wave.npy'
 */
export function exportName(
  painting: string,
  method: string | undefined,
  target: string | undefined,
  ext: string,
): string {
  const stem = slug(painting.replace(/\.[a-z0-9]{2,5}$/i, ''), 60);
  return `${[stem, method && slug(method), target && slug(target)].filter(Boolean).join('__')}.${ext}`;
}

/** Traces a geometry (painting pixels) on a canvas context scaled by k. */
function trace(
  ctx: CanvasRenderingContext2D,
  g: Geometry,
  k: number,
  size: { width: number; height: number },
): void {
  switch (g.kind) {
    case 'box': {
      const [x0, y0, x1, y1] = geometryBounds(g, size);
      ctx.rect(x0 * k, y0 * k, (x1 - x0) * k, (y1 - y0) * k);
      return;
    }
    case 'polygon':
    case 'path':
      for (const ring of g.rings) {
        ring.forEach(([x, y], i) => (i ? ctx.lineTo(x * k, y * k) : ctx.moveTo(x * k, y * k)));
        ctx.closePath();
      }
      return;
    case 'circle':
      ctx.moveTo((g.cx + g.r) * k, g.cy * k);
      ctx.arc(g.cx * k, g.cy * k, g.r * k, 0, 2 * Math.PI);
      return;
    case 'ellipse':
      ctx.moveTo((g.cx + g.rx) * k, g.cy * k);
      ctx.ellipse(g.cx * k, g.cy * k, g.rx * k, g.ry * k, g.rotation ?? 0, 0, 2 * Math.PI);
      return;
    case 'multi':
      for (const p of g.parts) trace(ctx, p, k, size);
      return;
    case 'mask': {
      const [x0, y0, x1, y1] = geometryBounds(g, size);
      ctx.rect(x0 * k, y0 * k, (x1 - x0) * k, (y1 - y0) * k);
    }
  }
}

export interface MapPngOptions {
  /** The painting's image URL. */
  src: string;
  width: number;
  height: number;
  map?: Float32Array;
  signed: boolean;
  /** The value range coloured (as on screen). */
  domain?: [number, number];
  scheme: Scheme;
  opacity: number;
  threshold: number;
  unit: string;
  /** Regions to draw (none: the map alone). */
  regions?: UiRegion[];
  caption: { painting: string; model: string; method: string; target: string; score: string };
  /** Longest side of the painting in the PNG (default 1600, never enlarged). */
  maxSide?: number;
}

/**
 * Renders the PNG (see the module comment).
 *
 * @example
 * const blob = await mapPng(opts);
 */
export async function mapPng(o: MapPngOptions): Promise<Blob> {
  const img = await loadImage(o.src);
  const k = Math.min(1, (o.maxSide ?? 1600) / Math.max(o.width, o.height));
  const w = Math.round(o.width * k);
  const h = Math.round(o.height * k);
  const band = 112;
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(w, 560);
  canvas.height = h + band;
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, w, h);
  if (o.map) {
    // the map's own grid (smaller than the painting above the server's map pixel budget), stretched over it
    const grid = mapGrid(o.map.length, o.width, o.height);
    const layer = document.createElement('canvas');
    layer.width = grid.width;
    layer.height = grid.height;
    const rgba = colourMap(o.map, {
      signed: o.signed,
      opacity: o.opacity,
      threshold: o.threshold,
      scheme: o.scheme,
      domain: o.domain,
    });
    layer.getContext('2d')?.putImageData(new ImageData(rgba, grid.width, grid.height), 0, 0);
    ctx.drawImage(layer, 0, 0, w, h);
  }
  const size = { width: o.width, height: o.height };
  const fontPx = Math.max(12, Math.round(Math.max(w, h) / 55));
  for (const r of o.regions ?? []) {
    ctx.beginPath();
    trace(ctx, r.geometry, k, size);
    ctx.lineJoin = 'round';
    ctx.strokeStyle = 'rgba(0,0,0,.6)';
    ctx.lineWidth = 5;
    ctx.stroke();
    ctx.strokeStyle = '#00e5ff';
    ctx.lineWidth = 2.5;
    ctx.stroke();
    const [x0, y0] = geometryBounds(r.geometry, size);
    if (!Number.isFinite(x0)) continue;
    ctx.font = `600 ${fontPx}px system-ui, sans-serif`;
    const y = y0 * k - 4 > fontPx ? y0 * k - 4 : y0 * k + fontPx + 2;
    ctx.lineWidth = 4;
    ctx.strokeStyle = '#000';
    ctx.strokeText(r.label, x0 * k + 2, y);
    ctx.fillStyle = '#fff';
    ctx.fillText(r.label, x0 * k + 2, y);
  }
  // the band: caption and colour bar
  const c = o.caption;
  ctx.fillStyle = '#111';
  ctx.font = '600 15px system-ui, sans-serif';
  ctx.fillText(c.painting, 12, h + 22, canvas.width - 24);
  ctx.font = '13px system-ui, sans-serif';
  ctx.fillText(`${c.method} · “${c.target}” · ${c.score}`, 12, h + 42, canvas.width - 24);
  ctx.fillStyle = '#444';
  ctx.fillText(`model ${c.model || 'unknown'} · artprobe`, 12, h + 60, canvas.width - 24);
  if (o.domain && o.map) {
    const [lo, hi] = o.domain;
    const bx = 12;
    const bw = Math.min(360, canvas.width - 24);
    const by = h + 70;
    const grad = ctx.createLinearGradient(bx, 0, bx + bw, 0);
    const f = SCHEMES[o.signed ? 'diverging' : o.scheme];
    for (let i = 0; i <= 10; i++) grad.addColorStop(i / 10, f(i / 10));
    ctx.fillStyle = grad;
    ctx.fillRect(bx, by, bw, 10);
    ctx.strokeStyle = '#666';
    ctx.lineWidth = 1;
    ctx.strokeRect(bx + 0.5, by + 0.5, bw - 1, 9);
    ctx.fillStyle = '#222';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    for (const t of legendTicks(lo, hi)) {
      const x = bx + ((t - lo) / (hi - lo || 1)) * bw;
      ctx.fillRect(x, by + 10, 1, 3);
      ctx.fillText(formatLegend(t), x, by + 25);
    }
    ctx.textAlign = 'left';
    ctx.fillText(
      `${o.unit}${o.signed ? ' · red +, blue −' : ''}`,
      bx + bw + 10,
      by + 9,
      canvas.width - bw - 34,
    );
  }
  return new Promise((res, rej) =>
    canvas.toBlob((b) => (b ? res(b) : rej(new Error('the PNG could not be made'))), 'image/png'),
  );
}
