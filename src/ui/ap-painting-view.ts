/**
 * `<ap-painting-view>`: one painting with everything about it — the large heatmap with its controls, the
 * method × prompt small multiples, side-by-side comparison, CLIP's zero-shot answers (click one to see its map),
 * expert regions (drawn on the heatmap with <ap-region-editor>'s controls, saved here as W3C annotations),
 * metrics per region × method × prompt, progress bars of running jobs (kept by a `JobListController`), and
 * exports (.npy, PNG, bundle, static report).
 * The view state (prompts, methods, selection, controls) comes from and goes to the URL through `ap-state`
 * events {patch} handled by <ap-app>.
 *
 * @example
 * <ap-painting-view .api=${api} .state=${state} @ap-state=${(e) => update(e.detail)}></ap-painting-view>
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import type { Geometry } from '../regions/region.ts';
import { writeW3CAnnotations } from '../regions/w3c.ts';
import type { Api, Painting, Target } from './api.ts';
import './ap-heatmap.ts';
import type { DrawMode, UiRegion } from './ap-heatmap.ts';
import './ap-job-progress.ts';
import './ap-metrics-panel.ts';
import type { MetricsRowUi } from './ap-metrics-panel.ts';
import './ap-overlay-controls.ts';
import type { OverlaySettings } from './ap-overlay-controls.ts';
import './ap-probe-panel.ts';
import type { ProbeAnswerUi, ProbeSelectDetail } from './ap-probe-panel.ts';
import './ap-region-editor.ts';
import type { RegionDraft } from './ap-region-editor.ts';
import './ap-small-multiples.ts';
import { mapRange } from './colormap.ts';
import { JobListController, type Slot } from './job-list-controller.ts';
import { buildClientReport, download, paintingRegions, targetText } from './report-export.ts';
import type { ViewState } from './state.ts';

const ALL_METHODS = [
  'chefer-all',
  'chefer-last',
  'rollout',
  'gradient',
  'gradient-x-input',
  'smoothgrad',
  'integrated-gradients',
  'occlusion',
];

/** What the annotation routes take: one W3C annotation (its id is the server's). */
type AnnotationDoc = Parameters<Api['addAnnotation']>[1];

/** A region of a painting as a W3C annotation to save, without its id. */
function annotationDoc(
  p: Painting,
  region: { id: string; label: string; dimension?: string },
  geometry: Geometry,
): AnnotationDoc {
  const doc = writeW3CAnnotations([
    {
      id: region.id,
      label: region.label,
      dimension: region.dimension as never,
      source: p.name,
      geometry,
      imageSize: { width: p.width, height: p.height },
    },
  ]).first.items[0] as Record<string, unknown>;
  delete doc.id;
  return doc as never;
}

export class ApPaintingView extends LitElement {
  static override properties = {
    api: { attribute: false },
    state: { attribute: false },
    painting: { state: true },
    regions: { state: true },
    metrics: { state: true },
    probes: { state: true },
    probeMap: { state: true },
    drawMode: { state: true },
    selectedRegion: { state: true },
    message: { state: true },
  };
  declare api: Api;
  declare state: ViewState;
  declare painting: Painting | undefined;
  declare regions: UiRegion[];
  declare metrics: MetricsRowUi[];
  /** The probe answers received (for the static report). */
  declare probes: ProbeAnswerUi[];
  /** The zero-shot answer whose map is shown large instead of a prompt's (with the current method). */
  declare probeMap: { key: string; target: Target; caption: string } | undefined;
  declare drawMode: DrawMode;
  declare selectedRegion: string;
  declare message: string;
  private loadedFor = '';
  /** Label and dimension of the next region drawn, as typed in <ap-region-editor>. */
  private draft: RegionDraft = { label: '', dimension: '' };
  /** Jobs and maps of the painting by method × target. */
  private jobs = new JobListController(this, {
    onMap: () => void this.refreshMetrics(),
    onError: (m) => (this.message = m),
  });

