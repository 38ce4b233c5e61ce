/**
 * `<ap-head-grid>`: a decomposition's head scores as a layer × head grid, each cell coloured by its score on a
 * diverging scale symmetric around zero (red +, blue −; d3 scale onto the same RdBu colours as the map overlays)
 * with its number written in black or white, whichever reads better, and a colour bar with numbers. Each cell is
 * a button (arrow keys move between cells): clicking one fires `ap-head-select` {layer, head}; a layer's Σ
 * fires {layer, head: 'all'} and the total {layer: 'all', head: 'all'}. The MLP and the layer sums are shown
 * beside each layer's row (the MLPs have no map: they act on the class token only).
 *
 * @example
 * <ap-head-grid .scores=${d.directions[0].heads} .mlp=${d.directions[0].mlp} label="a red circle"
 *   .selected=${{ layer: 3, head: 1 }} @ap-head-select=${(e) => show(e.detail)}></ap-head-grid>
 */
import { color, scaleLinear } from 'd3';
import { css, html, LitElement, nothing } from 'lit';
import { formatLegend, SCHEMES } from '../report/legend.ts';
import './ap-colorbar.ts';
import { type Pick, textOn } from './decompose-maps.ts';

export interface HeadSelection {
  layer: Pick;
  head: Pick;
}

/** A score in at most 3 significant digits, short enough for a cell. */
const short = (v: number) => formatLegend(Number(v.toPrecision(2)));

export class ApHeadGrid extends LitElement {
  static override properties = {
    scores: { attribute: false },
    mlp: { attribute: false },
    selected: { attribute: false },
    label: { type: String },
  };
  /** [layer][head] scores. */
  declare scores: number[][];
  /** [layer] MLP scores (optional column). */
  declare mlp: number[] | undefined;
  declare selected: HeadSelection | undefined;
  /** What the scores are of (the direction), for the accessible name. */
  declare label: string;

  static override styles = css`
    :host { display: block; font-size: 12px; color: #222; }
    table { border-collapse: separate; border-spacing: 2px; font-variant-numeric: tabular-nums; }
    th { font-weight: 600; color: #333; padding: 0 3px; text-align: center; white-space: nowrap; }
    th[scope='row'] { text-align: right; }
    td { padding: 0; }
    button { font: inherit; cursor: pointer; border-radius: 3px; }
    button.cell { width: 100%; min-width: 38px; height: 26px; border: 2px solid transparent; padding: 0 2px; }
    button.cell[aria-pressed='true'] { border-color: #111111; box-shadow: 0 0 0 2px #ffffff inset; }
    button.sum, button.total { border: 1px solid #666; background: #ffffff; color: #111111; min-width: 44px; height: 26px; padding: 0 4px; }
    button.sum[aria-pressed='true'], button.total[aria-pressed='true'] { background: #0b5cad; border-color: #0b5cad; color: #ffffff; }
    button:focus-visible { outline: 3px solid #b35c00; outline-offset: 1px; }
    td.mlp { color: #333; padding: 0 4px; text-align: right; }
    .sep { border-left: 1px solid #bbb; }
    .legend { margin-top: 6px; max-width: 320px; }
  `;

  constructor() {
    super();
    this.scores = [];
    this.label = '';
  }

  /** The colour range: ±max |score| of the heads. */
  domain(): [number, number] {
    const m = Math.max(1e-12, ...this.scores.flat().map((v) => Math.abs(v)));
    return [-m, m];
  }

  private emit(layer: Pick, head: Pick): void {
    this.selected = { layer, head };
    this.dispatchEvent(
      new CustomEvent('ap-head-select', { detail: { layer, head }, bubbles: true, composed: true }),
    );
  }

  /** Arrow keys move the focus between head cells. */
  private onKey = (e: KeyboardEvent) => {
    const b = e.composedPath()[0] as HTMLElement;
    if (!b?.classList?.contains('cell')) return;
    const l = Number(b.dataset.layer);
    const h = Number(b.dataset.head);
    const d = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] }[e.key];
    if (!d) return;
    e.preventDefault();
    const L = this.scores.length;
    const H = this.scores[0]?.length ?? 0;
    const nl = Math.min(L - 1, Math.max(0, l + d[0]));
    const nh = Math.min(H - 1, Math.max(0, h + d[1]));
    (
      this.renderRoot.querySelector(
        `button.cell[data-layer="${nl}"][data-head="${nh}"]`,
      ) as HTMLElement | null
    )?.focus();
  };

  override render() {
    const L = this.scores.length;
    if (!L) return nothing;
    const H = this.scores[0].length;
    const [lo, hi] = this.domain();
    const t = scaleLinear().domain([lo, hi]).range([0, 1]).clamp(true);
    const sel = this.selected;
    const is = (l: Pick, h: Pick) => sel?.layer === l && sel?.head === h;
    const total = this.scores.flat().reduce((a, b) => a + b, 0);
    return html`<table role="grid" aria-label=${`head scores by layer and head${this.label ? ` on “${this.label}”` : ''}`} @keydown=${this.onKey}>
        <thead><tr><th scope="col">layer</th>${Array.from({ length: H }, (_, h) => html`<th scope="col">H${h}</th>`)}<th scope="col" class="sep" title="the layer's heads summed">Σ heads</th>${
          this.mlp
            ? html`<th scope="col" title="the layer's MLP (no map: it acts on the class token only)">MLP</th>`
            : nothing
        }</tr></thead>
        <tbody>${this.scores.map((row, l) => {
          const sum = row.reduce((a, b) => a + b, 0);
          return html`<tr><th scope="row">L${l}</th>${row.map((v, h) => {
            const bg = color(SCHEMES.diverging(t(v)))?.rgb() ?? { r: 255, g: 255, b: 255 };
            return html`<td><button type="button" class="cell" data-layer=${l} data-head=${h} aria-pressed=${is(l, h)}
              aria-label=${`layer ${l}, head ${h}: score ${formatLegend(v)}`} title=${`L${l} H${h}: ${v}`}
              style="background:rgb(${bg.r},${bg.g},${bg.b});color:${textOn(bg)}" @click=${() => this.emit(l, h)}>${short(v)}</button></td>`;
          })}<td class="sep"><button type="button" class="sum" data-layer=${l} data-head="all" aria-pressed=${is(l, 'all')}
              aria-label=${`layer ${l}, all heads: score ${formatLegend(sum)}`} @click=${() => this.emit(l, 'all')}>${short(sum)}</button></td>${
                this.mlp ? html`<td class="mlp" title="MLP score">${short(this.mlp[l] ?? 0)}</td>` : nothing
              }</tr>`;
        })}
        <tr><th scope="row">all</th><td colspan=${H}><button type="button" class="total" data-layer="all" data-head="all" aria-pressed=${is('all', 'all')}
          aria-label=${`all heads of all layers: score ${formatLegend(total)}`} @click=${() => this.emit('all', 'all')}>all heads of all layers: ${short(total)}</button></td></tr>
        </tbody></table>
      <div class="legend"><ap-colorbar .domain=${[lo, hi]} signed unit="head score ⟨contribution, direction⟩"></ap-colorbar></div>`;
  }
}

customElements.define('ap-head-grid', ApHeadGrid);

declare global {
  interface HTMLElementTagNameMap {
    'ap-head-grid': ApHeadGrid;
  }
}
