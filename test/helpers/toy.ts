/**
 * The toy CLIP's evaluation pairs with their ground truth: for each of the 298 (image, caption, shape) pairs of
 * toy/A/saliency/pairs.json, its W3C region, its box (FragmentSelector) and its mask PNG as 0/1 pixels.
 *
 * @example
 * const toy = await loadToyPairs();
 * pointingGame(map, 224, 224, toy.boxes[i]);
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import type { PixelBox } from '../../src/regions/metrics.ts';
import type { BoxGeometry, Region, RegionWarning } from '../../src/regions/region.ts';
import { parseXywh, readW3CAnnotations } from '../../src/regions/w3c.ts';
import { sharedPath } from './shared-data.ts';

export const TOY_SIZE = 224;

export interface ToyPair {
  image: number;
  src: string;
  shape: number;
  caption: number;
  text: string;
  score: number;
}

export interface ToyPairs {
  pairs: ToyPair[];
  /** All 298 annotations, as read. */
  regions: Region[];
  warnings: RegionWarning[];
  /** Per pair: its region, box and mask [224 × 224]. */
  pairRegions: Region[];
  boxes: PixelBox[];
  masks: Uint8Array[];
}

export async function loadToyPairs(): Promise<ToyPairs> {
  const S = TOY_SIZE;
  const doc = JSON.parse(readFileSync(sharedPath('toy/A/eval/annotations.jsonld'), 'utf8'));
  const { regions, warnings } = readW3CAnnotations(doc);
  const pairs: ToyPair[] = JSON.parse(readFileSync(sharedPath('toy/A/saliency/pairs.json'), 'utf8')).pairs;
  const out: ToyPairs = { pairs, regions, warnings, pairRegions: [], boxes: [], masks: [] };
  for (const p of pairs) {
    const r = regions.find((q) => q.source === p.src && q.id.endsWith(`:s${p.shape}`));
    if (!r) throw new Error(`no annotation for ${p.src} shape ${p.shape}`);
    out.pairRegions.push(r);
    const original = r.original as {
      target: { selector: { type: string; value: string }[] };
      'toy:mask': string;
    };
    const frag = original.target.selector.find((s) => s.type === 'FragmentSelector');
    out.boxes.push(parseXywh(frag?.value ?? '') as BoxGeometry);
    const { data, info } = await sharp(sharedPath('toy/A/eval', original['toy:mask']))
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.width !== S || info.height !== S)
      throw new Error(`mask ${original['toy:mask']} is ${info.width}×${info.height}`);
    out.masks.push(Uint8Array.from({ length: S * S }, (_, k) => (data[k * info.channels] > 127 ? 1 : 0)));
  }
  return out;
}
