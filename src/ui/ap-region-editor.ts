/**
 * `<ap-region-editor>`: the controls of a painting's expert regions — label and dimension of the next region,
 * toggles to draw a rectangle or a polygon (on the <ap-heatmap> beside it), undo and redo, the save status, and
 * the list of regions: select one, rename it, set its dimension, lock or unlock it (imported expert regions come
 * locked, so they are not moved by accident), delete it. It saves nothing: the host (a `RegionStore`) does.
 * Events (bubbling, composed): `ap-draw-mode` {mode}, `ap-region-draft` {label, dimension} (the next region's),
 * `ap-region-select` {id}, `ap-region-rename` {id, label}, `ap-region-dimension` {id, dimension},
 * `ap-region-lock` {id, locked}, `ap-region-delete` {id}, `ap-undo`, `ap-redo`.
 *
 * @example
 * <ap-region-editor .regions=${regions} .selected=${selectedId} .drawMode=${mode} status="All changes saved."
 *   @ap-region-rename=${(e) => store.edit(e.detail.id, { label: e.detail.label })}></ap-region-editor>
 */
import { css, html, LitElement, nothing } from 'lit';
import type { DrawMode, UiRegion } from './ap-heatmap.ts';

/** The dimensions a region can be classified under ('' for none). */
export const REGION_DIMENSIONS = ['', 'content', 'scene', 'style', 'period', 'artifact'];

export interface RegionDraft {
  label: string;
  dimension: string;
}

export class ApRegionEditor extends LitElement {
  static override properties = {
    regions: { attribute: false },
    selected: { type: String },
    drawMode: { type: String, attribute: 'draw-mode' },
    status: { type: String },
    canUndo: { type: Boolean, attribute: 'can-undo' },
    canRedo: { type: Boolean, attribute: 'can-redo' },
  };
  /** The painting's regions (their count names the next one). */
  declare regions: UiRegion[];
  /** Id of the selected region, or ''. */
  declare selected: string;
  declare drawMode: DrawMode;
  /** What the last save did. */
  declare status: string;
  declare canUndo: boolean;
  declare canRedo: boolean;
  private draft: RegionDraft = { label: '', dimension: '' };

  static override styles = css`
    :host { display: block; }
    fieldset { border: 1px solid #ccc; border-radius: 4px; padding: 6px 10px; margin: 6px 0; }
    legend { font-size: 13px; font-weight: 600; }
    .row { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; margin: 6px 0; font-size: 14px; }
    input, select, button { font: inherit; }
    input[type='text'] { padding: 2px 6px; }
    button { border: 1px solid #666; background: #fff; color: #111; border-radius: 4px; padding: 2px 9px; cursor: pointer; }
    button[disabled] { color: #666666; border-color: #aaa; cursor: default; }
    button[aria-pressed='true'] { background: #0b5cad; border-color: #0b5cad; color: #fff; }
    button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    .msg { color: #333; font-size: 13px; min-height: 1.2em; }
    ul { list-style: none; margin: 4px 0 0; padding: 0; font-size: 13px; }
    li { display: grid; grid-template-columns: auto minmax(0, 1fr) auto auto auto; gap: 6px; align-items: center; padding: 3px 2px; border-top: 1px solid #eee; }
    li.sel { background: #fff4d6; }
    li input[type='text'] { width: 100%; box-sizing: border-box; font-size: 13px; }
    li select { font-size: 13px; }
    li button { font-size: 12px; padding: 1px 6px; }
    .lock[aria-pressed='true'] { background: #5a4500; border-color: #5a4500; color: #fff; }
  `;

  constructor() {
    super();
    this.regions = [];
    this.selected = '';
    this.drawMode = 'none';
    this.status = '';
    this.canUndo = false;
    this.canRedo = false;
  }

  private emit(name: string, detail: unknown = {}): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  private toggle(mode: Exclude<DrawMode, 'none'>): void {
    this.emit('ap-draw-mode', { mode: this.drawMode === mode ? 'none' : mode });
  }

