/**
 * `<ap-painting-view>`: one painting with everything about it, laid out to fit the window: the large heatmap
 * (fit to the window, deep zoom and pan) with its own colour bar, caption and controls on the left — or two maps
 * side by side, each with its own colour bar, in compare mode — and a side panel with tabs: the method × prompt
 * small multiples, the expert regions (list, lock, undo/redo; saved in order with versions by a `RegionStore`),
 * CLIP's zero-shot answers (click one to see its map; the catalog's label is marked), the agreement of every map
 * with every region, and exports (.npy and PNG with legend, caption and regions, CSV, bundle, static report,
 * deleting the painting). Running jobs show their progress with a Cancel button.
 * The view state (prompts, methods, selection, controls, tab) comes from and goes to the URL through `ap-state`
 * events {patch} handled by <ap-app>.
 *
 * @example
 * <ap-painting-view .api=${api} .state=${state} modelName="ViT-B/32" @ap-state=${(e) => update(e.detail)}></ap-painting-view>
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { METHOD_LIST, methodInfo, SCORE_HELP, VIEW_HELP } from '../report/legend.ts';
import type { Api, Painting, Target } from './api.ts';
import './ap-colorbar.ts';
import './ap-diagnostics-panel.ts';
import './ap-heatmap.ts';
import type { DrawMode } from './ap-heatmap.ts';
import './ap-job-progress.ts';
import './ap-metrics-panel.ts';
import { type MetricsRowUi, metricsCsv } from './ap-metrics-panel.ts';
import './ap-overlay-controls.ts';
import type { OverlaySettings } from './ap-overlay-controls.ts';
import './ap-probe-panel.ts';
import type { ProbeAnswerUi, ProbeSelectDetail } from './ap-probe-panel.ts';
import './ap-region-editor.ts';
import type { RegionDraft } from './ap-region-editor.ts';
import './ap-small-multiples.ts';
import './ap-token-relevance.ts';
import { clipFor, displayDomain } from './colormap.ts';
import { JobListController, type Slot } from './job-list-controller.ts';
import { exportName, mapPng } from './png-export.ts';
import { RegionStore } from './region-store.ts';
import { buildClientReport, download, targetText } from './report-export.ts';
import { PANEL_TABS, type PanelTab, type ViewState } from './state.ts';

/** Every method of the server's registry, from the one shared list (report/legend.ts). */
const ALL_METHODS = METHOD_LIST;

const TAB_NAMES: Record<PanelTab, string> = {
  maps: 'Maps',
  regions: 'Regions',
  clip: 'CLIP answers',
  agreement: 'Agreement',
  export: 'Export',
};

/** A prompt suggestion for the painting's placeholder (from its catalog's scene, else a general one). */
export function promptHint(p: Pick<Painting, 'metadata'>): string {
  const scene = p.metadata?.scene;
  if (typeof scene === 'string' && scene.trim()) return `e.g. ${scene.replace(/\s*\(.*\)\s*/g, ' ').trim()}`;
  return 'e.g. a face, the sky';
}

/** The server's proxy of the IIIF image service of a painting imported from one, or ''. */
function iiifProxy(api: Api, p: Painting): string {
  const u = p.sourceUrl ?? '';
  return /\/(full\/(max|full)\/0\/default\.(jpg|png|webp)|info\.json)$/.test(u)
    ? `${api.base}/api/paintings/${p.id}/iiif`
    : '';
}

export class ApPaintingView extends LitElement {
  static override properties = {
    api: { attribute: false },
    state: { attribute: false },
    modelName: { type: String },
    modelProblem: { type: String },
    painting: { state: true },
    metrics: { state: true },
    probes: { state: true },
    probeMap: { state: true },
    drawMode: { state: true },
    selectedRegion: { state: true },
    message: { state: true },
    fitH: { state: true },
    withRegions: { state: true },
  };
  declare api: Api;
  declare state: ViewState;
  /** The loaded model's name (captions and exports). */
  declare modelName: string;
  /** Why maps cannot be computed now (no model), or ''. */
  declare modelProblem: string;
  declare painting: Painting | undefined;
  declare metrics: MetricsRowUi[];
  /** The probe answers received (for the static report). */
  declare probes: ProbeAnswerUi[];
  /** The zero-shot answer whose map is shown large instead of a prompt's (with the current method). */
  declare probeMap: { key: string; target: Target; caption: string } | undefined;
  declare drawMode: DrawMode;
  declare selectedRegion: string;
  declare message: string;
  /** Height available to the large map (the window below the controls). */
  declare fitH: number;
  /** Exported PNGs include the regions. */
  declare withRegions: boolean;
  private loadedFor = '';
  /** The painting's regions, saved in order with versions. */
  store: RegionStore | undefined;
  /** Label and dimension of the next region drawn, as typed in <ap-region-editor>. */
  private draft: RegionDraft = { label: '', dimension: '' };
  private metricsTimer?: ReturnType<typeof setTimeout>;
  private regionsSeen = '';
  /** Metric rows per finished job, for the regions as they were (regionsSeen): each map is asked for once. */
  private metricRows = new Map<string, Promise<MetricsRowUi[]>>();
  /** Jobs and maps of the painting by method × target. */
  private jobs = new JobListController(this, {
    onMap: () => void this.refreshMetrics(),
    onError: (m) => (this.message = m),
  });

