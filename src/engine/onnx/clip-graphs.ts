/**
 * CLIP as ONNX graphs: the weight layout of `weights.bin` and one graph per kind of request. The forward passes
 * compute exactly what `src/core/clip-model.ts` computes (pre-LN blocks, class token, ln_pre, ln_post on CLS,
 * projection without bias, causal text mask, EOT pooling, q pre-scaled by head_dim^-0.5 in the stored weights).
 * ONNX Runtime has no autodiff, so the gradient graphs spell out the vector–Jacobian products of every layer as
 * ordinary nodes after the forward pass, in the same graph, so ORT plans and fuses them together. Activations
 * are 2-D [rows, width] around each linear layer (Gemm transB=1 with the [out, in] weight forward, MatMul(dy, W)
 * backward: one initializer for both).
 *
 * Backward passes keep a batch axis ([B, T, W]) and their tapes keep the forward's ([N, T, W]), so one graph
 * serves two request shapes by broadcasting: N = B images with one score head each, or N = 1 image shared by
 * all B heads (one forward pass, B backward rows: what multi-prompt methods on one painting need). Outputs
 * that depend on the image only (attn_l, Grad-ECLIP's q, k, v) then have N = 1 row.
 *
 * Graph kinds (N, B, K, L are symbolic):
 * - `vision`: pixels [B,3,S,S] -> embeds [B,E]
 * - `vision_attn`: + attn_l [B,H,T,T] for every layer
 * - `text`: ids [B,L] int64, rows [B] int64 (b·L + eot_b) -> embeds [B,E]
 * - `vision_grad`: pixels [N,3,S,S], text [B,K,E], weights [B,K], softmax [B], bias [B,K] -> scores [B],
 *   grad [B,3,S,S]
 * - `vision_attn_grad_<f>`: same inputs -> scores, attn_l [N,H,T,T] and dattn_l = ∂s/∂attn_l [B,H,T,T], l ≥ f
 * - `vision_legrad_<f>`: same inputs -> scores, and for l ≥ f: score_l (the head on block l's mean-pooled
 *   readout ln_post(mean_t x_l)·proj) and dattn_l = ∂score_l/∂attn_l through block l only (LeGrad)
 * - `vision_gradeclip_<h>`: same inputs -> scores, and for the last block recomputed with h heads over the full
 *   width: target_scores, grad = ∂target/∂attn_output[CLS] [B,W], q [N,W] (CLS), k, v [N,T,W] (Grad-ECLIP)
 * - `text_attn_grad_<f>`: ids [B,C] int64 (full context), rows [B] int64 (b·C + eot_b), image [B,E] (unit) ->
 *   scores [B] = logit_scale·cos, attn_l and dattn_l [B,H,C,C] for text layers l ≥ f
 *
 * @example
 * const layout = clipWeightLayout(cfg);
 * writeFileSync(join(dir, 'vision.onnx'), buildClipGraph('vision', cfg, layout));
 */
import type { Activation, ClipConfig, TowerConfig } from '../../core/clip-config.ts';
import type { BlockParams, ClipParams } from '../../core/weights.ts';
import { GraphBuilder, WeightLayout } from './onnx-writer.ts';

export type GraphKind =
  | 'vision'
  | 'vision_attn'
  | 'text'
  | 'vision_grad'
  | `vision_attn_grad_${number}`
  | `vision_legrad_${number}`
  | `vision_gradeclip_${number}`
  | `text_attn_grad_${number}`;

/**
 * The graph kind that returns attention gradients for layers ≥ from.
 *
 * @example
 * attnGradKind(11); // 'vision_attn_grad_11'
 */
export function attnGradKind(from: number): GraphKind {
  return `vision_attn_grad_${from}`;
}

/**
 * The graph kind of LeGrad's readout gradients for vision layers ≥ from.
 *
 * @example
 * legradKind(10); // 'vision_legrad_10'
 */
export function legradKind(from: number): GraphKind {
  return `vision_legrad_${from}`;
}

/**
 * The graph kind of Grad-ECLIP's inputs with the last block recomputed with `heads` heads.
 *
 * @example
 * gradEclipKind(1); // 'vision_gradeclip_1'
 */
export function gradEclipKind(heads: number): GraphKind {
  return `vision_gradeclip_${heads}`;
}

/**
 * The graph kind of text attention gradients for text layers ≥ from.
 *
 * @example
 * textAttnGradKind(11); // 'text_attn_grad_11'
 */
export function textAttnGradKind(from: number): GraphKind {
  return `text_attn_grad_${from}`;
}

interface WeightSpec {
  name: string;
  dims: number[];
  data: (p: ClipParams) => Float32Array;
}

function blockSpecs(prefix: string, c: TowerConfig, pick: (p: ClipParams) => BlockParams[]): WeightSpec[] {
  const W = c.width;
  const scale = (W / c.heads) ** -0.5;
  return Array.from({ length: c.layers }, (_, i): WeightSpec[] => {
    const b = (p: ClipParams) => pick(p)[i];
    const n = `${prefix}${i}.`;
    // q rows (the first W of qkv) are pre-multiplied by head_dim^-0.5, as in clip-model.ts
    const scaled = (x: Float32Array, rows: number) => {
      const y = Float32Array.from(x);
      for (let j = 0; j < rows; j++) y[j] *= scale;
      return y;
    };
    return [
      { name: `${n}ln1.g`, dims: [W], data: (p) => b(p).ln1.weight.data },
      { name: `${n}ln1.b`, dims: [W], data: (p) => b(p).ln1.bias.data },
      { name: `${n}qkv.w`, dims: [3 * W, W], data: (p) => scaled(b(p).qkv.weight.data, W * W) },
      { name: `${n}qkv.b`, dims: [3 * W], data: (p) => scaled(b(p).qkv.bias.data, W) },
      { name: `${n}out.w`, dims: [W, W], data: (p) => b(p).out.weight.data },
      { name: `${n}out.b`, dims: [W], data: (p) => b(p).out.bias.data },
      { name: `${n}ln2.g`, dims: [W], data: (p) => b(p).ln2.weight.data },
      { name: `${n}ln2.b`, dims: [W], data: (p) => b(p).ln2.bias.data },
      { name: `${n}fc1.w`, dims: [c.mlpDim, W], data: (p) => b(p).fc1.weight.data },
      { name: `${n}fc1.b`, dims: [c.mlpDim], data: (p) => b(p).fc1.bias.data },
      { name: `${n}fc2.w`, dims: [W, c.mlpDim], data: (p) => b(p).fc2.weight.data },
      { name: `${n}fc2.b`, dims: [W], data: (p) => b(p).fc2.bias.data },
    ];
  }).flat();
}

