/**
 * The work of `artprobe probe linear|separability|ratings|map` (options are declared in
 * `../commands/probe.ts`): embedding probes that need no CLIP model.
 *
 * @example
 * await runLinear({ embeddings: 'ai.parquet', label: 'style', cv: 5, minClass: 10, C: 1, seed: 0, json: true });
 */
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { encodeNpy } from '../../core/npy.ts';
import { type EmbeddingSet, labelColumn, loadEmbeddings, numberColumn } from '../../probe/embeddings.ts';
import { runLinearProbe, runMap, runRatingsProbe, runSeparability } from '../../probe/probes.ts';
import { formatTable, jsonReplacer, type ReportTable, writeReport } from '../../probe/report.ts';

/** `--folds FILE[:KEY]`: a JSON array of fold ids, or a key of a JSON object holding one. */
async function readFolds(spec: string): Promise<number[]> {
  const m = /^(.*\.json)(?::(.+))?$/.exec(spec);
  if (!m) throw new Error(`--folds must be FILE.json or FILE.json:KEY, got '${spec}'`);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(m[1], 'utf8'));
  } catch (e) {
    throw new Error(`--folds: cannot read ${m[1]} (${(e as Error).message})`);
  }
  if (m[2]) value = (value as Record<string, unknown>)?.[m[2]];
  if (!Array.isArray(value) || value.some((x) => !Number.isInteger(x))) {
    throw new Error(`--folds: ${spec} is not an array of integer fold ids`);
  }
  return value as number[];
}

async function load(path: string, column?: string, meta?: string): Promise<EmbeddingSet> {
  return loadEmbeddings(path, { column, metaPath: meta });
}

async function emit(
  opts: { json?: boolean; out?: string },
  title: string,
  result: Record<string, unknown>,
  tables: ReportTable[],
): Promise<void> {
  if (opts.json) process.stdout.write(`${JSON.stringify(result, jsonReplacer)}\n`);
  else {
    const text = tables.map((t) => `${t.title}\n${formatTable(t.header, t.rows)}`).join('\n\n');
    process.stdout.write(`${title}\n\n${text}\n`);
  }
  if (opts.out) await writeReport(opts.out, title, result, tables);
}

// ------------------------------------------------------------------ probe linear

/** Options of `artprobe probe linear`. */
export interface LinearOpts {
  embeddings: string;
  column?: string;
  meta?: string;
  label: string;
  cv: number;
  groupBy?: string;
  folds?: string;
  test?: string;
  testColumn?: string;
  testLabel?: string;
  mapLabels?: string;
  keepUnmapped?: boolean;
  per?: string;
  minClass: number;
  C: number;
  seed: number;
  json?: boolean;
  out?: string;
}

/**
 * Runs `artprobe probe linear`.
 *
 * @example
 * await runLinear(options);
 */
export async function runLinear(o: LinearOpts): Promise<void> {
  const train = await load(o.embeddings, o.column, o.meta);
  const testSet = o.test ? await load(o.test, o.testColumn ?? o.column) : undefined;
  const labelMap = o.mapLabels
    ? (JSON.parse(await readFile(o.mapLabels, 'utf8')) as Record<string, string>)
    : undefined;
  const per = o.per ? labelColumn(testSet ?? train, o.per) : undefined;
  const r = runLinearProbe(
    {
      X: train.X,
      labels: labelColumn(train, o.label),
      groups: o.groupBy ? labelColumn(train, o.groupBy) : undefined,
      per: testSet ? undefined : per,
    },
    {
      cv: o.cv,
      seed: o.seed,
      minClassSize: o.minClass,
      C: o.C,
      foldOfRow: o.folds ? await readFolds(o.folds) : undefined,
      test: testSet ? { X: testSet.X, labels: labelColumn(testSet, o.testLabel ?? o.label), per } : undefined,
      labelMap,
      unmapped: o.keepUnmapped ? 'keep' : 'drop',
    },
  );
  const { rows: _r, y_true: _t, y_pred: _p, ...summary } = r;
  const result = {
    probe: 'linear',
    embeddings: o.embeddings,
    label: o.label,
    test: o.test ?? null,
    ...summary,
  };
  const tables: ReportTable[] = [
    {
      title: 'Metrics',
      header: ['accuracy', 'macro_f1', 'n_train', 'n_test', 'classes', 'majority baseline'],
      rows: [[r.accuracy, r.macro_f1, r.n_train, r.n_test, r.n_classes, r.majority_baseline]],
    },
    {
      title: 'Recall per class',
      header: ['class', 'rows', 'recall'],
      rows: Object.entries(r.per_class_recall).map(([c, v]) => [c, r.classes[c] ?? 0, v]),
    },
  ];
  if (r.folds)
    tables.push({
      title: 'Folds',
      header: ['fold', 'accuracy', 'macro_f1'],
      rows: r.folds.accuracy.map((a, i) => [i, a, r.folds?.macro_f1[i]]),
    });
  if (r.per_group)
    tables.push({
      title: `Accuracy per ${o.per}`,
      header: [o.per ?? '', 'n', 'accuracy'],
      rows: Object.entries(r.per_group).map(([g, v]) => [g, v.n, v.accuracy]),
    });
  await emit(o, `Linear probe of '${o.label}' (${o.embeddings})`, result, tables);
}

