/**
 * `<ap-overlay-controls>`: heatmap display controls — overlay on/off, opacity, threshold, contours, colour map.
 * Every change fires `ap-controls-change` with the full settings. (Each map's colour bar, with its numbers and
 * unit, sits under the map itself: see <ap-colorbar>.)
 *
 * @example
 * <ap-overlay-controls .settings=${{ overlay: true, opacity: 0.7, threshold: 0, contours: false, scheme: 'inferno' }}
 *   ?signed=${false} @ap-controls-change=${(e) => apply(e.detail)}></ap-overlay-controls>
 */
import { css, html, LitElement } from 'lit';
import type { Scheme } from './colormap.ts';

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
  };
  declare settings: OverlaySettings;
  /** The shown map is signed (its colours are fixed: red +, blue −). */
  declare signed: boolean;

  static override styles = css`
    :host { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: center; font-size: 14px; }
    label { display: inline-flex; gap: 5px; align-items: center; }
    input[type='range'] { width: 90px; }
    output { min-width: 2.4em; font-variant-numeric: tabular-nums; }
    select { font: inherit; }
    input:focus-visible, select:focus-visible { outline: 3px solid #b35c00; outline-offset: 1px; }
  `;

  constructor() {
    super();
    this.settings = { overlay: true, opacity: 0.7, threshold: 0, contours: false, scheme: 'inferno' };
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
    return html`
      <label><input type="checkbox" name="overlay" .checked=${s.overlay} @change=${(e: Event) => this.set('overlay', (e.target as HTMLInputElement).checked)} />Heatmap</label>
      <label title="opacity of the strongest values (weak values are never drawn: transparency ramp)">Opacity <input type="range" name="opacity" min="0" max="1" step="0.05" .value=${String(s.opacity)}
        @input=${(e: Event) => this.set('opacity', Number((e.target as HTMLInputElement).value))} /><output>${s.opacity.toFixed(2)}</output></label>
      <label title="values below this share of the colour range are not drawn">Threshold <input type="range" name="threshold" min="0" max="0.95" step="0.05" .value=${String(s.threshold)}
        @input=${(e: Event) => this.set('threshold', Number((e.target as HTMLInputElement).value))} /><output>${s.threshold.toFixed(2)}</output></label>
      <label><input type="checkbox" name="contours" .checked=${s.contours} @change=${(e: Event) => this.set('contours', (e.target as HTMLInputElement).checked)} />Contours</label>
      <label>Colours <select name="scheme" ?disabled=${this.signed} title=${this.signed ? 'signed maps are red (+) and blue (−)' : 'colour map of unsigned maps'}
        @change=${(e: Event) => this.set('scheme', (e.target as HTMLSelectElement).value as Scheme)}>
        <option value="inferno" ?selected=${s.scheme === 'inferno'}>inferno</option>
        <option value="viridis" ?selected=${s.scheme === 'viridis'}>viridis</option>
      </select></label>`;
  }
}

customElements.define('ap-overlay-controls', ApOverlayControls);