/**
 * Every tensor of `weights.bin`, in file order, with the function that extracts it from the parameters.
 *
 * @example
 * for (const s of clipWeightSpecs(cfg)) write(s.data(params));
 */
export function clipWeightSpecs(cfg: ClipConfig): WeightSpec[] {
  const v = cfg.vision;
  const t = cfg.text;
  const E = cfg.embedDim;
  const P = v.patchSize;
  return [
    // conv1 [W, 3, P, P] is a linear map on flattened (c, kh, kw) patches: [W, 3·P·P]
    { name: 'v.patch', dims: [v.width, 3 * P * P], data: (p) => p.vision.patchWeight.data },
    { name: 'v.cls', dims: [1, 1, v.width], data: (p) => p.vision.classEmbedding.data },
    { name: 'v.pos', dims: [v.grid * v.grid + 1, v.width], data: (p) => p.vision.positionEmbedding.data },
    { name: 'v.ln_pre.g', dims: [v.width], data: (p) => p.vision.lnPre.weight.data },
    { name: 'v.ln_pre.b', dims: [v.width], data: (p) => p.vision.lnPre.bias.data },
    ...blockSpecs('v.', v, (p) => p.vision.blocks),
    { name: 'v.ln_post.g', dims: [v.width], data: (p) => p.vision.lnPost.weight.data },
    { name: 'v.ln_post.b', dims: [v.width], data: (p) => p.vision.lnPost.bias.data },
    { name: 'v.proj.w', dims: [E, v.width], data: (p) => p.vision.projection.data },
    { name: 't.tok', dims: [t.vocabSize, t.width], data: (p) => p.text.tokenEmbedding.data },
    { name: 't.pos', dims: [t.contextLength, t.width], data: (p) => p.text.positionEmbedding.data },
    ...blockSpecs('t.', t, (p) => p.text.blocks),
    { name: 't.ln_final.g', dims: [t.width], data: (p) => p.text.lnFinal.weight.data },
    { name: 't.ln_final.b', dims: [t.width], data: (p) => p.text.lnFinal.bias.data },
    { name: 't.proj.w', dims: [E, t.width], data: (p) => p.text.projection.data },
    { name: 'logit_scale', dims: [1], data: (p) => Float32Array.of(Math.exp(p.logitScale)) },
  ];
}

/**
 * Offsets of {@link clipWeightSpecs} in `weights.bin` (a function of the config only).
 *
 * @example
 * clipWeightLayout(cfg).get('v.0.qkv.w'); // { dims: [3W, W], offset, length }
 */
export function clipWeightLayout(cfg: ClipConfig): WeightLayout {
  return new WeightLayout(clipWeightSpecs(cfg));
}

// ---------------------------------------------------------------------------------------------------------
// Layers. `save` keeps what the backward pass needs; backward functions return input gradients.

interface NormTape {
  xhat: string;
  rstd: string;
  gamma: string;
}

/**
 * LayerNormalization over the last axis; with `save`, also x̂ and 1/σ for the backward pass. With `tokens` T
 * = [T, W] (x is [N·T, W]), the tape is kept as [N, T, ·] so that backward rows broadcast against it.
 */
function layerNorm(
  g: GraphBuilder,
  x: string,
  name: string,
  eps: number,
  save: boolean,
  tokens?: [number, number],
) {
  const inputs = [x, g.weight(`${name}.g`), g.weight(`${name}.b`)];
  const attrs = { axis: -1, epsilon: { f: eps } };
  if (!save) return { y: g.op('LayerNormalization', inputs, attrs) };
  const [y, mean, rstd] = g.opN('LayerNormalization', inputs, 3, attrs); // mean, rstd: [N·T, 1]
  const xhat = g.op('Mul', [g.op('Sub', [x, mean]), rstd]); // [N·T, W]
  const tape: NormTape = { xhat, rstd, gamma: `${name}.g` };
  if (tokens) {
    const [T, W] = tokens;
    tape.xhat = g.op('Reshape', [xhat, g.i64([-1, T, W])]); // [N·T, W] -> [N, T, W]
    tape.rstd = g.op('Reshape', [rstd, g.i64([-1, T, 1])]); // [N·T, 1] -> [N, T, 1]
  }
  return { y, tape };
}

/** dx = rstd · (gy − mean(gy) − x̂ · mean(gy · x̂)), gy = dy · γ (means over the last axis). */
function layerNormBack(g: GraphBuilder, dy: string, t: NormTape): string {
  const gy = g.op('Mul', [dy, g.weight(t.gamma)]);
  const m1 = g.op('ReduceMean', [gy], { axes: [-1], keepdims: 1 });
  const m2 = g.op('ReduceMean', [g.op('Mul', [gy, t.xhat])], { axes: [-1], keepdims: 1 });
  const inner = g.op('Sub', [g.op('Sub', [gy, m1]), g.op('Mul', [t.xhat, m2])]);
  return g.op('Mul', [inner, t.rstd]);
}

/** y = x·Wᵀ + b with W [out, in] */
function linear(g: GraphBuilder, x: string, name: string, bias = true): string {
  const inputs = [x, g.weight(`${name}.w`)];
  if (bias) inputs.push(g.weight(`${name}.b`));
  return g.op('Gemm', inputs, { transB: 1 });
}

/** dx = dy·W */
function linearBack(g: GraphBuilder, dy: string, name: string): string {
  return g.op('MatMul', [dy, g.weight(`${name}.w`)]);
}

interface ActTape {
  /** Tensors the derivative needs. */
  saved: string[];
}

/** The activation (with `save`: also what its derivative needs, as [N, T, M] when `tokens` = [T, M]). */
function activation(
  g: GraphBuilder,
  u: string,
  act: Activation,
  save: boolean,
  tokens?: [number, number],
): { a: string; tape?: ActTape } {
  const r = activationOf(g, u, act, save);
  if (r.tape && tokens) {
    const shape = g.i64([-1, ...tokens]);
    r.tape.saved = r.tape.saved.map((t) => g.op('Reshape', [t, shape])); // [N·T, M] -> [N, T, M]
  }
  return r;
}

