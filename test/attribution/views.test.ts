import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainImage } from '../../src/attribution/explain.ts';
import { mapToPainting, paintingToInput, prepareView, tileOrigins } from '../../src/attribution/views.ts';
import { type Clip, loadClip } from '../../src/core/clip.ts';
import type { RgbImage } from '../../src/core/image-decode.ts';
import { OPENAI_CLIP_CONFIG } from '../../src/core/preprocess.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { useWasm } from '../helpers/tensors.ts';

/** A grey painting with one bright disc. */
function hotSpotImage(W: number, H: number, cx: number, cy: number, r: number): RgbImage {
  const data = new Uint8Array(W * H * 3).fill(60);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r)
        data.fill(250, 3 * (y * W + x), 3 * (y * W + x) + 3);
  return { width: W, height: H, data };
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best] || Number.isNaN(a[best])) best = i;
  return best;
}

/** Centre of the pixels within 10% of the maximum: [x, y] in pixel-centre coordinates. */
function hotCentre(a: Float32Array, W: number): [number, number] {
  const max = a[argmax(a)];
  let sx = 0;
  let sy = 0;
  let n = 0;
  a.forEach((v, i) => {
    if (v >= max - 0.1 * Math.abs(max)) {
      sx += (i % W) + 0.5;
      sy += Math.floor(i / W) + 0.5;
      n++;
    }
  });
  return [sx / n, sy / n];
}

describe('views: model inputs and the way back to painting pixels', () => {
  const pre = OPENAI_CLIP_CONFIG;
  const W = 600;
  const H = 240;
  const spot = { x: 560, y: 60 }; // near the right edge: outside the centre crop

  for (const kind of ['pad', 'tiles'] as const) {
    it(`${kind}: a hot spot in the painting comes back where it was`, () => {
      const img = hotSpotImage(W, H, spot.x, spot.y, 12);
      const view = prepareView(img, kind, pre);
      // the "map" of each input is its own brightness (red channel, normalised) on the 224×224 grid
      const S = pre.cropSize;
      const maps = view.inputs.map((x) => ({ values: x.subarray(0, S * S), grid: { rows: S, cols: S } }));
      const painting = mapToPainting(maps, view.transform);
      expect(painting.length).toBe(W * H);
      expect(painting.some(Number.isNaN)).toBe(false);
      const [x, y] = hotCentre(painting, W);
      expect(Math.abs(x - spot.x)).toBeLessThan(2);
      expect(Math.abs(y - spot.y)).toBeLessThan(2);
    });
  }

  it('crop: the painting outside the centre crop is not covered, the crop maps back exactly', () => {
    const img = hotSpotImage(W, H, 300, 120, 10);
    const view = prepareView(img, 'crop', pre);
    const S = pre.cropSize;
    const painting = mapToPainting(
      [{ values: view.inputs[0].subarray(0, S * S), grid: { rows: S, cols: S } }],
      view.transform,
    );
    expect(Number.isNaN(painting[120 * W + 5])).toBe(true);
    expect(Number.isNaN(painting[120 * W + W - 5])).toBe(true);
    const [x, y] = hotCentre(painting, W);
    expect(Math.abs(x - 300)).toBeLessThan(1.5);
    expect(Math.abs(y - 120)).toBeLessThan(1.5);
    const [u, v] = paintingToInput(view.transform, 0, 300, 120);
    expect(u).toBeCloseTo(112, 0);
    expect(v).toBeCloseTo(112, 0);
  });

  it('a coarse grid map is upsampled and placed through the view rectangle', () => {
    const img = hotSpotImage(W, H, 100, 200, 5);
    const view = prepareView(img, 'pad', pre);
    // the padded square is 600×600 with the painting at y = 180..420; a 7×7 map hot in cell (row 3, col 6)
    // covers painting x = 514..600, y = 77..163
    const grid = new Float32Array(49);
    grid[3 * 7 + 6] = 1;
    const painting = mapToPainting([{ values: grid, grid: { rows: 7, cols: 7 } }], view.transform);
    const [x, y] = hotCentre(painting, W);
    expect(x).toBeGreaterThan(514);
    expect(y).toBeGreaterThan(77);
    expect(y).toBeLessThan(163);
  });

  it('tile origins cover the long side with the requested overlap', () => {
    expect(tileOrigins(600, 240, 0.25)).toEqual([0, 180, 360]); // step 180 = 240 × (1 − 0.25)
    expect(tileOrigins(240, 240, 0.25)).toEqual([0]);
    const o = tileOrigins(1000, 300, 0.5);
    expect(o[0]).toBe(0);
    expect(o[o.length - 1]).toBe(700);
  });
});

describeShared('whole paintings with the toy model', ['toy/A/model', 'paintings'], () => {
  let clip: Clip;
  beforeAll(async () => {
    await useWasm();
    clip = await loadClip(sharedPath('toy/A/model'), { engine: 'tfjs' });
  });
  afterAll(() => clip?.dispose());

  it('pad and tiles maps of a wide painting cover its full width; crop does not', async () => {
    const image = sharedPath('paintings/hokusai-great-wave-off-kanagawa-c1831.jpg');
    // the first backward pass materialises the model's untransposed weights once (model-owned, not a leak)
    await explainImage(clip, {
      image,
      targets: [{ kind: 'prompt', prompt: 'a circle' }],
      methods: [{ id: 'chefer-all' }],
    });
    const start = tf.memory().numTensors;
    const cover = async (view: 'crop' | 'pad' | 'tiles') => {
      const r = await explainImage(clip, {
        image,
        targets: [{ kind: 'prompt', prompt: 'a blue circle' }],
        methods: [{ id: 'chefer-all' }],
        view,
      });
      const { width: W, height: H } = r.view.painting;
      expect(W).toBeGreaterThan(H);
      const map = r.entries[0].painting;
      const covered = (x: number) =>
        Array.from({ length: H }, (_, y) => map[y * W + x]).every((v) => Number.isFinite(v));
      return { first: covered(0), last: covered(W - 1), mid: covered(W >> 1), tiles: r.view.rects.length };
    };
    expect(await cover('pad')).toEqual({ first: true, last: true, mid: true, tiles: 1 });
    const tiles = await cover('tiles');
    expect(tiles.first && tiles.last && tiles.mid).toBe(true);
    expect(tiles.tiles).toBeGreaterThan(1);
    expect(await cover('crop')).toMatchObject({ first: false, last: false, mid: true });
    expect(tf.memory().numTensors).toBe(start);
  });
});
