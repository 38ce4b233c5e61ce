/**
 * The on-disk form of a CLIP model for ONNX Runtime: one `weights.bin` (written once, float32, every tensor at a
 * 4096-aligned offset) and one `<kind>.onnx` per graph kind, built on first use. Every file is written to a
 * temporary name and renamed into place, then a JSON marker (`<file>.json`: builder version, config hash, byte
 * size) is written last; a file whose marker is missing, stale or disagrees with its size is rebuilt. So a second
 * process reuses the folder and starts fast, and an interrupted or truncated write is repaired, not loaded.
 *
 * @example
 * const model = await CompiledModel.prepare(cfg, params, '/cache/clip-b32-1a2b3c');
 * const path = await model.graphPath('vision'); // '/cache/clip-b32-1a2b3c/vision.onnx'
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClipConfig } from '../../core/clip-config.ts';
import type { ClipParams } from '../../core/weights.ts';
import { buildClipGraph, clipWeightLayout, clipWeightSpecs, type GraphKind } from './clip-graphs.ts';
import { WEIGHTS_FILE, type WeightLayout } from './onnx-writer.ts';

/** Changes whenever the graphs or the weights layout change, so old caches are not reused. */
export const BUILDER_VERSION = 'artprobe-onnx-4';

interface Marker {
  version: string;
  config: string;
  bytes: number;
  /** Sampled digest of the parameters (weights.bin only). */
  params?: string;
  /** ln of the logit temperature (weights.bin only), so a reused folder needs no parameters. */
  logitScale?: number;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Hash of the config as the graphs see it. */
function configHash(cfg: ClipConfig): string {
  return sha256(JSON.stringify(cfg)).slice(0, 24);
}

/**
 * A cheap fingerprint of the parameter values: sizes, the first and last values and a strided sample of every
 * tensor (catches a cache folder reused with other weights; not a cryptographic identity of the checkpoint).
 */
function paramsDigest(cfg: ClipConfig, params: ClipParams): string {
  const h = createHash('sha256');
  const walk = (v: unknown): void => {
    if (v instanceof Float32Array) {
      const stride = Math.max(1, Math.floor(v.length / 4096));
      const sample = new Float32Array(Math.ceil(v.length / stride) + 1);
      for (let i = 0, j = 0; i < v.length; i += stride) sample[j++] = v[i];
      sample[sample.length - 1] = v[v.length - 1] ?? 0;
      h.update(`${v.length};`).update(new Uint8Array(sample.buffer));
    } else if (typeof v === 'number') h.update(`${v};`);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object')
      for (const k of Object.keys(v).sort()) walk((v as Record<string, unknown>)[k]);
  };
  walk(params);
  h.update(configHash(cfg));
  return h.digest('hex').slice(0, 24);
}

function readMarker(path: string): Marker | undefined {
  try {
    return JSON.parse(readFileSync(`${path}.json`, 'utf8')) as Marker;
  } catch {
    return undefined;
  }
}

/**
 * The marker of `path` when the file is complete: the marker matches `expect` (its params only when given) and
 * the file has the recorded size.
 */
function completeMarker(
  path: string,
  expect: { version: string; config: string; params?: string },
): Marker | undefined {
  const m = readMarker(path);
  if (!m || m.version !== expect.version || m.config !== expect.config) return undefined;
  if (expect.params !== undefined && m.params !== expect.params) return undefined;
  try {
    return statSync(path).size === m.bytes ? m : undefined;
  } catch {
    return undefined;
  }
}

const tmpName = (path: string) => `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;

/** Renames a finished temporary file into place, then writes its marker (also atomically). */
async function commit(tmp: string, path: string, marker: Marker): Promise<void> {
  await rename(tmp, path);
  const mtmp = tmpName(`${path}.json`);
  await writeFile(mtmp, JSON.stringify(marker));
  await rename(mtmp, `${path}.json`);
}

/**
 * A compiled model folder: `weights.bin` is present and complete; graphs are built on demand.
 *
 * @example
 * const m = await CompiledModel.prepare(cfg, params, dir);
 * m.rebuilt; // true when weights.bin was (re)written by this call
 */
export class CompiledModel {
  private readonly pending = new Map<GraphKind, Promise<string>>();
  private readonly layout: WeightLayout;
  private readonly cfgHash: string;

  private constructor(
    readonly config: ClipConfig,
    readonly dir: string,
    /** Whether prepare() wrote weights.bin (false: an existing complete file was reused). */
    readonly rebuilt: boolean,
    /** ln of the logit temperature. */
    readonly logitScale: number,
  ) {
    this.layout = clipWeightLayout(config);
    this.cfgHash = configHash(config);
  }

  /**
   * Ensures `dir/weights.bin` holds the parameters: writes it unless a complete one exists. With parameters
   * given as values, the existing file must also match their sampled digest; given as a function, they are
   * loaded only when the file must be written (the folder name is then trusted to identify the weights, as
   * {@link onnxCacheKey}-named folders do).
   */
  static async prepare(
    config: ClipConfig,
    params: ClipParams | (() => Promise<ClipParams>),
    dir: string,
  ): Promise<CompiledModel> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, WEIGHTS_FILE);
    const cfgHash = configHash(config);
    const given = typeof params === 'function' ? undefined : params;
    const digest = given ? paramsDigest(config, given) : undefined;
    const found = completeMarker(path, { version: BUILDER_VERSION, config: cfgHash, params: digest });
    if (found?.logitScale !== undefined) return new CompiledModel(config, dir, false, found.logitScale);
    const p = given ?? (await (params as () => Promise<ClipParams>)());
    const specs = clipWeightSpecs(config);
    const layout = clipWeightLayout(config);
    const tmp = tmpName(path);
    const fh = await open(tmp, 'w');
    try {
      for (const s of specs) {
        const e = layout.get(s.name);
        const data = s.data(p);
        if (data.length * 4 !== e.length) {
          throw new Error(`weight ${s.name} has ${data.length} values, the layout expects ${e.length / 4}`);
        }
        await fh.write(new Uint8Array(data.buffer, data.byteOffset, e.length), 0, e.length, e.offset);
      }
      await fh.truncate(layout.bytes);
    } catch (err) {
      await fh.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    const marker = {
      version: BUILDER_VERSION,
      config: cfgHash,
      bytes: layout.bytes,
      logitScale: p.logitScale,
    };
    await commit(tmp, path, { ...marker, params: digest ?? paramsDigest(config, p) });
    return new CompiledModel(config, dir, true, p.logitScale);
  }

  /** Path of a graph's `.onnx` file, building it first when it is missing or incomplete. */
  async graphPath(kind: GraphKind): Promise<string> {
    if (this.hasGraph(kind)) return join(this.dir, `${kind}.onnx`);
    let p = this.pending.get(kind);
    if (!p) {
      p = this.buildGraph(kind).finally(() => this.pending.delete(kind));
      this.pending.set(kind, p);
    }
    return p;
  }

  /** Whether a graph file is present and complete (without building it). */
  hasGraph(kind: GraphKind): boolean {
    return !!completeMarker(join(this.dir, `${kind}.onnx`), {
      version: BUILDER_VERSION,
      config: this.cfgHash,
    });
  }

  private async buildGraph(kind: GraphKind): Promise<string> {
    const path = join(this.dir, `${kind}.onnx`);
    if (!existsSync(join(this.dir, WEIGHTS_FILE))) throw new Error(`${this.dir}: ${WEIGHTS_FILE} is missing`);
    const bytes = buildClipGraph(kind, this.config, this.layout);
    const tmp = tmpName(path);
    await writeFile(tmp, bytes);
    await commit(tmp, path, { version: BUILDER_VERSION, config: this.cfgHash, bytes: bytes.length });
    return path;
  }
}
