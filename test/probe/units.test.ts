import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/core/npy.ts';
import { labelColumn, loadEmbeddings, numberColumn, parseCsvTable } from '../../src/probe/embeddings.ts';
import { minimizeLbfgs } from '../../src/probe/lbfgs.ts';
import {
  centerRows,
  columnMeans,
  eigSymmetric,
  fitPca,
  gramMatrix,
  type Mat,
  takeRows,
  transformPca,
} from '../../src/probe/linalg.ts';
import { decisionFunction, fitLogistic, predictLogistic } from '../../src/probe/logistic.ts';
import { runLinearProbe, runMap, runRatingsProbe, runSeparability } from '../../src/probe/probes.ts';
import { fitRidgeCv, logspace, predictRidge } from '../../src/probe/ridge.ts';
import { foldsFromAssignment, groupKFold, seededRandom, stratifiedKFold } from '../../src/probe/splits.ts';
import {
  accuracy,
  classificationReport,
  pearson,
  r2Score,
  rankAverage,
  spearman,
} from '../../src/probe/stats.ts';

function randomMat(rows: number, cols: number, seed: number, shift = 0): Mat {
  const rand = seededRandom(seed);
  return { data: Float64Array.from({ length: rows * cols }, () => rand() * 2 - 1 + shift), rows, cols };
}

/** Two or more Gaussian-ish blobs with labels. */
function blobs(
  perClass: number,
  classes: string[],
  d: number,
  seed: number,
  spread = 1,
): { X: Mat; labels: string[] } {
  const rand = seededRandom(seed);
  const centres = classes.map(() => Array.from({ length: d }, () => (rand() * 2 - 1) * 2));
  const data: number[] = [];
  const labels: string[] = [];
  classes.forEach((c, k) => {
    for (let i = 0; i < perClass; i++) {
      for (let j = 0; j < d; j++) data.push(centres[k][j] + (rand() + rand() + rand() - 1.5) * spread * 2);
      labels.push(c);
    }
  });
  return { X: { data: Float64Array.from(data), rows: labels.length, cols: d }, labels };
}

describe('stats', () => {
  it('ranks ties by average and matches known Spearman/Pearson values', () => {
    expect(Array.from(rankAverage([10, 20, 20, 5, 20]))).toEqual([2, 4, 4, 1, 4]);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40]).rho).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1]).rho).toBeCloseTo(-1, 12);
    // hand computation: ranks a = [1, 2.5, 2.5, 4], b = [1, 3, 2, 4]
    const a = [1, 2, 2, 3];
    const b = [5, 7, 6, 9];
    const ra = [1, 2.5, 2.5, 4];
    const rb = [1, 3, 2, 4];
    const cov = ra.reduce((s, v, i) => s + (v - 2.5) * (rb[i] - 2.5), 0);
    const va = ra.reduce((s, v) => s + (v - 2.5) ** 2, 0);
    const vb = rb.reduce((s, v) => s + (v - 2.5) ** 2, 0);
    expect(spearman(a, b).rho).toBeCloseTo(cov / Math.sqrt(va * vb), 12);
    // p of r = 0.5 with n = 10 is 0.14112 (t = 1.633, 8 dof)
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const noise = [3, -1, 4, -1, -5, 9, -2, 6, -5, 3];
    const y = x.map((v, i) => v + noise[i] * 1.1);
    const { r, p } = pearson(x, y);
    const t = r * Math.sqrt(8 / (1 - r * r));
    expect(p).toBeGreaterThan(0);
    expect(pearson([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 1, 4, 3, 6, 5, 8, 7, 10, 9]).p).toBeLessThan(1e-4);
    expect(t).toBeGreaterThan(0);
    expect(pValueFromR(0.5, 10)).toBeCloseTo(0.14112, 4);
    expect(r2Score([1, 2, 3], [1, 2, 4])).toBeCloseTo(0.5, 12);
  });

  it('computes sklearn-style weighted and macro metrics with zero_division = 0', () => {
    const yt = ['a', 'a', 'a', 'b', 'b', 'c'];
    const yp = ['a', 'a', 'b', 'b', 'a', 'a'];
    const r = classificationReport(yt, yp);
    expect(r.labels).toEqual(['a', 'b', 'c']);
    expect(r.precision).toEqual([2 / 4, 1 / 2, 0]);
    expect(r.recall).toEqual([2 / 3, 1 / 2, 0]);
    const f1a = (2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3);
    expect(r.macroF1).toBeCloseTo((f1a + 0.5 + 0) / 3, 12);
    expect(r.precisionWeighted).toBeCloseTo((3 * 0.5 + 2 * 0.5) / 6, 12);
    expect(r.recallWeighted).toBeCloseTo(accuracy(yt, yp), 12);
    expect(r.confusion).toEqual([
      [2, 1, 0],
      [1, 1, 0],
      [1, 0, 0],
    ]);
    expect(() => accuracy(['a'], ['a', 'b'])).toThrow(/differ in length/);
  });
});

