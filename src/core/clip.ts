/**
 * The public entry point: `loadClip(source, options)` resolves a model folder or hub id, reads its config,
 * weights, tokenizer and preprocessor (separate objects, each usable alone), and returns a {@link Clip} with
 * `encodeImage`, `encodeText`, `logits` and `dispose`.
 *
 * @example
 * const clip = await loadClip('openai/clip-vit-base-patch32');
 * const [img] = await clip.encodeImage(['starry-night.jpg']);
 * const { logitsPerImage } = await clip.logits(['starry-night.jpg'], ['a painting', 'a photo']);
 * clip.dispose();
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createEngine } from '../engine/create-engine.ts';
import type { ClipEngine, EngineKind } from '../engine/engine.ts';
import type { BackendInfo } from './backend.ts';
import { type ClipConfig, detectFormat, loadClipConfig } from './clip-config.ts';
import { DEFAULT_MAX_PIXELS, type RgbImage } from './image-decode.ts';
import { resolveModelSource } from './model-store.ts';
import {
  ImagePreprocessor,
  loadPreprocessConfig,
  OPENAI_CLIP_CONFIG,
  type PreprocessConfig,
  type PreprocessResult,
} from './preprocess.ts';
import { ClipTokenizer } from './tokenizer.ts';
import { findWeightsFile, loadClipParams } from './weights.ts';

export type ImageInput = string | Uint8Array | RgbImage;

export interface LoadClipOptions {
  /** Engine: `onnx` (ONNX Runtime; default when onnxruntime-node loads) or `tfjs` (the reference port). */
  engine?: EngineKind;
  /** TensorFlow.js backend of the tfjs engine: `wasm` (default without tfjs-node), `tensorflow`, or `cpu`. */
  backend?: string;
  /** ONNX engine device: `cpu` (default) or `cuda` (needs onnxruntime-node installed with CUDA). */
  device?: 'cpu' | 'cuda';
  /** ONNX engine threads (default: all cores). */
  threads?: number;
  /** Where compiled ONNX graphs are kept (default: beside the model when writable, else `$ARTPROBE_CACHE`). */
  cacheDir?: string;
  /** Checkpoint layout; detected from the folder when omitted (HF preferred). */
  format?: 'hf' | 'open_clip';
  /** Weights file name inside the folder (e.g. `model.fp16.safetensors`). */
  weights?: string;
  /** Where hub models are installed (default `$ARTPROBE_MODELS` or `<repo>/models`). */
  modelsDir?: string;
  /** Download a hub model that is not installed yet. */
  autoPull?: boolean;
  /** Refuse images with more pixels than this, before decoding (default 100 megapixels). */
  maxPixels?: number;
  /** Images per forward pass in encodeImage (default 8). */
  batchSize?: number;
}

const KNOWN_OPTIONS = [
  'engine',
  'backend',
  'device',
  'threads',
  'cacheDir',
  'format',
  'weights',
  'modelsDir',
  'autoPull',
  'maxPixels',
  'batchSize',
];

/** Validates and defaults loadClip options in one place; messages name the option. */
export function resolveLoadOptions(
  options: LoadClipOptions = {},
): Required<Pick<LoadClipOptions, 'maxPixels' | 'batchSize' | 'autoPull'>> & LoadClipOptions {
  if (options === null || typeof options !== 'object') throw new Error('loadClip: options must be an object');
  for (const k of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(k))
      throw new Error(`loadClip: unknown option "${k}" (known: ${KNOWN_OPTIONS.join(', ')})`);
  }
  const { maxPixels = DEFAULT_MAX_PIXELS, batchSize = 8, autoPull = false } = options;
  if (!Number.isInteger(maxPixels) || maxPixels <= 0)
    throw new Error(`loadClip: maxPixels must be a positive integer, got ${maxPixels}`);
  if (!Number.isInteger(batchSize) || batchSize <= 0 || batchSize > 256) {
    throw new Error(`loadClip: batchSize must be an integer in 1..256, got ${batchSize}`);
  }
  if (options.format !== undefined && options.format !== 'hf' && options.format !== 'open_clip') {
    throw new Error(`loadClip: format must be "hf" or "open_clip", got ${JSON.stringify(options.format)}`);
  }
  if (options.engine !== undefined && options.engine !== 'onnx' && options.engine !== 'tfjs') {
    throw new Error(`loadClip: engine must be "onnx" or "tfjs", got ${JSON.stringify(options.engine)}`);
  }
  if (options.device !== undefined && options.device !== 'cpu' && options.device !== 'cuda') {
    throw new Error(`loadClip: device must be "cpu" or "cuda", got ${JSON.stringify(options.device)}`);
  }
  if (
    options.threads !== undefined &&
    (!Number.isInteger(options.threads) || options.threads < 1 || options.threads > 256)
  ) {
    throw new Error(`loadClip: threads must be an integer in 1..256, got ${options.threads}`);
  }
  return { ...options, maxPixels, batchSize, autoPull };
}

