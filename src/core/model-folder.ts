/**
 * Where a model lives in the models folder and whether it is complete: hub id validation, the folder of a hub
 * id (`<modelsDir>/<owner>--<name>`), and the completion marker `artprobe-model.json` that a pull writes last.
 * Shared by the hub client (`hub.ts`, which writes models) and the model store (`model-store.ts`, which lists
 * and resolves them), so neither imports the other for it.
 *
 * @example
 * const dir = modelDirFor('openai/clip-vit-base-patch32'); // '<repo>/models/openai--clip-vit-base-patch32'
 * if (await isModelComplete(dir)) console.log((await readModelMarker(dir))?.commit);
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Name of the completion marker a successful pull writes last.
 *
 * @example
 * existsSync(join(dir, MODEL_MARKER)); // true once a pull has finished
 */
export const MODEL_MARKER = 'artprobe-model.json';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One file recorded in the completion marker. */
export interface ModelFileRecord {
  name: string;
  size: number;
  sha256: string;
}

/** Contents of `artprobe-model.json`. */
export interface ModelMarker {
  id: string;
  revision: string;
  commit: string;
  endpoint: string;
  format: ModelFormat;
  files: ModelFileRecord[];
  pulledAt: string;
}

/** `hf`: transformers layout (config.json + model.safetensors); `open_clip`: open_clip_config.json + weights. */
export type ModelFormat = 'hf' | 'open_clip' | 'unknown';

/** A parsed hub id. */
export interface HubId {
  owner: string;
  name: string;
  id: string;
}

/**
 * The models folder: `explicit`, else env ARTPROBE_MODELS, else `<repo root>/models`.
 *
 * @example
 * defaultModelsDir(); // '/work/main/models' unless ARTPROBE_MODELS is set
 */
export function defaultModelsDir(explicit?: string): string {
  if (explicit) return resolve(explicit);
  if (process.env.ARTPROBE_MODELS) return resolve(process.env.ARTPROBE_MODELS);
  return join(repoRoot, 'models');
}

/**
 * One part (owner or name) of a hub id, as accepted by {@link parseHubId}.
 *
 * @example
 * HUB_ID_PART_RE.test('clip-vit-base-patch32'); // true
 */
export const HUB_ID_PART_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Validates a hub id `owner/name` and refuses anything that could escape the models folder
 * (`..`, absolute paths, backslashes, empty parts, `--` which is the folder separator).
 *
 * @example
 * parseHubId('laion/CLIP-ViT-B-32-laion2B-s34B-b79K'); // { owner: 'laion', name: 'CLIP-ViT-B-32-...', id }
 * parseHubId('../etc'); // throws: hub id "../etc" contains ".."
 */
export function parseHubId(id: string): HubId {
  const bad = (why: string): never => {
    throw new Error(
      `invalid hub id "${id}": ${why} (expected owner/name, e.g. openai/clip-vit-base-patch32)`,
    );
  };
  if (typeof id !== 'string' || id.trim() === '') bad('it is empty');
  if (id.includes('\\')) bad('it contains a backslash');
  if (isAbsolute(id) || /^[A-Za-z]:/.test(id)) bad('it is an absolute path');
  if (id.includes('..')) bad('it contains ".."');
  const parts = id.split('/');
  if (parts.some((p) => p === '')) bad('it has an empty part');
  if (parts.length !== 2) bad(`it has ${parts.length} part(s) instead of 2`);
  for (const p of parts) {
    if (p.includes('--')) bad(`"${p}" contains "--"`);
    if (p.length > 96 || !HUB_ID_PART_RE.test(p) || /[.-]$/.test(p)) bad(`"${p}" is not a valid hub name`);
  }
  return { owner: parts[0], name: parts[1], id };
}

/**
 * Folder of a hub model inside the models folder: `<modelsDir>/<owner>--<name>`.
 *
 * @example
 * modelDirFor('openai/clip-vit-base-patch32', '/m'); // '/m/openai--clip-vit-base-patch32'
 */
export function modelDirFor(id: string, modelsDir: string = defaultModelsDir()): string {
  const { owner, name } = parseHubId(id);
  return join(modelsDir, `${owner}--${name}`);
}

/**
 * Reads the completion marker of a model folder, or null when it is absent or unreadable.
 *
 * @example
 * (await readModelMarker(dir))?.commit;
 */
export async function readModelMarker(dir: string): Promise<ModelMarker | null> {
  try {
    const m = JSON.parse(await readFile(join(dir, MODEL_MARKER), 'utf8')) as ModelMarker;
    return m && typeof m.id === 'string' && Array.isArray(m.files) ? m : null;
  } catch {
    return null;
  }
}

/**
 * Writes the completion marker atomically (temp file + rename). Call it only after every file is in place.
 *
 * @example
 * await writeModelMarker(dir, { id, revision: 'main', commit, endpoint, format: 'hf', files, pulledAt });
 */
export async function writeModelMarker(dir: string, marker: ModelMarker): Promise<void> {
  const tmp = join(dir, `${MODEL_MARKER}.tmp`);
  await writeFile(tmp, `${JSON.stringify(marker, null, 2)}\n`);
  await rename(tmp, join(dir, MODEL_MARKER));
}

/**
 * True when the folder has a completion marker and every file it lists is present with the recorded size
 * (cheap: no hashing).
 *
 * @example
 * if (!(await isModelComplete(dir))) throw new Error('incomplete');
 */
export async function isModelComplete(dir: string): Promise<boolean> {
  const marker = await readModelMarker(dir);
  if (!marker || marker.files.length === 0) return false;
  for (const f of marker.files) {
    const s = await stat(join(dir, f.name)).catch(() => null);
    if (!s?.isFile() || s.size !== f.size) return false;
  }
  return true;
}
