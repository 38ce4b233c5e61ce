/**
 * `<ap-gallery>`: thumbnails of the workspace's paintings with search and filters by catalog field (style,
 * period, origin human/AI), upload by drag-and-drop, file picker or URL, and selection: tick paintings (or
 * "Select shown") to delete them. The filters are bound to the URL's state both ways, so they never show one
 * thing while the grid shows another.
 * Events: `ap-open` {id}, `ap-upload` {files: File[]}, `ap-import` {url}, `ap-filter` {q, filters},
 * `ap-delete` {ids} (after the user confirmed).
 *
 * @example
 * <ap-gallery .items=${[{ id, name: 'wave.jpg', thumb: '/api/paintings/<id>/image', meta: { style: 'Ukiyo-e' } }]}></ap-gallery>
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';

export interface GalleryItem {
  id: string;
  name: string;
  title?: string;
  thumb: string;
  meta: Record<string, string>;
  /** Expert regions of the painting, when known. */
  regions?: number;
}

export const FILTER_FIELDS = ['style', 'period', 'origin'] as const;

/** Items matching a search text (title, name, any field) and every field filter. */
export function filterItems(items: GalleryItem[], q: string, filters: Record<string, string>): GalleryItem[] {
  const needle = q.trim().toLowerCase();
  return items.filter(
    (it) =>
      Object.entries(filters).every(([k, v]) => !v || it.meta[k] === v) &&
      (!needle ||
        [it.title ?? '', it.name, ...Object.values(it.meta)].some((s) => s.toLowerCase().includes(needle))),
  );
}

export class ApGallery extends LitElement {
  static override properties = {
    items: { attribute: false },
    q: { type: String },
    filters: { attribute: false },
    busy: { type: String },
    error: { type: String },
    dragging: { state: true },
    picked: { state: true },
  };
  declare items: GalleryItem[];
  declare q: string;
  declare filters: Record<string, string>;
  /** A message while an upload runs. */
  declare busy: string;
  declare error: string;
  declare dragging: boolean;
  /** Ids of the ticked paintings. */
  declare picked: Set<string>;

  static override styles = css`
    :host { display: block; }
    .bar { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: end; margin-bottom: 10px; }
    label { display: flex; flex-direction: column; font-size: 13px; gap: 2px; color: #333; }
    input, select, button { font: inherit; padding: 3px 6px; }
    .bar select { max-width: 240px; }
    button { border: 1px solid #0b5cad; background: #0b5cad; color: #fff; border-radius: 4px; cursor: pointer; }
    button.plain { background: #fff; color: #0b5cad; }
    button.danger { background: #fff; color: #8a1c1c; border-color: #8a1c1c; }
    button[disabled] { opacity: .55; cursor: default; }
    input:focus-visible, select:focus-visible, button:focus-visible, a:focus-visible, .drop:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    .drop { border: 2px dashed #888; border-radius: 6px; padding: 6px 12px; text-align: center; color: #333; margin-bottom: 8px; }
    .drop.over { border-color: #0b5cad; background: #eaf1fb; }
    .drop form { display: inline-flex; gap: 6px; margin-left: 12px; }
    .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; }
    .card { position: relative; border: 1px solid #ddd; border-radius: 6px; overflow: hidden; background: #fff; }
    .card.picked { border-color: #0b5cad; box-shadow: 0 0 0 2px #0b5cad; }
    .card a { display: block; color: inherit; text-decoration: none; }
    .card:hover { border-color: #0b5cad; }
    .pick { position: absolute; top: 4px; left: 4px; z-index: 1; background: rgba(255, 255, 255, .9); border-radius: 3px; padding: 1px 3px; line-height: 1; }
    .pick input { margin: 0; width: 18px; height: 18px; }
    .thumb { height: 140px; background: #222; display: flex; align-items: center; justify-content: center; }
    .thumb img { max-width: 100%; max-height: 140px; }
    .cap { padding: 6px 8px; font-size: 13px; }
    .cap b { display: block; font-size: 14px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .cap span { color: #555; }
    .status { color: #333; margin: 6px 0; }
    .error { color: #a00000; }
    .sel { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; font-size: 13px; }
  `;

  constructor() {
    super();
    this.items = [];
    this.q = '';
    this.filters = {};
    this.busy = '';
    this.error = '';
    this.dragging = false;
    this.picked = new Set();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // ticks of paintings that are gone are dropped
    if (changed.has('items') && this.picked.size) {
      const ids = new Set(this.items.map((i) => i.id));
      const kept = [...this.picked].filter((id) => ids.has(id));
      if (kept.length !== this.picked.size) this.picked = new Set(kept);
    }
  }

  private emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  private setFilter(field: string, value: string): void {
    const filters = { ...this.filters, [field]: value };
    if (!value) delete filters[field];
    this.filters = filters;
    this.emit('ap-filter', { q: this.q, filters });
  }

