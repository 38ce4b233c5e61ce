/**
 * `<ap-small-multiples>`: a method × prompt grid of small heatmaps of one painting, with the expert regions and
 * their labels drawn on every cell. Each cell is a button (the keyboard reaches every cell); clicking one fires
 * `ap-cell-select` {method, prompt} (prompt index). Cells still computing show their job's progress. Each cell
 * has its own colour bar (range of its map) — or, with `shared`, each method's row shares one scale, shown once
 * under the row with the method's unit (methods have different units, so rows are never mixed). The tag of a
 * cell says what its number is (the target score, which is the painting's score for the prompt whatever the
 * method); rollout's row says that its maps do not depend on the prompt.
 *
 * @example
 * <ap-small-multiples .methods=${['chefer-all', 'rollout']} .prompts=${['a wave']} .cells=${cells} src=${url}
 *   width="768" height="546" .regions=${regions} shared></ap-small-multiples>
 */
import { css, html, LitElement, nothing } from 'lit';
import { formatLegend, methodInfo, SCORE_HELP } from '../report/legend.ts';
import './ap-colorbar.ts';
import './ap-heatmap.ts';
import type { UiRegion } from './ap-heatmap.ts';
import { clipFor, displayDomain, type Scheme, schemeGradient, sharedDomain } from './colormap.ts';

export interface Cell {
  method: string;
  prompt: number;
  map?: Float32Array;
  signed?: boolean;
  score?: number;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'none';
  progress?: number;
  error?: string;
}

export class ApSmallMultiples extends LitElement {
  static override properties = {
    methods: { attribute: false },
    prompts: { attribute: false },
    cells: { attribute: false },
    src: { type: String },
    width: { type: Number },
    height: { type: Number },
    selected: { attribute: false },
    scheme: { type: String },
    opacity: { type: Number },
    regions: { attribute: false },
    shared: { type: Boolean },
    clip: { type: String },
  };
  declare methods: string[];
  declare prompts: string[];
  declare cells: Cell[];
  declare src: string;
  declare width: number;
  declare height: number;
  declare selected: { method: string; prompt: number } | undefined;
  declare scheme: Scheme;
  declare opacity: number;
  declare regions: UiRegion[];
  /** One colour scale per method row. */
  declare shared: boolean;
  /** Percentile clipping: 'auto' or a number as text. */
  declare clip: string;

  static override styles = css`
    :host { display: block; }
    .grid { display: grid; gap: 4px 6px; align-items: start; }
    .head { font-size: 13px; font-weight: 600; overflow-wrap: anywhere; }
    .head small { display: block; font-weight: normal; color: #4a4a4a; font-size: 11px; }
    .head .ind { display: block; font-weight: normal; color: #7a3b00; font-size: 11px; }
    button { padding: 0; border: 2px solid transparent; background: #eee; position: relative; cursor: pointer; display: block; width: 100%; }
    button[aria-pressed='true'] { border-color: #0b5cad; }
    button:focus-visible { outline: 3px solid #b35c00; outline-offset: 1px; }
    .tag { position: absolute; left: 0; bottom: 0; background: rgba(0, 0, 0, .78); color: #fff; font-size: 11px; padding: 1px 5px; line-height: 1.4; }
    progress { position: absolute; left: 6%; right: 6%; width: 88%; top: 45%; }
    .range { font-size: 10px; color: #333; display: flex; gap: 4px; align-items: center; font-variant-numeric: tabular-nums; line-height: 1.2; margin-top: 1px; }
    .range i { flex: 1; height: 5px; border: 1px solid #999; }
    .rowbar { grid-column: 2 / -1; margin: -2px 0 4px; }
  `;

  constructor() {
    super();
    this.methods = [];
    this.prompts = [];
    this.cells = [];
    this.src = '';
    this.width = 1;
    this.height = 1;
    this.scheme = 'inferno';
    this.opacity = 0.7;
    this.regions = [];
    this.shared = false;
    this.clip = 'auto';
  }

