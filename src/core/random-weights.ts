/**
 * Random CLIP parameters of any configured shape, and writing them as a Hugging Face model folder
 * (`config.json` + `model.safetensors`). Used by benchmarks (ViT-B/32-shaped models without downloading
 * weights), by shape tests, and by the model-parameter randomisation sanity check.
 *
 * @example
 * const cfg = parseHfConfig(vitB32ConfigJson());
 * const params = randomClipParams(cfg, 42);
 * await writeHfModel('/tmp/rand-b32', cfg, params);
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClipConfig, TowerConfig } from './clip-config.ts';
import { createRng } from './rng.ts';
import { type TensorToWrite, writeSafetensors } from './safetensors.ts';
import type { BlockParams, ClipParams, Param } from './weights.ts';

/** transformers-style config.json for a ViT CLIP; defaults are ViT-B/32. */
export function hfConfigJson(
  o: {
    embedDim?: number;
    vision?: Partial<{
      width: number;
      layers: number;
      heads: number;
      imageSize: number;
      patchSize: number;
      act: string;
    }>;
    text?: Partial<{ width: number; layers: number; heads: number; act: string; vocabSize: number }>;
  } = {},
): Record<string, unknown> {
  const v = {
    width: 768,
    layers: 12,
    heads: 12,
    imageSize: 224,
    patchSize: 32,
    act: 'quick_gelu',
    ...o.vision,
  };
  const t = { width: 512, layers: 12, heads: 8, act: 'quick_gelu', vocabSize: 49408, ...o.text };
  const E = o.embedDim ?? 512;
  return {
    model_type: 'clip',
    projection_dim: E,
    logit_scale_init_value: Math.log(100),
    vision_config: {
      hidden_size: v.width,
      intermediate_size: 4 * v.width,
      num_hidden_layers: v.layers,
      num_attention_heads: v.heads,
      image_size: v.imageSize,
      patch_size: v.patchSize,
      hidden_act: v.act,
      layer_norm_eps: 1e-5,
      projection_dim: E,
    },
    text_config: {
      hidden_size: t.width,
      intermediate_size: 4 * t.width,
      num_hidden_layers: t.layers,
      num_attention_heads: t.heads,
      max_position_embeddings: 77,
      vocab_size: t.vocabSize,
      hidden_act: t.act,
      layer_norm_eps: 1e-5,
      eos_token_id: 49407,
      projection_dim: E,
    },
  };
}

/** Random parameters (normal, std 1/sqrt(fan-in) for linear weights; LayerNorm at identity) for a config. */
export function randomClipParams(cfg: ClipConfig, seed = 0): ClipParams {
  const rng = createRng(seed);
  const normal = (shape: number[], std: number): Param => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = std * rng.normal();
    return { shape, data };
  };
  const fill = (shape: number[], v: number): Param => ({
    shape,
    data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v),
  });
  const norm = (W: number) => ({ weight: fill([W], 1), bias: fill([W], 0) });
  const blocks = (c: TowerConfig): BlockParams[] =>
    Array.from({ length: c.layers }, () => ({
      ln1: norm(c.width),
      qkv: { weight: normal([3 * c.width, c.width], c.width ** -0.5), bias: normal([3 * c.width], 0.02) },
      out: { weight: normal([c.width, c.width], c.width ** -0.5), bias: normal([c.width], 0.02) },
      ln2: norm(c.width),
      fc1: { weight: normal([c.mlpDim, c.width], c.width ** -0.5), bias: normal([c.mlpDim], 0.02) },
      fc2: { weight: normal([c.width, c.mlpDim], c.mlpDim ** -0.5), bias: normal([c.width], 0.02) },
    }));
  const v = cfg.vision;
  const t = cfg.text;
  const E = cfg.embedDim;
  return {
    vision: {
      patchWeight: normal([v.width, 3, v.patchSize, v.patchSize], (3 * v.patchSize ** 2) ** -0.5),
      classEmbedding: normal([v.width], v.width ** -0.5),
      positionEmbedding: normal([v.grid * v.grid + 1, v.width], 0.1),
      lnPre: norm(v.width),
      blocks: blocks(v),
      lnPost: norm(v.width),
      projection: normal([E, v.width], v.width ** -0.5),
    },
    text: {
      tokenEmbedding: normal([t.vocabSize, t.width], 0.02),
      positionEmbedding: normal([t.contextLength, t.width], 0.01),
      blocks: blocks(t),
      lnFinal: norm(t.width),
      projection: normal([E, t.width], t.width ** -0.5),
    },
    logitScale: Math.log(100),
  };
}