  static override styles = css`
    :host { display: block; }
    h2 { margin: 0 0 2px; font-size: 20px; }
    .meta { color: #444; margin: 0 0 10px; font-size: 14px; }
    .layout { display: grid; grid-template-columns: minmax(0, 3fr) minmax(280px, 2fr); gap: 20px; align-items: start; }
    @media (max-width: 1100px) { .layout { grid-template-columns: minmax(0, 3fr) minmax(250px, 2fr); gap: 14px; } }
    @media (max-width: 820px) { .layout { grid-template-columns: minmax(0, 1fr); } }
    .pair { display: grid; grid-template-columns: 1fr; gap: 10px; }
    .pair.two { grid-template-columns: 1fr 1fr; }
    figure { margin: 0; }
    figcaption { font-size: 13px; color: #333; margin-top: 4px; }
    .row { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; margin: 8px 0; font-size: 14px; }
    input, select, button { font: inherit; }
    input[type='text'] { padding: 3px 6px; }
    button { border: 1px solid #666; background: #fff; color: #111; border-radius: 4px; padding: 3px 10px; cursor: pointer; }
    button.primary { background: #0b5cad; border-color: #0b5cad; color: #fff; }
    button:focus-visible, input:focus-visible, select:focus-visible, a:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    .chip { display: inline-flex; align-items: center; gap: 4px; background: #eef3fa; border: 1px solid #b9cbe6; border-radius: 12px; padding: 1px 4px 1px 10px; font-size: 13px; }
    .chip button { border: none; background: none; padding: 0 4px; color: #111; }
    .chip button[aria-pressed='true'] { background: #0b5cad; color: #fff; border-radius: 10px; padding: 0 8px; }
    section { margin-top: 14px; }
    h3 { font-size: 15px; margin: 12px 0 6px; }
    .msg { color: #333; font-size: 13px; min-height: 1.2em; }
    a.dl { color: #0b5cad; }
  `;

  constructor() {
    super();
    this.regions = [];
    this.metrics = [];
    this.probes = [];
    this.drawMode = 'none';
    this.selectedRegion = '';
    this.message = '';
  }

