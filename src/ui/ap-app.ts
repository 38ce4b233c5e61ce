/**
 * `<ap-app>`: the shell — header navigation (Gallery, Embedding map), the route from the URL hash, and the
 * wiring between elements and the server API (uploads, imports, opening paintings). The view state is kept in
 * the URL (`state.ts`), so every view can be shared.
 *
 * @example
 * <ap-app></ap-app>  (main.ts creates it with an Api on the page's origin)
 */
import { css, html, LitElement } from 'lit';
import { Api, type Painting } from './api.ts';
import './ap-embedding-map.ts';
import './ap-gallery.ts';
import type { GalleryItem } from './ap-gallery.ts';
import './ap-painting-view.ts';
import { formatState, parseState, type ViewState } from './state.ts';

export class ApApp extends LitElement {
  static override properties = {
    api: { attribute: false },
    state: { state: true },
    paintings: { state: true },
    busy: { state: true },
    error: { state: true },
    health: { state: true },
  };
  declare api: Api;
  declare state: ViewState;
  declare paintings: Painting[];
  declare busy: string;
  declare error: string;
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
    h2.title { font-size: 20px; margin: 0 0 8px; }
    .skip { position: absolute; left: -9999px; }
    .skip:focus { left: 8px; top: 8px; background: #fff; color: #000; padding: 4px 8px; z-index: 10; outline: 3px solid #b35c00; }
  `;

  constructor() {
    super();
    this.api = new Api('');
    this.state = parseState(location.hash);
    this.paintings = [];
    this.busy = '';
    this.error = '';
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
    const newRoute = patch.route !== undefined && patch.route !== this.state.route;
    this.state = next;
    if (location.hash !== hash) {
      if (newRoute) location.hash = hash;
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
              ? html`<h2 class="title">Embedding map</h2>
                <ap-embedding-map .api=${this.api} source=${s.source} method=${s.mapMethod} color=${s.color}
                  @ap-map-state=${(
                    e: CustomEvent<{ source?: string; method?: 'pca' | 'umap'; color?: string }>,
                  ) =>
                    this.go({
                      ...(e.detail.source ? { source: e.detail.source } : {}),
                      ...(e.detail.method ? { mapMethod: e.detail.method } : {}),
                      ...(e.detail.color ? { color: e.detail.color } : {}),
                    })}
                  @ap-open=${(e: CustomEvent<{ id: string }>) => this.open(e.detail.id)}></ap-embedding-map>`
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
