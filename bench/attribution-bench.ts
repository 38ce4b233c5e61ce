/**
 * Attribution benchmark (issue 3): seconds for one image × 8 prompts with every method, and the occlusion
 * cost of 8 prompts relative to 1 (it scores all prompts in the same forward passes, so it should be ~1).
 * Prompts are random text embeddings, so no tokenizer is needed.
 *
 * @example
 * const res = await benchAttribution(engine, cfg, { quick: false });
 */
import { getMethod } from '../src/attribution/registry.ts';
import type { PreparedTarget } from '../src/attribution/target.ts';
import type { AttributionInput, MethodId } from '../src/attribution/types.ts';
import { createRng } from '../src/attribution/utils.ts';
import type { ClipConfig } from '../src/core/clip-config.ts';
import type { ClipEngine } from '../src/engine/engine.ts';
import { timeOnce } from './common.ts';
import { engineLabel, randomTarget } from './model-bench.ts';

export interface AttributionRow {
  method: MethodId;
  params: Record<string, unknown>;
  prompts: number;
  seconds: number;
  cpuSeconds: number;
  /** Forward(+backward) image rows the method pushes through the model for these prompts. */
  note: string;
}

export interface AttributionResult {
  /** `onnx` or `tfjs-wasm`. */
  engine: string;
  rows: AttributionRow[];
  occlusion8over1: number;
  occlusion8over1Cpu: number;
}

/** Full-size parameters (issue 3) and the reduced ones used by --quick. */
function methodPlan(quick: boolean): { id: MethodId; params: Record<string, unknown>; note: string }[] {
  return [
    { id: 'gradient', params: {}, note: '8 gradient rows' },
    { id: 'gradient-x-input', params: {}, note: '8 gradient rows' },
    {
      id: 'smoothgrad',
      params: { samples: quick ? 2 : 16 },
      note: `${quick ? 16 : 128} gradient rows + 1 forward`,
    },
    {
      id: 'integrated-gradients',
      params: { steps: quick ? 4 : 32 },
      note: `${quick ? 32 : 256} gradient rows + 2 forward`,
    },
    { id: 'rollout', params: {}, note: '2 forward rows' },
    { id: 'chefer-last', params: {}, note: '8 attention-gradient rows' },
    { id: 'chefer-all', params: {}, note: '8 attention-gradient rows' },
    { id: 'occlusion', params: {}, note: '1 + 49 forward rows (7×7 cells)' },
    { id: 'legrad', params: {}, note: '8 rows: forward + 2 one-block readout backward passes' },
    { id: 'grad-eclip', params: {}, note: '8 rows: forward + last block recomputed, CLS backward' },
  ];
}

export async function benchAttribution(
  model: ClipEngine,
  cfg: ClipConfig,
  o: { quick: boolean; log?: (s: string) => void },
): Promise<AttributionResult> {
  const S = cfg.vision.imageSize;
  const rng = createRng(11);
  const input: AttributionInput = {
    model,
    pixels: Float32Array.from({ length: 3 * S * S }, () => rng.normal()),
  };
  const targets: PreparedTarget[] = Array.from({ length: 8 }, (_, i) =>
    randomTarget(cfg, 100 + i, `random prompt ${i}`),
  );
  const run = async (id: MethodId, params: Record<string, unknown>, ts: PreparedTarget[]) => {
    const m = getMethod(id);
    let maps: Awaited<ReturnType<typeof m.attributeMany>> = [];
    const t = await timeOnce(async () => {
      maps = await m.attributeMany(input, ts, m.resolveParams(params));
    });
    if (maps.length !== ts.length || maps.some((mp) => !mp.values.every(Number.isFinite))) {
      throw new Error(`${id}: bad maps (${maps.length} for ${ts.length} prompts or non-finite values)`);
    }
    return { seconds: t.ms / 1000, cpuSeconds: t.cpuMs / 1000 };
  };
  const rows: AttributionRow[] = [];
  await run('gradient', {}, targets.slice(0, 1)); // warm-up of the gradient path
  for (const { id, params, note } of methodPlan(o.quick)) {
    const t = await run(id, params, targets);
    rows.push({ method: id, params, prompts: targets.length, ...t, note });
    o.log?.(
      `  ${id} ${JSON.stringify(params)}: ${t.seconds.toFixed(2)} s (CPU ${t.cpuSeconds.toFixed(2)} s) for ${targets.length} prompts`,
    );
  }
  // occlusion, 8 prompts vs 1: interleaved repeats, fastest of each, so a load spike does not decide the ratio
  const occ8 = rows.find((r) => r.method === 'occlusion') as AttributionRow;
  const occ1 = await run('occlusion', {}, targets.slice(0, 1));
  if (!o.quick) {
    const again8 = await run('occlusion', {}, targets);
    const again1 = await run('occlusion', {}, targets.slice(0, 1));
    for (const [a, b] of [
      [occ8, again8],
      [occ1, again1],
    ]) {
      a.seconds = Math.min(a.seconds, b.seconds);
      a.cpuSeconds = Math.min(a.cpuSeconds, b.cpuSeconds);
    }
  }
  rows.push({
    method: 'occlusion',
    params: {},
    prompts: 1,
    ...occ1,
    note: '1 + 49 forward rows (7×7 cells)',
  });
  o.log?.(
    `  occlusion, 1 prompt: ${occ1.seconds.toFixed(2)} s (CPU ${occ1.cpuSeconds.toFixed(2)} s)${o.quick ? '' : ', fastest of 2'}`,
  );
  return {
    engine: engineLabel(model),
    rows,
    occlusion8over1: occ8.seconds / occ1.seconds,
    occlusion8over1Cpu: occ8.cpuSeconds / occ1.cpuSeconds,
  };
}