/** A loaded CLIP: engine (the model), tokenizer and preprocessor, with a cache of text embeddings. */
export class Clip {
  private readonly textCache = new Map<string, Float32Array>();
  private fingerprintValue?: Promise<string>;

  constructor(
    readonly dir: string,
    readonly config: ClipConfig,
    /** The model on its engine (ONNX Runtime or the TF.js reference). */
    readonly engine: ClipEngine,
    readonly tokenizer: ClipTokenizer,
    readonly preprocessor: ImagePreprocessor,
    /** The TF.js backend, for the tfjs engine only. */
    readonly backend: BackendInfo | undefined,
    readonly weightsFile: string,
    private readonly batchSize = 8,
    /** Images with more pixels are refused before decoding. */
    readonly maxPixels = DEFAULT_MAX_PIXELS,
  ) {}

  /** A short name for the model (its folder name). */
  get id(): string {
    return basename(this.dir);
  }

  /** sha256 of the weights file (computed once, streamed). */
  fingerprint(): Promise<string> {
    this.fingerprintValue ??= new Promise((res, rej) => {
      const h = createHash('sha256');
      createReadStream(this.weightsFile)
        .on('data', (d) => h.update(d))
        .on('end', () => res(h.digest('hex')))
        .on('error', rej);
    });
    return this.fingerprintValue;
  }

  /** Decodes and preprocesses images (keeping each one's geometric transform). */
  async preprocess(images: ImageInput[]): Promise<PreprocessResult[]> {
    return Promise.all(images.map((im) => this.preprocessor.preprocess(im)));
  }

  /** Raw (unnormalised) image embeddings [E] per image; `normalize` gives unit vectors. */
  async encodeImage(
    images: ImageInput | ImageInput[],
    opts: { normalize?: boolean } = {},
  ): Promise<Float32Array[]> {
    const list = Array.isArray(images) ? images : [images];
    const S = this.config.vision.imageSize;
    const out: Float32Array[] = [];
    for (let i = 0; i < list.length; i += this.batchSize) {
      const pre = await this.preprocess(list.slice(i, i + this.batchSize));
      const data = new Float32Array(pre.length * 3 * S * S);
      pre.forEach((p, j) => data.set(p.pixelValues, j * 3 * S * S));
      out.push(...(await this.embedPixels(data, pre.length, opts.normalize)));
    }
    return out;
  }

  /** Image embeddings of already normalised pixels [N, 3, S, S] (flat). */
  async embedPixels(pixels: Float32Array, n: number, normalize = false): Promise<Float32Array[]> {
    const E = this.config.embedDim;
    const flat = await this.engine.embedImages(pixels, n);
    return Array.from({ length: n }, (_, i) => {
      const e = flat.slice(i * E, (i + 1) * E);
      return normalize ? unit(e) : e;
    });
  }

