import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/commands/zero-shot.ts';
import { type Clip, loadClip } from '../../src/core/clip.ts';
import { loadCatalog } from '../../src/probe/catalog.ts';
import { parseSuite, type Suite } from '../../src/probe/suites.ts';
import {
  evaluateZeroShot,
  explainZeroShot,
  runZeroShot,
  softmax,
  type ZeroShotResult,
} from '../../src/probe/zero-shot.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { useWasm } from '../helpers/tensors.ts';

process.env.ARTPROBE_BACKEND = 'wasm'; // the CLI's loadClip
const tmp = mkdtempSync(join(tmpdir(), 'artprobe-zs-'));
const COLOURS = ['red', 'green', 'blue'];
const SHAPES = ['circle', 'square', 'triangle'];

/** The toy suite: whole captions (aliases = the caption with its article), and colour / shape as prompt ensembles. */
const toySuiteJson = {
  name: 'toy',
  description: 'shapes of the toy CLIP',
  dimensions: {
    caption: {
      templates: ['a {}'],
      labels: COLOURS.flatMap((c) => SHAPES.map((s) => ({ id: `${c} ${s}`, aliases: [`a ${c} ${s}`] }))),
    },
    colour: { templates: SHAPES.map((s) => `a {} ${s}`), labels: COLOURS },
    shape: { templates: COLOURS.map((c) => `a ${c} {}`), labels: SHAPES },
  },
};
const toySuiteFile = join(tmp, 'toy-suite.json');
writeFileSync(toySuiteFile, JSON.stringify(toySuiteJson));

