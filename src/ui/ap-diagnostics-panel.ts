/**
 * `<ap-diagnostics-panel>`: a painting's decomposition and steering diagnostics, in a section that opens on
 * demand (nothing is asked of the server before):
 * - **Decomposition** (`POST /api/paintings/:id/decompose`): texts (one per line, `A|B` contrasts A with B; each
 *   versus the rest on request) → the layer × head grid of scores (`<ap-head-grid>`) for the chosen direction;
 *   clicking a head (or a layer's Σ, or the total) draws that selection's patch map over the painting
 *   (`<ap-heatmap>`, signed, with its `<ap-colorbar>`), from the decomposition's head maps
 *   (`/api/decompositions/:id/heads.npy`). The top head of the first direction is shown at first.
 * - **Steering** (`POST /api/paintings/:id/steer`): toward a prompt (optionally away from another) within a
 *   budget ε → `<ap-steer-view>`: before / after / amplified perturbation, the score change and each probe
 *   dimension's answer before → after, PSNR and SSIM.
 * - **Robustness** (a task, `POST /api/steer/robustness`): the smallest budget flipping each dimension of a
 *   suite on this painting → `<ap-robustness-curve>`.
 * - **Head roles** (a task over every painting of the workspace, `POST /api/decompose/heads`) →
 *   `<ap-head-roles>`; a row's head is shown on this painting's grid and map.
 * Tasks show their progress and can be cancelled. `disabled` (why no model can run, or '') disables the buttons.
 *
 * @example
 * <ap-diagnostics-panel .api=${api} .painting=${painting} .prompts=${['a red circle']} disabled=""></ap-diagnostics-panel>
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { formatLegend } from '../report/legend.ts';
import type { Api, Decomposition, DiagnosticsTask, Painting, SteerResult, SuiteSummary } from './api.ts';
import './ap-colorbar.ts';
import './ap-head-grid.ts';
import type { HeadSelection } from './ap-head-grid.ts';
import './ap-head-roles.ts';
import './ap-heatmap.ts';
import './ap-robustness-curve.ts';
import './ap-steer-view.ts';
import { displayDomain } from './colormap.ts';
import { displaySize, gridToDisplay, selectHeads } from './decompose-maps.ts';

const EPSILONS = [1, 2, 4, 8, 16];
/** Most paintings a head-roles task takes (the server's bound). */
const MAX_ROLE_PAINTINGS = 500;

export class ApDiagnosticsPanel extends LitElement {
  static override properties = {
    api: { attribute: false },
    painting: { attribute: false },
    prompts: { attribute: false },
    disabled: { type: String },
    open: { state: true },
    suites: { state: true },
    dec: { state: true },
    direction: { state: true },
    heads: { state: true },
    selected: { state: true },
    decBusy: { state: true },
    decMsg: { state: true },
    steerResult: { state: true },
    steerBusy: { state: true },
    steerMsg: { state: true },
    robTask: { state: true },
    robMsg: { state: true },
    rolesTask: { state: true },
    rolesMsg: { state: true },
  };
  declare api: Api | undefined;
  declare painting: Painting | undefined;
  /** The painting's prompts (the decomposition's texts until the user types others). */
  declare prompts: string[];
  /** Why the model cannot run now, or ''. */
  declare disabled: string;
  declare open: boolean;
  declare suites: SuiteSummary[];
  declare dec: Decomposition | undefined;
  declare direction: number;
  /** The current direction's head maps [L, H, G, G]. */
  declare heads: { key: string; data: Float32Array } | undefined;
  declare selected: HeadSelection | undefined;
  declare decBusy: boolean;
  declare decMsg: string;
  declare steerResult: SteerResult | undefined;
  declare steerBusy: boolean;
  declare steerMsg: string;
  declare robTask: DiagnosticsTask | undefined;
  declare robMsg: string;
  declare rolesTask: DiagnosticsTask | undefined;
  declare rolesMsg: string;
  private loadedFor = '';

