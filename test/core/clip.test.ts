import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Clip, loadClip, resolveLoadOptions } from '../../src/core/clip.ts';
import { parseHfConfig } from '../../src/core/clip-config.ts';
import { hfConfigJson, randomClipParams, toHfTensors, writeHfModel } from '../../src/core/random-weights.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/core/safetensors.ts';
import { describeShared, repoRoot, sharedPath } from '../helpers/shared-data.ts';
import { maxAbsDiff, useWasm } from '../helpers/tensors.ts';

const run = promisify(execFile);
const IMAGES = [
  'landscape_640x480.png',
  'portrait_480x640.png',
  'square_224x224.png',
  'small_100x80.png',
  'photo_320x240.jpg',
  'crop_297x224.png',
  'crop_299x224.png',
];

describeShared(
  'loadClip end to end (files in, embeddings out)',
  ['golden/models', 'golden/inputs', 'golden/reference'],
  () => {
    let clip: Clip;
    let texts: string[];
    beforeAll(async () => {
      await useWasm();
      clip = await loadClip(sharedPath('golden/models/tiny-b32'), { engine: 'tfjs', backend: 'wasm' });
      texts = JSON.parse(readFileSync(sharedPath('golden/inputs/texts.json'), 'utf8')).map(
        (t: { text: string }) => t.text,
      );
    });
    afterAll(() => clip?.dispose());

    it('image files, texts and logits match the PyTorch reference through preprocessing and tokenizing', async () => {
      const ref = await SafetensorsFile.open(sharedPath('golden/reference/tiny-b32/outputs.safetensors'));
      const start = tf.memory().numTensors;
      const img = await clip.encodeImage(IMAGES.map((f) => sharedPath('golden/inputs/images', f)));
      const txt = await clip.encodeText(texts);
      const { logitsPerImage } = await clip.logits(
        IMAGES.map((f) => sharedPath('golden/inputs/images', f)),
        texts,
      );
      expect(tf.memory().numTensors).toBe(start);
      expect(
        maxAbsDiff(
          img.flatMap((v) => [...v]),
          ref.getFloat32('image_embeds').data,
        ),
      ).toBeLessThan(1e-4);
      expect(
        maxAbsDiff(
          txt.flatMap((v) => [...v]),
          ref.getFloat32('text_embeds').data,
        ),
      ).toBeLessThan(1e-4);
      expect(maxAbsDiff(logitsPerImage.flat(), ref.getFloat32('logits_per_image').data)).toBeLessThan(1e-3);
    });

    it('text of any length or content encodes without error (long text is truncated)', async () => {
      const weird = [
        '',
        ' ',
        'word '.repeat(5000),
        '\u0000\u0007 emoji 👩‍👩‍👧 \ud800 lone surrogate',
        '&amp;amp; 12345',
      ];
      const out = await clip.encodeText(weird, { normalize: true });
      for (const v of out) {
        expect(v.length).toBe(32);
        expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThan(1e-5);
      }
    });

    it('bad images get clear errors naming the file, and the pixel limit is enforced before decoding', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'artprobe-badimg-'));
      const notImage = join(dir, 'notes.png');
      writeFileSync(notImage, 'this is not an image');
      await expect(clip.encodeImage([notImage])).rejects.toThrow(/notes\.png/);
      await expect(clip.encodeImage([join(dir, 'missing.jpg')])).rejects.toThrow(/missing\.jpg/);
      const small = await loadClip(sharedPath('golden/models/tiny-b32'), { maxPixels: 100_000 });
      try {
        await expect(
          small.encodeImage([sharedPath('golden/inputs/images/landscape_640x480.png')]),
        ).rejects.toThrow(/pixel/i);
      } finally {
        small.dispose();
      }
    });

    it('the encode command prints the same logits as JSON', async () => {
      const { stdout } = await run(
        process.execPath,
        [
          join(repoRoot, 'bin/artprobe.mjs'),
          'encode',
          '--model',
          sharedPath('golden/models/tiny-b16'),
          '--image',
          sharedPath('golden/inputs/images/square_224x224.png'),
          '--text',
          texts[0],
          texts[1],
          '--json',
        ],
        { cwd: repoRoot },
      );
      const out = JSON.parse(stdout);
      const ref = await SafetensorsFile.open(sharedPath('golden/reference/tiny-b16/outputs.safetensors'));
      const L = ref.getFloat32('logits_per_image').data; // [7, 16]; square is image 2
      expect(out.logits_per_image[0][0]).toBeCloseTo(L[2 * 16 + 0], 3);
      expect(out.logits_per_image[0][1]).toBeCloseTo(L[2 * 16 + 1], 3);
      expect(out.image_embeds_raw[0].length).toBe(24);
      expect(Math.hypot(...out.text_embeds[1])).toBeCloseTo(1, 5);
    });
  },
);