  private edit(patch: Partial<RegionDraft>): void {
    this.draft = { ...this.draft, ...patch };
    this.emit('ap-region-draft', this.draft);
  }

  private renderItem(r: UiRegion) {
    const sel = r.id === this.selected;
    return html`<li class=${sel ? 'sel' : ''} data-region=${r.id}>
      <input type="radio" name="region-pick" .checked=${sel} aria-label=${`select region ${r.label}`}
        @change=${() => this.emit('ap-region-select', { id: r.id })} />
      <input type="text" name="region-name" .value=${r.label} ?disabled=${r.locked} aria-label=${`name of region ${r.label}`}
        @change=${(e: Event) => {
          const label = (e.target as HTMLInputElement).value.trim();
          if (label && label !== r.label) this.emit('ap-region-rename', { id: r.id, label });
        }} />
      <select name="region-dim" ?disabled=${r.locked} aria-label=${`dimension of region ${r.label}`}
        @change=${(e: Event) => this.emit('ap-region-dimension', { id: r.id, dimension: (e.target as HTMLSelectElement).value })}>
        ${REGION_DIMENSIONS.map((d) => html`<option value=${d} ?selected=${(r.dimension ?? '') === d}>${d || '—'}</option>`)}
      </select>
      <button type="button" class="lock" name="region-lock" aria-pressed=${!!r.locked}
        aria-label=${`${r.locked ? 'unlock' : 'lock'} region ${r.label}`} title=${r.locked ? 'Locked: an expert region. Press to unlock and edit it.' : 'Lock it against accidental edits'}
        @click=${() => this.emit('ap-region-lock', { id: r.id, locked: !r.locked })}>${r.locked ? 'Locked' : 'Lock'}</button>
      <button type="button" name="region-delete" ?disabled=${r.locked} aria-label=${`delete region ${r.label}`}
        @click=${() => this.emit('ap-region-delete', { id: r.id })}>Delete</button>
    </li>`;
  }

  override render() {
    const n = this.regions.length;
    return html`<fieldset>
      <legend>Expert regions (${n})</legend>
      <div class="row">
        <label>Label <input type="text" name="region-label" size="14" placeholder="region ${n + 1}"
          @input=${(e: Event) => this.edit({ label: (e.target as HTMLInputElement).value })} /></label>
        <label>Dimension <select name="region-dimension"
          @change=${(e: Event) => this.edit({ dimension: (e.target as HTMLSelectElement).value })}>${REGION_DIMENSIONS.map(
            (d) => html`<option value=${d}>${d || '—'}</option>`,
          )}</select></label>
        <button type="button" name="draw-rect" aria-pressed=${this.drawMode === 'rect'} @click=${() => this.toggle('rect')}>Draw rectangle</button>
        <button type="button" name="draw-polygon" aria-pressed=${this.drawMode === 'polygon'} @click=${() => this.toggle('polygon')}>Draw polygon</button>
        <button type="button" name="undo" ?disabled=${!this.canUndo} title="Undo (Ctrl+Z)" @click=${() => this.emit('ap-undo')}>Undo</button>
        <button type="button" name="redo" ?disabled=${!this.canRedo} title="Redo (Ctrl+Shift+Z)" @click=${() => this.emit('ap-redo')}>Redo</button>
        ${this.selected ? html`<button type="button" name="delete-selected" @click=${() => this.emit('ap-region-delete', { id: this.selected })}>Delete selected</button>` : nothing}
      </div>
      <div class="msg" role="status">${
        this.drawMode === 'rect'
          ? 'Drag on the painting to draw a rectangle.'
          : this.drawMode === 'polygon'
            ? 'Click points; double-click, press Enter or click the first point to close.'
            : this.status ||
              `${n} region(s). Select one (Tab, Enter) to move it with the arrow keys or drag its corners.`
      }</div>
      ${n ? html`<ul aria-label="regions">${this.regions.map((r) => this.renderItem(r))}</ul>` : nothing}
    </fieldset>`;
  }
}

customElements.define('ap-region-editor', ApRegionEditor);
