/**
 * `<ap-probe-panel>`: asks CLIP's zero-shot probe (`POST /api/paintings/:id/probe`, one request, cached by the
 * server) for a dimension of any default or workspace suite, and lists the ranked answers with their
 * probabilities as bars (d3 linear scale). Each answer is a button: clicking it fires `ap-probe-select`
 * {dimension, suite, label, probability, target} where `target` is the label target that explains that answer
 * (POST it as a job's target for the heatmap). `ap-probe-answers` {answers, selection} reports every answer
 * set received; `ap-probe-dimension` {selection} the dimension the user asked for. Setting `selection`
 * ("suite/dimension", e.g. from the URL) asks for it when the painting has no answers for it yet.
 *
 * @example
 * <ap-probe-panel .api=${api} painting=${id} selection="style/style" @ap-probe-select=${(e) => show(e.detail.target)}></ap-probe-panel>
 */
import { scaleLinear } from 'd3';
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import type { Api, SuiteSummary, Target } from './api.ts';

export interface ProbeAnswerUi {
  dimension: string;
  suite?: string;
  /** Ranked labels: probability and the label's prompt in the explain target. */
  top: { label: string; p: number; prompt?: string }[];
  /** The label-set target explaining the top answer (labels with their prompt ensembles). */
  explain?: Extract<Target, { kind: 'label' }>;
}

export interface ProbeSelectDetail {
  dimension: string;
  suite?: string;
  label: string;
  probability: number;
  target: Extract<Target, { kind: 'label' }>;
}

export class ApProbePanel extends LitElement {
  static override properties = {
    api: { attribute: false },
    painting: { type: String },
    selection: { type: String },
    answers: { attribute: false },
    selected: { type: String },
    limit: { type: Number },
    suites: { state: true },
    choice: { state: true },
    busy: { state: true },
    error: { state: true },
  };
  declare api: Api | undefined;
  /** Painting id. */
  declare painting: string;
  /** "suite/dimension" to show (asked for when missing). */
  declare selection: string;
  declare answers: ProbeAnswerUi[];
  /** `dimension/label` of the answer whose map is shown. */
  declare selected: string;
  declare limit: number;
  declare suites: SuiteSummary[];
  declare choice: string;
  declare busy: boolean;
  declare error: string;
  private asking = new Set<string>();

  static override styles = css`
    :host { display: block; font-size: 14px; }
    .ask { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; margin: 4px 0 8px; }
    select, .ask button { font: inherit; }
    .ask button { border: 1px solid #0b5cad; background: #0b5cad; color: #fff; border-radius: 4px; padding: 3px 10px; cursor: pointer; }
    .ask button[disabled] { background: #5f6b7a; border-color: #5f6b7a; cursor: progress; }
    h3 { font-size: 14px; margin: 10px 0 4px; }
    h3 small { font-weight: normal; color: #4a4a4a; }
    .answer { display: grid; grid-template-columns: minmax(0, 11em) 1fr 3.6em; gap: 8px; align-items: center; width: 100%;
      font: inherit; text-align: left; background: none; border: 1px solid transparent; border-radius: 3px; padding: 2px 4px; cursor: pointer; color: inherit; }
    .answer:hover { background: #eef3fa; }
    .answer[aria-pressed='true'] { border-color: #0b5cad; background: #e6eefb; }
    button:focus-visible, select:focus-visible { outline: 3px solid #b35c00; outline-offset: 1px; }
    .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .track { height: 10px; background: #e2e2e2; }
    .fill { height: 100%; background: #0b5cad; display: block; }
    .p { text-align: right; font-variant-numeric: tabular-nums; }
    .empty { color: #4a4a4a; }
    .error { color: #a00000; }
  `;

  constructor() {
    super();
    this.painting = '';
    this.selection = '';
    this.answers = [];
    this.selected = '';
    this.limit = 5;
    this.suites = [];
    this.choice = '';
    this.busy = false;
    this.error = '';
  }

