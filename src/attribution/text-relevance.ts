/**
 * Text-side relevance (Chefer et al., ICCV 2021), following the text branch of `interpret()` in their CLIP notebook
 * (hila-chefer/Transformer-MM-Explainability @ 58eaea8): which words of a prompt make its image–text logit
 * s = logitScale · cos(image, text) high, with the image embedding held fixed. For the text blocks l ≥ startLayer
 * (default −1: the last block, the notebook's `start_layer_text`):
 *   cam_l = mean over heads of clamp(∂s/∂A_l ⊙ A_l, min 0),   R = I,   R ← R + cam_l · R,
 * where A_l are the causal-masked attention probabilities. The relevance of token j is R[eot, j]; the notebook
 * displays the text tokens (between SOT and EOT) normalised to sum 1, which is `tokens[].value` here, with each
 * token as a string. `row` keeps R[eot, 0..eot] raw (SOT and EOT included; the identity adds 1 at EOT).
 *
 * A painting seen through several inputs (the tiles view) gets the mean over its inputs, as its scores do.
 *
 * @example
 * const [r] = await explainTextRelevance(clip, { image: 'wave.jpg', prompts: ['a great wave off kanagawa'] });
 * r.tokens; // [{ token: 'a', value: 0.05 }, { token: 'great', value: 0.31 }, ...]
 */
import type { Clip } from '../core/clip.ts';
import { decodeImage, type RgbImage } from '../core/image-decode.ts';
import type { ClipTokenizer } from '../core/tokenizer.ts';
import type { ClipEngine } from '../engine/engine.ts';
import { rowTimesMatrix } from './utils.ts';
import { prepareView, type ViewKind } from './views.ts';

/** One text token and its share of the prompt's relevance. */
export interface TokenRelevance {
  token: string;
  value: number;
}

export interface TextRelevance {
  prompt: string;
  /** The text tokens between SOT and EOT, in order, with R[eot, j] / Σ_j R[eot, j] (summing to 1). */
  tokens: TokenRelevance[];
  /** R[eot, 0..eot] raw: SOT, the text tokens, EOT (identity included). */
  row: number[];
  /** The prompt's logit for the image (logitScale · cos). */
  score: number;
  /** The first text block used (resolved, ≥ 0). */
  startLayer: number;
  /** True when the prompt was cut to the context length. */
  truncated: boolean;
}

export interface TextRelevanceOptions {
  /** First text block propagated; negative counts from the end (default −1, the notebook's). */
  startLayer?: number;
  /** Prompts per backward pass (default 16). */
  batch?: number;
}

/**
 * R[eot, :] [C] of one row from per-layer text probabilities and gradients (each [H, C, C] at offset o):
 * r = e_eot, then r ← r + r·cam_l from the last block down to `start` (the EOT row of Π_l (I + cam_l)).
 *
 * @example
 * const row = textRelevanceRow(probs, grads, H, 77, eot, L - 1, b * H * 77 * 77);
 */
export function textRelevanceRow(
  probs: Float32Array[],
  grads: Float32Array[],
  H: number,
  C: number,
  eot: number,
  start: number,
  o = 0,
): Float64Array {
  let r = new Float64Array(C);
  r[eot] = 1;
  for (let l = probs.length - 1; l >= start; l--) {
    const cam = new Float64Array(C * C);
    const a = probs[l];
    const g = grads[l];
    for (let h = 0; h < H; h++) {
      const base = o + h * C * C;
      for (let i = 0; i < C * C; i++) {
        const v = g[base + i] * a[base + i];
        if (v > 0) cam[i] += v / H;
      }
    }
    const rc = rowTimesMatrix(r, cam, C);
    const next = new Float64Array(C);
    for (let j = 0; j < C; j++) next[j] = r[j] + rc[j];
    r = next;
  }
  return r;
}

/**
 * Token relevance of each prompt for one image embedding per prompt (`imageEmbeds[i]` [E], any norm).
 *
 * @example
 * const [r] = await textRelevance(clip.engine, clip.tokenizer, [imageEmbed], ['a red circle']);
 */