function activationOf(
  g: GraphBuilder,
  u: string,
  act: Activation,
  save: boolean,
): { a: string; tape?: ActTape } {
  const c = (v: number) => g.f32([v], []);
  switch (act) {
    case 'quick_gelu': {
      // x·σ(1.702x)
      const z = g.op('Mul', [u, c(1.702)]);
      const s = g.op('Sigmoid', [z]);
      return { a: g.op('Mul', [u, s]), tape: save ? { saved: [z, s] } : undefined };
    }
    case 'gelu': {
      // x·Φ(x), Φ(x) = (1 + erf(x/√2))/2
      const phi = g.op('Mul', [
        g.op('Add', [g.op('Erf', [g.op('Mul', [u, c(Math.SQRT1_2)])]), c(1)]),
        c(0.5),
      ]);
      return { a: g.op('Mul', [u, phi]), tape: save ? { saved: [u, phi] } : undefined };
    }
    case 'gelu_tanh': {
      // x·(1 + tanh(z))/2, z = √(2/π)·(x + 0.044715x³)
      const u2 = g.op('Mul', [u, u]);
      const z = g.op('Mul', [
        g.op('Mul', [u, g.op('Add', [g.op('Mul', [u2, c(0.044715)]), c(1)])]),
        c(Math.sqrt(2 / Math.PI)),
      ]);
      const th = g.op('Tanh', [z]);
      const half = g.op('Mul', [g.op('Add', [th, c(1)]), c(0.5)]);
      return { a: g.op('Mul', [u, half]), tape: save ? { saved: [u, u2, th, half] } : undefined };
    }
  }
}

/** du = da · act'(u). */
function activationBack(g: GraphBuilder, da: string, act: Activation, t: ActTape): string {
  const c = (v: number) => g.f32([v], []);
  let d: string;
  if (act === 'quick_gelu') {
    // σ + 1.702·x·σ·(1 − σ) = σ·(1 + z·(1 − σ)), z = 1.702x
    const [z, s] = t.saved;
    d = g.op('Mul', [s, g.op('Add', [g.op('Mul', [z, g.op('Sub', [c(1), s])]), c(1)])]);
  } else if (act === 'gelu') {
    // Φ(x) + x·φ(x), φ(x) = exp(−x²/2)/√(2π)
    const [u, phi] = t.saved;
    const pdf = g.op('Mul', [
      g.op('Exp', [g.op('Mul', [g.op('Mul', [u, u]), c(-0.5)])]),
      c(1 / Math.sqrt(2 * Math.PI)),
    ]);
    d = g.op('Add', [phi, g.op('Mul', [u, pdf])]);
  } else {
    // (1 + tanh z)/2 + x/2 · (1 − tanh² z) · √(2/π) · (1 + 3·0.044715x²)
    const [u, u2, th, half] = t.saved;
    const dz = g.op('Mul', [
      g.op('Add', [g.op('Mul', [u2, c(3 * 0.044715)]), c(1)]),
      c(0.5 * Math.sqrt(2 / Math.PI)),
    ]);
    const sech2 = g.op('Sub', [c(1), g.op('Mul', [th, th])]);
    d = g.op('Add', [half, g.op('Mul', [g.op('Mul', [u, sech2]), dz])]);
  }
  return g.op('Mul', [da, d]);
}

interface BlockTape {
  ln1: NormTape;
  ln2: NormTape;
  act: ActTape;
  /** [B, H, T, D] each (q pre-scaled). */
  q: string;
  k: string;
  v: string;
  /** [B, H, T, T] */
  probs: string;
}

interface Tower {
  cfg: TowerConfig;
  /** Weight name prefix: 'v.' or 't.'. */
  prefix: string;
  /** int64 shape [B, T, 3, H, D] of the qkv split (B as −1). */
  qkvShape: string;
  /** Tokens T when static (the image tower; needed by the backward pass). */
  tokens?: number;
}

/** ln1, then q, k, v [B, H, T, D] (q pre-scaled) of a block's attention, from x [B·T, W]. */
function attentionInputs(g: GraphBuilder, x: string, n: string, tw: Tower, save: boolean) {
  const ln1 = layerNorm(g, x, `${n}ln1`, tw.cfg.eps, save, tw.tokens ? [tw.tokens, tw.cfg.width] : undefined);
  const qkv = g.op('Reshape', [linear(g, ln1.y, `${n}qkv`), tw.qkvShape]); // [B·T, 3W] -> [B, T, 3, H, D]
  const qkvT = g.op('Transpose', [qkv], { perm: [2, 0, 3, 1, 4] }); // [3, B, H, T, D]
  const [q, k, v] = g.opN('Split', [qkvT], 3, { axis: 0 }).map((t) => g.op('Squeeze', [t, g.i64([0])])); // [B, H, T, D]
  return { ln1, q, k, v };
}

/**
 * y = h + fc2(act(fc1(ln2(h)))) on h [rows, W]; `allTokens`: h holds every token ([N·T, W], tapes kept as
 * [N, T, ·]), else one row per image ([N, W]).
 */
function mlp(g: GraphBuilder, h: string, n: string, tw: Tower, save: boolean, allTokens: boolean) {
  const { width: W, mlpDim: M, eps } = tw.cfg;
  const T = allTokens ? tw.tokens : undefined;
  const ln2 = layerNorm(g, h, `${n}ln2`, eps, save, T ? [T, W] : undefined);
  const a = activation(g, linear(g, ln2.y, `${n}fc1`), tw.cfg.act, save, T ? [T, M] : undefined); // [rows, M]
  return { y: g.op('Add', [h, linear(g, a.a, `${n}fc2`)]), ln2: ln2.tape, act: a.tape };
}

/** ∂s/∂h of the MLP half of a block from ∂s/∂y ([B, T, W] or [B, W], as its tape). */
function mlpBack(g: GraphBuilder, dy: string, n: string, tw: Tower, t: BlockTape): string {
  const du = activationBack(g, linearBack(g, dy, `${n}fc2`), tw.cfg.act, t.act); // [N, M]
  return g.op('Add', [dy, layerNormBack(g, linearBack(g, du, `${n}fc1`), t.ln2)]); // [N, W]
}

function tapeOf(
  ln1: NormTape | undefined,
  m: ReturnType<typeof mlp>,
  rest: Pick<BlockTape, 'q' | 'k' | 'v' | 'probs'>,
): BlockTape | undefined {
  return ln1 && m.ln2 && m.act ? { ln1, ln2: m.ln2, act: m.act, ...rest } : undefined;
}

