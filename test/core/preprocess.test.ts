import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image-decode.ts';
import {
  centerCrop,
  cropRegion,
  ImagePreprocessor,
  loadPreprocessConfig,
  mapCropToOriginal,
  OPENAI_CLIP_CONFIG,
  padToSquare,
  type parsePreprocessConfig,
  resizeShortestSide,
  roundHalfEven,
  toPixelValues,
} from '../../src/core/preprocess.ts';
import { SafetensorsFile } from '../../src/core/safetensors.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

interface ManifestImage {
  index: number;
  file: string;
  size_wh: [number, number];
  resized_wh: [number, number];
  crop_top_left_openai: [number, number];
}

describeShared(
  'CLIP preprocessing vs clip._transform(224) (golden)',
  ['golden/inputs', 'golden/models/tiny-b32'],
  () => {
    let st: SafetensorsFile;
    let images: ManifestImage[];
    beforeAll(async () => {
      st = await SafetensorsFile.open(sharedPath('golden', 'inputs', 'pixel_values.safetensors'));
      images = JSON.parse(readFileSync(sharedPath('golden', 'inputs', 'manifest.json'), 'utf8')).definitions
        .images;
      expect(images).toHaveLength(7);
    });

    it('resize + crop match resized_u8 / cropped_u8 and the manifest offsets for all 7 images', () => {
      for (const im of images) {
        const i = im.index;
        const [h, w] = st.info(`decoded_u8_${i}`).shape; // [H, W, 3]
        const decoded: RgbImage = { width: w, height: h, data: st.raw(`decoded_u8_${i}`) };
        const resized = resizeShortestSide(decoded, 224);
        expect([resized.width, resized.height], im.file).toEqual(im.resized_wh);
        const { image, top, left } = centerCrop(resized, 224);
        expect([top, left], im.file).toEqual(im.crop_top_left_openai);
        const stats = (a: Uint8Array, b: Uint8Array) => {
          let max = 0;
          let sum = 0;
          for (let j = 0; j < a.length; j++) {
            max = Math.max(max, Math.abs(a[j] - b[j]));
            sum += Math.abs(a[j] - b[j]);
          }
          return { max, mean: sum / a.length };
        };
        const r = stats(resized.data, st.raw(`resized_u8_${i}`));
        const c = stats(image.data, st.raw(`cropped_u8_${i}`));
        console.log(
          `${im.file}: resized max ${r.max} mean ${r.mean}; cropped max ${c.max} mean ${c.mean}; crop top/left ${top}/${left}`,
        );
        expect(r.max).toBeLessThanOrEqual(1);
        expect(c.max).toBeLessThanOrEqual(1);
      }
    });

    it('ImagePreprocessor on the image files reproduces pixel_values [7,3,224,224]', async () => {
      const pre = new ImagePreprocessor(
        await loadPreprocessConfig(sharedPath('golden', 'models', 'tiny-b32')),
      );
      const ref = st.getFloat32('pixel_values');
      expect(ref.shape).toEqual([7, 3, 224, 224]);
      const n = 3 * 224 * 224;
      let worst = 0;
      for (const im of images) {
        const out = await pre.preprocess(sharedPath('golden', 'inputs', im.file));
        expect(out.original).toEqual({ width: im.size_wh[0], height: im.size_wh[1] });
        expect(out.resized).toEqual({ width: im.resized_wh[0], height: im.resized_wh[1] });
        expect(out.crop).toEqual({
          top: im.crop_top_left_openai[0],
          left: im.crop_top_left_openai[1],
          size: 224,
        });
        const refI = ref.data.subarray(im.index * n, (im.index + 1) * n); // [3, 224, 224]
        let max = 0;
        for (let j = 0; j < n; j++) max = Math.max(max, Math.abs(out.pixelValues[j] - refI[j]));
        console.log(`${im.file}: pixel_values max abs diff ${max}`);
        worst = Math.max(worst, max);
        expect(max).toBeLessThanOrEqual(1e-6);
      }
      console.log(`pixel_values worst max abs diff over 7 images: ${worst}`);
    });

    it('toPixelValues alone maps cropped_u8 to pixel_values (float32 ToTensor + Normalize)', () => {
      const ref = st.getFloat32('pixel_values');
      const n = 3 * 224 * 224;
      for (let i = 0; i < 7; i++) {
        const pv = toPixelValues(
          { width: 224, height: 224, data: st.raw(`cropped_u8_${i}`) },
          OPENAI_CLIP_CONFIG.mean,
          OPENAI_CLIP_CONFIG.std,
        );
        let max = 0;
        for (let j = 0; j < n; j++) max = Math.max(max, Math.abs(pv[j] - ref.data[i * n + j]));
        expect(max).toBeLessThanOrEqual(1e-6);
      }
    });

    it('loads the golden preprocessor_config.json', async () => {
      const cfg = await loadPreprocessConfig(sharedPath('golden', 'models', 'tiny-b32'));
      expect(cfg.size).toBe(224);
      expect(cfg.cropSize).toBe(224);
      expect(cfg.mean).toEqual(OPENAI_CLIP_CONFIG.mean);
      expect(cfg.std).toEqual(OPENAI_CLIP_CONFIG.std);
    });
  },
);

