/**
 * `<ap-overlay-controls>`: heatmap display controls — overlay on/off, opacity, threshold, contours, colour map —
 * with a legend of the current scale. Every change fires `ap-controls-change` with the full settings.
 *
 * @example
 * <ap-overlay-controls .settings=${{ overlay: true, opacity: 0.6, threshold: 0, contours: false, scheme: 'inferno' }}
 *   ?signed=${false} .range=${[0, 1]} @ap-controls-change=${(e) => apply(e.detail)}></ap-overlay-controls>
 */
import { css, html, LitElement } from 'lit';
import { type Scheme, schemeGradient } from './colormap.ts';

export interface OverlaySettings {
  overlay: boolean;
  opacity: number;
  threshold: number;
  contours: boolean;
  scheme: Scheme;
}

export class ApOverlayControls extends LitElement {
  static override properties = {
    settings: { attribute: false },
    signed: { type: Boolean },
    range: { attribute: false },
  };
  declare settings: OverlaySettings;
  declare signed: boolean;
  /** [min, max] of the shown map, for the legend. */
  declare range: [number, number] | undefined;

  static override styles = css`
    :host { display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center; font-size: 14px; }
    label { display: inline-flex; gap: 6px; align-items: center; }
    input[type='range'] { width: 110px; }
    output { min-width: 2.6em; font-variant-numeric: tabular-nums; }
    .legend { display: inline-flex; gap: 6px; align-items: center; color: #444; font-size: 13px; }
    .bar { width: 130px; height: 10px; border: 1px solid #888; display: inline-block; }
    select { font: inherit; }
    input:focus-visible, select:focus-visible { outline: 3px solid #b35c00; outline-offset: 1px; }
  `;

  constructor() {
    super();
    this.settings = { overlay: true, opacity: 0.6, threshold: 0, contours: false, scheme: 'inferno' };
    this.signed = false;
  }

  private set<K extends keyof OverlaySettings>(key: K, value: OverlaySettings[K]): void {
    this.settings = { ...this.settings, [key]: value };
    this.dispatchEvent(
      new CustomEvent('ap-controls-change', { detail: this.settings, bubbles: true, composed: true }),
    );
  }

  override render() {
    const s = this.settings;
    const [lo, hi] = this.range ?? [Number.NaN, Number.NaN];
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    const f = (v: number) =>
      Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(2)) : '';
    return html`
      <label><input type="checkbox" name="overlay" .checked=${s.overlay} @change=${(e: Event) => this.set('overlay', (e.target as HTMLInputElement).checked)} />Heatmap</label>
      <label>Opacity <input type="range" name="opacity" min="0" max="1" step="0.05" .value=${String(s.opacity)}
        @input=${(e: Event) => this.set('opacity', Number((e.target as HTMLInputElement).value))} /><output>${s.opacity.toFixed(2)}</output></label>
      <label>Threshold <input type="range" name="threshold" min="0" max="0.95" step="0.05" .value=${String(s.threshold)}
        @input=${(e: Event) => this.set('threshold', Number((e.target as HTMLInputElement).value))} /><output>${s.threshold.toFixed(2)}</output></label>
      <label><input type="checkbox" name="contours" .checked=${s.contours} @change=${(e: Event) => this.set('contours', (e.target as HTMLInputElement).checked)} />Contours</label>
      <label>Colours <select name="scheme" ?disabled=${this.signed} @change=${(e: Event) => this.set('scheme', (e.target as HTMLSelectElement).value as Scheme)}>
        <option value="inferno" ?selected=${s.scheme === 'inferno'}>inferno</option>
        <option value="viridis" ?selected=${s.scheme === 'viridis'}>viridis</option>
      </select></label>
      <span class="legend" aria-label="colour scale">
        <span>${this.signed ? f(-m) : f(lo)}</span>
        <span class="bar" style="background:${schemeGradient(this.signed ? 'diverging' : s.scheme)}"></span>
        <span>${this.signed ? `+${f(m)}` : f(hi)}</span>
      </span>`;
  }
}

customElements.define('ap-overlay-controls', ApOverlayControls);
