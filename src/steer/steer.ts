/**
 * Guidance diagnostics for one painting: projected gradient ascent on CLIP's model input (CLIP's centre crop,
 * in [0, 1] pixels) toward a prompt (its logit), toward A and away from B (the logit difference), or toward a
 * label within a label set (its softmax probability), under an L∞ budget ε. The change is then mapped back
 * onto the painting (each painting pixel inside the crop takes the change of the model-input pixel it falls
 * in; pixels outside the crop are unchanged) and rounded to 8 bits.
 *
 * Reported before and after: the target score, and the zero-shot answer of every probe dimension — on the
 * steered model input as optimised (float), as saved (8 bits), and on the steered painting run through CLIP's
 * preprocessing again (the honest end-to-end check: a change that only works between resampling steps
 * does not survive it). The change's size is given as L∞, PSNR and SSIM on the model input and on the painting.
 *
 * @example
 * const res = await steerPainting(clip, 'vermeer.jpg', { toward: 'an AI-generated image', epsilon: 4 / 255,
 *   steps: 40, probes });
 * res.zeroShot.style.after.top; // the style CLIP now sees
 * await writeSteer('out', res);
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { slugify } from '../attribution/manifest.ts';
import { describeTarget, prepareTargets, type TargetSpec } from '../attribution/target.ts';
import type { ViewRect } from '../attribution/types.ts';
import { prepareView } from '../attribution/views.ts';
import type { Clip } from '../core/clip.ts';
import { decodeImage, type RgbImage } from '../core/image-decode.ts';
import { encodeNpy } from '../core/npy.ts';
import { scoreEmbedding } from '../engine/engine.ts';
import { answerDimension, type DimensionAnswer, type DimensionProbe } from './answers.ts';
import { denormalisePixels, normalisePixels, pgdLinf } from './pgd.ts';
import { compareImages, psnr, ssim } from './quality.ts';

export interface SteerRequest {
  /** The prompt to move toward. */
  toward: string;
  /** A prompt to move away from (the score becomes the logit difference). */
  away?: string;
  /** A label set containing `toward` (the score becomes toward's softmax probability within it). */
  labels?: string[];
  /** L∞ budget in [0, 1] pixel units. */
  epsilon: number;
  steps: number;
  /** Step as a fraction of ε (default 2.5 / steps). */
  stepFraction?: number;
  /** Dimensions whose zero-shot answers are reported before and after. */
  probes: DimensionProbe[];
  /** Ranked labels kept per answer (default 3). */
  topK?: number;
}

export interface SteerAnswers {
  before: DimensionAnswer;
  after: DimensionAnswer;
  after8bit: DimensionAnswer;
  afterPainting: DimensionAnswer;
  /** The top answer changed on the (float) steered input. */
  flipped: boolean;
  /** The change survived 8-bit rounding and re-preprocessing of the painting. */
  flippedPainting: boolean;
}

export interface SteerResult {
  image: string;
  target: TargetSpec;
  /** Human-readable target. */
  targetText: string;
  epsilon: number;
  steps: number;
  stepSize: number;
  /** Where the model input lies in the painting (painting pixels). */
  inputRect: ViewRect;
  paintingSize: [number, number];
  score: { before: number; after: number; after8bit: number; afterPainting: number };
  zeroShot: Record<string, SteerAnswers>;
  change: {
    input: { linf: number; psnr: number; ssim: number };
    painting: { linf: number; psnr: number; ssim: number };
  };
  seconds: number;
  engine: string;
  /** The original and steered model inputs [3, S, S] in [0, 1] and the two paintings (not in the JSON). */
  arrays: { original: Float32Array; steered: Float32Array; painting: RgbImage; steeredPainting: RgbImage };
}

/**
 * The target of a steering request.
 *
 * @example
 * steerTarget({ toward: 'a baroque painting', away: 'a renaissance painting' }); // contrast
 */
export function steerTarget(req: Pick<SteerRequest, 'toward' | 'away' | 'labels'>): TargetSpec {
  if (!req.toward?.trim()) throw new Error('steer: --toward needs a prompt');
  if (req.away !== undefined && req.labels !== undefined)
    throw new Error('steer: give --away or --labels, not both');
  if (req.away !== undefined) return { kind: 'contrast', a: req.toward, b: req.away };
  if (req.labels !== undefined) {
    if (!req.labels.includes(req.toward))
      throw new Error(`steer: --labels must contain the --toward prompt "${req.toward}"`);
    return { kind: 'label', label: req.toward, labels: req.labels };
  }
  return { kind: 'prompt', prompt: req.toward };
}

/**
 * Moves the painting's model input along the target's gradient: `x' = x + δ`, |δ|∞ ≤ ε, x' in [0, 1]; the
 * painting side is nearest-neighbour (each painting pixel takes the δ of the input pixel it lies in).
 *
 * @example
 * const steered = applyToPainting(painting, rect, 224, delta);
 */
