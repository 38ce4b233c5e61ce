/**
 * The local models folder: listing installed models and turning a user's `--model` argument (hub id or folder)
 * into a local folder. Where pulled CLIP models live (`<modelsDir>/<owner>--<name>/`), hub id validation and the
 * completion marker `artprobe-model.json` are in `model-folder.ts` (shared with the hub client, which this module
 * loads only when a pull is asked for) and re-exported here.
 *
 * @example
 * const dir = await resolveModelSource('openai/clip-vit-base-patch32'); // installed folder or a clear error
 * const models = await listModels(defaultModelsDir());
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import {
  defaultModelsDir,
  HUB_ID_PART_RE,
  isModelComplete,
  type ModelFormat,
  modelDirFor,
  parseHubId,
  readModelMarker,
} from './model-folder.ts';

export {
  defaultModelsDir,
  HUB_ID_PART_RE,
  type HubId,
  isModelComplete,
  MODEL_MARKER,
  type ModelFileRecord,
  type ModelFormat,
  type ModelMarker,
  modelDirFor,
  parseHubId,
  readModelMarker,
  writeModelMarker,
} from './model-folder.ts';

/** Format of a folder from the files it holds. */
function detectFormat(files: Set<string>): ModelFormat {
  if (files.has('config.json') && [...files].some((f) => /^model(-\d+-of-\d+)?\.safetensors$/.test(f)))
    return 'hf';
  if (files.has('open_clip_config.json') && files.has('open_clip_model.safetensors')) return 'open_clip';
  return 'unknown';
}

/** Main dimensions of a CLIP, read from its config. Missing transformers fields take transformers' defaults. */
export interface ModelDims {
  embedDim: number;
  imageSize: number;
  patchSize: number;
  visionWidth: number;
  visionLayers: number;
  textWidth: number;
  textLayers: number;
}

