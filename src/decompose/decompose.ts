/**
 * Direct-contribution decomposition of CLIP's image embedding (Gandelsman, Efros & Steinhardt, "Interpreting
 * CLIP's Image Representation via Text-Based Decomposition", ICLR 2024).
 *
 * The class token after the last block is a sum of residual terms: the embedding term z⁰ (class + position
 * embedding after ln_pre), and for every layer l the output of each attention head h at the class token,
 * oˡʰ = Σ_j Aˡʰ[0, j] · W_Oʰ (W_Vʰ LN₁(xˡ)_j + b_Vʰ), the out-projection bias b_Oˡ and the MLP output mˡ at the
 * class token. ln_post is linear up to its per-image scale σ = sqrt(var(z) + eps) (the mean removal is linear),
 * so with that σ fixed the image embedding e = P · ln_post(z) is exactly
 *   e = Σ_terms P(γ ⊙ (c − mean(c)) / σ) + P β,
 * where P β (ln_post's bias through the projection) is one more, image-independent, term. Each head term is
 * further a sum over image tokens j (the spatial map), and projecting any term on a text direction d gives its
 * score ⟨e_term, d⟩; the scores of all terms add up to ⟨e, d⟩.
 *
 * The residual stream xˡ comes from the TF.js reference model (ClipModel.forwardVision with `hidden`); every
 * term is then recomputed in float64 from the block parameters (q scaled by head_dim^-0.5, as clip-model.ts),
 * including the class-token attention row, so the reconstruction error measures the decomposition itself. The
 * class row needs no key matrix: q₀ʰ·k_jʰ = ⟨W_Kʰᵀ q₀ʰ, y_j⟩ + ⟨q₀ʰ, b_Kʰ⟩, and a head's output at the class
 * token is W_Oʰ(W_Vʰ ȳʰ + b_Vʰ) with ȳʰ = Σ_j A_j y_j, so a layer costs O(T·W·H + W²) besides the forward pass.
 *
 * @example
 * const dec = await ClipDecomposer.forClip(clip);
 * const [d] = await dec.decompose(pixels, 1, [{ label: 'a red circle', vector: dir }]);
 * d.reconstructionError;                 // max |Σ terms − embedding|, ~1e-6
 * headTokenMap(d, 3, 1, 0);              // [T] token contributions of layer 3, head 1 on direction 0
 * dec.dispose();
 */
import { basename } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../core/backend.ts';
import type { ClipConfig } from '../core/clip-config.ts';
import { ClipModel } from '../core/clip-model.ts';
import { tidyRead } from '../core/tidy-read.ts';
import { type BlockParams, type ClipParams, loadClipParams } from '../core/weights.ts';
import { activation64, dot, layerNorm64, lnStats, matTVec, matVec } from './math.ts';

/** A direction of the embedding space to project terms on (e.g. a normalised text embedding), [E]. */
export interface TextDirection {
  /** What the direction stands for, e.g. `a red circle` or `a red circle − rest`. */
  label: string;
  vector: Float64Array;
}

export const TERM_KINDS = ['embed', 'head', 'attn_bias', 'mlp', 'ln_bias'] as const;
/**
 * embed: the class token entering block 0 (class + position embedding after ln_pre; image-independent);
 * head: one attention head's output at the class token; attn_bias: a layer's attention out-projection bias;
 * mlp: a layer's MLP output at the class token; ln_bias: ln_post's bias through the projection.
 */
export type TermKind = (typeof TERM_KINDS)[number];

/** One additive term of the image embedding. */
export interface DecompositionTerm {
  kind: TermKind;
  /** Block index (null for embed and ln_bias). */
  layer: number | null;
  /** Head index (head terms only). */
  head?: number;
  /** The term's direct contribution to the (unnormalised) image embedding, [E]. */
  contribution: Float64Array;
  /** ⟨contribution, direction_k⟩ for each direction, [K]. */
  scores: Float64Array;
}

