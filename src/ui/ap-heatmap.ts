/**
 * `<ap-heatmap>`: the painting at its own aspect ratio with the heatmap over it (a canvas coloured with d3's
 * perceptually uniform maps), optional iso-contours (d3-contour) and the expert regions as SVG. Regions can be
 * drawn (rectangles by dragging, polygons by clicking points and closing with a double-click, Enter or a click on
 * the first point) and edited (drag a vertex handle; arrow keys move a selected region, Delete removes it).
 *
 * Events: `ap-region-drawn` {geometry}, `ap-region-edited` {id, geometry}, `ap-region-select` {id},
 * `ap-region-delete` {id}. Geometry is in painting pixels: `{kind:'box', x, y, w, h}` or
 * `{kind:'polygon', rings:[[[x, y], ...]], fillRule:'nonzero'}`.
 *
 * @example
 * <ap-heatmap .src=${url} .width=${768} .height=${546} .map=${map} .signed=${false} opacity="0.6"></ap-heatmap>
 */
import { contours, geoIdentity, geoPath } from 'd3';
import { css, html, LitElement, nothing, type PropertyValues, svg } from 'lit';
import { unsafeSVG } from 'lit/directives/unsafe-svg.js';
import type { Geometry, Point } from '../regions/region.ts';
import { writeSvgShapes } from '../regions/svg-shapes.ts';
import { colourMap, normaliseMap, type Scheme } from './colormap.ts';

export interface UiRegion {
  id: string;
  label: string;
  dimension?: string;
  geometry: Geometry;
}

export type DrawMode = 'none' | 'rect' | 'polygon';

/** Editable vertices of a geometry (box corners or the first ring), or none. */
function vertices(g: Geometry): Point[] {
  if (g.kind === 'box')
    return [
      [g.x, g.y],
      [g.x + g.w, g.y],
      [g.x + g.w, g.y + g.h],
      [g.x, g.y + g.h],
    ];
  if (g.kind === 'polygon' && g.rings.length === 1) return g.rings[0];
  return [];
}

/** Geometry with vertex k moved to p (box corners keep the box axis-aligned). */
function moveVertex(g: Geometry, k: number, p: Point): Geometry {
  if (g.kind === 'box') {
    const opp = vertices(g)[(k + 2) % 4];
    return {
      kind: 'box',
      x: Math.min(p[0], opp[0]),
      y: Math.min(p[1], opp[1]),
      w: Math.abs(p[0] - opp[0]),
      h: Math.abs(p[1] - opp[1]),
    };
  }
  if (g.kind === 'polygon') return { ...g, rings: [g.rings[0].map((q, i) => (i === k ? p : q))] };
  return g;
}

/** Geometry moved by (dx, dy). */
function translate(g: Geometry, dx: number, dy: number): Geometry {
  if (g.kind === 'box') return { ...g, x: g.x + dx, y: g.y + dy };
  if (g.kind === 'polygon' || g.kind === 'path')
    return { ...g, rings: g.rings.map((r) => r.map(([x, y]) => [x + dx, y + dy] as Point)) };
  return g;
}

export class ApHeatmap extends LitElement {
  static override properties = {
    src: { type: String },
    width: { type: Number },
    height: { type: Number },
    map: { attribute: false },
    signed: { type: Boolean },
    opacity: { type: Number },
    threshold: { type: Number },
    contours: { type: Boolean },
    overlay: { type: Boolean },
    scheme: { type: String },
    regions: { attribute: false },
    selected: { type: String },
    drawMode: { type: String, attribute: 'draw-mode' },
    label: { type: String },
    draft: { state: true },
  };

  declare src: string;
  declare width: number;
  declare height: number;
  /** The map in painting pixels [height, width] (NaN outside the model's view), or undefined. */
  declare map: Float32Array | undefined;
  declare signed: boolean;
  declare opacity: number;
  declare threshold: number;
  declare contours: boolean;
  declare overlay: boolean;
  declare scheme: Scheme;
  declare regions: UiRegion[];
  declare selected: string;
  declare drawMode: DrawMode;
  declare label: string;
  declare draft: Point[] | undefined;
  private drag?:
    | { kind: 'rect'; start: Point }
    | { kind: 'vertex'; id: string; k: number; geometry: Geometry };

