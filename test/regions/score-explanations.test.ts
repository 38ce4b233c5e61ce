import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/commands/regions.ts';
import { encodeNpy } from '../../src/core/npy.ts';
import { formatScoreReport, scoreExplanations } from '../../src/regions/score-explanations.ts';
import { readW3CAnnotations } from '../../src/regions/w3c.ts';

const H = 20;
const W = 30;
const annotations = {
  '@context': 'http://www.w3.org/ns/anno.jsonld',
  type: 'AnnotationCollection',
  first: {
    type: 'AnnotationPage',
    items: [
      {
        id: 'boat',
        type: 'Annotation',
        body: [
          { type: 'TextualBody', purpose: 'tagging', value: 'boat' },
          { type: 'TextualBody', purpose: 'classifying', value: 'content' },
        ],
        target: {
          source: 'paintings/wave.jpg',
          selector: { type: 'FragmentSelector', value: 'xywh=pixel:5,4,10,6' },
        },
      },
      {
        id: 'sky',
        type: 'Annotation',
        body: [
          { type: 'TextualBody', purpose: 'tagging', value: 'stormy sky' },
          { type: 'TextualBody', purpose: 'classifying', value: 'scene' },
        ],
        target: {
          source: 'wave.jpg',
          selector: {
            type: 'SvgSelector',
            value: `<svg width='${W}' height='${H}'><polygon points='20,0 30,0 30,10 20,10'/></svg>`,
          },
        },
      },
      {
        id: 'bad',
        type: 'Annotation',
        body: { purpose: 'tagging', value: 'x' },
        target: { source: 'wave.jpg', selector: { type: 'Nope' } },
      },
    ],
  },
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'artprobe-regions-'));
  // map a: 1 on the boat box; map b: peak in the sky, NaN on the first row (outside the view)
  const a = new Float32Array(H * W);
  for (let y = 4; y < 10; y++) a.fill(1, y * W + 5, y * W + 15);
  const b = new Float32Array(H * W).fill(0.1);
  b.fill(Number.NaN, 0, W);
  b[5 * W + 25] = 3;
  writeFileSync(join(dir, 'a_painting.npy'), encodeNpy(a, [H, W]));
  writeFileSync(join(dir, 'b_painting.npy'), encodeNpy(b, [H, W]));
  const entry = (method: string, target: string, file: string, image = 'images/wave.jpg') => ({
    image,
    method,
    target,
    params: {},
    score: 20,
    grid: [7, 7],
    map: 'unused.npy',
    map_painting: file,
    overlay: 'unused.png',
  });
  const manifest = {
    model: 'toy',
    entries: [
      entry('chefer-all', 'a boat', 'a_painting.npy'),
      entry('occlusion', 'a stormy sky', 'b_painting.npy'),
      entry('occlusion', 'x', 'b_painting.npy', 'other.jpg'),
    ],
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'regions.jsonld'), JSON.stringify(annotations));
});

describe('scoreExplanations', () => {
  it('scores every entry against every region of its painting, with aggregates', async () => {
    const { regions } = readW3CAnnotations(annotations);
    const report = await scoreExplanations(dir, regions);
    expect(report.rows.map((r) => [r.method, r.regionId, r.onLabel])).toEqual([
      ['chefer-all', 'boat', true],
      ['chefer-all', 'sky', false],
      ['occlusion', 'boat', false],
      ['occlusion', 'sky', true],
    ]);
    const [aBoat, aSky, bBoat, bSky] = report.rows;
    expect(aBoat).toMatchObject({ pointing: 1, energy: 1, auroc: 1, iouTopK: 1, rankAccuracy: 1 });
    expect(aSky).toMatchObject({ pointing: 0, energy: 0 });
    expect(bBoat.pointing).toBe(0);
    expect(bSky.pointing).toBe(1);
    // b over valid pixels (rows 1..19): sky mask has 9 rows x 10 = 90 valid pixels; mass = (3 + 89·0.1) / (3 + 569·0.1)
    expect(bSky.energy).toBeCloseTo((3 + 89 * 0.1) / (3 + 569 * 0.1), 5);
    expect(report.byMethod.find((m) => m.method === 'chefer-all')).toMatchObject({
      n: 2,
      pointing: 0.5,
      energy: 0.5,
    });
    expect(
      report.byMethodDimension.find((m) => m.method === 'occlusion' && m.dimension === 'scene'),
    ).toMatchObject({ n: 1, pointing: 1 });
    expect(report.notes).toEqual(['no regions for other.jpg (occlusion, "x")']);
    const text = formatScoreReport(report);
    expect(text).toMatch(/mean per method and dimension/);
    expect(text.split('\n')[0]).toMatch(
      /^painting\s+region\s+dimension\s+method\s+prompt\s+PG box\s+PG box@tol\s+PG shape\s+energy/,
    );
    expect(report.rows.every((r) => [0, 1].includes(r.pointingShape))).toBe(true);
  });
  it('names a missing manifest', async () => {
    await expect(scoreExplanations(join(dir, 'nope'), [])).rejects.toThrow(/no manifest.json/);
  });
});

