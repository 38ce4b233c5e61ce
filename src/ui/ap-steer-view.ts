/**
 * `<ap-steer-view>`: a steering run side by side — the model input before, after, and the perturbation amplified
 * to the full grey range (grey: unchanged; the darkest and lightest values: ±ε) — with the target score before
 * and after (also after 8-bit rounding and on the steered painting run through CLIP's preprocessing again), the
 * size of the change (L∞, PSNR, SSIM on the model input and on the painting) and every probe dimension's
 * answer before → after, the changed answers marked in words and weight (not by colour alone).
 *
 * @example
 * <ap-steer-view .result=${steerResult} base=""></ap-steer-view>
 */
import { css, html, LitElement, nothing } from 'lit';
import { formatLegend } from '../report/legend.ts';
import type { SteerResult } from './api.ts';

type Answer = SteerResult['dimensions'][number]['before'];

const num = (v: number | null, digits = 3) => (v === null ? '–' : Number(v.toFixed(digits)).toString());
const pct = (p: number) => `${(100 * p).toFixed(1)}%`;

export class ApSteerView extends LitElement {
  static override properties = {
    result: { attribute: false },
    base: { type: String },
  };
  declare result: SteerResult | undefined;
  /** The API's base URL (file URLs in the result are relative to it). */
  declare base: string;

  static override styles = css`
    :host { display: block; font-size: 13px; color: #222; }
    .summary { margin: 4px 0 8px; line-height: 1.5; }
    .summary b { font-variant-numeric: tabular-nums; }
    .images { display: grid; grid-template-columns: repeat(3, minmax(0, 224px)); gap: 10px; }
    figure { margin: 0; }
    figure img { width: 100%; aspect-ratio: 1; display: block; border: 1px solid #999; background: #eee; }
    figcaption { font-size: 12px; color: #333; margin-top: 2px; }
    .quality { margin: 6px 0; color: #333; }
    table { border-collapse: collapse; margin-top: 6px; font-variant-numeric: tabular-nums; }
    th, td { border-bottom: 1px solid #e2e2e2; padding: 3px 8px; text-align: left; }
    th { font-weight: 600; color: #333; background: #f4f4f2; }
    tr.flipped td.after { font-weight: 700; }
    .changed { color: #8a1c1c; font-weight: 600; }
    small { color: #4a4a4a; }
  `;

  constructor() {
    super();
    this.base = '';
  }

  private answer(a: Answer, before?: Answer) {
    const p = a.ranked.find((r) => r.label === a.top)?.probability;
    const changed = before !== undefined && a.top !== before.top;
    return html`${a.top} <small>${p === undefined ? '' : pct(p)}</small>${changed ? html` <span class="changed">changed</span>` : nothing}`;
  }

  override render() {
    const r = this.result;
    if (!r) return nothing;
    const url = (f: keyof SteerResult['files']) => `${this.base}${r.files[f]}`;
    const s = r.score;
    const delta = s.before !== null && s.after !== null ? s.after - s.before : null;
    const q = r.change;
    return html`<p class="summary">Toward <b>“${r.targetText}”</b> within ε = <b>${formatLegend(r.epsilon255)}/255</b>, ${r.steps} steps:
        ${r.scoreKind} <b>${num(s.before)}</b> → <b data-score-after>${num(s.after)}</b>${delta !== null ? ` (${delta >= 0 ? '+' : ''}${num(delta)})` : ''};
        after 8-bit rounding ${num(s.after8bit)}, on the steered painting ${num(s.afterPainting)}.</p>
      <div class="images">
        <figure><img src=${url('original.png')} alt="before: the model input (the centre crop CLIP sees)" /><figcaption>Before: what CLIP sees</figcaption></figure>
        <figure><img src=${url('steered.png')} alt=${`after steering toward ${r.targetText}`} /><figcaption>After (ε = ${formatLegend(r.epsilon255)}/255)</figcaption></figure>
        <figure><img src=${url('perturbation.png')} alt="the perturbation, amplified: grey is unchanged, black and white are ±ε" /><figcaption>Change, amplified (grey = none, extremes = ±ε)</figcaption></figure>
      </div>
      <p class="quality">Size of the change: L∞ ${num(q.input.linf === null ? null : q.input.linf * 255, 2)}/255, PSNR <b data-psnr>${num(q.input.psnr, 1)} dB</b>, SSIM ${num(q.input.ssim)}
        (on the painting: PSNR ${num(q.painting.psnr, 1)} dB, SSIM ${num(q.painting.ssim)}) · ${r.seconds.toFixed(1)} s</p>
      ${
        r.dimensions.length
          ? html`<table aria-label="each dimension's zero-shot answer before and after steering">
        <thead><tr><th scope="col">dimension</th><th scope="col">before</th><th scope="col">after</th>
          <th scope="col" title="the steered input rounded to 8 bits, as saved">after (8-bit)</th>
          <th scope="col" title="the change mapped onto the painting, which is run through CLIP's preprocessing again">on the painting</th></tr></thead>
        <tbody>${r.dimensions.map(
          (d) => html`<tr class=${d.flipped ? 'flipped' : ''} data-dimension=${d.name}>
            <th scope="row">${d.name}</th><td class="before">${this.answer(d.before)}</td><td class="after">${this.answer(d.after, d.before)}</td>
            <td>${this.answer(d.after8bit, d.before)}</td><td>${this.answer(d.afterPainting, d.before)}</td></tr>`,
        )}</tbody></table>`
          : nothing
      }`;
  }
}

customElements.define('ap-steer-view', ApSteerView);

declare global {
  interface HTMLElementTagNameMap {
    'ap-steer-view': ApSteerView;
  }
}
