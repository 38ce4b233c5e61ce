/**
 * Model benchmark (issue 2): image forward, forward + input gradient and text forward of a ViT-B/32-shaped
 * model with random weights, each as ms per item and as a fraction of the measured matmul throughput.
 *
 * @example
 * const rows = await benchModel(model, cfg, { runs: 3, peakGflops: 44 });
 */
import * as tf from '@tensorflow/tfjs';
import { prepareTarget } from '../src/attribution/target.ts';
import { createRng, inputGradients, stackPixels } from '../src/attribution/utils.ts';
import type { ClipConfig } from '../src/core/clip-config.ts';
import type { ClipEngine, EngineKind } from '../src/engine/engine.ts';
import {
  spread,
  textForwardFlops,
  timeInterleaved,
  visionForwardFlops,
  visionGradientFlops,
} from './common.ts';

export interface ModelRow {
  /** `onnx` or `tfjs-wasm`. */
  engine: string;
  workload: string;
  batch: number;
  /** Median and fastest ms per image / prompt. */
  msPerItem: number;
  minMsPerItem: number;
  /** Median CPU time per image / prompt. */
  cpuMsPerItem: number;
  /** Wall ms of each whole call. */
  runsMs: number[];
  gflopPerItem: number;
  /** Achieved GFLOP/s (median) ÷ peak matmul GFLOP/s. */
  fractionOfMatmul: number;
  /** (max − min) / median of the runs. */
  spread: number;
}

/** Normalised random image(s) [B, 3, S, S] (same image repeated). */
function randomImages(B: number, S: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const img = Float32Array.from({ length: 3 * S * S }, () => rng.normal());
  return stackPixels(Array(B).fill(img), S);
}

/** Token ids [B, C] with prompts of `len` tokens (SOT, random words, EOT) and their EOT positions. */
export function randomPrompts(cfg: ClipConfig, B: number, lengths: number[], seed: number) {
  const { contextLength: C, eotTokenId, vocabSize } = cfg.text;
  const rng = createRng(seed);
  const ids = new Int32Array(B * C);
  const eot = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const len = lengths[b % lengths.length];
    ids[b * C] = 49406 % vocabSize;
    for (let i = 1; i < len - 1; i++) ids[b * C + i] = Math.floor(rng.uniform() * 40000);
    ids[b * C + len - 1] = eotTokenId;
    eot[b] = len - 1;
  }
  return { ids, eot };
}

/** A prompt target with a random text direction. */
export function randomTarget(cfg: ClipConfig, seed: number, prompt = 'random') {
  const rng = createRng(seed);
  return prepareTarget({ kind: 'prompt', prompt }, [
    Float32Array.from({ length: cfg.embedDim }, () => rng.normal()),
  ]);
}

/** The engine's name in results: `onnx` or `tfjs-<backend>`. */
export function engineLabel(engine: ClipEngine): EngineKind | string {
  return engine.kind === 'tfjs' ? `tfjs-${tf.getBackend()}` : engine.kind;
}

/**
 * Times every workload on every engine; each workload's runs are interleaved across the engines (a, b, a, b, …),
 * so load from other processes affects the engines alike and their ratios stay meaningful.
 */
export async function benchModel(
  engines: ClipEngine[],
  cfg: ClipConfig,
  o: { runs: number; heavyRuns: number; peakGflops: number; log?: (s: string) => void },
): Promise<ModelRow[]> {
  const S = cfg.vision.imageSize;
  const rows: ModelRow[] = [];
  // workloads timed together are interleaved; each entry: [engine, name, batch, FLOPs per item, fn]
  type Item = [ClipEngine, string, number, number, () => Promise<unknown>];
  const group = async (runs: number, items: Item[]) => {
    for (const [, , , , fn] of items) await fn(); // first calls compile graphs / make cached backward weights
    const kept = tf.memory().numTensors;
    const key = (e: ClipEngine, name: string) => `${engineLabel(e)}: ${name}`;
    const times = await timeInterleaved(
      Object.fromEntries(items.map(([e, name, , , fn]) => [key(e, name), fn])),
      runs,
    );
    if (tf.memory().numTensors !== kept)
      throw new Error(`${items[0][1]}: ${tf.memory().numTensors - kept} tensors leaked`);
    for (const [e, name, batch, flops] of items) {
      const t = times[key(e, name)];
      const msPerItem = t.medianMs / batch;
      rows.push({
        engine: engineLabel(e),
        workload: name.replace(/ \(batch \d+\)$/, ''),
        batch,
        msPerItem,
        minMsPerItem: t.minMs / batch,
        cpuMsPerItem: t.cpuMedianMs / batch,
        runsMs: t.runsMs,
        gflopPerItem: flops / 1e9,
        fractionOfMatmul: flops / (msPerItem * 1e6) / o.peakGflops,
        spread: spread(t),
      });
      const runsText = t.runsMs.map((x) => (x / batch).toFixed(0)).join(', ');
      o.log?.(
        `  ${key(e, name)}: ${msPerItem.toFixed(0)} ms/item (runs ${runsText}; CPU ${(t.cpuMedianMs / batch).toFixed(0)})`,
      );
    }
  };
  const target = randomTarget(cfg, 7);
  for (const B of [1, 8]) {
    const x = randomImages(B, S, B);
    await group(
      B === 1 ? o.runs : o.heavyRuns,
      engines.flatMap((engine): Item[] => [
        [engine, `image forward (batch ${B})`, B, visionForwardFlops(cfg), () => engine.embedImages(x, B)],
        [
          engine,
          `image forward + input gradient (batch ${B})`,
          B,
          visionGradientFlops(cfg),
          () => inputGradients(engine, x, Array(B).fill(target)),
        ],
      ]),
    );
  }
  // 8 typical prompts of 6–10 tokens (the tower runs on max(EOT)+1 = 10 positions), and the full context
  const short = randomPrompts(cfg, 8, [8, 6, 10, 7, 9, 8, 7, 9], 3);
  const full = randomPrompts(cfg, 8, [cfg.text.contextLength], 4);
  const L = Math.max(...short.eot) + 1;
  const C = cfg.text.contextLength;
  await group(
    o.runs,
    engines.flatMap((engine): Item[] => [
      [
        engine,
        `text forward, ~8 tokens (${L} positions)`,
        8,
        textForwardFlops(cfg, L),
        () => engine.embedTexts(short.ids, short.eot),
      ],
      [
        engine,
        `text forward, full ${C} context`,
        8,
        textForwardFlops(cfg, C),
        () => engine.embedTexts(full.ids, full.eot),
      ],
    ]),
  );
  return rows;
}
