/**
 * Seeded splitters: stratified k-fold, grouped k-fold, grouped/plain shuffle splits.
 * They follow the same ideas as scikit-learn's but are NOT bit-identical to it (different random
 * generator); use folds exported from sklearn (`foldsFromAssignment`) for exact parity.
 *
 * @example
 * const fold = stratifiedKFold(labels, 5, 0); // fold id per row
 * const folds = foldsFromAssignment(fold);    // [{ train, test }, ...]
 */
import { createRng } from '../core/rng.ts';

/**
 * Uniform draws in [0, 1) from the project's one seeded generator ({@link createRng}).
 *
 * @example
 * const rand = seededRandom(42); rand();
 */
export function seededRandom(seed: number): () => number {
  return createRng(seed).uniform;
}

/** In-place Fisher–Yates shuffle. */
function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export interface Fold {
  train: number[];
  test: number[];
}

/**
 * Turns a fold id per row (−1 = unused row) into train/test index lists.
 *
 * @example
 * foldsFromAssignment([0, 1, -1, 0]); // [{train:[1], test:[0,3]}, {train:[0,3], test:[1]}]
 */
export function foldsFromAssignment(foldOfRow: ArrayLike<number>): Fold[] {
  let k = 0;
  for (let i = 0; i < foldOfRow.length; i++) k = Math.max(k, foldOfRow[i] + 1);
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < foldOfRow.length; i++) {
      if (foldOfRow[i] < 0) continue;
      (foldOfRow[i] === f ? test : train).push(i);
    }
    if (test.length === 0) throw new Error(`fold ${f} has no rows`);
    folds.push({ train, test });
  }
  return folds;
}

/**
 * Stratified k-fold: within each class, rows are shuffled and dealt round-robin to folds
 * (continuing where the previous class stopped, so fold sizes stay balanced).
 *
 * @example
 * const fold = stratifiedKFold(['a', 'a', 'b', 'b'], 2, 0); // Int32Array of fold ids
 */
export function stratifiedKFold(labels: readonly string[], k: number, seed = 0): Int32Array {
  checkK(k, labels.length);
  const rand = seededRandom(seed);
  const byClass = new Map<string, number[]>();
  labels.forEach((l, i) => {
    const list = byClass.get(l) ?? [];
    list.push(i);
    byClass.set(l, list);
  });
  const fold = new Int32Array(labels.length);
  let next = 0;
  for (const key of [...byClass.keys()].sort()) {
    for (const i of shuffle(byClass.get(key) as number[], rand)) {
      fold[i] = next;
      next = (next + 1) % k;
    }
  }
  return fold;
}

/**
 * Grouped k-fold: groups (shuffled with the seed, then ordered by size, largest first) go to the fold
 * with the fewest rows so far; no group is split across folds.
 *
 * @example
 * const fold = groupKFold(prompts, 5, 0);
 */
export function groupKFold(groups: readonly string[], k: number, seed = 0): Int32Array {
  const byGroup = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const list = byGroup.get(g) ?? [];
    list.push(i);
    byGroup.set(g, list);
  });
  if (byGroup.size < k) throw new Error(`grouped ${k}-fold needs at least ${k} groups, got ${byGroup.size}`);
  const keys = shuffle([...byGroup.keys()].sort(), seededRandom(seed));
  keys.sort((a, b) => (byGroup.get(b) as number[]).length - (byGroup.get(a) as number[]).length); // stable
  const sizes = new Array<number>(k).fill(0);
  const fold = new Int32Array(groups.length);
  for (const key of keys) {
    const f = sizes.indexOf(Math.min(...sizes));
    for (const i of byGroup.get(key) as number[]) fold[i] = f;
    sizes[f] += (byGroup.get(key) as number[]).length;
  }
  return fold;
}

/**
 * Random train/test split of `n` rows; `groups` keeps each group on one side (test gets
 * ≈ testSize of the groups, like sklearn's GroupShuffleSplit).
 *
 * @example
 * const { train, test } = shuffleSplit(953, 0.2, 42);
 */
export function shuffleSplit(n: number, testSize: number, seed = 0, groups?: readonly string[]): Fold {
  const rand = seededRandom(seed);
  if (!groups) {
    const idx = shuffle(
      Array.from({ length: n }, (_, i) => i),
      rand,
    );
    const nTest = Math.ceil(testSize * n);
    return { test: idx.slice(0, nTest).sort((a, b) => a - b), train: idx.slice(nTest).sort((a, b) => a - b) };
  }
  const keys = shuffle([...new Set(groups)].sort(), rand);
  const testKeys = new Set(keys.slice(0, Math.ceil(testSize * keys.length)));
  const train: number[] = [];
  const test: number[] = [];
  groups.forEach((g, i) => {
    (testKeys.has(g) ? test : train).push(i);
  });
  return { train, test };
}

function checkK(k: number, n: number): void {
  if (!Number.isInteger(k) || k < 2) throw new Error(`number of folds must be an integer ≥ 2, got ${k}`);
  if (k > n) throw new Error(`cannot make ${k} folds from ${n} rows`);
}