  static override styles = css`
    :host { display: block; }
    .stage { position: relative; width: 100%; background: #1b1b1b; line-height: 0; }
    img, canvas, svg { position: absolute; inset: 0; width: 100%; height: 100%; }
    img { object-fit: fill; }
    canvas { image-rendering: auto; }
    svg.layer { touch-action: none; }
    svg.layer.drawing { cursor: crosshair; }
    .contour { fill: none; stroke: #fff; stroke-width: 1.5; vector-effect: non-scaling-stroke; opacity: .9; }
    .region { fill: rgba(0, 229, 255, .08); stroke: #00e5ff; stroke-width: 2.5; vector-effect: non-scaling-stroke; cursor: pointer; }
    .region-halo { fill: none; stroke: #000; stroke-width: 4.5; vector-effect: non-scaling-stroke; opacity: .55; pointer-events: none; }
    .region *, .region-halo * { vector-effect: non-scaling-stroke; }
    g.r:focus { outline: none; }
    g.r:focus .region, g.r.sel .region { stroke: #ffbf47; fill: rgba(255, 191, 71, .12); }
    .handle { fill: #ffbf47; stroke: #000; stroke-width: 1; vector-effect: non-scaling-stroke; cursor: move; }
    .draft { fill: rgba(255, 191, 71, .15); stroke: #ffbf47; stroke-width: 2; stroke-dasharray: 6 4; vector-effect: non-scaling-stroke; }
  `;

  constructor() {
    super();
    this.src = '';
    this.width = 1;
    this.height = 1;
    this.signed = false;
    this.opacity = 0.6;
    this.threshold = 0;
    this.contours = false;
    this.overlay = true;
    this.scheme = 'inferno';
    this.regions = [];
    this.selected = '';
    this.drawMode = 'none';
    this.label = 'painting';
  }

  override render() {
    const { width: W, height: H } = this;
    const handleR = Math.max(W, H) / 120;
    const sel = this.regions.find((r) => r.id === this.selected);
    return html`<div class="stage" style="aspect-ratio: ${W} / ${H}">
      ${this.src ? html`<img src=${this.src} alt=${this.label} draggable="false" />` : nothing}
      <canvas width=${this.map ? W : 1} height=${this.map ? H : 1} ?hidden=${!this.overlay || !this.map} aria-hidden="true"></canvas>
      <svg
        class="layer ${this.drawMode !== 'none' ? 'drawing' : ''}"
        viewBox="0 0 ${W} ${H}"
        preserveAspectRatio="none"
        tabindex=${this.drawMode === 'none' ? '-1' : '0'}
        role="group"
        aria-label="regions over ${this.label}"
        @pointerdown=${this.onDown}
        @pointermove=${this.onMove}
        @pointerup=${this.onUp}
        @dblclick=${this.onDblClick}
      >
        <g class="contours">${this.contours && this.overlay && this.map ? this.contourPaths() : nothing}</g>
        ${this.regions.map((r) => this.renderRegion(r))}
        ${
          sel && this.drawMode === 'none'
            ? vertices(sel.geometry).map(
                (p, k) =>
                  svg`<circle class="handle" data-k=${k} cx=${p[0]} cy=${p[1]} r=${handleR} @pointerdown=${(e: PointerEvent) => this.startVertex(e, sel, k)}></circle>`,
              )
            : nothing
        }
        ${this.draft ? this.renderDraft(handleR) : nothing}
      </svg>
    </div>`;
  }