/** Two-sided p-value of a Pearson r via the public API (exact data with that r). */
function pValueFromR(r: number, n: number): number {
  // x = 1..n, y = r·z(x) + √(1−r²)·w with w ⟂ x, both standardised → corr exactly r
  const x = Array.from({ length: n }, (_, i) => i - (n - 1) / 2);
  const w = x.map((v) => v * v);
  const mw = w.reduce((a, b) => a + b, 0) / n;
  const wc = w.map((v) => v - mw);
  const nx = Math.sqrt(x.reduce((a, v) => a + v * v, 0));
  const nw = Math.sqrt(wc.reduce((a, v) => a + v * v, 0));
  const y = x.map((v, i) => (r * v) / nx + (Math.sqrt(1 - r * r) * wc[i]) / nw);
  return pearson(x, y).p;
}

describe('optimiser and models', () => {
  it('L-BFGS minimises a badly scaled quadratic', () => {
    const scales = [1, 10, 100, 1000];
    const r = minimizeLbfgs(
      (x, g) => {
        let f = 0;
        for (let i = 0; i < 4; i++) {
          g[i] = scales[i] * (x[i] - i);
          f += 0.5 * scales[i] * (x[i] - i) ** 2;
        }
        return f;
      },
      new Float64Array(4),
      { gtol: 1e-12 },
    );
    expect(r.converged).toBe(true);
    for (let i = 0; i < 4; i++) expect(r.x[i]).toBeCloseTo(i, 9);
  });

  it('multinomial logistic regression reaches the optimum (gradient of the sklearn objective ≈ 0)', () => {
    const { X, labels } = blobs(30, ['x', 'y', 'z'], 5, 1, 1.5);
    const m = fitLogistic(X, labels, { C: 0.7, multiClass: 'multinomial' });
    // independent gradient of C·Σ logloss + ½‖W‖² at the solution
    const K = 3;
    const d = 5;
    const G = new Float64Array(K * (d + 1));
    const s = decisionFunction(m, X).data;
    for (let i = 0; i < X.rows; i++) {
      const z = [s[i * K], s[i * K + 1], s[i * K + 2]];
      const mx = Math.max(...z);
      const e = z.map((v) => Math.exp(v - mx));
      const se = e.reduce((a, b) => a + b, 0);
      for (let k = 0; k < K; k++) {
        const r = 0.7 * (e[k] / se - (m.classes[k] === labels[i] ? 1 : 0));
        for (let j = 0; j < d; j++) G[k * (d + 1) + j] += r * X.data[i * d + j];
        G[k * (d + 1) + d] += r;
      }
    }
    for (let k = 0; k < K; k++) for (let j = 0; j < d; j++) G[k * (d + 1) + j] += m.coef.data[k * d + j];
    expect(Math.max(...Array.from(G, Math.abs))).toBeLessThan(1e-5);
    expect(m.classes).toEqual(['x', 'y', 'z']);
    expect(accuracy(labels, predictLogistic(m, X))).toBeGreaterThan(0.8);
  });

  it('binary balanced logistic regression without intercept is the sklearn binary model', () => {
    const { X, labels } = blobs(40, ['0', '1'], 3, 2);
    const lab = labels.slice(0, 60); // 40 vs 20 → balanced weights 0.75 / 1.5
    const Xs = takeRows(
      X,
      Array.from({ length: 60 }, (_, i) => i),
    );
    const m = fitLogistic(Xs, lab, { fitIntercept: false, classWeight: 'balanced' });
    expect(m.binary).toBe(true);
    expect(m.coef.rows).toBe(1);
    expect(Array.from(m.intercept)).toEqual([0]);
    const g = Array.from(m.coef.data); // ∇ = Σ wᵢ(σ(zᵢ) − yᵢ)xᵢ + w
    const s = decisionFunction(m, Xs).data;
    for (let i = 0; i < 60; i++) {
      const w = lab[i] === '0' ? 60 / (2 * 40) : 60 / (2 * 20);
      const r = w * (1 / (1 + Math.exp(-s[i])) - (lab[i] === '1' ? 1 : 0));
      for (let j = 0; j < 3; j++) g[j] += r * Xs.data[i * 3 + j];
    }
    expect(Math.max(...g.map(Math.abs))).toBeLessThan(1e-5);
    const pred = predictLogistic(m, Xs);
    expect(pred).toEqual(Array.from(s, (v) => (v > 0 ? '1' : '0')));
  });

  it('intercept handling: shifting X changes only the intercept', () => {
    const { X, labels } = blobs(20, ['a', 'b', 'c'], 4, 3);
    const shifted = { ...X, data: X.data.map((v, i) => v + (i % 4) * 5) };
    const m1 = fitLogistic(X, labels);
    const m2 = fitLogistic(shifted, labels);
    for (let i = 0; i < m1.coef.data.length; i++) expect(m2.coef.data[i]).toBeCloseTo(m1.coef.data[i], 5);
    const s1 = decisionFunction(m1, X).data;
    const s2 = decisionFunction(m2, shifted).data;
    for (let i = 0; i < s1.length; i++) expect(s2[i]).toBeCloseTo(s1[i], 4);
  });

  it('eigSymmetric agrees with ml-matrix (values exactly ordered, vectors up to sign)', () => {
    const A = randomMat(40, 45, 11);
    const S = gramMatrix(A); // 40 × 40 symmetric positive definite
    const mine = eigSymmetric(S);
    const ref = new EigenvalueDecomposition(
      new Matrix(Array.from({ length: 40 }, (_, i) => Array.from(S.data.subarray(i * 40, (i + 1) * 40)))),
      {
        assumeSymmetric: true,
      },
    );
    const order = ref.realEigenvalues.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]);
    order.forEach(([v, i], k) => {
      expect(mine.values[k]).toBeCloseTo(v, 9);
      const col = ref.eigenvectorMatrix.getColumn(i);
      const sign = Math.sign(col[0] * mine.vectors.data[k]) || 1;
      for (let r = 0; r < 40; r++) expect(mine.vectors.data[r * 40 + k] * sign).toBeCloseTo(col[r], 8);
    });
    expect(() => eigSymmetric({ data: new Float64Array(6), rows: 2, cols: 3 })).toThrow(
      /square matrix, got 2×3/,
    );
  });

  it('PCA is centred, orthonormal and ordered', () => {
    const X = randomMat(50, 6, 4);
    for (let i = 0; i < 50; i++) X.data[i * 6] *= 5; // dominant first axis
    const p = fitPca(X);
    const Z = transformPca(p, X, 6);
    const mu = columnMeans(Z);
    for (const v of mu) expect(Math.abs(v)).toBeLessThan(1e-12);
    const V = p.components.data;
    for (let a = 0; a < 6; a++) {
      for (let b = 0; b < 6; b++) {
        let s = 0;
        for (let j = 0; j < 6; j++) s += V[j * 6 + a] * V[j * 6 + b];
        expect(s).toBeCloseTo(a === b ? 1 : 0, 10);
      }
    }
    for (let k = 1; k < 6; k++)
      expect(p.explainedVariance[k]).toBeLessThanOrEqual(p.explainedVariance[k - 1]);
    const varZ0 = Array.from({ length: 50 }, (_, i) => Z.data[i * 6] ** 2).reduce((a, b) => a + b, 0) / 49;
    expect(varZ0).toBeCloseTo(p.explainedVariance[0], 10);
    expect(Math.abs(V[0])).toBeGreaterThan(0.9);
    expect(p.explainedVarianceRatio.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(() => transformPca(p, X, 7)).toThrow(/k must be in 1\.\.6/);
  });

  it('RidgeCV leave-one-out equals brute-force refits, in both n ≤ d and n > d modes', () => {
    for (const [n, d] of [
      [12, 20],
      [30, 4],
    ]) {
      const X = randomMat(n, d, n + d, 0.3);
      const rand = seededRandom(7);
      const y = Array.from({ length: n }, (_, i) => X.data[i * d] * 2 - X.data[i * d + 1] + rand());
      const alphas = logspace(-2, 2, 5);
      const m = fitRidgeCv(X, y, { alphas });
      alphas.forEach((alpha, a) => {
        let sse = 0;
        for (let i = 0; i < n; i++) {
          const keep = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i);
          const fit = ridgeExact(
            takeRows(X, keep),
            keep.map((j) => y[j]),
            alpha,
          );
          sse += (y[i] - predictRidge(fit, takeRows(X, [i]))[0]) ** 2;
        }
        expect(m.looMse[a]).toBeCloseTo(sse / n, 8);
      });
      const best = ridgeExact(X, y, m.alpha);
      for (let j = 0; j < d; j++) expect(m.coef[j]).toBeCloseTo(best.coef[j], 8);
      expect(m.intercept).toBeCloseTo(best.intercept, 8);
    }
  });
});

