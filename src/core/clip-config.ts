/**
 * CLIP architecture as data: every dimension comes from the checkpoint's `config.json` (Hugging Face
 * `CLIPConfig`) or `open_clip_config.json` (OpenCLIP hub layout). Nothing is inferred from widths
 * (OpenAI's `width // 64` head rule is wrong for small models).
 *
 * @example
 * const cfg = await loadClipConfig('models/openai--clip-vit-base-patch32');
 * cfg.vision.patchSize; // 32
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export type Activation = 'quick_gelu' | 'gelu' | 'gelu_tanh';

export interface TowerConfig {
  width: number;
  layers: number;
  heads: number;
  mlpDim: number;
  act: Activation;
  eps: number;
}

export interface VisionConfig extends TowerConfig {
  imageSize: number;
  patchSize: number;
  /** Patches per side: imageSize / patchSize. */
  grid: number;
}

export interface TextConfig extends TowerConfig {
  vocabSize: number;
  contextLength: number;
  /** Token id that ends a prompt (pooling position); 49407 for CLIP's BPE. */
  eotTokenId: number;
}

export interface ClipConfig {
  format: 'hf' | 'open_clip';
  embedDim: number;
  vision: VisionConfig;
  text: TextConfig;
}

/** A config error names the file and the field at fault. */
export class ClipConfigError extends Error {
  override name = 'ClipConfigError';
}

type Json = Record<string, unknown>;

function num(obj: Json, key: string, where: string, fallback?: number): number {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new ClipConfigError(
      `${where}: "${key}" must be a positive number, got ${JSON.stringify(obj[key])}`,
    );
  }
  return v;
}

function int(obj: Json, key: string, where: string, fallback?: number): number {
  const v = num(obj, key, where, fallback);
  if (!Number.isInteger(v)) throw new ClipConfigError(`${where}: "${key}" must be an integer, got ${v}`);
  return v;
}

function parseAct(value: unknown, where: string): Activation {
  if (value === 'quick_gelu') return 'quick_gelu';
  if (value === 'gelu' || value === 'gelu_python') return 'gelu';
  if (value === 'gelu_new' || value === 'gelu_pytorch_tanh' || value === 'gelu_fast') return 'gelu_tanh';
  throw new ClipConfigError(
    `${where}: unsupported hidden_act ${JSON.stringify(value)} (quick_gelu, gelu, gelu_new)`,
  );
}

function checkVision(v: VisionConfig, where: string): VisionConfig {
  if (v.imageSize % v.patchSize !== 0) {
    throw new ClipConfigError(
      `${where}: image_size ${v.imageSize} is not a multiple of patch_size ${v.patchSize}`,
    );
  }
  if (v.width % v.heads !== 0) {
    throw new ClipConfigError(`${where}: vision width ${v.width} is not divisible by ${v.heads} heads`);
  }
  return v;
}

function checkText(t: TextConfig, where: string): TextConfig {
  if (t.width % t.heads !== 0) {
    throw new ClipConfigError(`${where}: text width ${t.width} is not divisible by ${t.heads} heads`);
  }
  return t;
}

/** Parses a transformers `CLIPConfig` object (`config.json`). */
export function parseHfConfig(json: Json, where = 'config.json'): ClipConfig {
  const vc = json.vision_config as Json | undefined;
  const tc = json.text_config as Json | undefined;
  if (!vc || typeof vc !== 'object') throw new ClipConfigError(`${where}: missing "vision_config"`);
  if (!tc || typeof tc !== 'object') throw new ClipConfigError(`${where}: missing "text_config"`);
  const w = `${where} vision_config`;
  const vWidth = int(vc, 'hidden_size', w, 768);
  const imageSize = int(vc, 'image_size', w, 224);
  const patchSize = int(vc, 'patch_size', w, 32);
  const vision = checkVision(
    {
      width: vWidth,
      layers: int(vc, 'num_hidden_layers', w, 12),
      heads: int(vc, 'num_attention_heads', w, 12),
      mlpDim: int(vc, 'intermediate_size', w, 3072),
      act: parseAct(vc.hidden_act ?? 'quick_gelu', w),
      eps: num(vc, 'layer_norm_eps', w, 1e-5),
      imageSize,
      patchSize,
      grid: imageSize / patchSize,
    },
    where,
  );
  const t = `${where} text_config`;
  const eos = tc.eos_token_id;
  const text = checkText(
    {
      width: int(tc, 'hidden_size', t, 512),
      layers: int(tc, 'num_hidden_layers', t, 12),
      heads: int(tc, 'num_attention_heads', t, 8),
      mlpDim: int(tc, 'intermediate_size', t, 2048),
      act: parseAct(tc.hidden_act ?? 'quick_gelu', t),
      eps: num(tc, 'layer_norm_eps', t, 1e-5),
      vocabSize: int(tc, 'vocab_size', t, 49408),
      contextLength: int(tc, 'max_position_embeddings', t, 77),
      // Legacy OpenAI hub configs carry eos_token_id 2, which transformers treats as "argmax of ids" (= 49407).
      eotTokenId: typeof eos === 'number' && eos > 2 ? eos : 49407,
    },
    where,
  );
  return { format: 'hf', embedDim: int(json, 'projection_dim', where, 512), vision, text };
}

