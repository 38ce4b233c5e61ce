/**
 * Loads a golden tiny model on an engine (tfjs reference or ONNX Runtime) and the golden inputs for
 * attribution tests.
 *
 * @example
 * const g = await loadGolden('tiny-b32', 'onnx');
 * const targets = await g.promptTargets([0, 1, 2]);
 * g.dispose();
 */

import { readFileSync } from 'node:fs';
import { type PreparedTarget, prepareTarget } from '../../src/attribution/target.ts';
import { type ClipConfig, loadClipConfig } from '../../src/core/clip-config.ts';
import { SafetensorsFile } from '../../src/core/safetensors.ts';
import { type ClipParams, loadClipParams } from '../../src/core/weights.ts';
import { engineFromParams } from '../../src/engine/create-engine.ts';
import type { ClipEngine, EngineKind } from '../../src/engine/engine.ts';
import { sharedPath } from './shared-data.ts';
import { useWasm } from './tensors.ts';

export interface Golden {
  model: ClipEngine;
  /** pixel_values image i as [3, 224, 224]. */
  image(i: number): Float32Array;
  /** Prompt targets for golden texts (text embeddings computed by the model from golden token ids). */
  promptTargets(texts: number[]): Promise<PreparedTarget[]>;
  ref: SafetensorsFile;
  texts: string[];
  /** Releases the engine and any compiled graphs. */
  dispose(): void;
}

/**
 * An engine for a config and parameters: the TF.js reference (wasm) or ONNX Runtime compiled into a temporary
 * folder that `dispose` removes.
 */
export async function makeEngine(
  kind: EngineKind,
  cfg: ClipConfig,
  params: ClipParams,
): Promise<{ engine: ClipEngine; dispose(): void }> {
  if (kind === 'tfjs') await useWasm();
  return engineFromParams(kind, cfg, params);
}

export async function loadGolden(name: 'tiny-b32' | 'tiny-b16', kind: EngineKind = 'tfjs'): Promise<Golden> {
  const dir = sharedPath('golden/models', name);
  const cfg = await loadClipConfig(dir);
  const { engine, dispose } = await makeEngine(kind, cfg, await loadClipParams(dir, cfg));
  const px = (await SafetensorsFile.open(sharedPath('golden/inputs/pixel_values.safetensors'))).getFloat32(
    'pixel_values',
  );
  const tk = await SafetensorsFile.open(sharedPath('golden/inputs/tokens.safetensors'));
  const ids = tk.getInt32('input_ids').data;
  const eot = tk.getInt32('eot_index').data;
  const textsJson = JSON.parse(readFileSync(sharedPath('golden/inputs/texts.json'), 'utf8'));
  const texts: string[] = (Array.isArray(textsJson) ? textsJson : textsJson.texts).map(
    (t: { text?: string } | string) => (typeof t === 'string' ? t : (t.text ?? '')),
  );
  const n = 3 * 224 * 224;
  return {
    model: engine,
    image: (i) => px.data.slice(i * n, (i + 1) * n),
    promptTargets: async (js) => {
      const out: PreparedTarget[] = [];
      for (const j of js) {
        const emb = await engine.embedTexts(ids.subarray(j * 77, (j + 1) * 77), [eot[j]]);
        out.push(prepareTarget({ kind: 'prompt', prompt: texts[j] || `text ${j}` }, [emb]));
      }
      return out;
    },
    ref: await SafetensorsFile.open(sharedPath('golden/reference', name, 'saliency.safetensors')),
    texts,
    dispose,
  };
}