  private renderRegion(r: UiRegion) {
    const g = r.geometry;
    const shape =
      g.kind === 'box'
        ? svg`<rect x=${g.x} y=${g.y} width=${g.w} height=${g.h}></rect>`
        : g.kind === 'polygon'
          ? svg`${g.rings.map((ring) => svg`<polygon points=${ring.map((p) => p.join(',')).join(' ')}></polygon>`)}`
          : unsafeSVG(writeSvgShapes(g).replace(/^<svg[^>]*>|<\/svg>$/g, ''));
    return svg`<g class="r ${r.id === this.selected ? 'sel' : ''}" data-region=${r.id} tabindex="0" role="button"
        aria-label=${`region ${r.label}${r.dimension ? ` (${r.dimension})` : ''}`} aria-pressed=${r.id === this.selected}
        @keydown=${(e: KeyboardEvent) => this.onRegionKey(e, r)}
        @click=${() => this.select(r.id)}>
      <title>${r.label}</title><g class="region-halo">${shape}</g><g class="region">${shape}</g></g>`;
  }

  private renderDraft(handleR: number) {
    const pts = this.draft ?? [];
    if (this.drawMode === 'rect' && pts.length === 2) {
      const [a, b] = pts;
      return svg`<rect class="draft" x=${Math.min(a[0], b[0])} y=${Math.min(a[1], b[1])} width=${Math.abs(b[0] - a[0])} height=${Math.abs(b[1] - a[1])}></rect>`;
    }
    return svg`<polyline class="draft" points=${pts.map((p) => p.join(',')).join(' ')}></polyline>
      ${pts.slice(0, 1).map((p) => svg`<circle class="handle" cx=${p[0]} cy=${p[1]} r=${handleR}></circle>`)}`;
  }

