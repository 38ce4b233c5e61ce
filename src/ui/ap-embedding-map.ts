/**
 * `<ap-embedding-map>`: a 2-D scatter (PCA / UMAP, computed by the server: `POST /api/embedding-maps`) of the
 * collection's CLIP image embeddings or of imported embedding tables (parquet / npy / CSV, imported here),
 * coloured by a metadata field — a d3 ordinal scale (Tableau 10, the 9 most frequent values plus "other") for
 * text, a sequential viridis scale for numbers — with a legend, a hover / focus card (thumbnail for paintings,
 * title and metadata for imported rows) and click-through (`ap-open` {id}) for paintings. Paintings are
 * keyboard reachable (Tab, Enter). `ap-map-state` {source?, method?, color?} reports choices for the URL.
 * Without `api`, it draws the `points` it is given.
 *
 * @example
 * <ap-embedding-map .api=${api} source="collection" method="pca" color="style" @ap-open=${open}></ap-embedding-map>
 */
import { extent, interpolateViridis, scaleLinear, scaleOrdinal, scaleSequential, schemeTableau10 } from 'd3';
import { css, html, LitElement, nothing, type PropertyValues, svg } from 'lit';
import type { Api, EmbeddingTable, MetaValue } from './api.ts';

export interface MapPoint {
  x: number;
  y: number;
  id?: string;
  set?: string;
  title: string;
  thumb?: string;
  meta: Record<string, MetaValue>;
}

/** How points get their colour: a function, plus the legend entries. */
export interface ColourScale {
  kind: 'number' | 'text';
  colour: (v: MetaValue | undefined) => string;
  /** text: value, colour and count; number: the domain. */
  entries: { value: string; colour: string; count: number }[];
  domain?: [number, number];
}

const NONE = '#b4b4b4';
const OTHER = '#6f6f6f';

/**
 * The colour scale of a field: sequential (viridis) when every present value is a number, else ordinal with
 * the 9 most frequent values coloured and the rest as "other"; missing values are grey.
 *
 * @example
 * const s = colourScale(points, 'style'); s.colour(points[0].meta.style);
 */
export function colourScale(points: MapPoint[], field: string): ColourScale {
  const vals = points
    .map((p) => p.meta[field])
    .filter((v): v is string | number => v !== null && v !== undefined);
  if (vals.length && vals.every((v) => typeof v === 'number')) {
    const [lo, hi] = extent(vals as number[]) as [number, number];
    const s = scaleSequential(interpolateViridis).domain(lo === hi ? [lo - 1, hi + 1] : [lo, hi]);
    return {
      kind: 'number',
      colour: (v) => (typeof v === 'number' ? s(v) : NONE),
      entries: [],
      domain: [lo, hi],
    };
  }
  const counts = new Map<string, number>();
  for (const v of vals) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const top = ranked.slice(0, ranked.length > 10 ? 9 : 10).map(([v]) => v);
  const c = scaleOrdinal<string, string>().domain(top).range(schemeTableau10);
  const topSet = new Set(top);
  const entries = top.map((v) => ({ value: v, colour: c(v), count: counts.get(v) ?? 0 }));
  const rest = ranked.filter(([v]) => !topSet.has(v)).reduce((a, [, n]) => a + n, 0);
  if (rest)
    entries.push({ value: `other (${ranked.length - top.length} values)`, colour: OTHER, count: rest });
  const missing = points.length - vals.length;
  if (missing) entries.push({ value: '(none)', colour: NONE, count: missing });
  return {
    kind: 'text',
    colour: (v) => (v === null || v === undefined ? NONE : topSet.has(String(v)) ? c(String(v)) : OTHER),
    entries,
  };
}

const W = 900;
const H = 540;
const PAD = 24;

export class ApEmbeddingMap extends LitElement {
  static override properties = {
    api: { attribute: false },
    source: { type: String },
    method: { type: String },
    color: { type: String },
    points: { attribute: false },
    tables: { state: true },
    hover: { state: true },
    status: { state: true },
    error: { state: true },
    loading: { state: true },
    info: { state: true },
    modelName: { type: String },
  };
  declare api: Api | undefined;
  /** `collection` or `tables:<id>,<id>`. */
  declare source: string;
  declare method: 'pca' | 'umap';
  declare color: string;
  declare points: MapPoint[];
  declare tables: EmbeddingTable[];
  declare hover: MapPoint | undefined;
  declare status: string;
  declare error: string;
  declare loading: boolean;
  declare info: string;
  private requested = '';

