/**
 * `artprobe probe …`: embedding probes that need no CLIP model.
 *   probe linear        multinomial logistic-regression probe of a label column
 *   probe separability  human vs AI: PCA(k) + balanced logistic regression
 *   probe ratings       ridge probes of human ratings (+ AI-ness score correlation)
 *   probe map           2-D PCA / UMAP coordinates
 * Other files add subcommands to the same group with `ensureProbeCommand(program).command('zero-shot')`
 * (command files load in name order, so both sides use `ensureProbeCommand`, which is idempotent).
 *
 * @example
 * artprobe probe linear --embeddings ai.parquet --column 'ViT-L/14@336px' --label style --cv 5 --json
 */
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { encodeNpy } from '../../core/npy.ts';
import { type EmbeddingSet, labelColumn, loadEmbeddings, numberColumn } from '../../probe/embeddings.ts';
import { runLinearProbe, runMap, runRatingsProbe, runSeparability } from '../../probe/probes.ts';
import { formatTable, jsonReplacer, type ReportTable, writeReport } from '../../probe/report.ts';

/**
 * Returns the `probe` command group, creating it on first use.
 *
 * @example
 * ensureProbeCommand(program).command('zero-shot').action(...);
 */
export function ensureProbeCommand(program: Command): Command {
  const found = program.commands.find((c) => c.name() === 'probe');
  if (found) return found;
  return program
    .command('probe')
    .description('probes of CLIP embeddings (linear, separability, ratings, map, …)');
}

/** Registers `probe linear|separability|ratings|map`. */
export function register(program: Command): void {
  const probe = ensureProbeCommand(program);
  addLinear(probe);
  addSeparability(probe);
  addRatings(probe);
  addMap(probe);
}

// ------------------------------------------------------------------ option parsing helpers

function parseIntOpt(name: string, min: number): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${v}'`);
    return x;
  };
}

function parsePositive(name: string): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!(x > 0)) throw new Error(`--${name} must be a positive number, got '${v}'`);
    return x;
  };
}

function parseKs(v: string): number[] {
  const ks = v.split(',').map((s) => Number(s.trim()));
  if (ks.some((k) => !Number.isInteger(k) || k < 0))
    throw new Error(`--pca must be a comma list of integers ≥ 0 (0 = no PCA), got '${v}'`);
  return ks;
}

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

