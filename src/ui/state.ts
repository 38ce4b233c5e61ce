/**
 * The view state lives in the URL hash, so any view can be shared or bookmarked:
 * `#/gallery?q=wave&style=Ukiyo-e`, `#/painting/<id>?prompts=a%20wave|a%20boat&method=chefer-all&prompt=0&opacity=0.6`,
 * `#/painting/<id>?probe=style/style&answer=Baroque` (a zero-shot answer's heatmap),
 * `#/map?source=collection&color=style` or `#/map?source=tables:<id>,<id>&method=umap&color=set`,
 * `#/summary/<batch id>?metric=energy&dim=style&method=rollout` (a batch's agreement summary).
 * Unknown or malformed values fall back to defaults (never an error).
 *
 * @example
 * const s = parseState(location.hash);
 * location.hash = formatState({ ...s, opacity: 0.8 });
 */
import type { Scheme } from './colormap.ts';

export type Route = 'gallery' | 'painting' | 'map' | 'summary';

/** The tabs of the painting view's side panel. */
export const PANEL_TABS = ['maps', 'regions', 'clip', 'agreement', 'export'] as const;
export type PanelTab = (typeof PANEL_TABS)[number];

export interface ViewState {
  route: Route;
  /** Painting id (painting route). */
  painting?: string;
  /** Gallery search text and catalog filters (field → value). */
  q: string;
  filters: Record<string, string>;
  /** Prompts explained on the painting. */
  prompts: string[];
  /** Methods of the small multiples grid. */
  methods: string[];
  /** The big view: method and prompt index. */
  method: string;
  prompt: number;
  /** Side-by-side comparison: another method (`m:ID`) or prompt (`p:INDEX`), or none. */
  compare: string;
  opacity: number;
  threshold: number;
  contours: boolean;
  overlay: boolean;
  scheme: Scheme;
  view: 'crop' | 'pad' | 'tiles';
  /** Zero-shot probe shown: "suite/dimension", and the answer (label) whose heatmap is shown. */
  probe: string;
  answer: string;
  /** Embedding map source: `collection` or `tables:<id>,<id>`; method; colour field. */
  source: string;
  mapMethod: 'pca' | 'umap';
  color: string;
  /** Percentile clipping of the colour range: 'auto' (99 for pixel gradients) or 100, 99.5, 99, 95. */
  clip: string;
  /** The grid's rows share one colour scale per method. */
  shared: boolean;
  /** The painting view's side panel. */
  tab: PanelTab;
  /** Summary route: batch id, ranking metric, dimension ('' = all), method of the disagreement view. */
  batch?: string;
  metric: string;
  dim: string;
  worst: string;
}

export const DEFAULT_STATE: ViewState = {
  route: 'gallery',
  q: '',
  filters: {},
  prompts: [],
  methods: ['chefer-all', 'rollout'],
  method: 'chefer-all',
  prompt: 0,
  compare: '',
  opacity: 0.7,
  threshold: 0,
  contours: false,
  overlay: true,
  scheme: 'inferno',
  view: 'pad',
  probe: '',
  answer: '',
  source: 'collection',
  mapMethod: 'pca',
  color: 'style',
  clip: 'auto',
  shared: false,
  tab: 'maps',
  metric: 'auroc',
  dim: '',
  worst: '',
};

const CLIPS = ['auto', '100', '99.5', '99', '95'];
/** Metrics a summary can rank paintings by (the URL's `metric`; the summary's metric select). */
export const RANK_METRICS = ['auroc', 'energy', 'pointing', 'iouTopK', 'deletion', 'insertion'] as const;
const METRICS: readonly string[] = RANK_METRICS;
const DIMS = ['content', 'scene', 'style', 'period', 'artifact', '(none)'];

const FILTER_FIELDS = ['style', 'period', 'origin', 'artist'];
const clamp01 = (v: number, d: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : d);

/**
 * Reads a hash (`#/painting/<id>?...`) into a full view state.
 *
 * @example
 * parseState('#/gallery?q=venus').q === 'venus';
 */
