/**
 * What a static report shows, as plain data: made by `collectReportData` (./build-report.ts), drawn by
 * `renderReportHtml` (./render-html.ts) and by the UI's report export. Types only, so the renderer (which the
 * browser bundle also loads) needs nothing from the engine side, and neither module imports the other.
 *
 * @example
 * import type { ReportData } from './report-data.ts';
 * const titles = (data: ReportData) => data.paintings.map((p) => p.title);
 */

/**
 * The zero-shot answer of one probe dimension for a painting, as `runZeroShot` (src/probe/zero-shot.ts) gives
 * it to the CLI and the server.
 *
 * @example
 * const a: ProbeAnswer = { dimension: 'style', top: [{ label: 'Ukiyo-e', p: 0.41 }] };
 */
export interface ProbeAnswer {
  dimension: string;
  /** Every label, most probable first (ties: label order). */
  top: { label: string; p: number }[];
}

/**
 * One method × prompt overlay of a painting.
 *
 * @example
 * const o: ReportOverlay = { method: 'rollout', prompt: 'a wave', score: 0.3, signed: false, src, min: 0, max: 1 };
 */
export interface ReportOverlay {
  method: string;
  prompt: string;
  score: number;
  signed: boolean;
  /** `data:image/jpeg;base64,…` of the overlay at report size. */
  src: string;
  /** Range of the map values (for the legend). */
  min: number;
  max: number;
}

/**
 * An expert region drawn over a painting.
 *
 * @example
 * const r: ReportRegion = { id: 'r1', label: 'wave', dimension: 'content', svg: '<rect …/>' };
 */
export interface ReportRegion {
  id: string;
  label: string;
  dimension: string;
  /** SVG shape markup in painting pixels (inside an `<svg viewBox="0 0 W H">`). */
  svg: string;
}

/**
 * Agreement of one region with one map.
 *
 * @example
 * const best = (ms: ReportMetric[]) => Math.max(...ms.map((m) => m.auroc));
 */
export interface ReportMetric {
  regionId: string;
  region: string;
  dimension: string;
  method: string;
  prompt: string;
  pointing: number;
  energy: number;
  auroc: number;
  iouTopK: number;
  /** Deletion / insertion of the map (the same for each region of the painting; absent when not computed). */
  deletion?: number;
  insertion?: number;
}

/**
 * Everything the report shows of one painting.
 *
 * @example
 * const n = (p: ReportPainting) => p.overlays.length; // methods × prompts
 */
export interface ReportPainting {
  file: string;
  title: string;
  /** Catalog fields shown under the title (artist, year, style, origin, …). */
  meta: Record<string, string>;
  width: number;
  height: number;
  /** The painting itself at report size (data: URI). */
  image: string;
  overlays: ReportOverlay[];
  regions: ReportRegion[];
  probes: ProbeAnswer[];
  metrics: ReportMetric[];
}

/**
 * A whole report.
 *
 * @example
 * const html = renderReportHtml(data satisfies ReportData);
 */
export interface ReportData {
  title: string;
  model: string;
  generated: string;
  view: string;
  methods: string[];
  prompts: string[];
  paintings: ReportPainting[];
  notes: string[];
}