/** Ridge with unpenalised intercept by normal equations (Gauss–Jordan), for checking. */
function ridgeExact(X: Mat, y: number[], alpha: number): Parameters<typeof predictRidge>[0] {
  const n = X.rows;
  const d = X.cols;
  const mu = columnMeans(X);
  const Xc = centerRows(X, mu);
  const yb = y.reduce((a, b) => a + b, 0) / n;
  const A = Array.from({ length: d }, (_, a) =>
    Array.from({ length: d + 1 }, (_, b) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += Xc.data[i * d + a] * (b < d ? Xc.data[i * d + b] : y[i] - yb);
      return s + (a === b ? alpha : 0);
    }),
  );
  for (let c = 0; c < d; c++) {
    const piv = A[c][c];
    for (let b = c; b <= d; b++) A[c][b] /= piv;
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = A[r][c];
      for (let b = c; b <= d; b++) A[r][b] -= f * A[c][b];
    }
  }
  const coef = Float64Array.from(A, (row) => row[d]);
  return { coef, intercept: yb - mu.reduce((a, m, j) => a + m * coef[j], 0), alpha, looMse: [], alphas: [] };
}

describe('splitters', () => {
  it('stratified k-fold keeps class shares and covers every row once', () => {
    const labels = [...Array(23).fill('a'), ...Array(11).fill('b'), ...Array(6).fill('c')];
    const fold = stratifiedKFold(labels, 5, 1);
    for (const c of ['a', 'b', 'c']) {
      const per = [0, 1, 2, 3, 4].map((f) => labels.filter((l, i) => l === c && fold[i] === f).length);
      expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1);
    }
    const folds = foldsFromAssignment(fold);
    expect(folds.flatMap((f) => f.test).sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
    expect(Array.from(stratifiedKFold(labels, 5, 1))).toEqual(Array.from(fold)); // deterministic
    expect(() => stratifiedKFold(['a'], 2)).toThrow(/cannot make 2 folds from 1 rows/);
  });

  it('grouped k-fold never splits a group', () => {
    const groups = Array.from({ length: 60 }, (_, i) => `g${i % 13}`);
    const fold = groupKFold(groups, 4, 0);
    const seen = new Map<string, number>();
    groups.forEach((g, i) => {
      if (seen.has(g)) expect(fold[i]).toBe(seen.get(g));
      seen.set(g, fold[i]);
    });
    const sizes = [0, 1, 2, 3].map((f) => Array.from(fold).filter((x) => x === f).length);
    expect(Math.min(...sizes)).toBeGreaterThan(8);
    expect(() => groupKFold(['a', 'b'], 3)).toThrow(/at least 3 groups, got 2/);
  });
});

