/**
 * Weights resolution, separate from model code: reads a checkpoint (Hugging Face or OpenCLIP/OpenAI names)
 * into one canonical structure of float32 arrays, checking every tensor's presence and shape against the
 * config. Linear weights keep PyTorch's `[out, in]` orientation.
 *
 * @example
 * const cfg = await loadClipConfig(dir);
 * const w = await loadClipWeights(dir, cfg); // w.vision.blocks[0].qkv.weight: [3W, W]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClipConfig, TowerConfig } from './clip-config.ts';
import { SafetensorsFile } from './safetensors.ts';

export interface Param {
  shape: number[];
  data: Float32Array;
}

export interface LinearParams {
  /** [out, in] */
  weight: Param;
  /** [out] */
  bias: Param;
}

export interface NormParams {
  weight: Param;
  bias: Param;
}

export interface BlockParams {
  ln1: NormParams;
  /** q, k and v stacked along the output axis: weight [3W, W], bias [3W] (as OpenAI's in_proj). */
  qkv: LinearParams;
  out: LinearParams;
  ln2: NormParams;
  fc1: LinearParams;
  fc2: LinearParams;
}

export interface ClipParams {
  vision: {
    /** [W, 3, P, P] */
    patchWeight: Param;
    /** [W] */
    classEmbedding: Param;
    /** [T, W] */
    positionEmbedding: Param;
    lnPre: NormParams;
    blocks: BlockParams[];
    lnPost: NormParams;
    /** [E, W] */
    projection: Param;
  };
  text: {
    /** [V, W] */
    tokenEmbedding: Param;
    /** [C, W] */
    positionEmbedding: Param;
    blocks: BlockParams[];
    lnFinal: NormParams;
    /** [E, W] */
    projection: Param;
  };
  /** ln of the logit temperature; logits are exp(logitScale) · cos. */
  logitScale: number;
}

export class WeightsError extends Error {
  override name = 'WeightsError';
}

/** Weight files tried, in order, for each layout. */
export const WEIGHT_FILES = {
  hf: ['model.safetensors', 'model.fp16.safetensors'],
  open_clip: ['open_clip_model.safetensors', 'open_clip_pytorch_model.safetensors'],
} as const;

/** Picks the weights file of a folder (or checks an explicitly named one). */
export function findWeightsFile(dir: string, format: ClipConfig['format'], file?: string): string {
  if (file) {
    const p = join(dir, file);
    if (!existsSync(p)) throw new WeightsError(`${p}: weights file not found`);
    return p;
  }
  for (const f of WEIGHT_FILES[format]) {
    if (existsSync(join(dir, f))) return join(dir, f);
  }
  throw new WeightsError(
    `${dir}: no weights found (looked for ${WEIGHT_FILES[format].join(', ')}); only safetensors checkpoints are read`,
  );
}

class Reader {
  constructor(
    private readonly st: SafetensorsFile,
    private readonly prefix = '',
  ) {}

  get(name: string, shape: number[]): Param {
    const full = this.prefix + name;
    if (!this.st.has(full)) throw new WeightsError(`${this.st.source}: tensor "${full}" is missing`);
    const t = this.st.getFloat32(full);
    const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    if (!same) {
      throw new WeightsError(
        `${this.st.source}: tensor "${full}" has shape [${t.shape}] but the config needs [${shape}]`,
      );
    }
    return { shape, data: t.data };
  }

  /** Like get, but a tensor stored transposed ([in, out]) is transposed back to [out, in]. */
  getTransposed(name: string, outDim: number, inDim: number): Param {
    const p = this.get(name, [inDim, outDim]);
    return { shape: [outDim, inDim], data: transpose2d(p.data, inDim, outDim) };
  }
}

/** [rows, cols] -> [cols, rows] */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

function concat(parts: Param[], shape: number[]): Param {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let o = 0;
  for (const p of parts) {
    data.set(p.data, o);
    o += p.data.length;
  }
  return { shape, data };
}

function hfBlocks(r: Reader, prefix: string, c: TowerConfig): BlockParams[] {
  const W = c.width;
  return Array.from({ length: c.layers }, (_, i) => {
    const p = `${prefix}.encoder.layers.${i}.`;
    const lin = (n: string, o: number, inn: number): LinearParams => ({
      weight: r.get(`${p}${n}.weight`, [o, inn]),
      bias: r.get(`${p}${n}.bias`, [o]),
    });
    const norm = (n: string): NormParams => ({
      weight: r.get(`${p}${n}.weight`, [W]),
      bias: r.get(`${p}${n}.bias`, [W]),
    });
    const q = lin('self_attn.q_proj', W, W);
    const k = lin('self_attn.k_proj', W, W);
    const v = lin('self_attn.v_proj', W, W);
    return {
      ln1: norm('layer_norm1'),
      qkv: {
        weight: concat([q.weight, k.weight, v.weight], [3 * W, W]),
        bias: concat([q.bias, k.bias, v.bias], [3 * W]),
      },
      out: lin('self_attn.out_proj', W, W),
      ln2: norm('layer_norm2'),
      fc1: lin('mlp.fc1', c.mlpDim, W),
      fc2: lin('mlp.fc2', W, c.mlpDim),
    };
  });
}

