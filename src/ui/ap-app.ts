/**
 * `<ap-app>`: the shell — header navigation (Gallery, Embedding map) with the loaded model's name, a banner on
 * every page when no model is loaded (with the server's hint), the route from the URL hash, and the wiring
 * between elements and the server API: uploads and imports, catalog and expert-region imports, deleting
 * paintings, batches over the paintings the gallery shows, their summaries, opening paintings. The paintings are
 * reloaded whenever the gallery is shown again, so its filters and counts never go stale. The view state is kept
 * in the URL (`state.ts`), so every view can be shared.
 *
 * @example
 * <ap-app></ap-app>  (main.ts creates it with an Api on the page's origin)
 */
import { css, html, LitElement, nothing } from 'lit';
import { Api, type Health, type Painting, type SuiteSummary } from './api.ts';
import './ap-batch-panel.ts';
import './ap-embedding-map.ts';
import './ap-gallery.ts';
import { filterItems, type GalleryItem } from './ap-gallery.ts';
import './ap-import-panel.ts';
import './ap-painting-view.ts';
import './ap-summary-view.ts';
import { formatState, parseState, type ViewState } from './state.ts';

/** Folder names that say nothing about the model. */
const GENERIC = new Set(['model', 'models', 'weights', 'onnx', 'hf', 'checkpoint', 'snapshot', 'main']);

/**
 * A readable name of the loaded model: its id, or the end of its folder when the id is only a generic folder
 * name ("model" → "toy/A/model").
 *
 * @example
 * modelLabel({ id: 'model', dir: '/data/toy/A/model' }); // 'toy/A/model'
 */
export function modelLabel(
  info: { id?: string; dir?: string } | null | undefined,
  source?: string | null,
): string {
  const id = info?.id ?? '';
  const parts = (info?.dir ?? source ?? '').split(/[\\/]/).filter(Boolean);
  if (id && !GENERIC.has(id.toLowerCase()) && id.length > 2) return id;
  if (parts.length) return parts.slice(-3).join('/');
  return id;
}

export class ApApp extends LitElement {
  static override properties = {
    api: { attribute: false },
    state: { state: true },
    paintings: { state: true },
    busy: { state: true },
    error: { state: true },
    health: { state: true },
    suites: { state: true },
  };
  declare api: Api;
  declare state: ViewState;
  declare paintings: Painting[];
  declare busy: string;
  declare error: string;
  /** The server's status (undefined until it answered; null when unreachable). */
  declare health: Health | null | undefined;
  declare suites: SuiteSummary[];
  private healthTimer?: ReturnType<typeof setTimeout>;
  /** The import box as the user left it (undefined: open while the workspace is empty). */
  private importOpen?: boolean;