describe('artprobe regions score', () => {
  afterEach(() => vi.restoreAllMocks());
  const run = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    const program = new Command('artprobe').exitOverride();
    register(program);
    await program.parseAsync(['node', 'artprobe', ...args]);
    return { out: out.join(''), err: err.join('') };
  };
  it('prints one JSON object with --json and warns about bad annotations by id', async () => {
    const { out, err } = await run([
      'regions',
      'score',
      '--explanations',
      dir,
      '--annotations',
      join(dir, 'regions.jsonld'),
      '--json',
    ]);
    const obj = JSON.parse(out);
    expect(obj.rows).toHaveLength(4);
    expect(obj.byMethod.map((m: { method: string }) => m.method)).toEqual(['chefer-all', 'occlusion']);
    expect(obj.format).toBe('w3c');
    expect(err).toMatch(/warning: annotation bad: unsupported selector type "Nope"/);
  });
  it('prints tables and validates options', async () => {
    const { out } = await run([
      'regions',
      'score',
      '--explanations',
      dir,
      '--annotations',
      join(dir, 'regions.jsonld'),
    ]);
    expect(out).toMatch(/mean per method/);
    await expect(
      run([
        'regions',
        'score',
        '--explanations',
        dir,
        '--annotations',
        join(dir, 'regions.jsonld'),
        '--tolerance',
        '-1',
      ]),
    ).rejects.toThrow(/--tolerance/);
    await expect(
      run([
        'regions',
        'score',
        '--explanations',
        dir,
        '--annotations',
        join(dir, 'regions.jsonld'),
        '--format',
        'xml',
      ]),
    ).rejects.toThrow(/--format must be one of/);
    await expect(
      run(['regions', 'score', '--explanations', dir, '--annotations', join(dir, 'missing.json')]),
    ).rejects.toThrow(/cannot read annotations/);
  });
  it('--help says which pointing game is which', () => {
    const program = new Command('artprobe').exitOverride();
    register(program);
    const score = program.commands
      .find((c) => c.name() === 'regions')
      ?.commands.find((c) => c.name() === 'score');
    let help = '';
    score?.configureOutput({ writeOut: (s) => (help += s) });
    score?.outputHelp();
    expect(help).toMatch(/PG box\s+\(pointing\)\s+on the region's bounding box/);
    expect(help).toMatch(/PG box@tol\s+\(pointingTol\)/);
    expect(help).toMatch(/PG shape\s+\(pointingShape\)\s+on the region's exact outline/);
  });
  it('converts regions to W3C', async () => {
    const target = join(dir, 'out.jsonld');
    await run(['regions', 'convert', '--annotations', join(dir, 'regions.jsonld'), '--out', target]);
    const { readFileSync } = await import('node:fs');
    const back = readW3CAnnotations(JSON.parse(readFileSync(target, 'utf8')));
    expect(back.regions.map((r) => r.id)).toEqual(['boat', 'sky']);
  });
});