/** The decomposition of one image. */
export interface ImageDecomposition {
  /** The model's image embedding (projected, not normalised), [E]. */
  embedding: Float64Array;
  /** Σ of all term contributions, [E]. */
  reconstruction: Float64Array;
  /** max |reconstruction − embedding|. */
  reconstructionError: number;
  /** max over layers of |x_cls + attn + mlp (recomputed) − the model's next residual stream at the class token|. */
  streamError: number;
  /** ln_post's per-image scale sqrt(var(z) + eps) of the final class token z. */
  sigma: number;
  /** ⟨embedding, direction_k⟩, [K]. */
  totals: Float64Array;
  terms: DecompositionTerm[];
  layers: number;
  heads: number;
  /** Tokens T = 1 + grid² (token 0 is the class token). */
  tokens: number;
  grid: number;
  directions: string[];
  /** Per layer, head and direction, each token's share of the head's score: [L, H, K, T] (row-major). */
  tokenScores: Float64Array;
  /** Class-token attention rows, recomputed: [L, H, T]. */
  attention: Float64Array;
}

/** Per-model, per-direction quantities: g = C diag(γ) Pᵀ d, ρˡʰ = W_Vʰᵀ W_Oʰᵀ g, κˡʰ = ⟨W_Oʰᵀ g, b_Vʰ⟩. */
interface PreparedDirection {
  g: Float64Array; // [W]
  rho: Float64Array[]; // per l*H + h: [W]
  kappa: Float64Array; // [L*H]
}

/** Source of the residual stream: pixels [n, 3, S, S] -> L + 1 arrays [n, T, W] (after ln_pre, after each block). */
export type HiddenStates = (
  pixels: Float32Array,
  n: number,
) => Promise<{ hidden: Float32Array[]; embeds: Float32Array }>;

/**
 * Decomposes image embeddings into per-layer, per-head, MLP and embedding terms (see the module comment).
 *
 * @example
 * const dec = ClipDecomposer.fromParams(cfg, params); // its own TF.js model
 * const out = await dec.decompose(pixels, n, directions);
 * dec.dispose();
 */
export class ClipDecomposer {
  private readonly cache = new Map<Float64Array, PreparedDirection>();

  private constructor(
    readonly config: ClipConfig,
    private readonly params: ClipParams,
    private readonly hiddenStates: HiddenStates,
    private readonly owned?: ClipModel,
  ) {}

  /**
   * A decomposer over parameters; the residual stream comes from `model` (a TF.js ClipModel built from the same
   * parameters), or from a model it creates and disposes itself.
   *
   * @example
   * const dec = ClipDecomposer.fromParams(cfg, params, engine.model);
   */
  static fromParams(config: ClipConfig, params: ClipParams, model?: ClipModel): ClipDecomposer {
    const m = model ?? ClipModel.fromParams(config, params);
    const S = config.vision.imageSize;
    const hiddenStates: HiddenStates = async (pixels, n) => {
      const [embeds, ...hidden] = tidyRead(() => {
        const out = m.forwardVision(tf.tensor4d(pixels, [n, 3, S, S]), { hidden: true });
        return [out.embeds, ...out.hidden];
      });
      return { embeds, hidden };
    };
    return new ClipDecomposer(config, params, hiddenStates, model ? undefined : m);
  }

  /**
   * A decomposer for a loaded Clip: reuses its TF.js model when the engine is tfjs, else builds one (the
   * decomposition is a forward-only analysis on the reference port). Parameters are read again from the folder.
   *
   * @example
   * const dec = await ClipDecomposer.forClip(clip);
   */
  static async forClip(clip: {
    dir: string;
    config: ClipConfig;
    weightsFile: string;
    engine: { kind: string };
  }): Promise<ClipDecomposer> {
    const params = await loadClipParams(clip.dir, clip.config, basename(clip.weightsFile));
    const engine = clip.engine as { kind: string; model?: ClipModel };
    if (engine.kind === 'tfjs' && engine.model instanceof ClipModel) {
      return ClipDecomposer.fromParams(clip.config, params, engine.model);
    }
    await initBackend();
    return ClipDecomposer.fromParams(clip.config, params);
  }

