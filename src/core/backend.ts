/**
 * TensorFlow.js backend selection. Default: native `tensorflow` when `@tensorflow/tfjs-node-gpu` or
 * `@tensorflow/tfjs-node` is installed (GPU first), otherwise `wasm`. `ARTPROBE_BACKEND` or an explicit
 * argument overrides. The pure-JS `cpu` backend is used only when asked for by name, never as a silent fallback.
 *
 * @example
 * const info = await initBackend();      // { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', ... }
 * const info2 = await initBackend('cpu'); // explicit only
 */
import * as tf from '@tensorflow/tfjs';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  name: BackendName;
  /** npm package that provides the backend. */
  package: string;
  /** True when a GPU build of tfjs-node was loaded. */
  gpu: boolean;
  /** Why this backend was chosen. */
  reason: string;
  tfjsVersion: string;
  /** Packages probed and why they were not used. */
  probes: { package: string; available: boolean; error?: string }[];
}

let active: BackendInfo | undefined;

async function tryImport(pkg: string): Promise<string | undefined> {
  try {
    await import(pkg);
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/** The backend chosen by initBackend, if any. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}

/**
 * Initialises (once) and returns the TensorFlow.js backend. Later calls with a different explicit name switch.
 */
export async function initBackend(requested?: string): Promise<BackendInfo> {
  const want = (requested ?? process.env.ARTPROBE_BACKEND ?? '').trim().toLowerCase() || undefined;
  if (active && (!want || want === active.name || (want === 'node' && active.name === 'tensorflow')))
    return active;
  if (want && !['tensorflow', 'node', 'wasm', 'cpu'].includes(want)) {
    throw new Error(`unknown backend "${want}" (choose wasm, tensorflow or cpu)`);
  }
  const probes: BackendInfo['probes'] = [];
  const info = (name: BackendName, pkg: string, gpu: boolean, reason: string): BackendInfo => ({
    name,
    package: pkg,
    gpu,
    reason,
    tfjsVersion: tf.version.tfjs,
    probes,
  });
  let chosen: BackendInfo | undefined;
  if (!want || want === 'tensorflow' || want === 'node') {
    for (const [pkg, gpu] of [
      ['@tensorflow/tfjs-node-gpu', true],
      ['@tensorflow/tfjs-node', false],
    ] as const) {
      const err = await tryImport(pkg);
      probes.push({ package: pkg, available: !err, error: err });
      if (!err && tf.findBackend('tensorflow')) {
        chosen = info('tensorflow', pkg, gpu, want ? 'requested' : 'native TensorFlow is installed');
        break;
      }
    }
    if (!chosen && want) {
      throw new Error(
        'backend "tensorflow" requested but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node can be loaded ' +
          `(${probes.map((p) => `${p.package}: ${p.error}`).join('; ')})`,
      );
    }
  }
  if (!chosen && want === 'cpu')
    chosen = info('cpu', '@tensorflow/tfjs-backend-cpu', false, 'requested (slow, pure JS)');
  if (!chosen) {
    await import('@tensorflow/tfjs-backend-wasm');
    chosen = info(
      'wasm',
      '@tensorflow/tfjs-backend-wasm',
      false,
      want ? 'requested' : 'default (no tfjs-node installed)',
    );
  }
  const ok = await tf.setBackend(chosen.name);
  if (!ok || tf.getBackend() !== chosen.name) {
    throw new Error(`could not initialise the TensorFlow.js "${chosen.name}" backend`);
  }
  await tf.ready();
  active = chosen;
  return chosen;
}
