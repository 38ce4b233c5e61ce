import * as tf from '@tensorflow/tfjs';
import { type ClipConfig, parseHfConfig } from '../src/core/clip-config.ts';
import { hfConfigJson, randomClipParams } from '../src/core/random-weights.ts';
import { engineFromParams } from '../src/engine/create-engine.ts';
import type { ClipEngine, EngineKind } from '../src/engine/engine.ts';

export interface Timing {
  medianMs: number;
  /** The fastest run: what the code does when nothing else competes for the cores. */
  minMs: number;
  runsMs: number[];
  /** Median CPU time of this process per run (user + system). */
  cpuMedianMs: number;
}

/**
 * Times several workloads with their runs interleaved (a, b, a, b, …), so that load from other processes
 * affects all of them alike and ratios stay meaningful. Each workload runs once untimed first.
 */
export async function timeInterleaved(
  fns: Record<string, () => unknown>,
  runs: number,
): Promise<Record<string, Timing>> {
  const names = Object.keys(fns);
  const wall: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  for (const fn of Object.values(fns)) await fn();
  for (let r = 0; r < runs; r++) {
    for (const name of names) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fns[name]();
      wall[name].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[name].push((c.user + c.system) / 1000);
    }
  }
  return Object.fromEntries(
    Object.keys(fns).map((k) => [
      k,
      {
        medianMs: median(wall[k]),
        minMs: Math.min(...wall[k]),
        runsMs: wall[k],
        cpuMedianMs: median(cpu[k]),
      },
    ]),
  );
}

/** Wall and CPU time of one async call. */
export async function timeOnce(fn: () => Promise<unknown>): Promise<{ ms: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Spread of runs as (max − min) / median; above ~0.15 the machine was probably busy. */
export function spread(t: Timing): number {
  return (Math.max(...t.runsMs) - Math.min(...t.runsMs)) / t.medianMs;
}

export interface MemorySnapshot {
  rssMB: number;
  /** Size of the wasm linear memory (it only grows, so this is the peak so far). */
  wasmHeapMB: number;
  tensorBytesMB: number;
  numTensors: number;
}

/** Process RSS and the wasm heap (memory.buffer, which only grows) at this moment. */
export function memorySnapshot(): MemorySnapshot {
  const m = tf.memory(); // tensor counts; the wasm heap size comes from the backend's module
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.byteLength ?? 0;
  const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  return {
    rssMB: mb(process.memoryUsage().rss),
    wasmHeapMB: mb(heap),
    tensorBytesMB: mb(m.numBytes),
    numTensors: m.numTensors,
  };
}

/** ViT-B/32-shaped config (transformers layout). */
export function b32Config(): ClipConfig {
  return parseHfConfig(hfConfigJson());
}

/**
 * An engine over seeded random weights: the TF.js reference (wasm) or ONNX Runtime compiled into a temporary
 * folder that `dispose` removes.
 */
export function makeEngine(
  kind: EngineKind,
  cfg: ClipConfig,
  seed = 1,
): Promise<{ engine: ClipEngine; dispose(): void }> {
  return engineFromParams(kind, cfg, randomClipParams(cfg, seed));
}

/**
 * Multiply-add FLOPs (2 per multiply-add) of one transformer pass over T tokens, and how much of it is in the
 * weight (linear) products versus the attention products (activation × activation).
 */
export function towerFlops(
  t: { width: number; layers: number; mlpDim: number },
  T: number,
): { linear: number; attention: number } {
  const W = t.width;
  const perLayerLinear = 2 * T * W * (3 * W + W + 2 * t.mlpDim); // qkv, out, fc1, fc2
  const perLayerAttention = 2 * 2 * T * T * W; // scores QKᵀ and context P·V over all heads
  return { linear: t.layers * perLayerLinear, attention: t.layers * perLayerAttention };
}

/** FLOPs of one image forward (patch embedding, tower, projection). */
export function visionForwardFlops(cfg: ClipConfig): number {
  const v = cfg.vision;
  const T = v.grid ** 2 + 1;
  const f = towerFlops(v, T);
  return (
    2 * v.grid ** 2 * 3 * v.patchSize ** 2 * v.width + f.linear + f.attention + 2 * v.width * cfg.embedDim
  );
}

/**
 * FLOPs of one image forward plus the input gradient: the backward pass needs only activation gradients,
 * i.e. one product per weight product (dx = dy·W) and two per attention product (both operands vary).
 */
export function visionGradientFlops(cfg: ClipConfig): number {
  const v = cfg.vision;
  const f = towerFlops(v, v.grid ** 2 + 1);
  const fwd = visionForwardFlops(cfg);
  return fwd + (fwd - f.attention) + 2 * f.attention;
}

/** FLOPs of one prompt through the text tower with L positions. */
export function textForwardFlops(cfg: ClipConfig, L: number): number {
  const f = towerFlops(cfg.text, L);
  return f.linear + f.attention + 2 * cfg.text.width * cfg.embedDim;
}

/** Rounds for tables. */
export function round(x: number, digits = 1): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
