/**
 * `<ap-summary-view>`: the answer across a collection. For one batch: agreement of each method's maps with the
 * expert regions — pointing game, energy, AUROC, IoU@k — and the faithfulness of the maps themselves — deletion /
 * insertion (the model re-scores the painting as the map's strongest pixels are removed or put back) — as the mean over
 * every region × target (what `artprobe regions score` prints) with the spread across paintings (each
 * painting's mean first: standard deviation, quartiles), for all regions or one dimension (content, scene,
 * style, period, artifact). A strip plot (d3 scales) shows every painting's mean per method, and a small-multiples
 * view lists the paintings where the chosen method agrees least with the experts, with the map and the regions.
 * CSV of every row, and the scored maps as an `artprobe explain` folder, are one click away. While scores are
 * still being computed the view says how far it is and refreshes itself.
 * `ap-summary-state` {metric?, dimension?, method?} reports choices for the URL; `ap-open` {id, method, target}
 * opens a painting.
 *
 * @example
 * <ap-summary-view .api=${api} batch=${id} metric="auroc" dimension="" method=""></ap-summary-view>
 */
import { scaleLinear } from 'd3';
import { css, html, LitElement, nothing, type PropertyValues, svg } from 'lit';
import { formatLegend, methodInfo } from '../report/legend.ts';
import {
  type AgreementMetric,
  type AgreementRow,
  disagreements,
  METRIC_INFO,
  type MethodSummary,
  summarizeAgreement,
} from '../report/summary.ts';
import './ap-heatmap.ts';
import type { UiRegion } from './ap-heatmap.ts';
import type { Api, Batch, BatchSummary, Painting } from './api.ts';
import { paintingRegions } from './report-export.ts';
import { RANK_METRICS as URL_RANK_METRICS } from './state.ts';

/** Metrics the tables show, in order (deletion / insertion: '–' while computing or when not asked for). */
export const SUMMARY_METRICS: AgreementMetric[] = [
  'pointing',
  'energy',
  'auroc',
  'iouTopK',
  'deletion',
  'insertion',
];
/** Metrics the strip plot and the least-agreement ranking can use (deletion: highest first, lower is better). */
const RANK_METRICS: readonly AgreementMetric[] = URL_RANK_METRICS;

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');

interface Card {
  key: string;
  painting: Painting | undefined;
  map?: Float32Array;
  signed?: boolean;
  regions: UiRegion[];
}

export class ApSummaryView extends LitElement {
  static override properties = {
    api: { attribute: false },
    batch: { type: String },
    metric: { type: String },
    dimension: { type: String },
    method: { type: String },
    info: { state: true },
    data: { state: true },
    error: { state: true },
    cards: { state: true },
  };
  declare api: Api | undefined;
  /** Batch id. */
  declare batch: string;
  declare metric: AgreementMetric;
  /** '' for every dimension. */
  declare dimension: string;
  /** The method of the disagreement view ('' = the first). */
  declare method: string;
  declare info: Batch | undefined;
  declare data: BatchSummary | undefined;
  declare error: string;
  declare cards: Map<string, Card>;
  private timer?: ReturnType<typeof setTimeout>;
  private paintings = new Map<string, Painting>();