/** [B, H, a, b] -> [B, H, b, a] */
const swap = (g: GraphBuilder, x: string) => g.op('Transpose', [x], { perm: [0, 1, 3, 2] });

/** One pre-LN residual block on x [B·T, W]: the new stream, probabilities [B, H, T, T] and (with `save`) the tape. */
function block(g: GraphBuilder, x: string, i: number, tw: Tower, save: boolean, mask?: string) {
  const n = `${tw.prefix}${i}.`;
  const { ln1, q, k, v } = attentionInputs(g, x, n, tw, save);
  let scores = g.op('MatMul', [q, swap(g, k)]); // [B, H, T, T]
  if (mask) scores = g.op('Add', [scores, mask]);
  const probs = g.op('Softmax', [scores], { axis: -1 });
  const ctx = g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }); // [B, H, T, D] -> [B, T, H, D]
  const merged = g.op('Reshape', [ctx, g.i64([-1, tw.cfg.width])]); // [B·T, W]
  const m = mlp(g, g.op('Add', [x, linear(g, merged, `${n}out`)]), n, tw, save, true);
  return { y: m.y, probs, tape: tapeOf(ln1.tape, m, { q, k, v, probs }) };
}

/**
 * The last image block, whose output is only read at the class token: attention, projection and MLP for the
 * CLS row only (keys and values for all tokens). Returns y [B, W]; with `fullProbs`, the probabilities of all
 * rows [B, H, T, T] (for outputs), else the CLS row [B, H, 1, T]. The tape holds the CLS rows of q and P.
 */
function clsBlock(g: GraphBuilder, x: string, i: number, tw: Tower, save: boolean, fullProbs: boolean) {
  const { width: W } = tw.cfg;
  const T = tw.tokens as number;
  const n = `${tw.prefix}${i}.`;
  const { ln1, q, k, v } = attentionInputs(g, x, n, tw, save);
  const row0 = (t: string) => g.op('Slice', [t, g.i64([0]), g.i64([1]), g.i64([2])]); // [B, H, T, ·] -> [B, H, 1, ·]
  const qc = row0(q); // [B, H, 1, D]
  let probs: string;
  let pc: string;
  if (fullProbs) {
    probs = g.op('Softmax', [g.op('MatMul', [q, swap(g, k)])], { axis: -1 }); // [B, H, T, T]
    pc = row0(probs); // [B, H, 1, T]
  } else probs = pc = g.op('Softmax', [g.op('MatMul', [qc, swap(g, k)])], { axis: -1 }); // [B, H, 1, T]
  // [B, H, 1, D] is [B, W] in merged (head-major) order
  const ctx = g.op('Reshape', [g.op('MatMul', [pc, v]), g.i64([-1, W])]); // [B, W]
  const xc = g.op('Gather', [g.op('Reshape', [x, g.i64([-1, T, W])]), g.i64([0], [])], { axis: 1 }); // [B, W]
  const m = mlp(g, g.op('Add', [xc, linear(g, ctx, `${n}out`)]), n, tw, save, false);
  return { y: m.y, probs, tape: tapeOf(ln1.tape, m, { q: qc, k, v, probs: pc }) };
}

/** [3 × (B, H, T, D)] gradients of q, k, v -> ∂s/∂x through ln1 and the qkv projection, [B, T, W]. */
function qkvBack(
  g: GraphBuilder,
  dq: string,
  dk: string,
  dv: string,
  n: string,
  tw: Tower,
  t: BlockTape,
): string {
  const ax0 = g.i64([0]);
  const stacked = g.op(
    'Concat',
    [dq, dk, dv].map((d) => g.op('Unsqueeze', [d, ax0])),
    { axis: 0 },
  ); // [3, B, H, T, D]
  const dqkvT = g.op('Transpose', [stacked], { perm: [1, 3, 0, 2, 4] }); // [B, T, 3, H, D]
  const dqkv = g.op('Reshape', [dqkvT, g.i64([-1, tw.tokens as number, 3 * tw.cfg.width])]); // [B, T, 3W]
  return layerNormBack(g, linearBack(g, dqkv, `${n}qkv`), t.ln1);
}

/** Softmax backward: dS = P ⊙ (dP − Σ_j dP ⊙ P) over the last axis. */
function softmaxBack(g: GraphBuilder, dP: string, P: string): string {
  const dot = g.op('ReduceSum', [g.op('Mul', [dP, P]), g.i64([-1])], { keepdims: 1 });
  return g.op('Mul', [P, g.op('Sub', [dP, dot])]);
}

/**
 * Backward pass of one block: dy [B, T, W] -> dx [B, T, W], and dP = ∂s/∂probs [B, H, T, T] (the total derivative
 * with respect to the probabilities as used by P·v). With `probsOnly`, stops once dP is known. The tape's image
 * axis N is B or 1 (broadcast).
 */
function blockBack(g: GraphBuilder, dy: string, i: number, tw: Tower, t: BlockTape, probsOnly: boolean) {
  const { width: W, heads: H } = tw.cfg;
  const T = tw.tokens as number;
  const n = `${tw.prefix}${i}.`;
  const dh = mlpBack(g, dy, n, tw, t); // [B, T, W]
  // attention half: h = x + out(merge(P·v))
  const dCtx4 = g.op('Reshape', [linearBack(g, dh, `${n}out`), g.i64([-1, T, H, W / H])]); // [B, T, W] -> [B, T, H, D]
  const dCtx = g.op('Transpose', [dCtx4], { perm: [0, 2, 1, 3] }); // [B, H, T, D]
  const dP = g.op('MatMul', [dCtx, swap(g, t.v)]); // [B, H, T, T]
  if (probsOnly) return { dP };
  const dv = g.op('MatMul', [swap(g, t.probs), dCtx]); // [B, H, T, D]
  const dS = softmaxBack(g, dP, t.probs); // [B, H, T, T]
  const dq = g.op('MatMul', [dS, t.k]); // [B, H, T, D]
  const dk = g.op('MatMul', [swap(g, dS), t.q]); // [B, H, T, D]
  return { dP, dx: g.op('Add', [dh, qkvBack(g, dq, dk, dv, n, tw, t)]) };
}

/**
 * Backward pass of {@link clsBlock}: dy [B, W] (the CLS row) -> dx [B, T, W], and dP [B, H, T, T] (zero but for the
 * CLS rows) when `wantProbs`.
 */
