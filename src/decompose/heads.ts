/**
 * Head roles over a collection: every image is decomposed, the direct contribution of each head of the
 * selected layers (the last few by default) is collected, and TextSpan names each head with the vocabulary
 * descriptions that explain most of its output variance. Heads are also ranked by how much of the variance of
 * the whole image embedding they carry (the trace of their output covariance over the images).
 *
 * @example
 * const roles = await headRoles(clip, decomposer, files, vocab, { lastLayers: 4, iterations: 5 });
 * roles.heads[0].picks.map((p) => p.text); // ['A Baroque painting …', 'Candlelight in a dark room.', …]
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { ClipDecomposer } from './decompose.ts';
import { unit64 } from './math.ts';
import { type TextSpanPick, textSpan } from './textspan.ts';
import type { Vocabulary } from './vocabulary.ts';

const IMAGE_EXTENSIONS = new Set([
  '.png',
  '.jpg',
  '.jpeg',
  '.webp',
  '.tif',
  '.tiff',
  '.gif',
  '.bmp',
  '.avif',
]);

/**
 * Image files of a folder (not recursive), sorted by name.
 *
 * @example
 * listImages('../shared/toy/A/eval/images'); // ['…/img_000.png', …]
 */
export function listImages(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new Error(`--images ${dir}: cannot list the folder (${(e as Error).message})`);
  }
  const files = names
    .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
  if (files.length === 0)
    throw new Error(`--images ${dir}: no image files (${[...IMAGE_EXTENSIONS].join(', ')})`);
  return files;
}

export interface HeadRole {
  layer: number;
  head: number;
  /** Variance of the head's direct contribution over the images (trace of its covariance). */
  variance: number;
  /** That variance as a share of the embedding's own variance over the images. */
  varianceShare: number;
  /** Mean norm of the head's contribution. */
  meanNorm: number;
  /** The TextSpan picks, with the category of each description. */
  picks: (TextSpanPick & { category: string })[];
}

export interface HeadRolesResult {
  images: number;
  layers: number[];
  iterations: number;
  rank: number;
  /** Variance of the image embedding over the images. */
  embeddingVariance: number;
  heads: HeadRole[];
  /** Max reconstruction error over the images (a check of the decomposition). */
  reconstructionError: number;
}

export interface HeadRolesOptions {
  /** Layers to analyse (default: the last `lastLayers`). */
  layers?: number[];
  /** How many final layers to analyse when `layers` is not given (default 4, capped at the depth). */
  lastLayers?: number;
  iterations?: number;
  rank?: number;
  /** Images per decomposition pass (default 8). */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs the head-role search. `preprocess` turns a file into normalised model input pixels [3, S, S];
 * `encodeText` gives unit text embeddings of the vocabulary.
 *
 * @example
 * const res = await headRoles(clip, dec, listImages(dir), await loadVocabulary(DEFAULT_VOCABULARY));
 */
export async function headRoles(
  clip: {
    preprocess(images: string[]): Promise<{ pixelValues: Float32Array }[]>;
    encodeText(texts: string[], opts?: { normalize?: boolean }): Promise<Float32Array[]>;
  },
  decomposer: ClipDecomposer,
  images: string[],
  vocabulary: Vocabulary,
  opts: HeadRolesOptions = {},
): Promise<HeadRolesResult> {
  const { layers: L, heads: H } = decomposer.config.vision;
  const E = decomposer.config.embedDim;
  const S = decomposer.config.vision.imageSize;
  if (images.length < 2) throw new Error(`head roles need at least 2 images, got ${images.length}`);
  const last = Math.min(opts.lastLayers ?? 4, L);
  const layers = opts.layers ?? Array.from({ length: last }, (_, i) => L - last + i);
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= L)
      throw new Error(`--layers: layer ${l} is not in 0..${L - 1}`);
  }
  const iterations = opts.iterations ?? 5;
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new Error(`iterations must be a positive integer, got ${iterations}`);
  const n = images.length;
  // head outputs per selected (layer, head): [n, E]
  const outputs = layers.flatMap(() => Array.from({ length: H }, () => new Float64Array(n * E)));
  const embeddings = new Float64Array(n * E);
  let reconstructionError = 0;
  const batch = opts.batch ?? 8;
  for (let i = 0; i < n; i += batch) {
    const files = images.slice(i, i + batch);
    const pre = await clip.preprocess(files);
    const pixels = new Float32Array(files.length * 3 * S * S);
    pre.forEach((p, j) => pixels.set(p.pixelValues, j * 3 * S * S));
    const decs = await decomposer.decompose(pixels, files.length);
    decs.forEach((d, j) => {
      reconstructionError = Math.max(reconstructionError, d.reconstructionError);
      embeddings.set(d.embedding, (i + j) * E);
      for (const t of d.terms) {
        if (t.kind !== 'head' || t.layer === null || t.head === undefined) continue;
        const li = layers.indexOf(t.layer);
        if (li < 0) continue;
        outputs[li * H + t.head].set(t.contribution, (i + j) * E);
      }
    });
    opts.onProgress?.(Math.min(i + batch, n), n);
  }
  const texts = vocabulary.entries.map((e) => e.text);
  const emb = await clip.encodeText(texts, { normalize: true });
  const textMat = new Float64Array(texts.length * E);
  emb.forEach((r, j) => textMat.set(unit64(r), j * E));
  const variance = (x: Float64Array) => {
    let s = 0;
    for (let k = 0; k < E; k++) {
      let m = 0;
      for (let r = 0; r < n; r++) m += x[r * E + k];
      m /= n;
      for (let r = 0; r < n; r++) s += (x[r * E + k] - m) ** 2;
    }
    return s / n;
  };
  const embeddingVariance = variance(embeddings);
  let rank = 0;
  const heads: HeadRole[] = [];
  layers.forEach((l, li) => {
    for (let h = 0; h < H; h++) {
      const data = outputs[li * H + h];
      const res = textSpan(data, n, textMat, texts, { iterations, rank: opts.rank });
      rank = Math.max(rank, res.rank);
      let norm = 0;
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let k = 0; k < E; k++) s += data[r * E + k] ** 2;
        norm += Math.sqrt(s) / n;
      }
      heads.push({
        layer: l,
        head: h,
        variance: res.variance,
        varianceShare: embeddingVariance > 0 ? res.variance / embeddingVariance : 0,
        meanNorm: norm,
        picks: res.picks.map((p) => ({ ...p, category: vocabulary.entries[p.index].category })),
      });
    }
  });
  return { images: n, layers, iterations, rank, embeddingVariance, heads, reconstructionError };
}