  static override styles = css`
    :host { display: block; position: relative; font-size: 14px; color: #161616; }
    .controls { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; margin-bottom: 8px; }
    .controls label, fieldset label { display: flex; flex-direction: column; font-size: 13px; gap: 2px; color: #333; }
    select, input, button { font: inherit; }
    select { max-width: 22em; }
    fieldset { border: 1px solid #c4c4c4; border-radius: 4px; padding: 6px 10px; margin: 0 0 8px; display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: end; }
    legend { font-size: 13px; font-weight: 600; }
    button { border: 1px solid #0b5cad; background: #0b5cad; color: #fff; border-radius: 4px; padding: 3px 10px; cursor: pointer; }
    button:focus-visible, select:focus-visible, input:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    .status { color: #333; min-height: 1.3em; margin: 2px 0; }
    .error { color: #a00000; }
    .plot { position: relative; max-width: max(480px, calc((100vh - 300px) * 900 / 540)); }
    svg { width: 100%; height: auto; display: block; background: #fff; border: 1px solid #c4c4c4; }
    circle { stroke: #1a1a1a; stroke-width: .5; cursor: default; }
    circle.link { cursor: pointer; stroke-width: 1; }
    circle:focus { outline: none; stroke: #000; stroke-width: 3; }
    circle.hot { stroke: #000; stroke-width: 2.5; }
    .card { position: absolute; pointer-events: none; background: #fff; border: 1px solid #767676; padding: 6px 8px; font-size: 13px; width: max-content; max-width: 240px; box-shadow: 0 2px 6px rgba(0,0,0,.25); transform: translate(12px, -12px); z-index: 2; }
    .card.left { transform: translate(calc(-100% - 12px), -12px); }
    .card.up { transform: translate(12px, calc(12px - 100%)); }
    .card.left.up { transform: translate(calc(-100% - 12px), calc(12px - 100%)); }
    .card img { max-width: 200px; max-height: 130px; display: block; margin-bottom: 4px; }
    .card dl { margin: 4px 0 0; display: grid; grid-template-columns: auto 1fr; gap: 0 6px; }
    .card dt { color: #4a4a4a; }
    .card dd { margin: 0; overflow-wrap: anywhere; }
    .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; margin: 6px 0; align-items: center; }
    .sw { display: inline-block; width: 11px; height: 11px; margin-right: 4px; border: 1px solid #333; vertical-align: -1px; }
    .ramp { display: inline-block; width: 160px; height: 11px; border: 1px solid #333; vertical-align: -1px; margin: 0 6px; }
  `;

  /** The model's display name (the server's id is often only the folder name). */
  declare modelName: string;

  constructor() {
    super();
    this.source = 'collection';
    this.method = 'pca';
    this.color = 'style';
    this.points = [];
    this.tables = [];
    this.status = '';
    this.error = '';
    this.loading = false;
    this.info = '';
    this.modelName = '';
  }

