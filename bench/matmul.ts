/**
 * Matmul throughput of the active backend on 2-D, non-transposed operands of CLIP-like sizes (the wasm fast
 * path), plus one transposed and one batched product for contrast. The best fast-path figure is the reference
 * the model workloads are compared against.
 *
 * @example
 * const mm = measureMatmul({ runs: 5 }); // mm.peakGflops
 */
import * as tf from '@tensorflow/tfjs';

export interface MatmulCase {
  name: string;
  /** [M, K] × [K, N] (or the batched/transposed variant named in `name`) */
  shape: string;
  gflops: number;
  ms: number;
  fastPath: boolean;
}

export interface MatmulResult {
  cases: MatmulCase[];
  /** Best GFLOP/s among the fast-path cases. */
  peakGflops: number;
}

function timeProduct(a: tf.Tensor, b: tf.Tensor, transposeB: boolean, runs: number): number {
  const once = () =>
    tf.tidy(() => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, transposeB)).dispose();
  once(); // warm-up: weight packing
  once();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    once();
    ms.push(performance.now() - t0);
  }
  return Math.min(...ms); // throughput is a best case: the fastest run is the least disturbed by other processes
}

/** Measures each case `runs` times (fastest run) after two warm-up products. */
export function measureMatmul(o: { runs: number }): MatmulResult {
  const specs: { name: string; a: number[]; b: number[]; transposeB?: boolean; fast: boolean }[] = [
    { name: 'fc1, 8 images', a: [400, 768], b: [768, 3072], fast: true },
    { name: 'fc2, 8 images', a: [400, 3072], b: [3072, 768], fast: true },
    { name: 'qkv, 8 images', a: [400, 768], b: [768, 2304], fast: true },
    { name: 'fc1, 1 image', a: [50, 768], b: [768, 3072], fast: true },
    { name: 'fc1, 8 images, transposeB', a: [400, 768], b: [3072, 768], transposeB: true, fast: false },
    { name: 'attention scores, 8×12 heads', a: [96, 50, 64], b: [96, 50, 64], transposeB: true, fast: false },
  ];
  const cases = specs.map((s) => {
    const a = tf.randomNormal(s.a);
    const b = tf.randomNormal(s.b);
    const ms = timeProduct(a, b, !!s.transposeB, o.runs);
    a.dispose();
    b.dispose();
    const [M, K] = s.a.length === 3 ? [s.a[0] * s.a[1], s.a[2]] : s.a;
    const N = s.b.length === 3 ? s.b[1] : s.transposeB ? s.b[0] : s.b[1];
    const shape = `[${s.a}]×[${s.b}]${s.transposeB ? 'ᵀ' : ''}`;
    return { name: s.name, shape, ms, gflops: (2 * M * K * N) / (ms * 1e6), fastPath: s.fast };
  });
  return { cases, peakGflops: Math.max(...cases.filter((c) => c.fastPath).map((c) => c.gflops)) };
}
