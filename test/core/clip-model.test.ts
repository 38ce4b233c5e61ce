import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadClipConfig } from '../../src/core/clip-config.ts';
import { ClipModel } from '../../src/core/clip-model.ts';
import { SafetensorsFile } from '../../src/core/safetensors.ts';
import { loadClipParams } from '../../src/core/weights.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { maxAbsDiff, useWasm } from '../helpers/tensors.ts';

const measured: string[] = [];
afterAll(() => {
  if (measured.length) console.log(`parity maxima:\n${measured.join('\n')}`);
});

const cases = [
  { model: 'tiny-b32', file: 'model.safetensors', format: 'hf', ref: 'outputs' },
  { model: 'tiny-b32', file: 'open_clip_model.safetensors', format: 'open_clip', ref: 'outputs' },
  { model: 'tiny-b32', file: 'model.fp16.safetensors', format: 'hf', ref: 'fp16_weights_outputs' },
  { model: 'tiny-b16', file: 'model.safetensors', format: 'hf', ref: 'outputs' },
  { model: 'tiny-b16', file: 'open_clip_model.safetensors', format: 'open_clip', ref: 'outputs' },
  { model: 'tiny-b16', file: 'model.fp16.safetensors', format: 'hf', ref: 'fp16_weights_outputs' },
] as const;

describeShared(
  'CLIP model parity with PyTorch (golden)',
  ['golden/models', 'golden/reference', 'golden/inputs'],
  () => {
    let pixels: { shape: number[]; data: Float32Array };
    let ids: Int32Array;
    let eot: Int32Array;
    beforeAll(async () => {
      await useWasm();
      const px = await SafetensorsFile.open(sharedPath('golden/inputs/pixel_values.safetensors'));
      pixels = px.getFloat32('pixel_values');
      const tk = await SafetensorsFile.open(sharedPath('golden/inputs/tokens.safetensors'));
      ids = tk.getInt32('input_ids').data;
      eot = tk.getInt32('eot_index').data;
    });

    for (const c of cases) {
      it(`${c.model} from ${c.file}: embeddings, logits and attention match the reference`, async () => {
        const dir = sharedPath('golden/models', c.model);
        const cfg = await loadClipConfig(dir, c.format);
        const model = ClipModel.fromParams(cfg, await loadClipParams(dir, cfg, c.file));
        const ref = await SafetensorsFile.open(
          sharedPath('golden/reference', c.model, `${c.ref}.safetensors`),
        );
        const start = tf.memory().numTensors;
        const out = tf.tidy(() => {
          const v = model.forwardVision(
            tf.tensor4d(pixels.data, pixels.shape as [number, number, number, number]),
            {
              attentions: true,
            },
          );
          const t = model.forwardText(ids, eot);
          return {
            image: v.embeds.dataSync().slice(),
            text: t.embeds.dataSync().slice(),
            logits: model.logits(v.embeds, t.embeds).dataSync().slice(),
            attn: v.attentions.map((a) => a.dataSync().slice()),
          };
        });
        expect(tf.memory().numTensors).toBe(start);
        const dImg = maxAbsDiff(out.image, ref.getFloat32('image_embeds').data);
        const dTxt = maxAbsDiff(out.text, ref.getFloat32('text_embeds').data);
        const dLog = maxAbsDiff(out.logits, ref.getFloat32('logits_per_image').data);
        expect(dImg).toBeLessThan(1e-4);
        expect(dTxt).toBeLessThan(1e-4);
        expect(dLog).toBeLessThan(1e-3);
        let dAttn = 0;
        if (c.ref === 'outputs') {
          // attentions [N_img, L, H, T, T]; ours: per layer [N_img, H, T, T]
          const a = await SafetensorsFile.open(
            sharedPath('golden/reference', c.model, 'attentions.safetensors'),
          );
          const refA = a.getFloat32('vision_attentions');
          const [N, L, H, T] = refA.shape;
          const per = H * T * T;
          for (let n = 0; n < N; n++) {
            for (let l = 0; l < L; l++) {
              const mine = out.attn[l].subarray(n * per, (n + 1) * per);
              const theirs = refA.data.subarray((n * L + l) * per, (n * L + l + 1) * per);
              dAttn = Math.max(dAttn, maxAbsDiff(mine, theirs));
            }
          }
          expect(dAttn).toBeLessThan(5e-5);
        }
        measured.push(
          `${c.model} ${c.file}: image ${dImg.toExponential(2)} text ${dTxt.toExponential(2)} logits ${dLog.toExponential(2)}` +
            (c.ref === 'outputs' ? ` attention ${dAttn.toExponential(2)}` : ''),
        );
        model.dispose();
      });
    }

    for (const name of ['tiny-b32', 'tiny-b16']) {
      it(`${name}: every stage in debug.safetensors matches`, async () => {
        const dir = sharedPath('golden/models', name);
        const cfg = await loadClipConfig(dir);
        const model = ClipModel.fromParams(cfg, await loadClipParams(dir, cfg));
        const dbg = await SafetensorsFile.open(sharedPath('golden/reference', name, 'debug.safetensors'));
        const start = tf.memory().numTensors;
        const S = cfg.vision.imageSize;
        const per = 3 * S * S;
        const stages = tf.tidy(() => {
          const img0 = tf.tensor4d(pixels.data.subarray(0, per), [1, 3, S, S]);
          const v = model.forwardVision(img0, { hidden: true });
          const t = model.forwardText(ids.subarray(0, 77), [eot[0]], { hidden: true, fullContext: true });
          const flat = (xs: tf.Tensor[]) => Float32Array.from(xs.flatMap((x) => Array.from(x.dataSync())));
          return {
            vision_patch_embeds: v.patchEmbeds?.dataSync().slice(),
            vision_embeddings: v.embeddings?.dataSync().slice(),
            vision_hidden_states: flat(v.hidden),
            text_hidden_states: flat(t.hidden),
            text_final_ln: t.finalLn?.dataSync().slice(),
          };
        });
        expect(tf.memory().numTensors).toBe(start);
        const report: string[] = [];
        for (const [key, mine] of Object.entries(stages)) {
          const ref = dbg.getFloat32(key).data;
          expect(mine, key).toBeDefined();
          const d = maxAbsDiff(mine as Float32Array, ref);
          const scale = Math.max(1, ...Array.from(ref, Math.abs));
          expect(d / scale, key).toBeLessThan(1e-5);
          report.push(`${key} ${d.toExponential(2)}`);
        }
        expect(dbg.keys().sort()).toEqual(Object.keys(stages).sort());
        measured.push(`${name} debug stages: ${report.join(', ')}`);
        model.dispose();
      });
    }
  },
);