// ------------------------------------------------------------------ probe separability

/** Options of `artprobe probe separability`. */
export interface SepOpts {
  human: string;
  ai: string;
  column?: string;
  pca: number[];
  cv?: number;
  folds?: string;
  groupBy?: string;
  humanGroupBy?: string;
  testHuman?: string;
  testAi?: string;
  float32?: boolean;
  per?: string;
  seed: number;
  json?: boolean;
  out?: string;
}

/**
 * Runs `artprobe probe separability`.
 *
 * @example
 * await runSeparabilityProbe(options);
 */
export async function runSeparabilityProbe(o: SepOpts): Promise<void> {
  if (!!o.testHuman !== !!o.testAi) throw new Error('--test-human and --test-ai must be given together');
  const human = await load(o.human, o.column);
  const ai = await load(o.ai, o.column);
  const test =
    o.testHuman && o.testAi
      ? { human: (await load(o.testHuman, o.column)).X, ai: (await load(o.testAi, o.column)).X }
      : undefined;
  let per: (string | null)[] | undefined;
  if (o.per) {
    const h =
      o.per in human.meta
        ? labelColumn(human, o.per)
        : human.X.rows > 0
          ? new Array(human.X.rows).fill('human')
          : [];
    per = [...h, ...labelColumn(ai, o.per)];
  }
  const r = runSeparability(human.X, ai.X, {
    pca: o.pca,
    cv: o.cv,
    foldOfRow: o.folds ? await readFolds(o.folds) : undefined,
    test,
    aiGroups: o.groupBy ? labelColumn(ai, o.groupBy) : undefined,
    humanGroups: o.humanGroupBy ? labelColumn(human, o.humanGroupBy) : undefined,
    float32: o.float32,
    seed: o.seed,
    per,
  });
  const results = r.results.map(({ score: _s, ...rest }) => rest);
  const best = results[results.length - 1];
  const result = {
    probe: 'separability',
    mode: r.mode,
    k: best.k,
    accuracy: best.accuracy,
    macro_f1: best.macro_f1,
    n_train: r.n_train,
    n_test: r.n_test,
    results,
  };
  const tables: ReportTable[] = [
    {
      title: `Human vs AI (${r.mode}, ${r.n_train} train / ${r.n_test} evaluated)`,
      header: [
        'k',
        'accuracy',
        'prec_w',
        'rec_w',
        'F1_w',
        'AI recall',
        'human recall',
        'fold mean',
        'fold sd',
      ],
      rows: results.map((x) => [
        x.pca ? x.k : `${x.k} (no PCA)`,
        x.accuracy,
        x.precision_weighted,
        x.recall_weighted,
        x.f1_weighted,
        x.ai_recall,
        x.human_recall,
        x.folds?.mean,
        x.folds?.sd,
      ]),
    },
  ];
  if (best.per_group)
    tables.push({
      title: `Accuracy per ${o.per} (k=${best.k})`,
      header: [o.per ?? '', 'n', 'accuracy'],
      rows: Object.entries(best.per_group).map(([g, v]) => [g, v.n, v.accuracy]),
    });
  await emit(o, 'Human vs AI separability', result, tables);
}

// ------------------------------------------------------------------ probe ratings

/** Options of `artprobe probe ratings`. */
export interface RatingsOpts {
  embeddings: string;
  column?: string;
  ratings: string;
  cv: number;
  groupBy?: string;
  folds?: string;
  human?: string;
  pca: number;
  seed: number;
  json?: boolean;
  out?: string;
}

/**
 * Runs `artprobe probe ratings`.
 *
 * @example
 * await runRatings(options);
 */