  private patch(p: Partial<ViewState>): void {
    this.dispatchEvent(new CustomEvent('ap-state', { detail: p, bubbles: true, composed: true }));
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has('state') || changed.has('api')) && this.api && this.state?.painting) {
      if (this.loadedFor !== this.state.painting) {
        this.loadedFor = this.state.painting;
        this.jobs.clear();
        this.probes = [];
        this.probeMap = undefined;
        void this.load(this.state.painting);
      } else void this.ensureJobs();
    }
  }

  private async load(id: string): Promise<void> {
    try {
      this.painting = await this.api.painting(id);
      await this.loadRegions();
      await this.ensureJobs();
    } catch (e) {
      this.message = `Cannot load painting: ${(e as Error).message}`;
    }
  }

  private async loadRegions(): Promise<void> {
    if (!this.painting) return;
    this.regions = await paintingRegions(this.api, this.painting);
    void this.refreshMetrics();
  }

  /** Starts (or reuses) the job of a method × target for this painting and view. */
  private run(method: string, target: Target): Promise<void> {
    if (!this.painting) return Promise.resolve();
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

  /** Metrics of every finished prompt job against every region (server-side scoring). */
  private async refreshMetrics(): Promise<void> {
    if (!this.regions.length) {
      this.metrics = [];
      return;
    }
    const rows: MetricsRowUi[] = [];
    for (const j of this.jobs.jobs()) {
      if (j.state !== 'done' || j.target.kind !== 'prompt') continue;
      try {
        const res = await this.api.metrics(j.id);
        for (const r of res.rows)
          rows.push({
            regionId: r.annotationId,
            region: r.label,
            dimension: r.dimension,
            method: j.method,
            prompt: targetText(j.target),
            pointing: r.pointing,
            energy: r.energy,
            auroc: r.auroc,
            iouTopK: r.iouTopK,
          });
      } catch (e) {
        this.message = `metrics: ${(e as Error).message}`;
      }
    }
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

  private async onDrawn(e: CustomEvent<{ geometry: Geometry }>): Promise<void> {
    const p = this.painting;
    if (!p) return;
    const label = this.draft.label.trim() || `region ${this.regions.length + 1}`;
    const dimension = this.draft.dimension || undefined;
    const doc = annotationDoc(p, { id: 'new', label, dimension }, e.detail.geometry);
    try {
      await this.api.addAnnotation(p.id, doc);
      this.drawMode = 'none';
      this.message = `Saved region “${label}”.`;
      await this.loadRegions();
    } catch (err) {
      this.message = `Cannot save the region: ${(err as Error).message}`;
    }
  }

  private async onEdited(e: CustomEvent<{ id: string; geometry: Geometry }>): Promise<void> {
    const p = this.painting;
    const r = this.regions.find((x) => x.id === e.detail.id);
    if (!p || !r) return;
    const doc = annotationDoc(p, r, e.detail.geometry);
    try {
      await this.api.updateAnnotation(r.id, doc);
      await this.loadRegions();
    } catch (err) {
      this.message = `Cannot update the region: ${(err as Error).message}`;
    }
  }

  private async onDelete(e: CustomEvent<{ id: string }>): Promise<void> {
    await this.api.deleteAnnotation(e.detail.id);
    this.selectedRegion = '';
    await this.loadRegions();
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
      });
      download(
        new Blob([html], { type: 'text/html' }),
        `${this.painting.name.replace(/\.[^.]+$/, '')}-report.html`,
      );
      this.message = 'Report downloaded.';
    } catch (e) {
      this.message = `report: ${(e as Error).message}`;
    }
  }

  private renderFigure(slot: Slot | undefined, caption: string, settings: OverlaySettings) {
    const p = this.painting as Painting;
    // a single large map is kept within the window's height (the controls above it stay in view)
    return html`<figure style=${`max-width: max(280px, calc((100vh - 130px) * ${(p.width / p.height).toFixed(4)}))`}>
      <ap-heatmap .src=${this.api.imageUrl(p.id)} .width=${p.width} .height=${p.height} .map=${slot?.map} ?signed=${!!slot?.job?.result?.signed}
        .opacity=${settings.opacity} .threshold=${settings.threshold} ?contours=${settings.contours} ?overlay=${settings.overlay} .scheme=${settings.scheme}
        .regions=${this.regions} .selected=${this.selectedRegion} .drawMode=${this.drawMode} label=${`${p.name}: ${caption}`}
        @ap-region-drawn=${this.onDrawn} @ap-region-edited=${this.onEdited} @ap-region-delete=${this.onDelete}
        @ap-region-select=${(e: CustomEvent<{ id: string }>) => (this.selectedRegion = e.detail.id)}></ap-heatmap>
      <figcaption>${caption}${slot?.job?.result ? ` · score ${slot.job.result.score.toFixed(3)}` : slot?.error ? ` · failed: ${slot.error}` : slot ? ' · computing…' : ''}</figcaption>
    </figure>`;
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
    let second: { slot?: Slot; caption: string } | undefined;
    if (s.compare.startsWith('m:') && prompt)
      second = {
        slot: this.jobs.get(s.compare.slice(2), { kind: 'prompt', prompt }),
        caption: `${s.compare.slice(2)} · “${prompt}”`,
      };
    if (s.compare.startsWith('p:')) {
      const pi = Number(s.compare.slice(2));
      if (s.prompts[pi] !== undefined)
        second = { slot: this.slotFor(s.method, pi), caption: `${s.method} · “${s.prompts[pi]}”` };
    }
    const meta = p.metadata ?? {};
    const mainJob = main?.job;
    return html`
      <h2>${typeof meta.title === 'string' ? meta.title : p.name}</h2>
      <p class="meta">${[meta.artist, meta.year, meta.style, meta.period, meta.origin].filter(Boolean).join(' · ') || `${p.width} × ${p.height}`}</p>
      <div class="layout">
        <div>
          <form class="row" @submit=${this.addPrompt} aria-label="prompts">
            <label>Prompt <input type="text" name="prompt" size="26" placeholder="e.g. a red circle" /></label>
            <button class="primary" type="submit">Explain</button>
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
            <label>Method <select name="method" @change=${(e: Event) => {
              this.patch({ method: (e.target as HTMLSelectElement).value });
            }}>
              ${s.methods.map((m) => html`<option ?selected=${m === s.method}>${m}</option>`)}</select></label>
            <label>Compare with <select name="compare" @change=${(e: Event) => this.patch({ compare: (e.target as HTMLSelectElement).value })}>
              <option value="">nothing</option>
              ${ALL_METHODS.filter((m) => m !== s.method).map((m) => html`<option value=${`m:${m}`} ?selected=${s.compare === `m:${m}`}>method ${m}</option>`)}
              ${s.prompts.map((t, i) => (i === s.prompt ? nothing : html`<option value=${`p:${i}`} ?selected=${s.compare === `p:${i}`}>prompt “${t}”</option>`))}
            </select></label>
            <label>View <select name="view" @change=${(e: Event) => {
              this.jobs.clear();
              this.patch({ view: (e.target as HTMLSelectElement).value as ViewState['view'] });
            }}>
              ${['pad', 'crop', 'tiles'].map((v) => html`<option ?selected=${v === s.view}>${v}</option>`)}</select></label>
          </div>
          <ap-overlay-controls .settings=${settings} ?signed=${!!mainJob?.result?.signed} .range=${main?.map ? mapRange(main.map) : undefined}
            @ap-controls-change=${(e: CustomEvent<OverlaySettings>) => this.patch(e.detail)}></ap-overlay-controls>
          <div class="pair ${second ? 'two' : ''}">
            ${this.renderFigure(main, mainCaption, settings)}
            ${second ? this.renderFigure(second.slot, second.caption, settings) : nothing}
          </div>
          <ap-region-editor .regions=${this.regions} .selected=${this.selectedRegion} .drawMode=${this.drawMode}
            @ap-draw-mode=${(e: CustomEvent<{ mode: DrawMode }>) => (this.drawMode = e.detail.mode)}
            @ap-region-draft=${(e: CustomEvent<RegionDraft>) => (this.draft = e.detail)}
            @ap-region-delete=${this.onDelete}></ap-region-editor>
          <ap-job-progress .jobs=${this.jobs.progress()}></ap-job-progress>
          <div class="msg" role="status">${this.message}</div>
        </div>
        <div>
          <h3>What CLIP answers</h3>
          <ap-probe-panel .api=${this.api} painting=${p.id} selection=${s.probe} .selected=${this.probeMap?.key ?? ''}
            @ap-probe-select=${this.onProbeSelect} @ap-probe-answers=${this.onProbeAnswers}
            @ap-probe-dimension=${(e: CustomEvent<{ selection: string }>) => this.patch({ probe: e.detail.selection, answer: '' })}></ap-probe-panel>
          <h3>Exports</h3>
          <div class="row">
            ${
              mainJob?.state === 'done'
                ? html`<a class="dl" download href=${this.api.mapUrl(mainJob.id, 'painting.npy')}>map (.npy)</a>
                  <a class="dl" download href=${this.api.mapUrl(mainJob.id, 'overlay.png')}>overlay (PNG)</a>`
                : nothing
            }
            <a class="dl" download href=${this.api.exportUrl(p.id)}>painting bundle (.zip)</a>
            <button type="button" name="export-report" @click=${this.exportReport}>Static report (.html)</button>
          </div>
        </div>
      </div>
      <section>
        <h3>Methods × prompts</h3>
        <div class="row">${ALL_METHODS.map(
          (m) => html`<label><input type="checkbox" name=${`method-${m}`} .checked=${s.methods.includes(m)}
            @change=${(e: Event) => {
              const on = (e.target as HTMLInputElement).checked;
              const methods = on ? [...s.methods, m] : s.methods.filter((x) => x !== m);
              if (methods.length)
                this.patch({ methods, method: methods.includes(s.method) ? s.method : methods[0] });
            }} />${m}</label>`,
        )}</div>
        ${
          s.prompts.length
            ? html`<ap-small-multiples .methods=${s.methods} .prompts=${s.prompts} .cells=${this.jobs.cells(s.methods, s.prompts)} .src=${this.api.imageUrl(p.id)} .width=${p.width} .height=${p.height}
              .selected=${this.probeMap ? undefined : { method: s.method, prompt: s.prompt }} .scheme=${s.scheme} .opacity=${s.opacity}
              @ap-cell-select=${(e: CustomEvent<{ method: string; prompt: number }>) => {
                this.probeMap = undefined;
                this.patch({ method: e.detail.method, prompt: e.detail.prompt, answer: '' });
              }}></ap-small-multiples>`
            : html`<p class="msg">Add a prompt above to compute maps.</p>`
        }
      </section>
      <section><ap-metrics-panel .rows=${this.metrics} .selected=${this.selectedRegion}></ap-metrics-panel></section>`;
  }
}

customElements.define('ap-painting-view', ApPaintingView);