  static override styles = css`
    :host { display: block; font-size: 14px; }
    h2 { margin: 0 0 2px; font-size: 20px; }
    .sub { color: #444; margin: 0 0 8px; font-size: 13px; }
    .bar { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin: 8px 0; }
    .tabs { display: flex; flex-wrap: wrap; gap: 4px; }
    .tabs button, button { font: inherit; border: 1px solid #0b5cad; background: #fff; color: #0b5cad; border-radius: 4px; padding: 2px 10px; cursor: pointer; }
    .tabs button[aria-pressed='true'] { background: #0b5cad; color: #fff; }
    button:focus-visible, select:focus-visible, a:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    select { font: inherit; }
    a.dl { color: #0b5cad; }
    table { border-collapse: collapse; font-size: 13px; margin: 4px 0 10px; }
    th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; }
    td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    td.n small { color: #555; }
    th abbr { text-decoration: underline dotted; cursor: help; }
    .computing { color: #0b4a8a; }
    .notes { color: #555; font-size: 12px; }
    .cols { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; align-items: start; }
    @media (max-width: 1100px) { .cols { grid-template-columns: 1fr; } }
    svg.strip { width: 100%; max-width: 620px; height: auto; font-size: 11px; }
    svg.strip .dot { fill: #0b5cad; fill-opacity: .55; stroke: #fff; stroke-width: .8; cursor: pointer; }
    svg.strip .dot:hover { fill: #b35c00; fill-opacity: 1; }
    svg.strip .box { fill: #0b5cad; fill-opacity: .1; stroke: #0b5cad; }
    svg.strip .mean { stroke: #b35c00; stroke-width: 2; }
    svg.strip .axis line, svg.strip .axis path { stroke: #999; }
    .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; }
    .card { border: 1px solid #ddd; background: #fff; border-radius: 4px; overflow: hidden; font-size: 12px; }
    .card .pic { background: #1b1b1b; display: flex; justify-content: center; }
    .card ap-heatmap { width: 100%; }
    .card a { color: inherit; text-decoration: none; display: block; }
    .card .cap { padding: 4px 6px; }
    .card .v { font-weight: 700; color: #8a1c1c; }
    h3 { font-size: 15px; margin: 12px 0 4px; }
  `;

  constructor() {
    super();
    this.batch = '';
    this.metric = 'auroc';
    this.dimension = '';
    this.method = '';
    this.error = '';
    this.cards = new Map();
  }

