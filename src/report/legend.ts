/**
 * What a saliency map's colours mean, shared by the web UI and the static report: each method's unit and a
 * one-line note (rollout does not depend on the prompt; gradients are spiky and shown with percentile clipping),
 * what "score" and the views mean, and colour-bar ticks with numbers. Plain data and d3's `ticks`; no node
 * imports.
 *
 * @example
 * methodInfo('occlusion').unit; // 'score drop when occluded (logit)'
 * legendTicks(0, 0.0123); // [0, 0.002, 0.004, …]
 */
import { interpolateInferno, interpolateRdBu, interpolateViridis, ticks } from 'd3';
import { METHOD_IDS, type MethodId } from '../attribution/types.ts';

/** How a method's map reads. */
export interface MethodInfo {
  /** The unit of the map values (the colour bar's label). */
  unit: string;
  /** gradient: pixel-level gradients (spiky; clipped at the 99th percentile by default). */
  family: 'attention' | 'gradient' | 'perturbation';
  /** True when negative values are meaningful (diverging colours, a colour bar symmetric around 0). */
  signed: boolean;
  /** True when the map is the same whatever the prompt. */
  promptIndependent?: boolean;
  /** One sentence for tooltips and notes. */
  note: string;
}

/**
 * Every method of the server's registry (`METHOD_IDS`), cheap first: the one list the UI's method pickers, the
 * batch form and the legends read. `Record<MethodId, …>` makes a method added to the registry without a legend
 * a type error.
 */
const METHODS: Record<MethodId, MethodInfo> = {
  rollout: {
    unit: 'attention share',
    family: 'attention',
    signed: false,
    promptIndependent: true,
    note: 'Attention rollout ignores the prompt: every prompt gives the same map (where the image encoder looks).',
  },
  'chefer-last': {
    unit: 'relevance (a.u.)',
    family: 'attention',
    signed: false,
    note: 'Chefer et al.: gradient-weighted attention relevance of the last block only.',
  },
  'chefer-all': {
    unit: 'relevance (a.u.)',
    family: 'attention',
    signed: false,
    note: 'Chefer et al.: gradient-weighted attention relevance, propagated through every block.',
  },
  legrad: {
    unit: 'relevance, min–max (0–1)',
    family: 'attention',
    signed: false,
    note: 'LeGrad: gradients of each of the last blocks’ own readouts with respect to their attention, summed and scaled to 0–1.',
  },
  'grad-eclip': {
    unit: 'relevance, min–max (0–1)',
    family: 'attention',
    signed: false,
    note: 'Grad-ECLIP: the last block’s value vectors weighted by the score’s gradient and the query–key similarity, scaled to 0–1.',
  },
  occlusion: {
    unit: 'score drop when occluded (logit)',
    family: 'perturbation',
    signed: true,
    note: 'Occlusion: how much the score falls when a window of the painting is hidden (negative: hiding it raises the score).',
  },
  gradient: {
    unit: '|∂score/∂pixel|',
    family: 'gradient',
    signed: false,
    note: 'Gradient of the score with respect to each pixel (its magnitude): spiky, so it is shown clipped at the 99th percentile.',
  },
  'gradient-x-input': {
    unit: 'score per pixel (∂score/∂x · x)',
    family: 'gradient',
    signed: true,
    note: 'Gradient times input: signed, red pixels raise the score, blue ones lower it.',
  },
  smoothgrad: {
    unit: '|∂score/∂pixel|, mean of noisy copies',
    family: 'gradient',
    signed: false,
    note: 'SmoothGrad: gradients averaged over noisy copies of the painting.',
  },
  'integrated-gradients': {
    unit: 'score per pixel (path integral)',
    family: 'gradient',
    signed: true,
    note: 'Integrated gradients from a baseline image: signed, the pixels add up to the score change.',
  },
};

/**
 * Every attribution method the server runs, in the order the UI offers them (cheap attention methods first).
 *
 * @example
 * METHOD_LIST.includes('legrad'); // true
 */