function clsBlockBack(
  g: GraphBuilder,
  dy: string,
  i: number,
  tw: Tower,
  t: BlockTape,
  probsOnly: boolean,
  wantProbs: boolean,
) {
  const { width: W, heads: H } = tw.cfg;
  const T = tw.tokens as number;
  const n = `${tw.prefix}${i}.`;
  const rowsToT = (x: string) => g.op('Pad', [x, g.i64([0, 0, 0, 0, 0, 0, T - 1, 0])]); // [B, H, 1, ·] -> [B, H, T, ·]
  const dh = mlpBack(g, dy, n, tw, t); // [B, W]
  const dCtx = g.op('Reshape', [linearBack(g, dh, `${n}out`), g.i64([-1, H, 1, W / H])]); // [B, W] -> [B, H, 1, D]
  const dPc = g.op('MatMul', [dCtx, swap(g, t.v)]); // [B, H, 1, T]
  const dP = wantProbs ? rowsToT(dPc) : undefined; // [B, H, T, T]
  if (probsOnly) return { dP };
  const dv = g.op('MatMul', [swap(g, t.probs), dCtx]); // [B, H, T, 1]·[B, H, 1, D] -> [B, H, T, D]
  const dSc = softmaxBack(g, dPc, t.probs); // [B, H, 1, T]
  const dq = rowsToT(g.op('MatMul', [dSc, t.k])); // [B, H, 1, D] -> [B, H, T, D]
  const dk = g.op('MatMul', [swap(g, dSc), t.q]); // [B, H, T, 1]·[B, H, 1, D] -> [B, H, T, D]
  // the residual path reaches x at the CLS row only
  const dRes = g.op('Pad', [g.op('Unsqueeze', [dh, g.i64([1])]), g.i64([0, 0, 0, 0, T - 1, 0])]); // [B, T, W]
  const dx = g.op('Add', [dRes, qkvBack(g, dq, dk, dv, n, tw, t)]); // [B, T, W]
  return { dP, dx };
}

interface VisionPass {
  embeds: string;
  /** Per layer [B, H, T, T]. */
  probs: string[];
  tapes: (BlockTape | undefined)[];
  lnPre?: NormTape;
  lnPost?: NormTape;
}

/**
 * Image tower on pixels [B, 3, S, S]; blocks ≥ `saveFrom` keep their tapes (−1: also ln_pre, for input gradients;
 * L: no backward pass). Without `attentions`, the last block's probabilities are its CLS rows only.
 */
function visionForward(
  g: GraphBuilder,
  cfg: ClipConfig,
  pixels: string,
  saveFrom: number,
  attentions: boolean,
): VisionPass {
  const v = cfg.vision;
  const { grid: G, width: W, heads: H, layers: L } = v;
  const T = G * G + 1;
  const lnPre = layerNorm(g, patchTokens(g, cfg, pixels), 'v.ln_pre', v.eps, saveFrom < 0, [T, W]); // [B·T, W]
  const tw: Tower = { cfg: v, prefix: 'v.', qkvShape: g.i64([-1, T, 3, H, W / H]), tokens: T };
  let x = lnPre.y;
  const probs: string[] = [];
  const tapes: (BlockTape | undefined)[] = [];
  for (let i = 0; i < L; i++) {
    const b =
      i < L - 1 ? block(g, x, i, tw, i >= saveFrom) : clsBlock(g, x, i, tw, i >= saveFrom, attentions);
    x = b.y; // [B·T, W]; after the last block [B, W] (CLS)
    probs.push(b.probs);
    tapes.push(b.tape);
  }
  const lnPost = layerNorm(g, x, 'v.ln_post', v.eps, saveFrom < L);
  const embeds = linear(g, lnPost.y, 'v.proj', false); // [B, E]
  return { embeds, probs, tapes, lnPre: lnPre.tape, lnPost: lnPost.tape };
}

/** Graph inputs of a score head (see ScoreHead in engine.ts), one head per row. */
function headInputs(g: GraphBuilder, E: number) {
  return {
    text: g.input('text', 'float', ['B', 'K', E]),
    weights: g.input('weights', 'float', ['B', 'K']),
    softmax: g.input('softmax', 'float', ['B']),
    bias: g.input('bias', 'float', ['B', 'K']),
  };
}

/**
 * Scores s [B] of embeds e [B, E] and ∂s/∂e [B, E]: ê = e/|e|, l = scale·ê·t̂ᵀ + bias,
 * s = f·Σ w·softmax(l) + (1 − f)·Σ w·l.
 */
function scoreHead(g: GraphBuilder, e: string, h: ReturnType<typeof headInputs>) {
  const one = g.f32([1], []);
  const ax1 = g.i64([1]);
  const sum1 = (x: string) => g.op('ReduceSum', [x, ax1], { keepdims: 1 }); // [B, n] -> [B, 1]
  const scale = g.weight('logit_scale');
  const norm = g.op('Sqrt', [sum1(g.op('Mul', [e, e]))]); // [B, 1]
  const eh = g.op('Div', [e, norm]); // [B, E]
  const tT = g.op('Transpose', [h.text], { perm: [0, 2, 1] }); // [B, E, K]
  const cos = g.op('Squeeze', [g.op('MatMul', [g.op('Unsqueeze', [eh, ax1]), tT]), ax1]); // [B, 1, K] -> [B, K]
  const l = g.op('Add', [g.op('Mul', [cos, scale]), h.bias]); // [B, K]
  const p = g.op('Softmax', [l], { axis: -1 });
  const f = g.op('Unsqueeze', [h.softmax, ax1]); // [B, 1]
  const nf = g.op('Sub', [one, f]);
  const wp = sum1(g.op('Mul', [h.weights, p])); // [B, 1]
  const wl = sum1(g.op('Mul', [h.weights, l]));
  const scores = g.op('Squeeze', [g.op('Add', [g.op('Mul', [f, wp]), g.op('Mul', [nf, wl])]), ax1]); // [B]
  // ∂s/∂l = (1 − f)·w + f·p ⊙ (w − Σ w·p)
  const dl = g.op('Add', [
    g.op('Mul', [nf, h.weights]),
    g.op('Mul', [f, g.op('Mul', [p, g.op('Sub', [h.weights, wp])])]),
  ]);
  const deh = g.op('Mul', [
    g.op('Squeeze', [g.op('MatMul', [g.op('Unsqueeze', [dl, ax1]), h.text]), ax1]),
    scale,
  ]); // [B, E]
  // L2 normalisation: de = (dê − ê (ê·dê)) / |e|
  const de = g.op('Div', [g.op('Sub', [deh, g.op('Mul', [eh, sum1(g.op('Mul', [eh, deh]))])]), norm]);
  return { scores, de };
}

