/**
 * Steering benchmark: the robustness curve (smallest budget that flips CLIP's top answer, untargeted, ladder
 * 1–16 /255, 40 sign-gradient steps) of the 18 shared paintings on the golden tiny-b32, per painting and per
 * dimension (style, century, origin), timed per painting. The model is tiny and random, so the budgets are
 * meaningless; the timings measure the pipeline (decode, crop, batched projected ascent with flip checks).
 * `--quick`: 3 paintings, 10 steps.
 *
 * @example
 * const res = await benchSteer({ quick: false, log: console.log });
 * res.rows[0]; // { painting: 'botticelli-…jpg', seconds: 1.2, gradientRows: 150, smallest255: { style: 1, … } }
 */
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadClip } from '../src/core/clip.ts';
import { cacheRoot } from '../src/engine/create-engine.ts';
import type { EngineKind } from '../src/engine/engine.ts';
import { resolveSuites, selectDimensions } from '../src/probe/suites.ts';
import { prepareDimensions } from '../src/steer/answers.ts';
import { DEFAULT_EPSILONS, paintingRobustness } from '../src/steer/robustness.ts';
import { median, round } from './common.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface SteerBenchRow {
  painting: string;
  /** Wall seconds for this painting: decode, crop, and the curves of every dimension. */
  seconds: number;
  /** Gradient rows (image × budget × step) pushed through the engine for this painting. */
  gradientRows: number;
  /** Smallest flipping budget ×255 per dimension (null: none up to 16/255). */
  smallest255: Record<string, number | null>;
}

export interface SteerBenchResult {
  engine: string;
  model: string;
  dimensions: string[];
  steps: number;
  epsilons255: number[];
  rows: SteerBenchRow[];
  medianSeconds: number;
}

/**
 * Runs the steering benchmark and returns one row per painting.
 *
 * @example
 * const { rows, medianSeconds } = await benchSteer({ quick: true, engine: 'tfjs' });
 */
export async function benchSteer(o: {
  quick: boolean;
  engine?: EngineKind;
  /** Model folder or hub id (default: the golden tiny-b32). */
  model?: string;
  log?: (s: string) => void;
}): Promise<SteerBenchResult> {
  const shared = resolve(process.env.ARTPROBE_SHARED ?? join(repo, '..', 'shared'));
  const model = o.model ?? join(shared, 'golden', 'models', 'tiny-b32');
  const folder = join(shared, 'paintings');
  let paintings = readdirSync(folder)
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort()
    .map((f) => join(folder, f));
  if (o.quick) paintings = paintings.slice(0, 3);
  const steps = o.quick ? 10 : 40;
  const dims = ['style', 'century', 'origin'];
  // compiled ONNX graphs go to the cache, never beside the shared model
  const clip = await loadClip(model, { engine: o.engine, cacheDir: join(cacheRoot(), 'onnx') });
  try {
    const probes = await prepareDimensions(clip, selectDimensions(await resolveSuites(), dims));
    const res = await paintingRobustness(clip, paintings, probes, { steps }, (done, total, row) =>
      o.log?.(`  steer ${done}/${total} ${row.image.split('/').pop()} ${row.seconds.toFixed(2)} s`),
    );
    const rows = res.map((r) => ({
      painting: r.image.split('/').pop() ?? r.image,
      seconds: round(r.seconds, 3),
      gradientRows: r.curves.reduce((a, c) => a + c.gradientRows, 0),
      smallest255: Object.fromEntries(
        r.curves.map((c) => [
          c.dimension,
          c.smallestEpsilon === null ? null : round(c.smallestEpsilon * 255, 3),
        ]),
      ),
    }));
    return {
      engine: clip.engine.description,
      model: clip.id,
      dimensions: dims,
      steps,
      epsilons255: DEFAULT_EPSILONS.map((e) => round(e * 255, 3)),
      rows,
      medianSeconds: round(median(rows.map((r) => r.seconds)), 3),
    };
  } finally {
    clip.dispose();
  }
}
