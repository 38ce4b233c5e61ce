/**
 * The toy reproduction suite (used by test/attribution/toy-metrics-*.test.ts): artprobe's own maps on the toy CLIP (trained on painted shapes) reproduce the PyTorch reference metric table
 * (toy/A/saliency/metrics.json): pointing game (box), energy pointing game, AUROC and IoU@k (mask) per method,
 * within ±0.03,
 * and the reference maps themselves (grid maps for all 298 pairs, pixel maps for the first 16). LeGrad and
 * Grad-ECLIP reproduce toy/A/saliency/metrics_sota.json (pointing, energy, AUROC, IoU@k and the contrastive pointing
 * game) within ±0.01, scored on each method's official final map, and maps_sota.safetensors.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getMethod } from '../../src/attribution/registry.ts';
import { prepareTargets } from '../../src/attribution/target.ts';
import type { AttributionMap } from '../../src/attribution/types.ts';
import { minMaxNormalise } from '../../src/attribution/utils.ts';
import { type Clip, loadClip } from '../../src/core/clip.ts';
import { resizeBilinear } from '../../src/core/resize-map.ts';
import { SafetensorsFile } from '../../src/core/safetensors.ts';
import {
  auroc,
  contrastivePointing,
  energyPointingGame,
  iouTopK,
  type PixelBox,
  pointingGame,
  summarizeContrastive,
} from '../../src/regions/metrics.ts';
import { describeShared, sharedPath } from './shared-data.ts';
import { maxAbs, maxAbsDiff, useWasm } from './tensors.ts';
import { loadToyPairs, type ToyPair } from './toy.ts';

const S = 224;
/** artprobe method id → reference name (metrics.json key, maps.safetensors name). */
const METHODS = {
  gradient: { metrics: 'gradient', map: 'gradient_first16' },
  'gradient-x-input': { metrics: 'grad_x_input', map: 'grad_x_input_first16' },
  'integrated-gradients': { metrics: 'integrated_gradients', map: 'integrated_gradients_first16' },
  rollout: { metrics: 'attention_rollout', map: 'attention_rollout' },
  'chefer-last': { metrics: 'chefer2021', map: 'chefer2021' },
  'chefer-all': { metrics: 'chefer2021_all_layers', map: 'chefer2021_all_layers' },
  occlusion: { metrics: 'occlusion', map: 'occlusion' },
} as const;