/** From ∂s/∂(ln_pre output) [B, T, W] to ∂s/∂pixels [B, 3, S, S] (patch embedding backward). */
function visionInputBack(g: GraphBuilder, cfg: ClipConfig, dx0: string, lnPre: NormTape): string {
  const { width: W, grid: G, patchSize: P, imageSize: S } = cfg.vision;
  const T = G * G + 1;
  const dTokens = layerNormBack(g, dx0, lnPre); // [B, T, W]
  const dPatches = g.op('Slice', [dTokens, g.i64([1]), g.i64([T]), g.i64([1])]); // [B, G², W]
  const dFlat = g.op('MatMul', [g.op('Reshape', [dPatches, g.i64([-1, W])]), g.weight('v.patch')]); // [B·G², 3P²]
  const d6 = g.op('Reshape', [dFlat, g.i64([-1, G, G, 3, P, P])]); // [B, G, G, 3, P, P]
  const d6t = g.op('Transpose', [d6], { perm: [0, 3, 1, 4, 2, 5] }); // [B, 3, G, P, G, P]
  return g.op('Reshape', [d6t, g.i64([-1, 3, S, S])]); // [B, 3, S, S]
}

function textGraph(g: GraphBuilder, cfg: ClipConfig): void {
  const t = cfg.text;
  const { width: W, heads: H, contextLength: C } = t;
  const ids = g.input('ids', 'int64', ['B', 'L']);
  const rows = g.input('rows', 'int64', ['B']);
  const len = g.op('Shape', [ids], { start: 1, end: 2 }); // [1] = L
  const pos = g.op('Slice', [g.weight('t.pos'), g.i64([0]), len, g.i64([0])]); // [L, W]
  const x3 = g.op('Add', [g.op('Gather', [g.weight('t.tok'), ids], { axis: 0 }), pos]); // [B, L, W]
  const causal = new Float32Array(C * C);
  for (let i = 0; i < C; i++) for (let j = i + 1; j < C; j++) causal[i * C + j] = -1e9;
  const lenLen = g.op('Concat', [len, len], { axis: 0 });
  const mask = g.op('Slice', [g.f32(causal, [C, C]), g.i64([0, 0]), lenLen, g.i64([0, 1])]); // [L, L]
  const minus1 = g.i64([-1]);
  const tw: Tower = {
    cfg: t,
    prefix: 't.',
    qkvShape: g.op('Concat', [minus1, len, g.i64([3, H, W / H])], { axis: 0 }), // [B, L, 3, H, D]
  };
  let x = g.op('Reshape', [x3, g.i64([-1, W])]); // [B·L, W]
  for (let i = 0; i < t.layers; i++) x = block(g, x, i, tw, false, mask).y;
  const pooled = layerNorm(g, g.op('Gather', [x, rows], { axis: 0 }), 't.ln_final', t.eps, false).y; // [B, W]
  g.output(linear(g, pooled, 't.proj', false), 'embeds', 'float', ['B', cfg.embedDim]);
}

/** Patch embedding, class token, positions and ln_pre: pixels [B, 3, S, S] -> x0 [B·T, W] (no tape). */
function visionEmbed(g: GraphBuilder, cfg: ClipConfig, pixels: string): string {
  return layerNorm(g, patchTokens(g, cfg, pixels), 'v.ln_pre', cfg.vision.eps, false).y; // [B·T, W]
}

/** Patch embedding, class token and positions, before ln_pre: pixels [B, 3, S, S] -> [B·T, W]. */
function patchTokens(g: GraphBuilder, cfg: ClipConfig, pixels: string): string {
  const { patchSize: P, grid: G, width: W } = cfg.vision;
  const p6 = g.op('Reshape', [pixels, g.i64([-1, 3, G, P, G, P])]); // [B, 3, S, S] -> [B, 3, G, P, G, P]
  const p6t = g.op('Transpose', [p6], { perm: [0, 2, 4, 1, 3, 5] }); // [B, G, G, 3, P, P]
  const flat = g.op('Reshape', [p6t, g.i64([-1, 3 * P * P])]); // [B·G², 3P²]
  const patches = g.op('Reshape', [
    g.op('Gemm', [flat, g.weight('v.patch')], { transB: 1 }),
    g.i64([-1, G * G, W]),
  ]); // [B, G², W]
  const batch = g.op('Shape', [pixels], { end: 1 }); // [1] = B
  const cls = g.op('Expand', [g.weight('v.cls'), g.op('Concat', [batch, g.i64([1, W])], { axis: 0 })]); // [B, 1, W]
  const tokens = g.op('Add', [g.op('Concat', [cls, patches], { axis: 1 }), g.weight('v.pos')]); // [B, T, W]
  return g.op('Reshape', [tokens, g.i64([-1, W])]); // [B, T, W] -> [B·T, W]
}

/** The CLS row of a token stream: [B·T, W] -> [B, T, W] -> [B, W]. */
function clsRowOf(g: GraphBuilder, x: string, T: number, W: number): string {
  return g.op('Gather', [g.op('Reshape', [x, g.i64([-1, T, W])]), g.i64([0], [])], { axis: 1 });
}

/** ln_post and the projection of pooled rows [B, W] -> embeds [B, E] (with the ln tape when `save`). */
function visionReadout(g: GraphBuilder, cfg: ClipConfig, pooled: string, save: boolean) {
  const ln = layerNorm(g, pooled, 'v.ln_post', cfg.vision.eps, save);
  return { embeds: linear(g, ln.y, 'v.proj', false), tape: ln.tape };
}

/**
 * LeGrad: for every block l ≥ from, the head's score of the block's mean-pooled readout and its gradient with
 * respect to the block's probabilities through block l alone; plus the scores of the model's own embedding.
 */