/** Runs `artprobe probe zero-shot …` in process (on a fresh program, optionally with an existing `probe` group). */
async function runCli(args: string[], withProbeGroup = true): Promise<string> {
  const program = new Command('artprobe')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  if (withProbeGroup) program.command('probe').description('existing group');
  register(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['probe', 'zero-shot', ...args], { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return out;
}

describeShared(
  'zero-shot on the toy CLIP (single-shape crops)',
  ['toy/A/model', 'toy/A/eval/annotations.jsonld'],
  () => {
    const cropDir = join(tmp, 'crops');
    const catalogFile = join(cropDir, 'catalog.csv');
    let clip: Clip;
    let suite: Suite;
    let startTensors: number;
    let truthCaptions: string[];

    beforeAll(async () => {
      await useWasm();
      startTensors = tf.memory().numTensors;
      // one image per annotated shape: its box with 8 px margin (other shapes may peek in)
      const items = JSON.parse(
        readFileSync(sharedPath('toy', 'A', 'eval', 'annotations.jsonld'), 'utf8'),
      ).first.items.slice(0, 150);
      mkdirSync(cropDir, { recursive: true });
      const rows = ['file,caption,colour,shape'];
      for (const [i, a] of items.entries()) {
        const box = (a.target.selector as { type: string; value: string }[]).find(
          (s) => s.type === 'FragmentSelector',
        ) as { value: string };
        const [x, y, w, h] = (/xywh=pixel:(\d+),(\d+),(\d+),(\d+)/.exec(box.value) as RegExpExecArray)
          .slice(1)
          .map(Number);
        const src = sharedPath('toy', 'A', 'eval', a.target.source);
        const meta = await sharp(src).metadata();
        const left = Math.max(0, x - 8);
        const top = Math.max(0, y - 8);
        const region = {
          left,
          top,
          width: Math.min(meta.width - left, w + 16),
          height: Math.min(meta.height - top, h + 16),
        };
        await sharp(src)
          .extract(region)
          .png()
          .toFile(join(cropDir, `crop_${i}.png`));
        const [, colour, shape] = String(a.body.value).split(' ');
        rows.push(`crop_${i}.png,${a.body.value},${colour.toUpperCase()},${shape}`);
      }
      writeFileSync(catalogFile, `${rows.join('\n')}\n`);
      truthCaptions = rows.slice(1).map((r) => r.split(',')[1]);
      suite = parseSuite(toySuiteJson, 'toy-suite.json');
      clip = await loadClip(sharedPath('toy', 'A', 'model'), { engine: 'tfjs', backend: 'wasm' });
    });
    afterAll(() => {
      clip?.dispose();
      expect(tf.memory().numTensors).toBe(startTensors);
    });

    let result: ZeroShotResult;
    it('labels single shapes well above chance (caption, colour and shape)', async () => {
      const cat = await loadCatalog(catalogFile, {
        truth: { caption: 'caption', colour: 'colour', shape: 'shape' },
      });
      const before = tf.memory().numTensors;
      result = await runZeroShot(
        clip,
        cat.rows.map((r) => ({ name: r.name, input: r.image })),
        suite,
        undefined,
        { topK: 3, logitScale: 'model' },
      );
      expect(tf.memory().numTensors).toBe(before);
      const truth = Object.fromEntries(
        ['caption', 'colour', 'shape'].map((d) => [d, cat.rows.map((r) => r.truth[d])]),
      );
      const ev = evaluateZeroShot(result, truth, [suite]);
      const { caption, colour, shape } = ev.dimensions;
      console.log(
        `toy zero-shot on ${caption.n} crops: caption top-1 ${caption.top1.toFixed(3)} (chance ${caption.chance.toFixed(3)}), top-5 ${caption.top5.toFixed(3)}, macro-F1 ${caption.macroF1.toFixed(3)}; colour ${colour.top1.toFixed(3)}; shape ${shape.top1.toFixed(3)}`,
      );
      // independent accuracy: argmax of the probabilities against the caption text of each crop
      const captionIds = result.dimensions[0].labels.map((l) => l.id);
      const correct = result.images.filter((im, i) => {
        const p = im.answers.caption.probabilities;
        return `a ${captionIds[p.indexOf(Math.max(...p))]}` === truthCaptions[i];
      }).length;
      expect(caption.n).toBe(150);
      expect(caption.top1).toBeCloseTo(correct / 150, 12);
      expect(caption.top1).toBeGreaterThan(3 * caption.chance);
      expect(colour.top1).toBeGreaterThan(0.8); // chance 1/3
      expect(shape.top1).toBeGreaterThan(0.5); // chance 1/3
      expect(caption.top5).toBeGreaterThanOrEqual(caption.top1);
      expect(caption.k5).toBe(5);
      for (const e of [caption, colour, shape]) {
        const total = e.confusion.flat().reduce((a, b) => a + b, 0);
        const diag = e.confusion.reduce((a, row, i) => a + row[i], 0);
        expect(total).toBe(e.n);
        expect(diag / e.n).toBeCloseTo(e.top1, 12);
        expect(e.macroF1).toBeGreaterThan(0);
        expect(e.macroF1).toBeLessThanOrEqual(1);
      }
      // per-image truth: upper-case colour values matched case-insensitively
      expect(ev.truth[0].colour.label).toBe(String(ev.truth[0].colour.value).toLowerCase());
    });

    it('averages normalised prompt embeddings per label (CLIP prompt ensembling)', async () => {
      const [img] = await clip.encodeImage([join(cropDir, 'crop_0.png')], { normalize: true });
      const answer = result.images[0].answers.colour;
      for (const c of COLOURS) {
        const rows = await clip.encodeText(
          SHAPES.map((s) => `a ${c} ${s}`),
          { normalize: true },
        );
        const mean = rows[0].map((_, k) => rows.reduce((a, r) => a + r[k], 0) / rows.length);
        const norm = Math.hypot(...mean);
        const logit = (clip.engine.logitScale * mean.reduce((a, v, k) => a + v * img[k], 0)) / norm;
        const entry = answer.ranked.find((r) => r.label === c);
        expect(entry?.logit).toBeCloseTo(logit, 3);
      }
      expect(answer.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
      // the explain target: the label set with each label's prompt ensemble, label = the top-1 answer
      expect(answer.explain).toEqual({
        kind: 'label',
        label: answer.ranked[0].label,
        labels: COLOURS,
        prompts: COLOURS.map((c) => SHAPES.map((s) => `a ${c} ${s}`)),
      });
    });

    it('writes the top-1 heatmaps through the attribution engine', async () => {
      const small: ZeroShotResult = {
        ...result,
        images: result.images.slice(0, 2).map((im) => structuredClone(im)),
      };
      const inputs = small.images.map((im) => join(cropDir, im.image));
      const out = join(tmp, 'explain');
      const entries = await explainZeroShot(clip, small, inputs, {
        method: 'chefer-last',
        outDir: out,
        dimensions: ['caption', 'shape'],
      });
      expect(entries).toHaveLength(4);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(manifest.entries).toHaveLength(4);
      for (const im of small.images) {
        const a = im.answers.caption;
        expect(a.explanation).toHaveLength(1);
        expect(existsSync(join(out, a.explanation?.[0].overlay as string))).toBe(true);
        const entry = manifest.entries.find(
          (e: { overlay: string }) => e.overlay === a.explanation?.[0].overlay,
        );
        expect(entry.target_spec).toEqual(a.explain);
        // the explained score is exactly the answer's probability (same ensembles, model logit scale)
        expect(entry.score).toBeCloseTo(a.ranked[0].probability, 4);
        expect(im.answers.colour.explanation).toBeUndefined();
      }
    });

    it('CLI: catalog + truth writes report.json and report.md whose numbers match the library', async () => {
      const out = join(tmp, 'cli-toy');
      const stdout = await runCli([
        '--model',
        sharedPath('toy', 'A', 'model'),
        '--catalog',
        catalogFile,
        '--suite',
        toySuiteFile,
        '--dimension',
        'caption,shape',
        '--truth',
        'caption=caption',
        '--truth',
        'shape',
        '--logit-scale',
        'model',
        '--limit',
        '60',
        '--top',
        '2',
        '--json',
        '--out',
        out,
      ]);
      const printed = JSON.parse(stdout);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      expect(printed).toEqual(report);
      expect(report.images).toHaveLength(60);
      expect(report.dimensions.map((d: { name: string }) => d.name)).toEqual(['caption', 'shape']);
      expect(report.images[0].answers.caption.ranked).toHaveLength(2);
      expect(report.catalog.truthColumns).toEqual({ caption: 'caption', shape: 'shape' });
      // same images through the library give the same accuracy
      const sub = result.images.slice(0, 60);
      const lib = evaluateZeroShot({ ...result, images: sub }, { caption: truthCaptions.slice(0, 60) }, [
        suite,
      ]);
      expect(report.evaluation.caption.top1).toBeCloseTo(lib.dimensions.caption.top1, 12);
      expect(report.images[5].truth.caption.label).toBe(truthCaptions[5].slice(2));
      const md = readFileSync(join(out, 'report.md'), 'utf8');
      expect(md).toContain('## Accuracy against ground truth');
      expect(md).toContain('## Confusion: shape (rows true, columns predicted)');
      expect(md).toMatch(
        new RegExp(`\\| caption \\| 60 \\| 0 \\| 0 \\| ${report.evaluation.caption.top1.toFixed(4)} \\|`),
      );
    });

    it('CLI: tables on stdout, and --explain writes overlays next to the report', async () => {
      const out = join(tmp, 'cli-explain');
      const stdout = await runCli(
        [
          '--model',
          sharedPath('toy', 'A', 'model'),
          '--image',
          join(cropDir, 'crop_0.png'),
          join(cropDir, 'crop_1.png'),
          '--suite',
          toySuiteFile,
          '--dimension',
          'colour',
          '--explain',
          'rollout',
          '--out',
          out,
          '--quiet',
        ],
        false, // no probe group yet: the command creates it
      );
      expect(stdout).toContain('Predictions');
      expect(stdout).toMatch(/crop_0\.png\s+colour\s+(red|green|blue) \d\.\d{3}/);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      expect(report.logitScale).toBe(100);
      const files = readdirSync(join(out, 'explanations'));
      expect(files).toContain('manifest.json');
      expect(files.filter((f) => f.endsWith('.png'))).toHaveLength(2);
      expect(report.images[1].answers.colour.explanation[0].method).toBe('rollout');
    });

    it('CLI: clear errors for bad options, unknown dimensions and columns, invalid suites', async () => {
      const model = sharedPath('toy', 'A', 'model');
      const img = join(cropDir, 'crop_0.png');
      await expect(runCli(['--model', model])).rejects.toThrow('give --image FILE... or --catalog FILE');
      await expect(runCli(['--model', model, '--image', img, '--catalog', catalogFile])).rejects.toThrow(
        'either --image or --catalog',
      );
      await expect(runCli(['--model', model, '--image', img, '--truth', 'shape=shape'])).rejects.toThrow(
        '--truth needs --catalog',
      );
      await expect(runCli(['--model', model, '--image', img, '--explain', 'rollout'])).rejects.toThrow(
        '--explain writes maps and overlays: give --out DIR',
      );
      await expect(
        runCli(['--model', model, '--image', img, '--suite', toySuiteFile, '--dimension', 'size']),
      ).rejects.toThrow(/unknown dimension "size" \(known dimensions: caption, colour, shape; suites: toy\)/);
      await expect(runCli(['--model', model, '--image', img, '--dimension', 'colour'])).rejects.toThrow(
        /unknown dimension "colour" \(known dimensions: .*style/,
      );
      await expect(
        runCli([
          '--model',
          model,
          '--catalog',
          catalogFile,
          '--suite',
          toySuiteFile,
          '--truth',
          'shape=form',
        ]),
      ).rejects.toThrow(
        /catalog\.csv: unknown label column "form" for dimension "shape" \(columns: file, caption, colour, shape\)/,
      );
      await expect(
        runCli([
          '--model',
          model,
          '--catalog',
          catalogFile,
          '--suite',
          toySuiteFile,
          '--dimension',
          'shape',
          '--truth',
          'colour',
        ]),
      ).rejects.toThrow(/--truth names dimension "colour", which is not being run \(dimensions: shape\)/);
      const empty = join(tmp, 'empty-labels.json');
      writeFileSync(
        empty,
        JSON.stringify({ name: 'e', dimensions: { d: { templates: ['a {}'], labels: [] } } }),
      );
      await expect(runCli(['--model', model, '--image', img, '--suite', empty])).rejects.toThrow(
        /empty-labels\.json: \$\.dimensions\.d\.labels: is empty: a dimension needs at least two labels/,
      );
      await expect(runCli(['--model', model, '--image', img, '--top', '0'])).rejects.toThrow(
        "--top must be an integer ≥ 1, got '0'",
      );
      await expect(runCli(['--model', model, '--image', img, '--logit-scale', '-1'])).rejects.toThrow(
        /--logit-scale must be a positive number or 'model'/,
      );
      // truth values that match no label at all
      const bad = join(cropDir, 'bad.csv');
      writeFileSync(bad, 'file,shape\ncrop_0.png,hexagon\ncrop_1.png,\n');
      await expect(
        runCli([
          '--model',
          model,
          '--catalog',
          bad,
          '--suite',
          toySuiteFile,
          '--dimension',
          'shape',
          '--truth',
          'shape',
        ]),
      ).rejects.toThrow(
        /no ground-truth value of dimension "shape" matches a label \(values such as "hexagon"\); labels: circle, square, triangle/,
      );
    });
  },
);

describeShared(
  'zero-shot on the tiny golden model (random weights)',
  ['golden/models/tiny-b32', 'golden/inputs/images'],
  () => {
    const images = () =>
      readdirSync(sharedPath('golden', 'inputs', 'images'))
        .sort()
        .map((f) => sharedPath('golden', 'inputs', 'images', f));
    const prompts = [
      'a painting in the style of Impressionism',
      'a Baroque painting',
      'an AI-generated image with distorted hands',
      'a photo of a cat',
      'a photo of a dog',
    ];
    const suiteFile = join(tmp, 'golden-suite.json');
    writeFileSync(
      suiteFile,
      JSON.stringify({
        name: 'golden',
        description: 'one prompt per label',
        dimensions: { things: { labels: prompts.map((p, i) => ({ id: `label-${i}`, prompts: [p] })) } },
      }),
    );

    it('writes a report whose probabilities sum to 1 and whose ranks follow clip.logits', async () => {
      await useWasm();
      const start = tf.memory().numTensors;
      const out = join(tmp, 'golden');
      await runCli([
        '--model',
        sharedPath('golden', 'models', 'tiny-b32'),
        '--image',
        ...images(),
        '--suite',
        suiteFile,
        '--top',
        '5',
        '--out',
        out,
        '--json',
      ]);
      expect(tf.memory().numTensors).toBe(start);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## Predictions');
      expect(report.images).toHaveLength(7);

      const clip = await loadClip(sharedPath('golden', 'models', 'tiny-b32'), {
        engine: 'tfjs',
        backend: 'wasm',
      });
      const { logitsPerImage } = await clip.logits(images(), prompts); // exp(logit_scale) = 100 for these models
      clip.dispose();
      expect(tf.memory().numTensors).toBe(start);
      report.images.forEach(
        (
          im: {
            image: string;
            answers: {
              things: {
                ranked: { label: string; probability: number; logit: number }[];
                probabilities: number[];
              };
            };
          },
          i: number,
        ) => {
          const a = im.answers.things;
          expect(im.image).toBe(images()[i]);
          expect(a.probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 6);
          expect(a.ranked.reduce((s, r) => s + r.probability, 0)).toBeCloseTo(1, 6);
          const ref = logitsPerImage[i];
          const order = ref.map((_, k) => k).sort((x, y) => ref[y] - ref[x]);
          expect(a.ranked.map((r) => r.label)).toEqual(order.map((k) => `label-${k}`));
          for (const [j, r] of a.ranked.entries()) expect(r.logit).toBeCloseTo(ref[order[j]], 3);
          const p = softmax(ref);
          for (const [k, x] of a.probabilities.entries()) expect(x).toBeCloseTo(p[k], 4);
        },
      );
    });
  },
);
