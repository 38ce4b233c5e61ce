/**
 * `<ap-job-progress>`: progress bars of running explanation jobs (queued ones shown as waiting, a running job
 * that has not reported its size yet as starting — never "0/0"), each with a Cancel button
 * (`ap-job-cancel` {id}), announced politely to screen readers.
 *
 * @example
 * <ap-job-progress .jobs=${[{ id: 'j1', label: 'chefer-all · a wave', state: 'running', done: 1, total: 2 }]}
 *   @ap-job-cancel=${(e) => api.cancelJob(e.detail.id)}></ap-job-progress>
 */
import { css, html, LitElement, nothing } from 'lit';

export interface JobProgressUi {
  id: string;
  label: string;
  state: string;
  done: number;
  total: number;
}

/**
 * What a job's progress reads as: waiting, starting (no size yet), or "done/total (pct %)".
 *
 * @example
 * progressText({ state: 'running', done: 0, total: 0 }); // 'starting…'
 */
export function progressText(j: Pick<JobProgressUi, 'state' | 'done' | 'total'>): string {
  if (j.state === 'queued') return 'waiting';
  if (j.total <= 0) return 'starting…';
  return `${j.done}/${j.total} (${Math.round((100 * j.done) / j.total)}%)`;
}

export class ApJobProgress extends LitElement {
  static override properties = { jobs: { attribute: false } };
  declare jobs: JobProgressUi[];

  static override styles = css`
    :host { display: block; font-size: 13px; }
    .job { display: grid; grid-template-columns: minmax(0, 1fr) 110px 7.5em auto; gap: 8px; align-items: center; }
    .job span:first-child { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    progress { width: 110px; }
    .s { color: #444; font-variant-numeric: tabular-nums; }
    button { font: inherit; font-size: 12px; border: 1px solid #8a1c1c; color: #8a1c1c; background: #fff; border-radius: 4px; padding: 0 6px; cursor: pointer; }
    button:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
  `;

  constructor() {
    super();
    this.jobs = [];
  }

  override render() {
    const active = this.jobs.filter((j) => j.state === 'queued' || j.state === 'running');
    if (!active.length) return nothing;
    return html`<div role="status" aria-live="polite" aria-label="running jobs">
      ${active.map(
        (j) => html`<div class="job" data-job=${j.id}><span title=${j.label}>${j.label}</span>
          ${
            j.state === 'running' && j.total <= 0
              ? html`<progress aria-label=${j.label}></progress>`
              : html`<progress max=${Math.max(1, j.total)} .value=${j.state === 'queued' ? 0 : j.done} aria-label=${j.label}></progress>`
          }
          <span class="s">${progressText(j)}</span>
          <button type="button" name="cancel-job" aria-label=${`cancel ${j.label}`}
            @click=${() => this.dispatchEvent(new CustomEvent('ap-job-cancel', { detail: { id: j.id }, bubbles: true, composed: true }))}>Cancel</button></div>`,
      )}</div>`;
  }
}

customElements.define('ap-job-progress', ApJobProgress);