  private emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('api') && this.api) void this.loadTables();
    if ((changed.has('api') || changed.has('source') || changed.has('method')) && this.api) void this.load();
  }

  private async loadTables(): Promise<void> {
    try {
      this.tables = (await this.api?.embeddingTables()) ?? [];
    } catch (e) {
      this.error = `Cannot list imported tables: ${(e as Error).message}`;
    }
  }

  /** Fetches the map of the current source and method. */
  async load(): Promise<void> {
    if (!this.api) return;
    const key = `${this.source}|${this.method}`;
    this.requested = key;
    const tables = this.source.startsWith('tables:') ? this.source.slice(7).split(',') : undefined;
    this.loading = true;
    this.error = '';
    this.status = `Computing the ${this.method.toUpperCase()} map…`;
    try {
      const m = await this.api.embeddingMap({
        source: tables ? 'tables' : 'collection',
        tables,
        method: this.method,
      });
      if (this.requested !== key) return;
      this.points = m.points.map((p) => ({ ...p, thumb: p.id ? this.api?.imageUrl(p.id) : undefined }));
      const evr = m.explainedVarianceRatio;
      this.info = `${m.points.length} points${m.sets.length > 1 ? ` (${m.sets.map((s) => `${s.name}: ${s.count}`).join(', ')})` : ''} · ${m.method.toUpperCase()}${evr ? ` · PC1 ${(100 * evr[0]).toFixed(1)}%, PC2 ${(100 * evr[1]).toFixed(1)}% of variance` : ''}${m.model ? ` · CLIP ${this.modelName || m.model}` : ''}`;
      this.status = '';
      const fields = this.fieldNames();
      if (fields.length && !fields.includes(this.color))
        this.setColor(fields.includes('style') ? 'style' : fields[0]);
    } catch (e) {
      if (this.requested !== key) return;
      this.points = [];
      this.status = '';
      this.error = `Cannot compute the map: ${(e as Error).message}`;
    } finally {
      if (this.requested === key) this.loading = false;
    }
  }

  private fieldNames(): string[] {
    return [...new Set(this.points.flatMap((p) => Object.keys(p.meta)))].sort();
  }

  private setColor(c: string): void {
    this.color = c;
    this.emit('ap-map-state', { color: c });
  }

  private async importTable(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const file = (form.querySelector('input[name=table]') as HTMLInputElement).files?.[0];
    if (!file || !this.api) {
      this.error = 'Choose a .parquet, .npy or .csv file to import.';
      return;
    }
    const column = (form.querySelector('input[name=column]') as HTMLInputElement).value.trim();
    this.status = `Importing ${file.name}…`;
    this.error = '';
    try {
      const t = await this.api.uploadEmbeddingTable(file, { column: column || undefined });
      await this.loadTables();
      form.reset();
      this.status = `Imported ${t.name}: ${t.rows} rows × ${t.dims} dimensions.`;
      this.emit('ap-map-state', { source: `tables:${t.id}` });
      this.source = `tables:${t.id}`;
    } catch (err) {
      this.status = '';
      this.error = `${file.name}: ${(err as Error).message}`;
    }
  }

  private pointAt(e: Event): MapPoint | undefined {
    const i = (e.target as Element).getAttribute?.('data-i');
    return i === null || i === undefined ? undefined : this.points[Number(i)];
  }

  private open(p: MapPoint | undefined): void {
    if (p?.id) this.emit('ap-open', { id: p.id });
  }

  private renderControls() {
    if (!this.api) return nothing;
    const all = this.tables.length > 1 ? `tables:${this.tables.map((t) => t.id).join(',')}` : '';
    const known = ['collection', ...this.tables.map((t) => `tables:${t.id}`), all];
    return html`<div class="controls">
        <label>Source <select name="source" @change=${(e: Event) => {
          this.source = (e.target as HTMLSelectElement).value;
          this.emit('ap-map-state', { source: this.source });
        }}>
          <option value="collection" ?selected=${this.source === 'collection'}>the collection (CLIP image embeddings)</option>
          ${this.tables.map((t) => html`<option value=${`tables:${t.id}`} ?selected=${this.source === `tables:${t.id}`}>table ${t.name} (${t.rows} rows)</option>`)}
          ${all ? html`<option value=${all} ?selected=${this.source === all}>all imported tables (${this.tables.reduce((a, t) => a + t.rows, 0)} rows)</option>` : nothing}
          ${known.includes(this.source) ? nothing : html`<option value=${this.source} selected>tables from the link</option>`}
        </select></label>
        <label>Projection <select name="method" @change=${(e: Event) => {
          this.method = (e.target as HTMLSelectElement).value as 'pca' | 'umap';
          this.emit('ap-map-state', { method: this.method });
        }}>
          <option value="pca" ?selected=${this.method === 'pca'}>PCA</option>
          <option value="umap" ?selected=${this.method === 'umap'}>UMAP</option>
        </select></label>
        ${this.renderColourSelect()}
      </div>
      <form @submit=${this.importTable}><fieldset>
        <legend>Import embeddings</legend>
        <label>Table (.parquet, .npy, .csv)<input type="file" name="table" accept=".parquet,.npy,.csv" /></label>
        <label>Embedding column (if several)<input type="text" name="column" size="18" placeholder="e.g. ViT-L/14@336px" /></label>
        <button type="submit">Import</button>
      </fieldset></form>`;
  }

  private renderColourSelect() {
    const fields = this.fieldNames();
    return html`<label>Colour by <select name="color" @change=${(e: Event) => this.setColor((e.target as HTMLSelectElement).value)}>
      ${fields.map((f) => html`<option ?selected=${f === this.color}>${f}</option>`)}</select></label>`;
  }

  private renderLegend(s: ColourScale) {
    if (s.kind === 'number') {
      const stops = Array.from({ length: 9 }, (_, i) => interpolateViridis(i / 8)).join(', ');
      return html`<div class="legend" aria-label=${`colour scale of ${this.color}`}>${this.color}:
        <span>${s.domain?.[0].toPrecision(3)}</span><span class="ramp" style="background: linear-gradient(to right, ${stops})"></span><span>${s.domain?.[1].toPrecision(3)}</span>
        ${this.points.some((p) => p.meta[this.color] == null) ? html`<span><span class="sw" style="background:${NONE}"></span>(none)</span>` : nothing}</div>`;
    }
    return html`<ul class="legend" aria-label=${`colours of ${this.color}`} style="list-style:none;padding:0">${s.entries.map(
      (e) =>
        html`<li><span class="sw" style="background:${e.colour}"></span>${e.value} <span style="color:#4a4a4a">(${e.count})</span></li>`,
    )}</ul>`;
  }

  private renderCard(x: (v: number) => number, y: (v: number) => number) {
    const h = this.hover;
    if (!h) return nothing;
    const left = x(h.x) > W * 0.6;
    const up = y(h.y) > H * 0.5;
    const show = (v: MetaValue) => (typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(3) : v);
    const meta = Object.entries(h.meta)
      .filter(([k, v]) => v !== null && v !== '' && k !== 'set')
      .slice(0, 6);
    return html`<div class="card ${left ? 'left' : ''} ${up ? 'up' : ''}" style="left:${((x(h.x) / W) * 100).toFixed(2)}%;top:${((y(h.y) / H) * 100).toFixed(2)}%">
      ${h.thumb ? html`<img src=${h.thumb} alt="" />` : nothing}<b>${h.title}</b>
      <dl>${h.set && !h.id ? html`<dt>set</dt><dd>${h.set}</dd>` : nothing}${meta.map(([k, v]) => html`<dt>${k}</dt><dd>${show(v)}</dd>`)}</dl></div>`;
  }

  override render() {
    const pts = this.points;
    const xs = extent(pts, (p) => p.x) as [number, number];
    const ys = extent(pts, (p) => p.y) as [number, number];
    const x = scaleLinear()
      .domain(xs[0] === undefined || xs[0] === xs[1] ? [(xs[0] ?? 0) - 1, (xs[1] ?? 0) + 1] : xs)
      .range([PAD, W - PAD]);
    const y = scaleLinear()
      .domain(ys[0] === undefined || ys[0] === ys[1] ? [(ys[0] ?? 0) - 1, (ys[1] ?? 0) + 1] : ys)
      .range([H - PAD, PAD]);
    const s = colourScale(pts, this.color);
    const r = pts.length > 500 ? 3 : pts.length > 100 ? 4.5 : 7;
    return html`${this.renderControls()}
      ${this.api ? nothing : this.renderColourSelect()}
      <div class="status" role="status">${this.status}${this.info && !this.status ? this.info : ''}</div>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${pts.length ? this.renderLegend(s) : nothing}
      <div class="plot">
        <svg viewBox="0 0 ${W} ${H}" role="img" aria-label=${`embedding map of ${pts.length} items coloured by ${this.color}`}
          @mouseover=${(e: Event) => (this.hover = this.pointAt(e) ?? this.hover)}
          @mouseout=${(e: Event) => {
            if (this.pointAt(e)) this.hover = undefined;
          }}
          @focusin=${(e: Event) => (this.hover = this.pointAt(e))} @focusout=${() => (this.hover = undefined)}
          @click=${(e: Event) => this.open(this.pointAt(e))}
          @keydown=${(e: KeyboardEvent) => (e.key === 'Enter' || e.key === ' ') && this.open(this.pointAt(e))}>
          ${pts.map(
            (
              p,
              i,
            ) => svg`<circle data-i=${i} data-id=${p.id ?? ''} class=${p.id ? 'link' : ''} cx=${x(p.x).toFixed(1)} cy=${y(p.y).toFixed(1)} r=${r}
              fill=${s.colour(p.meta[this.color])} tabindex=${p.id ? 0 : -1} role=${p.id ? 'link' : 'presentation'}
              aria-label=${p.id ? `${p.title}: open the painting` : nothing}><title>${p.title}</title></circle>`,
          )}
        </svg>
        ${this.renderCard(x, y)}
      </div>
      ${this.loading && !pts.length ? html`<p class="status">Loading…</p>` : nothing}
      ${!this.loading && !pts.length && !this.error ? html`<p class="status">No points: add paintings to the gallery or import an embeddings table.</p>` : nothing}`;
  }
}

customElements.define('ap-embedding-map', ApEmbeddingMap);
