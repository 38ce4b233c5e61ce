/**
 * `<ap-metrics-panel>`: agreement of maps with expert regions, one row per region × method × prompt (pointing
 * game, energy pointing game, AUROC, IoU@k), with the best value per region highlighted.
 *
 * @example
 * <ap-metrics-panel .rows=${[{ region: 'Mount Fuji', method: 'chefer-all', prompt: 'a mountain', pointing: 1, ... }]}></ap-metrics-panel>
 */
import { css, html, LitElement } from 'lit';

export interface MetricsRowUi {
  regionId: string;
  region: string;
  dimension?: string | null;
  method: string;
  prompt: string;
  pointing: number | null;
  energy: number | null;
  auroc: number | null;
  iouTopK: number | null;
}

const KEYS = ['pointing', 'energy', 'auroc', 'iouTopK'] as const;
const NAMES = { pointing: 'pointing', energy: 'energy', auroc: 'AUROC', iouTopK: 'IoU@k' };

export class ApMetricsPanel extends LitElement {
  static override properties = { rows: { attribute: false }, selected: { type: String } };
  declare rows: MetricsRowUi[];
  declare selected: string;

  static override styles = css`
    :host { display: block; font-size: 13px; overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; }
    th, td { padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: left; }
    td.n { text-align: right; font-variant-numeric: tabular-nums; }
    td.best { font-weight: 700; color: #0b4a8a; }
    tr.sel td { background: #fff4d6; }
    .empty { color: #555; }
  `;

  constructor() {
    super();
    this.rows = [];
    this.selected = '';
  }

  override render() {
    if (!this.rows.length)
      return html`<p class="empty">Draw a region or load annotations to see how the maps agree with it.</p>`;
    const best = new Map<string, number>();
    for (const r of this.rows)
      for (const k of KEYS) {
        const v = r[k];
        if (v != null)
          best.set(`${r.regionId}|${k}`, Math.max(best.get(`${r.regionId}|${k}`) ?? -Infinity, v));
      }
    return html`<table>
      <caption style="text-align:left;font-weight:600;padding:4px 0">Agreement with regions</caption>
      <thead><tr><th scope="col">region</th><th scope="col">method</th><th scope="col">prompt</th>${KEYS.map((k) => html`<th scope="col">${NAMES[k]}</th>`)}</tr></thead>
      <tbody>${this.rows.map(
        (r) => html`<tr class=${r.regionId === this.selected ? 'sel' : ''} data-region=${r.regionId}>
          <td>${r.region}${r.dimension ? html` <small>(${r.dimension})</small>` : ''}</td><td>${r.method}</td><td>${r.prompt}</td>
          ${KEYS.map((k) => {
            const v = r[k];
            const isBest =
              v != null &&
              v === best.get(`${r.regionId}|${k}`) &&
              this.rows.filter((q) => q.regionId === r.regionId).length > 1;
            return html`<td class="n ${isBest ? 'best' : ''}" data-metric=${k}>${v == null ? '–' : k === 'pointing' ? v.toFixed(0) : v.toFixed(2)}</td>`;
          })}</tr>`,
      )}</tbody></table>`;
  }
}

customElements.define('ap-metrics-panel', ApMetricsPanel);