  /** Pulls direction d back to the residual stream and through every head's OV circuit (cached per vector). */
  private prepare(d: Float64Array): PreparedDirection {
    const hit = this.cache.get(d);
    if (hit) return hit;
    const { vision: v, embedDim: E } = this.config;
    const W = v.width;
    const H = v.heads;
    const D = W / H;
    const p = this.params.vision;
    if (d.length !== E)
      throw new Error(`decompose: a direction has ${d.length} values, the embedding has ${E}`);
    // g = C diag(γ) Pᵀ d, so that ⟨P(γ ⊙ (c − mean c)/σ), d⟩ = ⟨c, g⟩ / σ
    const pt = matTVec(p.projection.data, d, E, W); // [W]
    const g = Float64Array.from(pt, (x, i) => x * p.lnPost.weight.data[i]);
    const mg = g.reduce((a, b) => a + b, 0) / W;
    for (let i = 0; i < W; i++) g[i] -= mg;
    const rho: Float64Array[] = [];
    const kappa = new Float64Array(v.layers * H);
    p.blocks.forEach((b, l) => {
      for (let h = 0; h < H; h++) {
        // W_Oʰᵀ g: out.weight [W, W] restricted to columns hD..(h+1)D -> [D]
        const og = matTVec(b.out.weight.data, g, W, D, { c0: h * D, stride: W });
        // W_Vʰᵀ (W_Oʰᵀ g): v rows of qkv.weight [3W, W] are 2W + hD .. 2W + (h+1)D -> [W]
        rho.push(matTVec(b.qkv.weight.data, og, D, W, { r0: 2 * W + h * D }));
        kappa[l * H + h] = dot(og, b.qkv.bias.data, D, 0, 2 * W + h * D);
      }
    });
    const out = { g, rho, kappa };
    this.cache.set(d, out);
    return out;
  }

  /**
   * Decomposes n images (normalised pixels [n, 3, S, S]) and projects every term and token on the directions.
   *
   * @example
   * const [d] = await dec.decompose(pre.pixelValues, 1, [{ label: 'a wave', vector: unitTextEmbedding }]);
   */
  async decompose(
    pixels: Float32Array,
    n: number,
    directions: TextDirection[] = [],
  ): Promise<ImageDecomposition[]> {
    const S = this.config.vision.imageSize;
    if (pixels.length !== n * 3 * S * S) {
      throw new Error(`decompose: pixels hold ${pixels.length} values, expected ${n} × 3 × ${S} × ${S}`);
    }
    const prepared = directions.map((d) => this.prepare(d.vector));
    const { hidden, embeds } = await this.hiddenStates(pixels, n);
    return Array.from({ length: n }, (_, b) => this.decomposeOne(hidden, embeds, b, directions, prepared));
  }