function openClipBlocks(r: Reader, prefix: string, c: TowerConfig): BlockParams[] {
  const W = c.width;
  return Array.from({ length: c.layers }, (_, i) => {
    const p = `${prefix}resblocks.${i}.`;
    const norm = (n: string): NormParams => ({
      weight: r.get(`${p}${n}.weight`, [W]),
      bias: r.get(`${p}${n}.bias`, [W]),
    });
    return {
      ln1: norm('ln_1'),
      qkv: {
        weight: r.get(`${p}attn.in_proj_weight`, [3 * W, W]),
        bias: r.get(`${p}attn.in_proj_bias`, [3 * W]),
      },
      out: { weight: r.get(`${p}attn.out_proj.weight`, [W, W]), bias: r.get(`${p}attn.out_proj.bias`, [W]) },
      ln2: norm('ln_2'),
      fc1: {
        weight: r.get(`${p}mlp.c_fc.weight`, [c.mlpDim, W]),
        bias: r.get(`${p}mlp.c_fc.bias`, [c.mlpDim]),
      },
      fc2: { weight: r.get(`${p}mlp.c_proj.weight`, [W, c.mlpDim]), bias: r.get(`${p}mlp.c_proj.bias`, [W]) },
    };
  });
}

/** Maps a parsed checkpoint onto the canonical parameter structure, validating shapes against the config. */
export function readClipParams(st: SafetensorsFile, cfg: ClipConfig): ClipParams {
  const v = cfg.vision;
  const t = cfg.text;
  const E = cfg.embedDim;
  const T = v.grid * v.grid + 1;
  const P = v.patchSize;
  const norm = (r: Reader, n: string, W: number): NormParams => ({
    weight: r.get(`${n}.weight`, [W]),
    bias: r.get(`${n}.bias`, [W]),
  });
  // OpenCLIP checkpoints are sometimes saved with a "module." prefix (DDP); accept it.
  const prefix = !st.has('logit_scale') && st.has('module.logit_scale') ? 'module.' : '';
  const r = new Reader(st, prefix);
  const scale = r.get('logit_scale', []).data[0];
  if (cfg.format === 'hf' || st.has(`${prefix}vision_model.embeddings.class_embedding`)) {
    return {
      vision: {
        patchWeight: r.get('vision_model.embeddings.patch_embedding.weight', [v.width, 3, P, P]),
        classEmbedding: r.get('vision_model.embeddings.class_embedding', [v.width]),
        positionEmbedding: r.get('vision_model.embeddings.position_embedding.weight', [T, v.width]),
        lnPre: norm(r, 'vision_model.pre_layrnorm', v.width),
        blocks: hfBlocks(r, 'vision_model', v),
        lnPost: norm(r, 'vision_model.post_layernorm', v.width),
        projection: r.get('visual_projection.weight', [E, v.width]),
      },
      text: {
        tokenEmbedding: r.get('text_model.embeddings.token_embedding.weight', [t.vocabSize, t.width]),
        positionEmbedding: r.get('text_model.embeddings.position_embedding.weight', [
          t.contextLength,
          t.width,
        ]),
        blocks: hfBlocks(r, 'text_model', t),
        lnFinal: norm(r, 'text_model.final_layer_norm', t.width),
        projection: r.get('text_projection.weight', [E, t.width]),
      },
      logitScale: scale,
    };
  }
  return {
    vision: {
      patchWeight: r.get('visual.conv1.weight', [v.width, 3, P, P]),
      classEmbedding: r.get('visual.class_embedding', [v.width]),
      positionEmbedding: r.get('visual.positional_embedding', [T, v.width]),
      lnPre: norm(r, 'visual.ln_pre', v.width),
      blocks: openClipBlocks(r, 'visual.transformer.', v),
      lnPost: norm(r, 'visual.ln_post', v.width),
      // OpenAI stores projections as [W, E]
      projection: r.getTransposed('visual.proj', E, v.width),
    },
    text: {
      tokenEmbedding: r.get('token_embedding.weight', [t.vocabSize, t.width]),
      positionEmbedding: r.get('positional_embedding', [t.contextLength, t.width]),
      blocks: openClipBlocks(r, 'transformer.', t),
      lnFinal: norm(r, 'ln_final', t.width),
      projection: r.getTransposed('text_projection', E, t.width),
    },
    logitScale: scale,
  };
}

/** Reads the weights of a model folder (or a named weights file in it) for the given config. */
export async function loadClipParams(dir: string, cfg: ClipConfig, file?: string): Promise<ClipParams> {
  const path = findWeightsFile(dir, cfg.format, file);
  const st = await SafetensorsFile.open(path);
  return readClipParams(st, cfg);
}
