/**
 * `<ap-metrics-panel>`: agreement of maps with expert regions, one row per region × method × target (prompt, or
 * a zero-shot answer's label): pointing game, energy pointing game, AUROC, IoU@k. For each region and metric the
 * best value is bold only when one map alone reaches it (ties, such as every map at 0, mark nothing). The
 * header explains each metric; "CSV" downloads the rows (`ap-metrics-csv` carries the text).
 *
 * @example
 * <ap-metrics-panel .rows=${[{ region: 'Mount Fuji', method: 'chefer-all', prompt: 'a mountain', pointing: 1, ... }]}></ap-metrics-panel>
 */
import { css, html, LitElement, nothing } from 'lit';
import { type AgreementRow, agreementCsv, METRIC_INFO } from '../report/summary.ts';

export interface MetricsRowUi {
  regionId: string;
  region: string;
  dimension?: string | null;
  method: string;
  prompt: string;
  /** 'answer' for the map of a zero-shot answer (a label among labels). */
  kind?: 'prompt' | 'answer';
  pointing: number | null;
  energy: number | null;
  auroc: number | null;
  iouTopK: number | null;
}

const KEYS = ['pointing', 'energy', 'auroc', 'iouTopK'] as const;

/**
 * Keys `region|metric` whose best value is reached by exactly one row (and is above 0).
 *
 * @example
 * uniqueBest(rows).has('r1|auroc');
 */
export function uniqueBest(rows: MetricsRowUi[]): Map<string, MetricsRowUi> {
  const out = new Map<string, MetricsRowUi>();
  const byRegion = new Map<string, MetricsRowUi[]>();
  for (const r of rows) byRegion.set(r.regionId, [...(byRegion.get(r.regionId) ?? []), r]);
  for (const [id, list] of byRegion) {
    if (list.length < 2) continue;
    for (const k of KEYS) {
      const vals = list.filter((r) => r[k] != null);
      if (!vals.length) continue;
      const best = Math.max(...vals.map((r) => r[k] as number));
      const at = vals.filter((r) => r[k] === best);
      if (at.length === 1 && best > 0) out.set(`${id}|${k}`, at[0]);
    }
  }
  return out;
}

/**
 * A painting's metric rows as CSV, with the columns of the collection summary's CSV.
 *
 * @example
 * metricsCsv(rows, 'hokusai.jpg').split('\r\n')[0]; // 'painting,title,…'
 */
export function metricsCsv(rows: MetricsRowUi[], painting: string): string {
  const out: AgreementRow[] = rows.map((r) => ({
    painting,
    method: r.method,
    target: r.prompt,
    regionId: r.regionId,
    region: r.region,
    dimension: r.dimension ?? '',
    pointing: r.pointing,
    energy: r.energy,
    auroc: r.auroc,
    iouTopK: r.iouTopK,
  }));
  return agreementCsv(out);
}

export class ApMetricsPanel extends LitElement {
  static override properties = {
    rows: { attribute: false },
    selected: { type: String },
    painting: { type: String },
  };
  declare rows: MetricsRowUi[];
  declare selected: string;
  /** The painting's file name (CSV rows and file name). */
  declare painting: string;

  static override styles = css`
    :host { display: block; font-size: 13px; overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; }
    th, td { padding: 3px 6px; border-bottom: 1px solid #ddd; text-align: left; }
    th abbr { text-decoration: underline dotted; cursor: help; }
    td.n { text-align: right; font-variant-numeric: tabular-nums; }
    td.best { font-weight: 700; color: #0b4a8a; }
    tr.sel td { background: #fff4d6; }
    .empty, .note { color: #555; }
    .bar { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; }
    .bar b { font-size: 14px; }
    button { font: inherit; border: 1px solid #666; background: #fff; border-radius: 4px; padding: 1px 8px; cursor: pointer; }
    button:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    small { color: #555; }
  `;

  constructor() {
    super();
    this.rows = [];
    this.selected = '';
    this.painting = 'painting';
  }

  /** The rows as CSV (the summary's columns). */
  csv(): string {
    return metricsCsv(this.rows, this.painting);
  }

  override render() {
    if (!this.rows.length)
      return html`<p class="empty">Draw a region or import expert regions to see how the maps agree with them.</p>`;
    const best = uniqueBest(this.rows);
    return html`<div class="bar"><b>Agreement with regions</b>
        <button type="button" name="metrics-csv" @click=${() =>
          this.dispatchEvent(
            new CustomEvent('ap-metrics-csv', { detail: { csv: this.csv() }, bubbles: true, composed: true }),
          )}>CSV</button></div>
      <table>
      <thead><tr><th scope="col">region</th><th scope="col">method</th><th scope="col">target</th>${KEYS.map(
        (k) => html`<th scope="col"><abbr title=${METRIC_INFO[k].help}>${METRIC_INFO[k].name}</abbr></th>`,
      )}</tr></thead>
      <tbody>${this.rows.map(
        (
          r,
        ) => html`<tr class=${r.regionId === this.selected ? 'sel' : ''} data-region=${r.regionId} data-kind=${r.kind ?? 'prompt'}>
          <td>${r.region}${r.dimension ? html` <small>(${r.dimension})</small>` : ''}</td><td>${r.method}</td>
          <td>${r.kind === 'answer' ? html`<small>answer</small> ` : nothing}${r.prompt}</td>
          ${KEYS.map((k) => {
            const v = r[k];
            const isBest = best.get(`${r.regionId}|${k}`) === r;
            return html`<td class="n ${isBest ? 'best' : ''}" data-metric=${k}>${v == null ? '–' : k === 'pointing' ? v.toFixed(0) : v.toFixed(2)}</td>`;
          })}</tr>`,
      )}</tbody></table>
      <p class="note">Bold: the one map that agrees best with that region (ties mark nothing). Faithfulness (deletion / insertion) is computed for batches: see a batch's summary.</p>`;
  }
}

customElements.define('ap-metrics-panel', ApMetricsPanel);
