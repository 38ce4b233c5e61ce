/**
 * The work of `artprobe steer` (options are declared in `../commands/steer.ts`). Engine-agnostic: gradients
 * come from `clip.engine.inputGradients` (ONNX Runtime or TF.js, as `--engine` chooses).
 *
 * steer.json: `{"model", "engine", "runs": [{"image", "target", "epsilon", "score": {"before", "after",
 * "after_8bit", "after_painting"}, "zero_shot": {dim: {"before", "after", "after_8bit", "after_painting",
 * "flipped", "flipped_painting"}}, "change": {"input": {"linf", "psnr", "ssim"}, "painting": {…}}, "files"}]}`;
 * robustness.json: `{"model", "engine", "epsilons", "steps", "rows": [{"image", "seconds", "dimensions":
 * {dim: {"top_before", "smallest_epsilon", "smallest_epsilon_255", "curve": [{"epsilon_255", "flipped", "step",
 * "top_after", "psnr"}]}}}], "summary": {dim: {"flipped", "median_smallest_epsilon_255"}}}`.
 *
 * @example
 * await runSteer({ model: 'M', image: ['a.png'], toward: 'a red circle', epsilon: 4 / 255, steps: 40, suite: [],
 *   top: 3, out: 'out' });
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadClip } from '../../core/clip.ts';
import { formatTable } from '../../probe/report.ts';
import { resolveSuites, selectDimensions } from '../../probe/suites.ts';
import { prepareDimensions } from '../../steer/answers.ts';
import { DEFAULT_EPSILONS, type PaintingRobustness, paintingRobustness } from '../../steer/robustness.ts';
import { type SteerJson, steerPainting, writeSteer } from '../../steer/steer.ts';

/** Options of `artprobe steer`, as commander parses them. */
export interface SteerCliOptions {
  model: string;
  image: string[];
  toward?: string;
  away?: string;
  labels?: string;
  epsilon: number;
  steps: number;
  stepSize?: number;
  dimension?: string[];
  epsilons?: number[];
  suite: string[];
  top: number;
  out: string;
  json?: boolean;
  quiet?: boolean;
}

const r255 = (e: number | null) => (e === null ? null : Number((e * 255).toPrecision(4)));

/**
 * The JSON rows of robustness curves.
 *
 * @example
 * robustnessJson(rows).summary.style.median_smallest_epsilon_255;
 */
export function robustnessJson(rows: PaintingRobustness[]): {
  rows: unknown[];
  summary: Record<string, { paintings: number; flipped: number; median_smallest_epsilon_255: number | null }>;
} {
  const summary: Record<
    string,
    { paintings: number; flipped: number; median_smallest_epsilon_255: number | null }
  > = {};
  const dims = rows[0]?.curves.map((c) => c.dimension) ?? [];
  for (const d of dims) {
    // unflipped paintings count as +∞ in the median
    const eps = rows
      .map((r) => r.curves.find((c) => c.dimension === d)?.smallestEpsilon ?? null)
      .map((e) => (e === null ? Number.POSITIVE_INFINITY : e))
      .sort((a, b) => a - b);
    const mid = eps.length ? eps[Math.floor((eps.length - 1) / 2)] : Number.POSITIVE_INFINITY;
    summary[d] = {
      paintings: eps.length,
      flipped: eps.filter(Number.isFinite).length,
      median_smallest_epsilon_255: Number.isFinite(mid) ? r255(mid) : null,
    };
  }
  return {
    rows: rows.map((r) => ({
      image: r.image,
      seconds: Number(r.seconds.toFixed(3)),
      dimensions: Object.fromEntries(
        r.curves.map((c) => [
          c.dimension,
          {
            top_before: c.topBefore,
            probability_before: c.probabilityBefore,
            smallest_epsilon: c.smallestEpsilon,
            smallest_epsilon_255: r255(c.smallestEpsilon),
            gradient_rows: c.gradientRows,
            curve: c.curve.map((p) => ({
              epsilon: p.epsilon,
              epsilon_255: r255(p.epsilon),
              flipped: p.flipped,
              step: p.step,
              top_after: p.topAfter,
              original_probability_after: p.originalProbabilityAfter,
              psnr: Number.isFinite(p.psnr) ? Number(p.psnr.toFixed(3)) : null,
            })),
          },
        ]),
      ),
    })),
    summary,
  };
}

/**
 * Runs `artprobe steer`.
 *
 * @example
 * await runSteer(options);
 */