function legradGraph(g: GraphBuilder, cfg: ClipConfig, from: number): void {
  const v = cfg.vision;
  const { width: W, heads: H, layers: L, grid: G } = v;
  const T = G * G + 1;
  const E = cfg.embedDim;
  const attnDims = ['B', H, T, T];
  const pixels = g.input('pixels', 'float', ['N', 3, v.imageSize, v.imageSize]);
  const heads = headInputs(g, E);
  const tw: Tower = { cfg: v, prefix: 'v.', qkvShape: g.i64([-1, T, 3, H, W / H]), tokens: T };
  let x = visionEmbed(g, cfg, pixels);
  for (let l = 0; l < L; l++) {
    const b = block(g, x, l, tw, l >= from); // every block on all tokens: LeGrad reads them all
    x = b.y; // [B·T, W]
    if (l < from) continue;
    const y3 = g.op('Reshape', [b.y, g.i64([-1, T, W])]); // [B·T, W] -> [B, T, W]
    const pooled = g.op('ReduceMean', [y3], { axes: [1], keepdims: 0 }); // [B, W]
    const r = visionReadout(g, cfg, pooled, true);
    const { scores, de } = scoreHead(g, r.embeds, heads);
    g.output(scores, `score_${l}`, 'float', ['B']);
    // mean over tokens backward: every token gets ∂s/∂pooled / T
    const dPooled = layerNormBack(g, linearBack(g, de, 'v.proj'), r.tape as NormTape); // [B, W]
    const dTok = g.op('Unsqueeze', [g.op('Div', [dPooled, g.f32([T], [])]), g.i64([1])]); // [B, 1, W]
    const rowsTW = g.op('Concat', [g.op('Shape', [dPooled], { end: 1 }), g.i64([T, W])], { axis: 0 }); // [B, T, W]
    const dy = g.op('Expand', [dTok, rowsTW]); // [B, T, W]
    const { dP } = blockBack(g, dy, l, tw, b.tape as BlockTape, true);
    g.output(dP as string, `dattn_${l}`, 'float', attnDims);
  }
  const own = visionReadout(g, cfg, clsRowOf(g, x, T, W), false);
  g.output(scoreHead(g, own.embeds, heads).scores, 'scores', 'float', ['B']);
}

/**
 * Grad-ECLIP: the last block recomputed with `nh` heads over the full width (scale (W/nh)^-1/2) for the CLS row;
 * the target's gradient with respect to the CLS row of attn_output (before out_proj), q (CLS), k, v (all tokens,
 * in_proj outputs with bias, unscaled); plus the scores of the model's own forward.
 */
function gradEclipGraph(g: GraphBuilder, cfg: ClipConfig, nh: number): void {
  const v = cfg.vision;
  const { width: W, heads: H, layers: L, grid: G } = v;
  const T = G * G + 1;
  const E = cfg.embedDim;
  const Dn = W / nh;
  const pixels = g.input('pixels', 'float', ['N', 3, v.imageSize, v.imageSize]);
  const heads = headInputs(g, E);
  const tw: Tower = { cfg: v, prefix: 'v.', qkvShape: g.i64([-1, T, 3, H, W / H]), tokens: T };
  let x = visionEmbed(g, cfg, pixels);
  for (let l = 0; l < L - 1; l++) x = block(g, x, l, tw, false).y; // input of the last block [B·T, W]
  const own = visionReadout(g, cfg, clsBlock(g, x, L - 1, tw, false, false).y, false);
  g.output(scoreHead(g, own.embeds, heads).scores, 'scores', 'float', ['B']);
  const n = `v.${L - 1}.`;
  const qkv = linear(g, layerNorm(g, x, `${n}ln1`, v.eps, false).y, `${n}qkv`); // [B·T, 3W]
  const qkv4 = g.op('Reshape', [qkv, g.i64([-1, T, 3, W])]); // [B, T, 3, W]
  const [qs, k, vv] = g.opN('Split', [qkv4], 3, { axis: 2 }).map((t) => g.op('Squeeze', [t, g.i64([2])])); // 3 × [B, T, W]
  // the stored q rows are pre-multiplied by head_dim^-1/2 (H heads); undo it
  const q = g.op('Mul', [qs, g.f32([Math.sqrt(W / H)], [])]); // [B, T, W]
  const qc = g.op('Gather', [q, g.i64([0], [])], { axis: 1 }); // [B, W]
  const perHead = (t: string) =>
    g.op('Transpose', [g.op('Reshape', [t, g.i64([-1, T, nh, Dn])])], { perm: [0, 2, 1, 3] }); // [B, nh, T, Dn]
  const qh = g.op('Reshape', [qc, g.i64([-1, nh, 1, Dn])]); // [B, nh, 1, Dn]
  const logits = g.op('Mul', [g.op('MatMul', [qh, swap(g, perHead(k))]), g.f32([Dn ** -0.5], [])]); // [B, nh, 1, T]
  const probs = g.op('Softmax', [logits], { axis: -1 });
  const ctx = g.op('Reshape', [g.op('MatMul', [probs, perHead(vv)]), g.i64([-1, W])]); // [B, nh, 1, Dn] -> [B, W]
  const h = g.op('Add', [clsRowOf(g, x, T, W), linear(g, ctx, `${n}out`)]); // [B, W]
  const m = mlp(g, h, n, tw, true, false);
  const r = visionReadout(g, cfg, m.y, true);
  const { scores, de } = scoreHead(g, r.embeds, heads);
  g.output(scores, 'target_scores', 'float', ['B']);
  const dy = layerNormBack(g, linearBack(g, de, 'v.proj'), r.tape as NormTape); // [B, W]
  const dh = mlpBack(g, dy, n, tw, { ln2: m.ln2, act: m.act } as BlockTape); // [B, W]
  g.output(linearBack(g, dh, `${n}out`), 'grad', 'float', ['B', W]);
  g.output(qc, 'q', 'float', ['N', W]);
  g.output(k, 'k', 'float', ['N', T, W]);
  g.output(vv, 'v', 'float', ['N', T, W]);
}

/**
 * Text attention gradients: the text tower at the full context C (causal mask), s = logit_scale·⟨t/|t|, image⟩ with
 * the unit image embedding an input, and ∂s/∂attn_l for text layers ≥ from.
 */
