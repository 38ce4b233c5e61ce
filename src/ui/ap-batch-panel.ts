/**
 * `<ap-batch-panel>`: runs prompts (or a probe dimension: each painting's catalog label) × methods over the
 * paintings the gallery shows, as one batch (`POST /api/batches`), and lists the batches of the workspace with
 * their overall progress, ETA, Cancel / Resume and a link to their summary. While a batch runs, the panel polls
 * its progress once a second. Batches live in the workspace, so they are still here after a restart.
 *
 * @example
 * <ap-batch-panel .api=${api} .paintingIds=${shownIds} .suites=${suites}></ap-batch-panel>
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { METHOD_LIST, methodInfo, VIEW_HELP } from '../report/legend.ts';
import type { Api, Batch, SuiteSummary } from './api.ts';

/** Methods offered for batches: every method of the server's registry, cheap ones first (report/legend.ts). */
export const BATCH_METHODS: readonly string[] = METHOD_LIST;

/**
 * Seconds as "m:ss" (or "h:mm:ss").
 *
 * @example
 * formatEta(75); // '1:15'
 */
export function formatEta(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '–';
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export class ApBatchPanel extends LitElement {
  static override properties = {
    api: { attribute: false },
    paintingIds: { attribute: false },
    suites: { attribute: false },
    disabled: { type: String },
    batches: { state: true },
    methods: { state: true },
    message: { state: true },
  };
  declare api: Api | undefined;
  /** The paintings a new batch runs over (the gallery's filtered ones). */
  declare paintingIds: string[];
  declare suites: SuiteSummary[];
  /** Why batches cannot run now (e.g. no model), or ''. */
  declare disabled: string;
  declare batches: Batch[];
  declare methods: string[];
  declare message: string;
  private timer?: ReturnType<typeof setTimeout>;

  static override styles = css`
    :host { display: block; font-size: 14px; }
    .form { display: grid; grid-template-columns: minmax(0, 1fr); gap: 6px; }
    label { display: flex; flex-direction: column; gap: 2px; font-size: 13px; }
    textarea, select, input, button { font: inherit; }
    textarea { min-height: 3.2em; resize: vertical; }
    .methods { display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: 13px; }
    .methods label { flex-direction: row; align-items: center; gap: 4px; }
    .row { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: end; margin-top: 6px; }
    button { border: 1px solid #0b5cad; background: #0b5cad; color: #fff; border-radius: 4px; padding: 3px 12px; cursor: pointer; }
    button.plain { background: #fff; color: #0b5cad; }
    button.danger { background: #fff; color: #8a1c1c; border-color: #8a1c1c; }
    button[disabled] { opacity: .55; cursor: default; }
    button:focus-visible, textarea:focus-visible, select:focus-visible, input:focus-visible, a:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
    .help { color: #555; font-size: 12px; }
    ul.list { list-style: none; padding: 0; margin: 10px 0 0; }
    ul.list { max-height: 260px; overflow: auto; }
    ul.list li { border-top: 1px solid #ddd; padding: 6px 0; display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 4px 12px; align-items: center; }
    ul.list li progress { grid-column: 1 / -1; width: 100%; }
    .name { font-weight: 600; overflow-wrap: anywhere; }
    .state { font-size: 12px; border-radius: 3px; padding: 0 5px; color: #fff; background: #5f6b7a; margin-left: 6px; }
    .state.running { background: #0b5cad; } .state.done { background: #1b6e3a; } .state.cancelled, .state.failed { background: #8a4b00; }
    .counts { font-size: 12px; color: #333; font-variant-numeric: tabular-nums; }

    .acts { display: flex; gap: 6px; align-items: center; }
    .acts a { color: #0b5cad; }
    .msg { min-height: 1.2em; font-size: 13px; color: #a00000; }
  `;

  constructor() {
    super();
    this.paintingIds = [];
    this.suites = [];
    this.disabled = '';
    this.batches = [];
    this.methods = ['rollout', 'chefer-last', 'occlusion'];
    this.message = '';
  }

  override disconnectedCallback(): void {
    clearTimeout(this.timer);
    super.disconnectedCallback();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('api') && this.api) void this.refresh();
  }

  /** Reloads the batches, and polls again in a second while one runs. */
  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.api) return;
    try {
      this.batches = await this.api.batches();
    } catch (e) {
      this.message = `Cannot list batches: ${(e as Error).message}`;
    }
    if (this.batches.some((b) => b.state === 'running') && this.isConnected)
      this.timer = setTimeout(() => void this.refresh(), 1000);
  }

  private value(name: string): string {
    return (this.renderRoot.querySelector(`[name=${name}]`) as HTMLInputElement | null)?.value ?? '';
  }

  private async run(): Promise<void> {
    if (!this.api) return;
    const prompts = this.value('batch-prompts')
      .split('\n')
      .map((p) => p.trim())
      .filter(Boolean);
    const probe = this.value('batch-probe');
    if (!prompts.length && !probe) {
      this.message = 'Give at least one prompt (one per line) or a probe dimension.';
      return;
    }
    if (!this.methods.length) {
      this.message = 'Choose at least one method.';
      return;
    }
    this.message = '';
    try {
      const [suite, dimension] = probe.split('/');
      const b = await this.api.createBatch({
        paintingIds: this.paintingIds,
        methods: this.methods,
        prompts,
        ...(probe ? { probe: { suite, dimension } } : {}),
        view: this.value('batch-view') as 'pad' | 'crop' | 'tiles',
        metricSide: Number(this.value('batch-side')),
        faithfulnessSteps: Number(this.value('batch-faithfulness')),
      });
      this.batches = [b, ...this.batches.filter((x) => x.id !== b.id)];
      void this.refresh();
    } catch (e) {
      this.message = `Cannot start the batch: ${(e as Error).message}`;
    }
  }

  private async act(b: Batch, what: 'cancel' | 'resume' | 'delete'): Promise<void> {
    if (!this.api) return;
    try {
      if (what === 'cancel') await this.api.cancelBatch(b.id);
      else if (what === 'resume') await this.api.resumeBatch(b.id);
      else if (confirm(`Delete batch “${b.name}”? Its finished maps stay in the workspace.`))
        await this.api.deleteBatch(b.id);
      await this.refresh();
    } catch (e) {
      this.message = `${what}: ${(e as Error).message}`;
    }
  }

  private renderBatch(b: Batch) {
    const c = b.counts;
    const finished = c.done + c.failed + c.cancelled;
    return html`<li data-batch=${b.id} data-state=${b.state}>
      <div><span class="name">${b.name}</span><span class="state ${b.state}">${b.state}</span>
        <div class="counts" aria-live="polite">${c.done} of ${b.total} maps done${c.running ? ` · ${c.running} running` : ''}${c.queued ? ` · ${c.queued} waiting` : ''}${c.failed ? ` · ${c.failed} failed` : ''}${c.cancelled ? ` · ${c.cancelled} cancelled` : ''} · ${b.paintings} paintings${
          b.state === 'running' ? ` · ETA ${formatEta(b.etaSeconds)}` : ''
        }</div>
        ${b.notes.length ? html`<div class="help">${b.notes.slice(0, 2).join(' · ')}${b.notes.length > 2 ? ' …' : ''}</div>` : nothing}</div>
      <div class="acts">
        ${b.state === 'running' ? html`<button type="button" class="danger" name="cancel-batch" @click=${() => this.act(b, 'cancel')}>Cancel</button>` : nothing}
        ${b.state === 'cancelled' || b.state === 'failed' ? html`<button type="button" class="plain" name="resume-batch" @click=${() => this.act(b, 'resume')}>Resume</button>` : nothing}
        <a href=${`#/summary/${b.id}`} name="open-summary">Summary</a>
        <button type="button" class="plain" name="delete-batch" aria-label=${`delete batch ${b.name}`} @click=${() => this.act(b, 'delete')}>×</button>
      </div>
      <progress max="1" .value=${b.fraction} aria-label=${`progress of ${b.name}: ${finished} of ${b.total}`}></progress>
    </li>`;
  }

  override render() {
    const dims = this.suites
      .filter((s) => s.origin === 'default')
      .flatMap((s) => s.dimensions.map((d) => `${s.name}/${d}`));
    const n = this.paintingIds.length;
    return html`
      <div class="form">
        <label>Prompts (one per line)
          <textarea name="batch-prompts" rows="2" placeholder=${'a face\nthe sky'}></textarea></label>
        <div>
          <div class="methods" role="group" aria-label="methods">${BATCH_METHODS.map(
            (
              m,
            ) => html`<label title=${methodInfo(m).note}><input type="checkbox" name=${`batch-method-${m}`} .checked=${this.methods.includes(m)}
              @change=${(e: Event) => {
                const on = (e.target as HTMLInputElement).checked;
                this.methods = on ? [...this.methods, m] : this.methods.filter((x) => x !== m);
              }} />${m}</label>`,
          )}</div>
          <div class="row">
            <label>and/or a probe dimension (each painting's catalog label)
              <select name="batch-probe"><option value="">none</option>${dims.map((d) => html`<option value=${d}>${d}</option>`)}</select></label>
            <label>View <select name="batch-view" title=${Object.values(VIEW_HELP).join('\n')}>
              <option value="pad" selected>pad (whole painting)</option><option value="crop">crop (centre square)</option><option value="tiles">tiles (slow)</option></select></label>
            <label>Agreement scored at <select name="batch-side"
              title="painting pixels: each map as stored (within the server's map pixel budget), the numbers artprobe regions score gives; a smaller side resizes maps and regions first (faster on large paintings, numbers differ slightly)">
              <option value="0" selected>painting pixels (as regions score)</option><option value="512">512 px (faster)</option><option value="256">256 px (fastest)</option></select></label>
            <label>Deletion / insertion <select name="batch-faithfulness"
              title="faithfulness of each map to the model: the painting is re-scored as the map's strongest pixels are removed (deletion) or put back into a blurred copy (insertion); each step is one forward pass per game, run between the batch's jobs">
              <option value="16" selected>16 steps</option><option value="32">32 steps (finer)</option><option value="0">off</option></select></label>
          </div>
        </div>
      </div>
      <div class="row">
        <button type="button" name="run-batch" ?disabled=${!n || !!this.disabled} @click=${this.run}>Run over ${n} shown painting${n === 1 ? '' : 's'}</button>
        ${this.disabled ? html`<span class="help">${this.disabled}</span>` : html`<span class="help">${this.methods.length} method(s); finished maps are reused.</span>`}
      </div>
      <div class="msg" role="alert">${this.message}</div>
      ${this.batches.length ? html`<ul class="list" aria-label="batches">${this.batches.map((b) => this.renderBatch(b))}</ul>` : nothing}`;
  }
}

customElements.define('ap-batch-panel', ApBatchPanel);