export async function runSteer(o: SteerCliOptions): Promise<void> {
  const curveMode = o.toward === undefined;
  if (curveMode && !o.dimension?.length) {
    throw new Error(
      'steer: give --toward PROMPT (steer toward it) or --dimension NAME... (robustness curves)',
    );
  }
  if (curveMode && (o.away !== undefined || o.labels !== undefined))
    throw new Error('steer: --away and --labels need --toward');
  if (o.stepSize !== undefined && !(o.stepSize > 0))
    throw new Error(`--step-size must be positive, got ${o.stepSize}`);
  const labels = o.labels?.split(',').map((s) => s.trim());
  if (labels && (labels.length < 2 || labels.some((l) => !l))) {
    throw new Error(`--labels needs at least two non-empty labels separated by commas, got "${o.labels}"`);
  }
  const suites = await resolveSuites(o.suite);
  const dims = selectDimensions(suites, o.dimension);
  const clip = await loadClip(o.model);
  const log = (s: string) => {
    if (!o.quiet && !o.json) process.stderr.write(s);
  };
  try {
    const probes = await prepareDimensions(clip, dims);
    await mkdir(o.out, { recursive: true });
    if (curveMode) {
      const epsilons = o.epsilons ?? [...DEFAULT_EPSILONS];
      const rows = await paintingRobustness(
        clip,
        o.image,
        probes,
        { epsilons, steps: o.steps, stepFraction: o.stepSize },
        (done, total, row) => log(`steer: ${done}/${total} ${row.image} (${row.seconds.toFixed(1)} s)\n`),
      );
      const json = {
        model: clip.id,
        engine: clip.engine.description,
        epsilons,
        epsilons_255: epsilons.map(r255),
        steps: o.steps,
        step_fraction: o.stepSize ?? 2.5 / o.steps,
        mode: 'untargeted: minus the probability of the current top label; a flip is any other top label',
        ...robustnessJson(rows),
      };
      const text = `${JSON.stringify(json, null, 2)}\n`;
      await writeFile(join(o.out, 'robustness.json'), text);
      if (o.json) {
        process.stdout.write(text);
        return;
      }
      const names = probes.map((p) => p.name);
      process.stdout.write(
        `smallest flipping budget (×255; '>' = none up to ${r255(Math.max(...epsilons))}):\n${formatTable(
          ['painting', ...names, 'seconds'],
          rows.map((r) => [
            r.image.split('/').pop() ?? r.image,
            ...r.curves.map((c) =>
              c.smallestEpsilon === null
                ? `>${r255(Math.max(...epsilons))}`
                : `${r255(c.smallestEpsilon)} (${c.topBefore} → ${c.curve.find((p) => p.epsilon === c.smallestEpsilon)?.topAfter})`,
            ),
            r.seconds,
          ]),
        )}\n\nwrote ${join(o.out, 'robustness.json')}\n`,
      );
      return;
    }
    const runs: SteerJson[] = [];
    for (const image of o.image) {
      const res = await steerPainting(clip, image, {
        toward: o.toward as string,
        away: o.away,
        labels,
        epsilon: o.epsilon,
        steps: o.steps,
        stepFraction: o.stepSize,
        probes,
        topK: o.top,
      });
      runs.push(await writeSteer(o.out, res));
      log(`steer: ${image} (${res.seconds.toFixed(1)} s)\n`);
    }
    const json = { model: clip.id, engine: clip.engine.description, runs };
    const text = `${JSON.stringify(json, null, 2)}\n`;
    await writeFile(join(o.out, 'steer.json'), text);
    if (o.json) {
      process.stdout.write(text);
      return;
    }
    for (const r of runs) {
      process.stdout.write(
        `${r.image}: ${r.target_text} at ε = ${r.epsilon_255}/255, ${r.steps} steps\n` +
          `score ${r.score.before} → ${r.score.after} (8-bit ${r.score.after_8bit}, painting ${r.score.after_painting}); ` +
          `PSNR ${r.change.input.psnr} dB, SSIM ${r.change.input.ssim} (painting: ${r.change.painting.psnr} dB, ${r.change.painting.ssim})\n` +
          `${formatTable(
            ['dimension', 'before', 'after', 'after (8-bit)', 'after (painting)'],
            Object.entries(r.zero_shot).map(([d, a]) => [
              d,
              a.before.top,
              `${a.after.top}${a.flipped ? ' *' : ''}`,
              a.after_8bit.top,
              `${a.after_painting.top}${a.flipped_painting ? ' *' : ''}`,
            ]),
          )}\n\n`,
      );
    }
    process.stdout.write(`wrote ${join(o.out, 'steer.json')} (* = the top answer changed)\n`);
  } finally {
    clip.dispose();
  }
}