  private cell(m: string, pi: number): Cell {
    return (
      this.cells.find((x) => x.method === m && x.prompt === pi) ?? { method: m, prompt: pi, state: 'none' }
    );
  }

  override render() {
    return html`<div class="grid" role="grid" aria-label="maps by method and prompt" style="grid-template-columns: 6.5em repeat(${this.prompts.length}, minmax(0, 240px))">
      <div></div>
      ${this.prompts.map((p) => html`<div class="head" role="columnheader">“${p}”</div>`)}
      ${this.methods.map((m) => this.renderRow(m))}
    </div>`;
  }

  private renderRow(m: string) {
    const info = methodInfo(m);
    const clip = clipFor(this.clip, info.family);
    const row = this.prompts.map((_, pi) => this.cell(m, pi));
    const done = row.filter((c) => c.map);
    const signed = done.some((c) => c.signed);
    const rowDomain = this.shared
      ? sharedDomain(
          done.map((c) => c.map as Float32Array),
          { signed, clip },
        )
      : undefined;
    return html`<div class="head" role="rowheader" title=${info.note}>${m}<small>${info.unit}</small>${
      info.promptIndependent ? html`<span class="ind">same map for every prompt</span>` : nothing
    }</div>
      ${row.map((c, pi) => this.renderCell(c, this.prompts[pi], clip, rowDomain))}
      ${
        this.shared && rowDomain
          ? html`<div class="rowbar"><ap-colorbar .domain=${rowDomain} ?signed=${signed} .scheme=${this.scheme} unit=${`${m}: ${info.unit}`}
              .clip=${clip} shared data-method=${m}></ap-colorbar></div>`
          : nothing
      }`;
  }

  private renderCell(c: Cell, p: string, clip: number, rowDomain: [number, number] | undefined) {
    const m = c.method;
    const pi = c.prompt;
    const pressed = this.selected?.method === m && this.selected?.prompt === pi;
    const status = c.state === 'done' ? `score ${c.score?.toFixed(2)}` : c.state;
    const domain = c.map ? (rowDomain ?? displayDomain(c.map, { signed: !!c.signed, clip })) : undefined;
    return html`<div>
      <button role="gridcell" aria-pressed=${pressed} aria-label=${`${m}, “${p}”: ${status}`} data-method=${m} data-prompt=${pi}
        title=${c.state === 'done' ? SCORE_HELP.prompt : (c.error ?? '')}
        @click=${() => this.dispatchEvent(new CustomEvent('ap-cell-select', { detail: { method: m, prompt: pi }, bubbles: true, composed: true }))}>
        <ap-heatmap .src=${this.src} .width=${this.width} .height=${this.height} .map=${c.map} ?signed=${!!c.signed} .opacity=${this.opacity}
          .scheme=${this.scheme} .domain=${domain} .regions=${this.regions} label=${`${m} map for ${p}`}></ap-heatmap>
        ${c.state === 'queued' || c.state === 'running' ? html`<progress max="1" .value=${c.progress ?? 0} aria-label="computing"></progress>` : nothing}
        <span class="tag">${c.state === 'done' ? `score ${c.score?.toFixed(2)}` : c.state === 'failed' ? 'failed' : c.state === 'none' ? '–' : c.state === 'queued' ? 'waiting' : 'computing…'}</span>
      </button>
      ${
        domain && !rowDomain
          ? html`<div class="range" data-lo=${domain[0]} data-hi=${domain[1]} aria-label=${`colour scale ${formatLegend(domain[0])} to ${formatLegend(domain[1])}`}>
              <span>${formatLegend(domain[0])}</span><i style="background:${schemeGradient(c.signed ? 'diverging' : this.scheme)}"></i><span>${formatLegend(domain[1])}</span></div>`
          : nothing
      }
    </div>`;
  }
}

customElements.define('ap-small-multiples', ApSmallMultiples);
