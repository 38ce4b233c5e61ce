/**
 * Test helpers for comparing arrays against reference tensors.
 *
 * @example
 * expect(maxAbsDiff(actual, expected)).toBeLessThan(1e-4);
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { initBackend } from '../../src/core/backend.ts';

/** Largest absolute elementwise difference; throws when lengths differ. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

/** Largest absolute value. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Initialises the wasm backend (the CI default) once per test file. */
export async function useWasm(): Promise<void> {
  await initBackend('wasm');
  expect(tf.getBackend()).toBe('wasm');
}