function textAttnGradGraph(g: GraphBuilder, cfg: ClipConfig, from: number): void {
  const t = cfg.text;
  const { width: W, heads: H, contextLength: C, layers: L } = t;
  const E = cfg.embedDim;
  const ids = g.input('ids', 'int64', ['B', C]);
  const rows = g.input('rows', 'int64', ['B']);
  const image = g.input('image', 'float', ['B', E]);
  const x3 = g.op('Add', [g.op('Gather', [g.weight('t.tok'), ids], { axis: 0 }), g.weight('t.pos')]); // [B, C, W]
  const causal = new Float32Array(C * C);
  for (let i = 0; i < C; i++) for (let j = i + 1; j < C; j++) causal[i * C + j] = -1e9;
  const mask = g.f32(causal, [C, C]);
  const tw: Tower = { cfg: t, prefix: 't.', qkvShape: g.i64([-1, C, 3, H, W / H]), tokens: C };
  let x = g.op('Reshape', [x3, g.i64([-1, W])]); // [B·C, W]
  const probs: string[] = [];
  const tapes: (BlockTape | undefined)[] = [];
  for (let i = 0; i < L; i++) {
    const b = block(g, x, i, tw, i >= from, mask);
    x = b.y;
    probs.push(b.probs);
    tapes.push(b.tape);
  }
  const ln = layerNorm(g, g.op('Gather', [x, rows], { axis: 0 }), 't.ln_final', t.eps, true); // [B, W]
  const te = linear(g, ln.y, 't.proj', false); // [B, E]
  const ax1 = g.i64([1]);
  const sum1 = (v: string) => g.op('ReduceSum', [v, ax1], { keepdims: 1 }); // [B, n] -> [B, 1]
  const scale = g.weight('logit_scale');
  const norm = g.op('Sqrt', [sum1(g.op('Mul', [te, te]))]); // [B, 1]
  const th = g.op('Div', [te, norm]); // [B, E]
  g.output(g.op('Squeeze', [g.op('Mul', [sum1(g.op('Mul', [th, image])), scale]), ax1]), 'scores', 'float', [
    'B',
  ]);
  // s = scale·⟨t̂, î⟩: ∂s/∂t = scale·(î − t̂ ⟨t̂, î⟩) / |t|
  const dth = g.op('Mul', [image, scale]);
  const dte = g.op('Div', [g.op('Sub', [dth, g.op('Mul', [th, sum1(g.op('Mul', [th, dth]))])]), norm]); // [B, E]
  const dPooled = layerNormBack(g, linearBack(g, dte, 't.proj'), ln.tape as NormTape); // [B, W]
  // the pooled rows back into the stream: zeros but for row b·C + eot_b
  const scattered = g.op('ScatterND', [
    g.op('ConstantOfShape', [g.op('Shape', [x])]),
    g.op('Unsqueeze', [rows, ax1]),
    dPooled,
  ]); // [B·C, W]
  let dx = g.op('Reshape', [scattered, g.i64([-1, C, W])]); // [B·C, W] -> [B, C, W]
  const attnDims = ['B', H, C, C];
  for (let l = L - 1; l >= from; l--) {
    const b = blockBack(g, dx, l, tw, tapes[l] as BlockTape, l === from);
    g.output(probs[l], `attn_${l}`, 'float', attnDims);
    g.output(b.dP as string, `dattn_${l}`, 'float', attnDims);
    if (b.dx) dx = b.dx;
  }
}

/** `<prefix><n>` -> n when it is an integer in [lo, hi], else an error naming the kind. */
function kindIndex(kind: string, prefix: string, lo: number, hi: number): number {
  const v = Number(kind.slice(prefix.length));
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`unknown graph kind "${kind}"`);
  return v;
}

/**
 * The serialised ONNX model of one graph kind (weights referenced in `weights.bin`, see {@link clipWeightLayout}).
 *
 * @example
 * const bytes = buildClipGraph('vision_attn_grad_11', cfg, clipWeightLayout(cfg));
 */
export function buildClipGraph(kind: GraphKind, cfg: ClipConfig, layout: WeightLayout): Uint8Array {
  const g = new GraphBuilder(layout);
  const { imageSize: S, heads: H, grid: G, layers: L } = cfg.vision;
  const T = G * G + 1;
  const E = cfg.embedDim;
  const attnDims = ['B', H, T, T];
  const imageAttnDims = ['N', H, T, T];
  if (kind === 'text') {
    textGraph(g, cfg);
    return g.toBytes(kind);
  }
  if (kind.startsWith('text_attn_grad_')) {
    textAttnGradGraph(g, cfg, kindIndex(kind, 'text_attn_grad_', 0, cfg.text.layers - 1));
    return g.toBytes(kind);
  }
  if (kind.startsWith('vision_legrad_')) {
    legradGraph(g, cfg, kindIndex(kind, 'vision_legrad_', 0, L - 1));
    return g.toBytes(kind);
  }
  if (kind.startsWith('vision_gradeclip_')) {
    const nh = kindIndex(kind, 'vision_gradeclip_', 1, cfg.vision.width);
    if (cfg.vision.width % nh !== 0)
      throw new Error(`unknown graph kind "${kind}" (heads must divide the width)`);
    gradEclipGraph(g, cfg, nh);
    return g.toBytes(kind);
  }
  const pixels = g.input('pixels', 'float', ['N', 3, S, S]);
  if (kind === 'vision' || kind === 'vision_attn') {
    const f = visionForward(g, cfg, pixels, L, kind === 'vision_attn');
    g.output(f.embeds, 'embeds', 'float', ['N', E]);
    if (kind === 'vision_attn') f.probs.forEach((p, l) => g.output(p, `attn_${l}`, 'float', imageAttnDims));
    return g.toBytes(kind);
  }
  const heads = headInputs(g, E);
  const from = kind === 'vision_grad' ? -1 : Number(kind.slice('vision_attn_grad_'.length));
  if (!Number.isInteger(from) || from < -1 || from >= L) throw new Error(`unknown graph kind "${kind}"`);
  const f = visionForward(g, cfg, pixels, from, from >= 0);
  const { scores, de } = scoreHead(g, f.embeds, heads);
  g.output(scores, 'scores', 'float', ['B']);
  // ∂s/∂(CLS output of the last block) [B, W], then down the blocks ([B, T, W] below the last)
  let dx = layerNormBack(g, linearBack(g, de, 'v.proj'), f.lnPost as NormTape);
  const tw: Tower = { cfg: cfg.vision, prefix: 'v.', qkvShape: '', tokens: T };
  for (let l = L - 1; l >= Math.max(from, 0); l--) {
    const t = f.tapes[l] as BlockTape;
    const b =
      l === L - 1
        ? clsBlockBack(g, dx, l, tw, t, l === from, from >= 0)
        : blockBack(g, dx, l, tw, t, l === from);
    if (from >= 0) {
      g.output(f.probs[l], `attn_${l}`, 'float', imageAttnDims);
      g.output(b.dP as string, `dattn_${l}`, 'float', attnDims);
    }
    if (b.dx) dx = b.dx;
  }
  if (from < 0) g.output(visionInputBack(g, cfg, dx, f.lnPre as NormTape), 'grad', 'float', ['B', 3, S, S]);
  return g.toBytes(kind);
}