describeShared('models of any configured shape, and bad checkpoints', ['golden/models/tiny-b32'], () => {
  const tokFiles = ['vocab.json', 'merges.txt'];
  function tinyVocabDir(dir: string) {
    for (const f of tokFiles) copyFileSync(sharedPath('golden/models/tiny-b32', f), join(dir, f));
  }
  beforeAll(useWasm);

  it('patch 14, image 336, exact gelu, 5 heads: loads from its config alone and runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'artprobe-p14-'));
    const json = hfConfigJson({
      embedDim: 20,
      vision: { width: 40, layers: 2, heads: 5, imageSize: 336, patchSize: 14, act: 'gelu' },
      text: { width: 40, layers: 1, heads: 5, act: 'gelu' },
    });
    const cfg = parseHfConfig(json);
    expect(cfg.vision.grid).toBe(24);
    await writeHfModel(dir, json, randomClipParams(cfg, 7));
    tinyVocabDir(dir);
    const clip = await loadClip(dir, { engine: 'tfjs' });
    const start = tf.memory().numTensors;
    const [img] = await clip.encodeImage([sharedPath('golden/inputs/images/landscape_640x480.png')]);
    const [txt] = await clip.encodeText(['a painting']);
    expect(img.length).toBe(20);
    expect(txt.length).toBe(20);
    expect(img.every(Number.isFinite)).toBe(true);
    expect(clip.preprocessor.config.cropSize).toBe(336);
    expect(tf.memory().numTensors).toBe(start);
    clip.dispose();
    // the ONNX engine compiles the same shape from the config alone and agrees with the reference port
    const onnx = await loadClip(dir, { engine: 'onnx', cacheDir: join(dir, 'onnx-cache') });
    expect(onnx.engine.kind).toBe('onnx');
    const [imgO] = await onnx.encodeImage([sharedPath('golden/inputs/images/landscape_640x480.png')]);
    const [txtO] = await onnx.encodeText(['a painting']);
    expect(maxAbsDiff(imgO, img)).toBeLessThan(1e-4);
    expect(maxAbsDiff(txtO, txt)).toBeLessThan(1e-4);
    onnx.dispose();
    // the activation really is read from the config: quick_gelu weights give other embeddings
    const dir2 = mkdtempSync(join(tmpdir(), 'artprobe-p14q-'));
    const json2 = structuredClone(json) as { vision_config: { hidden_act: string } };
    json2.vision_config.hidden_act = 'quick_gelu';
    await writeHfModel(dir2, json2, randomClipParams(cfg, 7));
    tinyVocabDir(dir2);
    const clip2 = await loadClip(dir2);
    const [img2] = await clip2.encodeImage([sharedPath('golden/inputs/images/landscape_640x480.png')]);
    expect(maxAbsDiff(img, img2)).toBeGreaterThan(1e-3);
    clip2.dispose();
  });

  async function brokenModel(
    mutate: (bytes: Uint8Array, dir: string) => Uint8Array | undefined,
  ): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'artprobe-bad-'));
    for (const f of ['config.json', ...tokFiles])
      copyFileSync(sharedPath('golden/models/tiny-b32', f), join(dir, f));
    const bytes = readFileSync(sharedPath('golden/models/tiny-b32/model.safetensors'));
    const out = mutate(new Uint8Array(bytes), dir);
    if (out) writeFileSync(join(dir, 'model.safetensors'), out);
    return dir;
  }

  it('truncated, corrupt, incomplete or misshapen weights get errors that name the problem', async () => {
    const truncated = await brokenModel((b) => b.subarray(0, b.length - 1000));
    await expect(loadClip(truncated)).rejects.toThrow(/truncated|beyond the data section/);
    const garbage = await brokenModel(() => new Uint8Array(50).fill(7));
    await expect(loadClip(garbage)).rejects.toThrow(/header/);
    const tiny = await brokenModel(() => new Uint8Array(3));
    await expect(loadClip(tiny)).rejects.toThrow(/too short/);
    const st = SafetensorsFile.fromBytes(
      readFileSync(sharedPath('golden/models/tiny-b32/model.safetensors')),
    );
    const rebuild = (edit: (name: string) => { shape: number[]; data: Float32Array } | null) => {
      const t: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
      for (const k of st.keys()) {
        const v = edit(k) ?? st.getFloat32(k);
        if (v.shape[0] !== -1) t[k] = { dtype: 'F32', shape: v.shape, data: v.data };
      }
      return writeSafetensors(t);
    };
    const missing = await brokenModel(() =>
      rebuild((k) => (k === 'visual_projection.weight' ? { shape: [-1], data: new Float32Array() } : null)),
    );
    await expect(loadClip(missing)).rejects.toThrow(/visual_projection\.weight.*missing/);
    const wrong = await brokenModel(() =>
      rebuild((k) =>
        k === 'text_model.final_layer_norm.weight' ? { shape: [63], data: new Float32Array(63) } : null,
      ),
    );
    await expect(loadClip(wrong)).rejects.toThrow(/final_layer_norm\.weight.*\[63\].*\[64\]/);
    const dtype = await brokenModel((b) => {
      const text = Buffer.from(b).toString('latin1').replace('"dtype":"F32"', '"dtype":"Q32"');
      return Uint8Array.from(Buffer.from(text, 'latin1'));
    });
    await expect(loadClip(dtype)).rejects.toThrow(/unknown dtype "Q32"/);
    const noWeights = mkdtempSync(join(tmpdir(), 'artprobe-nowt-'));
    copyFileSync(sharedPath('golden/models/tiny-b32/config.json'), join(noWeights, 'config.json'));
    await expect(loadClip(noWeights)).rejects.toThrow(/no weights found/);
    await expect(loadClip(join(tmpdir(), 'no-such-model-folder-xyz'))).rejects.toThrow(
      /not found|no-such-model/,
    );
  });

  it('options are validated in one place', () => {
    expect(() => resolveLoadOptions({ maxPixel: 5 } as never)).toThrow(/unknown option "maxPixel"/);
    expect(() => resolveLoadOptions({ maxPixels: -1 })).toThrow(/maxPixels/);
    expect(() => resolveLoadOptions({ format: 'onnx' as never })).toThrow(/format/);
    expect(resolveLoadOptions({}).maxPixels).toBe(100_000_000);
  });

  it('the HF key names round-trip through the writer', () => {
    const cfg = parseHfConfig(
      hfConfigJson({
        embedDim: 8,
        vision: { width: 16, layers: 1, heads: 2 },
        text: { width: 16, layers: 1, heads: 2, vocabSize: 10 },
      }),
    );
    const keys = Object.keys(toHfTensors(randomClipParams(cfg, 1)));
    expect(keys).toContain('vision_model.pre_layrnorm.weight');
    expect(keys).toContain('text_model.encoder.layers.0.self_attn.q_proj.weight');
  });
});
