/**
 * Reproduces the toy reference table (toy/A/saliency/metrics.json) from the reference 7x7 maps: every map is
 * upsampled bilinearly to 224x224, the pointing game uses the annotation's box, the other metrics the mask PNG.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
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
import { rasterizeRegion } from '../../src/regions/rasterize.ts';
import type { Region } from '../../src/regions/region.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { loadToyPairs, type ToyPair } from '../helpers/toy.ts';

const S = 224;
const METHODS = ['attention_rollout', 'chefer2021', 'chefer2021_all_layers', 'occlusion'];

describeShared(
  'toy reference metrics',
  ['toy/A/saliency/maps.safetensors', 'toy/A/eval/annotations.jsonld'],
  () => {
    let pairs: ToyPair[];
    let regions: Region[];
    let masks: Uint8Array[];
    let boxes: PixelBox[];
    let pairRegions: Region[];
    let reference: Record<string, Record<string, number> & { contrastive: { cpg: number; n: number } }>;
    let maps: SafetensorsFile;

    beforeAll(async () => {
      const toy = await loadToyPairs();
      expect(toy.warnings).toEqual([]);
      ({ pairs, regions, masks, boxes, pairRegions } = toy);
      reference = JSON.parse(readFileSync(sharedPath('toy/A/saliency/metrics.json'), 'utf8')).methods;
      maps = await SafetensorsFile.open(sharedPath('toy/A/saliency/maps.safetensors'));
    });

    it('reads all 298 annotations and prefers the SVG outline over the box', () => {
      expect(regions).toHaveLength(298);
      expect(pairs).toHaveLength(298);
      expect(regions.every((r) => r.geometry.kind === 'polygon' && r.label.startsWith('a '))).toBe(true);
      // the rasterised outline agrees with the mask PNG (the PNGs include boundary pixels)
      let iouSum = 0;
      pairRegions.forEach((r, k) => {
        const m = rasterizeRegion(r, S, S);
        let inter = 0;
        let union = 0;
        for (let q = 0; q < m.length; q++) {
          inter += m[q] & masks[k][q];
          union += m[q] | masks[k][q];
        }
        iouSum += inter / union;
      });
      const meanIou = iouSum / pairRegions.length;
      console.log(`toy: mean IoU(rasterised SvgSelector, mask PNG) = ${meanIou.toFixed(4)}`);
      expect(meanIou).toBeGreaterThan(0.93);
    });

    for (const method of METHODS) {
      it(`reproduces ${method}: pointing, energy PG, AUROC, IoU@k, contrastive PG`, () => {
        const { data, shape } = maps.getFloat32(method);
        expect(shape).toEqual([298, 7, 7]);
        const up: Float32Array[] = [];
        const sum = { pointing: 0, energy: 0, auroc: 0, iou_topk: 0 };
        pairs.forEach((_, k) => {
          const m = resizeBilinear(data.subarray(k * 49, (k + 1) * 49), 7, 7, S, S); // [7,7] -> [224,224]
          up.push(m);
          sum.pointing += pointingGame(m, S, S, boxes[k]);
          sum.energy += energyPointingGame(m, masks[k]);
          sum.auroc += auroc(m, masks[k]);
          sum.iou_topk += iouTopK(m, masks[k]);
        });
        const hits = [];
        for (let a = 0; a < pairs.length; a++)
          for (let b = 0; b < pairs.length; b++)
            if (a !== b && pairs[a].image === pairs[b].image)
              hits.push(contrastivePointing(up[a], S, S, boxes[a], boxes[b]));
        const cpg = summarizeContrastive(hits);
        const ref = reference[method];
        const got = {
          pointing: sum.pointing / 298,
          energy: sum.energy / 298,
          auroc: sum.auroc / 298,
          iou_topk: sum.iou_topk / 298,
        };
        const diffs = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, Math.abs(v - ref[k])]));
        console.log(
          `toy ${method}: ${JSON.stringify(got)} cpg ${cpg.cpg} (n ${cpg.n}); |diff| ${JSON.stringify(diffs)} cpg ${Math.abs(cpg.cpg - ref.contrastive.cpg)}`,
        );
        for (const k of Object.keys(got)) expect(diffs[k], k).toBeLessThan(1e-6);
        expect(cpg.n).toBe(ref.contrastive.n);
        expect(Math.abs(cpg.cpg - ref.contrastive.cpg)).toBeLessThan(1e-9);
      });
    }

    it('reproduces the centre-prior baseline on the order-based metrics (any radially decreasing map)', () => {
      const centre = new Float32Array(S * S);
      for (let i = 0; i < S; i++)
        for (let j = 0; j < S; j++) centre[i * S + j] = -Math.hypot(i + 0.5 - S / 2, j + 0.5 - S / 2);
      let pg = 0;
      let au = 0;
      let iou = 0;
      pairs.forEach((_, k) => {
        pg += pointingGame(centre, S, S, boxes[k]);
        au += auroc(centre, masks[k]);
        iou += iouTopK(centre, masks[k]);
      });
      const ref = reference.center_prior;
      console.log(`toy centre prior: pointing ${pg / 298} AUROC ${au / 298} IoU@k ${iou / 298}`);
      expect(Math.abs(pg / 298 - ref.pointing)).toBeLessThan(1e-9);
      expect(Math.abs(au / 298 - ref.auroc)).toBeLessThan(1e-6);
      expect(Math.abs(iou / 298 - ref.iou_topk)).toBeLessThan(1e-6);
    });
  },
);