export async function runRatings(o: RatingsOpts): Promise<void> {
  const set = await load(o.embeddings, o.column);
  const names = o.ratings
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const ratings = Object.fromEntries(names.map((nm) => [nm, numberColumn(set, nm)]));
  const groups = o.groupBy ? labelColumn(set, o.groupBy) : undefined;
  let score: Float64Array | undefined;
  if (o.human) {
    const human = await load(o.human, o.column);
    const sep = runSeparability(human.X, set.X, {
      pca: [o.pca],
      cv: o.cv,
      aiGroups: groups,
      seed: o.seed,
    });
    const s = new Float64Array(set.X.rows);
    sep.rows.forEach((row, j) => {
      if (row >= human.X.rows) s[row - human.X.rows] = sep.results[0].score[j];
    });
    score = s;
  }
  const r = runRatingsProbe(set.X, ratings, {
    cv: o.cv,
    groups,
    seed: o.seed,
    score,
    foldOfRow: o.folds ? await readFolds(o.folds) : undefined,
  });
  const ridge = Object.fromEntries(Object.entries(r.ridge).map(([k, { prediction: _p, ...v }]) => [k, v]));
  const result = { probe: 'ratings', n: r.n, folds: r.folds, ridge, score: r.score };
  const tables: ReportTable[] = [
    {
      title: `Ridge probes (${r.folds}-fold${o.groupBy ? ` grouped by ${o.groupBy}` : ''}, n=${r.n})`,
      header: ['rating', 'spearman', 'pearson', 'R2', 'alpha per fold'],
      rows: Object.entries(ridge).map(([k, v]) => [
        k,
        v.spearman_rho,
        v.pearson_r,
        v.r2,
        v.alpha_per_fold.map((a) => a.toPrecision(3)).join(' '),
      ]),
    },
  ];
  if (r.score)
    tables.push({
      title: `AI-ness score (PCA ${o.pca} + LR, out of fold) vs ratings`,
      header: ['rating', 'spearman', 'p'],
      rows: Object.entries(r.score).map(([k, v]) => [k, v.rho, v.p.toExponential(2)]),
    });
  await emit(o, 'Ratings probe', result, tables);
}

// ------------------------------------------------------------------ probe map

/** Options of `artprobe probe map`. */
export interface MapOpts {
  embeddings: string[];
  column?: string;
  method: string;
  out: string;
  seed: number;
  neighbors: number;
  json?: boolean;
}

/**
 * Runs `artprobe probe map`.
 *
 * @example
 * await runMapProbe(options);
 */
export async function runMapProbe(o: MapOpts): Promise<void> {
  if (o.method !== 'pca' && o.method !== 'umap')
    throw new Error(`--method must be pca or umap, got '${o.method}'`);
  const sets = [];
  for (const f of o.embeddings) sets.push({ name: f, X: (await load(f, o.column)).X });
  const m = runMap(sets, { method: o.method, seed: o.seed, nNeighbors: o.neighbors });
  const ext = extname(o.out).toLowerCase();
  if (ext === '.npy') await writeFile(o.out, encodeNpy(m.coords.data, [m.coords.rows, 2]));
  else if (ext === '.csv') {
    const lines = ['set,x,y'];
    for (let i = 0; i < m.coords.rows; i++)
      lines.push(`${JSON.stringify(m.names[m.set[i]])},${m.coords.data[2 * i]},${m.coords.data[2 * i + 1]}`);
    await writeFile(o.out, `${lines.join('\n')}\n`);
  } else if (ext === '.json') {
    const points = Array.from({ length: m.coords.rows }, (_, i) => [
      m.coords.data[2 * i],
      m.coords.data[2 * i + 1],
    ]);
    await writeFile(
      o.out,
      JSON.stringify(
        {
          method: m.method,
          names: m.names,
          set: m.set,
          points,
          centroids: m.centroids,
          explained_variance_ratio: m.explained_variance_ratio,
        },
        jsonReplacer,
      ),
    );
  } else throw new Error(`--out must end in .json, .csv or .npy, got '${o.out}'`);
  const summary = {
    method: m.method,
    n: m.coords.rows,
    out: o.out,
    centroids: m.centroids,
    explained_variance_ratio: m.explained_variance_ratio ?? null,
  };
  if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    const rows = Object.entries(m.centroids).map(([k, c]) => [k, c[0], c[1]]);
    process.stdout.write(
      `2-D ${m.method} of ${m.coords.rows} rows → ${o.out}\n${formatTable(['set', 'centroid x', 'centroid y'], rows)}\n`,
    );
  }
}