/** The parameters under transformers' CLIPModel key names (q/k/v split). */
export function toHfTensors(p: ClipParams): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  const put = (name: string, x: Param) => {
    out[name] = { dtype: 'F32', shape: x.shape, data: x.data };
  };
  const blocks = (prefix: string, bs: BlockParams[]) =>
    bs.forEach((b, i) => {
      const p0 = `${prefix}.encoder.layers.${i}.`;
      const W = b.out.weight.shape[0];
      ['q', 'k', 'v'].forEach((n, j) => {
        put(`${p0}self_attn.${n}_proj.weight`, {
          shape: [W, W],
          data: b.qkv.weight.data.subarray(j * W * W, (j + 1) * W * W),
        });
        put(`${p0}self_attn.${n}_proj.bias`, {
          shape: [W],
          data: b.qkv.bias.data.subarray(j * W, (j + 1) * W),
        });
      });
      put(`${p0}self_attn.out_proj.weight`, b.out.weight);
      put(`${p0}self_attn.out_proj.bias`, b.out.bias);
      put(`${p0}layer_norm1.weight`, b.ln1.weight);
      put(`${p0}layer_norm1.bias`, b.ln1.bias);
      put(`${p0}layer_norm2.weight`, b.ln2.weight);
      put(`${p0}layer_norm2.bias`, b.ln2.bias);
      put(`${p0}mlp.fc1.weight`, b.fc1.weight);
      put(`${p0}mlp.fc1.bias`, b.fc1.bias);
      put(`${p0}mlp.fc2.weight`, b.fc2.weight);
      put(`${p0}mlp.fc2.bias`, b.fc2.bias);
    });
  put('vision_model.embeddings.patch_embedding.weight', p.vision.patchWeight);
  put('vision_model.embeddings.class_embedding', p.vision.classEmbedding);
  put('vision_model.embeddings.position_embedding.weight', p.vision.positionEmbedding);
  put('vision_model.pre_layrnorm.weight', p.vision.lnPre.weight);
  put('vision_model.pre_layrnorm.bias', p.vision.lnPre.bias);
  blocks('vision_model', p.vision.blocks);
  put('vision_model.post_layernorm.weight', p.vision.lnPost.weight);
  put('vision_model.post_layernorm.bias', p.vision.lnPost.bias);
  put('visual_projection.weight', p.vision.projection);
  put('text_model.embeddings.token_embedding.weight', p.text.tokenEmbedding);
  put('text_model.embeddings.position_embedding.weight', p.text.positionEmbedding);
  blocks('text_model', p.text.blocks);
  put('text_model.final_layer_norm.weight', p.text.lnFinal.weight);
  put('text_model.final_layer_norm.bias', p.text.lnFinal.bias);
  put('text_projection.weight', p.text.projection);
  put('logit_scale', { shape: [], data: Float32Array.of(p.logitScale) });
  return out;
}

/** Writes `config.json` and `model.safetensors` into `dir` (tokenizer and preprocessor files are not written). */
export async function writeHfModel(
  dir: string,
  configJson: Record<string, unknown>,
  params: ClipParams,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(configJson, null, 2));
  await writeFile(join(dir, 'model.safetensors'), writeSafetensors(toHfTensors(params)));
}