  /** Raw text embeddings [E] per text (cached per prompt); `normalize` gives unit vectors. */
  async encodeText(texts: string | string[], opts: { normalize?: boolean } = {}): Promise<Float32Array[]> {
    const list = Array.isArray(texts) ? texts : [texts];
    for (const [i, t] of list.entries()) {
      if (typeof t !== 'string') throw new Error(`encodeText: text ${i} is not a string`);
    }
    const missing = [...new Set(list.filter((t) => !this.textCache.has(t)))];
    const E = this.config.embedDim;
    for (let i = 0; i < missing.length; i += 32) {
      const chunk = missing.slice(i, i + 32);
      const tok = this.tokenizer.tokenize(chunk, { contextLength: this.config.text.contextLength });
      const flat = await this.engine.embedTexts(tok.ids, tok.eotIndex);
      chunk.forEach((t, j) => this.textCache.set(t, flat.slice(j * E, (j + 1) * E)));
    }
    return list.map((t) => {
      const e = this.textCache.get(t) as Float32Array;
      return opts.normalize ? unit(e) : e.slice();
    });
  }

  /** Image–text logits exp(logit_scale)·cos, [images][texts], with the embeddings used. */
  async logits(
    images: ImageInput[],
    texts: string[],
  ): Promise<{ logitsPerImage: number[][]; imageEmbeds: Float32Array[]; textEmbeds: Float32Array[] }> {
    const imageEmbeds = await this.encodeImage(images);
    const textEmbeds = await this.encodeText(texts);
    const ti = textEmbeds.map(unit);
    const logitsPerImage = imageEmbeds
      .map(unit)
      .map((iv) => ti.map((tv) => this.engine.logitScale * iv.reduce((a, x, k) => a + x * tv[k], 0)));
    return { logitsPerImage, imageEmbeds, textEmbeds };
  }

  dispose(): void {
    this.engine.dispose();
    this.textCache.clear();
  }
}

/** Preprocessing for a folder without preprocessor_config.json: the model's image size, OpenCLIP's mean/std if given. */
async function openClipPreprocess(dir: string, size: number): Promise<PreprocessConfig> {
  const cfg: PreprocessConfig = { ...OPENAI_CLIP_CONFIG, size, cropSize: size };
  const file = join(dir, 'open_clip_config.json');
  if (!existsSync(file)) return cfg;
  const pc = JSON.parse(await readFile(file, 'utf8')).preprocess_cfg ?? {};
  if (Array.isArray(pc.mean) && pc.mean.length === 3) cfg.mean = [pc.mean[0], pc.mean[1], pc.mean[2]];
  if (Array.isArray(pc.std) && pc.std.length === 3) cfg.std = [pc.std[0], pc.std[1], pc.std[2]];
  return cfg;
}

/**
 * Loads a CLIP from a model folder (HF or OpenCLIP layout) or an installed hub id.
 *
 * @example
 * const clip = await loadClip('../shared/toy/A/model', { backend: 'wasm' });
 */
export async function loadClip(source: string, options: LoadClipOptions = {}): Promise<Clip> {
  const opts = resolveLoadOptions(options);
  const dir = await resolveModelSource(source, { modelsDir: opts.modelsDir, autoPull: opts.autoPull });
  const format = opts.format ?? detectFormat(dir);
  const config = await loadClipConfig(dir, format);
  const weightsFile = findWeightsFile(dir, format, opts.weights);
  const tokenizer = await ClipTokenizer.fromDir(dir);
  const pre = existsSync(join(dir, 'preprocessor_config.json'))
    ? await loadPreprocessConfig(dir)
    : await openClipPreprocess(dir, config.vision.imageSize);
  if (pre.cropSize !== config.vision.imageSize) {
    throw new Error(
      `${dir}: preprocessor crop size ${pre.cropSize} does not match the model's image size ${config.vision.imageSize}`,
    );
  }
  const preprocessor = new ImagePreprocessor(pre, { maxPixels: opts.maxPixels });
  const { engine, backend } = await createEngine({
    config,
    loadParams: () => loadClipParams(dir, config, opts.weights),
    modelDir: dir,
    weightsFile,
    engine: opts.engine,
    backend: opts.backend,
    device: opts.device,
    threads: opts.threads,
    cacheDir: opts.cacheDir,
  });
  return new Clip(
    dir,
    config,
    engine,
    tokenizer,
    preprocessor,
    backend,
    weightsFile,
    opts.batchSize,
    opts.maxPixels,
  );
}

/** A unit-length copy of v. */
function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return v.map((x) => x / n);
}