export const METHOD_LIST: readonly MethodId[] = (Object.keys(METHODS) as MethodId[]).filter((m) =>
  (METHOD_IDS as readonly string[]).includes(m),
);

/**
 * A method's unit and note (a generic one for unknown methods).
 *
 * @example
 * methodInfo('rollout').promptIndependent; // true
 */
export function methodInfo(method: string): MethodInfo {
  return (
    METHODS[method as MethodId] ?? {
      unit: 'attribution (a.u.)',
      family: 'attention',
      signed: false,
      note: method,
    }
  );
}

/** What the score of a target is. */
export const SCORE_HELP = {
  prompt:
    "score: CLIP's image–text logit, 100 × the cosine of the painting's and the prompt's embeddings (about 15–35 for CLIP; compare prompts on one painting, not across models)",
  label: 'probability of the label among the dimension’s labels (softmax of the logits)',
  contrast: 'logit of prompt a minus logit of prompt b',
  ensemble: 'logit against the mean embedding of the prompts',
} as const;

/** What the views are. */
export const VIEW_HELP = {
  pad: 'pad: the whole painting, letterboxed into the model’s square (nothing is cut off; default)',
  crop: 'crop: the centre square CLIP sees by default (the sides of a wide painting get no map)',
  tiles: 'tiles: overlapping squares covering the painting at higher resolution, maps stitched (slower)',
} as const;

/** The colour of a position 0..1 on a scheme. */
export const SCHEMES = {
  inferno: interpolateInferno,
  viridis: interpolateViridis,
  /** RdBu reversed: red positive, blue negative, white zero. */
  diverging: (t: number) => interpolateRdBu(1 - t),
} as const;
export type SchemeName = keyof typeof SCHEMES;

/**
 * About five round tick values spanning [lo, hi] (lo and hi themselves included when they are not round).
 *
 * @example
 * legendTicks(-0.02, 0.02); // [-0.02, -0.01, 0, 0.01, 0.02]
 */
export function legendTicks(lo: number, hi: number, count = 4): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (lo === hi) return [lo];
  return ticks(lo, hi, count);
}

/**
 * A number for a legend: 3 significant digits, exponent notation for very small or large values.
 *
 * @example
 * formatLegend(0.000123); // '1.23e-4'
 */
export function formatLegend(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5)
    return v
      .toExponential(2)
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

/** Escapes text for HTML (the report's colour bars are markup). */
const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/**
 * A colour bar as self-contained HTML (for the static report): the gradient, tick numbers and the unit.
 * Signed maps are symmetric around 0.
 *
 * @example
 * colorbarHtml({ lo: 0, hi: 0.8, signed: false, unit: 'relevance (a.u.)' });
 */
export function colorbarHtml(opts: {
  lo: number;
  hi: number;
  signed: boolean;
  unit: string;
  scheme?: SchemeName;
}): string {
  const m = Math.max(Math.abs(opts.lo), Math.abs(opts.hi));
  const [lo, hi] = opts.signed ? [-m, m] : [opts.lo, opts.hi];
  const f = SCHEMES[opts.signed ? 'diverging' : (opts.scheme ?? 'inferno')];
  const grad = `linear-gradient(to right, ${Array.from({ length: 11 }, (_, i) => f(i / 10)).join(', ')})`;
  const span = hi - lo || 1;
  const marks = legendTicks(lo, hi)
    .map(
      (t) =>
        `<span class="tick" style="left:${(((t - lo) / span) * 100).toFixed(2)}%">${esc(formatLegend(t))}</span>`,
    )
    .join('');
  return `<div class="colorbar" role="img" aria-label="${esc(`colour scale from ${formatLegend(lo)} to ${formatLegend(hi)} ${opts.unit}`)}"><div class="cb-bar" style="background:${grad}"></div><div class="cb-ticks">${marks}</div><div class="cb-unit">${esc(opts.unit)}${opts.signed ? ' · red +, blue −' : ''}</div></div>`;
}
