/**
 * `<ap-colorbar>`: the colour scale of one map — the gradient, tick numbers (d3 ticks over the coloured range)
 * and the unit of the method, with the range's ends; signed maps are symmetric around zero (red +, blue −).
 * When the range is clipped at a percentile, the bar says so (values above are shown at the top colour). The
 * transparency ramp shows as a checkered start: weak values are not drawn.
 *
 * @example
 * <ap-colorbar .domain=${[0, 0.8]} unit="relevance (a.u.)" scheme="inferno"></ap-colorbar>
 */
import { css, html, LitElement, nothing } from 'lit';
import { formatLegend, legendTicks } from '../report/legend.ts';
import { RAMP, type Scheme, schemeGradient } from './colormap.ts';

export class ApColorbar extends LitElement {
  static override properties = {
    domain: { attribute: false },
    signed: { type: Boolean },
    scheme: { type: String },
    unit: { type: String },
    clip: { type: Number },
    shared: { type: Boolean },
    threshold: { type: Number },
  };
  /** The value range coloured [lo, hi] (±m for signed maps), or undefined while no map is shown. */
  declare domain: [number, number] | undefined;
  declare signed: boolean;
  declare scheme: Scheme;
  declare unit: string;
  /** The percentile the range was clipped at (100: none). */
  declare clip: number;
  /** The domain is shared by a grid of maps. */
  declare shared: boolean;
  declare threshold: number;

  static override styles = css`
    :host { display: block; font-size: 12px; color: #333; min-width: 180px; max-width: 360px; }
    .bar { position: relative; height: 10px; border: 1px solid #777; }
    .ramp { position: absolute; left: 0; top: 0; bottom: 0;
      background: repeating-conic-gradient(#ddd 0 25%, #fff 0 50%) 0 0 / 6px 6px; border-right: 1px dashed #555; }
    .ticks { position: relative; height: 15px; margin: 0 2px; font-variant-numeric: tabular-nums; }
    .tick { position: absolute; top: 1px; transform: translateX(-50%); white-space: nowrap; }
    .tick::before { content: ''; position: absolute; left: 50%; top: -3px; height: 3px; border-left: 1px solid #555; }
    .unit { color: #444; }
  `;

  constructor() {
    super();
    this.signed = false;
    this.scheme = 'inferno';
    this.unit = '';
    this.clip = 100;
    this.shared = false;
    this.threshold = 0;
  }

  override render() {
    const d = this.domain;
    if (!d || !Number.isFinite(d[0]) || !Number.isFinite(d[1])) return nothing;
    const [lo, hi] = d;
    const span = hi - lo || 1;
    const ticks = legendTicks(lo, hi);
    // the part of the bar below the ramp's start (or the threshold) is not drawn over the painting
    const hidden = this.signed ? 0 : Math.max(RAMP.start, this.threshold);
    const label = `colour scale: ${formatLegend(lo)} to ${formatLegend(hi)} ${this.unit}${this.clip < 100 ? `, clipped at the ${this.clip}th percentile` : ''}${this.shared ? ', shared by the grid' : ''}`;
    return html`<div role="img" aria-label=${label} data-lo=${lo} data-hi=${hi}>
      <div class="bar" style="background:${schemeGradient(this.signed ? 'diverging' : this.scheme)}">
        ${hidden > 0 ? html`<span class="ramp" style="width:${(100 * hidden).toFixed(1)}%" title="not drawn: weak values leave the painting visible"></span>` : nothing}
      </div>
      <div class="ticks">${ticks.map(
        (t) =>
          html`<span class="tick" style="left:${(((t - lo) / span) * 100).toFixed(2)}%">${formatLegend(t)}</span>`,
      )}</div>
      <div class="unit">${this.unit}${this.signed ? ' · red +, blue −' : ''}${this.clip < 100 ? ` · clipped at p${this.clip}` : ''}${this.shared ? ' · shared scale' : ''}</div>
    </div>`;
  }
}

customElements.define('ap-colorbar', ApColorbar);

declare global {
  interface HTMLElementTagNameMap {
    'ap-colorbar': ApColorbar;
  }
}