export async function textRelevance(
  engine: ClipEngine,
  tokenizer: ClipTokenizer,
  imageEmbeds: Float32Array[],
  prompts: string[],
  opts: TextRelevanceOptions = {},
): Promise<TextRelevance[]> {
  const { layers: L, heads: H, contextLength: C } = engine.config.text;
  const E = engine.config.embedDim;
  if (imageEmbeds.length !== prompts.length)
    throw new Error(`text relevance: ${imageEmbeds.length} image embeddings for ${prompts.length} prompts`);
  const startLayer = opts.startLayer ?? -1;
  const start = startLayer < 0 ? L + startLayer : startLayer;
  if (!Number.isInteger(start) || start < 0 || start >= L)
    throw new Error(`text relevance: startLayer ${startLayer} is outside 0..${L - 1} (or −${L}..−1)`);
  const batch = opts.batch ?? 16;
  const out: TextRelevance[] = [];
  for (let p = 0; p < prompts.length; p += batch) {
    const chunk = prompts.slice(p, p + batch);
    const B = chunk.length;
    const tok = tokenizer.tokenize(chunk, { contextLength: C }); // ids [B, C]
    const unit = new Float32Array(B * E); // [B, E]
    for (let b = 0; b < B; b++) {
      const e = imageEmbeds[p + b];
      if (e.length !== E)
        throw new Error(`text relevance: image embedding has ${e.length} values, expected ${E}`);
      const n = Math.hypot(...e);
      for (let i = 0; i < E; i++) unit[b * E + i] = e[i] / n;
    }
    const { probs, grads, scores } = await engine.textAttentionGradients(tok.ids, tok.eotIndex, unit, start);
    for (let b = 0; b < B; b++) {
      const eot = tok.eotIndex[b];
      const r = textRelevanceRow(probs, grads, H, C, eot, start, b * H * C * C);
      let sum = 0;
      for (let j = 1; j < eot; j++) sum += r[j];
      const ids = tok.ids.subarray(b * C, b * C + eot + 1);
      out.push({
        prompt: chunk[b],
        tokens: Array.from({ length: Math.max(0, eot - 1) }, (_, k) => ({
          token: tokenizer.decode([ids[k + 1]]),
          value: sum > 0 ? r[k + 1] / sum : 0,
        })),
        row: Array.from(r.subarray(0, eot + 1)),
        score: scores[b],
        startLayer: start,
        truncated: tok.truncated[b],
      });
    }
  }
  return out;
}

/**
 * Token relevance of prompts for model inputs (normalised pixels [3, S, S] each, e.g. a view's tiles): every
 * input's embedding is used in turn and the results are averaged over the inputs.
 *
 * @example
 * const [r] = await textRelevanceForInputs(clip.engine, clip.tokenizer, [pixels], ['a red circle']);
 */
export async function textRelevanceForInputs(
  engine: ClipEngine,
  tokenizer: ClipTokenizer,
  inputs: Float32Array[],
  prompts: string[],
  opts: TextRelevanceOptions = {},
): Promise<TextRelevance[]> {
  if (inputs.length === 0) throw new Error('text relevance: no model input');
  const E = engine.config.embedDim;
  const S = engine.config.vision.imageSize;
  const pixels = new Float32Array(inputs.length * 3 * S * S); // [n, 3, S, S]
  inputs.forEach((x, i) => pixels.set(x, i * 3 * S * S));
  const emb = await engine.embedImages(pixels, inputs.length); // [n, E]
  let mean: TextRelevance[] | undefined;
  for (let i = 0; i < inputs.length; i++) {
    const e = emb.subarray(i * E, (i + 1) * E);
    const res = await textRelevance(
      engine,
      tokenizer,
      prompts.map(() => e),
      prompts,
      opts,
    );
    if (!mean) mean = res;
    else
      mean.forEach((m, k) => {
        m.score += res[k].score;
        m.tokens.forEach((t, j) => {
          t.value += res[k].tokens[j].value;
        });
        m.row.forEach((_, j) => {
          m.row[j] += res[k].row[j];
        });
      });
  }
  const n = inputs.length;
  for (const m of mean as TextRelevance[]) {
    m.score /= n;
    for (const t of m.tokens) t.value /= n;
    m.row = m.row.map((v) => v / n);
  }
  return mean as TextRelevance[];
}

export interface TextRelevanceRequest {
  /** A file path, encoded bytes, or a decoded image. */
  image: string | Uint8Array | RgbImage;
  prompts: string[];
  /** How the painting is shown to CLIP (default `crop`). */
  view?: ViewKind;
  tileOverlap?: number;
  startLayer?: number;
}

/**
 * Token relevance of prompts for one painting, seen through a view (as `explainImage` sees it).
 *
 * @example
 * const [r] = await explainTextRelevance(clip, { image: 'wave.jpg', prompts: ['a wave'], view: 'pad' });
 */
export async function explainTextRelevance(clip: Clip, req: TextRelevanceRequest): Promise<TextRelevance[]> {
  if (!Array.isArray(req.prompts) || req.prompts.length === 0)
    throw new Error('text relevance: give at least one prompt');
  for (const p of req.prompts)
    if (typeof p !== 'string' || p.trim() === '')
      throw new Error('text relevance: prompts must be non-empty strings');
  const decoded =
    typeof req.image === 'string' || req.image instanceof Uint8Array
      ? await decodeImage(req.image, { maxPixels: clip.maxPixels })
      : req.image;
  const view = prepareView(decoded, req.view ?? 'crop', clip.preprocessor.config, {
    tileOverlap: req.tileOverlap,
  });
  return textRelevanceForInputs(clip.engine, clip.tokenizer, view.inputs, req.prompts, {
    startLayer: req.startLayer,
  });
}
