/**
 * `<ap-app>`: the shell — header navigation (Gallery, Embedding map), the route from the URL hash, and the
 * wiring between elements and the server API (uploads, imports, opening paintings). The view state is kept in
 * the URL (`state.ts`), so every view can be shared.
 *
 * @example
 * <ap-app></ap-app>  (main.ts creates it with an Api on the page's origin)
 */
import { css, html, LitElement, nothing } from 'lit';
import { Api, type Painting } from './api.ts';
import './ap-embedding-map.ts';
import type { MapPoint } from './ap-embedding-map.ts';
import './ap-gallery.ts';
import type { GalleryItem } from './ap-gallery.ts';
import './ap-painting-view.ts';
import { formatState, parseState, type ViewState } from './state.ts';

/** Points from a dropped file: our `[{x, y, title, meta}]` or the JSON of `artprobe probe map` ({names, set, points}). */
export function parseMapPoints(doc: unknown): MapPoint[] {
  if (Array.isArray(doc)) {
    return doc.map((p, i) => {
      if (!Number.isFinite(p?.x) || !Number.isFinite(p?.y))
        throw new Error(`point ${i} lacks numeric x and y`);
      return {
        x: p.x,
        y: p.y,
        id: p.id,
        title: String(p.title ?? p.id ?? i),
        thumb: p.thumb,
        meta: Object.fromEntries(Object.entries(p.meta ?? {}).map(([k, v]) => [k, String(v)])),
      };
    });
  }
  const d = doc as { names?: string[]; set?: number[]; points?: [number, number][] };
  if (!Array.isArray(d?.points))
    throw new Error('expected a list of points or the JSON written by `artprobe probe map`');
  return d.points.map(([x, y], i) => ({
    x,
    y,
    title: `${d.names?.[d.set?.[i] ?? 0] ?? ''} #${i}`,
    meta: { set: d.names?.[d.set?.[i] ?? 0] ?? '' },
  }));
}

export class ApApp extends LitElement {
  static override properties = {
    api: { attribute: false },
    state: { state: true },
    paintings: { state: true },
    busy: { state: true },
    error: { state: true },
    points: { state: true },
    health: { state: true },
  };
  declare api: Api;
  declare state: ViewState;
  declare paintings: Painting[];
  declare busy: string;
  declare error: string;
  declare points: MapPoint[];
  declare health: string;

  static override styles = css`
    :host { display: block; min-height: 100vh; color: #161616; background: #fafaf8; font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; }
    header { display: flex; gap: 18px; align-items: center; padding: 10px 20px; background: #14213d; color: #fff; }
    header b { font-size: 18px; }
    nav a { color: #fff; margin-right: 14px; text-decoration: none; padding: 3px 2px; border-bottom: 2px solid transparent; }
    nav a[aria-current='page'] { border-bottom-color: #ffbf47; }
    nav a:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
    .health { margin-left: auto; font-size: 13px; color: #dfe6f3; }
    main { padding: 16px 20px 40px; max-width: 1600px; margin: 0 auto; }
    .skip { position: absolute; left: -9999px; }
    .skip:focus { left: 8px; top: 8px; background: #fff; color: #000; padding: 4px 8px; z-index: 10; }
  `;

