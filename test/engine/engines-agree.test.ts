/**
 * The two engines agree through the command line on a shape unlike the golden models: patch 14, 336 px
 * (577 tokens), exact gelu, 5 heads, random weights. `artprobe encode --engine onnx|tfjs` and
 * `artprobe explain --engine onnx|tfjs` with every method give the same numbers within 1e-4 (relative to each
 * map's maximum).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { parseHfConfig } from '../../src/core/clip-config.ts';
import { readNpy } from '../../src/core/npy.ts';
import { hfConfigJson, randomClipParams, writeHfModel } from '../../src/core/random-weights.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { maxAbs, maxAbsDiff } from '../helpers/tensors.ts';

/** Runs the CLI in this process and returns what it printed; restores the environment it sets. */
async function cli(args: string[]): Promise<string> {
  const saved = { engine: process.env.ARTPROBE_ENGINE, exit: process.exitCode };
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string | Uint8Array) => {
    chunks.push(String(s));
    return true;
  }) as typeof process.stdout.write;
  try {
    await main(['node', 'artprobe', ...args]);
    expect(process.exitCode ?? 0, `artprobe ${args.join(' ')}`).toBe(saved.exit ?? 0);
  } finally {
    process.stdout.write = write;
    if (saved.engine === undefined) delete process.env.ARTPROBE_ENGINE;
    else process.env.ARTPROBE_ENGINE = saved.engine;
  }
  return chunks.join('');
}

const METHODS = [
  'gradient',
  'gradient-x-input',
  'smoothgrad',
  'integrated-gradients',
  'rollout',
  'chefer-last',
  'chefer-all',
  'occlusion',
];

describeShared(
  'engines agree on any config shape (patch 14, 336 px, gelu, 5 heads)',
  ['golden/models'],
  () => {
    let dir: string;
    const image = () => sharedPath('golden/inputs/images/landscape_640x480.png');
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'artprobe-engines-'));
      const json = hfConfigJson({
        embedDim: 20,
        vision: { width: 40, layers: 2, heads: 5, imageSize: 336, patchSize: 14, act: 'gelu' },
        text: { width: 40, layers: 2, heads: 5, act: 'gelu' },
      });
      const params = randomClipParams(parseHfConfig(json), 14);
      // a temperature of 5 (not 100) keeps the label softmax away from saturation: with p ≈ 1 its gradient
      // p·(1 − p) is a float32 cancellation in both engines, and their difference would measure that, not the port
      params.logitScale = Math.log(5);
      await writeHfModel(join(dir, 'model'), json, params);
      for (const f of ['vocab.json', 'merges.txt'])
        copyFileSync(sharedPath('golden/models/tiny-b32', f), join(dir, 'model', f));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('encode: embeddings and logits', async () => {
      const run = async (engine: string) =>
        JSON.parse(
          await cli([
            'encode',
            '--engine',
            engine,
            '--model',
            join(dir, 'model'),
            '--image',
            image(),
            '--text',
            'a painting',
            'a photo of a dog',
            '--json',
          ]),
        );
      const [onnx, tfjs] = [await run('onnx'), await run('tfjs')];
      const flat = (x: unknown) => (x as number[][]).flat();
      const keyOf = (o: Record<string, unknown>, re: RegExp) => Object.keys(o).filter((k) => re.test(k));
      const keys = keyOf(onnx, /embed|logit/i);
      expect(keys.length).toBeGreaterThanOrEqual(2);
      for (const k of keys) {
        if (!Array.isArray(onnx[k])) continue;
        expect(maxAbsDiff(flat(onnx[k]), flat(tfjs[k])), k).toBeLessThan(
          1e-4 * Math.max(1, maxAbs(flat(tfjs[k]))),
        );
      }
    });

    it('explain: every method, label and contrast targets', async () => {
      const outs: Record<string, string> = {};
      for (const engine of ['onnx', 'tfjs']) {
        outs[engine] = join(dir, `out-${engine}`);
        await cli([
          'explain',
          '--engine',
          engine,
          '--model',
          join(dir, 'model'),
          '--image',
          image(),
          '--labels',
          'a painting,a photo,a drawing',
          '--contrast',
          'a painting|a photo',
          '--method',
          METHODS.join(','),
          '--param',
          'integrated-gradients.steps=4',
          '--param',
          'smoothgrad.samples=2',
          '--quiet',
          '--out',
          outs[engine],
        ]);
      }
      const manifest = (e: string) => JSON.parse(readFileSync(join(outs[e], 'manifest.json'), 'utf8'));
      const [mo, mt] = [manifest('onnx'), manifest('tfjs')];
      expect(mo.entries).toHaveLength(METHODS.length * 4);
      expect(mo.entries[0].engine).toMatch(/^onnx/);
      expect(mt.entries[0].engine).toMatch(/^tfjs/);
      for (const eo of mo.entries) {
        const et = mt.entries.find((x: { map: string }) => x.map === eo.map);
        expect(et, eo.map).toBeTruthy();
        const [a, b] = [await readNpy(join(outs.onnx, eo.map)), await readNpy(join(outs.tfjs, et.map))];
        const scale = maxAbs(b.data);
        expect(maxAbsDiff(a.data, b.data) / scale, `${eo.method} ${eo.target}`).toBeLessThan(1e-4);
        expect(Math.abs(eo.score - et.score), `${eo.method} ${eo.target} score`).toBeLessThan(
          1e-4 * Math.max(1, Math.abs(et.score)),
        );
      }
    }, 600_000); // two explain processes of every method on a 577-token model, the tfjs one on wasm (~2 min alone)
  },
);
