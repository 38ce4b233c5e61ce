/**
 * `<ap-heatmap>`: the painting at its own aspect ratio with the heatmap over it (a canvas coloured with d3's
 * perceptually uniform maps over a given or own domain, with a transparency ramp), optional iso-contours
 * (d3-contour) and the expert regions as SVG, each with its label drawn beside it. Regions can be drawn
 * (rectangles by dragging, polygons by clicking points and closing with a double-click, Enter or a click on the
 * first point) and edited (drag a vertex handle; arrow keys move a selected region, Delete removes it); locked
 * regions (imported expert regions) show a lock and are not changed here (`ap-region-locked` tells the host).
 *
 * Deep zoom: with `zoomable`, the wheel zooms around the pointer (1–16×), dragging pans, and the +, − and Fit
 * buttons (or the +, − and 0 keys on the focused painting) do the same; the map, contours and regions zoom with
 * the painting. When the painting came from a IIIF Image API (`iiif` = the server's proxy of its service,
 * `/api/paintings/:id/iiif`), the visible part is fetched from it at screen resolution once zoomed in, so details
 * sharper than the stored copy appear.
 *
 * Events: `ap-region-drawn` {geometry}, `ap-region-edited` {id, geometry}, `ap-region-select` {id},
 * `ap-region-delete` {id}, `ap-region-locked` {id}. Geometry is in painting pixels: `{kind:'box', x, y, w, h}` or
 * `{kind:'polygon', rings:[[[x, y], ...]], fillRule:'nonzero'}`.
 *
 * @example
 * <ap-heatmap .src=${url} .width=${768} .height=${546} .map=${map} .signed=${false} opacity="0.7" zoomable></ap-heatmap>
 */
import { contours, geoPath, geoTransform } from 'd3';
import { css, html, LitElement, nothing, type PropertyValues, svg } from 'lit';
import { unsafeSVG } from 'lit/directives/unsafe-svg.js';
import { type Geometry, geometryBounds, type Point } from '../regions/region.ts';
import { writeSvgShapes } from '../regions/svg-shapes.ts';
import { colourMap, displayDomain, mapGrid, normaliseMap, type Scheme } from './colormap.ts';

export interface UiRegion {
  id: string;
  label: string;
  dimension?: string;
  geometry: Geometry;
  /** An imported expert region, not to be changed before it is unlocked. */
  locked?: boolean;
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

/**
 * Geometry moved by (dx, dy).
 *
 * @example
 * translate({ kind: 'box', x: 1, y: 2, w: 3, h: 4 }, 5, 0); // x: 6
 */
export function translate(g: Geometry, dx: number, dy: number): Geometry {
  if (g.kind === 'box') return { ...g, x: g.x + dx, y: g.y + dy };
  if (g.kind === 'polygon' || g.kind === 'path')
    return { ...g, rings: g.rings.map((r) => r.map(([x, y]) => [x + dx, y + dy] as Point)) };
  if (g.kind === 'circle' || g.kind === 'ellipse') return { ...g, cx: g.cx + dx, cy: g.cy + dy };
  if (g.kind === 'multi') return { ...g, parts: g.parts.map((p) => translate(p, dx, dy)) };
  return g;
}

const MAX_ZOOM = 16;

export class ApHeatmap extends LitElement {
  static override properties = {
    src: { type: String },
    width: { type: Number },
    height: { type: Number },
    map: { attribute: false },
    mapShape: { attribute: false },
    signed: { type: Boolean },
    opacity: { type: Number },
    threshold: { type: Number },
    contours: { type: Boolean },
    overlay: { type: Boolean },
    scheme: { type: String },
    domain: { attribute: false },
    clip: { type: Number },
    regions: { attribute: false },
    showRegions: { type: Boolean, attribute: 'show-regions' },
    showLabels: { type: Boolean, attribute: 'show-labels' },
    selected: { type: String },
    drawMode: { type: String, attribute: 'draw-mode' },
    label: { type: String },
    zoomable: { type: Boolean },
    iiif: { type: String },
    draft: { state: true },
    zoom: { state: true },
    tx: { state: true },
    ty: { state: true },
    detail: { state: true },
  };

