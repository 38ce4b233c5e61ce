/**
 * Kernel-time profile of one model workload (tf.profile), aggregated by kernel name and input shapes.
 * Usage: npx tsx bench/profile.ts [forward|gradient|text] [batch]
 *
 * @example
 * npx tsx bench/profile.ts gradient 8
 */
import * as tf from '@tensorflow/tfjs';
import { inputGradients, stackPixels } from '../src/attribution/utils.ts';
import { initBackend } from '../src/core/backend.ts';
import { ClipModel } from '../src/core/clip-model.ts';
import { randomClipParams } from '../src/core/random-weights.ts';
import { tidyRead } from '../src/core/tidy-read.ts';
import { TfjsEngine } from '../src/engine/tfjs-engine.ts';
import { b32Config } from './common.ts';
import { randomPrompts, randomTarget } from './model-bench.ts';
import { formatTable } from './report.ts';

const [what = 'gradient', bArg = '8'] = process.argv.slice(2);
const B = Number(bArg);
await initBackend('wasm');
const cfg = b32Config();
const model = ClipModel.fromParams(cfg, randomClipParams(cfg, 1));
const engine = new TfjsEngine(model);
const S = cfg.vision.imageSize;
const x = stackPixels(Array(B).fill(new Float32Array(3 * S * S).map(() => Math.random())), S);
const target = randomTarget(cfg, 1);
const prompts = randomPrompts(cfg, B, [77], 1);
const work: Record<string, () => unknown> = {
  forward: () => engine.embedImages(x, B),
  gradient: () => inputGradients(engine, x, Array(B).fill(target)),
  text: () => void tidyRead(() => model.forwardText(prompts.ids, prompts.eot, { fullContext: true }).embeds),
};
const fn = work[what];
if (!fn) throw new Error(`unknown workload ${what} (forward, gradient, text)`);
await fn();
const t0 = performance.now();
await fn();
const wall = performance.now() - t0;
const t1 = performance.now();
const prof = await tf.profile(async () => {
  await fn();
});
const wallProfiled = performance.now() - t1;
const agg = new Map<string, { ms: number; n: number }>();
let total = 0;
for (const k of prof.kernels) {
  const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('')}`;
  const a = agg.get(key) ?? { ms: 0, n: 0 };
  a.ms += k.kernelTimeMs as number;
  a.n++;
  if (k.name !== 'forward') total += k.kernelTimeMs as number; // customGrad's 'forward' nests its kernels
  agg.set(key, a);
}
const byName = new Map<string, number>();
for (const k of prof.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (k.kernelTimeMs as number));
console.log(
  `${what} batch ${B}: wall ${wall.toFixed(0)} ms (unprofiled), ${wallProfiled.toFixed(0)} ms profiled, of which kernels ${total.toFixed(0)} ms in ${prof.kernels.length} calls`,
);
console.log(
  formatTable(
    ['kernel', 'ms', '%'],
    [...byName]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([k, ms]) => [k, Math.round(ms), `${((100 * ms) / total).toFixed(1)}%`]),
  ),
);
console.log(
  formatTable(
    ['kernel and input shapes', 'calls', 'ms', '%'],
    [...agg]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 30)
      .map(([k, v]) => [k, v.n, Math.round(v.ms), `${((100 * v.ms) / total).toFixed(1)}%`]),
  ),
);
engine.dispose();
