/**
 * The ONNX Runtime engine against OpenAI's PyTorch CLIP (golden references of tiny-b32 and tiny-b16, from
 * transformers, OpenCLIP and F16 checkpoints): embeddings, logits, attention probabilities, input gradients and
 * Chefer relevance (last block and all blocks) from the engine's attention gradients.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cheferFromGradients } from '../../src/attribution/chefer.ts';
import { loadClipConfig } from '../../src/core/clip-config.ts';
import { SafetensorsFile } from '../../src/core/safetensors.ts';
import { loadClipParams } from '../../src/core/weights.ts';
import type { ScoreHead } from '../../src/engine/engine.ts';
import { OnnxEngine } from '../../src/engine/onnx/onnx-engine.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { maxAbs, maxAbsDiff } from '../helpers/tensors.ts';

const cases = [
  { model: 'tiny-b32', file: 'model.safetensors', format: 'hf', ref: 'outputs' },
  { model: 'tiny-b32', file: 'open_clip_model.safetensors', format: 'open_clip', ref: 'outputs' },
  { model: 'tiny-b32', file: 'model.fp16.safetensors', format: 'hf', ref: 'fp16_weights_outputs' },
  { model: 'tiny-b16', file: 'model.safetensors', format: 'hf', ref: 'outputs' },
  { model: 'tiny-b16', file: 'open_clip_model.safetensors', format: 'open_clip', ref: 'outputs' },
  { model: 'tiny-b16', file: 'model.fp16.safetensors', format: 'hf', ref: 'fp16_weights_outputs' },
] as const;

const measured: string[] = [];
const root = mkdtempSync(join(tmpdir(), 'artprobe-onnx-golden-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  if (measured.length) console.log(`onnx parity maxima:\n${measured.join('\n')}`);
});

/** Row-wise L2 normalisation of [n, E]. */
function normalize(x: Float32Array, E: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let o = 0; o < x.length; o += E) {
    const n = Math.hypot(...x.subarray(o, o + E));
    for (let i = 0; i < E; i++) y[o + i] = x[o + i] / n;
  }
  return y;
}

