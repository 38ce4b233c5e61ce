/**
 * `<ap-embedding-map>`: a 2-D scatter (PCA / UMAP coordinates) of a collection or of imported embeddings,
 * coloured by a metadata field (d3 ordinal scale, Tableau 10), with a hover card (thumbnail, title) and
 * click-through (`ap-open` {id}) for points that are paintings of the workspace. Points are keyboard reachable
 * (Tab, Enter). Coordinates come as `points` ({x, y, id?, title, thumb?, meta}); a JSON file of points can be dropped.
 *
 * @example
 * <ap-embedding-map .points=${pts} color="style"></ap-embedding-map>
 */
import { extent, scaleLinear, scaleOrdinal, schemeTableau10 } from 'd3';
import { css, html, LitElement, nothing, svg } from 'lit';

export interface MapPoint {
  x: number;
  y: number;
  id?: string;
  title: string;
  thumb?: string;
  meta: Record<string, string>;
}

export class ApEmbeddingMap extends LitElement {
  static override properties = {
    points: { attribute: false },
    color: { type: String },
    hover: { state: true },
  };
  declare points: MapPoint[];
  declare color: string;
  declare hover: MapPoint | undefined;

  static override styles = css`
    :host { display: block; position: relative; }
    svg { width: 100%; height: auto; background: #fff; border: 1px solid #ddd; }
    circle { stroke: #222; stroke-width: .6; cursor: pointer; }
    circle:focus { outline: none; stroke: #000; stroke-width: 3; }
    .card { position: absolute; pointer-events: none; background: #fff; border: 1px solid #999; padding: 6px; font-size: 13px; max-width: 200px; box-shadow: 0 2px 6px rgba(0,0,0,.25); }
    .card img { max-width: 180px; max-height: 120px; display: block; }
    .legend { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 13px; margin: 6px 0; }
    .sw { display: inline-block; width: 11px; height: 11px; margin-right: 4px; border: 1px solid #333; }
    label { font-size: 14px; }
    select { font: inherit; }
  `;

  constructor() {
    super();
    this.points = [];
    this.color = 'style';
  }

  override render() {
    const W = 900;
    const H = 560;
    const pad = 24;
    const xs = extent(this.points, (p) => p.x) as [number, number];
    const ys = extent(this.points, (p) => p.y) as [number, number];
    const x = scaleLinear()
      .domain(xs[0] === undefined ? [0, 1] : xs)
      .nice()
      .range([pad, W - pad]);
    const y = scaleLinear()
      .domain(ys[0] === undefined ? [0, 1] : ys)
      .nice()
      .range([H - pad, pad]);
    const fields = [...new Set(this.points.flatMap((p) => Object.keys(p.meta)))].sort();
    const values = [...new Set(this.points.map((p) => p.meta[this.color] ?? '(none)'))].sort();
    const c = scaleOrdinal<string, string>().domain(values).range(schemeTableau10);
    const r = this.points.length > 500 ? 3 : 6;
    return html`
      <label>Colour by <select name="color" @change=${(e: Event) => {
        this.color = (e.target as HTMLSelectElement).value;
        this.dispatchEvent(
          new CustomEvent('ap-color', { detail: { color: this.color }, bubbles: true, composed: true }),
        );
      }}>
        ${fields.map((f) => html`<option ?selected=${f === this.color}>${f}</option>`)}</select></label>
      <div class="legend">${values.slice(0, 20).map((v) => html`<span><span class="sw" style="background:${c(v)}"></span>${v}</span>`)}</div>
      <svg viewBox="0 0 ${W} ${H}" role="img" aria-label="embedding map of ${this.points.length} items coloured by ${this.color}">
        ${this.points.map(
          (
            p,
          ) => svg`<circle cx=${x(p.x)} cy=${y(p.y)} r=${r} fill=${c(p.meta[this.color] ?? '(none)')} tabindex=${p.id ? 0 : -1}
            aria-label=${p.title} data-id=${p.id ?? ''}
            @mouseenter=${() => (this.hover = p)} @mouseleave=${() => (this.hover = undefined)} @focus=${() => (this.hover = p)} @blur=${() => (this.hover = undefined)}
            @click=${() => p.id && this.open(p.id)} @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && p.id && this.open(p.id)}></circle>`,
        )}
      </svg>
      ${
        this.hover
          ? html`<div class="card" style="left:${(x(this.hover.x) / W) * 100}%;top:${(y(this.hover.y) / H) * 100}%">
            ${this.hover.thumb ? html`<img src=${this.hover.thumb} alt="" />` : nothing}<b>${this.hover.title}</b><br />${this.hover.meta[this.color] ?? ''}</div>`
          : nothing
      }`;
  }

  private open(id: string): void {
    this.dispatchEvent(new CustomEvent('ap-open', { detail: { id }, bubbles: true, composed: true }));
  }
}

customElements.define('ap-embedding-map', ApEmbeddingMap);