function gradient(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data.set([x % 256, y % 256, (x + y) % 256], (y * w + x) * 3);
  return { width: w, height: h, data };
}

describe('crop, resize and helpers', () => {
  it('rounds crop offsets half to even like Python round()', () => {
    expect([0.5, 1.5, 2.5, 36.5, 37.5, 37.4, 37.6, 3].map(roundHalfEven)).toEqual([
      0, 2, 2, 36, 38, 37, 38, 3,
    ]);
    expect(centerCrop(gradient(297, 224), 224).left).toBe(36); // JS Math.round would give 37
    expect(centerCrop(gradient(299, 224), 224).left).toBe(38); // transformers' floor gives 37
    const tall = centerCrop(gradient(224, 299), 224);
    expect(tall.top).toBe(38);
    expect(tall.image.data[0 * 3 + 1]).toBe(38); // row 0 of the crop is source row 38 (G channel = y)
    expect(tall.image.data[0]).toBe(0);
  });

  it('resizeShortestSide truncates the long side', () => {
    expect([resizeShortestSide(gradient(640, 480), 224)].map((r) => [r.width, r.height])[0]).toEqual([
      298, 224,
    ]);
    expect([resizeShortestSide(gradient(333, 1000), 224)].map((r) => [r.width, r.height])[0]).toEqual([
      224, 672,
    ]);
    const sq = resizeShortestSide(gradient(50, 50), 224);
    expect([sq.width, sq.height]).toEqual([224, 224]);
  });

  it('zero-pads images smaller than the crop like torchvision CenterCrop', () => {
    const img = gradient(100, 80);
    img.data.fill(200);
    const { image, top, left } = centerCrop(img, 224);
    // torchvision pads left (224-100)//2 = 62, top (224-80)//2 = 72; origin in input pixels is negative.
    expect([left, top]).toEqual([-62, -72]);
    const at = (x: number, y: number) => image.data[(y * 224 + x) * 3];
    expect([at(61, 100), at(62, 100), at(161, 100), at(162, 100)]).toEqual([0, 200, 200, 0]);
    expect([at(100, 71), at(100, 72), at(100, 151), at(100, 152)]).toEqual([0, 200, 200, 0]);
  });

  it('padToSquare letterboxes with the fill colour and reports offsets', () => {
    const { image, top, left } = padToSquare(gradient(30, 20), [9, 8, 7]);
    expect([image.width, image.height, top, left]).toEqual([30, 30, 5, 0]);
    expect([...image.data.subarray(0, 3)]).toEqual([9, 8, 7]);
    expect([...image.data.subarray((5 * 30 + 4) * 3, (5 * 30 + 4) * 3 + 3)]).toEqual([4, 0, 4]);
    expect([...image.data.subarray((25 * 30 + 29) * 3, (25 * 30 + 29) * 3 + 3)]).toEqual([9, 8, 7]);
    const wide = padToSquare(gradient(5, 8), [0, 0, 0]);
    expect([wide.left, wide.top]).toEqual([1, 0]);
    expect(() => padToSquare(gradient(2, 2), [256, 0, 0])).toThrow(/fill/);
  });

  it('cropRegion copies a window and rejects windows outside the image', () => {
    const r = cropRegion(gradient(50, 40), 10, 5, 7, 3);
    expect([r.width, r.height]).toEqual([7, 3]);
    expect([...r.data.subarray(0, 3)]).toEqual([10, 5, 15]);
    expect([...r.data.subarray((2 * 7 + 6) * 3, (2 * 7 + 6) * 3 + 3)]).toEqual([16, 7, 23]);
    expect(() => cropRegion(gradient(50, 40), 45, 0, 10, 10)).toThrow(/not inside the 50x40 image/);
    expect(() => cropRegion(gradient(50, 40), -1, 0, 10, 10)).toThrow(/not inside/);
  });

  it('toPixelValues is channel-major and follows float32 torch arithmetic', () => {
    const img = { width: 2, height: 1, data: new Uint8Array([0, 128, 255, 10, 20, 30]) };
    const pv = toPixelValues(img, [0.5, 0.5, 0.5], [0.25, 0.5, 1]);
    const f = Math.fround;
    const ref = (v: number, m: number, s: number) => f(f(f(v / 255) - f(m)) / f(s));
    expect([...pv]).toEqual([
      ref(0, 0.5, 0.25),
      ref(10, 0.5, 0.25),
      ref(128, 0.5, 0.5),
      ref(20, 0.5, 0.5),
      ref(255, 0.5, 1),
      ref(30, 0.5, 1),
    ]);
    expect(pv[0]).toBe(-2);
  });

  it('ImagePreprocessor accepts decoded images and keeps the transform for mapping back', async () => {
    const pre = new ImagePreprocessor({ size: 64, cropSize: 48, mean: [0, 0, 0], std: [1, 1, 1] });
    const out = await pre.preprocess(gradient(200, 100));
    expect(out.resized).toEqual({ width: 128, height: 64 });
    expect(out.crop).toEqual({ top: 8, left: 40, size: 48 });
    expect(out.pixelValues.length).toBe(3 * 48 * 48);
    // Crop centre (24, 24) is resized (64, 32) → original (100, 50).
    expect(mapCropToOriginal(out, 24, 24)).toEqual([100, 50]);
    expect(mapCropToOriginal(out, 0, 0)).toEqual([62.5, 12.5]);
    await expect(pre.preprocess(new Uint8Array([1, 2, 3]))).rejects.toThrow(/<buffer>: not a readable image/);
    expect(() => new ImagePreprocessor({ size: 0, cropSize: 224, mean: [0, 0, 0], std: [1, 1, 1] })).toThrow(
      /positive integers/,
    );
  });
});