  private decomposeOne(
    hidden: Float32Array[],
    embeds: Float32Array,
    b: number,
    directions: TextDirection[],
    prepared: PreparedDirection[],
  ): ImageDecomposition {
    const { vision: v, embedDim: E } = this.config;
    const { width: W, heads: H, layers: L, grid: G } = v;
    const T = G * G + 1;
    const D = W / H;
    const K = directions.length;
    const p = this.params.vision;
    const row = (l: number) => hidden[l].subarray(b * T * W, (b + 1) * T * W); // [T, W] of image b
    // residual-stream terms at the class token, [W] each
    const resid: { kind: DecompositionTerm['kind']; layer: number | null; head?: number; c: Float64Array }[] =
      [];
    resid.push({ kind: 'embed', layer: null, c: Float64Array.from(row(0).subarray(0, W)) });
    const tokenScores = new Float64Array(L * H * K * T);
    const attention = new Float64Array(L * H * T);
    let streamError = 0;
    const zModel = row(L).subarray(0, W);
    const { sigma } = lnStats(zModel, v.eps);
    for (let l = 0; l < L; l++) {
      const x = row(l);
      const blk: BlockParams = p.blocks[l];
      // y_j = LN₁(x_j) for every token: [T, W]
      const y = new Float64Array(T * W);
      for (let t = 0; t < T; t++)
        y.set(layerNorm64(x, blk.ln1.weight.data, blk.ln1.bias.data, v.eps, W, t * W), t * W);
      const y0 = y.subarray(0, W);
      const q0 = matVec(blk.qkv.weight.data, y0, W, W, blk.qkv.bias.data); // q rows 0..W-1 -> [W]
      const scale = D ** -0.5;
      const attn = Float64Array.from(blk.out.bias.data); // Σ_h oʰ + b_O, [W]
      for (let h = 0; h < H; h++) {
        const qh = q0.subarray(h * D, (h + 1) * D).map((q) => q * scale); // [D]
        const kq = matTVec(blk.qkv.weight.data, qh, D, W, { r0: W + h * D }); // W_Kʰᵀ q₀ʰ, [W]
        const kb = dot(qh, blk.qkv.bias.data, D, 0, W + h * D);
        const a = new Float64Array(T);
        let max = Number.NEGATIVE_INFINITY;
        for (let t = 0; t < T; t++) {
          a[t] = dot(kq, y, W, 0, t * W) + kb;
          if (a[t] > max) max = a[t];
        }
        let sum = 0;
        for (let t = 0; t < T; t++) {
          a[t] = Math.exp(a[t] - max);
          sum += a[t];
        }
        for (let t = 0; t < T; t++) a[t] /= sum;
        attention.set(a, (l * H + h) * T);
        // ȳʰ = Σ_j A_j y_j -> v̄ʰ = W_Vʰ ȳʰ + b_Vʰ -> oʰ = W_Oʰ v̄ʰ
        const ybar = new Float64Array(W);
        for (let t = 0; t < T; t++) {
          const at = a[t];
          for (let i = 0; i < W; i++) ybar[i] += at * y[t * W + i];
        }
        const vbar = matVec(blk.qkv.weight.data, ybar, D, W, blk.qkv.bias.data, { r0: 2 * W + h * D });
        const o = matVec(blk.out.weight.data, vbar, W, D, undefined, { c0: h * D, stride: W });
        for (let i = 0; i < W; i++) attn[i] += o[i];
        resid.push({ kind: 'head', layer: l, head: h, c: o });
        // token scores s_j = A_j (⟨ρ, y_j⟩ + κ) / σ
        for (let k = 0; k < K; k++) {
          const pd = prepared[k];
          const rho = pd.rho[l * H + h];
          const kappa = pd.kappa[l * H + h];
          const off = ((l * H + h) * K + k) * T;
          for (let t = 0; t < T; t++)
            tokenScores[off + t] = (a[t] * (dot(rho, y, W, 0, t * W) + kappa)) / sigma;
        }
      }
      resid.push({ kind: 'attn_bias', layer: l, c: Float64Array.from(blk.out.bias.data) });
      // MLP at the class token: fc2(act(fc1(LN₂(x₀ + attn))))
      const mid = Float64Array.from(attn, (a, i) => a + x[i]);
      const h2 = layerNorm64(mid, blk.ln2.weight.data, blk.ln2.bias.data, v.eps);
      const f1 = matVec(blk.fc1.weight.data, h2, v.mlpDim, W, blk.fc1.bias.data);
      for (let i = 0; i < f1.length; i++) f1[i] = activation64(f1[i], v.act);
      const m = matVec(blk.fc2.weight.data, f1, W, v.mlpDim, blk.fc2.bias.data);
      resid.push({ kind: 'mlp', layer: l, c: m });
      const next = row(l + 1);
      for (let i = 0; i < W; i++) streamError = Math.max(streamError, Math.abs(mid[i] + m[i] - next[i]));
    }
    // through ln_post (fixed σ) and the projection
    const gamma = p.lnPost.weight.data;
    const toEmbedding = (c: Float64Array): Float64Array => {
      const mc = c.reduce((a, x) => a + x, 0) / W;
      const w = Float64Array.from(c, (x, i) => (gamma[i] * (x - mc)) / sigma);
      return matVec(p.projection.data, w, E, W);
    };
    const score = (e: Float64Array) => Float64Array.from(directions, (d) => dot(e, d.vector));
    const terms: DecompositionTerm[] = resid.map((r) => {
      const contribution = toEmbedding(r.c);
      return {
        kind: r.kind,
        layer: r.layer,
        ...(r.head !== undefined ? { head: r.head } : {}),
        contribution,
        scores: score(contribution),
      };
    });
    const lnBias = matVec(p.projection.data, p.lnPost.bias.data, E, W);
    terms.push({ kind: 'ln_bias', layer: null, contribution: lnBias, scores: score(lnBias) });
    const reconstruction = new Float64Array(E);
    for (const t of terms) for (let i = 0; i < E; i++) reconstruction[i] += t.contribution[i];
    const embedding = Float64Array.from(embeds.subarray(b * E, (b + 1) * E));
    let reconstructionError = 0;
    for (let i = 0; i < E; i++)
      reconstructionError = Math.max(reconstructionError, Math.abs(reconstruction[i] - embedding[i]));
    return {
      embedding,
      reconstruction,
      reconstructionError,
      streamError,
      sigma,
      totals: score(embedding),
      terms,
      layers: L,
      heads: H,
      tokens: T,
      grid: G,
      directions: directions.map((d) => d.label),
      tokenScores,
      attention,
    };
  }