  declare src: string;
  declare width: number;
  declare height: number;
  /**
   * The map over the painting (NaN outside the model's view), or undefined: [height, width] in painting pixels,
   * or a smaller grid of the same aspect (the server's copy of a painting above its map pixel budget), which is
   * stretched over the painting.
   */
  declare map: Float32Array | undefined;
  /** The map's [rows, cols] when known (the `.npy` header's); else found from its length and the aspect. */
  declare mapShape: readonly number[] | undefined;
  declare signed: boolean;
  declare opacity: number;
  declare threshold: number;
  declare contours: boolean;
  declare overlay: boolean;
  declare scheme: Scheme;
  /** The value range coloured (a grid's shared scale); default: the map's own, clipped at `clip`. */
  declare domain: [number, number] | undefined;
  /** Percentile the map's own range is clipped at (100: none). */
  declare clip: number;
  declare regions: UiRegion[];
  declare showRegions: boolean;
  /** Region labels drawn beside the regions. */
  declare showLabels: boolean;
  declare selected: string;
  declare drawMode: DrawMode;
  declare label: string;
  declare zoomable: boolean;
  /** The server's proxy of the painting's IIIF Image API service (`/api/paintings/:id/iiif`), when it has one. */
  declare iiif: string;
  declare draft: Point[] | undefined;
  declare zoom: number;
  declare tx: number;
  declare ty: number;
  /** A sharper image of the visible part (IIIF), in painting pixels. */
  declare detail: { src: string; x: number; y: number; w: number; h: number } | undefined;
  private drag?:
    | { kind: 'rect'; start: Point }
    | { kind: 'vertex'; id: string; k: number; geometry: Geometry }
    | { kind: 'pan'; x: number; y: number; tx: number; ty: number; moved: boolean };
  private iiifInfo?: Promise<{ width: number; height: number } | undefined>;
  private detailTimer?: ReturnType<typeof setTimeout>;

  static override styles = css`
    :host { display: block; }
    .stage { position: relative; width: 100%; background: #1b1b1b; line-height: 0; overflow: hidden; }
    .view { position: absolute; inset: 0; transform-origin: 0 0; }
    img, canvas, svg { position: absolute; inset: 0; width: 100%; height: 100%; }
    img { object-fit: fill; }
    img.detail { inset: auto; }
    canvas { image-rendering: auto; }
    svg.layer { touch-action: none; }
    svg.layer.drawing { cursor: crosshair; }
    svg.layer.pannable { cursor: grab; }
    svg.layer:focus-visible { outline: 3px solid #b35c00; outline-offset: -3px; }
    .contour { fill: none; stroke: #fff; stroke-width: 1.5; vector-effect: non-scaling-stroke; opacity: .9; }
    .region { fill: rgba(0, 229, 255, .06); stroke: #00e5ff; stroke-width: 2.5; vector-effect: non-scaling-stroke; cursor: pointer; }
    .r.locked .region { stroke-dasharray: 7 4; }
    .region-halo { fill: none; stroke: #000; stroke-width: 4.5; vector-effect: non-scaling-stroke; opacity: .55; pointer-events: none; }
    .region *, .region-halo * { vector-effect: non-scaling-stroke; }
    text.rl { fill: #fff; stroke: #000; stroke-width: 3px; paint-order: stroke; stroke-linejoin: round; font-family: system-ui, sans-serif; font-weight: 600; pointer-events: none; }
    g.r:focus { outline: none; }
    g.r:focus .region, g.r.sel .region { stroke: #ffbf47; fill: rgba(255, 191, 71, .12); }
    .handle { fill: #ffbf47; stroke: #000; stroke-width: 1; vector-effect: non-scaling-stroke; cursor: move; }
    .draft { fill: rgba(255, 191, 71, .15); stroke: #ffbf47; stroke-width: 2; stroke-dasharray: 6 4; vector-effect: non-scaling-stroke; }
    .zoombar { position: absolute; right: 6px; top: 6px; display: flex; gap: 4px; line-height: 1.2; z-index: 2; }
    .zoombar button { font: 600 14px system-ui, sans-serif; min-width: 28px; height: 28px; border: 1px solid #222; border-radius: 4px;
      background: rgba(255, 255, 255, .92); color: #111; cursor: pointer; padding: 0 6px; }
    .zoombar button:focus-visible { outline: 3px solid #b35c00; outline-offset: 1px; }
    .zoombar output { align-self: center; background: rgba(0, 0, 0, .65); color: #fff; font-size: 12px; padding: 2px 5px; border-radius: 3px; }
  `;

  constructor() {
    super();
    this.src = '';
    this.width = 1;
    this.height = 1;
    this.signed = false;
    this.opacity = 0.7;
    this.threshold = 0;
    this.contours = false;
    this.overlay = true;
    this.scheme = 'inferno';
    this.clip = 100;
    this.regions = [];
    this.showRegions = true;
    this.showLabels = true;
    this.selected = '';
    this.drawMode = 'none';
    this.label = 'painting';
    this.zoomable = false;
    this.iiif = '';
    this.zoom = 1;
    this.tx = 0;
    this.ty = 0;
  }