  static override styles = css`
    :host { display: block; }
    .head { display: flex; gap: 12px; align-items: baseline; min-width: 0; }
    h2 { margin: 0; font-size: 19px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 60%; }
    .meta { color: #444; margin: 0; font-size: 13px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .banner { background: #fff4d6; border: 1px solid #c9a227; padding: 4px 10px; border-radius: 4px; font-size: 13px; margin: 4px 0; }
    .layout { display: grid; grid-template-columns: minmax(0, 1fr) minmax(320px, 440px); gap: 16px; align-items: start; margin-top: 4px; }
    @media (max-width: 1200px) { .layout { grid-template-columns: minmax(0, 1fr) minmax(290px, 370px); gap: 12px; } }
    @media (max-width: 820px) { .layout { grid-template-columns: minmax(0, 1fr); } }
    .side { position: sticky; top: 6px; overflow: auto; border-left: 1px solid #e3e3e3; padding-left: 10px; box-sizing: border-box; }
    .pair { display: grid; grid-template-columns: 1fr; gap: 10px; justify-items: start; }
    .pair.two { grid-template-columns: 1fr 1fr; }
    figure { margin: 0; width: 100%; }
    figcaption { font-size: 13px; color: #333; margin: 3px 0 2px; }
    figcaption .note { color: #7a3b00; }
    .legend-row { display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: flex-start; }
    .legend-row ap-colorbar { flex: 0 1 340px; }
    .row { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; margin: 4px 0; font-size: 14px; }
    input, select, button { font: inherit; }
    input[type='text'] { padding: 2px 6px; }
    select[name='compare'] { max-width: 14em; }
    button { border: 1px solid #666; background: #fff; color: #111; border-radius: 4px; padding: 2px 10px; cursor: pointer; }
    button.primary { background: #0b5cad; border-color: #0b5cad; color: #fff; }
    button.danger { color: #8a1c1c; border-color: #8a1c1c; }
    button[disabled] { opacity: .55; cursor: default; }
    button:focus-visible, input:focus-visible, select:focus-visible, a:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    .chip { display: inline-flex; align-items: center; gap: 2px; background: #eef3fa; border: 1px solid #b9cbe6; border-radius: 12px; padding: 0 4px 0 8px; font-size: 13px; }
    .chip button { border: none; background: none; padding: 0 4px; color: #111; }
    .chip button[aria-pressed='true'] { background: #0b5cad; color: #fff; border-radius: 10px; padding: 0 8px; }
    .tabs { display: flex; flex-wrap: wrap; gap: 2px; border-bottom: 1px solid #ccc; margin-bottom: 6px; position: sticky; top: 0; background: #fafaf8; z-index: 1; }
    .tabs button { border: 1px solid #ccc; border-bottom: none; border-radius: 4px 4px 0 0; background: #f0f0ee; font-size: 13px; padding: 3px 9px; }
    .tabs button[aria-selected='true'] { background: #fff; font-weight: 600; border-color: #888; }
    h3 { font-size: 14px; margin: 8px 0 4px; }
    .msg { color: #333; font-size: 13px; min-height: 1.2em; }
    a.dl { color: #0b5cad; }
    .exports { display: grid; gap: 8px; font-size: 14px; }
    .help { color: #555; font-size: 12px; }
  `;

  constructor() {
    super();
    this.metrics = [];
    this.probes = [];
    this.drawMode = 'none';
    this.selectedRegion = '';
    this.message = '';
    this.modelName = '';
    this.modelProblem = '';
    this.fitH = 560;
    this.withRegions = true;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('resize', this.onResize);
    this.addEventListener('keydown', this.onKey);
  }
  override disconnectedCallback(): void {
    window.removeEventListener('resize', this.onResize);
    this.removeEventListener('keydown', this.onKey);
    clearTimeout(this.metricsTimer);
    super.disconnectedCallback();
  }
  private onResize = () => this.measure();