  static override styles = css`
    :host { display: block; min-height: 100vh; color: #161616; background: #fafaf8; font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; }
    header { display: flex; gap: 18px; align-items: center; padding: 8px 20px; background: #14213d; color: #fff; }
    header b { font-size: 18px; }
    nav a { color: #fff; margin-right: 14px; text-decoration: none; padding: 3px 2px; border-bottom: 2px solid transparent; }
    nav a[aria-current='page'] { border-bottom-color: #ffbf47; }
    nav a:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
    .health { margin-left: auto; font-size: 13px; color: #dfe6f3; }
    .health b { color: #fff; }
    .nomodel { background: #fff4d6; border-bottom: 1px solid #c9a227; padding: 6px 20px; font-size: 14px; }
    .nomodel code { background: #fff; padding: 0 4px; }
    main { padding: 10px 20px 24px; max-width: 1800px; margin: 0 auto; }
    h2.title { font-size: 20px; margin: 0 0 8px; }
    .tools { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 10px; align-items: start; margin: 0 0 10px; }
    @media (max-width: 1000px) { .tools { grid-template-columns: minmax(0, 1fr); } }
    details.box { border: 1px solid #d6d6d6; border-radius: 6px; background: #fff; padding: 4px 12px; margin: 0; }
    details.box > summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
    details.box > summary:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
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
    this.suites = [];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHash);
    void this.refresh();
    void this.checkHealth();
    this.api.suites().then(
      (s) => (this.suites = s),
      () => undefined,
    );
  }
  override disconnectedCallback(): void {
    window.removeEventListener('hashchange', this.onHash);
    clearTimeout(this.healthTimer);
    super.disconnectedCallback();
  }
  private onHash = () => {
    const before = this.state.route;
    this.state = parseState(location.hash);
    // back on the gallery (or a summary): paintings may have changed meanwhile
    if (this.state.route !== before && this.state.route !== 'painting') void this.refresh();
  };

  /** Asks the server's status; again every few seconds while a model is loading. */
  private async checkHealth(): Promise<void> {
    clearTimeout(this.healthTimer);
    try {
      this.health = await this.api.health();
    } catch {
      this.health = null;
    }
    if (this.health?.model.state === 'loading' && this.isConnected)
      this.healthTimer = setTimeout(() => void this.checkHealth(), 2000);
  }

  /** The loaded model's name, or ''. */
  private modelName(): string {
    const m = this.health?.model;
    return m?.state === 'ready' ? modelLabel(m.info, m.source) : '';
  }

  /** Why maps cannot be computed now, or ''. */
  private modelProblem(): string {
    const h = this.health;
    if (h === undefined) return '';
    if (h === null) return 'The server does not answer.';
    const m = h.model;
    if (m.state === 'ready') return '';
    if (m.state === 'loading')
      return 'The model is still loading: maps and answers will be available in a moment.';
    return `No model is loaded${m.error ? ` (${m.error})` : ''}: maps, CLIP's answers and batches need one. ${m.hint ?? 'Start the server with --model, or run `artprobe model pull openai/clip-vit-base-patch32`.'}`;
  }

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
    if (newRoute && next.route !== 'painting') void this.refresh();
  }

  private async refresh(): Promise<void> {
    try {
      this.paintings = await this.api.paintings();
      // the import box starts closed when the paintings already have catalog metadata
      if (this.importOpen === undefined) this.importOpen = !this.paintings.some((p) => p.metadata);
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
    this.busy = `Added ${files.length} painting(s).`;
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

  private async deletePaintings(ids: string[]): Promise<void> {
    this.error = '';
    for (const [i, id] of ids.entries()) {
      this.busy = `Deleting ${i + 1}/${ids.length}…`;
      try {
        await this.api.deletePainting(id);
      } catch (e) {
        this.error = `Cannot delete: ${(e as Error).message}`;
      }
    }
    this.busy = `Deleted ${ids.length} painting(s).`;
    await this.refresh();
  }

  private open(id: string, extra: Partial<ViewState> = {}): void {
    location.hash = formatState({ ...this.state, ...extra, route: 'painting', painting: id });
  }

  private renderGallery() {
    const s = this.state;
    const items = this.items();
    const shown = filterItems(items, s.q, s.filters);
    const problem = this.modelProblem();
    return html`<div class="tools">
      <details class="box" .open=${this.importOpen ?? false}
        @toggle=${(e: Event) => (this.importOpen = (e.target as HTMLDetailsElement).open)}>
        <summary>Import a catalog or expert regions</summary>
        <ap-import-panel .api=${this.api} @ap-imported=${() => {
          this.importOpen = true;
          void this.refresh();
        }}></ap-import-panel>
      </details>
      <details class="box" open>
        <summary>Batch: prompts × methods over the ${shown.length} shown painting${shown.length === 1 ? '' : 's'}</summary>
        <ap-batch-panel .api=${this.api} .paintingIds=${shown.map((i) => i.id)} .suites=${this.suites} disabled=${problem}></ap-batch-panel>
      </details></div>
      <ap-gallery .items=${items} .q=${s.q} .filters=${s.filters} .busy=${this.busy} .error=${this.error}
        @ap-open=${(e: CustomEvent<{ id: string }>) => this.open(e.detail.id)}
        @ap-upload=${(e: CustomEvent<{ files: File[] }>) => this.upload(e.detail.files)}
        @ap-import=${(e: CustomEvent<{ url: string }>) => this.importUrl(e.detail.url)}
        @ap-delete=${(e: CustomEvent<{ ids: string[] }>) => this.deletePaintings(e.detail.ids)}
        @ap-filter=${(e: CustomEvent<{ q: string; filters: Record<string, string> }>) => this.go({ q: e.detail.q, filters: { ...e.detail.filters } })}></ap-gallery>`;
  }

  override render() {
    const s = this.state;
    const name = this.modelName();
    const problem = this.modelProblem();
    const h = this.health;
    return html`
      <a class="skip" href="#main" @click=${(e: Event) => {
        e.preventDefault();
        (this.renderRoot.querySelector('main') as HTMLElement).focus();
      }}>Skip to content</a>
      <header><b>artprobe</b>
        <nav aria-label="main">
          <a href="#/gallery" aria-current=${s.route === 'gallery' || s.route === 'painting' || s.route === 'summary' ? 'page' : 'false'}>Gallery</a>
          <a href="#/map" aria-current=${s.route === 'map' ? 'page' : 'false'}>Embedding map</a>
        </nav><span class="health" title=${h?.model.info?.engine ?? ''}>${
          h === null
            ? 'server unreachable'
            : h === undefined
              ? ''
              : name
                ? html`model <b>${name}</b>${h.model.info?.imageSize ? ` · ${h.model.info.imageSize}px, patch ${h.model.info.patchSize}` : ''}`
                : `model ${h.model.state}`
        }</span></header>
      ${problem && s.route !== 'painting' ? html`<div class="nomodel" role="alert">${problem}</div>` : nothing}
      <main id="main" tabindex="-1">
        ${
          s.route === 'painting'
            ? html`<ap-painting-view .api=${this.api} .state=${s} modelName=${name} modelProblem=${problem}
                @ap-state=${(e: CustomEvent<Partial<ViewState>>) => this.go(e.detail)}></ap-painting-view>`
            : s.route === 'map'
              ? html`<h2 class="title">Embedding map</h2>
                <ap-embedding-map .api=${this.api} source=${s.source} method=${s.mapMethod} color=${s.color} modelName=${name}
                  @ap-map-state=${(
                    e: CustomEvent<{ source?: string; method?: 'pca' | 'umap'; color?: string }>,
                  ) =>
                    this.go({
                      ...(e.detail.source ? { source: e.detail.source } : {}),
                      ...(e.detail.method ? { mapMethod: e.detail.method } : {}),
                      ...(e.detail.color ? { color: e.detail.color } : {}),
                    })}
                  @ap-open=${(e: CustomEvent<{ id: string }>) => this.open(e.detail.id)}></ap-embedding-map>`
              : s.route === 'summary'
                ? html`<ap-summary-view .api=${this.api} batch=${s.batch ?? ''} metric=${s.metric} dimension=${s.dim} method=${s.worst}
                    @ap-summary-state=${(
                      e: CustomEvent<{ metric?: string; dimension?: string; method?: string }>,
                    ) =>
                      this.go({
                        ...(e.detail.metric !== undefined ? { metric: e.detail.metric } : {}),
                        ...(e.detail.dimension !== undefined ? { dim: e.detail.dimension } : {}),
                        ...(e.detail.method !== undefined ? { worst: e.detail.method } : {}),
                      })}
                    @ap-open=${(e: CustomEvent<{ id: string; method?: string; target?: string }>) =>
                      this.open(e.detail.id, {
                        ...(e.detail.method ? { methods: [e.detail.method], method: e.detail.method } : {}),
                        ...(e.detail.target && !/\(within \d+ labels\)$/.test(e.detail.target)
                          ? { prompts: [e.detail.target], prompt: 0 }
                          : {}),
                        tab: 'agreement',
                      })}></ap-summary-view>`
                : this.renderGallery()
        }
      </main>`;
  }
}

customElements.define('ap-app', ApApp);
