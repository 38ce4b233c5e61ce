import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { expect, it } from 'vitest';
import { readNpy } from '../../../src/core/npy.ts';
import { describeShared, repoRoot, sharedPath } from '../../helpers/shared-data.ts';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, [join(repoRoot, 'bin/artprobe.mjs'), ...args], { cwd: repoRoot });

describeShared('artprobe explain (command line)', ['toy/A/model', 'paintings'], () => {
  it('writes raw and painting maps, overlays and a manifest that later runs extend', async () => {
    const out = mkdtempSync(join(tmpdir(), 'artprobe-explain-'));
    const painting = sharedPath('paintings/hokusai-great-wave-off-kanagawa-c1831.jpg'); // 768 × 546
    const toy = sharedPath('toy/A/eval/images/img_003.png');
    const model = sharedPath('toy/A/model');
    await cli([
      'explain',
      '--model',
      model,
      '--image',
      painting,
      toy,
      '--prompt',
      'a blue circle',
      '--contrast',
      'a red square|a green circle',
      '--method',
      'chefer-all,occlusion',
      '--view',
      'tiles',
      '--out',
      out,
      '--quiet',
    ]);
    const m1 = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m1.model).toBe('model');
    expect(m1.entries).toHaveLength(2 * 2 * 2);
    for (const e of m1.entries) {
      expect(Object.keys(e)).toEqual(
        expect.arrayContaining([
          'image',
          'method',
          'target',
          'params',
          'score',
          'grid',
          'map',
          'map_painting',
          'overlay',
        ]),
      );
      expect(e.grid).toEqual([7, 7]);
      const raw = await readNpy(join(out, e.map));
      const pm = await readNpy(join(out, e.map_painting));
      const png = await sharp(join(out, e.overlay)).metadata();
      const [H, W] = e.image.endsWith('.jpg') ? [546, 768] : [224, 224];
      expect(pm.shape).toEqual([H, W]);
      expect([png.height, png.width]).toEqual([H, W]);
      expect(raw.shape).toEqual(e.image.endsWith('.jpg') ? [e.tiles, 7, 7] : [7, 7]);
      expect(e.tiles).toBe(e.image.endsWith('.jpg') ? 2 : 1);
      expect(Array.from(pm.data).every(Number.isFinite)).toBe(true); // tiles cover the whole painting
      expect(Number.isFinite(e.score)).toBe(true);
    }
    expect(m1.entries.map((e: { target: string }) => e.target)).toContain(
      'a red square rather than a green circle',
    );
    // a second run adds entries, the first run's stay
    await cli([
      'explain',
      '--model',
      model,
      '--image',
      toy,
      '--prompt',
      'a blue circle',
      '--method',
      'rollout',
      '--out',
      out,
      '--quiet',
    ]);
    const m2 = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m2.entries).toHaveLength(9);
    expect(m2.entries.slice(0, 8)).toEqual(m1.entries);
  });

  it('bad options exit with a clear message', async () => {
    const model = sharedPath('toy/A/model');
    const image = sharedPath('toy/A/eval/images/img_003.png');
    const fails = async (args: string[], pattern: RegExp) => {
      const err = await cli([
        'explain',
        '--model',
        model,
        '--image',
        image,
        '--out',
        join(tmpdir(), 'artprobe-never'),
        ...args,
      ]).then(
        () => undefined,
        (e: { stderr: string; code: number }) => e,
      );
      expect(err?.code).toBe(1);
      expect(err?.stderr).toMatch(pattern);
    };
    await fails(['--prompt', 'x', '--method', 'lime'], /unknown attribution method "lime"/);
    await fails(['--method', 'rollout'], /at least one --prompt/);
    await fails(
      ['--prompt', 'x', '--method', 'integrated-gradients', '--param', 'integrated-gradients.steps=0'],
      /steps must be an integer/,
    );
    await fails(['--contrast', 'only one side', '--method', 'rollout'], /two sides/);
    await fails(['--prompt', 'x', '--method', 'rollout', '--view', 'zoom'], /--view must be one of/);
  });
});