/** An installed (or partly installed) model. */
export interface InstalledModel {
  id: string;
  dir: string;
  sizeBytes: number;
  /** complete: marker present and valid; manual: files copied in by hand (no marker, no .part); partial: otherwise. */
  status: 'complete' | 'manual' | 'partial';
  format: ModelFormat;
  commit?: string;
  revision?: string;
  dims?: ModelDims;
  partFiles: string[];
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * Reads the main dimensions from config.json (transformers) or open_clip_config.json; null when neither parses.
 *
 * @example
 * (await readModelDims(dir))?.embedDim; // 512 for ViT-B/32
 */
export async function readModelDims(dir: string): Promise<ModelDims | null> {
  const hf = await readJson(join(dir, 'config.json'));
  if (hf) {
    const v = (hf.vision_config ?? {}) as Record<string, number>;
    const t = (hf.text_config ?? {}) as Record<string, number>;
    return {
      embedDim: (hf.projection_dim as number) ?? 512,
      imageSize: v.image_size ?? 224,
      patchSize: v.patch_size ?? 32,
      visionWidth: v.hidden_size ?? 768,
      visionLayers: v.num_hidden_layers ?? 12,
      textWidth: t.hidden_size ?? 512,
      textLayers: t.num_hidden_layers ?? 12,
    };
  }
  const oc = (await readJson(join(dir, 'open_clip_config.json')))?.model_cfg as
    | Record<string, unknown>
    | undefined;
  if (!oc) return null;
  const v = (oc.vision_cfg ?? {}) as Record<string, number>;
  const t = (oc.text_cfg ?? {}) as Record<string, number>;
  return {
    embedDim: oc.embed_dim as number,
    imageSize: v.image_size,
    patchSize: v.patch_size,
    visionWidth: v.width,
    visionLayers: v.layers,
    textWidth: t.width,
    textLayers: t.layers,
  };
}

/**
 * Lists the models in the models folder (one per `<owner>--<name>` folder; other folders and hidden ones
 * are ignored unless they hold a config), sorted by id.
 *
 * @example
 * for (const m of await listModels('/work/main/models')) console.log(m.id, m.status, m.sizeBytes);
 */
export async function listModels(modelsDir: string = defaultModelsDir()): Promise<InstalledModel[]> {
  const entries = await readdir(modelsDir, { withFileTypes: true }).catch(() => []);
  const out: InstalledModel[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const dir = join(modelsDir, e.name);
    const files = await readdir(dir, { withFileTypes: true });
    const names = new Set(files.filter((f) => f.isFile()).map((f) => f.name));
    const marker = await readModelMarker(dir);
    const halves = e.name.split('--');
    const isHubFolder = halves.length === 2 && halves.every((h) => HUB_ID_PART_RE.test(h));
    if (!marker && !isHubFolder && !names.has('config.json') && !names.has('open_clip_config.json')) continue;
    let sizeBytes = 0;
    for (const n of names) sizeBytes += (await stat(join(dir, n))).size;
    const partFiles = [...names].filter((n) => n.endsWith('.part'));
    const format = marker?.format ?? detectFormat(names);
    const status = (await isModelComplete(dir))
      ? 'complete'
      : !marker && partFiles.length === 0 && format !== 'unknown'
        ? 'manual'
        : 'partial';
    const dims = (await readModelDims(dir)) ?? undefined;
    const id = marker?.id ?? (isHubFolder ? e.name.replace('--', '/') : e.name);
    out.push({
      id,
      dir,
      sizeBytes,
      status,
      format,
      commit: marker?.commit,
      revision: marker?.revision,
      dims,
      partFiles,
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Options of {@link resolveModelSource}. */
export interface ResolveOptions {
  modelsDir?: string;
  /** Pull a hub model that is not installed (default false: throw an error saying how to pull it). */
  autoPull?: boolean;
  /** Passed to the pull when autoPull is set (revision, quiet, ...). */
  pullOptions?: Record<string, unknown>;
}

function hasConfig(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) || existsSync(join(dir, 'open_clip_config.json'));
}

/**
 * Turns a model argument into a local folder: a folder path holding config.json or open_clip_config.json is
 * returned as is; a hub id `owner/name` gives its installed folder (complete, or copied in by hand), else an
 * error that says to run `artprobe model pull owner/name` (or it is pulled when `autoPull` is set).
 *
 * @example
 * await resolveModelSource('./my-clip');                      // '/abs/path/my-clip'
 * await resolveModelSource('openai/clip-vit-base-patch32');  // '<modelsDir>/openai--clip-vit-base-patch32'
 */
export async function resolveModelSource(source: string, opts: ResolveOptions = {}): Promise<string> {
  if (typeof source !== 'string' || source.trim() === '') throw new Error('model source is empty');
  const looksLikePath = isAbsolute(source) || /^\.{1,2}([/\\]|$)/.test(source) || source.startsWith('~');
  const asPath = resolve(source);
  if (looksLikePath || (existsSync(asPath) && hasConfig(asPath))) {
    const s = await stat(asPath).catch(() => null);
    if (!s) throw new Error(`model folder not found: ${asPath}`);
    if (!s.isDirectory()) throw new Error(`model source is not a folder: ${asPath}`);
    if (!hasConfig(asPath))
      throw new Error(`model folder ${asPath} has no config.json or open_clip_config.json`);
    return asPath;
  }
  const { id } = parseHubId(source);
  const modelsDir = defaultModelsDir(opts.modelsDir);
  const dir = modelDirFor(id, modelsDir);
  if (await isModelComplete(dir)) return dir;
  const installed = (await listModels(modelsDir)).find((m) => m.dir === dir);
  if (installed?.status === 'manual') return dir;
  if (opts.autoPull) {
    const { pullModel } = await import('./hub.ts');
    return (await pullModel(id, { ...opts.pullOptions, modelsDir })).dir;
  }
  const partial = installed ? ` A partial download is in ${dir}; pulling again resumes it.` : '';
  throw new Error(
    `model ${id} is not installed in ${modelsDir}: run \`artprobe model pull ${id}\` first.${partial}`,
  );
}