describeShared(
  'ONNX engine parity with PyTorch (golden)',
  ['golden/models', 'golden/reference', 'golden/inputs'],
  () => {
    let pixels: Float32Array;
    let ids: Int32Array;
    let eot: Int32Array;
    beforeAll(async () => {
      pixels = (await SafetensorsFile.open(sharedPath('golden/inputs/pixel_values.safetensors'))).getFloat32(
        'pixel_values',
      ).data;
      const tk = await SafetensorsFile.open(sharedPath('golden/inputs/tokens.safetensors'));
      ids = tk.getInt32('input_ids').data;
      eot = tk.getInt32('eot_index').data;
    });

    for (const c of cases) {
      it(`${c.model} from ${c.file}: embeddings, logits, attentions, gradients`, async () => {
        const dir = sharedPath('golden/models', c.model);
        const cfg = await loadClipConfig(dir, c.format);
        const params = await loadClipParams(dir, cfg, c.file);
        const engine = await OnnxEngine.create(cfg, params, {
          cacheDir: join(root, `${c.model}-${c.format}-${c.ref}`),
        });
        try {
          const ref = await SafetensorsFile.open(
            sharedPath('golden/reference', c.model, `${c.ref}.safetensors`),
          );
          const E = cfg.embedDim;
          const image = await engine.embedImages(pixels, 7);
          const text = await engine.embedTexts(ids, eot);
          // logits [7, 16] = scale · cos
          const [ni, nt] = [normalize(image, E), normalize(text, E)];
          const logits = new Float32Array(7 * 16);
          for (let i = 0; i < 7; i++) {
            for (let j = 0; j < 16; j++) {
              let dot = 0;
              for (let k = 0; k < E; k++) dot += ni[i * E + k] * nt[j * E + k];
              logits[i * 16 + j] = engine.logitScale * dot;
            }
          }
          const d = {
            image: maxAbsDiff(image, ref.getFloat32('image_embeds').data),
            text: maxAbsDiff(text, ref.getFloat32('text_embeds').data),
            logits: maxAbsDiff(logits, ref.getFloat32('logits_per_image').data),
          };
          expect(d.image).toBeLessThan(1e-4);
          expect(d.text).toBeLessThan(1e-4);
          expect(d.logits).toBeLessThan(1e-3);
          let line = `${c.model} ${c.file}: image ${d.image.toExponential(1)}, text ${d.text.toExponential(1)}, logits ${d.logits.toExponential(1)}`;
          if (c.ref === 'outputs') {
            // attentions: reference [N_img, L, H, T, T]; ours per layer [N_img, H, T, T]
            const refA = (
              await SafetensorsFile.open(sharedPath('golden/reference', c.model, 'attentions.safetensors'))
            ).getFloat32('vision_attentions');
            const [N, L, H, T] = refA.shape;
            const { embeds, attentions } = await engine.imageAttentions(pixels, N);
            expect(maxAbsDiff(embeds, image)).toBeLessThan(1e-6);
            let dAttn = 0;
            const per = H * T * T;
            for (let n = 0; n < N; n++) {
              for (let l = 0; l < L; l++) {
                const want = refA.data.subarray((n * L + l) * per, (n * L + l + 1) * per);
                dAttn = Math.max(dAttn, maxAbsDiff(attentions[l].subarray(n * per, (n + 1) * per), want));
              }
            }
            expect(dAttn).toBeLessThan(5e-5);
            // saliency pairs: images [0, 1] × texts [0, 1, 2], s = logits_per_image[i, j]
            const sal = await SafetensorsFile.open(
              sharedPath('golden/reference', c.model, 'saliency.safetensors'),
            );
            const per3 = 3 * 224 * 224;
            const px = new Float32Array(6 * per3);
            const heads: ScoreHead[] = [];
            for (let i = 0; i < 2; i++) {
              for (let j = 0; j < 3; j++) {
                px.set(pixels.subarray(i * per3, (i + 1) * per3), (i * 3 + j) * per3);
                heads.push({
                  text: nt.slice(j * E, (j + 1) * E),
                  k: 1,
                  weights: Float32Array.of(1),
                  softmax: false,
                });
              }
            }
            const { grads, scores } = await engine.inputGradients(px, 6, heads);
            const refScores = sal.getFloat32('scores').data;
            const refGrad = sal.getFloat32('input_gradient').data;
            const dScores = maxAbsDiff(scores, refScores);
            const dGrad = maxAbsDiff(grads, refGrad) / maxAbs(refGrad);
            expect(dScores).toBeLessThan(1e-3);
            expect(dGrad).toBeLessThan(3e-5);
            line += `, attn ${dAttn.toExponential(1)}, scores ${dScores.toExponential(1)}, grad ${dGrad.toExponential(1)} rel`;
            for (const [from, key] of [
              [L - 1, 'chefer_last_layer'],
              [0, 'chefer_all_layers'],
            ] as const) {
              const ag = await engine.attentionGradients(px, 6, heads, from);
              expect(maxAbsDiff(ag.scores, scores)).toBeLessThan(1e-5);
              expect(ag.probs.map((p) => p.length)).toEqual(
                Array.from({ length: L }, (_, l) => (l < from ? 0 : 6 * per)),
              );
              const want = sal.getFloat32(key).data;
              const G2 = want.length / 6;
              const maps = new Float32Array(want.length);
              for (let r = 0; r < 6; r++)
                maps.set(cheferFromGradients(ag.probs, ag.grads, H, T, from, r * per), r * G2);
              const dMap = maxAbsDiff(maps, want) / maxAbs(want);
              expect(dMap, key).toBeLessThan(3e-5);
              line += `, ${key} ${dMap.toExponential(1)} rel`;
            }
          }
          measured.push(line);
        } finally {
          engine.dispose();
        }
      });
    }
  },
);
