/**
 * `<ap-probe-panel>`: asks CLIP's zero-shot probe (`POST /api/paintings/:id/probe`, one request, cached by the
 * server) for a dimension of any default or workspace suite, and lists the ranked answers with their
 * probabilities as bars (d3 linear scale). Each answer is a button: clicking it fires `ap-probe-select`
 * {dimension, suite, label, probability, target} where `target` is the label target that explains that answer
 * (POST it as a job's target for the heatmap). `ap-probe-answers` {answers, selection} reports every answer
 * set received; `ap-probe-dimension` {selection} the dimension the user asked for. Setting `selection`
 * ("suite/dimension", e.g. from the URL) asks for it when the painting has no answers for it yet. "All
 * dimensions" asks every dimension of the default suites in one request. While CLIP works, the panel says for
 * how long it has been asking (the first question of a session loads the text encoder: 10–15 s on a CPU). The
 * catalog's label of the painting for a dimension (`GET /api/paintings/:id/catalog-truth`) is marked among the
 * answers, with its rank when it is not in the top five.
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
  /** The catalog's label for this dimension (when the painting's catalog row has one that matches a label). */
  truth?: { label: string | null; value: string | null; field: string | null };
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
    elapsed: { state: true },
    asked: { state: true },
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
  /** Seconds since the pending question was asked. */
  declare elapsed: number;
  /** What is being asked (for the status line). */
  declare asked: string;
  private asking = new Set<string>();
  private timer?: ReturnType<typeof setInterval>;
  private startedAt = 0;

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
    .asking progress { width: 60px; vertical-align: middle; }
    .answer.truth { border-color: #1b6e3a; }
    .badge { font-size: 11px; font-weight: 600; color: #fff; background: #1b6e3a; border-radius: 3px; padding: 0 4px; }
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
    this.elapsed = 0;
    this.asked = '';
  }

  override disconnectedCallback(): void {
    clearInterval(this.timer);
    super.disconnectedCallback();
  }

  private setBusy(on: boolean): void {
    this.busy = on;
    clearInterval(this.timer);
    if (on) {
      this.startedAt = performance.now();
      this.elapsed = 0;
      this.timer = setInterval(() => (this.elapsed = (performance.now() - this.startedAt) / 1000), 500);
    }
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
  ask(selection: string): Promise<void> {
    const [suite, dimension] = selection.split('/');
    return this.askMany([suite], dimension ? [dimension] : [], selection, `${dimension}`);
  }

  /** Asks every dimension of the default suites in one request. */
  askAll(): Promise<void> {
    const suites = this.suites.filter((s) => s.origin === 'default').map((s) => s.name);
    return this.askMany(suites, [], '*', 'every dimension');
  }

  private async askMany(suites: string[], dimensions: string[], key: string, what: string): Promise<void> {
    if (!this.api || !this.painting || !suites.length || !suites[0] || this.asking.has(key)) return;
    this.asking.add(key);
    this.asked = what;
    this.setBusy(true);
    this.error = '';
    const painting = this.painting;
    try {
      // every label's rank is kept (topK 100): the catalog's label may be far down
      const res = await this.api.probe(painting, { suites, dimensions, topK: 100 });
      if (painting !== this.painting) return;
      const answers = res.images[0]?.answers ?? {};
      const names = dimensions.length ? dimensions : Object.keys(answers);
      if (!names.length || names.some((d) => !answers[d]))
        throw new Error(`the answer has no dimension ${names.find((d) => !answers[d]) ?? ''}`);
      const fresh: ProbeAnswerUi[] = names.map((dimension) => {
        const a = answers[dimension];
        const info = res.dimensions.find((d) => d.name === dimension);
        return {
          dimension,
          suite: info?.suite ?? suites[0],
          top: a.ranked.map((r) => ({ label: r.label, p: r.probability, prompt: r.prompt })),
          explain: a.explain,
          truth: this.answers.find((x) => x.dimension === dimension)?.truth,
        };
      });
      this.answers = [...fresh, ...this.answers.filter((x) => !names.includes(x.dimension))];
      this.emit('ap-probe-answers', { answers: this.answers, selection: key });
      void this.loadTruth(painting, fresh);
    } catch (e) {
      this.error = `Cannot ask CLIP about ${what}: ${(e as Error).message}`;
    } finally {
      this.asking.delete(key);
      this.setBusy(this.asking.size > 0);
    }
  }

  /** The catalog's label of each answered dimension (no catalog or no match: nothing marked). */
  private async loadTruth(painting: string, answers: ProbeAnswerUi[]): Promise<void> {
    for (const a of answers) {
      if (a.truth || !a.suite || !this.api) continue;
      try {
        const t = await this.api.catalogTruth(painting, a.suite, a.dimension);
        if (painting !== this.painting) return;
        this.answers = this.answers.map((x) =>
          x.dimension === a.dimension
            ? { ...x, truth: { label: t.label, value: t.value, field: t.field } }
            : x,
        );
      } catch {
        /* no catalog label: nothing to mark */
      }
    }
    this.emit('ap-probe-answers', { answers: this.answers, selection: '' });
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
          <button type="button" name="ask-all" ?disabled=${this.busy || !this.painting || !this.suites.length} @click=${() => void this.askAll()}
            title="every dimension of the default suites (style, period, content, scene, artifacts) in one request">All dimensions</button>
        </div>`
      : nothing;
    return html`${asker}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${
        this.answers.length
          ? this.answers.map((d) => this.renderAnswer(d, x))
          : this.busy
            ? nothing
            : html`<p class="empty">No answers yet: choose a dimension and ask CLIP.</p>`
      }
      ${
        this.busy
          ? html`<p class="empty asking" role="status"><progress aria-label="asking CLIP"></progress> Asking CLIP about ${this.asked}… ${Math.floor(this.elapsed)} s${
              this.elapsed > 3 ? ' (the first question loads the text encoder: 10–15 s on a CPU)' : ''
            }</p>`
          : nothing
      }`;
  }

  private renderAnswer(d: ProbeAnswerUi, x: (v: number) => number) {
    const truth = d.truth?.label ?? undefined;
    const shown = d.top.slice(0, this.limit);
    const rank = truth ? d.top.findIndex((t) => t.label === truth) : -1;
    const row = (t: ProbeAnswerUi['top'][number], i: number) => {
      const key = `${d.dimension}/${t.label}`;
      const isTruth = t.label === truth;
      return html`<div role="listitem"><button class="answer ${isTruth ? 'truth' : ''}" type="button" aria-pressed=${this.selected === key} data-label=${t.label}
        ?disabled=${!t.prompt} aria-label=${`${d.dimension}: ${t.label}, ${(100 * t.p).toFixed(1)} percent${isTruth ? ', the catalog label' : ''}; show its heatmap`}
        @click=${() => this.select(d, t)}>
        <span class="name" title=${t.label}>${i >= this.limit ? html`<small>#${i + 1}</small> ` : nothing}${t.label}${isTruth ? html` <b class="badge" title=${`catalog ${d.truth?.field}: ${d.truth?.value}`}>catalog</b>` : nothing}</span><span class="track"><span class="fill" style="width:${x(t.p).toFixed(1)}%"></span></span>
        <span class="p">${(100 * t.p).toFixed(1)}%</span></button></div>`;
    };
    return html`<h3>${d.dimension}${d.suite ? html` <small>(${d.suite})</small>` : nothing}</h3>
      <div role="list" aria-label=${`CLIP's answers for ${d.dimension}`}>
        ${shown.map(row)}
        ${rank >= this.limit ? row(d.top[rank], rank) : nothing}
      </div>
      ${
        d.truth && !truth && d.truth.value
          ? html`<p class="empty">Catalog ${d.truth.field}: “${d.truth.value}” (matches none of the labels)</p>`
          : nothing
      }`;
  }
}

customElements.define('ap-probe-panel', ApProbePanel);
