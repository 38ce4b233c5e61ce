/**
 * `<ap-head-roles>`: the head-role table of a TextSpan run over a set of paintings: per head (layer, head) the
 * share of the embedding's variance between paintings it carries (a bar on a d3 scale, with its number), how
 * much of its own variance its descriptions explain, and the descriptions in the order TextSpan picked them,
 * each with the cumulative share explained and its category. Sorted by layer and head, or by variance share.
 * A head's button fires `ap-head-select` {layer, head} (the diagnostics panel shows its map on the painting).
 *
 * @example
 * <ap-head-roles .heads=${task.headRoles.heads} .selected=${{ layer: 3, head: 1 }}
 *   @ap-head-select=${(e) => show(e.detail)}></ap-head-roles>
 */
import { scaleLinear } from 'd3';
import { css, html, LitElement, nothing } from 'lit';
import type { HeadSelection } from './ap-head-grid.ts';
import type { HeadRolesResult } from './api.ts';

type HeadRole = HeadRolesResult['heads'][number];

const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;

export class ApHeadRoles extends LitElement {
  static override properties = {
    heads: { attribute: false },
    selected: { attribute: false },
    sort: { type: String },
  };
  declare heads: HeadRole[];
  declare selected: HeadSelection | undefined;
  /** `layer` (layer, then head) or `share` (variance share, largest first). */
  declare sort: 'layer' | 'share';

  static override styles = css`
    :host { display: block; font-size: 13px; color: #222; }
    .bar-row { display: flex; gap: 8px; align-items: center; margin: 2px 0 6px; }
    table { border-collapse: collapse; width: 100%; }
    th, td { border-bottom: 1px solid #e2e2e2; padding: 3px 6px; text-align: left; vertical-align: top; }
    th { font-weight: 600; color: #333; background: #f4f4f2; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    .share { display: flex; align-items: center; gap: 4px; }
    .share i { display: inline-block; height: 8px; background: #0b5cad; }
    ol { margin: 0; padding-left: 1.3em; }
    li small { color: #4a4a4a; }
    .cat { display: inline-block; font-size: 11px; color: #333; background: #eef3fa; border: 1px solid #b9cbe6; border-radius: 8px; padding: 0 5px; margin-left: 3px; }
    button { font: inherit; border: 1px solid #666; background: #ffffff; color: #111111; border-radius: 4px; padding: 1px 6px; cursor: pointer; white-space: nowrap; }
    button[aria-pressed='true'] { background: #0b5cad; border-color: #0b5cad; color: #ffffff; }
    button:focus-visible, select:focus-visible { outline: 3px solid #b35c00; outline-offset: 1px; }
    select { font: inherit; }
  `;

  constructor() {
    super();
    this.heads = [];
    this.sort = 'layer';
  }

  private rows(): HeadRole[] {
    const r = [...this.heads];
    return this.sort === 'share'
      ? r.sort((a, b) => b.varianceShare - a.varianceShare)
      : r.sort((a, b) => a.layer - b.layer || a.head - b.head);
  }

  override render() {
    if (!this.heads.length) return nothing;
    const max = Math.max(1e-12, ...this.heads.map((h) => h.varianceShare));
    const w = scaleLinear().domain([0, max]).range([0, 60]);
    return html`<div class="bar-row"><label>Sort by <select name="roles-sort" @change=${(e: Event) => (this.sort = (e.target as HTMLSelectElement).value as 'layer' | 'share')}>
        <option value="layer" ?selected=${this.sort === 'layer'}>layer and head</option>
        <option value="share" ?selected=${this.sort === 'share'}>variance share</option></select></label></div>
      <table aria-label="head roles: what each head's direct contribution varies with across the paintings">
        <thead><tr><th scope="col">head</th><th scope="col" title="the head's output variance over the paintings, relative to the embedding's">variance share</th>
          <th scope="col" title="share of the head's variance its descriptions explain">explained</th><th scope="col">descriptions (cumulative share explained)</th></tr></thead>
        <tbody>${this.rows().map(
          (h) => html`<tr data-layer=${h.layer} data-head=${h.head}>
            <td><button type="button" name="role-head" aria-pressed=${this.selected?.layer === h.layer && this.selected?.head === h.head}
              aria-label=${`show layer ${h.layer}, head ${h.head} on the painting`}
              @click=${() => this.dispatchEvent(new CustomEvent('ap-head-select', { detail: { layer: h.layer, head: h.head }, bubbles: true, composed: true }))}>L${h.layer} H${h.head}</button></td>
            <td class="num"><span class="share"><i style="width:${w(h.varianceShare).toFixed(1)}px"></i>${pct(h.varianceShare)}</span></td>
            <td class="num">${pct(h.explained)}</td>
            <td><ol>${h.descriptions.map(
              (d) =>
                html`<li>${d.text} <small>(${pct(d.varianceExplained)})</small><span class="cat">${d.category}</span></li>`,
            )}</ol></td></tr>`,
        )}</tbody></table>`;
  }
}

customElements.define('ap-head-roles', ApHeadRoles);

declare global {
  interface HTMLElementTagNameMap {
    'ap-head-roles': ApHeadRoles;
  }
}