interface LinearOpts {
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

function addLinear(probe: Command): void {
  probe
    .command('linear')
    .description('multinomial logistic-regression probe (sklearn LogisticRegression C=1, lbfgs) of a label')
    .requiredOption('--embeddings <file>', 'embeddings: .parquet, .npy or .csv')
    .option('--column <name>', "embedding column (CSV: 'prefix*' for numbered columns)")
    .option('--meta <file>', 'metadata table for a .npy file (parquet/CSV, same rows)')
    .requiredOption('--label <column>', 'label column')
    .option('--cv <k>', 'number of folds', parseIntOpt('cv', 2), 5)
    .option('--group-by <column>', 'grouped folds: rows sharing this column stay in one fold')
    .option('--folds <file[:key]>', 'given fold id per row (JSON array; -1 drops a row)')
    .option('--test <file>', 'train on --embeddings, test on this file')
    .option('--test-column <name>', 'embedding column of the test file (default: --column)')
    .option('--test-label <column>', 'label column of the test file (default: --label)')
    .option('--map-labels <file>', 'JSON object renaming training labels (cross-domain)')
    .option('--keep-unmapped', 'with --map-labels: keep training rows whose label is not mapped')
    .option('--per <column>', 'also report accuracy per value of this column (evaluated rows)')
    .option('--min-class <n>', 'drop classes with fewer rows', parseIntOpt('min-class', 1), 10)
    .option('--C <c>', 'inverse L2 strength', parsePositive('C'), 1)
    .option('--seed <n>', 'seed of the fold shuffle', parseIntOpt('seed', 0), 0)
    .option('--json', 'print one JSON object')
    .option('--out <dir>', 'write report.json and report.md here')
    .action(async (o: LinearOpts) => {
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
          test: testSet
            ? { X: testSet.X, labels: labelColumn(testSet, o.testLabel ?? o.label), per }
            : undefined,
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
    });
}

// ------------------------------------------------------------------ probe separability

interface SepOpts {
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

function addSeparability(probe: Command): void {
  probe
    .command('separability')
    .description("human vs AI: PCA(k) + LogisticRegression(fit_intercept=False, class_weight='balanced')")
    .requiredOption('--human <file>', 'human-made embeddings')
    .requiredOption('--ai <file>', 'AI-generated embeddings')
    .option('--column <name>', 'embedding column')
    .option('--pca <k,...>', 'PCA sizes (0 = raw embeddings)', parseKs, [2, 10, 50, 0])
    .option('--cv <k>', 'k-fold cross-validation instead of one split', parseIntOpt('cv', 2))
    .option('--folds <file[:key]>', 'given fold id per row of [human; ai]')
    .option('--group-by <column>', 'AI column (e.g. prompt) kept on one side of the split / in one fold')
    .option('--human-group-by <column>', 'human column (e.g. objectid) for grouped folds')
    .option('--test-human <file>', 'held-out human test set (needs --test-ai)')
    .option('--test-ai <file>', 'held-out AI test set (needs --test-human)')
    .option('--float32', 'cast embeddings to float32 first (as the authors notebook)')
    .option('--per <column>', 'accuracy per value of this column (present in both files, or AI only)')
    .option('--seed <n>', 'seed of the default split / folds', parseIntOpt('seed', 0), 42)
    .option('--json', 'print one JSON object')
    .option('--out <dir>', 'write report.json and report.md here')
    .action(async (o: SepOpts) => {
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
    });
}

// ------------------------------------------------------------------ probe ratings

interface RatingsOpts {
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

function addRatings(probe: Command): void {
  probe
    .command('ratings')
    .description(
      'ridge probes (RidgeCV, alphas 1e-3..1e3) of human ratings; with --human also the AI-ness score',
    )
    .requiredOption('--embeddings <file>', 'embeddings with rating columns (e.g. AI-Pastiche)')
    .option('--column <name>', 'embedding column')
    .requiredOption('--ratings <a,b,...>', 'rating columns')
    .option('--cv <k>', 'number of folds', parseIntOpt('cv', 2), 5)
    .option('--group-by <column>', 'grouped folds (e.g. prompt)')
    .option('--folds <file[:key]>', 'given fold id per row')
    .option(
      '--human <file>',
      'human embeddings: adds the Spearman of the out-of-fold AI-ness score with each rating',
    )
    .option('--pca <k>', 'PCA size of the AI-ness classifier', parseIntOpt('pca', 0), 50)
    .option('--seed <n>', 'seed of the folds', parseIntOpt('seed', 0), 0)
    .option('--json', 'print one JSON object')
    .option('--out <dir>', 'write report.json and report.md here')
    .action(async (o: RatingsOpts) => {
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
      const ridge = Object.fromEntries(
        Object.entries(r.ridge).map(([k, { prediction: _p, ...v }]) => [k, v]),
      );
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
    });
}

// ------------------------------------------------------------------ probe map

interface MapOpts {
  embeddings: string[];
  column?: string;
  method: string;
  out: string;
  seed: number;
  neighbors: number;
  json?: boolean;
}

function addMap(probe: Command): void {
  probe
    .command('map')
    .description(
      '2-D map (exact PCA or UMAP) of one or more embedding files; PCA axes point to the last file',
    )
    .requiredOption('--embeddings <files...>', 'embedding files (stacked in order)')
    .option('--column <name>', 'embedding column')
    .option('--method <m>', 'pca | umap', 'pca')
    .requiredOption('--out <file>', 'output: .json, .csv or .npy (n × 2 float64)')
    .option('--seed <n>', 'UMAP seed', parseIntOpt('seed', 0), 42)
    .option('--neighbors <n>', 'UMAP neighbours', parseIntOpt('neighbors', 2), 15)
    .option('--json', 'print the summary as one JSON object')
    .action(async (o: MapOpts) => {
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
          lines.push(
            `${JSON.stringify(m.names[m.set[i]])},${m.coords.data[2 * i]},${m.coords.data[2 * i + 1]}`,
          );
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
    });
}