  /** The map's grid (its own size, stretched over the painting), or undefined when it has no usable one. */
  mapGrid(): { width: number; height: number } | undefined {
    if (!this.map) return undefined;
    try {
      return mapGrid(this.map.length, this.width, this.height, this.mapShape);
    } catch {
      return undefined;
    }
  }

  /** The colour domain in use (given, or the map's own clipped range). */
  colourDomain(): [number, number] | undefined {
    if (!this.map) return undefined;
    return this.domain ?? displayDomain(this.map, { signed: this.signed, clip: this.clip });
  }

  override render() {
    const { width: W, height: H } = this;
    const handleR = Math.max(W, H) / 120 / Math.sqrt(this.zoom);
    const sel = this.regions.find((r) => r.id === this.selected);
    const pannable = this.zoom > 1 && this.drawMode === 'none';
    const grid = this.mapGrid();
    return html`<div class="stage" style="aspect-ratio: ${W} / ${H}" @wheel=${this.onWheel}>
      <div class="view" style="transform: translate(${this.tx}px, ${this.ty}px) scale(${this.zoom})">
        ${this.src ? html`<img src=${this.src} alt=${this.label} draggable="false" />` : nothing}
        ${
          this.detail
            ? html`<img class="detail" src=${this.detail.src} alt="" draggable="false"
              style="left:${(100 * this.detail.x) / W}%;top:${(100 * this.detail.y) / H}%;width:${(100 * this.detail.w) / W}%;height:${(100 * this.detail.h) / H}%" />`
            : nothing
        }
        <canvas width=${grid?.width ?? 1} height=${grid?.height ?? 1} ?hidden=${!this.overlay || !grid} aria-hidden="true"></canvas>
        <svg
          class="layer ${this.drawMode !== 'none' ? 'drawing' : ''} ${pannable ? 'pannable' : ''}"
          viewBox="0 0 ${W} ${H}"
          preserveAspectRatio="none"
          tabindex=${this.drawMode === 'none' && !this.zoomable ? '-1' : '0'}
          role="group"
          aria-label="regions over ${this.label}"
          @pointerdown=${this.onDown}
          @pointermove=${this.onMove}
          @pointerup=${this.onUp}
          @dblclick=${this.onDblClick}
        >
          <g class="contours">${this.contours && this.overlay && grid ? this.contourPaths(grid) : nothing}</g>
          ${this.showRegions ? this.regions.map((r) => this.renderRegion(r)) : nothing}
          ${this.showRegions && this.showLabels ? this.regions.map((r) => this.renderLabel(r)) : nothing}
          ${
            sel && !sel.locked && this.drawMode === 'none' && this.showRegions
              ? vertices(sel.geometry).map(
                  (p, k) =>
                    svg`<circle class="handle" data-k=${k} cx=${p[0]} cy=${p[1]} r=${handleR} @pointerdown=${(e: PointerEvent) => this.startVertex(e, sel, k)}></circle>`,
                )
              : nothing
          }
          ${this.draft ? this.renderDraft(handleR) : nothing}
        </svg>
      </div>
      ${
        this.zoomable
          ? html`<div class="zoombar">
            ${this.zoom > 1 ? html`<output aria-live="polite">${this.zoom.toFixed(1)}×</output>` : nothing}
            <button type="button" name="zoom-in" aria-label="zoom in" @click=${() => this.zoomBy(1.6)}>+</button>
            <button type="button" name="zoom-out" aria-label="zoom out" ?disabled=${this.zoom <= 1} @click=${() => this.zoomBy(1 / 1.6)}>−</button>
            <button type="button" name="zoom-fit" aria-label="fit the painting to the window" ?disabled=${this.zoom <= 1} @click=${() => this.fit()}>Fit</button>
          </div>`
          : nothing
      }
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
    return svg`<g class="r ${r.id === this.selected ? 'sel' : ''} ${r.locked ? 'locked' : ''}" data-region=${r.id} tabindex="0" role="button"
        aria-label=${`region ${r.label}${r.dimension ? ` (${r.dimension})` : ''}${r.locked ? ', locked' : ''}`} aria-pressed=${r.id === this.selected}
        @keydown=${(e: KeyboardEvent) => this.onRegionKey(e, r)}
        @click=${() => this.select(r.id)}>
      <title>${r.label}${r.locked ? ' (locked)' : ''}</title><g class="region-halo">${shape}</g><g class="region">${shape}</g></g>`;
  }

  /** The region's label at its top-left corner (inside the painting), sized for the painting. */
  private renderLabel(r: UiRegion) {
    const [x0, y0, x1] = geometryBounds(r.geometry, { width: this.width, height: this.height });
    if (!Number.isFinite(x0)) return nothing;
    const size = Math.max(this.width, this.height) / 42 / Math.sqrt(this.zoom);
    const text = r.label;
    const maxChars = Math.max(6, Math.floor(((x1 - x0) * 1.6) / size) + 6);
    const shown = text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
    const y = y0 - size * 0.3 > size ? y0 - size * 0.3 : y0 + size;
    return svg`<text class="rl" data-label-for=${r.id} x=${Math.max(0, x0 + size * 0.15)} y=${y} font-size=${size}>${shown}</text>`;
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
  private contourPaths(mapSize: { width: number; height: number }) {
    const map = this.map as Float32Array;
    const { width: W, height: H } = mapSize;
    const k = Math.min(1, 160 / Math.max(W, H));
    const w = Math.max(2, Math.round(W * k));
    const h = Math.max(2, Math.round(H * k));
    const t = normaliseMap(map, this.signed, this.colourDomain());
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
    // grid cells → painting pixels (the map may be a smaller copy of the painting)
    const sx = this.width / w;
    const sy = this.height / h;
    const path = geoPath(
      geoTransform({
        point(x, y) {
          this.stream.point(x * sx, y * sy);
        },
      }),
    );
    return contours()
      .size([w, h])
      .thresholds(levels)(Array.from(grid))
      .map((c) => svg`<path class="contour" data-level=${c.value} d=${path(c as never) ?? ''}></path>`);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (
      [
        'map',
        'mapShape',
        'signed',
        'opacity',
        'threshold',
        'scheme',
        'overlay',
        'width',
        'height',
        'domain',
        'clip',
      ].some((k) => changed.has(k as keyof ApHeatmap))
    )
      this.paint();
    if (changed.has('src') && changed.get('src') !== undefined) this.fit();
  }

  /** Colours the map into the canvas. */
  private paint(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    const grid = this.mapGrid();
    if (!canvas || !this.map || !grid) return;
    const rgba = colourMap(this.map, {
      signed: this.signed,
      opacity: this.opacity,
      threshold: this.threshold,
      scheme: this.scheme,
      domain: this.colourDomain(),
    });
    canvas.getContext('2d')?.putImageData(new ImageData(rgba, grid.width, grid.height), 0, 0);
  }

  // ---- zoom and pan

  private stageSize(): { w: number; h: number } {
    const r = (this.renderRoot.querySelector('.stage') as HTMLElement | null)?.getBoundingClientRect();
    return { w: r?.width ?? 1, h: r?.height ?? 1 };
  }

  /** Keeps the zoomed painting covering the stage. */
  private clampPan(): void {
    const { w, h } = this.stageSize();
    this.tx = Math.min(0, Math.max(w - w * this.zoom, this.tx));
    this.ty = Math.min(0, Math.max(h - h * this.zoom, this.ty));
  }

  /**
   * Zooms by a factor around a point of the stage (CSS px from its top-left; default its centre).
   *
   * @example
   * el.zoomBy(2); // 2× around the centre
   */
  zoomBy(factor: number, at?: { x: number; y: number }): void {
    const { w, h } = this.stageSize();
    const c = at ?? { x: w / 2, y: h / 2 };
    const k = Math.min(MAX_ZOOM, Math.max(1, this.zoom * factor));
    this.tx = c.x - ((c.x - this.tx) * k) / this.zoom;
    this.ty = c.y - ((c.y - this.ty) * k) / this.zoom;
    this.zoom = k;
    this.clampPan();
    this.scheduleDetail();
  }

  /** Back to the whole painting in the window. */
  fit(): void {
    this.zoom = 1;
    this.tx = 0;
    this.ty = 0;
    this.detail = undefined;
  }

  private onWheel(e: WheelEvent): void {
    if (!this.zoomable) return;
    e.preventDefault();
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    this.zoomBy(Math.exp(-e.deltaY * 0.0015), { x: e.clientX - r.left, y: e.clientY - r.top });
  }

  /** The visible part of the painting in painting pixels [x, y, w, h]. */
  visibleRect(): [number, number, number, number] {
    const { w, h } = this.stageSize();
    const x = (-this.tx / (w * this.zoom)) * this.width;
    const y = (-this.ty / (h * this.zoom)) * this.height;
    return [x, y, this.width / this.zoom, this.height / this.zoom];
  }

  /** Once zoomed in on a IIIF painting: fetch the visible part at screen resolution (debounced). */
  private scheduleDetail(): void {
    clearTimeout(this.detailTimer);
    if (!this.iiif || this.zoom <= 1.5) {
      this.detail = undefined;
      return;
    }
    this.detailTimer = setTimeout(() => void this.loadDetail(), 250);
  }

  private async loadDetail(): Promise<void> {
    // `iiif` is this server's proxy of the painting's image service (pages may only load their own origin's images)
    const base = this.iiif.replace(/\/$/, '');
    this.iiifInfo ??= fetch(`${base}/info`)
      .then((r) => (r.ok ? r.json() : undefined))
      .catch(() => undefined);
    const info = await this.iiifInfo;
    if (!info?.width || !info?.height || this.zoom <= 1.5) return;
    const [x, y, w, h] = this.visibleRect();
    const sx = info.width / this.width;
    const sy = info.height / this.height;
    const r = [x * sx, y * sy, w * sx, h * sy].map((v) => Math.max(0, Math.round(v)));
    r[2] = Math.min(r[2], info.width - r[0]);
    r[3] = Math.min(r[3], info.height - r[1]);
    const px = Math.round(this.stageSize().w * (window.devicePixelRatio || 1));
    // only worth it when the service has more pixels than the stored copy shows
    if (r[2] <= px * 0.8 && sx <= 1) return;
    const q = new URLSearchParams({
      x: `${r[0]}`,
      y: `${r[1]}`,
      w: `${r[2]}`,
      h: `${r[3]}`,
      size: `${Math.min(px, r[2])}`,
    });
    this.detail = { src: `${base}/region?${q}`, x: r[0] / sx, y: r[1] / sy, w: r[2] / sx, h: r[3] / sy };
  }

  // ---- drawing and editing

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
    if (this.drag?.kind === 'pan' && this.drag.moved) return;
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
    } else if (this.zoom > 1) {
      this.drag = { kind: 'pan', x: e.clientX, y: e.clientY, tx: this.tx, ty: this.ty, moved: false };
    }
  }

  private onMove(e: PointerEvent): void {
    const d = this.drag;
    if (!d) return;
    if (d.kind === 'pan') {
      if (Math.abs(e.clientX - d.x) + Math.abs(e.clientY - d.y) > 3) {
        if (!d.moved) (e.currentTarget as Element).setPointerCapture?.(e.pointerId);
        d.moved = true;
      }
      this.tx = d.tx + e.clientX - d.x;
      this.ty = d.ty + e.clientY - d.y;
      this.clampPan();
      return;
    }
    const p = this.toPainting(e);
    if (d.kind === 'rect') this.draft = [d.start, p];
    else
      this.regions = this.regions.map((r) =>
        r.id === d.id ? { ...r, geometry: moveVertex(d.geometry, d.k, p) } : r,
      );
  }

  private onUp(e: PointerEvent): void {
    const d = this.drag;
    if (d?.kind === 'pan') {
      // the click that follows a pan must not select a region
      setTimeout(() => {
        if (this.drag === d) this.drag = undefined;
      });
      if (d.moved) this.scheduleDetail();
      return;
    }
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

  /** Keyboard: Enter closes a polygon, Escape cancels a drawing; +, − and 0 zoom. */
  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('keydown', this.onKey);
  }
  override disconnectedCallback(): void {
    this.removeEventListener('keydown', this.onKey);
    clearTimeout(this.detailTimer);
    super.disconnectedCallback();
  }
  private onKey = (e: KeyboardEvent) => {
    if (this.drawMode === 'polygon' && e.key === 'Enter') this.closePolygon();
    if (e.key === 'Escape') this.draft = undefined;
    const onLayer = e.composedPath()[0] === this.renderRoot.querySelector('svg.layer');
    if (this.zoomable && onLayer && !e.ctrlKey && !e.metaKey) {
      if (e.key === '+' || e.key === '=') this.zoomBy(1.6);
      else if (e.key === '-') this.zoomBy(1 / 1.6);
      else if (e.key === '0') this.fit();
    }
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
      if (r.locked) this.emit('ap-region-locked', { id: r.id });
      else this.emit('ap-region-delete', { id: r.id });
    } else if (moves[e.key] && r.id === this.selected) {
      e.preventDefault();
      if (r.locked) {
        this.emit('ap-region-locked', { id: r.id });
        return;
      }
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
