/**
 * `<ap-gallery>`: thumbnails of the workspace's paintings with search and filters by catalog field (style,
 * period, origin human/AI), and upload by drag-and-drop, file picker or URL.
 * Events: `ap-open` {id}, `ap-upload` {files: File[]}, `ap-import` {url}, `ap-filter` {q, filters}.
 *
 * @example
 * <ap-gallery .items=${[{ id, name: 'wave.jpg', thumb: '/api/paintings/<id>/image', meta: { style: 'Ukiyo-e' } }]}></ap-gallery>
 */
import { css, html, LitElement, nothing } from 'lit';

export interface GalleryItem {
  id: string;
  name: string;
  title?: string;
  thumb: string;
  meta: Record<string, string>;
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
  };
  declare items: GalleryItem[];
  declare q: string;
  declare filters: Record<string, string>;
  /** A message while an upload runs. */
  declare busy: string;
  declare error: string;
  declare dragging: boolean;

  static override styles = css`
    :host { display: block; }
    .bar { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: end; margin-bottom: 12px; }
    label { display: flex; flex-direction: column; font-size: 13px; gap: 2px; color: #333; }
    input, select, button { font: inherit; padding: 4px 6px; }
    button { border: 1px solid #0b5cad; background: #0b5cad; color: #fff; border-radius: 4px; cursor: pointer; }
    input:focus-visible, select:focus-visible, button:focus-visible, a:focus-visible, .drop:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    .drop { border: 2px dashed #888; border-radius: 6px; padding: 14px; text-align: center; color: #333; margin-bottom: 14px; }
    .drop.over { border-color: #0b5cad; background: #eaf1fb; }
    .drop form { display: inline-flex; gap: 6px; margin-left: 12px; }
    .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 14px; }
    a.card { display: block; color: inherit; text-decoration: none; border: 1px solid #ddd; border-radius: 6px; overflow: hidden; background: #fff; }
    a.card:hover { border-color: #0b5cad; }
    .thumb { height: 150px; background: #222; display: flex; align-items: center; justify-content: center; }
    .thumb img { max-width: 100%; max-height: 150px; }
    .cap { padding: 6px 8px; font-size: 13px; }
    .cap b { display: block; font-size: 14px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .cap span { color: #555; }
    .status { color: #333; margin: 6px 0; }
    .error { color: #a00000; }
  `;

  constructor() {
    super();
    this.items = [];
    this.q = '';
    this.filters = {};
    this.busy = '';
    this.error = '';
    this.dragging = false;
  }

  private emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  private setFilter(field: string, value: string): void {
    this.filters = { ...this.filters, [field]: value };
    if (!value) delete this.filters[field];
    this.emit('ap-filter', { q: this.q, filters: this.filters });
  }

  private onDrop(e: DragEvent): void {
    e.preventDefault();
    this.dragging = false;
    const files = [...(e.dataTransfer?.files ?? [])].filter((f) => f.type.startsWith('image/'));
    const url = e.dataTransfer?.getData('text/uri-list') || e.dataTransfer?.getData('text/plain');
    if (files.length) this.emit('ap-upload', { files });
    else if (url && /^https?:\/\//.test(url.trim())) this.emit('ap-import', { url: url.trim() });
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
          <input type="url" name="url" placeholder="https://… image or IIIF info.json" aria-label="image URL" size="30" />
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
        ${FILTER_FIELDS.map(
          (
            f,
          ) => html`<label>${f}<select name=${f} @change=${(e: Event) => this.setFilter(f, (e.target as HTMLSelectElement).value)}>
            <option value="">all</option>${values(f).map((v) => html`<option value=${v} ?selected=${this.filters[f] === v}>${v}</option>`)}</select></label>`,
        )}
        <span class="status" aria-live="polite">${shown.length} of ${this.items.length} paintings</span>
      </div>
      <div class="grid">
        ${shown.map(
          (it) => html`<a class="card" href=${`#/painting/${it.id}`} data-id=${it.id} @click=${(e: Event) => {
            e.preventDefault();
            this.emit('ap-open', { id: it.id });
          }}>
            <div class="thumb"><img src=${it.thumb} alt=${it.title ?? it.name} loading="lazy" /></div>
            <div class="cap"><b title=${it.title ?? it.name}>${it.title ?? it.name}</b><span>${[it.meta.artist, it.meta.style, it.meta.origin].filter(Boolean).join(' · ')}</span></div></a>`,
        )}
      </div>`;
  }
}

customElements.define('ap-gallery', ApGallery);