describe('probes on synthetic data', () => {
  it('linear probe: filtering, folds, per-group accuracy and errors', () => {
    const { X, labels } = blobs(30, ['p', 'q', 'r'], 6, 5);
    const lab: (string | null)[] = [...labels];
    lab[0] = null; // missing label dropped
    for (let i = 60; i < 76; i++) lab[i] = 'rare'; // 16 rows (and 14 'r') → kept at min 10, dropped at min 20
    const per = lab.map((_, i) => (i % 2 ? 'odd' : 'even'));
    const r = runLinearProbe({ X, labels: lab, per }, { cv: 3 });
    expect(r.n_train).toBe(89);
    expect(Object.keys(r.classes)).toEqual(['p', 'q', 'r', 'rare']);
    expect(r.folds?.accuracy).toHaveLength(3);
    expect(r.per_group?.odd.n).toBeGreaterThan(30);
    expect(r.accuracy).toBeGreaterThan(0.5);
    const r20 = runLinearProbe({ X, labels: lab }, { cv: 3, minClassSize: 20 });
    expect(Object.keys(r20.classes)).toEqual(['p', 'q']);
    expect(() => runLinearProbe({ X, labels: lab.map(() => 'one') })).toThrow(
      /at least 2 classes.*one \(90\)/,
    );
    expect(() => runLinearProbe({ X, labels: lab.slice(3) })).toThrow(
      /mismatched lengths: training data has 90 embeddings but 87 labels/,
    );
  });

  it('separability, ratings and map run end to end on small data', () => {
    const h = blobs(30, ['h'], 8, 6).X;
    const a = { ...h, data: h.data.map((v, i) => v + (i % 8 === 0 ? 4 : 0)) };
    const cv = runSeparability(h, a, { pca: [2, 0], cv: 3 });
    expect(cv.results.map((x) => x.k)).toEqual([2, 8]);
    expect(cv.results[1].accuracy).toBeGreaterThan(0.8);
    expect(cv.results[1].folds?.accuracy).toHaveLength(3);
    const split = runSeparability(h, a, { pca: [2] });
    expect(split.mode).toBe('split');
    expect(split.n_test + split.n_train).toBe(60);
    expect(() => runSeparability(h, { ...a, cols: 4, data: a.data.slice(0, 120) })).toThrow(
      /8-d but AI embeddings are 4-d/,
    );
    const y = Array.from({ length: 30 }, (_, i) => a.data[i * 8] * 3 + 1);
    const rr = runRatingsProbe(a, { y }, { cv: 3, score: y });
    expect(rr.ridge.y.spearman_rho).toBeGreaterThan(0.9);
    expect(rr.score?.y.rho).toBeCloseTo(1, 12);
    expect(() => runRatingsProbe(a, { y: y.slice(1) })).toThrow(/30 embeddings but 29 'y' ratings/);
    const pcaMap = runMap([
      { name: 'h', X: h },
      { name: 'a', X: a },
    ]);
    expect(pcaMap.coords.rows).toBe(60);
    expect(pcaMap.centroids.a[0]).toBeGreaterThan(0);
    expect(pcaMap.centroids.a[1]).toBeGreaterThan(0);
    const u1 = runMap(
      [
        { name: 'h', X: h },
        { name: 'a', X: a },
      ],
      { method: 'umap', seed: 3, nNeighbors: 5 },
    );
    const u2 = runMap(
      [
        { name: 'h', X: h },
        { name: 'a', X: a },
      ],
      { method: 'umap', seed: 3, nNeighbors: 5 },
    );
    expect(Array.from(u1.coords.data)).toEqual(Array.from(u2.coords.data)); // fixed seed → same map
    expect(u1.coords.data.every(Number.isFinite)).toBe(true);
  });
});

