/**
 * `<ap-probe-panel>`: CLIP's zero-shot answers per dimension (style, century, …) as labelled probability bars
 * (d3 linear scale). Each answer is a button: clicking it fires `ap-probe-select` {dimension, label, labels}
 * so the painting view can show the heatmap of that label within its label set.
 *
 * @example
 * <ap-probe-panel .answers=${[{ dimension: 'style', top: [{ label: 'Ukiyo-e', p: 0.4 }, ...] }]}></ap-probe-panel>
 */
import { scaleLinear } from 'd3';
import { css, html, LitElement, nothing } from 'lit';

export interface ProbeAnswerUi {
  dimension: string;
  top: { label: string; p: number }[];
  /** Prompt text per label (what the map of a label explains). */
  prompts?: Record<string, string>;
}

export class ApProbePanel extends LitElement {
  static override properties = {
    answers: { attribute: false },
    selected: { type: String },
    busy: { type: Boolean },
    limit: { type: Number },
  };
  declare answers: ProbeAnswerUi[];
  /** `dimension/label` of the answer whose map is shown. */
  declare selected: string;
  declare busy: boolean;
  declare limit: number;

  static override styles = css`
    :host { display: block; font-size: 14px; }
    h3 { font-size: 14px; margin: 10px 0 4px; text-transform: capitalize; }
    button { display: grid; grid-template-columns: minmax(0, 10em) 1fr 3.6em; gap: 8px; align-items: center; width: 100%;
      font: inherit; text-align: left; background: none; border: 1px solid transparent; border-radius: 3px; padding: 2px 4px; cursor: pointer; color: inherit; }
    button:hover { background: #eef3fa; }
    button[aria-pressed='true'] { border-color: #0b5cad; background: #e6eefb; }
    button:focus-visible { outline: 3px solid #ffbf47; }
    .track { height: 10px; background: #e2e2e2; }
    .fill { height: 100%; background: #0b5cad; }
    .p { text-align: right; font-variant-numeric: tabular-nums; }
    .empty { color: #555; }
  `;

  constructor() {
    super();
    this.answers = [];
    this.selected = '';
    this.busy = false;
    this.limit = 5;
  }

  override render() {
    if (!this.answers.length)
      return html`<p class="empty">${this.busy ? 'Asking CLIP…' : 'No probe answers yet.'}</p>`;
    const x = scaleLinear().domain([0, 1]).range([0, 100]);
    return html`${this.answers.map(
      (d) => html`<h3>${d.dimension}</h3>
        <div role="list">
          ${d.top.slice(0, this.limit).map((t) => {
            const key = `${d.dimension}/${t.label}`;
            return html`<button role="listitem" aria-pressed=${this.selected === key} data-label=${t.label}
              aria-label=${`${d.dimension}: ${t.label}, ${(100 * t.p).toFixed(1)} percent; show its heatmap`}
              @click=${() => this.dispatchEvent(new CustomEvent('ap-probe-select', { detail: { dimension: d.dimension, label: t.label, labels: d.top.map((q) => q.label), prompts: d.prompts }, bubbles: true, composed: true }))}>
              <span>${t.label}</span><span class="track"><span class="fill" style="width:${x(t.p).toFixed(1)}%;display:block"></span></span>
              <span class="p">${(100 * t.p).toFixed(1)}%</span></button>`;
          })}
        </div>`,
    )}${this.busy ? html`<p class="empty">updating…</p>` : nothing}`;
  }
}

customElements.define('ap-probe-panel', ApProbePanel);
