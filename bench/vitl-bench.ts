/**
 * ViT-L/14@336 benchmark (issue 10): a random-weight model with the config of openai/clip-vit-large-patch14-336
 * runs every method through `artprobe explain --engine onnx` on one 1024×768 painting with 8 prompts, one
 * process per method, timed and measured for peak RSS with /usr/bin/time; plus the image forward time per image.
 * The model folder is written once to `<cache>/bench/vitl-random` (1.7 GB) and reused.
 *
 * @example
 * const res = await runVitlBench({ quick: false, log: console.log });
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { loadClip } from '../src/core/clip.ts';
import { parseHfConfig } from '../src/core/clip-config.ts';
import { hfConfigJson, randomClipParams, writeHfModel } from '../src/core/random-weights.ts';
import { cacheRoot } from '../src/engine/create-engine.ts';
import { round } from './common.ts';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface VitlRow {
  method: string;
  params: Record<string, unknown>;
  prompts: number;
  /** Wall seconds of the whole `artprobe explain` process (model load included). */
  seconds: number;
  /** Peak resident memory of that process. */
  peakRssMB: number;
}

export interface VitlResult {
  /** Image forward of the model, seconds per image (batch 1, after warm-up, best of 3). */
  forwardSeconds: number;
  /** `encodeImage` of the 1024×768 file: decoding, preprocessing and the forward (best of 3). */
  encodeSeconds: number;
  /** Seconds to load the model with compiled graphs in the cache. */
  loadSeconds: number;
  rows: VitlRow[];
}

/** The config of openai/clip-vit-large-patch14-336 (transformers layout). */
export function vitlConfigJson(): Record<string, unknown> {
  return hfConfigJson({
    embedDim: 768,
    vision: { width: 1024, layers: 24, heads: 16, imageSize: 336, patchSize: 14, act: 'quick_gelu' },
    text: { width: 768, layers: 12, heads: 12, act: 'quick_gelu' },
  });
}

/** Writes (once) the random ViT-L/14@336 model folder, with CLIP's BPE files from the shared golden data. */
async function ensureModel(log: (s: string) => void): Promise<string> {
  const dir = join(cacheRoot(), 'bench', 'vitl-random');
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  log(`  writing a random ViT-L/14@336 model to ${dir} (once)…`);
  const json = vitlConfigJson();
  await writeHfModel(dir, json, randomClipParams(parseHfConfig(json), 336));
  const shared = resolve(process.env.ARTPROBE_SHARED ?? join(repo, '..', 'shared'));
  for (const f of ['vocab.json', 'merges.txt'])
    copyFileSync(join(shared, 'golden/models/tiny-b32', f), join(dir, f));
  return dir;
}

/** Peak RSS (MB) and wall seconds of a command under /usr/bin/time. */
async function timed(args: string[]): Promise<{ seconds: number; peakRssMB: number }> {
  const { stderr } = await run('/usr/bin/time', ['-f', 'ARTPROBE_TIME %M %e', ...args], {
    cwd: repo,
    maxBuffer: 1 << 26,
  });
  const m = /ARTPROBE_TIME (\d+) ([\d.]+)/.exec(stderr);
  if (!m) throw new Error(`no timing in output of ${args.join(' ')}: ${stderr.slice(-500)}`);
  return { peakRssMB: round(Number(m[1]) / 1024), seconds: Number(m[2]) };
}

export async function runVitlBench(o: { quick: boolean; log: (s: string) => void }): Promise<VitlResult> {
  if (!existsSync('/usr/bin/time'))
    throw new Error('the ViT-L bench needs /usr/bin/time (apt-get install time)');
  const model = await ensureModel(o.log);
  const work = mkdtempSync(join(tmpdir(), 'artprobe-vitl-'));
  try {
    const image = join(work, 'painting.png');
    const w = 1024;
    const h = 768;
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        px.set([(x * 255) / w, (y * 255) / h, ((x + y) * 97) % 256], (y * w + x) * 3);
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(image);

    // forward time in-process (this also compiles the graphs once, so the explain processes find them)
    const t0 = performance.now();
    const clip = await loadClip(model, { engine: 'onnx' });
    const loadSeconds = (performance.now() - t0) / 1000;
    await clip.encodeImage([image]);
    const best = async (fn: () => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await fn();
        times.push((performance.now() - t) / 1000);
      }
      return round(Math.min(...times), 2);
    };
    const encodeSeconds = await best(() => clip.encodeImage([image]));
    const [pre] = await clip.preprocess([image]);
    const forwardSeconds = await best(() => clip.engine.embedImages(pre.pixelValues, 1));
    clip.dispose();
    o.log(
      `  load ${loadSeconds.toFixed(1)} s; image forward ${forwardSeconds} s/image (model), ` +
        `${encodeSeconds} s with decoding and preprocessing (best of 3)`,
    );

    const prompts = Array.from({ length: 8 }, (_, i) => `a painting of subject number ${i + 1}`);
    const plan: { method: string; params: Record<string, unknown> }[] = [
      { method: 'gradient', params: {} },
      { method: 'gradient-x-input', params: {} },
      { method: 'smoothgrad', params: { samples: o.quick ? 2 : 16 } },
      { method: 'integrated-gradients', params: { steps: o.quick ? 4 : 32 } },
      { method: 'rollout', params: {} },
      { method: 'chefer-last', params: {} },
      { method: 'chefer-all', params: {} },
      { method: 'legrad', params: {} },
      { method: 'grad-eclip', params: {} },
      { method: 'occlusion', params: { window: 28, stride: 28 } },
    ];
    const rows: VitlRow[] = [];
    for (const { method, params } of plan) {
      const out = join(work, method);
      mkdirSync(out);
      const paramArgs = Object.entries(params).flatMap(([k, v]) => ['--param', `${method}.${k}=${v}`]);
      const r = await timed([
        process.execPath,
        join(repo, 'bin/artprobe.mjs'),
        'explain',
        '--engine',
        'onnx',
        '--model',
        model,
        '--image',
        image,
        '--prompt',
        ...prompts,
        '--method',
        method,
        ...paramArgs,
        '--quiet',
        '--out',
        out,
      ]);
      rows.push({ method, params, prompts: prompts.length, ...r });
      o.log(`  ${method} ${JSON.stringify(params)}: ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMB} MB`);
      rmSync(out, { recursive: true, force: true });
    }
    return { forwardSeconds, encodeSeconds, loadSeconds: round(loadSeconds, 2), rows };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
