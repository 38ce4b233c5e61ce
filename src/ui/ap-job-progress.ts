/**
 * `<ap-job-progress>`: progress bars of running explanation jobs (queued ones shown as waiting), announced
 * politely to screen readers.
 *
 * @example
 * <ap-job-progress .jobs=${[{ id: 'j1', label: 'chefer-all · a wave', state: 'running', done: 1, total: 2 }]}></ap-job-progress>
 */
import { css, html, LitElement, nothing } from 'lit';

export interface JobProgressUi {
  id: string;
  label: string;
  state: string;
  done: number;
  total: number;
}

export class ApJobProgress extends LitElement {
  static override properties = { jobs: { attribute: false } };
  declare jobs: JobProgressUi[];

  static override styles = css`
    :host { display: block; font-size: 13px; }
    .job { display: grid; grid-template-columns: minmax(0, 1fr) 140px 5em; gap: 8px; align-items: center; }
    progress { width: 140px; }
    .s { color: #444; }
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
        (j) => html`<div class="job" data-job=${j.id}><span>${j.label}</span>
          <progress max=${Math.max(1, j.total)} .value=${j.state === 'queued' ? 0 : j.done} aria-label=${j.label}></progress>
          <span class="s">${j.state === 'queued' ? 'waiting' : `${j.done}/${j.total}`}</span></div>`,
      )}</div>`;
  }
}

customElements.define('ap-job-progress', ApJobProgress);