describe('embedding IO', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emb-'));

  it('reads CSV with a JSON-list column or numbered columns, and .npy with a metadata table', async () => {
    writeFileSync(join(dir, 'a.csv'), 'id,emb,style\n1,"[0.5, 1, -2]",x\n2,"[1, 2, 3]","y, z"\n');
    const a = await loadEmbeddings(join(dir, 'a.csv'), { column: 'emb' });
    expect(a.X.rows).toBe(2);
    expect(Array.from(a.X.data)).toEqual([0.5, 1, -2, 1, 2, 3]);
    expect(labelColumn(a, 'style')).toEqual(['x', 'y, z']);
    const auto = await loadEmbeddings(join(dir, 'a.csv'));
    expect(auto.column).toBe('emb');
    writeFileSync(join(dir, 'b.csv'), 'e_1,e_0,e_10,score\r\n1,2,3,0.5\r\n4,5,6,0.25\r\n');
    const b = await loadEmbeddings(join(dir, 'b.csv'), { column: 'e_*' });
    expect(Array.from(b.X.data)).toEqual([2, 1, 3, 5, 4, 6]);
    expect(Array.from(numberColumn(b, 'score'))).toEqual([0.5, 0.25]);
    writeFileSync(join(dir, 'c.npy'), encodeNpy(Float32Array.from([1, 2, 3, 4]), [2, 2]));
    writeFileSync(join(dir, 'c.csv'), 'label\nq\nr\n');
    const c = await loadEmbeddings(join(dir, 'c.npy'), { metaPath: join(dir, 'c.csv') });
    expect(Array.from(c.X.data)).toEqual([1, 2, 3, 4]);
    expect(labelColumn(c, 'label')).toEqual(['q', 'r']);
    expect(parseCsvTable('a,b\n"x ""q""",2\n').columns.a).toEqual(['x "q"']);
  });

  it('gives clear errors: unknown column, NaN row, mismatched lengths, bad numbers', async () => {
    writeFileSync(join(dir, 'd.csv'), 'id,emb\n7,"[1, 2]"\n8,"[NaN, 2]"\n');
    await expect(loadEmbeddings(join(dir, 'd.csv'), { column: 'vec' })).rejects.toThrow(
      /unknown column 'vec'; available columns: id, emb/,
    );
    await expect(loadEmbeddings(join(dir, 'd.csv'), { column: 'emb' })).rejects.toThrow(
      /row 1 \(id 8\) has a NaN/,
    );
    writeFileSync(join(dir, 'e.csv'), 'emb\n"[1, 2]"\n"[1, 2, 3]"\n');
    await expect(loadEmbeddings(join(dir, 'e.csv'))).rejects.toThrow(
      /row 1 has a 3-d embedding, row 0 has 2-d/,
    );
    writeFileSync(join(dir, 'f.npy'), encodeNpy(Float64Array.from([1, 2, 3, 4, 5, 6]), [3, 2]));
    await expect(loadEmbeddings(join(dir, 'f.npy'), { metaPath: join(dir, 'c.csv') })).rejects.toThrow(
      /mismatched lengths: .*f\.npy has 3 embedding rows but .*c\.csv has 2/,
    );
    writeFileSync(join(dir, 'g.npy'), encodeNpy(Float64Array.from([1, Number.NaN]), [1, 2]));
    await expect(loadEmbeddings(join(dir, 'g.npy'))).rejects.toThrow(
      /row 0 has a NaN or infinite value at dimension 1/,
    );
    writeFileSync(join(dir, 'h.csv'), 'e0,e1,lab\n1,x,a\n');
    await expect(loadEmbeddings(join(dir, 'h.csv'), { column: 'e*' })).rejects.toThrow(
      /row 0, column 'e1': 'x' is not a number/,
    );
    const h = await loadEmbeddings(join(dir, 'a.csv'));
    expect(() => labelColumn(h, 'genre')).toThrow(/unknown column 'genre'; available columns: id, style/);
    expect(() => numberColumn(h, 'style')).toThrow(/column 'style' at row 0 \(id 1\) is not a number/);
    await expect(loadEmbeddings(join(dir, 'nope.parquet'))).rejects.toThrow(/nope\.parquet: cannot read/);
  });
});