  constructor() {
    super();
    this.api = new Api('');
    this.state = parseState(location.hash);
    this.paintings = [];
    this.busy = '';
    this.error = '';
    this.points = [];
    this.health = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHash);
    void this.refresh();
    this.api.health().then(
      (h) =>
        (this.health = h.model
          ? `model ${(h.model as { id?: string }).id ?? ''} · ${(h.model as { state?: string }).state ?? ''}`
          : ''),
      () => (this.health = 'server unreachable'),
    );
  }
  override disconnectedCallback(): void {
    window.removeEventListener('hashchange', this.onHash);
    super.disconnectedCallback();
  }
  private onHash = () => {
    this.state = parseState(location.hash);
  };

  /** Applies a state change and writes it to the URL (one history entry per route change). */
  private go(patch: Partial<ViewState>): void {
    const next = { ...this.state, ...patch };
    const hash = formatState(next);
    this.state = next;
    if (location.hash !== hash) {
      if (patch.route && patch.route !== this.state.route) location.hash = hash;
      else history.replaceState(null, '', hash);
    }
  }

  private async refresh(): Promise<void> {
    try {
      this.paintings = await this.api.paintings();
    } catch (e) {
      this.error = `Cannot list paintings: ${(e as Error).message}`;
    }
  }

  private items(): GalleryItem[] {
    return this.paintings.map((p) => {
      const m = p.metadata ?? {};
      return {
        id: p.id,
        name: p.name,
        title: typeof m.title === 'string' ? m.title : undefined,
        thumb: this.api.imageUrl(p.id),
        meta: Object.fromEntries(
          ['style', 'period', 'origin', 'artist'].filter((k) => m[k] != null).map((k) => [k, String(m[k])]),
        ),
      };
    });
  }

  private async upload(files: File[]): Promise<void> {
    this.error = '';
    for (const [i, f] of files.entries()) {
      this.busy = `Uploading ${f.name} (${i + 1}/${files.length})…`;
      try {
        await this.api.upload(f);
      } catch (e) {
        this.error = `${f.name}: ${(e as Error).message}`;
      }
    }
    this.busy = '';
    await this.refresh();
  }

  private async importUrl(url: string): Promise<void> {
    this.error = '';
    this.busy = `Importing ${url}…`;
    try {
      await this.api.importUrl(url);
    } catch (e) {
      this.error = `${url}: ${(e as Error).message}`;
    }
    this.busy = '';
    await this.refresh();
  }

  private open(id: string): void {
    location.hash = formatState({ ...this.state, route: 'painting', painting: id });
  }

  private async loadPoints(e: Event): Promise<void> {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (!f) return;
    try {
      this.points = parseMapPoints(JSON.parse(await f.text()));
      if (!this.points.some((p) => this.state.color in p.meta))
        this.go({ color: Object.keys(this.points[0]?.meta ?? {})[0] ?? 'set' });
      this.error = '';
    } catch (err) {
      this.error = `${f.name}: ${(err as Error).message}`;
    }
  }

  override render() {
    const s = this.state;
    return html`
      <a class="skip" href="#main" @click=${(e: Event) => {
        e.preventDefault();
        (this.renderRoot.querySelector('main') as HTMLElement).focus();
      }}>Skip to content</a>
      <header><b>artprobe</b>
        <nav aria-label="main">
          <a href="#/gallery" aria-current=${s.route === 'gallery' || s.route === 'painting' ? 'page' : 'false'}>Gallery</a>
          <a href="#/map" aria-current=${s.route === 'map' ? 'page' : 'false'}>Embedding map</a>
        </nav><span class="health">${this.health}</span></header>
      <main id="main" tabindex="-1">
        ${
          s.route === 'painting'
            ? html`<ap-painting-view .api=${this.api} .state=${s} @ap-state=${(e: CustomEvent<Partial<ViewState>>) => this.go(e.detail)}></ap-painting-view>`
            : s.route === 'map'
              ? html`<p>Load map coordinates: a JSON list of <code>{x, y, title, meta}</code> or the JSON written by <code>artprobe probe map --out map.json</code>.
                <input type="file" name="points" accept=".json,application/json" aria-label="map coordinates file" @change=${this.loadPoints} /></p>
                ${this.error ? html`<p role="alert">${this.error}</p>` : nothing}
                <ap-embedding-map .points=${this.points.map((p) => ({ ...p, thumb: p.thumb ?? (p.id ? this.api.imageUrl(p.id) : undefined) }))} .color=${s.color}
                  @ap-color=${(e: CustomEvent<{ color: string }>) => this.go({ color: e.detail.color })} @ap-open=${(e: CustomEvent<{ id: string }>) => this.open(e.detail.id)}></ap-embedding-map>`
              : html`<ap-gallery .items=${this.items()} .q=${s.q} .filters=${s.filters} .busy=${this.busy} .error=${this.error}
                @ap-open=${(e: CustomEvent<{ id: string }>) => this.open(e.detail.id)}
                @ap-upload=${(e: CustomEvent<{ files: File[] }>) => this.upload(e.detail.files)}
                @ap-import=${(e: CustomEvent<{ url: string }>) => this.importUrl(e.detail.url)}
                @ap-filter=${(e: CustomEvent<{ q: string; filters: Record<string, string> }>) => this.go({ q: e.detail.q, filters: { ...e.detail.filters } })}></ap-gallery>`
        }
      </main>`;
  }
}

customElements.define('ap-app', ApApp);