describe('loadPreprocessConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'artprobe-preproc-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function load(json: unknown): Promise<ReturnType<typeof parsePreprocessConfig>> {
    const d = await mkdtemp(join(dir, 'm-'));
    await writeFile(
      join(d, 'preprocessor_config.json'),
      typeof json === 'string' ? json : JSON.stringify(json),
    );
    return loadPreprocessConfig(d);
  }

  it('accepts the number and object forms and fills defaults', async () => {
    expect(await load({ size: 336, crop_size: 336 })).toMatchObject({
      size: 336,
      cropSize: 336,
      mean: OPENAI_CLIP_CONFIG.mean,
    });
    expect(
      await load({
        size: { shortest_edge: 256 },
        crop_size: { height: 240, width: 240 },
        image_mean: [0.5, 0.5, 0.5],
        image_std: [0.5, 0.5, 0.5],
      }),
    ).toEqual({
      size: 256,
      cropSize: 240,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    });
    expect(await load({})).toEqual({ ...OPENAI_CLIP_CONFIG });
    expect(await loadPreprocessConfig(join(dir, 'no-such-model'))).toEqual({ ...OPENAI_CLIP_CONFIG });
  });

  it('rejects invalid configs with messages naming the file and field', async () => {
    await expect(load('{ nope')).rejects.toThrow(/preprocessor_config\.json: invalid JSON/);
    await expect(load({ size: { height: 224, width: 224 } })).rejects.toThrow(/"size" must be/);
    await expect(load({ crop_size: { height: 224, width: 200 } })).rejects.toThrow(/"crop_size" must be/);
    await expect(load({ image_mean: [0.5, 0.5] })).rejects.toThrow(/"image_mean" must be an array of 3/);
    await expect(load({ image_std: [0.5, 0, 0.5] })).rejects.toThrow(/"image_std" values must be > 0/);
    await expect(load({ resample: 2 })).rejects.toThrow(/"resample" 2 is not supported/);
    await expect(load({ do_center_crop: false })).rejects.toThrow(/"do_center_crop": false/);
    await expect(load({ rescale_factor: 1 })).rejects.toThrow(/"rescale_factor" must be 1\/255/);
    await expect(load([1, 2])).rejects.toThrow(/expected a JSON object/);
  });
});
