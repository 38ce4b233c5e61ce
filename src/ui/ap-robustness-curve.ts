/**
 * `<ap-robustness-curve>`: how easily one painting's answers move, one curve per probe dimension. Each budget of
 * the ladder (x, ε in /255 on a log scale) steers away from the answer CLIP gave and stops as soon as another
 * label is on top: y is the number of gradient steps that took (lower: easier to move); a budget that never
 * flipped within its steps is drawn hollow in the "none" band at the top. d3 scales and line paths, drawn by
 * Lit as SVG. The list under the chart says, per dimension, the answer before, the smallest flipping budget and
 * what the answer became there (or that none of the ladder flipped it).
 *
 * @example
 * <ap-robustness-curve .row=${task.robustness.rows[0]} steps=${task.robustness.steps}></ap-robustness-curve>
 */
import { line, scaleLinear, scaleLog, schemeTableau10 } from 'd3';
import { css, html, LitElement, nothing, svg } from 'lit';
import { formatLegend } from '../report/legend.ts';
import type { RobustnessRow } from './api.ts';

const W = 420;
const H = 210;
const M = { top: 10, right: 14, bottom: 34, left: 44 };

type Point = RobustnessRow['dimensions'][number]['curve'][number];

export class ApRobustnessCurve extends LitElement {
  static override properties = {
    row: { attribute: false },
    steps: { type: Number },
  };
  /** One painting's curves (a robustness task's row). */
  declare row: RobustnessRow | undefined;
  /** The gradient steps each budget had. */
  declare steps: number;

  static override styles = css`
    :host { display: block; font-size: 12px; color: #222; }
    svg { width: 100%; max-width: 420px; height: auto; display: block; }
    .axis line { stroke: #666; }
    .axis text, .label { fill: #333; font-size: 11px; }
    .grid line { stroke: #e4e4e4; }
    .grid line.limit { stroke: #999; stroke-dasharray: 4 3; }
    path.curve { fill: none; stroke-width: 2; }
    circle { stroke-width: 1.5; }
    ul { list-style: none; padding: 0; margin: 6px 0 0; }
    li { margin: 2px 0; }
    .sw { display: inline-block; width: 14px; height: 4px; vertical-align: middle; margin-right: 6px; }
  `;

  constructor() {
    super();
    this.steps = 40;
  }

  override render() {
    const r = this.row;
    if (!r?.dimensions.length) return nothing;
    const eps = r.dimensions[0].curve.map((p) => p.epsilon255);
    const lo = Math.min(...eps);
    const hi = Math.max(...eps);
    const x = (
      lo === hi ? scaleLinear().domain([0, hi * 1.2]) : scaleLog().domain([lo / 1.3, hi * 1.3])
    ).range([M.left, W - M.right]);
    const N = Math.max(1, this.steps);
    const none = N * 1.12; // where budgets that did not flip are drawn
    const y = scaleLinear()
      .domain([0, N * 1.2])
      .range([H - M.bottom, M.top]);
    const yOf = (p: Point) => y(p.flipped ? (p.step ?? N) : none);
    const path = line<Point>()
      .x((p) => x(p.epsilon255))
      .y(yOf);
    const colour = (i: number) => schemeTableau10[i % schemeTableau10.length];
    const ticks = y.ticks(4).filter((t) => t <= N);
    const tip = (d: string, p: Point) =>
      `${d} at ${formatLegend(p.epsilon255)}/255: ${
        p.flipped
          ? `flipped to ${p.topAfter} after ${p.step} step(s)`
          : `no flip in ${N} steps (p = ${(100 * p.originalProbabilityAfter).toFixed(0)}%)`
      }, PSNR ${p.psnr === null ? '–' : p.psnr.toFixed(1)} dB`;
    return html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label=${`robustness of ${r.name}: gradient steps until each answer flips, by budget`}>
        <g class="grid">${ticks.map((t) => svg`<line x1=${M.left} x2=${W - M.right} y1=${y(t)} y2=${y(t)}></line>`)}
          <line class="limit" x1=${M.left} x2=${W - M.right} y1=${y(N)} y2=${y(N)}></line></g>
        <g class="axis">
          <line x1=${M.left} x2=${W - M.right} y1=${H - M.bottom} y2=${H - M.bottom}></line>
          <line x1=${M.left} x2=${M.left} y1=${M.top} y2=${H - M.bottom}></line>
          ${eps.map((e) => svg`<text x=${x(e)} y=${H - M.bottom + 14} text-anchor="middle">${formatLegend(e)}</text>`)}
          ${ticks.map((t) => svg`<text x=${M.left - 6} y=${y(t) + 4} text-anchor="end">${t}</text>`)}
          <text x=${M.left - 6} y=${y(none) + 4} text-anchor="end">none</text>
        </g>
        <text class="label" x=${(M.left + W - M.right) / 2} y=${H - 4} text-anchor="middle">budget ε (/255)</text>
        <text class="label" transform="translate(11 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">steps to flip</text>
        ${r.dimensions.map(
          (d, i) => svg`<path class="curve" stroke=${colour(i)} d=${path(d.curve) ?? ''}></path>
            ${d.curve.map(
              (p) => svg`<circle cx=${x(p.epsilon255)} cy=${yOf(p)} r="4" stroke=${colour(i)}
                fill=${p.flipped ? colour(i) : '#ffffff'} data-flipped=${p.flipped}><title>${tip(d.name, p)}</title></circle>`,
            )}`,
        )}
      </svg>
      <ul>${r.dimensions.map((d, i) => {
        const at = d.curve.find((p) => p.epsilon255 === d.smallestEpsilon255);
        return html`<li data-dimension=${d.name}><span class="sw" style="background:${colour(i)}"></span><b>${d.name}</b>: ${d.topBefore}
          (${(100 * d.probabilityBefore).toFixed(0)}%) ${
            d.smallestEpsilon255 === null
              ? html`— no flip up to ${formatLegend(hi)}/255`
              : html`— flips at <b>${formatLegend(d.smallestEpsilon255)}/255</b> to ${at?.topAfter ?? '?'}${
                  at?.psnr != null ? ` (after ${at.step} step(s), PSNR ${at.psnr.toFixed(1)} dB)` : ''
                }`
          }</li>`;
      })}</ul>`;
  }
}

customElements.define('ap-robustness-curve', ApRobustnessCurve);

declare global {
  interface HTMLElementTagNameMap {
    'ap-robustness-curve': ApRobustnessCurve;
  }
}
