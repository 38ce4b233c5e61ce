/**
 * `<ap-region-editor>`: the controls of a painting's expert regions — label and dimension of the next region,
 * toggles to draw a rectangle or a polygon (on the <ap-heatmap> beside it), deleting the selected region, and
 * a hint for the current mode. It saves nothing: the host draws, stores and selects regions.
 * Events (bubbling, composed): `ap-draw-mode` {mode} when a draw toggle is pressed, `ap-region-draft`
 * {label, dimension} as the next region's label or dimension is edited (as typed: the host falls back to
 * `region N`), `ap-region-delete` {id} for "Delete selected" (as <ap-heatmap> sends it).
 *
 * @example
 * <ap-region-editor .regions=${regions} .selected=${selectedId} .drawMode=${mode}
 *   @ap-draw-mode=${(e) => (mode = e.detail.mode)} @ap-region-draft=${(e) => (draft = e.detail)}
 *   @ap-region-delete=${(e) => remove(e.detail.id)}></ap-region-editor>
 */
import { css, html, LitElement, nothing } from 'lit';
import type { DrawMode, UiRegion } from './ap-heatmap.ts';

/** The dimensions a region can be classified under ('' for none). */
const DIMENSIONS = ['', 'content', 'scene', 'style', 'period', 'artifact'];

export interface RegionDraft {
  label: string;
  dimension: string;
}

export class ApRegionEditor extends LitElement {
  static override properties = {
    regions: { attribute: false },
    selected: { type: String },
    drawMode: { type: String, attribute: 'draw-mode' },
  };
  /** The painting's regions (their count names the next one). */
  declare regions: UiRegion[];
  /** Id of the selected region, or ''. */
  declare selected: string;
  declare drawMode: DrawMode;
  private draft: RegionDraft = { label: '', dimension: '' };

  static override styles = css`
    :host { display: block; }
    fieldset { border: 1px solid #ccc; border-radius: 4px; padding: 6px 10px; margin: 8px 0; }
    legend { font-size: 13px; font-weight: 600; }
    .row { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; margin: 8px 0; font-size: 14px; }
    input, select, button { font: inherit; }
    input[type='text'] { padding: 3px 6px; }
    button { border: 1px solid #666; background: #fff; color: #111; border-radius: 4px; padding: 3px 10px; cursor: pointer; }
    button[aria-pressed='true'] { background: #0b5cad; border-color: #0b5cad; color: #fff; }
    button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    .msg { color: #333; font-size: 13px; min-height: 1.2em; }
  `;

  constructor() {
    super();
    this.regions = [];
    this.selected = '';
    this.drawMode = 'none';
  }

  private emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  private toggle(mode: Exclude<DrawMode, 'none'>): void {
    this.emit('ap-draw-mode', { mode: this.drawMode === mode ? 'none' : mode });
  }

  private edit(patch: Partial<RegionDraft>): void {
    this.draft = { ...this.draft, ...patch };
    this.emit('ap-region-draft', this.draft);
  }

  override render() {
    const n = this.regions.length;
    return html`<fieldset>
      <legend>Expert regions</legend>
      <div class="row">
        <label>Label <input type="text" name="region-label" size="16" placeholder="region ${n + 1}"
          @input=${(e: Event) => this.edit({ label: (e.target as HTMLInputElement).value })} /></label>
        <label>Dimension <select name="region-dimension"
          @change=${(e: Event) => this.edit({ dimension: (e.target as HTMLSelectElement).value })}>${DIMENSIONS.map(
            (d) => html`<option value=${d}>${d || '—'}</option>`,
          )}</select></label>
        <button type="button" name="draw-rect" aria-pressed=${this.drawMode === 'rect'} @click=${() => this.toggle('rect')}>Draw rectangle</button>
        <button type="button" name="draw-polygon" aria-pressed=${this.drawMode === 'polygon'} @click=${() => this.toggle('polygon')}>Draw polygon</button>
        ${this.selected ? html`<button type="button" @click=${() => this.emit('ap-region-delete', { id: this.selected })}>Delete selected</button>` : nothing}
      </div>
      <div class="msg">${
        this.drawMode === 'rect'
          ? 'Drag on the painting to draw a rectangle.'
          : this.drawMode === 'polygon'
            ? 'Click points; double-click, press Enter or click the first point to close.'
            : `${n} region(s). Select one (Tab, Enter) to move it with the arrow keys or drag its corners.`
      }</div>
    </fieldset>`;
  }
}

customElements.define('ap-region-editor', ApRegionEditor);