export function applyToPainting(
  painting: RgbImage,
  rect: ViewRect,
  S: number,
  delta: Float32Array,
): RgbImage {
  const { width: W, height: H } = painting;
  const out = Uint8Array.from(painting.data);
  const x0 = Math.max(0, Math.floor(rect.x));
  const x1 = Math.min(W, Math.ceil(rect.x + rect.w));
  const y0 = Math.max(0, Math.floor(rect.y));
  const y1 = Math.min(H, Math.ceil(rect.y + rect.h));
  for (let py = y0; py < y1; py++) {
    const v = Math.floor(((py + 0.5 - rect.y) / rect.h) * S);
    if (v < 0 || v >= S) continue;
    for (let px = x0; px < x1; px++) {
      const u = Math.floor(((px + 0.5 - rect.x) / rect.w) * S);
      if (u < 0 || u >= S) continue;
      for (let c = 0; c < 3; c++) {
        const i = 3 * (py * W + px) + c;
        const val = painting.data[i] + 255 * delta[c * S * S + v * S + u];
        out[i] = Math.max(0, Math.min(255, Math.round(val)));
      }
    }
  }
  return { width: W, height: H, data: out };
}

/**
 * Channel-major [3, S, S] in [0, 1] -> interleaved 8-bit RGB (rounded, clamped).
 *
 * @example
 * const png = await sharp(planesToRgb(x01, 224).data, { raw: { width: 224, height: 224, channels: 3 } }).png().toBuffer();
 */
export function planesToRgb(x: Float32Array, S: number): RgbImage {
  const data = new Uint8Array(3 * S * S);
  for (let i = 0; i < S * S; i++) {
    for (let c = 0; c < 3; c++)
      data[3 * i + c] = Math.max(0, Math.min(255, Math.round(x[c * S * S + i] * 255)));
  }
  return { width: S, height: S, data };
}

/**
 * Steers one painting (see the module comment). `opts.decoded` is the painting already decoded (e.g. under the
 * server's pixel budget); `image` then only names it.
 *
 * @example
 * const r = await steerPainting(clip, 'a.png', { toward: 'a red circle', epsilon: 4 / 255, steps: 40, probes });
 */
export async function steerPainting(
  clip: Clip,
  image: string,
  req: SteerRequest,
  opts: { decoded?: RgbImage } = {},
): Promise<SteerResult> {
  const t0 = performance.now();
  const target = steerTarget(req);
  const engine = clip.engine;
  const pre = clip.preprocessor.config;
  const { mean, std } = pre;
  const S = engine.config.vision.imageSize;
  const E = engine.config.embedDim;
  const decoded = opts.decoded ?? (await decodeImage(image, { maxPixels: clip.maxPixels }));
  const view = prepareView(decoded, 'crop', pre);
  const x0 = denormalisePixels(view.inputs[0], S, mean, std);
  const [prepared] = await prepareTargets(clip, [target]);
  const res = await pgdLinf(engine, x0, 1, [prepared.head], {
    epsilon: req.epsilon,
    steps: req.steps,
    stepFraction: req.stepFraction,
    mean,
    std,
  });
  const steered = res.pixels;
  const rgb8 = planesToRgb(steered, S);
  const steered8 = Float32Array.from({ length: 3 * S * S }, (_, k) => {
    const c = Math.floor(k / (S * S));
    return rgb8.data[3 * (k % (S * S)) + c] / 255;
  });
  const delta = steered.map((v, k) => v - x0[k]);
  const steeredPainting = applyToPainting(decoded, view.transform.rects[0], S, delta);
  // embeddings: original, steered (float), steered (8-bit) and the steered painting through preprocessing
  const rows = new Float32Array(3 * 3 * S * S);
  rows.set(x0, 0);
  rows.set(steered, 3 * S * S);
  rows.set(steered8, 6 * S * S);
  const emb = await engine.embedImages(normalisePixels(rows, S, mean, std), 3);
  const [embPainting] = await clip.encodeImage([steeredPainting]);
  const embs = [0, 1, 2].map((i) => emb.subarray(i * E, (i + 1) * E));
  const score = (e: ArrayLike<number>) => scoreEmbedding(e, prepared.head, engine.logitScale);
  const k = req.topK ?? 3;
  const zeroShot: Record<string, SteerAnswers> = {};
  for (const p of req.probes) {
    const before = answerDimension(p, embs[0], k);
    const after = answerDimension(p, embs[1], k);
    const afterPainting = answerDimension(p, embPainting, k);
    zeroShot[p.name] = {
      before,
      after,
      after8bit: answerDimension(p, embs[2], k),
      afterPainting,
      flipped: after.top !== before.top,
      flippedPainting: afterPainting.top !== before.top,
    };
  }
  let linf = 0;
  for (const d of delta) linf = Math.max(linf, Math.abs(d));
  let linfPainting = 0;
  for (let i = 0; i < decoded.data.length; i++) {
    linfPainting = Math.max(linfPainting, Math.abs(decoded.data[i] - steeredPainting.data[i]) / 255);
  }
  const paintingQuality = compareImages(decoded, steeredPainting);
  return {
    image,
    target,
    targetText: describeTarget(target),
    epsilon: req.epsilon,
    steps: req.steps,
    stepSize: (req.stepFraction ?? 2.5 / req.steps) * req.epsilon,
    inputRect: view.transform.rects[0],
    paintingSize: [decoded.height, decoded.width],
    score: {
      before: res.scoresBefore[0],
      after: score(embs[1]),
      after8bit: score(embs[2]),
      afterPainting: score(embPainting),
    },
    zeroShot,
    change: {
      input: { linf, psnr: psnr(x0, steered), ssim: ssim(x0, steered, 3, S, S) },
      painting: { linf: linfPainting, ...paintingQuality },
    },
    seconds: (performance.now() - t0) / 1000,
    engine: engine.description,
    arrays: { original: x0, steered, painting: decoded, steeredPainting },
  };
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

const png = (img: RgbImage) =>
  sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .png()
    .toBuffer();

/** A finite number for JSON (Infinity, e.g. the PSNR of an unchanged image, becomes null). */
const finite = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(7)) : null);