  static override styles = css`
    :host { display: block; margin-top: 14px; font-size: 14px; }
    details.diag { border: 1px solid #d6d6d6; border-radius: 6px; background: #ffffff; padding: 2px 14px 12px; }
    summary { cursor: pointer; font-weight: 600; padding: 6px 0; }
    summary small { font-weight: normal; color: #444; }
    summary:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    .sections { display: grid; grid-template-columns: minmax(0, 1.45fr) minmax(0, 1fr); gap: 10px 28px; }
    @media (max-width: 1100px) { .sections { grid-template-columns: minmax(0, 1fr); } }
    section { min-width: 0; border-top: 1px solid #e3e3e3; padding-top: 4px; }
    section.wide { grid-column: 1 / -1; }
    h3 { font-size: 15px; margin: 6px 0 4px; }
    h3 small { font-weight: normal; color: #444; font-size: 12px; }
    .row { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; margin: 4px 0; }
    form.row { align-items: flex-end; }
    label { display: inline-flex; gap: 4px; align-items: center; }
    label.stack { flex-direction: column; align-items: flex-start; gap: 1px; }
    input, select, textarea, button { font: inherit; }
    textarea { width: 26em; max-width: 100%; }
    input[type='number'] { width: 4.5em; }
    button { border: 1px solid #666; background: #ffffff; color: #111111; border-radius: 4px; padding: 2px 10px; cursor: pointer; }
    button.primary { background: #0b5cad; border-color: #0b5cad; color: #ffffff; }
    button[disabled] { background: #e8e8e8; border-color: #999; color: #444444; cursor: default; }
    button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    .msg { color: #333; font-size: 13px; min-height: 1.2em; margin: 2px 0; }
    .err { color: #8a1c1c; }
    .help { color: #444; font-size: 12px; margin: 2px 0 4px; }
    .dec { display: flex; flex-wrap: wrap; gap: 14px 24px; align-items: flex-start; }
    figure { margin: 0; width: 340px; max-width: 100%; }
    figcaption { font-size: 13px; color: #333; margin: 3px 0; }
    progress { width: 12em; }
  `;

  constructor() {
    super();
    this.prompts = [];
    this.disabled = '';
    this.open = false;
    this.suites = [];
    this.direction = 0;
    this.decBusy = false;
    this.decMsg = '';
    this.steerBusy = false;
    this.steerMsg = '';
    this.robMsg = '';
    this.rolesMsg = '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const id = this.painting?.id ?? '';
    if (changed.has('painting') && id !== this.loadedFor) {
      this.loadedFor = id;
      this.dec = undefined;
      this.heads = undefined;
      this.selected = undefined;
      this.direction = 0;
      this.decMsg = this.steerMsg = this.robMsg = '';
      this.steerResult = undefined;
      this.robTask = undefined;
    }
  }

  private onToggle(e: Event): void {
    this.open = (e.target as HTMLDetailsElement).open;
    if (this.open && !this.suites.length && this.api)
      this.api.suites().then(
        (s) => (this.suites = s),
        () => undefined,
      );
  }

  private field<T extends HTMLElement = HTMLInputElement>(name: string): T {
    return this.renderRoot.querySelector(`[name="${name}"]`) as T;
  }

  // ---- decomposition

  private async decompose(e: Event): Promise<void> {
    e.preventDefault();
    const api = this.api;
    const p = this.painting;
    if (!api || !p) return;
    const texts = this.field<HTMLTextAreaElement>('texts')
      .value.split('\n')
      .map((t) => t.trim())
      .filter(Boolean);
    if (!texts.length) {
      this.decMsg = 'Type at least one text (one per line).';
      return;
    }
    this.decBusy = true;
    this.decMsg = 'Decomposing…';
    try {
      const d = await api.decompose(p.id, {
        texts,
        versusRest: this.field('versus-rest').checked,
        view: this.field<HTMLSelectElement>('view').value as 'crop' | 'pad',
      });
      if (p.id !== this.painting?.id) return;
      this.dec = d;
      this.direction = 0;
      this.heads = undefined;
      const top = d.directions[0]?.top[0];
      this.selected = top ? { layer: top.layer, head: top.head } : { layer: 'all', head: 'all' };
      this.decMsg = `${d.directions.length} direction(s) · reconstruction error ${formatLegend(d.reconstructionError)} · ${d.seconds.toFixed(2)} s${d.cached ? ' (remembered)' : ''}`;
      await this.loadHeads();
    } catch (err) {
      this.decMsg = `Cannot decompose: ${(err as Error).message}`;
    } finally {
      this.decBusy = false;
    }
  }

  /** Loads the head maps of the current direction (once per decomposition and direction). */
  private async loadHeads(): Promise<void> {
    const d = this.dec;
    if (!d || !this.api) return;
    const key = `${d.id}/${this.direction}`;
    if (this.heads?.key === key) return;
    try {
      const { data } = await this.api.decompositionHeads(d.id, this.direction);
      if (this.dec?.id === d.id) this.heads = { key, data };
    } catch (err) {
      this.decMsg = `Cannot load the head maps: ${(err as Error).message}`;
    }
  }