/** Defines the toy reproduction suite on one engine (one test file per engine, so the two can run in parallel). */
export function defineToyMetricsSuite(engine: 'tfjs' | 'onnx'): void {
  describeShared(
    `toy CLIP on ${engine}: artprobe maps reproduce the reference metric table`,
    ['toy/A'],
    () => {
      let clip: Clip;
      let pairs: ToyPair[];
      let boxes: PixelBox[];
      let masks: Uint8Array[];
      let reference: Record<string, { pointing: number; energy: number; auroc: number; iou_topk: number }>;
      let refMaps: SafetensorsFile;
      const report: string[] = [];

      beforeAll(async () => {
        await useWasm();
        clip = await loadClip(sharedPath('toy/A/model'), { engine });
        ({ pairs, boxes, masks } = await loadToyPairs());
        reference = JSON.parse(readFileSync(sharedPath('toy/A/saliency/metrics.json'), 'utf8')).methods;
        refMaps = await SafetensorsFile.open(sharedPath('toy/A/saliency/maps.safetensors'));
      });
      afterAll(() => {
        console.log(`toy metrics on ${engine} (ours vs reference):\n${report.join('\n')}`);
        clip?.dispose();
      });

      /** Our maps for every pair, grouped by image so each method handles an image's captions together. */
      async function mapsFor(
        id: keyof typeof METHODS | 'legrad' | 'grad-eclip',
        params: Record<string, unknown>,
      ): Promise<AttributionMap[]> {
        const method = getMethod(id);
        const resolved = method.resolveParams(params);
        const out: AttributionMap[] = new Array(pairs.length);
        const byImage = new Map<string, number[]>();
        pairs.forEach((p, i) => byImage.set(p.src, [...(byImage.get(p.src) ?? []), i]));
        for (const [src, idx] of byImage) {
          const [pre] = await clip.preprocess([sharedPath('toy/A/eval', src)]);
          const targets = await prepareTargets(
            clip,
            idx.map((i) => ({ kind: 'prompt' as const, prompt: pairs[i].text })),
          );
          const maps = await method.attributeMany(
            { model: clip.engine, pixels: pre.pixelValues },
            targets,
            resolved,
          );
          idx.forEach((i, k) => {
            out[i] = maps[k];
          });
        }
        return out;
      }

      const cases: [keyof typeof METHODS, Record<string, unknown>][] = [
        ['gradient', {}],
        ['gradient-x-input', {}],
        ['integrated-gradients', { steps: 32, batch: 16 }],
        ['rollout', {}],
        ['chefer-last', {}],
        ['chefer-all', {}],
        ['occlusion', { batch: 49 }],
      ];
      for (const [id, params] of cases) {
        it(`${id}: pointing game, energy pointing game, AUROC and IoU@k within ±0.03 of the reference; maps match`, async () => {
          const maps = await mapsFor(id, params);
          const sums = { pointing: 0, energy: 0, auroc: 0, iou_topk: 0 };
          maps.forEach((m, i) => {
            const up = resizeBilinear(m.values, m.grid.rows, m.grid.cols, S, S);
            sums.pointing += pointingGame(up, S, S, boxes[i]);
            sums.energy += energyPointingGame(up, masks[i]);
            sums.auroc += auroc(up, masks[i]);
            sums.iou_topk += iouTopK(up, masks[i]);
          });
          const ref = reference[METHODS[id].metrics];
          const keys = ['pointing', 'energy', 'auroc', 'iou_topk'] as const;
          report.push(
            `${id.padEnd(21)} ${keys.map((k) => `${k} ${(sums[k] / maps.length).toFixed(4)} (ref ${ref[k].toFixed(4)})`).join('  ')}`,
          );
          for (const k of keys) expect(Math.abs(sums[k] / maps.length - ref[k]), k).toBeLessThanOrEqual(0.03);
          // the maps themselves: all 298 grid maps, or the 16 stored pixel maps
          const refName = METHODS[id].map;
          const ref3 = refMaps.getFloat32(refName);
          const n = ref3.shape[0];
          const per = ref3.data.length / n;
          let worst = 0;
          for (let i = 0; i < n; i++) {
            const r = ref3.data.subarray(i * per, (i + 1) * per);
            worst = Math.max(worst, maxAbsDiff(maps[i].values, r) / maxAbs(r));
          }
          report[report.length - 1] += `  max map diff / max ${worst.toExponential(1)} over ${n}`;
          expect(worst).toBeLessThan(1e-3);
        }, 600_000); // integrated gradients: 298 pairs × 32 steps of backward passes
      }

      /** artprobe id → metrics_sota.json / maps_sota.safetensors name, and the official final map of each method. */
      const SOTA = {
        legrad: {
          ref: 'legrad',
          // official: the raw sum upsampled, then min-max over 224 × 224 (our grid map is an affine image of it)
          final: (m: AttributionMap) =>
            minMaxNormalise(resizeBilinear(m.values, m.grid.rows, m.grid.cols, S, S)),
        },
        'grad-eclip': {
          ref: 'grad_eclip',
          // notebook: min-max on the grid (our map), then upsampled
          final: (m: AttributionMap) => resizeBilinear(m.values, m.grid.rows, m.grid.cols, S, S),
        },
      } as const;
      for (const id of ['legrad', 'grad-eclip'] as const) {
        it(`${id}: pointing, energy, AUROC, IoU@k and contrastive PG within ±0.01 of metrics_sota.json; maps match`, async () => {
          const sota = JSON.parse(readFileSync(sharedPath('toy/A/saliency/metrics_sota.json'), 'utf8'))
            .methods[SOTA[id].ref];
          const maps = await mapsFor(id, {});
          const sums = { pointing: 0, energy: 0, auroc: 0, iou_topk: 0 };
          const finals = maps.map(SOTA[id].final);
          finals.forEach((up, i) => {
            sums.pointing += pointingGame(up, S, S, boxes[i]);
            sums.energy += energyPointingGame(up, masks[i]);
            sums.auroc += auroc(up, masks[i]);
            sums.iou_topk += iouTopK(up, masks[i]);
          });
          // contrastive pointing game: ordered pairs of two shapes X ≠ Y of one image, the prompt naming X
          const hits = pairs.flatMap((p, i) =>
            pairs
              .map((q, j) => ({ q, j }))
              .filter(({ q }) => q.src === p.src && q.shape !== p.shape)
              .map(({ j }) => contrastivePointing(finals[i], S, S, boxes[i], boxes[j])),
          );
          const cpg = summarizeContrastive(hits);
          const keys = ['pointing', 'energy', 'auroc', 'iou_topk'] as const;
          report.push(
            `${id.padEnd(21)} ${keys.map((k) => `${k} ${(sums[k] / maps.length).toFixed(4)} (ref ${sota[k].toFixed(4)})`).join('  ')}  cpg ${cpg.cpg.toFixed(4)} (ref ${sota.contrastive.cpg.toFixed(4)}, n ${cpg.n})`,
          );
          for (const k of keys)
            expect(Math.abs(sums[k] / maps.length - sota[k]), k).toBeLessThanOrEqual(0.01);
          expect(cpg.n).toBe(sota.contrastive.n);
          expect(Math.abs(cpg.cpg - sota.contrastive.cpg)).toBeLessThanOrEqual(0.01);
          // the grid maps: min-max maps (default) and raw maps (normalize: 'none') for all 298 pairs
          const ref = await SafetensorsFile.open(sharedPath('toy/A/saliency/maps_sota.safetensors'));
          const raws = await mapsFor(id, { normalize: 'none' });
          let worst = 0;
          for (const [name, ours] of [
            [SOTA[id].ref, maps],
            [`${SOTA[id].ref}_raw`, raws],
          ] as const) {
            const r3 = ref.getFloat32(name);
            const per = r3.data.length / r3.shape[0];
            for (let i = 0; i < r3.shape[0]; i++) {
              const r = r3.data.subarray(i * per, (i + 1) * per);
              worst = Math.max(worst, maxAbsDiff(ours[i].values, r) / (maxAbs(r) || 1));
            }
          }
          report[report.length - 1] += `  max map diff / max ${worst.toExponential(1)} over ${maps.length}`;
          expect(worst).toBeLessThan(1e-3);
        }, 600_000);
      }
    },
  );
}