  private onDrop(e: DragEvent): void {
    e.preventDefault();
    this.dragging = false;
    const files = [...(e.dataTransfer?.files ?? [])].filter((f) => f.type.startsWith('image/'));
    const url = e.dataTransfer?.getData('text/uri-list') || e.dataTransfer?.getData('text/plain');
    if (files.length) this.emit('ap-upload', { files });
    else if (url && /^https?:\/\//.test(url.trim())) this.emit('ap-import', { url: url.trim() });
  }

  private toggle(id: string, on: boolean): void {
    const next = new Set(this.picked);
    if (on) next.add(id);
    else next.delete(id);
    this.picked = next;
  }

  private deletePicked(): void {
    const ids = [...this.picked];
    const names = this.items.filter((i) => this.picked.has(i.id)).map((i) => i.title ?? i.name);
    const msg = `Delete ${ids.length} painting(s) with their maps and regions?\n\n${names.slice(0, 8).join('\n')}${names.length > 8 ? '\n…' : ''}`;
    if (!confirm(msg)) return;
    this.picked = new Set();
    this.emit('ap-delete', { ids });
  }

  override render() {
    const shown = filterItems(this.items, this.q, this.filters);
    const values = (f: string) => [...new Set(this.items.map((i) => i.meta[f]).filter(Boolean))].sort();
    return html`
      <div class="drop ${this.dragging ? 'over' : ''}" tabindex="-1"
        @dragover=${(e: DragEvent) => {
          e.preventDefault();
          this.dragging = true;
        }}
        @dragleave=${() => (this.dragging = false)} @drop=${this.onDrop}>
        Drop paintings here, or
        <label style="display:inline-flex;flex-direction:row"><input type="file" name="file" accept="image/*" multiple aria-label="upload paintings"
          @change=${(e: Event) => {
            const files = [...((e.target as HTMLInputElement).files ?? [])];
            if (files.length) this.emit('ap-upload', { files });
          }} /></label>
        <form @submit=${(e: Event) => {
          e.preventDefault();
          const v = (this.renderRoot.querySelector('input[name=url]') as HTMLInputElement).value.trim();
          if (v) this.emit('ap-import', { url: v });
        }}>
          <input type="url" name="url" placeholder="https://… image or IIIF info.json" aria-label="image URL" size="28" />
          <button type="submit">Import URL</button>
        </form>
        ${this.busy ? html`<div class="status" role="status">${this.busy}</div>` : nothing}
        ${this.error ? html`<div class="status error" role="alert">${this.error}</div>` : nothing}
      </div>
      <div class="bar" role="search">
        <label>Search<input type="search" name="q" .value=${this.q} placeholder="title, artist, style…"
          @input=${(e: Event) => {
            this.q = (e.target as HTMLInputElement).value;
            this.emit('ap-filter', { q: this.q, filters: this.filters });
          }} /></label>
        ${FILTER_FIELDS.map((f) => {
          const vs = values(f);
          const cur = this.filters[f] ?? '';
          return html`<label>${f}<select name=${f} .value=${cur} @change=${(e: Event) => this.setFilter(f, (e.target as HTMLSelectElement).value)}>
            <option value="" ?selected=${!cur}>all</option>${vs.map((v) => html`<option value=${v} ?selected=${cur === v}>${v}</option>`)}
            ${cur && !vs.includes(cur) ? html`<option value=${cur} selected>${cur} (none left)</option>` : nothing}</select></label>`;
        })}
        <span class="status" aria-live="polite" data-shown=${shown.length}>${shown.length} of ${this.items.length} paintings</span>
      </div>
      <div class="sel">
        <button type="button" class="plain" name="select-shown" ?disabled=${!shown.length}
          @click=${() => (this.picked = new Set([...this.picked, ...shown.map((s) => s.id)]))}>Select shown</button>
        <button type="button" class="plain" name="select-none" ?disabled=${!this.picked.size} @click=${() => (this.picked = new Set())}>Clear selection</button>
        <button type="button" class="danger" name="delete-selected" ?disabled=${!this.picked.size} @click=${this.deletePicked}>Delete selected (${this.picked.size})</button>
      </div>
      <div class="grid" style="margin-top:10px">
        ${shown.map(
          (it) => html`<div class="card ${this.picked.has(it.id) ? 'picked' : ''}" data-id=${it.id}>
            <label class="pick"><input type="checkbox" name="pick" .checked=${this.picked.has(it.id)} aria-label=${`select ${it.title ?? it.name}`}
              @change=${(e: Event) => this.toggle(it.id, (e.target as HTMLInputElement).checked)} /></label>
            <a class="card-link" href=${`#/painting/${it.id}`} data-id=${it.id} @click=${(e: Event) => {
              e.preventDefault();
              this.emit('ap-open', { id: it.id });
            }}>
            <div class="thumb"><img src=${it.thumb} alt=${it.title ?? it.name} loading="lazy" /></div>
            <div class="cap"><b title=${it.title ?? it.name}>${it.title ?? it.name}</b><span>${[it.meta.artist, it.meta.style, it.meta.origin].filter(Boolean).join(' · ')}</span></div></a></div>`,
        )}
      </div>`;
  }
}

customElements.define('ap-gallery', ApGallery);
