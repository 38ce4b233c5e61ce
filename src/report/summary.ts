/**
 * Agreement of saliency maps with expert regions across a collection: rows (one per painting × region × method ×
 * target) are summarised per method and per method × dimension. Two numbers per metric: the mean over rows
 * (exactly what `artprobe regions score` prints as "mean per method"), and the spread across paintings (each
 * painting's rows averaged first, then mean, standard deviation, quartiles, min and max of those painting means),
 * so one painting with many regions does not hide the others. `disagreements` ranks painting × target pairs by a
 * metric (lowest agreement first), and `agreementCsv` writes the rows as CSV. Plain data, no node imports: the
 * server, the web UI and the static report share it.
 *
 * @example
 * const { byMethod } = summarizeAgreement(rows);
 * byMethod[0].mean.auroc; // mean AUROC over every region × prompt of the first method
 * byMethod[0].spread.auroc.sd; // spread of the per-painting means
 */

/** Metrics a row can carry (NaN or missing: not defined for that row). */
export const AGREEMENT_METRICS = [
  'pointing',
  'pointingTol',
  'pointingShape',
  'energy',
  'massAccuracy',
  'rankAccuracy',
  'auroc',
  'aurocAbs',
  'iouTopK',
  'nss',
  'deletion',
  'insertion',
] as const;
export type AgreementMetric = (typeof AGREEMENT_METRICS)[number];

/** What each metric measures, and which way is better (for legends, tooltips and CSV headers). */
export const METRIC_INFO: Record<AgreementMetric, { name: string; help: string; higherIsBetter: boolean }> = {
  pointing: {
    name: 'pointing (box)',
    help: "the map's maximum falls in the region's bounding box (1 or 0; Zhang et al.)",
    higherIsBetter: true,
  },
  pointingTol: {
    name: 'pointing (box ±15px)',
    help: "the map's maximum falls within 15 px of the region's bounding box",
    higherIsBetter: true,
  },
  pointingShape: {
    name: 'pointing (shape)',
    help: "the map's maximum falls in the region's exact outline (1 or 0)",
    higherIsBetter: true,
  },
  energy: {
    name: 'energy',
    help: "share of the map's positive mass inside the region (energy pointing game)",
    higherIsBetter: true,
  },
  massAccuracy: { name: 'mass acc.', help: 'relevance mass accuracy', higherIsBetter: true },
  rankAccuracy: { name: 'rank acc.', help: 'relevance rank accuracy', higherIsBetter: true },
  auroc: {
    name: 'AUROC',
    help: 'area under the ROC curve of the map against the region mask (0.5 = chance)',
    higherIsBetter: true,
  },
  aurocAbs: { name: 'AUROC |·|', help: 'AUROC of the absolute map', higherIsBetter: true },
  iouTopK: {
    name: 'IoU@k',
    help: 'overlap of the k strongest pixels (k = region area) with the region',
    higherIsBetter: true,
  },
  nss: { name: 'NSS', help: 'normalised scanpath saliency (mean z-score inside)', higherIsBetter: true },
  deletion: {
    name: 'deletion',
    help: "faithfulness of the map to the model: area under the target's score curve (its unit: logit for prompts) as the map's strongest pixels are removed from the model's input (lower = more faithful; one value per map)",
    higherIsBetter: false,
  },
  insertion: {
    name: 'insertion',
    help: "area under the target's score curve as the map's strongest pixels are put back into a blurred copy (higher = more faithful; one value per map)",
    higherIsBetter: true,
  },
};

/**
 * One painting × region × method × target.
 *
 * @example
 * const r: AgreementRow = { painting: 'wave.jpg', method: 'rollout', target: 'a wave', regionId: 'r1', region: 'wave',
 *   dimension: 'content', auroc: 0.8 };
 */
export type AgreementRow = {
  /** The painting's file name (what region files and `regions score` match on). */
  painting: string;
  paintingId?: string;
  title?: string;
  method: string;
  /** The target as text (prompt, or label). */
  target: string;
  regionId: string;
  region: string;
  /** The region's dimension ('' when none). */
  dimension: string;
  /** Region pixels. */
  area?: number;
  /** The job that made the map, and its target score. */
  jobId?: string;
  score?: number;
} & Partial<Record<AgreementMetric, number | null>>;

