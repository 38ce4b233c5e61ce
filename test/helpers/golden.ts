/**
 * Loads a golden tiny model and the golden inputs for attribution tests.
 *
 * @example
 * const g = await loadGolden('tiny-b32');
 * const targets = g.promptTargets([0, 1, 2]);
 */

import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { type PreparedTarget, prepareTarget } from '../../src/attribution/target.ts';
import { loadClipConfig } from '../../src/core/clip-config.ts';
import { ClipModel } from '../../src/core/clip-model.ts';
import { SafetensorsFile } from '../../src/core/safetensors.ts';
import { loadClipParams } from '../../src/core/weights.ts';
import { sharedPath } from './shared-data.ts';

export interface Golden {
  model: ClipModel;
  /** pixel_values image i as [3, 224, 224]. */
  image(i: number): Float32Array;
  /** Prompt targets for golden texts (text embeddings computed by the model from golden token ids). */
  promptTargets(texts: number[]): PreparedTarget[];
  ref: SafetensorsFile;
  texts: string[];
}

export async function loadGolden(name: 'tiny-b32' | 'tiny-b16'): Promise<Golden> {
  const dir = sharedPath('golden/models', name);
  const cfg = await loadClipConfig(dir);
  const model = ClipModel.fromParams(cfg, await loadClipParams(dir, cfg));
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
    model,
    image: (i) => px.data.slice(i * n, (i + 1) * n),
    promptTargets: (js) =>
      js.map((j) => {
        const emb = tf.tidy(() => model.forwardText(ids.subarray(j * 77, (j + 1) * 77), [eot[j]]).embeds);
        const t = prepareTarget({ kind: 'prompt', prompt: texts[j] || `text ${j}` }, emb);
        emb.dispose();
        return t;
      }),
    ref: await SafetensorsFile.open(sharedPath('golden/reference', name, 'saliency.safetensors')),
    texts,
  };
}