  /** Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y) undo and redo region edits, outside text fields. */
  private onKey = (e: KeyboardEvent) => {
    const t = e.composedPath()[0] as HTMLElement;
    if (!(e.ctrlKey || e.metaKey) || /^(INPUT|TEXTAREA|SELECT)$/.test(t?.tagName ?? '')) return;
    const k = e.key.toLowerCase();
    if (k === 'z' && !e.shiftKey) {
      e.preventDefault();
      this.store?.undo();
    } else if ((k === 'z' && e.shiftKey) || k === 'y') {
      e.preventDefault();
      this.store?.redo();
    }
  };

  /** Fits the large map to the window: the height left below the controls, less its caption and colour bar. */
  private measure(): void {
    const figs = this.renderRoot.querySelector('.pair') as HTMLElement | null;
    if (!figs) return;
    // the map may take the window's height less what is above it and what its column has below it
    // (caption, colour bar, word relevance, job progress, status line) and the page's bottom padding
    const map = figs.querySelector('ap-heatmap');
    const col = this.renderRoot.querySelector('.main');
    if (!map || !col) return;
    const m = map.getBoundingClientRect();
    const below = col.getBoundingClientRect().bottom - m.bottom;
    // what the page shows under the two columns (the diagnostics panel's closed summary line) stays on screen
    // too; once that panel is opened the page may scroll, so at most 80 px are kept for it
    const layout = this.renderRoot.querySelector('.layout');
    const tail = layout
      ? Math.min(80, Math.max(0, this.getBoundingClientRect().bottom - layout.getBoundingClientRect().bottom))
      : 0;
    const h = Math.max(220, Math.floor(window.innerHeight - (m.top + window.scrollY) - below - tail - 30));
    if (Math.abs(h - this.fitH) > 2) this.fitH = h;
    // the side panel scrolls within the window below its own top
    const side = this.renderRoot.querySelector('.side') as HTMLElement | null;
    if (side) {
      const sideTop = Math.max(6, side.getBoundingClientRect().top + window.scrollY);
      side.style.maxHeight = `${Math.max(240, window.innerHeight - sideTop - tail - 30)}px`;
    }
  }

