/**
 * CLIP on ONNX Runtime (onnxruntime-node): the {@link ClipEngine} contract over graphs compiled into a cache
 * folder (see compiled-model.ts and clip-graphs.ts). Sessions are created per graph kind on first use and at
 * most {@link MAX_SESSIONS} stay live (least recently used released first), so a ViT-L with every method keeps a
 * bounded footprint. Requests larger than {@link OnnxEngine.batchFor} rows run in chunks; calls run one at a time.
 *
 * @example
 * const engine = await OnnxEngine.create(cfg, params, { cacheDir: join(cacheRoot, onnxCacheKey(cfg, sha)) });
 * const emb = await engine.embedImages(pixels, 4); // [4, E]
 * engine.dispose();
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import type { ClipConfig } from '../../core/clip-config.ts';
import type { ClipParams } from '../../core/weights.ts';
import type {
  AttentionGradients,
  BatchShape,
  ClipEngine,
  GradEclipInputs,
  ReadoutGradients,
  ScoreHead,
  TextAttentionGradients,
} from '../engine.ts';
import { attnGradKind, type GraphKind, gradEclipKind, legradKind, textAttnGradKind } from './clip-graphs.ts';
import { BUILDER_VERSION, CompiledModel } from './compiled-model.ts';

type OrtModule = typeof Ort;

/** Live sessions kept at most (each holds its own planned buffers). */
export const MAX_SESSIONS = 3;
/** Activation budgets per pass, in bytes: forward-only and gradient passes. */
const FORWARD_BUDGET = 2 * 2 ** 30;
const GRADIENT_BUDGET = 3 * 2 ** 30;
/** Text rows per pass (the text tower is small next to the image tower). */
const TEXT_BATCH = 128;
/** Text rows per gradient pass (each keeps its tape and [H, C, C] probabilities per layer). */
const TEXT_GRAD_BATCH = 16;

export interface OnnxEngineOptions {
  /** Folder for the compiled graphs and weights (created when missing). */
  cacheDir: string;
  /** Intra-op threads; default os.availableParallelism(). */
  threads?: number;
  /** 'cuda': the CUDA execution provider (the CPU runs what it lacks); create() fails clearly without it. */
  device?: 'cpu' | 'cuda';
  /** Upper bound on rows per pass (default: only the memory budgets of {@link onnxBatchRows}). */
  maxBatch?: number;
}

/** onnxruntime-node's version (as `probeOnnxRuntime` in select-engine.ts reports it). */
function ortVersion(ort: OrtModule): string {
  const v = ort.env.versions as { node?: string; common?: string };
  return v.node ?? v.common ?? 'unknown';
}

/**
 * Name of a compiled-model folder: sha256 of the builder version, the config and a fingerprint of the weights
 * (e.g. the checkpoint's sha256), 20 hex characters.
 *
 * @example
 * const dir = join(cacheRoot, onnxCacheKey(cfg, checkpointSha256));
 */
export function onnxCacheKey(config: ClipConfig, weightsFingerprint: string): string {
  return createHash('sha256')
    .update(`${BUILDER_VERSION}\n${JSON.stringify(config)}\n${weightsFingerprint}`)
    .digest('hex')
    .slice(0, 20);
}

/**
 * Rows per pass under the activation budgets (≥ 1, ≤ requested). Forward: a few live [T, 3W | M] buffers,
 * the scores and probabilities, and every layer's probabilities (the outputs of `imageAttentions`). Gradient:
 * every layer keeps its tape (≈ T·(8W + 3M) + 4·H·T² floats) plus probabilities and their gradients as outputs.
 * Shared image: the tape is kept once per pass, so a row costs one layer's backward buffers and its outputs;
 * ORT's peak is ≈ T·(6W + 2M) + 20·H·T² floats a row (measured on ViT-L/14@336: 6 rows 4.9 GB peak RSS,
 * 8 rows 11 GB), so that model gets 6 rows.
 *
 * @example
 * onnxBatchRows(vitB32, 64); // 64
 * onnxBatchRows(vitL336, 8, { sharedImage: true, outputsPerRow: 3 * 336 * 336 }); // 6
 */
