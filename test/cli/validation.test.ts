/**
 * Every option value of the command line is checked before any work (issue: "CLI: every option value is
 * validated"): type and range of numbers (`--max-pixels abc`, `--opacity 0.5x`), choices, that a `--param`
 * names a method of `--method`, the tile count of `--view tiles` against `--max-tiles`, and prompts cut to
 * CLIP's 77 tokens are reported. The light constants the option declarations repeat agree with their sources.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_TILES, MAX_TILES, VIEW_KINDS } from '../../src/attribution/views.ts';
import {
  CLI_DEFAULT_MAP_PIXELS,
  CLI_MAX_TILES,
  choiceOption,
  intOption,
  numberOption,
  VIEW_CHOICES,
} from '../../src/cli/commands/parse-options.ts';
import { DEFAULT_MAX_MAP_PIXELS } from '../../src/server/jobs.ts';
import { hasShared, sharedPath } from '../helpers/shared-data.ts';
import { requireBuild, runCli } from './run-cli.ts';

describe('option parsers', () => {
  it('accept exact values in range and refuse anything else, naming the option', () => {
    const px = intOption('--max-pixels', 1, 1_000_000_000);
    expect(px('100000000')).toBe(100_000_000);
    expect(px('100_000_000')).toBe(100_000_000);
    for (const bad of ['abc', '12abc', '1.5', '', ' ', '0', '1e3', '0x10', '2000000000'])
      expect(() => px(bad), bad).toThrow(/^--max-pixels must be an integer in 1\.\.1000000000, got/);
    const op = numberOption('--tile-overlap', 0, 1, { maxExclusive: true });
    expect(op('0.25')).toBe(0.25);
    expect(op('.5')).toBe(0.5);
    for (const bad of ['1', '-0.1', '0.5x', 'NaN', 'Infinity', ''])
      expect(() => op(bad), bad).toThrow(/--tile-overlap must be a number in \[0, 1\)/);
    expect(() => choiceOption('--view', VIEW_CHOICES)('zoom')).toThrow(
      '--view must be one of crop, pad, tiles, got "zoom"',
    );
  });

  it('repeat the limits of the modules they stand for', () => {
    expect([...VIEW_CHOICES]).toEqual([...VIEW_KINDS]);
    expect(CLI_MAX_TILES).toEqual({ default: DEFAULT_MAX_TILES, max: MAX_TILES });
    expect(CLI_DEFAULT_MAP_PIXELS).toBe(DEFAULT_MAX_MAP_PIXELS);
  });
});

describe('the built command line refuses bad values before any work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'artprobe-cli-valid-'));
  const model = sharedPath('toy/A/model');
  let small = '';
  beforeAll(async () => {
    requireBuild();
    small = join(dir, 'small.png');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#888' } })
      .png()
      .toFile(small);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const fails = async (args: string[], re: RegExp) => {
    const r = await runCli(args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
    expect(r.stderr).toMatch(re);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    return r;
  };

  it('numbers, choices and texts of every command', async () => {
    const out = join(dir, 'out');
    await fails(
      ['encode', '--model', model, '--text', 'a', '--max-pixels', 'abc'],
      /--max-pixels must be an integer/,
    );
    await fails(['encode', '--model', model, '--text', ''], /--text 1 is empty/);
    const explain = ['explain', '--model', model, '--image', small, '--prompt', 'x', '--out', out];
    await fails(
      [...explain, '--method', 'rollout', '--opacity', '0.5x'],
      /--opacity must be a number in \[0, 1\]/,
    );
    await fails(
      [...explain, '--method', 'rollout', '--tile-overlap', '1'],
      /--tile-overlap must be a number in \[0, 1\)/,
    );
    await fails(
      [...explain, '--method', 'rollout', '--max-tiles', '1000'],
      /--max-tiles must be an integer in 1\.\.256/,
    );
    await fails(
      ['report', '--model', model, '--image', small, '--prompt', 'x', '--out', out, '--max-side', '12abc'],
      /--max-side must be an integer in 64\.\.4096/,
    );
    await fails(
      ['probe', 'zero-shot', '--model', model, '--image', small, '--top', '5000'],
      /--top must be at most 1000/,
    );
    await fails(
      ['probe', 'map', '--embeddings', 'x.npy', '--out', 'y.json', '--method', 'tsne'],
      /--method must be one of pca, umap/,
    );
    await fails(
      ['probe', 'linear', '--embeddings', 'x.npy', '--label', 'y', '--C', '1e999'],
      /--C must be a positive number/,
    );
    await fails(
      ['regions', 'score', '--explanations', out, '--annotations', 'a.json', '--tolerance', 'abc'],
      /--tolerance must be a number/,
    );
    await fails(
      ['regions', 'convert', '--annotations', 'a.json', '--out', 'b.json', '--format', 'svg'],
      /--format must be one of/,
    );
  });

  it('explain: a --param must name a requested method; the tiles view is capped before the model loads', async () => {
    const out = join(dir, 'out');
    const base = [
      'explain',
      '--model',
      join(dir, 'no-such-model'),
      '--image',
      small,
      '--prompt',
      'x',
      '--out',
      out,
    ];
    await fails(
      [...base, '--method', 'rollout', '--param', 'occlusion.window=8'],
      /--param occlusion\.window=8 is for method occlusion, which is not in --method \(rollout\)/,
    );
    // the model does not exist: the tile check comes first, before anything is loaded
    const r = await fails(
      [...base, '--method', 'rollout', '--view', 'tiles', '--tile-overlap', '0.9999'],
      /small\.png: the tiles view of a 64x48 image with an overlap of 0\.9999 needs 3335 tiles, above the limit of 64 \(raise it with --max-tiles/,
    );
    expect(r.ms).toBeLessThan(20_000);
  });

  it.runIf(hasShared(['toy', 'A', 'model']))(
    'refuses a 100 000-character prompt and a 200000×1 strip; reports prompts cut to 77 tokens',
    async () => {
      const huge = 'a great wave off the coast '.repeat(4000).slice(0, 100_000);
      await fails(
        ['encode', '--model', model, '--text', huge],
        /--text 1 is 100000 characters long, above the limit of 2000/,
      );
      await fails(
        [
          'explain',
          '--model',
          model,
          '--image',
          small,
          '--prompt',
          huge,
          '--method',
          'rollout',
          '--out',
          dir,
        ],
        /prompt 1 is 100000 characters long, above the limit of 2000/,
      );
      // a 200000×1 strip: refused with its size, not "Invalid typed array length"
      const strip = join(dir, 'strip.png');
      await sharp({ create: { width: 200_000, height: 1, channels: 3, background: '#888' } })
        .png()
        .toFile(strip);
      await fails(
        ['encode', '--model', model, '--image', strip],
        /strip\.png: image is 200000x1, an aspect ratio of 200000:1, above the limit of 1000:1/,
      );
      const long = 'a great wave off the coast '.repeat(40).slice(0, 1000);
      const r = await runCli(['encode', '--model', model, '--text', 'a red circle', long]);
      expect(r.code, r.stderr).toBe(0);
      const warnings = r.stderr.split('\n').filter((l) => /warning: prompt/.test(l));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /\(1000 characters\) is \d+ tokens; CLIP reads only the first 75, the rest is cut/,
      );
    },
  );
});
