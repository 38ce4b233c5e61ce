/**
 * Builds the engine a {@link Clip} runs on: ONNX Runtime (graphs compiled from the config and weights, cached on
 * disk keyed by config and weights hash) or the TF.js reference port. The choice follows `chooseEngine`.
 *
 * @example
 * const { engine } = await createEngine({ config, loadParams: () => loadClipParams(dir, config), modelDir: dir,
 *   weightsFile: join(dir, 'model.safetensors') });
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { access, constants, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BackendInfo, initBackend } from '../core/backend.ts';
import type { ClipConfig } from '../core/clip-config.ts';
import { ClipModel } from '../core/clip-model.ts';
import type { ClipParams } from '../core/weights.ts';
import type { ClipEngine, EngineKind } from './engine.ts';
import { chooseEngine } from './select-engine.ts';
import { TfjsEngine } from './tfjs-engine.ts';

export interface CreateEngineOptions {
  config: ClipConfig;
  /** Reads the weights (called only when needed: always for tfjs, for onnx only when the cache is written). */
  loadParams: () => Promise<ClipParams>;
  /** The model folder (compiled graphs go beside it when it is writable). */
  modelDir: string;
  /** The weights file (its sha256 keys the compiled graphs). */
  weightsFile: string;
  engine?: EngineKind;
  backend?: string;
  device?: 'cpu' | 'cuda';
  threads?: number;
  cacheDir?: string;
}

/** Root of artprobe's own caches: `$ARTPROBE_CACHE`, else `~/.cache/artprobe`. */
export function cacheRoot(): string {
  return resolve(process.env.ARTPROBE_CACHE ?? join(homedir(), '.cache', 'artprobe'));
}

/**
 * sha256 of a file, remembered in `<cacheRoot>/fingerprints.json` by path, size and mtime, so a 1.7 GB
 * checkpoint is hashed once.
 */
export async function fingerprintFile(file: string): Promise<string> {
  const abs = resolve(file);
  const st = await stat(abs);
  const key = `${abs}|${st.size}|${st.mtimeMs}`;
  const store = join(cacheRoot(), 'fingerprints.json');
  let known: Record<string, string> = {};
  try {
    known = JSON.parse(await readFile(store, 'utf8'));
  } catch {
    // no store yet, or unreadable: hash again
  }
  if (known[key]) return known[key];
  const hash = await new Promise<string>((res, rej) => {
    const h = createHash('sha256');
    createReadStream(abs)
      .on('data', (d) => h.update(d))
      .on('end', () => res(h.digest('hex')))
      .on('error', rej);
  });
  try {
    mkdirSync(cacheRoot(), { recursive: true });
    known[key] = hash;
    const tmp = `${store}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(known));
    await rename(tmp, store);
  } catch {
    // a read-only cache only costs a re-hash next time
  }
  return hash;
}

/**
 * Where compiled graphs of a model live: the option; else beside a model that artprobe installed (a folder with
 * `artprobe-model.json`, e.g. `models/<owner>--<name>/.artprobe-onnx/<key>`) when it is writable; else
 * `<cacheRoot>/onnx/<key>`, so folders artprobe does not own (shared data, a user's checkpoint) are never written.
 */
async function onnxCacheDir(modelDir: string, key: string, explicit?: string): Promise<string> {
  if (explicit) return join(resolve(explicit), key);
  if (existsSync(join(modelDir, 'artprobe-model.json'))) {
    try {
      await access(modelDir, constants.W_OK);
      return join(modelDir, '.artprobe-onnx', key);
    } catch {
      // read-only install: fall through to the cache
    }
  }
  return join(cacheRoot(), 'onnx', key);
}

/** `cpu` or `cuda` from ARTPROBE_ONNX_DEVICE (unset: cpu); anything else is an error naming the variable. */
function parseDevice(v: string | undefined): 'cpu' | 'cuda' | undefined {
  if (v === undefined || v === '') return undefined;
  if (v !== 'cpu' && v !== 'cuda')
    throw new Error(`ARTPROBE_ONNX_DEVICE must be cpu or cuda, got ${JSON.stringify(v)}`);
  return v;
}

/** Creates the chosen engine; `backend` is set for the tfjs engine only. */
export async function createEngine(
  o: CreateEngineOptions,
): Promise<{ engine: ClipEngine; backend?: BackendInfo }> {
  const choice = await chooseEngine(o.engine);
  const device = o.device ?? parseDevice(process.env.ARTPROBE_ONNX_DEVICE);
  if (choice.kind === 'tfjs') {
    const backend = await initBackend(o.backend);
    return { engine: new TfjsEngine(ClipModel.fromParams(o.config, await o.loadParams()), backend), backend };
  }
  const { OnnxEngine, onnxCacheKey } = await import('./onnx/onnx-engine.ts');
  const key = onnxCacheKey(o.config, await fingerprintFile(o.weightsFile));
  const cacheDir = await onnxCacheDir(o.modelDir, key, o.cacheDir);
  // the weights are read only when the compiled cache has to be written
  const engine = await OnnxEngine.create(o.config, o.loadParams, {
    cacheDir,
    threads: o.threads,
    device,
  });
  return { engine };
}

/**
 * An engine over parameters already in memory (random weights, a randomised model, a test): the TF.js reference on
 * the current backend, or ONNX Runtime compiled into a temporary folder that `dispose` removes.
 *
 * @example
 * const { engine, dispose } = await engineFromParams('onnx', cfg, randomClipParams(cfg, 1));
 */
export async function engineFromParams(
  kind: EngineKind,
  config: ClipConfig,
  params: ClipParams,
): Promise<{ engine: ClipEngine; dispose(): void }> {
  if (kind === 'tfjs') {
    const engine = new TfjsEngine(ClipModel.fromParams(config, params));
    return { engine, dispose: () => engine.dispose() };
  }
  const { OnnxEngine } = await import('./onnx/onnx-engine.ts');
  const dir = mkdtempSync(join(tmpdir(), 'artprobe-onnx-'));
  const engine = await OnnxEngine.create(config, params, { cacheDir: dir });
  return {
    engine,
    dispose: () => {
      engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
