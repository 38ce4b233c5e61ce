/**
 * `artprobe probe …`: embedding probes that need no CLIP model.
 *   probe linear        multinomial logistic-regression probe of a label column
 *   probe separability  human vs AI: PCA(k) + balanced logistic regression
 *   probe ratings       ridge probes of human ratings (+ AI-ness score correlation)
 *   probe map           2-D PCA / UMAP coordinates
 * Other files add subcommands to the same group with `ensureProbeCommand(program).command('zero-shot')`
 * (either side may register first, so both use `ensureProbeCommand`, which is idempotent). The work is in
 * `../actions/probe.ts`, loaded only when a subcommand runs.
 *
 * @example
 * artprobe probe linear --embeddings ai.parquet --column 'ViT-L/14@336px' --label style --cv 5 --json
 */
import type { Command } from 'commander';
import type { LinearOpts, MapOpts, RatingsOpts, SepOpts } from '../actions/probe.ts';
import { choiceOption } from './parse-options.ts';

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

/**
 * Registers `probe linear|separability|ratings|map`.
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  const probe = ensureProbeCommand(program);
  addLinear(probe);
  addSeparability(probe);
  addRatings(probe);
  addMap(probe);
}

// ------------------------------------------------------------------ option parsing helpers

const INT_RE = /^\s*[+-]?\d+\s*$/;
const NUM_RE = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

function parseIntOpt(name: string, min: number, max = 1_000_000_000): (v: string) => number {
  return (v) => {
    const x = INT_RE.test(v) ? Number(v) : Number.NaN;
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${v}'`);
    if (x > max) throw new Error(`--${name} must be at most ${max}, got '${v}'`);
    return x;
  };
}

function parsePositive(name: string, max = 1e12): (v: string) => number {
  return (v) => {
    const x = NUM_RE.test(v) ? Number(v) : Number.NaN;
    if (!(x > 0) || !Number.isFinite(x)) throw new Error(`--${name} must be a positive number, got '${v}'`);
    if (x > max) throw new Error(`--${name} must be at most ${max}, got '${v}'`);
    return x;
  };
}

function parseKs(v: string): number[] {
  const ks = v.split(',').map((s) => (INT_RE.test(s) ? Number(s.trim()) : Number.NaN));
  if (ks.some((k) => !Number.isInteger(k) || k < 0 || k > 100_000))
    throw new Error(`--pca must be a comma list of integers in 0..100000 (0 = no PCA), got '${v}'`);
  return ks;
}

// ------------------------------------------------------------------ probe linear

function addLinear(probe: Command): void {
  probe
    .command('linear')
    .description('multinomial logistic-regression probe (sklearn LogisticRegression C=1, lbfgs) of a label')
    .requiredOption('--embeddings <file>', 'embeddings: .parquet, .npy or .csv')
    .option('--column <name>', "embedding column (CSV: 'prefix*' for numbered columns)")
    .option('--meta <file>', 'metadata table for a .npy file (parquet/CSV, same rows)')
    .requiredOption('--label <column>', 'label column')
    .option('--cv <k>', 'number of folds', parseIntOpt('cv', 2, 1000), 5)
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
    .option('--seed <n>', 'seed of the fold shuffle', parseIntOpt('seed', 0, 2 ** 32 - 1), 0)
    .option('--json', 'print one JSON object')
    .option('--out <dir>', 'write report.json and report.md here')
    .action(async (o: LinearOpts) => {
      const { runLinear } = await import('../actions/probe.ts');
      await runLinear(o);
    });
}

// ------------------------------------------------------------------ probe separability

function addSeparability(probe: Command): void {
  probe
    .command('separability')
    .description("human vs AI: PCA(k) + LogisticRegression(fit_intercept=False, class_weight='balanced')")
    .requiredOption('--human <file>', 'human-made embeddings')
    .requiredOption('--ai <file>', 'AI-generated embeddings')
    .option('--column <name>', 'embedding column')
    .option('--pca <k,...>', 'PCA sizes (0 = raw embeddings)', parseKs, [2, 10, 50, 0])
    .option('--cv <k>', 'k-fold cross-validation instead of one split', parseIntOpt('cv', 2, 1000))
    .option('--folds <file[:key]>', 'given fold id per row of [human; ai]')
    .option('--group-by <column>', 'AI column (e.g. prompt) kept on one side of the split / in one fold')
    .option('--human-group-by <column>', 'human column (e.g. objectid) for grouped folds')
    .option('--test-human <file>', 'held-out human test set (needs --test-ai)')
    .option('--test-ai <file>', 'held-out AI test set (needs --test-human)')
    .option('--float32', 'cast embeddings to float32 first (as the authors notebook)')
    .option('--per <column>', 'accuracy per value of this column (present in both files, or AI only)')
    .option('--seed <n>', 'seed of the default split / folds', parseIntOpt('seed', 0, 2 ** 32 - 1), 42)
    .option('--json', 'print one JSON object')
    .option('--out <dir>', 'write report.json and report.md here')
    .action(async (o: SepOpts) => {
      const { runSeparabilityProbe } = await import('../actions/probe.ts');
      await runSeparabilityProbe(o);
    });
}

// ------------------------------------------------------------------ probe ratings

function addRatings(probe: Command): void {
  probe
    .command('ratings')
    .description(
      'ridge probes (RidgeCV, alphas 1e-3..1e3) of human ratings; with --human also the AI-ness score',
    )
    .requiredOption('--embeddings <file>', 'embeddings with rating columns (e.g. AI-Pastiche)')
    .option('--column <name>', 'embedding column')
    .requiredOption('--ratings <a,b,...>', 'rating columns')
    .option('--cv <k>', 'number of folds', parseIntOpt('cv', 2, 1000), 5)
    .option('--group-by <column>', 'grouped folds (e.g. prompt)')
    .option('--folds <file[:key]>', 'given fold id per row')
    .option(
      '--human <file>',
      'human embeddings: adds the Spearman of the out-of-fold AI-ness score with each rating',
    )
    .option('--pca <k>', 'PCA size of the AI-ness classifier', parseIntOpt('pca', 0, 100_000), 50)
    .option('--seed <n>', 'seed of the folds', parseIntOpt('seed', 0, 2 ** 32 - 1), 0)
    .option('--json', 'print one JSON object')
    .option('--out <dir>', 'write report.json and report.md here')
    .action(async (o: RatingsOpts) => {
      const { runRatings } = await import('../actions/probe.ts');
      await runRatings(o);
    });
}

// ------------------------------------------------------------------ probe map

function addMap(probe: Command): void {
  probe
    .command('map')
    .description(
      '2-D map (exact PCA or UMAP) of one or more embedding files; PCA axes point to the last file',
    )
    .requiredOption('--embeddings <files...>', 'embedding files (stacked in order)')
    .option('--column <name>', 'embedding column')
    .option('--method <m>', 'pca | umap', choiceOption('--method', ['pca', 'umap']), 'pca')
    .requiredOption('--out <file>', 'output: .json, .csv or .npy (n × 2 float64)')
    .option('--seed <n>', 'UMAP seed', parseIntOpt('seed', 0, 2 ** 32 - 1), 42)
    .option('--neighbors <n>', 'UMAP neighbours', parseIntOpt('neighbors', 2, 1000), 15)
    .option('--json', 'print the summary as one JSON object')
    .action(async (o: MapOpts) => {
      const { runMapProbe } = await import('../actions/probe.ts');
      await runMapProbe(o);
    });
}