  /**
   * Forgets the directions prepared so far (they are cached by vector: a long-lived decomposer, as the server's,
   * would otherwise keep every direction it was ever given).
   *
   * @example
   * await dec.decompose(pixels, 1, dirs);
   * dec.clearDirections();
   */
  clearDirections(): void {
    this.cache.clear();
  }

  dispose(): void {
    this.owned?.dispose();
    this.cache.clear();
  }
}

/**
 * Token contributions [T] of one head (layer l, head h) on direction k; they sum to the head term's score.
 * Token 0 is the class token; tokens 1..G² are the patches in row-major order.
 *
 * @example
 * const m = headTokenMap(d, 2, 0, 0); // Float64Array [T]
 */
export function headTokenMap(d: ImageDecomposition, l: number, h: number, k: number): Float64Array {
  const { heads: H, tokens: T, directions } = d;
  const K = directions.length;
  if (k < 0 || k >= K) throw new Error(`decompose: direction ${k} out of range (0..${K - 1})`);
  const off = ((l * H + h) * K + k) * T;
  return d.tokenScores.slice(off, off + T);
}

/**
 * Sum of head token maps over selected layers and heads (default: all): the total direct attention
 * contribution of each token, [T].
 *
 * @example
 * const total = tokenMap(d, 0);                 // all layers and heads
 * const last = tokenMap(d, 0, { layers: [3] }); // one layer
 */
export function tokenMap(
  d: ImageDecomposition,
  k: number,
  sel: { layers?: number[]; heads?: number[] } = {},
): Float64Array {
  const layers = sel.layers ?? Array.from({ length: d.layers }, (_, l) => l);
  const heads = sel.heads ?? Array.from({ length: d.heads }, (_, h) => h);
  const out = new Float64Array(d.tokens);
  for (const l of layers) {
    for (const h of heads) {
      const m = headTokenMap(d, l, h, k);
      for (let t = 0; t < d.tokens; t++) out[t] += m[t];
    }
  }
  return out;
}

/**
 * The patch part of a token map as a G×G grid (row-major), dropping the class token.
 *
 * @example
 * const grid = patchGrid(tokenMap(d, 0)); // Float32Array [G*G]
 */
export function patchGrid(tokens: ArrayLike<number>): Float32Array {
  return Float32Array.from({ length: tokens.length - 1 }, (_, i) => tokens[i + 1]);
}