/** The JSON of a steering run (file names filled in by {@link writeSteer}). */
export interface SteerJson {
  image: string;
  target: TargetSpec;
  target_text: string;
  epsilon: number;
  /** ε × 255. */
  epsilon_255: number;
  steps: number;
  step_size: number;
  input_rect: ViewRect;
  painting_size: [number, number];
  score: {
    before: number | null;
    after: number | null;
    after_8bit: number | null;
    after_painting: number | null;
  };
  zero_shot: Record<
    string,
    {
      before: DimensionAnswer;
      after: DimensionAnswer;
      after_8bit: DimensionAnswer;
      after_painting: DimensionAnswer;
      flipped: boolean;
      flipped_painting: boolean;
    }
  >;
  change: {
    input: { linf: number | null; psnr: number | null; ssim: number | null };
    painting: { linf: number | null; psnr: number | null; ssim: number | null };
  };
  files: { steered_input: string; perturbation: string; perturbation_npy: string; steered_painting: string };
  seconds: number;
  engine: string;
}

/**
 * Writes the steered model input (8-bit PNG), the perturbation amplified to the full grey range
 * (0.5 + δ / 2ε), the perturbation itself (`.npy`, float32 [3, S, S]), the steered painting (PNG) and returns
 * the JSON (also written as `<stem>__steer__<target>__eps<k>.json`).
 *
 * @example
 * const json = await writeSteer('out/steer', result);
 */
export async function writeSteer(dir: string, r: SteerResult): Promise<SteerJson> {
  await mkdir(dir, { recursive: true });
  const S = Math.round(Math.sqrt(r.arrays.original.length / 3));
  const stem = `${slugify(basename(r.image, extname(r.image)), 60)}__steer__${slugify(r.targetText, 40)}__eps${finite(r.epsilon * 255)}`;
  const delta = r.arrays.steered.map((v, k) => v - r.arrays.original[k]);
  const amplified = delta.map((d) => 0.5 + d / (2 * r.epsilon));
  const files = {
    steered_input: `${stem}__input.png`,
    perturbation: `${stem}__perturbation.png`,
    perturbation_npy: `${stem}__perturbation.npy`,
    steered_painting: `${stem}__painting.png`,
  };
  await writeAtomic(join(dir, files.steered_input), await png(planesToRgb(r.arrays.steered, S)));
  await writeAtomic(join(dir, files.perturbation), await png(planesToRgb(amplified, S)));
  await writeAtomic(join(dir, files.perturbation_npy), encodeNpy(delta, [3, S, S]));
  await writeAtomic(join(dir, files.steered_painting), await png(r.arrays.steeredPainting));
  const json: SteerJson = {
    image: r.image,
    target: r.target,
    target_text: r.targetText,
    epsilon: r.epsilon,
    epsilon_255: Number((r.epsilon * 255).toPrecision(6)),
    steps: r.steps,
    step_size: r.stepSize,
    input_rect: r.inputRect,
    painting_size: r.paintingSize,
    score: {
      before: finite(r.score.before),
      after: finite(r.score.after),
      after_8bit: finite(r.score.after8bit),
      after_painting: finite(r.score.afterPainting),
    },
    zero_shot: Object.fromEntries(
      Object.entries(r.zeroShot).map(([k, a]) => [
        k,
        {
          before: a.before,
          after: a.after,
          after_8bit: a.after8bit,
          after_painting: a.afterPainting,
          flipped: a.flipped,
          flipped_painting: a.flippedPainting,
        },
      ]),
    ),
    change: {
      input: {
        linf: finite(r.change.input.linf),
        psnr: finite(r.change.input.psnr),
        ssim: finite(r.change.input.ssim),
      },
      painting: {
        linf: finite(r.change.painting.linf),
        psnr: finite(r.change.painting.psnr),
        ssim: finite(r.change.painting.ssim),
      },
    },
    files,
    seconds: Number(r.seconds.toFixed(3)),
    engine: r.engine,
  };
  await writeAtomic(join(dir, `${stem}.json`), `${JSON.stringify(json, null, 2)}\n`);
  return json;
}
