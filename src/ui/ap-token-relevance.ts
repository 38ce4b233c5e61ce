/**
 * `<ap-token-relevance>`: which words of the prompt make CLIP match it to the painting (Chefer et al.'s
 * text-side relevance, `POST /api/paintings/:id/text-relevance`), shown under the map: each token shaded by its
 * share of the prompt's relevance (a d3 scale over the shares; the shares sum to 100 %), with the share as its
 * tooltip and accessible name. Asked once per painting × prompt × view.
 *
 * @example
 * <ap-token-relevance .api=${api} painting=${id} prompt="a great wave" view="pad"></ap-token-relevance>
 */
import { interpolateOranges, scaleSequential } from 'd3';
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import type { Api } from './api.ts';

type Tokens = { token: string; value: number }[];

/** Answers already received, by painting|view|prompt (the page asks each once). */
const cache = new Map<string, Promise<Tokens>>();

export class ApTokenRelevance extends LitElement {
  static override properties = {
    api: { attribute: false },
    painting: { type: String },
    prompt: { type: String },
    view: { type: String },
    tokens: { state: true },
    error: { state: true },
  };
  declare api: Api | undefined;
  declare painting: string;
  declare prompt: string;
  declare view: string;
  declare tokens: Tokens | undefined;
  declare error: string;

  static override styles = css`
    :host { display: block; font-size: 13px; color: #333; min-height: 1.4em; }
    .t { display: inline-block; padding: 0 3px; margin: 0 1px; border-radius: 3px; border: 1px solid #e0e0e0; }
    .lab { color: #555; margin-right: 4px; }
    .err { color: #666; }
  `;

  constructor() {
    super();
    this.painting = '';
    this.prompt = '';
    this.view = 'crop';
    this.error = '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!['api', 'painting', 'prompt', 'view'].some((k) => changed.has(k as keyof ApTokenRelevance))) return;
    this.tokens = undefined;
    this.error = '';
    const api = this.api;
    if (!api || !this.painting || !this.prompt) return;
    const key = `${this.painting}|${this.view}|${this.prompt}`;
    let p = cache.get(key);
    if (!p) {
      p = api.textRelevance(this.painting, [this.prompt], this.view).then((r) => r.results[0]?.tokens ?? []);
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    p.then(
      (t) => {
        if (key === `${this.painting}|${this.view}|${this.prompt}`) this.tokens = t;
      },
      (e: Error) => {
        if (key === `${this.painting}|${this.view}|${this.prompt}`) this.error = e.message;
      },
    );
  }

  override render() {
    if (this.error) return html`<span class="err">word relevance unavailable: ${this.error}</span>`;
    const t = this.tokens;
    if (!t) return this.prompt ? html`<span class="lab">words…</span>` : nothing;
    const max = Math.max(...t.map((x) => x.value), 1e-9);
    const shade = scaleSequential(interpolateOranges).domain([0, max * 1.15]);
    return html`<span class="lab" title="Chefer et al.'s text-side relevance: each word's share of what makes the prompt match this painting">words:</span>${t.map(
      (x) =>
        html`<span class="t" style="background:${shade(x.value)}" title=${`${(100 * x.value).toFixed(1)}%`}
          aria-label=${`${x.token} ${(100 * x.value).toFixed(0)} percent`} data-value=${x.value}>${x.token}</span>`,
    )}`;
  }
}

customElements.define('ap-token-relevance', ApTokenRelevance);