/** Parses an OpenCLIP hub config (`open_clip_config.json`, `{model_cfg, preprocess_cfg}`) or a bare model cfg. */
export function parseOpenClipConfig(json: Json, where = 'open_clip_config.json'): ClipConfig {
  const mc = (json.model_cfg ?? json) as Json;
  const vc = mc.vision_cfg as Json | undefined;
  const tc = mc.text_cfg as Json | undefined;
  if (!vc || typeof vc !== 'object') throw new ClipConfigError(`${where}: missing "model_cfg.vision_cfg"`);
  if (!tc || typeof tc !== 'object') throw new ClipConfigError(`${where}: missing "model_cfg.text_cfg"`);
  if (vc.timm_model_name || Array.isArray(vc.layers)) {
    throw new ClipConfigError(
      `${where}: only ViT towers are supported (timm or ResNet vision towers are not)`,
    );
  }
  if (tc.hf_model_name) throw new ClipConfigError(`${where}: Hugging Face text towers are not supported`);
  const act: Activation = mc.quick_gelu === true ? 'quick_gelu' : 'gelu';
  const w = `${where} vision_cfg`;
  const vWidth = int(vc, 'width', w, 768);
  const headWidth = int(vc, 'head_width', w, 64);
  if (vWidth % headWidth !== 0) {
    throw new ClipConfigError(`${w}: width ${vWidth} is not a multiple of head_width ${headWidth}`);
  }
  const imageSize = int(vc, 'image_size', w, 224);
  const patchSize = int(vc, 'patch_size', w, 16);
  const vRatio = num(vc, 'mlp_ratio', w, 4);
  const vision = checkVision(
    {
      width: vWidth,
      layers: int(vc, 'layers', w, 12),
      heads: vWidth / headWidth,
      mlpDim: Math.round(vWidth * vRatio),
      act,
      eps: 1e-5,
      imageSize,
      patchSize,
      grid: imageSize / patchSize,
    },
    where,
  );
  const t = `${where} text_cfg`;
  const tWidth = int(tc, 'width', t, 512);
  const text = checkText(
    {
      width: tWidth,
      layers: int(tc, 'layers', t, 12),
      heads: int(tc, 'heads', t, 8),
      mlpDim: Math.round(tWidth * num(tc, 'mlp_ratio', t, 4)),
      act,
      eps: 1e-5,
      vocabSize: int(tc, 'vocab_size', t, 49408),
      contextLength: int(tc, 'context_length', t, 77),
      eotTokenId: 49407,
    },
    where,
  );
  return { format: 'open_clip', embedDim: int(mc, 'embed_dim', where, 512), vision, text };
}

/** Which config/weights layout a model folder uses; HF is preferred when both are present. */
export function detectFormat(dir: string): 'hf' | 'open_clip' {
  if (existsSync(join(dir, 'config.json'))) return 'hf';
  if (existsSync(join(dir, 'open_clip_config.json'))) return 'open_clip';
  throw new ClipConfigError(
    `${dir}: not a CLIP model folder (expected config.json + model.safetensors, or open_clip_config.json + open_clip_model.safetensors)`,
  );
}

/** Reads and parses the config of a model folder. */
export async function loadClipConfig(dir: string, format = detectFormat(dir)): Promise<ClipConfig> {
  const file = join(dir, format === 'hf' ? 'config.json' : 'open_clip_config.json');
  let json: Json;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ClipConfigError(`${file}: cannot read config (${(e as Error).message})`);
  }
  return format === 'hf' ? parseHfConfig(json, file) : parseOpenClipConfig(json, file);
}