/** Spread of per-painting means. */
export interface Spread {
  /** Paintings with a value. */
  n: number;
  mean: number;
  /** Sample standard deviation (NaN for fewer than two paintings). */
  sd: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

/**
 * One method (and dimension) of the summary.
 *
 * @example
 * const line = (s: MethodSummary) => `${s.method}: AUROC ${s.mean.auroc.toFixed(2)} ± ${s.spread.auroc.sd.toFixed(2)}`;
 */
export interface MethodSummary {
  method: string;
  /** Set in `byMethodDimension`. */
  dimension?: string;
  /** Rows (region × target × painting). */
  n: number;
  /** Paintings with at least one row. */
  paintings: number;
  /** Mean over rows, NaN values skipped (as `artprobe regions score`). */
  mean: Record<AgreementMetric, number>;
  /** Across paintings: each painting's rows averaged first. */
  spread: Record<AgreementMetric, Spread>;
}

export interface AgreementSummary {
  byMethod: MethodSummary[];
  byMethodDimension: MethodSummary[];
  /** Metrics that at least one row has (the others are left out of tables). */
  metrics: AgreementMetric[];
  paintings: number;
  rows: number;
}

const num = (v: number | null | undefined): number => (typeof v === 'number' ? v : Number.NaN);

/** Mean of the finite values (NaN when none). */
function mean(values: number[]): number {
  const v = values.filter((x) => !Number.isNaN(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
}

/** Quantile of sorted values (linear interpolation, as d3.quantileSorted). */
function quantile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  const i = (sorted.length - 1) * p;
  const lo = Math.floor(i);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/**
 * Mean, standard deviation and quartiles of values (NaN skipped).
 *
 * @example
 * spreadOf([1, 2, 3]).sd; // 1
 */
export function spreadOf(values: number[]): Spread {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const m = mean(v);
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / (v.length - 1)) : Number.NaN;
  return {
    n: v.length,
    mean: m,
    sd,
    min: v.length ? v[0] : Number.NaN,
    q1: quantile(v, 0.25),
    median: quantile(v, 0.5),
    q3: quantile(v, 0.75),
    max: v.length ? v[v.length - 1] : Number.NaN,
  };
}

function group<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

function summarizeGroup(rows: AgreementRow[], method: string, dimension?: string): MethodSummary {
  const byPainting = group(rows, (r) => r.paintingId ?? r.painting);
  const meanRec = {} as Record<AgreementMetric, number>;
  const spreadRec = {} as Record<AgreementMetric, Spread>;
  for (const k of AGREEMENT_METRICS) {
    meanRec[k] = mean(rows.map((r) => num(r[k])));
    spreadRec[k] = spreadOf([...byPainting.values()].map((list) => mean(list.map((r) => num(r[k])))));
  }
  return {
    method,
    ...(dimension !== undefined ? { dimension } : {}),
    n: rows.length,
    paintings: byPainting.size,
    mean: meanRec,
    spread: spreadRec,
  };
}

/**
 * Summaries per method (in first-seen order) and per method × dimension (dimensions in the order content, scene,
 * style, period, artifact, then others; '' is shown as "(none)").
 *
 * @example
 * summarizeAgreement(rows).byMethodDimension.filter((s) => s.dimension === 'style');
 */
export function summarizeAgreement(rows: AgreementRow[]): AgreementSummary {
  const methods = [...new Set(rows.map((r) => r.method))];
  const order = ['content', 'scene', 'style', 'period', 'artifact'];
  const dims = [...new Set(rows.map((r) => r.dimension || '(none)'))].sort(
    (a, b) =>
      (order.indexOf(a) < 0 ? 99 : order.indexOf(a)) - (order.indexOf(b) < 0 ? 99 : order.indexOf(b)) ||
      a.localeCompare(b),
  );
  const byMethod = methods.map((m) =>
    summarizeGroup(
      rows.filter((r) => r.method === m),
      m,
    ),
  );
  const byMethodDimension = methods.flatMap((m) =>
    dims.flatMap((d) => {
      const list = rows.filter((r) => r.method === m && (r.dimension || '(none)') === d);
      return list.length ? [summarizeGroup(list, m, d)] : [];
    }),
  );
  const metrics = AGREEMENT_METRICS.filter((k) => rows.some((r) => !Number.isNaN(num(r[k]))));
  return {
    byMethod,
    byMethodDimension,
    metrics,
    paintings: new Set(rows.map((r) => r.paintingId ?? r.painting)).size,
    rows: rows.length,
  };
}

/**
 * A painting's agreement under one method: the mean of the metric over its regions and targets, and the target
 * (with its job) that agrees least.
 *
 * @example
 * const worst = disagreements(rows, 'rollout', 'auroc')[0];
 */
export interface Disagreement {
  painting: string;
  paintingId?: string;
  title?: string;
  method: string;
  /** The target whose map agrees least (shown for the painting). */
  target: string;
  jobId?: string;
  /** Mean of the metric over the painting's regions (of the chosen dimension) and targets. */
  value: number;
  /** The same mean for `target` alone. */
  targetValue: number;
  regions: number;
  targets: number;
}

/**
 * Paintings of a method ranked from the least to the most agreement (for metrics where lower is better, such as
 * deletion, the most first). Paintings without a value come last.
 *
 * @example
 * disagreements(rows, 'chefer-last', 'energy', { dimension: 'style' }).slice(0, 12);
 */
export function disagreements(
  rows: AgreementRow[],
  method: string,
  metric: AgreementMetric,
  opts: { dimension?: string } = {},
): Disagreement[] {
  const picked = rows.filter(
    (r) =>
      r.method === method && (opts.dimension === undefined || (r.dimension || '(none)') === opts.dimension),
  );
  const sign = METRIC_INFO[metric].higherIsBetter ? 1 : -1;
  const worse = (a: number, b: number) => {
    const na = Number.isNaN(a);
    const nb = Number.isNaN(b);
    if (na || nb) return Number(na) - Number(nb);
    return sign * (a - b);
  };
  const out = [...group(picked, (r) => r.paintingId ?? r.painting).values()].map((list): Disagreement => {
    const targets = [...group(list, (r) => r.target).values()].map((t) => ({
      target: t[0].target,
      jobId: t[0].jobId,
      value: mean(t.map((r) => num(r[metric]))),
    }));
    targets.sort((a, b) => worse(a.value, b.value));
    return {
      painting: list[0].painting,
      paintingId: list[0].paintingId,
      title: list[0].title,
      method,
      target: targets[0].target,
      jobId: targets[0].jobId,
      value: mean(list.map((r) => num(r[metric]))),
      targetValue: targets[0].value,
      regions: new Set(list.map((r) => r.regionId)).size,
      targets: targets.length,
    };
  });
  return out.sort((a, b) => worse(a.value, b.value) || a.painting.localeCompare(b.painting));
}

/** A CSV field: quoted when it holds a comma, quote or line break; formulas are defused. */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`; // spreadsheet formula injection
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV columns of `agreementCsv`, in order. */
export const CSV_COLUMNS = [
  'painting',
  'title',
  'paintingId',
  'method',
  'target',
  'score',
  'regionId',
  'region',
  'dimension',
  'area',
  ...AGREEMENT_METRICS,
  'jobId',
] as const;

/**
 * Rows as CSV (header first; numbers at full precision; empty cell = not defined).
 *
 * @example
 * download(new Blob([agreementCsv(rows)], { type: 'text/csv' }), 'agreement.csv');
 */
export function agreementCsv(rows: AgreementRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows)
    lines.push(CSV_COLUMNS.map((c) => csvField((r as Record<string, unknown>)[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Parses what `agreementCsv` wrote (quoted fields, CRLF) back into records of strings.
 *
 * @example
 * parseCsv(agreementCsv(rows))[0].method;
 */
export function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      records.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field || row.length) {
    row.push(field);
    records.push(row);
  }
  const [head, ...body] = records;
  return body.map((r) => Object.fromEntries((head ?? []).map((h, k) => [h, r[k] ?? ''])));
}