  private emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('api') && this.api && !this.suites.length) void this.loadSuites();
    if (changed.has('painting') && changed.get('painting') !== undefined) {
      this.answers = [];
      this.asking.clear();
    }
    if ((changed.has('selection') || changed.has('painting') || changed.has('api')) && this.selection) {
      this.choice = this.selection;
      const [, dim] = this.selection.split('/');
      if (this.api && this.painting && !this.answers.some((a) => a.dimension === dim))
        void this.ask(this.selection);
    }
  }

  private async loadSuites(): Promise<void> {
    try {
      this.suites = (await this.api?.suites()) ?? [];
      if (!this.choice) {
        const all = this.suites.flatMap((s) => s.dimensions.map((d) => `${s.name}/${d}`));
        this.choice = all.includes('style/style') ? 'style/style' : (all[0] ?? '');
      }
    } catch (e) {
      this.error = `Cannot list the probe suites: ${(e as Error).message}`;
    }
  }

  /** Asks the server for one "suite/dimension" and adds (or replaces) its answers. */
  async ask(selection: string): Promise<void> {
    const [suite, dimension] = selection.split('/');
    if (!this.api || !this.painting || !suite || !dimension || this.asking.has(selection)) return;
    this.asking.add(selection);
    this.busy = true;
    this.error = '';
    const painting = this.painting;
    try {
      const res = await this.api.probe(painting, { suites: [suite], dimensions: [dimension], topK: 5 });
      if (painting !== this.painting) return;
      const a = res.images[0]?.answers[dimension];
      if (!a) throw new Error(`the answer has no dimension ${dimension}`);
      const answer: ProbeAnswerUi = {
        dimension,
        suite,
        top: a.ranked.map((r) => ({ label: r.label, p: r.probability, prompt: r.prompt })),
        explain: a.explain,
      };
      this.answers = [answer, ...this.answers.filter((x) => x.dimension !== dimension)];
      this.emit('ap-probe-answers', { answers: this.answers, selection });
    } catch (e) {
      this.error = `Cannot ask CLIP about ${dimension}: ${(e as Error).message}`;
    } finally {
      this.asking.delete(selection);
      this.busy = this.asking.size > 0;
    }
  }

  private select(d: ProbeAnswerUi, t: ProbeAnswerUi['top'][number]): void {
    if (!d.explain) return;
    const detail: ProbeSelectDetail = {
      dimension: d.dimension,
      suite: d.suite,
      label: t.label,
      probability: t.p,
      target: { ...d.explain, label: t.label },
    };
    this.emit('ap-probe-select', detail);
  }

  override render() {
    const x = scaleLinear().domain([0, 1]).range([0, 100]).clamp(true);
    const asker = this.api
      ? html`<div class="ask">
          <label>Dimension <select name="probe-dimension" @change=${(e: Event) => (this.choice = (e.target as HTMLSelectElement).value)}>
            ${this.suites.map(
              (s) =>
                html`<optgroup label=${s.name}>${s.dimensions.map(
                  (d) =>
                    html`<option value=${`${s.name}/${d}`} ?selected=${this.choice === `${s.name}/${d}`}>${d}</option>`,
                )}</optgroup>`,
            )}</select></label>
          <button type="button" name="ask" ?disabled=${this.busy || !this.choice || !this.painting} @click=${() => {
            this.emit('ap-probe-dimension', { selection: this.choice });
            void this.ask(this.choice);
          }}>Ask CLIP</button>
        </div>`
      : nothing;
    return html`${asker}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${
        this.answers.length
          ? this.answers.map(
              (d) => html`<h3>${d.dimension}${d.suite ? html` <small>(${d.suite})</small>` : nothing}</h3>
                <div role="list" aria-label=${`CLIP's answers for ${d.dimension}`}>
                  ${d.top.slice(0, this.limit).map((t) => {
                    const key = `${d.dimension}/${t.label}`;
                    return html`<div role="listitem"><button class="answer" type="button" aria-pressed=${this.selected === key} data-label=${t.label}
                      ?disabled=${!t.prompt} aria-label=${`${d.dimension}: ${t.label}, ${(100 * t.p).toFixed(1)} percent; show its heatmap`}
                      @click=${() => this.select(d, t)}>
                      <span class="name" title=${t.label}>${t.label}</span><span class="track"><span class="fill" style="width:${x(t.p).toFixed(1)}%"></span></span>
                      <span class="p">${(100 * t.p).toFixed(1)}%</span></button></div>`;
                  })}
                </div>`,
            )
          : html`<p class="empty">${this.busy ? 'Asking CLIP…' : 'No answers yet: choose a dimension and ask CLIP.'}</p>`
      }
      ${this.busy && this.answers.length ? html`<p class="empty" role="status">Asking CLIP…</p>` : nothing}`;
  }
}

customElements.define('ap-probe-panel', ApProbePanel);