  override disconnectedCallback(): void {
    clearTimeout(this.timer);
    super.disconnectedCallback();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has('batch') || changed.has('api')) && this.api && this.batch) {
      this.data = undefined;
      this.info = undefined;
      this.cards = new Map();
      void this.load();
    }
  }

  private emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  /** Loads the batch and its summary; polls while either is still moving. */
  private async load(): Promise<void> {
    clearTimeout(this.timer);
    const api = this.api;
    if (!api) return;
    try {
      const [info, data] = await Promise.all([api.batch(this.batch), api.batchSummary(this.batch)]);
      if (!this.paintings.size) for (const p of await api.paintings()) this.paintings.set(p.id, p);
      this.info = info;
      this.data = data;
      this.error = '';
      if ((data.state === 'computing' || info.state === 'running') && this.isConnected)
        this.timer = setTimeout(() => void this.load(), 1000);
    } catch (e) {
      this.error = `Cannot load the summary: ${(e as Error).message}`;
    }
  }

  private rows(): AgreementRow[] {
    const rows = (this.data?.rows ?? []) as AgreementRow[];
    return this.dimension ? rows.filter((r) => (r.dimension || '(none)') === this.dimension) : rows;
  }

  private renderTable(list: MethodSummary[], metrics: AgreementMetric[]) {
    return html`<table data-dimension=${this.dimension || 'all'}>
      <thead><tr><th scope="col">method</th><th scope="col"><abbr title="region × target rows">rows</abbr></th><th scope="col">paintings</th>
        ${metrics.map((k) => html`<th scope="col"><abbr title=${`${METRIC_INFO[k].help}. Mean over rows ± standard deviation across paintings.`}>${METRIC_INFO[k].name}</abbr></th>`)}</tr></thead>
      <tbody>${list.map(
        (
          s,
        ) => html`<tr data-method=${s.method}><th scope="row" title=${methodInfo(s.method).note}>${s.method}</th><td class="n">${s.n}</td><td class="n">${s.paintings}</td>
          ${metrics.map((k) => {
            const m = s.mean[k];
            const sp = s.spread[k];
            return html`<td class="n" data-metric=${k} data-mean=${Number.isFinite(m) ? String(m) : ''}
              title=${Number.isFinite(m) ? `mean over ${s.n} rows ${m.toFixed(4)}; across ${sp.n} paintings: mean ${f2(sp.mean)}, sd ${f2(sp.sd)}, median ${f2(sp.median)}, quartiles ${f2(sp.q1)}–${f2(sp.q3)}, range ${f2(sp.min)}–${f2(sp.max)}` : 'not computed'}>
              ${f2(m)}${Number.isFinite(sp.sd) ? html` <small>± ${f2(sp.sd)}</small>` : nothing}</td>`;
          })}</tr>`,
      )}</tbody></table>`;
  }

  /** Every painting's mean of the metric per method, with the quartile box and the mean. */
  private renderStrip(rows: AgreementRow[], list: MethodSummary[]) {
    const k = this.metric;
    const W = 520;
    const rowH = 34;
    const left = 100;
    const H = list.length * rowH + 28;
    const values = list.flatMap((s) => {
      const by = new Map<string, number[]>();
      for (const r of rows.filter((x) => x.method === s.method)) {
        const v = r[k];
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        const id = r.paintingId ?? r.painting;
        by.set(id, [...(by.get(id) ?? []), v]);
      }
      return [...by].map(([id, vs]) => ({
        method: s.method,
        id,
        v: vs.reduce((a, b) => a + b, 0) / vs.length,
      }));
    });
    const lo = Math.min(0, ...values.map((d) => d.v));
    const hi = Math.max(1, ...values.map((d) => d.v));
    const x = scaleLinear()
      .domain([lo, hi])
      .range([left, W - 12])
      .nice();
    const ticks = x.ticks(5);
    const jitter = (id: string) => ((([...id].reduce((a, c) => a + c.charCodeAt(0), 0) % 13) - 6) / 6) * 7;
    return svg`<svg class="strip" viewBox="0 0 ${W} ${H}" role="img" aria-label=${`${METRIC_INFO[k].name} of each painting, per method`}>
      <g class="axis">${ticks.map(
        (t) =>
          svg`<line x1=${x(t)} x2=${x(t)} y1="4" y2=${H - 20} stroke-dasharray="2 3"></line><text x=${x(t)} y=${H - 6} text-anchor="middle">${formatLegend(t)}</text>`,
      )}</g>
      ${list.map((s, i) => {
        const y = 16 + i * rowH;
        const sp = s.spread[k];
        return svg`<g data-method=${s.method}><text x="4" y=${y + 4}>${s.method}</text>
          ${Number.isFinite(sp.q1) ? svg`<rect class="box" x=${x(sp.q1)} y=${y - 9} width=${Math.max(1, x(sp.q3) - x(sp.q1))} height="18"></rect>` : nothing}
          ${Number.isFinite(sp.mean) ? svg`<line class="mean" x1=${x(sp.mean)} x2=${x(sp.mean)} y1=${y - 12} y2=${y + 12}></line>` : nothing}
          ${values
            .filter((d) => d.method === s.method)
            .map((d) => {
              const p = this.paintings.get(d.id);
              return svg`<circle class="dot" cx=${x(d.v)} cy=${y + jitter(d.id)} r="4" data-painting=${d.id}
                @click=${() => this.emit('ap-open', { id: d.id, method: s.method })}><title>${(p?.metadata?.title as string) ?? p?.name ?? d.id}: ${f2(d.v)}</title></circle>`;
            })}</g>`;
      })}</svg>`;
  }

  private async loadCard(key: string, d: { paintingId?: string; jobId?: string }): Promise<void> {
    if (!this.api || this.cards.has(key) || !d.paintingId) return;
    const painting = this.paintings.get(d.paintingId);
    this.cards = new Map(this.cards).set(key, { key, painting, regions: [] });
    try {
      const [map, job, regions] = await Promise.all([
        d.jobId ? this.api.paintingMap(d.jobId) : Promise.resolve(undefined),
        d.jobId ? this.api.job(d.jobId) : Promise.resolve(undefined),
        painting ? paintingRegions(this.api, painting) : Promise.resolve([]),
      ]);
      const filtered = this.dimension
        ? regions.filter((r) => (r.dimension || '(none)') === this.dimension)
        : regions;
      this.cards = new Map(this.cards).set(key, {
        key,
        painting,
        map: map?.data,
        signed: !!job?.result?.signed,
        regions: filtered.map((r) => ({ ...r, locked: false })),
      });
    } catch {
      /* the card stays without a map */
    }
  }

  private renderWorst(rows: AgreementRow[], methods: string[]) {
    const method = methods.includes(this.method) ? this.method : methods[0];
    if (!method) return nothing;
    const worst = disagreements(rows, method, this.metric).slice(0, 9);
    // deletion / insertion belong to a map, not to a region
    const faithful = this.metric === 'deletion' || this.metric === 'insertion';
    for (const d of worst) void this.loadCard(`${d.paintingId}|${method}|${d.target}|${this.dimension}`, d);
    return html`<div class="bar"><label>Method <select name="worst-method" @change=${(e: Event) => this.emit('ap-summary-state', { method: (e.target as HTMLSelectElement).value })}>
        ${methods.map((m) => html`<option ?selected=${m === method}>${m}</option>`)}</select></label>
      <span class="notes">${
        this.metric === 'deletion' || this.metric === 'insertion'
          ? `${METRIC_INFO[this.metric].name}, ${METRIC_INFO[this.metric].higherIsBetter ? 'lowest' : 'highest'} first: where ${method}'s map is least faithful to the model`
          : `${METRIC_INFO[this.metric].name}, lowest first: where ${method} and the experts disagree most`
      }</span></div>
      <div class="cards" data-method=${method}>${worst.map((d) => {
        const c = this.cards.get(`${d.paintingId}|${method}|${d.target}|${this.dimension}`);
        const p = c?.painting;
        return html`<div class="card" data-painting=${d.paintingId ?? ''} data-value=${d.value}>
          <a href=${`#/painting/${d.paintingId}?methods=${method}&prompts=${encodeURIComponent(d.target)}`}
            @click=${(e: Event) => {
              e.preventDefault();
              this.emit('ap-open', { id: d.paintingId, method, target: d.target });
            }}>
            ${
              p
                ? html`<div class="pic"><ap-heatmap style=${`max-width:${Math.round(130 * (p.width / p.height))}px`} .src=${this.api?.imageUrl(p.id) ?? ''} .width=${p.width} .height=${p.height} .map=${c?.map}
                    .regions=${c?.regions ?? []} ?signed=${!!c?.signed} .showLabels=${false} label=${`${method} map of ${d.title ?? d.painting} for ${d.target}`}></ap-heatmap></div>`
                : nothing
            }
            <div class="cap"><b>${d.title ?? d.painting}</b><br /><span class="v">${METRIC_INFO[this.metric].name} ${f2(d.value)}</span> ${faithful ? `of ${d.targets} map(s)` : `over ${d.regions} region(s)`}${d.targets > 1 ? html`${faithful ? '' : ` × ${d.targets} targets`}; shown: “${d.target}” (${f2(d.targetValue)})` : html`, “${d.target}”`}</div></a></div>`;
      })}</div>`;
  }

  /** Why deletion / insertion are missing or partial (off, paused with the batch, no model, failures). */
  private renderFaithfulnessState(data: BatchSummary) {
    const f = data.faithfulness;
    const text =
      f.state === 'off'
        ? 'Deletion / insertion were not asked for this batch.'
        : f.state === 'paused'
          ? `Deletion / insertion paused with the batch (${f.done} of ${f.total} maps): Resume it to compute the rest.`
          : f.state === 'unavailable'
            ? `Deletion / insertion need the model: ${f.done} of ${f.total} maps so far.`
            : f.failed
              ? `Deletion / insertion failed for ${f.failed} map(s) (see the notes).`
              : '';
    return text ? html`<p class="notes" data-faithfulness=${f.state}>${text}</p>` : nothing;
  }

  override render() {
    if (this.error) return html`<p role="alert">${this.error}</p>`;
    const b = this.info;
    const data = this.data;
    if (!b || !data) return html`<p role="status">Loading the summary…</p>`;
    const all = (data.rows ?? []) as AgreementRow[];
    const dims = [...new Set(all.map((r) => r.dimension || '(none)'))];
    const order = ['content', 'scene', 'style', 'period', 'artifact'];
    dims.sort((a, c) => (order.indexOf(a) + 1 || 99) - (order.indexOf(c) + 1 || 99));
    const rows = this.rows();
    const summary = summarizeAgreement(rows);
    const metrics = SUMMARY_METRICS.filter(
      (k) => summary.metrics.includes(k) || k === 'deletion' || k === 'insertion',
    );
    const methods = summary.byMethod.map((s) => s.method);
    return html`
      <h2>Summary: ${b.name}</h2>
      <p class="sub">${b.paintings} paintings · methods ${b.methods.join(', ')} · ${b.total} maps (${b.counts.done} done${b.counts.failed ? `, ${b.counts.failed} failed` : ''}${b.counts.cancelled ? `, ${b.counts.cancelled} cancelled` : ''}) · view ${b.view} ·
        scored at ${data.metricSide ? `${data.metricSide} px (reduced)` : 'painting pixels (as artprobe regions score)'}, pointing tolerance ${data.tolerance} px${data.faithfulness.steps ? ` · deletion / insertion in ${data.faithfulness.steps} steps` : ''}</p>
      ${
        data.state === 'computing' || data.pending
          ? html`<p class="computing" role="status">${data.pending ? `${data.pending} map(s) still being computed; ` : ''}${data.state === 'computing' ? `scoring maps against the regions: ${data.scored} of ${data.maps} maps${data.faithfulness.state === 'computing' ? `; deletion / insertion: ${data.faithfulness.done} of ${data.faithfulness.total} maps` : ''}…` : ''}</p>`
          : nothing
      }
      ${this.renderFaithfulnessState(data)}
      <div class="bar">
        <div class="tabs" role="group" aria-label="dimension">
          ${['', ...dims].map(
            (
              d,
            ) => html`<button type="button" name="dim" data-dim=${d || 'all'} aria-pressed=${this.dimension === d}
              @click=${() => this.emit('ap-summary-state', { dimension: d })}>${d || 'all regions'}</button>`,
          )}
        </div>
        <label>Metric <select name="metric" @change=${(e: Event) => this.emit('ap-summary-state', { metric: (e.target as HTMLSelectElement).value })}>
          ${RANK_METRICS.map((k) => html`<option value=${k} ?selected=${k === this.metric}>${METRIC_INFO[k].name}</option>`)}</select></label>
        <a class="dl" name="summary-csv" download href=${this.api?.batchCsvUrl(b.id) ?? ''}>CSV (every row)</a>
        <a class="dl" name="summary-maps" download href=${this.api?.batchMapsUrl(b.id) ?? ''}
          title="the scored maps and regions as an artprobe explain folder: artprobe regions score --explanations . --annotations annotations.jsonld">maps for regions score (.zip)</a>
      </div>
      ${rows.length ? this.renderTable(summary.byMethod, metrics) : html`<p>No scored rows${this.dimension ? ` for ${this.dimension}` : ''} yet.</p>`}
      ${
        rows.length
          ? html`<div class="cols"><div><h3>${METRIC_INFO[this.metric].name} of each painting</h3>${this.renderStrip(rows, summary.byMethod)}
              <p class="notes">Dots: one painting each (mean over its regions and targets). Box: quartiles across paintings; orange line: their mean.</p></div>
              <div><h3>${this.metric === 'deletion' || this.metric === 'insertion' ? 'Least faithful maps' : 'Least agreement'}</h3>${this.renderWorst(rows, methods)}</div></div>`
          : nothing
      }
      <p class="notes">${[...data.notes, ...b.notes].map((n) => html`${n}<br />`)}</p>`;
  }
}

customElements.define('ap-summary-view', ApSummaryView);