export function parseState(hash: string): ViewState {
  const s: ViewState = { ...DEFAULT_STATE, filters: {}, prompts: [], methods: [...DEFAULT_STATE.methods] };
  const raw = hash.replace(/^#/, '');
  const [path, query = ''] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'painting' && parts[1] && /^[0-9a-f]{64}$/.test(parts[1])) {
    s.route = 'painting';
    s.painting = parts[1];
  } else if (parts[0] === 'map') s.route = 'map';
  else if (parts[0] === 'summary' && parts[1] && /^[0-9a-f-]{36}$/.test(parts[1])) {
    s.route = 'summary';
    s.batch = parts[1];
  }
  const p = new URLSearchParams(query);
  s.q = p.get('q') ?? '';
  for (const f of FILTER_FIELDS) {
    const v = p.get(f);
    if (v) s.filters[f] = v;
  }
  if (p.get('prompts'))
    s.prompts = (p.get('prompts') as string)
      .split('|')
      .map((x) => x.trim())
      .filter(Boolean);
  if (p.get('methods')) s.methods = (p.get('methods') as string).split(',').filter(Boolean);
  s.method = (s.route === 'painting' ? p.get('method') : null) ?? s.methods[0] ?? DEFAULT_STATE.method;
  const pi = Number(p.get('prompt') ?? 0);
  s.prompt = Number.isInteger(pi) && pi >= 0 && pi < Math.max(1, s.prompts.length) ? pi : 0;
  const cmp = p.get('compare') ?? '';
  s.compare = /^(m:[a-z-]+|p:\d+)$/.test(cmp) ? cmp : '';
  if (p.has('opacity')) s.opacity = clamp01(Number(p.get('opacity')), DEFAULT_STATE.opacity);
  if (p.has('threshold')) s.threshold = clamp01(Number(p.get('threshold')), 0);
  s.contours = p.get('contours') === '1';
  s.overlay = p.get('overlay') !== '0';
  s.scheme = p.get('scheme') === 'viridis' ? 'viridis' : 'inferno';
  const view = p.get('view');
  if (view === 'crop' || view === 'pad' || view === 'tiles') s.view = view;
  const probe = p.get('probe') ?? '';
  if (/^[A-Za-z0-9][A-Za-z0-9_-]*\/[A-Za-z0-9][A-Za-z0-9_-]*$/.test(probe)) {
    s.probe = probe;
    s.answer = p.get('answer') ?? '';
  }
  const source = p.get('source') ?? '';
  if (/^tables:[0-9a-f-]{36}(,[0-9a-f-]{36})*$/.test(source)) s.source = source;
  if (p.get('method') === 'umap' && s.route === 'map') s.mapMethod = 'umap';
  s.color = p.get('color') ?? DEFAULT_STATE.color;
  const clip = p.get('clip') ?? '';
  if (CLIPS.includes(clip)) s.clip = clip;
  s.shared = p.get('shared') === '1';
  const tab = p.get('tab') ?? '';
  if ((PANEL_TABS as readonly string[]).includes(tab)) s.tab = tab as PanelTab;
  if (s.route === 'summary') {
    const metric = p.get('metric') ?? '';
    if (METRICS.includes(metric)) s.metric = metric;
    const dim = p.get('dim') ?? '';
    if (DIMS.includes(dim)) s.dim = dim;
    const worst = p.get('method') ?? '';
    if (/^[a-z-]{1,40}$/.test(worst)) s.worst = worst;
    s.method = s.methods[0] ?? DEFAULT_STATE.method;
  }
  return s;
}

/**
 * Writes a view state as a hash; values equal to the defaults are left out.
 *
 * @example
 * formatState({ ...DEFAULT_STATE, route: 'map', color: 'origin' }); // '#/map?color=origin'
 */
export function formatState(s: ViewState): string {
  const path =
    s.route === 'painting' && s.painting
      ? `/painting/${s.painting}`
      : s.route === 'summary' && s.batch
        ? `/summary/${s.batch}`
        : `/${s.route === 'summary' ? 'gallery' : s.route}`;
  const p = new URLSearchParams();
  if (s.route === 'gallery') {
    if (s.q) p.set('q', s.q);
    for (const [k, v] of Object.entries(s.filters)) if (v) p.set(k, v);
  } else if (s.route === 'painting') {
    if (s.prompts.length) p.set('prompts', s.prompts.join('|'));
    if (s.methods.join(',') !== DEFAULT_STATE.methods.join(',')) p.set('methods', s.methods.join(','));
    if (s.method !== (s.methods[0] ?? DEFAULT_STATE.method)) p.set('method', s.method);
    if (s.prompt) p.set('prompt', String(s.prompt));
    if (s.compare) p.set('compare', s.compare);
    if (s.opacity !== DEFAULT_STATE.opacity) p.set('opacity', String(s.opacity));
    if (s.threshold) p.set('threshold', String(s.threshold));
    if (s.contours) p.set('contours', '1');
    if (!s.overlay) p.set('overlay', '0');
    if (s.scheme !== 'inferno') p.set('scheme', s.scheme);
    if (s.view !== DEFAULT_STATE.view) p.set('view', s.view);
    if (s.probe) p.set('probe', s.probe);
    if (s.probe && s.answer) p.set('answer', s.answer);
    if (s.clip !== DEFAULT_STATE.clip) p.set('clip', s.clip);
    if (s.shared) p.set('shared', '1');
    if (s.tab !== DEFAULT_STATE.tab) p.set('tab', s.tab);
  } else if (s.route === 'summary') {
    if (s.metric !== DEFAULT_STATE.metric) p.set('metric', s.metric);
    if (s.dim) p.set('dim', s.dim);
    if (s.worst) p.set('method', s.worst);
  } else {
    if (s.source !== DEFAULT_STATE.source) p.set('source', s.source);
    if (s.mapMethod !== DEFAULT_STATE.mapMethod) p.set('method', s.mapMethod);
    if (s.color !== DEFAULT_STATE.color) p.set('color', s.color);
  }
  const q = p.toString().replace(/\+/g, '%20');
  return `#${path}${q ? `?${q}` : ''}`;
}
