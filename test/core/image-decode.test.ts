import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  convertCmykLikePil,
  decodeImage,
  ImageDecodeError,
  readImageInfo,
} from '../../src/core/image-decode.ts';
import { SafetensorsFile } from '../../src/core/safetensors.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

const GOLDEN_FILES = [
  'landscape_640x480.png',
  'portrait_480x640.png',
  'square_224x224.png',
  'small_100x80.png',
  'photo_320x240.jpg',
  'crop_297x224.png',
  'crop_299x224.png',
];

describeShared('decodeImage vs PIL decoded_u8 (golden)', ['golden/inputs'], () => {
  it('decodes all 7 reference images bit-exactly', async () => {
    const st = await SafetensorsFile.open(sharedPath('golden', 'inputs', 'pixel_values.safetensors'));
    for (const [i, file] of GOLDEN_FILES.entries()) {
      const img = await decodeImage(sharedPath('golden', 'inputs', 'images', file));
      const [h, w, c] = st.info(`decoded_u8_${i}`).shape; // [H, W, 3]
      const ref = st.raw(`decoded_u8_${i}`);
      expect([img.height, img.width, 3]).toEqual([h, w, c]);
      let max = 0;
      for (let j = 0; j < ref.length; j++) max = Math.max(max, Math.abs(ref[j] - img.data[j]));
      console.log(`decode ${file}: ${w}x${h}, max abs diff vs PIL = ${max}`);
      expect(max).toBe(0);
    }
  });

  it('readImageInfo reports size and format without decoding', async () => {
    const info = await readImageInfo(sharedPath('golden', 'inputs', 'images', 'photo_320x240.jpg'));
    expect(info).toMatchObject({ width: 320, height: 240, format: 'jpeg', orientation: 1 });
    const png = await readImageInfo(sharedPath('golden', 'inputs', 'images', 'portrait_480x640.png'));
    expect(png).toMatchObject({ width: 480, height: 640, format: 'png' });
  });
});

/** Solid-colour blocks: a w x h RGB image whose left half is `a` and right half is `b`. */
function halves(w: number, h: number, a: number[], b: number[]): Buffer {
  const buf = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) buf.set(x < w / 2 ? a : b, (y * w + x) * 3);
  return buf;
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

/** A PNG whose IHDR claims w x h RGB pixels but carries no real pixel data. */
function fakeHugePng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, no filter, no interlace
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    sig,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', new Uint8Array([0x78, 0x9c, 0x03, 0, 0, 0, 0, 1])),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