  private patch(p: Partial<ViewState>): void {
    this.dispatchEvent(new CustomEvent('ap-state', { detail: p, bubbles: true, composed: true }));
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has('state') || changed.has('api')) && this.api && this.state?.painting) {
      if (this.loadedFor !== this.state.painting) {
        this.loadedFor = this.state.painting;
        this.jobs.clear();
        this.metricRows.clear();
        this.probes = [];
        this.probeMap = undefined;
        this.store = undefined;
        this.metrics = [];
        void this.load(this.state.painting);
      } else void this.ensureJobs();
    }
  }

  protected override updated(): void {
    this.measure();
  }

  private async load(id: string): Promise<void> {
    try {
      this.painting = await this.api.painting(id);
      const p = this.painting;
      this.store = new RegionStore(this.api, p, () => this.onRegions());
      await this.store.load();
      await this.ensureJobs();
    } catch (e) {
      this.message = `Cannot load painting: ${(e as Error).message}`;
    }
  }

  /** The store changed: re-render, and once every save is done, refresh the metrics if the regions changed. */
  private onRegions(): void {
    this.requestUpdate();
    const s = this.store;
    if (!s || s.saving) return;
    const sig = JSON.stringify(s.regions.map((r) => [r.id, r.version, r.geometry]));
    if (sig === this.regionsSeen) return;
    this.regionsSeen = sig;
    this.metricRows.clear(); // the regions changed: every map's agreement changes
    clearTimeout(this.metricsTimer);
    this.metricsTimer = setTimeout(() => void this.refreshMetrics(), 300);
  }

  /** Starts (or reuses) the job of a method × target for this painting and view. */
  private run(method: string, target: Target): Promise<void> {
    if (!this.painting || this.modelProblem) return Promise.resolve();
    return this.jobs.run(this.api, { paintingId: this.painting.id, method, target, view: this.state.view });
  }

  private async ensureJobs(): Promise<void> {
    if (!this.painting) return;
    const s = this.state;
    for (const m of s.methods) for (const p of s.prompts) void this.run(m, { kind: 'prompt', prompt: p });
    if (s.compare.startsWith('m:') && s.prompts.length)
      void this.run(s.compare.slice(2), { kind: 'prompt', prompt: s.prompts[s.prompt] });
    if (this.probeMap) void this.run(s.method, this.probeMap.target);
  }

  /** Metrics of every finished job (prompts and zero-shot answers) against every region (server-side). */
  private async refreshMetrics(): Promise<void> {
    const regions = this.store?.regions ?? [];
    if (!regions.length) {
      this.metrics = [];
      return;
    }
    const sig = this.regionsSeen;
    const parts: Promise<MetricsRowUi[]>[] = [];
    for (const j of this.jobs.jobs()) {
      if (j.state !== 'done' || (j.target.kind !== 'prompt' && j.target.kind !== 'label')) continue;
      let part = this.metricRows.get(j.id);
      if (!part) {
        part = this.api.metrics(j.id).then((res) =>
          res.rows.map((r) => ({
            regionId: r.annotationId,
            region: r.label,
            dimension: r.dimension,
            method: j.method,
            prompt: targetText(j.target),
            kind: j.target.kind === 'label' ? ('answer' as const) : ('prompt' as const),
            pointing: r.pointing,
            energy: r.energy,
            auroc: r.auroc,
            iouTopK: r.iouTopK,
          })),
        );
        this.metricRows.set(j.id, part);
        part.catch(() => this.metricRows.delete(j.id)); // asked again next time
      }
      parts.push(part);
    }
    const rows: MetricsRowUi[] = [];
    for (const part of parts) {
      try {
        rows.push(...(await part));
      } catch (e) {
        this.message = `metrics: ${(e as Error).message}`;
      }
    }
    if (sig !== this.regionsSeen) return; // the regions changed meanwhile: a newer refresh is on its way
    rows.sort(
      (a, b) =>
        a.region.localeCompare(b.region) ||
        a.method.localeCompare(b.method) ||
        a.prompt.localeCompare(b.prompt),
    );
    this.metrics = rows;
  }

  /** Shows the heatmap of a zero-shot answer: a job of the current method on the answer's label target. */
  private async onProbeSelect(e: CustomEvent<ProbeSelectDetail>): Promise<void> {
    const { dimension, label, target, probability } = e.detail;
    this.probeMap = {
      key: `${dimension}/${label}`,
      target,
      caption: `${dimension}: ${label} (${(100 * probability).toFixed(1)}%, within ${target.labels.length} labels)`,
    };
    if (this.state.answer !== label) this.patch({ answer: label });
    await this.run(this.state.method, target);
  }

  /** Answers arrived: keep them for the report, and show the answer named in the URL once. */
  private onProbeAnswers(e: CustomEvent<{ answers: ProbeAnswerUi[]; selection: string }>): void {
    this.probes = e.detail.answers;
    const s = this.state;
    if (this.probeMap || !s.answer || e.detail.selection !== s.probe) return;
    const d = this.probes.find((x) => `${x.suite}/${x.dimension}` === s.probe);
    const t = d?.top.find((x) => x.label === s.answer);
    if (!d?.explain || !t) return;
    void this.onProbeSelect(
      new CustomEvent('ap-probe-select', {
        detail: {
          dimension: d.dimension,
          suite: d.suite,
          label: t.label,
          probability: t.p,
          target: { ...d.explain, label: t.label },
        },
      }),
    );
  }

  private slotFor(method: string, prompt: number): Slot | undefined {
    return this.jobs.prompt(method, this.state.prompts, prompt);
  }

  private async onDrawn(
    e: CustomEvent<{ geometry: import('../regions/region.ts').Geometry }>,
  ): Promise<void> {
    if (!this.store) return;
    const label = this.draft.label.trim() || `region ${this.store.regions.length + 1}`;
    try {
      const id = await this.store.add({
        label,
        dimension: this.draft.dimension || undefined,
        geometry: e.detail.geometry,
      });
      this.drawMode = 'none';
      this.selectedRegion = id;
    } catch (err) {
      this.message = `Cannot save the region: ${(err as Error).message}`;
    }
  }

  private async onDelete(e: CustomEvent<{ id: string }>): Promise<void> {
    if (await this.store?.remove(e.detail.id)) this.selectedRegion = '';
  }

  private addPrompt(e: Event): void {
    e.preventDefault();
    const input = this.renderRoot.querySelector('input[name=prompt]') as HTMLInputElement;
    const v = input.value.trim();
    if (!v || this.state.prompts.includes(v)) return;
    input.value = '';
    this.probeMap = undefined;
    this.patch({ prompts: [...this.state.prompts, v], prompt: this.state.prompts.length, answer: '' });
  }

  private async exportReport(): Promise<void> {
    if (!this.painting) return;
    this.message = 'Building the report…';
    try {
      const html = await buildClientReport(this.api, [this.painting], {
        probes: { [this.painting.id]: this.probes },
        model: this.modelName,
      });
      download(
        new Blob([html], { type: 'text/html' }),
        exportName(this.painting.name, undefined, 'report', 'html'),
      );
      this.message = 'Report downloaded.';
    } catch (e) {
      this.message = `report: ${(e as Error).message}`;
    }
  }

  /** The shown map as a PNG with legend, caption and (optionally) the regions. */
  private async exportPng(slot: Slot | undefined, method: string, target: string): Promise<void> {
    const p = this.painting;
    if (!p || !slot?.map || !slot.job?.result) return;
    const info = methodInfo(method);
    const signed = slot.job.result.signed;
    const title = typeof p.metadata?.title === 'string' ? p.metadata.title : p.name;
    try {
      const blob = await mapPng({
        src: this.api.imageUrl(p.id),
        width: p.width,
        height: p.height,
        map: slot.map,
        signed,
        domain: displayDomain(slot.map, { signed, clip: clipFor(this.state.clip, info.family) }),
        scheme: this.state.scheme,
        opacity: this.state.opacity,
        threshold: this.state.threshold,
        unit: info.unit,
        regions: this.withRegions ? this.store?.regions : undefined,
        caption: {
          painting: title,
          model: this.modelName,
          method,
          target,
          score: `${slot.job.target.kind === 'label' ? 'probability' : 'score'} ${slot.job.result.score.toFixed(3)}`,
        },
      });
      download(blob, exportName(p.name, method, target, 'png'));
      this.message = 'PNG downloaded.';
    } catch (e) {
      this.message = `PNG: ${(e as Error).message}`;
    }
  }

  private async deletePainting(): Promise<void> {
    const p = this.painting;
    if (!p || !confirm(`Delete “${p.name}” with its maps and regions?`)) return;
    try {
      await this.api.deletePainting(p.id);
      this.patch({ route: 'gallery', painting: undefined });
    } catch (e) {
      this.message = `Cannot delete: ${(e as Error).message}`;
    }
  }

  private renderFigure(
    slot: Slot | undefined,
    method: string,
    caption: string,
    settings: OverlaySettings,
    retry?: () => void,
    prompt?: string,
  ) {
    const p = this.painting as Painting;
    const info = methodInfo(method);
    const signed = !!slot?.job?.result?.signed;
    const clip = clipFor(this.state.clip, info.family);
    const domain = slot?.map ? displayDomain(slot.map, { signed, clip }) : undefined;
    const r = slot?.job?.result;
    const scoreKind = slot?.job?.target.kind === 'label' ? 'label' : 'prompt';
    return html`<figure style=${`max-width: ${Math.round(this.fitH * (p.width / p.height))}px`} data-method=${method}>
      <ap-heatmap zoomable .src=${this.api.imageUrl(p.id)} .width=${p.width} .height=${p.height} .map=${slot?.map} ?signed=${signed}
        .opacity=${settings.opacity} .threshold=${settings.threshold} ?contours=${settings.contours} ?overlay=${settings.overlay} .scheme=${settings.scheme}
        .domain=${domain} .regions=${this.store?.regions ?? []} .selected=${this.selectedRegion} .drawMode=${this.drawMode}
        iiif=${iiifProxy(this.api, p)} label=${`${p.name}: ${caption}`}
        @ap-region-drawn=${this.onDrawn}
        @ap-region-edited=${(e: CustomEvent<{ id: string; geometry: import('../regions/region.ts').Geometry }>) => this.store?.edit(e.detail.id, { geometry: e.detail.geometry }, { kind: 'move' })}
        @ap-region-delete=${this.onDelete}
        @ap-region-locked=${(e: CustomEvent<{ id: string }>) => this.store?.edit(e.detail.id, {})}
        @ap-region-select=${(e: CustomEvent<{ id: string }>) => (this.selectedRegion = e.detail.id)}></ap-heatmap>
      <figcaption>${caption}${
        r
          ? html` · <span title=${SCORE_HELP[scoreKind]}>${scoreKind === 'label' ? 'probability' : 'score'} ${r.score.toFixed(3)}</span>`
          : slot?.error
            ? html` · ${slot.error === 'cancelled' ? 'cancelled' : `failed: ${slot.error}`} ${retry ? html`<button type="button" name="run-again" @click=${retry}>Run again</button>` : nothing}`
            : slot
              ? ' · computing…'
              : ''
      }${info.promptIndependent ? html` · <span class="note" title=${info.note}>same map for every prompt</span>` : nothing}</figcaption>
      <div class="legend-row"><ap-colorbar .domain=${domain} ?signed=${signed} .scheme=${settings.scheme} unit=${info.unit} .clip=${clip} .threshold=${settings.threshold}></ap-colorbar>
      ${prompt && !this.modelProblem ? html`<ap-token-relevance .api=${this.api} painting=${p.id} prompt=${prompt} view=${this.state.view}></ap-token-relevance>` : nothing}</div>
    </figure>`;
  }

  private renderTab(tab: PanelTab, p: Painting) {
    const s = this.state;
    if (tab === 'maps')
      return html`<div class="row">${ALL_METHODS.map(
        (
          m,
        ) => html`<label title=${methodInfo(m).note}><input type="checkbox" name=${`method-${m}`} .checked=${s.methods.includes(m)}
            @change=${(e: Event) => {
              const on = (e.target as HTMLInputElement).checked;
              const methods = on ? [...s.methods, m] : s.methods.filter((x) => x !== m);
              if (methods.length)
                this.patch({ methods, method: methods.includes(s.method) ? s.method : methods[0] });
            }} />${m}</label>`,
      )}
        <label title="each method's row shares one colour scale (methods have different units)"><input type="checkbox" name="shared" .checked=${s.shared}
          @change=${(e: Event) => this.patch({ shared: (e.target as HTMLInputElement).checked })} />same scale per method</label></div>
        ${
          s.prompts.length
            ? html`<ap-small-multiples .methods=${s.methods} .prompts=${s.prompts} .cells=${this.jobs.cells(s.methods, s.prompts)} .src=${this.api.imageUrl(p.id)} .width=${p.width} .height=${p.height}
              .selected=${this.probeMap ? undefined : { method: s.method, prompt: s.prompt }} .scheme=${s.scheme} .opacity=${s.opacity}
              .regions=${this.store?.regions ?? []} ?shared=${s.shared} clip=${s.clip}
              @ap-cell-select=${(e: CustomEvent<{ method: string; prompt: number }>) => {
                this.probeMap = undefined;
                this.patch({ method: e.detail.method, prompt: e.detail.prompt, answer: '' });
              }}></ap-small-multiples>`
            : html`<p class="msg">Add a prompt to compute maps.</p>`
        }`;
    if (tab === 'regions')
      return html`<ap-region-editor .regions=${this.store?.regions ?? []} .selected=${this.selectedRegion} .drawMode=${this.drawMode}
        status=${this.store?.status ?? ''} ?can-undo=${!!this.store?.canUndo} ?can-redo=${!!this.store?.canRedo}
        @ap-draw-mode=${(e: CustomEvent<{ mode: DrawMode }>) => (this.drawMode = e.detail.mode)}
        @ap-region-draft=${(e: CustomEvent<RegionDraft>) => (this.draft = e.detail)}
        @ap-region-select=${(e: CustomEvent<{ id: string }>) => (this.selectedRegion = e.detail.id)}
        @ap-region-rename=${(e: CustomEvent<{ id: string; label: string }>) => this.store?.edit(e.detail.id, { label: e.detail.label })}
        @ap-region-dimension=${(e: CustomEvent<{ id: string; dimension: string }>) => this.store?.edit(e.detail.id, { dimension: e.detail.dimension || undefined })}
        @ap-region-lock=${(e: CustomEvent<{ id: string; locked: boolean }>) => void this.store?.setLocked(e.detail.id, e.detail.locked)}
        @ap-undo=${() => this.store?.undo()} @ap-redo=${() => this.store?.redo()}
        @ap-region-delete=${this.onDelete}></ap-region-editor>`;
    if (tab === 'clip')
      return html`<ap-probe-panel .api=${this.api} painting=${p.id} selection=${s.probe} .selected=${this.probeMap?.key ?? ''}
        @ap-probe-select=${this.onProbeSelect} @ap-probe-answers=${this.onProbeAnswers}
        @ap-probe-dimension=${(e: CustomEvent<{ selection: string }>) => this.patch({ probe: e.detail.selection, answer: '' })}></ap-probe-panel>`;
    if (tab === 'agreement')
      return html`<ap-metrics-panel .rows=${this.metrics} .selected=${this.selectedRegion} painting=${p.name}
        @ap-metrics-csv=${(e: CustomEvent<{ csv: string }>) => download(new Blob([e.detail.csv], { type: 'text/csv' }), exportName(p.name, undefined, 'agreement', 'csv'))}></ap-metrics-panel>`;
    return this.renderExports(p);
  }

  private renderExports(p: Painting) {
    const s = this.state;
    const method = s.method;
    const target = this.probeMap ? this.probeMap.target : s.prompts[s.prompt];
    const main = this.probeMap
      ? this.jobs.get(s.method, this.probeMap.target)
      : this.slotFor(s.method, s.prompt);
    const job = main?.job;
    const text = typeof target === 'string' ? target : target ? targetText(target) : '';
    return html`<div class="exports">
      <div><b>The map shown</b> (${method} · “${text || '—'}”)</div>
      ${
        job?.state === 'done' && main?.map
          ? html`<div class="row">
              <button type="button" name="export-png" @click=${() => this.exportPng(main, method, text)}>PNG with legend and caption</button>
              <label><input type="checkbox" name="png-regions" .checked=${this.withRegions} @change=${(e: Event) => (this.withRegions = (e.target as HTMLInputElement).checked)} />with regions</label></div>
            <div class="row"><a class="dl" name="export-npy" download=${exportName(p.name, method, text, 'npy')} href=${this.api.mapUrl(job.id, 'painting.npy')}>map values (.npy, painting pixels)</a>
              <a class="dl" name="export-overlay" download=${exportName(p.name, method, `${text}-overlay`, 'png')} href=${this.api.mapUrl(job.id, 'overlay.png')}>overlay as computed (PNG)</a></div>`
          : html`<div class="help">No finished map selected.</div>`
      }
      <div><b>The painting</b></div>
      <div class="row"><a class="dl" name="export-bundle" download=${exportName(p.name, undefined, 'artprobe-bundle', 'zip')} href=${this.api.exportUrl(p.id)}>bundle (.zip: maps, regions, manifest)</a>
        <button type="button" name="export-report" @click=${this.exportReport}>Static report (.html)</button>
        <button type="button" name="export-csv" ?disabled=${!this.metrics.length} @click=${() =>
          download(
            new Blob([metricsCsv(this.metrics, p.name)], { type: 'text/csv' }),
            exportName(p.name, undefined, 'agreement', 'csv'),
          )}>Agreement (.csv)</button></div>
      <div><button type="button" class="danger" name="delete-painting" @click=${this.deletePainting}>Delete this painting…</button>
        <span class="help">with its maps and regions</span></div>
    </div>`;
  }

  override render() {
    const p = this.painting;
    if (!p) return html`<p class="msg" role="status">${this.message || 'Loading…'}</p>`;
    const s = this.state;
    const settings: OverlaySettings = {
      overlay: s.overlay,
      opacity: s.opacity,
      threshold: s.threshold,
      contours: s.contours,
      scheme: s.scheme,
    };
    const prompt = s.prompts[s.prompt];
    const main = this.probeMap
      ? this.jobs.get(s.method, this.probeMap.target)
      : this.slotFor(s.method, s.prompt);
    const mainCaption = this.probeMap
      ? `${s.method} · ${this.probeMap.caption}`
      : prompt
        ? `${s.method} · “${prompt}”`
        : 'Add a prompt to explain';
    const mainTarget: Target | undefined = this.probeMap
      ? this.probeMap.target
      : prompt
        ? { kind: 'prompt', prompt }
        : undefined;
    const retry = (m: string, t: Target | undefined) =>
      t
        ? () => {
            this.jobs.forget(m, t);
            void this.run(m, t);
          }
        : undefined;
    let second: { slot?: Slot; method: string; caption: string; target?: Target } | undefined;
    if (s.compare.startsWith('m:') && prompt)
      second = {
        slot: this.jobs.get(s.compare.slice(2), { kind: 'prompt', prompt }),
        method: s.compare.slice(2),
        caption: `${s.compare.slice(2)} · “${prompt}”`,
        target: { kind: 'prompt', prompt },
      };
    if (s.compare.startsWith('p:')) {
      const pi = Number(s.compare.slice(2));
      if (s.prompts[pi] !== undefined)
        second = {
          slot: this.slotFor(s.method, pi),
          method: s.method,
          caption: `${s.method} · “${s.prompts[pi]}”`,
          target: { kind: 'prompt', prompt: s.prompts[pi] },
        };
    }
    const meta = p.metadata ?? {};
    const mainJob = main?.job;
    return html`
      <div class="head"><h2 title=${typeof meta.title === 'string' ? meta.title : p.name}>${typeof meta.title === 'string' ? meta.title : p.name}</h2>
        <p class="meta">${[meta.artist, meta.year, meta.style, meta.period, meta.origin].filter(Boolean).join(' · ') || `${p.name} · ${p.width} × ${p.height}`}</p></div>
      ${this.modelProblem ? html`<div class="banner" role="alert">${this.modelProblem}</div>` : nothing}
      <div class="layout">
        <div class="main">
          <form class="row" @submit=${this.addPrompt} aria-label="prompts">
            <label>Prompt <input type="text" name="prompt" size="22" placeholder=${promptHint(p)} /></label>
            <button class="primary" type="submit" ?disabled=${!!this.modelProblem} title=${this.modelProblem || 'compute the maps of this prompt with the chosen methods'}>Explain</button>
            ${s.prompts.map(
              (
                t,
                i,
              ) => html`<span class="chip"><button type="button" aria-pressed=${i === s.prompt && !this.probeMap} @click=${() => {
                this.probeMap = undefined;
                this.patch({ prompt: i, answer: '' });
              }}>${t}</button>
                <button type="button" aria-label=${`remove prompt ${t}`} @click=${() => this.patch({ prompts: s.prompts.filter((_, k) => k !== i), prompt: 0, compare: '' })}>×</button></span>`,
            )}
          </form>
          <div class="row">
            <label>Method <select name="method" title=${methodInfo(s.method).note} @change=${(e: Event) => {
              this.patch({ method: (e.target as HTMLSelectElement).value });
            }}>
              ${s.methods.map((m) => html`<option ?selected=${m === s.method}>${m}</option>`)}</select></label>
            <label>Compare <select name="compare" @change=${(e: Event) => this.patch({ compare: (e.target as HTMLSelectElement).value })}>
              <option value="">nothing</option>
              ${ALL_METHODS.filter((m) => m !== s.method).map((m) => html`<option value=${`m:${m}`} ?selected=${s.compare === `m:${m}`}>method ${m}</option>`)}
              ${s.prompts.map((t, i) => (i === s.prompt ? nothing : html`<option value=${`p:${i}`} ?selected=${s.compare === `p:${i}`}>prompt “${t}”</option>`))}
            </select></label>
            <label title=${Object.values(VIEW_HELP).join('\n')}>View <select name="view" @change=${(
              e: Event,
            ) => {
              this.jobs.clear();
              this.metricRows.clear();
              this.patch({ view: (e.target as HTMLSelectElement).value as ViewState['view'] });
            }}>
              ${(['pad', 'crop', 'tiles'] as const).map((v) => html`<option value=${v} ?selected=${v === s.view} title=${VIEW_HELP[v]}>${v}</option>`)}</select></label>
            <label title="the colour range ends at this percentile of the map, so a few extreme pixels do not wash out the rest (auto: 99 for pixel gradients)">Clip <select name="clip"
              @change=${(e: Event) => this.patch({ clip: (e.target as HTMLSelectElement).value })}>
              ${['auto', '100', '99.5', '99', '95'].map((c) => html`<option value=${c} ?selected=${c === s.clip}>${c === 'auto' ? 'auto' : c === '100' ? 'none' : `p${c}`}</option>`)}</select></label>
            <ap-overlay-controls .settings=${settings} ?signed=${!!mainJob?.result?.signed}
              @ap-controls-change=${(e: CustomEvent<OverlaySettings>) => this.patch(e.detail)}></ap-overlay-controls>
          </div>
          <div class="pair ${second ? 'two' : ''}">
            ${this.renderFigure(main, s.method, mainCaption, settings, retry(s.method, mainTarget), this.probeMap ? undefined : prompt)}
            ${second ? this.renderFigure(second.slot, second.method, second.caption, settings, retry(second.method, second.target)) : nothing}
          </div>
          <ap-job-progress .jobs=${this.jobs.progress()}
            @ap-job-cancel=${(e: CustomEvent<{ id: string }>) => void this.api.cancelJob(e.detail.id).catch((err: Error) => (this.message = err.message))}></ap-job-progress>
          <div class="msg" role="status">${this.message}</div>
        </div>
        <div class="side">
          <div class="tabs" role="tablist" aria-label="panels">${PANEL_TABS.map(
            (
              t,
            ) => html`<button type="button" role="tab" name=${`tab-${t}`} aria-selected=${t === s.tab} aria-controls=${`panel-${t}`}
              @click=${() => this.patch({ tab: t })}>${TAB_NAMES[t]}${t === 'regions' ? ` (${this.store?.regions.length ?? 0})` : ''}</button>`,
          )}</div>
          ${PANEL_TABS.map(
            (t) =>
              html`<div role="tabpanel" id=${`panel-${t}`} ?hidden=${t !== s.tab}>${t === s.tab || t === 'clip' ? this.renderTab(t, p) : nothing}</div>`,
          )}
        </div>
      </div>
      <ap-diagnostics-panel .api=${this.api} .painting=${p} .prompts=${s.prompts} disabled=${this.modelProblem}></ap-diagnostics-panel>`;
  }
}

customElements.define('ap-painting-view', ApPaintingView);