export function onnxBatchRows(config: ClipConfig, requested: number, shape: BatchShape = {}): number {
  const { width: W, mlpDim: M, heads: H, layers: L, grid: G } = config.vision;
  const T = G * G + 1;
  const attn = H * T * T;
  let fit: number;
  if (shape.forwardOnly) fit = FORWARD_BUDGET / (4 * (T * (4 * W + 2 * M) + 3 * attn + L * attn));
  else if (shape.sharedImage)
    fit = GRADIENT_BUDGET / (4 * (T * (6 * W + 2 * M) + 20 * attn + (shape.outputsPerRow ?? 0)));
  else fit = GRADIENT_BUDGET / (4 * L * (T * (8 * W + 3 * M) + 6 * attn));
  return Math.max(1, Math.min(Math.floor(requested), Math.floor(fit)));
}

/** Outputs `<name>_<l>` of layers 0..L−1 as a list: empty arrays below `from`. */
function perLayer(out: Record<string, Float32Array>, name: string, from: number, L: number): Float32Array[] {
  return Array.from({ length: L }, (_, l) => (l < from ? new Float32Array(0) : out[`${name}_${l}`]));
}

/** n rows run in passes of at most `batch`; feeds(o, b) gives the inputs of rows [o, o + b). */
interface RowRequest {
  n: number;
  batch: number;
  feeds: (offset: number, rows: number) => Record<string, Ort.Tensor>;
  /** One image for all rows (outputs that depend on the image only have one row). */
  sharedImage?: boolean;
}

/** Rows of at most `size` from `n`: [start, count] pairs. */
function chunks(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let o = 0; o < n; o += size) out.push([o, Math.min(size, n - o)]);
  return out;
}

/**
 * CLIP on ONNX Runtime.
 *
 * @example
 * const engine = await OnnxEngine.create(cfg, params, { cacheDir: '/tmp/clip-onnx', threads: 2 });
 * const { grads, scores } = await engine.inputGradients(pixels, 1, [head]);
 */
