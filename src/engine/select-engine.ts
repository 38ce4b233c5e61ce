/**
 * Which engine runs CLIP: `--engine onnx|tfjs` or `ARTPROBE_ENGINE`, else ONNX Runtime when onnxruntime-node
 * loads (its CPU binary ships inside the npm package), else the TensorFlow.js reference port. The answer says
 * why, for `artprobe doctor`.
 *
 * @example
 * const { kind, reason } = await chooseEngine(); // { kind: 'onnx', reason: 'default: onnxruntime-node 1.30.0 loads' }
 */
import { ENGINE_KINDS, type EngineKind } from './engine.ts';

export interface EngineChoice {
  kind: EngineKind;
  reason: string;
  /** onnxruntime-node's version when it loads. */
  onnxVersion?: string;
  /** Why onnxruntime-node does not load, when it does not. */
  onnxError?: string;
}

let ortProbe: Promise<{ version?: string; error?: string }> | undefined;

/** Loads onnxruntime-node once and reports its version or the load error. */
export function probeOnnxRuntime(): Promise<{ version?: string; error?: string }> {
  ortProbe ??= import('onnxruntime-node').then(
    (ort) => ({ version: ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown' }),
    (e: Error) => ({ error: e.message.split('\n')[0] }),
  );
  return ortProbe;
}

/** Checks an engine name (from an option or the environment); the message names the source. */
export function parseEngineKind(value: string, source = '--engine'): EngineKind {
  if (!(ENGINE_KINDS as readonly string[]).includes(value)) {
    throw new Error(`${source} must be one of ${ENGINE_KINDS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as EngineKind;
}

/**
 * Resolves the engine: an explicit request (option, then `ARTPROBE_ENGINE`) must be usable or it fails with
 * the reason; otherwise ONNX Runtime when it loads, else tfjs.
 */
export async function chooseEngine(requested?: string): Promise<EngineChoice> {
  const env = process.env.ARTPROBE_ENGINE;
  const explicit =
    requested !== undefined
      ? parseEngineKind(requested)
      : env
        ? parseEngineKind(env, 'ARTPROBE_ENGINE')
        : undefined;
  const ort = explicit === 'tfjs' ? {} : await probeOnnxRuntime();
  const info = { onnxVersion: ort.version, onnxError: ort.error };
  if (explicit === 'onnx') {
    if (ort.error)
      throw new Error(`engine onnx was requested but onnxruntime-node does not load: ${ort.error}`);
    return {
      kind: 'onnx',
      reason: `requested (${requested !== undefined ? '--engine' : 'ARTPROBE_ENGINE'})`,
      ...info,
    };
  }
  if (explicit === 'tfjs') {
    return {
      kind: 'tfjs',
      reason: `requested (${requested !== undefined ? '--engine' : 'ARTPROBE_ENGINE'})`,
      ...info,
    };
  }
  if (ort.version) return { kind: 'onnx', reason: `default: onnxruntime-node ${ort.version} loads`, ...info };
  return { kind: 'tfjs', reason: `default: onnxruntime-node does not load (${ort.error})`, ...info };
}