  private select(s: HeadSelection): void {
    if (!this.dec) {
      this.rolesMsg = 'Decompose this painting first to see a head’s map on it.';
      return;
    }
    this.selected = s;
  }

  private selectionText(s: HeadSelection): string {
    if (s.layer === 'all') return 'all heads of all layers';
    if (s.head === 'all') return `layer ${s.layer}, all heads`;
    return `layer ${s.layer}, head ${s.head}`;
  }

  private renderDecomposition() {
    const d = this.dec;
    const p = this.painting as Painting;
    const dir = d?.directions[this.direction];
    let figure: unknown = nothing;
    if (d && dir && this.selected && this.heads?.key === `${d.id}/${this.direction}` && this.api) {
      const s = this.selected;
      const grid = selectHeads(this.heads.data, d.layers, d.heads, d.grid, s.layer, s.head);
      const size = displaySize(d.painting.width, d.painting.height, 448);
      const map = gridToDisplay(grid, d.grid, d.inputRect, d.painting, size);
      const domain = displayDomain(map, { signed: true });
      const score =
        s.layer === 'all'
          ? dir.heads.flat().reduce((a, b) => a + b, 0)
          : s.head === 'all'
            ? dir.heads[s.layer].reduce((a, b) => a + b, 0)
            : dir.heads[s.layer][s.head];
      const cls =
        s.layer === 'all'
          ? dir.clsToken.flat().reduce((a, b) => a + b, 0)
          : s.head === 'all'
            ? dir.clsToken[s.layer].reduce((a, b) => a + b, 0)
            : dir.clsToken[s.layer][s.head];
      figure = html`<figure class="head-map" data-layer=${s.layer} data-head=${s.head}>
        <ap-heatmap .src=${this.api.imageUrl(p.id)} .width=${size.width} .height=${size.height} .map=${map} signed .opacity=${0.75}
          .domain=${domain} label=${`${p.name}: ${this.selectionText(s)} on “${dir.label}”`}></ap-heatmap>
        <figcaption><b>${this.selectionText(s)}</b> on “${dir.label}”: score ${formatLegend(score)}
          (class token ${formatLegend(cls)}, not on the painting)</figcaption>
        <ap-colorbar .domain=${domain} signed unit="each patch's part of the score"></ap-colorbar>
      </figure>`;
    }
    return html`<section class="wide" aria-labelledby="h-dec">
      <h3 id="h-dec">Decomposition <small>— each attention head's direct contribution to CLIP's embedding, scored on text directions (Gandelsman et al., ICLR 2024)</small></h3>
      <form class="row" @submit=${this.decompose} aria-label="decomposition">
        <label class="stack">Texts, one per line (“A|B” contrasts A with B)
          <textarea name="texts" rows="3" .value=${this.prompts.join('\n')} placeholder="e.g. a Baroque painting"></textarea></label>
        <label title="each plain text becomes its embedding minus the mean of the other texts' (what distinguishes it)"><input type="checkbox" name="versus-rest" />each text versus the rest</label>
        <label>View <select name="view"><option value="crop">crop</option><option value="pad">pad</option></select></label>
        <button class="primary" type="submit" name="decompose" ?disabled=${this.decBusy || !!this.disabled} title=${this.disabled}>Decompose</button>
      </form>
      <p class="msg ${this.decMsg.startsWith('Cannot') ? 'err' : ''}" role="status">${this.decMsg}</p>
      ${
        d && dir
          ? html`<div class="row">${
              d.directions.length > 1
                ? html`<label>Direction <select name="direction" @change=${(e: Event) => {
                    this.direction = Number((e.target as HTMLSelectElement).value);
                    void this.loadHeads();
                  }}>${d.directions.map((x, k) => html`<option value=${k} ?selected=${k === this.direction}>${x.label}</option>`)}</select></label>`
                : html`<span>Direction “${dir.label}”</span>`
            }
              <span>⟨embedding, direction⟩ = <b>${formatLegend(dir.total)}</b>: heads ${formatLegend(dir.heads.flat().reduce((a, b) => a + b, 0))},
                MLPs ${formatLegend(dir.mlp.reduce((a, b) => a + b, 0))}, the rest ${formatLegend(dir.embed + dir.lnPostBias + dir.attentionBias.reduce((a, b) => a + b, 0))}</span></div>
            <p class="help">Click a head (or a layer's Σ, or the total) to see where on the painting its score comes from.</p>
            <div class="dec">
              <ap-head-grid .scores=${dir.heads} .mlp=${dir.mlp} .selected=${this.selected} label=${dir.label}
                @ap-head-select=${(e: CustomEvent<HeadSelection>) => this.select(e.detail)}></ap-head-grid>
              ${figure}
            </div>`
          : nothing
      }
    </section>`;
  }

  // ---- steering and robustness

  private async steer(e: Event): Promise<void> {
    e.preventDefault();
    const api = this.api;
    const p = this.painting;
    if (!api || !p) return;
    const toward = this.field('toward').value.trim();
    const away = this.field('away').value.trim();
    if (!toward) {
      this.steerMsg = 'Type a prompt to steer toward.';
      return;
    }
    const suite = this.field<HTMLSelectElement>('steer-suite').value;
    this.steerBusy = true;
    this.steerMsg = 'Steering…';
    try {
      const r = await api.steer(p.id, {
        toward,
        ...(away ? { away } : {}),
        epsilon: Number(this.field<HTMLSelectElement>('epsilon').value),
        steps: Number(this.field('steps').value),
        ...(suite ? { suites: [suite] } : {}),
      });
      if (p.id !== this.painting?.id) return;
      this.steerResult = r;
      const flips = r.dimensions.filter((d) => d.flipped).length;
      this.steerMsg = `${flips} of ${r.dimensions.length} answer(s) changed${r.cached ? ' (remembered)' : ''}.`;
    } catch (err) {
      this.steerMsg = `Cannot steer: ${(err as Error).message}`;
    } finally {
      this.steerBusy = false;
    }
  }

  private async robustness(): Promise<void> {
    const api = this.api;
    const p = this.painting;
    if (!api || !p) return;
    const suite = this.field<HTMLSelectElement>('robust-suite').value;
    const dims = this.suites.find((s) => s.name === suite)?.dimensions ?? [];
    if (!dims.length) {
      this.robMsg = 'Choose a suite.';
      return;
    }
    this.robMsg = 'Starting…';
    try {
      let t = await api.robustness({ paintingIds: [p.id], suites: [suite], dimensions: dims.slice(0, 8) });
      this.robTask = t;
      t = await api.waitDiagnosticsTask(t.id, (x) => {
        this.robTask = x;
        this.robMsg = x.state === 'queued' ? 'Waiting for the model…' : 'Steering at every budget…';
      });
      if (p.id !== this.painting?.id) return;
      this.robTask = t;
      this.robMsg = '';
    } catch (err) {
      this.robMsg = `Robustness: ${(err as Error).message}`;
    }
  }

  private suiteOptions(withAll: boolean) {
    return html`${withAll ? html`<option value="">every default suite</option>` : nothing}
      ${this.suites.map((s) => html`<option value=${s.name}>${s.name} (${s.dimensions.join(', ')})</option>`)}`;
  }

  private renderSteer() {
    return html`<section aria-labelledby="h-steer">
      <h3 id="h-steer">Steering <small>— how far a change nobody would see moves CLIP's judgement (projected gradient ascent, L∞ budget)</small></h3>
      <form class="row" @submit=${this.steer} aria-label="steering">
        <label class="stack">Toward <input type="text" name="toward" size="18" placeholder="e.g. an AI-generated image" /></label>
        <label class="stack">Away from (optional) <input type="text" name="away" size="14" /></label>
        <label class="stack">Budget ε <select name="epsilon">${EPSILONS.map((x) => html`<option value=${x} ?selected=${x === 4}>${x}/255</option>`)}</select></label>
        <label class="stack">Steps <input type="number" name="steps" min="1" max="200" value="40" /></label>
        <label class="stack">Answers of <select name="steer-suite">${this.suiteOptions(true)}</select></label>
        <button class="primary" type="submit" name="steer" ?disabled=${this.steerBusy || !!this.disabled} title=${this.disabled}>Steer</button>
      </form>
      <p class="msg ${this.steerMsg.startsWith('Cannot') ? 'err' : ''}" role="status">${this.steerMsg}</p>
      <ap-steer-view .result=${this.steerResult} base=${this.api?.base ?? ''}></ap-steer-view>
    </section>`;
  }

  private renderRobustness() {
    const t = this.robTask;
    const running = t && (t.state === 'queued' || t.state === 'running');
    return html`<section aria-labelledby="h-rob">
      <h3 id="h-rob">Robustness <small>— the smallest budget that flips each answer (steering away from it)</small></h3>
      <div class="row">
        <label>Suite <select name="robust-suite">${this.suiteOptions(false)}</select></label>
        <button type="button" name="robustness" ?disabled=${!!running || !!this.disabled} title=${this.disabled} @click=${this.robustness}>Find the flipping budgets</button>
        ${running ? html`<button type="button" name="cancel-robustness" @click=${() => this.api?.cancelDiagnosticsTask(t.id)}>Cancel</button>` : nothing}
      </div>
      <p class="help">Budgets ${EPSILONS.map((e) => `${e}`).join(', ')} /255, 40 steps each; the answer counts as flipped once another label is on top.</p>
      <p class="msg ${this.robMsg.startsWith('Robustness') ? 'err' : ''}" role="status">${this.robMsg}</p>
      ${t?.robustness ? html`<ap-robustness-curve .row=${t.robustness.rows[0]} steps=${t.robustness.steps}></ap-robustness-curve>` : nothing}
    </section>`;
  }

  // ---- head roles

  private async headRoles(): Promise<void> {
    const api = this.api;
    if (!api) return;
    this.rolesMsg = 'Starting…';
    try {
      const ids = (await api.paintings()).map((p) => p.id);
      if (ids.length < 2) {
        this.rolesMsg = 'Head roles need at least two paintings in the workspace.';
        return;
      }
      let t = await api.headRoles({
        paintingIds: ids.slice(0, MAX_ROLE_PAINTINGS),
        lastLayers: Number(this.field('last-layers').value),
        textsPerHead: Number(this.field('texts-per-head').value),
      });
      this.rolesTask = t;
      t = await api.waitDiagnosticsTask(t.id, (x) => {
        this.rolesTask = x;
        this.rolesMsg =
          x.state === 'queued'
            ? 'Waiting for the model…'
            : `Decomposing ${x.progress.done} of ${x.progress.total} paintings…`;
      });
      this.rolesTask = t;
      this.rolesMsg = `${t.headRoles?.images ?? 0} paintings, ${t.headRoles?.vocabulary.descriptions ?? 0} descriptions${ids.length > MAX_ROLE_PAINTINGS ? ` (the first ${MAX_ROLE_PAINTINGS} paintings)` : ''}.`;
    } catch (err) {
      this.rolesMsg = `Head roles: ${(err as Error).message}`;
    }
  }

  private renderRoles() {
    const t = this.rolesTask;
    const running = t && (t.state === 'queued' || t.state === 'running');
    return html`<section class="wide" aria-labelledby="h-roles">
      <h3 id="h-roles">Head roles <small>— what each head of the last layers varies with across the workspace's paintings, named from a vocabulary of art descriptions (TextSpan)</small></h3>
      <div class="row">
        <label>Last layers <input type="number" name="last-layers" min="1" max="64" value="4" /></label>
        <label>Descriptions per head <input type="number" name="texts-per-head" min="1" max="20" value="5" /></label>
        <button type="button" name="head-roles" ?disabled=${!!running || !!this.disabled} title=${this.disabled} @click=${this.headRoles}>Find head roles over the workspace</button>
        ${
          running
            ? html`<progress max=${t.progress.total || 1} .value=${t.progress.done} aria-label="paintings decomposed"></progress>
              <button type="button" name="cancel-roles" @click=${() => this.api?.cancelDiagnosticsTask(t.id)}>Cancel</button>`
            : nothing
        }
      </div>
      <p class="msg ${this.rolesMsg.startsWith('Head roles:') ? 'err' : ''}" role="status">${this.rolesMsg}</p>
      ${
        t?.headRoles
          ? html`<ap-head-roles .heads=${t.headRoles.heads} .selected=${this.selected}
              @ap-head-select=${(e: CustomEvent<HeadSelection>) => this.select(e.detail)}></ap-head-roles>`
          : nothing
      }
    </section>`;
  }

  override render() {
    if (!this.painting) return nothing;
    return html`<details class="diag" @toggle=${this.onToggle}>
      <summary>Diagnostics: decomposition and steering <small>— which heads see what, and how easily CLIP's answers move</small></summary>
      ${
        this.open
          ? html`<div class="sections">
              ${this.renderDecomposition()}
              ${this.renderSteer()}
              ${this.renderRobustness()}
              ${this.renderRoles()}
            </div>`
          : nothing
      }
    </details>`;
  }
}

customElements.define('ap-diagnostics-panel', ApDiagnosticsPanel);

declare global {
  interface HTMLElementTagNameMap {
    'ap-diagnostics-panel': ApDiagnosticsPanel;
  }
}
