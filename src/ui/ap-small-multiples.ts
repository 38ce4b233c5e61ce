/**
 * `<ap-small-multiples>`: a method × prompt grid of small heatmaps of one painting. Each cell is a button (the
 * keyboard reaches every cell); clicking one fires `ap-cell-select` {method, prompt} (prompt index). Cells still
 * computing show their job's progress.
 *
 * @example
 * <ap-small-multiples .methods=${['chefer-all', 'rollout']} .prompts=${['a wave']} .cells=${cells} src=${url}
 *   width="768" height="546"></ap-small-multiples>
 */
import { css, html, LitElement, nothing } from 'lit';
import './ap-heatmap.ts';
import type { Scheme } from './colormap.ts';

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

  static override styles = css`
    :host { display: block; }
    .grid { display: grid; gap: 6px; align-items: center; }
    .head { font-size: 13px; font-weight: 600; overflow-wrap: anywhere; }
    button { padding: 0; border: 2px solid transparent; background: #eee; position: relative; cursor: pointer; display: block; width: 100%; }
    button[aria-pressed='true'] { border-color: #0b5cad; }
    button:focus-visible { outline: 3px solid #b35c00; outline-offset: 1px; }
    .tag { position: absolute; left: 0; bottom: 0; background: rgba(0, 0, 0, .75); color: #fff; font-size: 12px; padding: 1px 5px; line-height: 1.4; }
    progress { position: absolute; left: 6%; right: 6%; width: 88%; top: 45%; }
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
  }

  override render() {
    return html`<div class="grid" role="grid" aria-label="maps by method and prompt" style="grid-template-columns: 7em repeat(${this.prompts.length}, minmax(0, 260px))">
      <div></div>
      ${this.prompts.map((p) => html`<div class="head" role="columnheader">“${p}”</div>`)}
      ${this.methods.map(
        (m) => html`<div class="head" role="rowheader">${m}</div>
          ${this.prompts.map((p, pi) => {
            const c = this.cells.find((x) => x.method === m && x.prompt === pi) ?? {
              method: m,
              prompt: pi,
              state: 'none' as const,
            };
            const pressed = this.selected?.method === m && this.selected?.prompt === pi;
            const status = c.state === 'done' ? `score ${c.score?.toFixed(2)}` : c.state;
            return html`<button role="gridcell" aria-pressed=${pressed} aria-label=${`${m}, “${p}”: ${status}`} data-method=${m} data-prompt=${pi}
              @click=${() => this.dispatchEvent(new CustomEvent('ap-cell-select', { detail: { method: m, prompt: pi }, bubbles: true, composed: true }))}>
              <ap-heatmap .src=${this.src} .width=${this.width} .height=${this.height} .map=${c.map} ?signed=${!!c.signed} .opacity=${this.opacity}
                .scheme=${this.scheme} label=${`${m} map for ${p}`}></ap-heatmap>
              ${c.state === 'queued' || c.state === 'running' ? html`<progress max="1" .value=${c.progress ?? 0} aria-label="computing"></progress>` : nothing}
              <span class="tag">${c.state === 'done' ? c.score?.toFixed(2) : c.state === 'failed' ? `failed` : c.state === 'none' ? '–' : '…'}</span>
            </button>`;
          })}`,
      )}
    </div>`;
  }
}

customElements.define('ap-small-multiples', ApSmallMultiples);
