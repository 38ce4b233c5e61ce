/**
 * The static HTML report built in the browser from what the server already computed (finished jobs, regions,
 * metrics), with the same renderer as `artprobe report` (src/report/render-html.ts): overlays are coloured
 * here and embedded as JPEG data: URIs, so the downloaded file opens without the server.
 *
 * @example
 * const html = await buildClientReport(api, [painting], { probes: { [painting.id]: answers } });
 * download(new Blob([html], { type: 'text/html' }), 'report.html');
 */
import { scaleGeometry } from '../regions/rasterize.ts';
import type { Geometry } from '../regions/region.ts';
import { writeSvgShapes } from '../regions/svg-shapes.ts';
import { readW3CAnnotations } from '../regions/w3c.ts';
import type { ReportData, ReportPainting } from '../report/build-report.ts';
import { renderReportHtml } from '../report/render-html.ts';
import type { ProbeAnswerUi } from './ap-probe-panel.ts';
import type { Api, Job, Painting } from './api.ts';
import { colourMap, mapGrid, mapRange } from './colormap.ts';

/** Text of a job's target. */
export function targetText(t: Job['target']): string {
  return t.kind === 'prompt'
    ? t.prompt
    : t.kind === 'label' || t.kind === 'ensemble'
      ? t.label
      : `${t.a} rather than ${t.b}`;
}

/** Loads an image element. */
export function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((res, rej) => {
    const img = new Image();
    img.onload = () => res(img);
    img.onerror = () => rej(new Error(`cannot load image ${src}`));
    img.src = src;
  });
}

/** JPEG data URI of the painting with a coloured map over it, longest side at most maxSide. */
export function composite(
  img: HTMLImageElement,
  map: Float32Array | undefined,
  W: number,
  H: number,
  signed: boolean,
  maxSide = 640,
): string {
  const k = Math.min(1, maxSide / Math.max(W, H));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(W * k);
  canvas.height = Math.round(H * k);
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  if (map) {
    // the map's own grid (smaller than the painting above the server's map pixel budget), stretched over it
    const grid = mapGrid(map.length, W, H);
    const layer = document.createElement('canvas');
    layer.width = grid.width;
    layer.height = grid.height;
    layer
      .getContext('2d')
      ?.putImageData(
        new ImageData(
          colourMap(map, { signed, opacity: 0.6, threshold: 0, scheme: 'inferno' }),
          grid.width,
          grid.height,
        ),
        0,
        0,
      );
    ctx.drawImage(layer, 0, 0, canvas.width, canvas.height);
  }
  return canvas.toDataURL('image/jpeg', 0.82);
}

/** Regions of a painting's annotations, at the painting's size, each with its annotation document. */
export async function paintingRegions(
  api: Api,
  p: Painting,
): Promise<
  {
    id: string;
    label: string;
    dimension?: string;
    description?: string;
    geometry: Geometry;
    doc: Record<string, unknown>;
  }[]
> {
  const page = await api.annotations(p.id);
  const out = [];
  for (const doc of page.items ?? []) {
    const { regions } = readW3CAnnotations(doc);
    const r = regions[0];
    if (!r) continue;
    const s = r.imageSize;
    const geometry = s ? scaleGeometry(r.geometry, p.width / s.width, p.height / s.height) : r.geometry;
    out.push({
      id: String(doc.id ?? r.id).replace(/^urn:uuid:/, ''),
      label: r.label,
      dimension: r.dimension,
      description: r.description,
      geometry,
      doc: doc as Record<string, unknown>,
    });
  }
  return out;
}

/**
 * Gathers the finished prompt jobs, regions and metrics of each painting and renders the report page.
 *
 * @example
 * const html = await buildClientReport(api, paintings);
 */
export async function buildClientReport(
  api: Api,
  paintings: Painting[],
  opts: { probes?: Record<string, ProbeAnswerUi[]>; title?: string; model?: string } = {},
): Promise<string> {
  const out: ReportPainting[] = [];
  const methods = new Set<string>();
  const prompts = new Set<string>();
  for (const p of paintings) {
    const img = await loadImage(api.imageUrl(p.id));
    const jobs = (await api.jobs(p.id)).filter((j) => j.state === 'done' && j.target.kind === 'prompt');
    const seen = new Set<string>();
    const overlays: ReportPainting['overlays'] = [];
    const metrics: ReportPainting['metrics'] = [];
    for (const j of jobs) {
      const key = `${j.method}|${targetText(j.target)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      methods.add(j.method);
      prompts.add(targetText(j.target));
      const { data } = await api.paintingMap(j.id);
      const [min, max] = mapRange(data);
      const signed = !!j.result?.signed;
      overlays.push({
        method: j.method,
        prompt: targetText(j.target),
        score: j.result?.score ?? Number.NaN,
        signed,
        src: composite(img, data, p.width, p.height, signed),
        min,
        max,
      });
      for (const r of (await api.metrics(j.id)).rows)
        metrics.push({
          regionId: r.annotationId,
          region: r.label,
          dimension: r.dimension ?? '',
          method: j.method,
          prompt: targetText(j.target),
          pointing: r.pointing ?? Number.NaN,
          energy: r.energy ?? Number.NaN,
          auroc: r.auroc ?? Number.NaN,
          iouTopK: r.iouTopK ?? Number.NaN,
        });
    }
    const regions = (await paintingRegions(api, p)).map((r) => {
      const s = writeSvgShapes(r.geometry);
      return {
        id: r.id,
        label: r.label,
        dimension: r.dimension ?? '',
        svg: s.slice(s.indexOf('>') + 1, s.lastIndexOf('</svg>')),
      };
    });
    const meta: Record<string, string> = {};
    for (const k of ['artist', 'year', 'style', 'period', 'origin'])
      if (p.metadata?.[k] != null) meta[k] = String(p.metadata[k]);
    out.push({
      file: p.name,
      title: typeof p.metadata?.title === 'string' ? p.metadata.title : p.name,
      meta,
      width: p.width,
      height: p.height,
      image: composite(img, undefined, p.width, p.height, false),
      overlays,
      regions,
      probes: (opts.probes?.[p.id] ?? []).map((d) => ({ dimension: d.dimension, top: d.top })),
      metrics,
    });
  }
  const data: ReportData = {
    title: opts.title ?? `artprobe report: ${out.length} painting${out.length === 1 ? '' : 's'}`,
    model: opts.model ?? '',
    generated: new Date().toISOString(),
    view: 'as computed',
    methods: [...methods],
    prompts: [...prompts],
    paintings: out,
    notes: [],
  };
  return renderReportHtml(data);
}

/** Starts a download of a blob. */
export function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