  /** Iso-lines of the normalised map at 50/70/90 % of its strength, computed on a grid of at most 160 px. */
  private contourPaths() {
    const map = this.map as Float32Array;
    const { width: W, height: H } = this;
    const k = Math.min(1, 160 / Math.max(W, H));
    const w = Math.max(2, Math.round(W * k));
    const h = Math.max(2, Math.round(H * k));
    const t = normaliseMap(map, this.signed);
    const grid = new Float64Array(w * h); // [h, w], nearest sample, strength 0..1
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        const v =
          t[
            Math.min(H - 1, Math.floor(((i + 0.5) * H) / h)) * W +
              Math.min(W - 1, Math.floor(((j + 0.5) * W) / w))
          ];
        grid[i * w + j] = Number.isNaN(v) ? 0 : this.signed ? Math.abs(v - 0.5) * 2 : v;
      }
    const levels = [0.5, 0.7, 0.9].filter((l) => l > this.threshold);
    const path = geoPath(geoIdentity().scale(W / w) as never);
    return contours()
      .size([w, h])
      .thresholds(levels)(Array.from(grid))
      .map((c) => svg`<path class="contour" data-level=${c.value} d=${path(c as never) ?? ''}></path>`);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (
      ['map', 'signed', 'opacity', 'threshold', 'scheme', 'overlay', 'width', 'height'].some((k) =>
        changed.has(k as keyof ApHeatmap),
      )
    )
      this.paint();
  }

  /** Colours the map into the canvas. */
  private paint(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    if (!canvas || !this.map) return;
    if (this.map.length !== this.width * this.height)
      throw new Error(`ap-heatmap: map has ${this.map.length} values for ${this.width}×${this.height}`);
    const rgba = colourMap(this.map, {
      signed: this.signed,
      opacity: this.opacity,
      threshold: this.threshold,
      scheme: this.scheme,
    });
    canvas.getContext('2d')?.putImageData(new ImageData(rgba, this.width, this.height), 0, 0);
  }

  /** Painting pixel under a pointer event. */
  private toPainting(e: PointerEvent | MouseEvent): Point {
    const svgEl = this.renderRoot.querySelector('svg.layer') as SVGSVGElement;
    const r = svgEl.getBoundingClientRect();
    const x = ((e.clientX - r.left) / r.width) * this.width;
    const y = ((e.clientY - r.top) / r.height) * this.height;
    return [
      Math.round(Math.max(0, Math.min(this.width, x))),
      Math.round(Math.max(0, Math.min(this.height, y))),
    ];
  }

  private emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  private select(id: string): void {
    if (this.drawMode !== 'none') return;
    this.selected = id;
    this.emit('ap-region-select', { id });
  }

  private startVertex(e: PointerEvent, r: UiRegion, k: number): void {
    e.stopPropagation();
    (e.currentTarget as Element).setPointerCapture?.(e.pointerId);
    this.drag = { kind: 'vertex', id: r.id, k, geometry: r.geometry };
  }

  private onDown(e: PointerEvent): void {
    if (this.drawMode !== 'none') (e.currentTarget as SVGSVGElement).focus?.();
    if (this.drawMode === 'rect') {
      const p = this.toPainting(e);
      this.drag = { kind: 'rect', start: p };
      this.draft = [p, p];
      (e.currentTarget as Element).setPointerCapture?.(e.pointerId);
    } else if (this.drawMode === 'polygon') {
      const p = this.toPainting(e);
      const pts = this.draft ?? [];
      const first = pts[0];
      const near =
        first && Math.hypot(p[0] - first[0], p[1] - first[1]) < Math.max(this.width, this.height) / 60;
      if (near && pts.length >= 3) this.closePolygon();
      else this.draft = [...pts, p];
    }
  }

  private onMove(e: PointerEvent): void {
    if (!this.drag) return;
    const p = this.toPainting(e);
    if (this.drag.kind === 'rect') this.draft = [this.drag.start, p];
    else {
      const d = this.drag;
      this.regions = this.regions.map((r) =>
        r.id === d.id ? { ...r, geometry: moveVertex(d.geometry, d.k, p) } : r,
      );
    }
  }

  private onUp(e: PointerEvent): void {
    const d = this.drag;
    this.drag = undefined;
    if (!d) return;
    if (d.kind === 'rect') {
      const [a, b] = [d.start, this.toPainting(e)];
      this.draft = undefined;
      const box: Geometry = {
        kind: 'box',
        x: Math.min(a[0], b[0]),
        y: Math.min(a[1], b[1]),
        w: Math.abs(b[0] - a[0]),
        h: Math.abs(b[1] - a[1]),
      };
      if (box.w >= 2 && box.h >= 2) this.emit('ap-region-drawn', { geometry: box });
    } else {
      const r = this.regions.find((x) => x.id === d.id);
      if (r) this.emit('ap-region-edited', { id: r.id, geometry: r.geometry });
    }
  }

  private onDblClick(): void {
    if (this.drawMode === 'polygon') this.closePolygon();
  }

  /** Ends the polygon being drawn (duplicate points from a double-click are dropped). */
  closePolygon(): void {
    const pts = (this.draft ?? []).filter(
      (p, i, a) => i === 0 || p[0] !== a[i - 1][0] || p[1] !== a[i - 1][1],
    );
    this.draft = undefined;
    if (pts.length >= 3)
      this.emit('ap-region-drawn', { geometry: { kind: 'polygon', rings: [pts], fillRule: 'nonzero' } });
  }

  /** Keyboard: Enter closes a polygon, Escape cancels a drawing. */
  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('keydown', this.onKey);
  }
  override disconnectedCallback(): void {
    this.removeEventListener('keydown', this.onKey);
    super.disconnectedCallback();
  }
  private onKey = (e: KeyboardEvent) => {
    if (this.drawMode === 'polygon' && e.key === 'Enter') this.closePolygon();
    if (e.key === 'Escape') this.draft = undefined;
  };

  private onRegionKey(e: KeyboardEvent, r: UiRegion): void {
    const step = Math.max(1, Math.round(Math.max(this.width, this.height) / 100)) * (e.shiftKey ? 5 : 1);
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, -step],
      ArrowDown: [0, step],
    };
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.select(r.id);
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      this.emit('ap-region-delete', { id: r.id });
    } else if (moves[e.key] && r.id === this.selected) {
      e.preventDefault();
      const geometry = translate(r.geometry, ...moves[e.key]);
      this.regions = this.regions.map((x) => (x.id === r.id ? { ...x, geometry } : x));
      this.emit('ap-region-edited', { id: r.id, geometry });
    }
  }
}

customElements.define('ap-heatmap', ApHeatmap);

declare global {
  interface HTMLElementTagNameMap {
    'ap-heatmap': ApHeatmap;
  }
}