export class OnnxEngine implements ClipEngine {
  readonly kind = 'onnx' as const;
  readonly sharesForward = true;
  readonly description: string;
  readonly logitScale: number;
  readonly visionTokens: number;
  /** Live sessions in least-recently-used order (first = oldest). */
  private readonly sessions = new Map<GraphKind, Ort.InferenceSession>();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    readonly config: ClipConfig,
    private readonly ort: OrtModule,
    /** The compiled folder (weights.bin present; graphs built on demand). */
    readonly compiled: CompiledModel,
    private readonly options: Ort.InferenceSession.SessionOptions,
    private readonly maxBatch: number,
    logitScale: number,
    description: string,
  ) {
    this.logitScale = logitScale;
    this.description = description;
    this.visionTokens = config.vision.grid ** 2 + 1;
  }

  /**
   * Compiles (or reuses) the model in `opts.cacheDir` and loads ONNX Runtime. Throws when onnxruntime-node
   * cannot be loaded. `params` may be a loader, called only when weights.bin must be written (a reused folder
   * is then trusted to hold these weights, as folders named by {@link onnxCacheKey} do).
   */
  static async create(
    config: ClipConfig,
    params: ClipParams | (() => Promise<ClipParams>),
    opts: OnnxEngineOptions,
  ): Promise<OnnxEngine> {
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1)
      throw new Error(`threads must be a positive integer, got ${threads}`);
    const maxBatch = opts.maxBatch ?? Number.POSITIVE_INFINITY;
    if (!(maxBatch >= 1)) throw new Error(`maxBatch must be at least 1, got ${opts.maxBatch}`);
    const device = opts.device ?? 'cpu';
    const ort = (await import('onnxruntime-node')) as OrtModule;
    const compiled = await CompiledModel.prepare(config, params, opts.cacheDir);
    const options: Ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionProviders: device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
      // no arena: a session would otherwise keep its peak activations (GBs on a ViT-L gradient) between calls
      enableCpuMemArena: false,
      // gradient graphs read their weights from the shared, memory-mapped weights.bin instead of a packed copy
      // per kernel and session (MLAS packs each block on the fly); forward graphs get packed copies, see session()
      extra: { session: { disable_prepacking: '1' } },
    };
    const description = `onnx (onnxruntime-node ${ortVersion(ort)}, ${device}, ${threads} threads)`;
    const scale = Math.exp(compiled.logitScale);
    const engine = new OnnxEngine(config, ort, compiled, options, maxBatch, scale, description);
    if (device === 'cuda') {
      // fail now, not on the first request, when the CUDA provider libraries are missing
      try {
        await engine.exclusive(() => engine.session('text'));
      } catch (e) {
        engine.dispose();
        throw new Error(
          `ONNX Runtime cannot use CUDA here (${(e as Error).message}); install onnxruntime-node with its CUDA ` +
            "files (npm config onnxruntime-node-install=cuda12) or use device 'cpu'",
        );
      }
    }
    return engine;
  }

  batchFor(requested: number, shape: BatchShape = {}): number {
    return onnxBatchRows(this.config, Math.min(requested, this.maxBatch), shape);
  }

  embedImages(pixels: Float32Array, n: number): Promise<Float32Array> {
    return this.exclusive(async () => {
      this.checkPixels(pixels, n);
      const feeds = (o: number, b: number) => ({ pixels: this.pixelTensor(pixels, o, b) });
      const req = { n, batch: this.batchFor(n, { forwardOnly: true }), feeds };
      const out = await this.runRows('vision', req, { embeds: this.config.embedDim });
      return out.embeds;
    });
  }

  imageAttentions(
    pixels: Float32Array,
    n: number,
  ): Promise<{ embeds: Float32Array; attentions: Float32Array[] }> {
    return this.exclusive(async () => {
      this.checkPixels(pixels, n);
      const { heads: H, layers: L } = this.config.vision;
      const T = this.visionTokens;
      const sizes: Record<string, number> = { embeds: this.config.embedDim };
      for (let l = 0; l < L; l++) sizes[`attn_${l}`] = H * T * T;
      const feeds = (o: number, b: number) => ({ pixels: this.pixelTensor(pixels, o, b) });
      const out = await this.runRows(
        'vision_attn',
        { n, batch: this.batchFor(n, { forwardOnly: true }), feeds },
        sizes,
      );
      return { embeds: out.embeds, attentions: Array.from({ length: L }, (_, l) => out[`attn_${l}`]) };
    });
  }

  embedTexts(ids: Int32Array, eotIndex: ArrayLike<number>): Promise<Float32Array> {
    return this.exclusive(async () => {
      const { contextLength: C, vocabSize: V } = this.config.text;
      const B = eotIndex.length;
      if (ids.length !== B * C) throw new Error(`token ids have ${ids.length} values, expected ${B} × ${C}`);
      for (let i = 0; i < ids.length; i++) {
        if (!(ids[i] >= 0 && ids[i] < V))
          throw new Error(`token id ${ids[i]} is outside the vocabulary (0..${V - 1})`);
      }
      for (let b = 0; b < B; b++) {
        const e = eotIndex[b];
        if (!Number.isInteger(e) || e < 0 || e >= C)
          throw new Error(`eot index ${e} of row ${b} is outside 0..${C - 1}`);
      }
      const feeds = (o: number, b: number) => {
        // the mask is causal: positions after the last EOT cannot reach the pooled rows
        let L = 1;
        for (let r = o; r < o + b; r++) L = Math.max(L, eotIndex[r] + 1);
        const used = new BigInt64Array(b * L); // [b, L]
        const rows = new BigInt64Array(b); // each EOT's row in [b·L, W]
        for (let r = 0; r < b; r++) {
          for (let j = 0; j < L; j++) used[r * L + j] = BigInt(ids[(o + r) * C + j]);
          rows[r] = BigInt(r * L + eotIndex[o + r]);
        }
        return {
          ids: new this.ort.Tensor('int64', used, [b, L]),
          rows: new this.ort.Tensor('int64', rows, [b]),
        };
      };
      const req = { n: B, batch: Math.min(TEXT_BATCH, this.maxBatch), feeds };
      return (await this.runRows('text', req, { embeds: this.config.embedDim })).embeds;
    });
  }

  inputGradients(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
  ): Promise<{ grads: Float32Array; scores: Float32Array }> {
    return this.exclusive(async () => {
      const S = this.config.vision.imageSize;
      const req = this.headRequest(pixels, n, heads, 3 * S * S);
      const out = await this.runRows('vision_grad', req, { scores: 1, grad: 3 * S * S });
      return { grads: out.grad, scores: out.scores };
    });
  }

  attentionGradients(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
    fromLayer = 0,
  ): Promise<AttentionGradients> {
    return this.exclusive(async () => {
      const { heads: H, layers: L } = this.config.vision;
      this.checkFromLayer(fromLayer);
      const T = this.visionTokens;
      const req = this.headRequest(pixels, n, heads, (L - fromLayer) * H * T * T);
      const sizes: Record<string, number> = { scores: 1 };
      const perImage: Record<string, number> = {};
      for (let l = fromLayer; l < L; l++) {
        perImage[`attn_${l}`] = H * T * T;
        sizes[`dattn_${l}`] = H * T * T;
      }
      const out = await this.runRows(attnGradKind(fromLayer), req, sizes, perImage);
      return {
        probs: perLayer(out, 'attn', fromLayer, L),
        grads: perLayer(out, 'dattn', fromLayer, L),
        scores: out.scores,
      };
    });
  }

  legradGradients(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
    fromLayer: number,
  ): Promise<ReadoutGradients> {
    return this.exclusive(async () => {
      const { heads: H, layers: L } = this.config.vision;
      this.checkFromLayer(fromLayer);
      const T = this.visionTokens;
      const req = this.headRequest(pixels, n, heads, (L - fromLayer) * H * T * T);
      const sizes: Record<string, number> = { scores: 1 };
      for (let l = fromLayer; l < L; l++) {
        sizes[`score_${l}`] = 1;
        sizes[`dattn_${l}`] = H * T * T;
      }
      const out = await this.runRows(legradKind(fromLayer), req, sizes);
      return {
        grads: perLayer(out, 'dattn', fromLayer, L),
        layerScores: perLayer(out, 'score', fromLayer, L),
        scores: out.scores,
      };
    });
  }

  gradEclip(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
    attentionHeads: number,
  ): Promise<GradEclipInputs> {
    return this.exclusive(async () => {
      const W = this.config.vision.width;
      if (!Number.isInteger(attentionHeads) || attentionHeads < 1 || W % attentionHeads !== 0)
        throw new Error(`attentionHeads must be a positive divisor of the width ${W}, got ${attentionHeads}`);
      const T = this.visionTokens;
      const req = this.headRequest(pixels, n, heads, W);
      const out = await this.runRows(
        gradEclipKind(attentionHeads),
        req,
        { grad: W, target_scores: 1, scores: 1 },
        { q: W, k: T * W, v: T * W },
      );
      return {
        grad: out.grad,
        q: out.q,
        k: out.k,
        v: out.v,
        targetScores: out.target_scores,
        scores: out.scores,
      };
    });
  }

  textAttentionGradients(
    ids: Int32Array,
    eotIndex: ArrayLike<number>,
    imageUnit: Float32Array,
    fromLayer = 0,
  ): Promise<TextAttentionGradients> {
    return this.exclusive(async () => {
      const { contextLength: C, vocabSize: V, layers: L, heads: H } = this.config.text;
      const E = this.config.embedDim;
      const B = eotIndex.length;
      if (!Number.isInteger(fromLayer) || fromLayer < 0 || fromLayer >= L)
        throw new Error(`fromLayer ${fromLayer} is outside 0..${L - 1}`);
      if (ids.length !== B * C) throw new Error(`token ids have ${ids.length} values, expected ${B} × ${C}`);
      if (imageUnit.length !== B * E)
        throw new Error(`imageUnit has ${imageUnit.length} values, expected ${B} × ${E}`);
      for (let i = 0; i < ids.length; i++) {
        if (!(ids[i] >= 0 && ids[i] < V))
          throw new Error(`token id ${ids[i]} is outside the vocabulary (0..${V - 1})`);
      }
      for (let b = 0; b < B; b++) {
        const e = eotIndex[b];
        if (!Number.isInteger(e) || e < 0 || e >= C)
          throw new Error(`eot index ${e} of row ${b} is outside 0..${C - 1}`);
      }
      const feeds = (o: number, b: number) => {
        const rows = new BigInt64Array(b); // each EOT's row in [b·C, W]
        for (let r = 0; r < b; r++) rows[r] = BigInt(r * C + eotIndex[o + r]);
        const T = this.ort.Tensor;
        return {
          ids: new T('int64', BigInt64Array.from(ids.subarray(o * C, (o + b) * C), BigInt), [b, C]),
          rows: new T('int64', rows, [b]),
          image: new T('float32', imageUnit.subarray(o * E, (o + b) * E), [b, E]),
        };
      };
      const sizes: Record<string, number> = { scores: 1 };
      for (let l = fromLayer; l < L; l++) sizes[`attn_${l}`] = sizes[`dattn_${l}`] = H * C * C;
      const batch = Math.min(TEXT_GRAD_BATCH, this.maxBatch);
      const out = await this.runRows(textAttnGradKind(fromLayer), { n: B, batch, feeds }, sizes);
      return {
        probs: perLayer(out, 'attn', fromLayer, L),
        grads: perLayer(out, 'dattn', fromLayer, L),
        scores: out.scores,
      };
    });
  }

  /** Graph kinds with a live session, oldest first. */
  liveSessions(): GraphKind[] {
    return [...this.sessions.keys()];
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // once the call in flight (if any) is done: release every session, including one it may have opened
    this.queue = this.queue
      .finally(async () => {
        const live = [...this.sessions.values()];
        this.sessions.clear();
        await Promise.all(live.map((s) => s.release()));
      })
      .catch(() => undefined);
  }

  /** Runs calls one at a time (sessions are swapped between calls, never during one). */
  private exclusive<R>(fn: () => Promise<R>): Promise<R> {
    if (this.disposed) return Promise.reject(new Error('the ONNX engine has been disposed'));
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async session(kind: GraphKind): Promise<Ort.InferenceSession> {
    if (this.disposed) throw new Error('the ONNX engine has been disposed');
    const live = this.sessions.get(kind);
    if (live) {
      this.sessions.delete(kind);
      this.sessions.set(kind, live);
      return live;
    }
    while (this.sessions.size >= MAX_SESSIONS) {
      const [oldest, s] = this.sessions.entries().next().value as [GraphKind, Ort.InferenceSession];
      this.sessions.delete(oldest);
      await s.release();
    }
    const path = await this.compiled.graphPath(kind);
    // forward-only graphs (embeddings, occlusion's many passes) pack their weights once: 10–14% faster on
    // ViT-L/14@336 (2.55 -> 2.3 s per image here) for one extra copy of the image tower's weights (1.2 GB)
    const forward = kind === 'vision' || kind === 'vision_attn' || kind === 'text';
    const s = await this.ort.InferenceSession.create(
      path,
      forward ? { ...this.options, extra: {} } : this.options,
    );
    this.sessions.set(kind, s);
    return s;
  }

  private async run(
    kind: GraphKind,
    feeds: Record<string, Ort.Tensor>,
  ): Promise<Ort.InferenceSession.ReturnType> {
    const s = await this.session(kind);
    try {
      return await s.run(feeds);
    } finally {
      for (const t of Object.values(feeds)) t.dispose();
    }
  }

  /**
   * Runs a graph over n rows in passes of at most `batch` rows and concatenates each output over the rows
   * (`sizes`: values per row). Outputs in `perImage` depend on the image only: per row as `sizes` are, or, when
   * the request shares one image, one row taken from the first pass. A single pass hands ORT's output arrays
   * over as they are (JS-owned, no copy); otherwise each pass's outputs are copied into the result and disposed.
   */
  private async runRows(
    kind: GraphKind,
    req: RowRequest,
    sizes: Record<string, number>,
    perImage: Record<string, number> = {},
  ): Promise<Record<string, Float32Array>> {
    const { n, batch, feeds, sharedImage = false } = req;
    const passes = chunks(n, batch);
    const result: Record<string, Float32Array> = {};
    const outputs = Object.entries(sizes).map(([name, per]) => ({ name, per, once: false }));
    for (const [name, per] of Object.entries(perImage)) outputs.push({ name, per, once: sharedImage });
    if (n === 0) for (const { name } of outputs) result[name] = new Float32Array(0);
    for (const [o, b] of passes) {
      const out = await this.run(kind, feeds(o, b));
      for (const { name, per, once } of outputs) {
        const t = out[name];
        const data = t?.data;
        const rows = once ? 1 : b;
        if (!(data instanceof Float32Array) || data.length !== rows * per) {
          throw new Error(
            `ONNX graph ${kind}: output "${name}" is missing or not ${rows} × ${per} float32 values`,
          );
        }
        if (passes.length === 1 || (once && o === 0)) result[name] = data;
        else if (once) t.dispose();
        else {
          result[name] ??= new Float32Array(n * per);
          result[name].set(data, o * per);
          t.dispose();
        }
      }
    }
    return result;
  }

  private pixelTensor(pixels: Float32Array, o: number, b: number): Ort.Tensor {
    const S = this.config.vision.imageSize;
    const per = 3 * S * S;
    return new this.ort.Tensor('float32', pixels.subarray(o * per, (o + b) * per), [b, 3, S, S]);
  }

  /** Score heads as graph inputs: text [b, K, E] (zero padded), weights [b, K], softmax [b], bias [b, K]. */
  private headTensors(heads: ScoreHead[]): Record<string, Ort.Tensor> {
    const E = this.config.embedDim;
    const b = heads.length;
    const K = Math.max(...heads.map((h) => h.k));
    const text = new Float32Array(b * K * E);
    const weights = new Float32Array(b * K);
    const softmax = new Float32Array(b);
    const bias = new Float32Array(b * K);
    heads.forEach((h, r) => {
      text.set(h.text.subarray(0, h.k * E), r * K * E);
      weights.set(h.weights.subarray(0, h.k), r * K);
      softmax[r] = h.softmax ? 1 : 0;
      // padded columns must get no probability mass
      if (h.softmax) bias.fill(-1e9, r * K + h.k, (r + 1) * K);
    });
    const T = this.ort.Tensor;
    return {
      text: new T('float32', text, [b, K, E]),
      weights: new T('float32', weights, [b, K]),
      softmax: new T('float32', softmax, [b]),
      bias: new T('float32', bias, [b, K]),
    };
  }

  /**
   * Checks a request of n score heads on n images, or on one image shared by all (its forward pass then runs
   * once per pass); returns its passes, with feeds for rows [o, o + b). `outputsPerRow`: floats a row returns.
   */
  private headRequest(
    pixels: Float32Array,
    n: number,
    heads: ScoreHead[],
    outputsPerRow: number,
  ): RowRequest {
    const S = this.config.vision.imageSize;
    const sharedImage = n > 1 && pixels.length === 3 * S * S;
    if (!sharedImage) this.checkPixels(pixels, n);
    this.checkHeads(heads, n);
    return {
      n,
      batch: this.batchFor(n, { sharedImage, outputsPerRow }),
      sharedImage,
      feeds: (o: number, b: number) => ({
        pixels: sharedImage ? this.pixelTensor(pixels, 0, 1) : this.pixelTensor(pixels, o, b),
        ...this.headTensors(heads.slice(o, o + b)),
      }),
    };
  }

  private checkFromLayer(fromLayer: number): void {
    const L = this.config.vision.layers;
    if (!Number.isInteger(fromLayer) || fromLayer < 0 || fromLayer >= L) {
      throw new Error(`fromLayer ${fromLayer} is outside 0..${L - 1}`);
    }
  }

  private checkPixels(pixels: Float32Array, n: number): void {
    const S = this.config.vision.imageSize;
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`image count must be a non-negative integer, got ${n}`);
    if (pixels.length !== n * 3 * S * S) {
      throw new Error(
        `pixels have ${pixels.length} values, expected ${n} × 3 × ${S} × ${S} = ${n * 3 * S * S}`,
      );
    }
  }

  private checkHeads(heads: ScoreHead[], n: number): void {
    const E = this.config.embedDim;
    if (heads.length !== n)
      throw new Error(`got ${heads.length} score heads for ${n} images (one per image, or n for one image)`);
    heads.forEach((h, i) => {
      if (!Number.isInteger(h.k) || h.k < 1)
        throw new Error(`score head ${i}: k must be a positive integer, got ${h.k}`);
      if (h.text.length !== h.k * E) {
        throw new Error(`score head ${i}: text has ${h.text.length} values, expected k × E = ${h.k} × ${E}`);
      }
      if (h.weights.length !== h.k) {
        throw new Error(`score head ${i}: ${h.weights.length} weights for k = ${h.k} text rows`);
      }
    });
  }
}