describe('decodeImage conversions', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'artprobe-decode-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('applies EXIF orientation 6 (rotate 90° clockwise)', async () => {
    // Stored 32x16: left half red, right half blue. Orientation 6 displays it rotated 90° CW: 16x32, red on top.
    const raw = halves(32, 16, [255, 0, 0], [0, 0, 255]);
    const jpg = await sharp(raw, { raw: { width: 32, height: 16, channels: 3 } })
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const info = await readImageInfo(jpg);
    expect(info).toMatchObject({ orientation: 6, width: 16, height: 32, storedWidth: 32, storedHeight: 16 });
    const img = await decodeImage(jpg);
    expect([img.width, img.height]).toEqual([16, 32]);
    const px = (x: number, y: number) => [
      ...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
    ];
    const top = px(8, 4);
    const bottom = px(8, 28);
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(50);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(50);
  });

  it('grayscale (1 channel and with alpha) becomes replicated RGB', async () => {
    const grey = Buffer.from([0, 50, 128, 255, 7, 99]);
    const png = await sharp(grey, { raw: { width: 3, height: 2, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await readImageInfo(png)).channels).toBe(1);
    const img = await decodeImage(png);
    expect([...img.data]).toEqual([...grey].flatMap((v) => [v, v, v]));
    const ga = Buffer.from([0, 9, 50, 99, 128, 200, 255, 0]);
    const gaPng = await sharp(ga, { raw: { width: 2, height: 2, channels: 2 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await readImageInfo(gaPng)).hasAlpha).toBe(true);
    const gaImg = await decodeImage(gaPng);
    expect([...gaImg.data]).toEqual([0, 0, 0, 50, 50, 50, 128, 128, 128, 255, 255, 255]);
  });

  it('drops alpha without compositing (as PIL convert("RGB"))', async () => {
    // Alpha 0 and 10: compositing on black/white would change the colour; dropping must keep it.
    const rgba = Buffer.from([200, 100, 50, 0, 10, 20, 30, 10, 1, 2, 3, 255, 250, 251, 252, 128]);
    const png = await sharp(rgba, { raw: { width: 2, height: 2, channels: 4 } })
      .png()
      .toBuffer();
    const img = await decodeImage(png);
    expect([...img.data]).toEqual([200, 100, 50, 10, 20, 30, 1, 2, 3, 250, 251, 252]);
  });

  it('expands palette PNGs (also with transparency) to their RGB entries', async () => {
    const colours = [
      [255, 0, 0],
      [0, 128, 255],
      [12, 34, 56],
      [250, 250, 0],
    ];
    const raw = Buffer.from(colours.flat());
    const png = await sharp(raw, { raw: { width: 2, height: 2, channels: 3 } })
      .png({ palette: true, dither: 0 })
      .toBuffer();
    expect((await sharp(png).metadata()).isPalette).toBe(true);
    expect([...(await decodeImage(png)).data]).toEqual(colours.flat());
    // Hand-written palette PNG with a tRNS chunk (an encoder would rewrite transparent entries).
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(2, 0);
    ihdr.writeUInt32BE(2, 4);
    ihdr.set([8, 3, 0, 0, 0], 8); // 8-bit, palette
    const rows = Buffer.from([0, 3, 2, 0, 1, 0]); // filter 0 + indices per row: [3, 2], [1, 0]
    const png2 = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk('IHDR', ihdr),
      pngChunk('PLTE', Buffer.from(colours.flat())),
      pngChunk('tRNS', Buffer.from([0, 255, 128, 0])),
      pngChunk('IDAT', deflateSync(rows)),
      pngChunk('IEND', new Uint8Array(0)),
    ]);
    expect(await readImageInfo(png2)).toMatchObject({ width: 2, height: 2, hasAlpha: true });
    expect([...(await decodeImage(png2)).data]).toEqual([3, 2, 1, 0].flatMap((i) => colours[i]));
  });

  it('reduces 16-bit PNGs to 8 bits', async () => {
    const raw = Buffer.from([0, 1, 127, 128, 254, 255, 10, 20, 30, 40, 50, 60]);
    const png16 = await sharp(raw, { raw: { width: 2, height: 2, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    expect([...(await decodeImage(png16)).data]).toEqual([...raw]);
  });

  it("converts CMYK JPEGs with PIL's formula (default) or the ICC transform", async () => {
    const rgb = halves(16, 8, [200, 100, 50], [20, 160, 90]);
    const cmykJpg = await sharp(rgb, { raw: { width: 16, height: 8, channels: 3 } })
      .toColourspace('cmyk')
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .toBuffer();
    expect((await readImageInfo(cmykJpg)).space).toBe('cmyk');
    const stored = await sharp(cmykJpg, { ignoreIcc: true }).toColourspace('cmyk').raw().toBuffer(); // [H, W, 4]
    const img = await decodeImage(cmykJpg);
    expect([img.width, img.height, img.data.length]).toEqual([16, 8, 16 * 8 * 3]);
    // Independent float form of PIL's cmyk2rgb: round-ish(nk - c*nk/255), within 1 level of the integer version.
    for (let i = 0; i < 16 * 8; i++) {
      const nk = 255 - stored[i * 4 + 3];
      for (let c = 0; c < 3; c++) {
        expect(Math.abs(img.data[i * 3 + c] - (nk - (stored[i * 4 + c] * nk) / 255))).toBeLessThanOrEqual(1);
      }
    }
    const icc = await decodeImage(cmykJpg, { cmyk: 'icc' });
    // The colour-managed path round-trips close to the original colours.
    expect(Math.abs(icc.data[0] - 200)).toBeLessThan(12);
    expect(Math.abs(icc.data[1] - 100)).toBeLessThan(12);
  });

  it('convertCmykLikePil matches hand-computed PIL values', () => {
    // nk = 209: 209 - muldiv255(0|160|251, 209) = 209, 78, 3; k = 255 gives black; c = 255, k = 0 gives r = 0.
    expect([...convertCmykLikePil(new Uint8Array([0, 160, 251, 46, 10, 20, 30, 255, 255, 0, 0, 0]))]).toEqual(
      [209, 78, 3, 0, 0, 0, 0, 255, 255],
    );
  });

  it('refuses images above maxPixels from the header, before decoding', async () => {
    const file = join(dir, 'huge.png');
    await writeFile(file, fakeHugePng(100_000, 50_000));
    const info = await readImageInfo(file);
    expect([info.width, info.height, info.format]).toEqual([100_000, 50_000, 'png']);
    await expect(decodeImage(file)).rejects.toThrow(
      /huge\.png: image is 100000x50000 \(5000000000 pixels\), above the limit of 100000000/,
    );
    // A real image, limit set low.
    const small = join(dir, 'real.png');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: 'gray' } })
      .png()
      .toFile(small);
    await expect(decodeImage(small, { maxPixels: 1000 })).rejects.toThrow(
      /real\.png: image is 64x48 \(3072 pixels\), above the limit of 1000/,
    );
    expect((await decodeImage(small, { maxPixels: 3072 })).width).toBe(64);
  });

  it('gives clear errors naming the file for missing, empty, non-image, corrupt and truncated input', async () => {
    const good = await sharp({
      create: {
        width: 200,
        height: 150,
        channels: 3,
        background: 'black',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .png()
      .toBuffer();
    const goodJpg = await sharp(good).jpeg().toBuffer();
    const cases: [string, Uint8Array | null, RegExp][] = [
      ['missing.png', null, /missing\.png: file not found/],
      ['empty.png', new Uint8Array(0), /empty\.png: empty file/],
      ['notes.txt', Buffer.from('this is not an image at all\n'), /notes\.txt: not a readable image/],
      [
        'garbage.jpg',
        Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
        /garbage\.jpg: not a readable image/,
      ],
      ['truncated.png', good.subarray(0, good.length >> 1), /truncated\.png: cannot decode png image/],
      ['truncated.jpg', goodJpg.subarray(0, goodJpg.length >> 1), /truncated\.jpg: cannot decode jpeg image/],
      ['header-only.png', good.subarray(0, 60), /header-only\.png: /],
    ];
    for (const [name, bytes, re] of cases) {
      const file = join(dir, name);
      if (bytes) await writeFile(file, bytes);
      const err = await decodeImage(file).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(ImageDecodeError);
      expect((err as Error).message, name).toMatch(re);
    }
    await expect(decodeImage(dir)).rejects.toThrow(/not a regular file/);
    await expect(decodeImage(Buffer.from('nope'), { name: 'upload-17' })).rejects.toThrow(
      /upload-17: not a readable image/,
    );
    await expect(decodeImage(new Uint8Array(0))).rejects.toThrow(/<buffer>: empty input/);
  });
});
