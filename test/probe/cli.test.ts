import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ensureProbeCommand, register } from '../../src/cli/commands/probe.ts';
import { decodeNpy } from '../../src/core/npy.ts';
import { seededRandom } from '../../src/probe/splits.ts';

const dir = mkdtempSync(join(tmpdir(), 'probe-cli-'));

/** CSV with an embedding JSON column, a label, a group, a per column and a rating. */
function writeCsv(name: string, n: number, seed: number, shift: number): string {
  const rand = seededRandom(seed);
  const lines = ['id,emb,style,prompt,gen,score'];
  for (let i = 0; i < n; i++) {
    const cls = i % 3;
    const v = Array.from({ length: 6 }, (_, j) => (j === cls ? 2 : 0) + (j === 5 ? shift : 0) + rand() - 0.5);
    lines.push(
      `${i},"${JSON.stringify(v)}",${['a', 'b', 'c'][cls]},p${i % 7},${i % 2 ? 'g1' : 'g2'},${v[0] + rand() * 0.1}`,
    );
  }
  const p = join(dir, name);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

const human = writeCsv('human.csv', 60, 1, 0);
const ai = writeCsv('ai.csv', 60, 2, 1.5);

async function run(args: string[]): Promise<string> {
  const program = new Command('artprobe').exitOverride();
  register(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'artprobe', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('artprobe probe CLI', () => {
  it('probe linear --json prints one object with the metrics, per-group accuracy and writes a report', async () => {
    const outDir = join(dir, 'lin');
    const text = await run([
      'probe',
      'linear',
      '--embeddings',
      ai,
      '--column',
      'emb',
      '--label',
      'style',
      '--cv',
      '3',
      '--per',
      'gen',
      '--json',
      '--out',
      outDir,
    ]);
    const j = JSON.parse(text);
    expect(j.accuracy).toBeGreaterThan(0.8);
    expect(j.macro_f1).toBeGreaterThan(0.8);
    expect(j.n_train).toBe(60);
    expect(j.n_test).toBe(60);
    expect(Object.keys(j.per_group)).toEqual(['g1', 'g2']);
    expect(JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')).accuracy).toBe(j.accuracy);
    expect(readFileSync(join(outDir, 'report.md'), 'utf8')).toMatch(/\| accuracy \| macro_f1 \|/);
    const table = await run([
      'probe',
      'linear',
      '--embeddings',
      ai,
      '--label',
      'style',
      '--group-by',
      'prompt',
      '--test',
      human,
    ]);
    expect(table).toMatch(/accuracy\s+macro_f1\s+n_train\s+n_test/);
  });

  it('probe separability, ratings and map', async () => {
    const sep = JSON.parse(
      await run([
        'probe',
        'separability',
        '--human',
        human,
        '--ai',
        ai,
        '--pca',
        '2,0',
        '--cv',
        '3',
        '--json',
      ]),
    );
    expect(sep.mode).toBe('cv');
    expect(sep.results.map((r: { k: number }) => r.k)).toEqual([2, 6]);
    expect(sep.accuracy).toBeGreaterThan(0.9);
    const split = JSON.parse(
      await run([
        'probe',
        'separability',
        '--human',
        human,
        '--ai',
        ai,
        '--pca',
        '2',
        '--group-by',
        'prompt',
        '--json',
      ]),
    );
    expect(split.mode).toBe('split');
    const rat = JSON.parse(
      await run([
        'probe',
        'ratings',
        '--embeddings',
        ai,
        '--ratings',
        'score',
        '--group-by',
        'prompt',
        '--human',
        human,
        '--pca',
        '2',
        '--cv',
        '3',
        '--json',
      ]),
    );
    expect(rat.ridge.score.spearman_rho).toBeGreaterThan(0.8);
    expect(rat.score.score.rho).toBeGreaterThan(-1);
    const npy = join(dir, 'map.npy');
    await run(['probe', 'map', '--embeddings', human, ai, '--method', 'pca', '--out', npy]);
    const arr = decodeNpy(readFileSync(npy));
    expect(arr.shape).toEqual([120, 2]);
    const csv = join(dir, 'map.csv');
    await run(['probe', 'map', '--embeddings', human, ai, '--out', csv, '--json']);
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toBe('set,x,y');
  });

  it('rejects bad input with clear messages', async () => {
    await expect(run(['probe', 'linear', '--embeddings', ai, '--label', 'genre'])).rejects.toThrow(
      /unknown column 'genre'; available columns: id, style, prompt, gen, score/,
    );
    await expect(
      run(['probe', 'linear', '--embeddings', ai, '--column', 'vec', '--label', 'style']),
    ).rejects.toThrow(/unknown column 'vec'/);
    await expect(
      run(['probe', 'linear', '--embeddings', ai, '--label', 'style', '--cv', '1']),
    ).rejects.toThrow(/--cv must be an integer ≥ 2/);
    await expect(
      run(['probe', 'linear', '--embeddings', ai, '--label', 'gen', '--min-class', '40']),
    ).rejects.toThrow(/at least 2 classes with ≥40 rows/);
    await expect(
      run(['probe', 'separability', '--human', human, '--ai', ai, '--test-human', human]),
    ).rejects.toThrow(/--test-human and --test-ai must be given together/);
    await expect(
      run(['probe', 'map', '--embeddings', ai, '--method', 'tsne', '--out', join(dir, 'x.json')]),
    ).rejects.toThrow(/--method must be one of pca, umap/);
    await expect(run(['probe', 'map', '--embeddings', ai, '--out', join(dir, 'x.txt')])).rejects.toThrow(
      /--out must end in/,
    );
    expect(existsSync(join(dir, 'x.txt'))).toBe(false);
  });

  it('lets another file attach subcommands to the same probe group', () => {
    const program = new Command('artprobe');
    ensureProbeCommand(program).command('zero-shot');
    register(program);
    const probe = program.commands.filter((c) => c.name() === 'probe');
    expect(probe).toHaveLength(1);
    expect(probe[0].commands.map((c) => c.name()).sort()).toEqual([
      'linear',
      'map',
      'ratings',
      'separability',
      'zero-shot',
    ]);
  });
});
