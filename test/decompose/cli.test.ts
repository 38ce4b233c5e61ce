/**
 * `artprobe decompose` and `artprobe decompose heads` end to end on the golden tiny-b32: the JSON follows the
 * documented shape (terms reconstruct the embedding and the scores), maps are written like explain's (.npy on
 * the grid, painting .npy, overlay PNG, manifest entries with method `decompose`).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/commands/decompose.ts';
import { decodeNpy } from '../../src/core/npy.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

const out = mkdtempSync(join(tmpdir(), 'decompose-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function run(args: string[]): Promise<string> {
  const program = new Command('artprobe').exitOverride();
  register(program);
  let text = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'artprobe', ...args]);
  } finally {
    spy.mockRestore();
  }
  return text;
}

describeShared('artprobe decompose CLI', ['golden/models/tiny-b32', 'golden/inputs/images'], () => {
  const model = sharedPath('golden/models/tiny-b32');
  const image = sharedPath('golden/inputs/images/landscape_640x480.png');

  it('decompose --json: terms, scores, maps and manifest', async () => {
    const dir = join(out, 'dec');
    const json = JSON.parse(
      await run([
        'decompose',
        '--model',
        model,
        '--image',
        image,
        '--text',
        'a photo of a cat',
        'a painting|a photo',
        '--out',
        dir,
        '--top-heads',
        '2',
        '--json',
      ]),
    );
    expect(json.model).toBe('tiny-b32');
    expect(json.directions.map((d: { kind: string }) => d.kind)).toEqual(['text', 'contrast']);
    const im = json.images[0];
    expect(im.painting_size).toEqual([480, 640]);
    expect(im.grid).toEqual([7, 7]);
    const E = im.embedding.length;
    expect(E).toBe(32);
    // terms: embed, 3 layers × (4 heads + attention bias + mlp), ln_post bias
    expect(im.terms).toHaveLength(2 + 3 * 6);
    const kinds = im.terms.map((t: { kind: string }) => t.kind);
    expect(kinds.filter((k: string) => k === 'head')).toHaveLength(12);
    expect(im.terms.find((t: { kind: string }) => t.kind === 'mlp').mlp).toBe(true);
    expect(im.terms.find((t: { kind: string }) => t.kind === 'embed').embed).toBe('class_token');
    const sum = new Array(E).fill(0);
    for (const t of im.terms) t.contribution.forEach((x: number, i: number) => (sum[i] += x));
    const err = Math.max(...sum.map((s, i) => Math.abs(s - im.embedding[i])));
    expect(err).toBeLessThan(1e-4);
    expect(im.reconstruction_error).toBeLessThan(1e-4);
    for (const label of ['a photo of a cat', 'a painting − a photo']) {
      const total = im.terms.reduce(
        (a: number, t: { score: Record<string, number> }) => a + t.score[label],
        0,
      );
      expect(Math.abs(total - im.scores[label])).toBeLessThan(1e-4);
      expect(im.heads[label]).toHaveLength(12);
    }
    // maps: total + 3 layers + 2 heads per direction
    expect(im.maps).toHaveLength(2 * (1 + 3 + 2));
    const total = im.maps.find(
      (m: { layer: unknown; head: unknown }) => m.layer === 'all' && m.head === 'all',
    );
    const grid = decodeNpy(readFileSync(join(dir, total.map)));
    expect(grid.shape).toEqual([7, 7]);
    const gridSum = Array.from(grid.data).reduce((a, b) => a + b, 0);
    expect(Math.abs(gridSum + total.cls_token - total.score)).toBeLessThan(1e-4);
    const painting = decodeNpy(readFileSync(join(dir, total.map_painting)));
    expect(painting.shape).toEqual([480, 640]);
    expect(existsSync(join(dir, total.overlay))).toBe(true);
    const heads = decodeNpy(readFileSync(join(dir, im.head_maps['a photo of a cat'])));
    expect(heads.shape).toEqual([3, 4, 7, 7]);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.entries).toHaveLength(12);
    expect(manifest.entries.every((e: { method: string }) => e.method === 'decompose')).toBe(true);
    expect(manifest.entries[0].target_spec).toEqual({ kind: 'prompt', prompt: 'a photo of a cat' });
    expect(JSON.parse(readFileSync(join(dir, 'decomposition.json'), 'utf8')).images).toHaveLength(1);
  });

  it('decompose heads --json: TextSpan descriptions per head with explained variance', async () => {
    const dir = join(out, 'heads');
    const json = JSON.parse(
      await run([
        'decompose',
        'heads',
        '--model',
        model,
        '--images',
        sharedPath('golden/inputs/images'),
        '--last-layers',
        '1',
        '--texts-per-head',
        '3',
        '--out',
        dir,
        '--json',
      ]),
    );
    expect(json.layers).toEqual([2]);
    expect(json.images.count).toBe(7);
    expect(json.vocabulary.descriptions).toBeGreaterThanOrEqual(300);
    expect(json.heads).toHaveLength(4);
    for (const h of json.heads) {
      expect(h.descriptions).toHaveLength(3);
      expect(h.descriptions[2].variance_explained).toBeGreaterThanOrEqual(
        h.descriptions[0].variance_explained,
      );
      expect(typeof h.descriptions[0].category).toBe('string');
    }
    expect(existsSync(join(dir, 'heads.json'))).toBe(true);
  });

  it('errors name the problem', async () => {
    await expect(run(['decompose', '--model', model, '--out', out])).rejects.toThrow(/--image/);
    await expect(
      run(['decompose', '--model', model, '--image', image, '--text', 'a|b|c', '--out', out]),
    ).rejects.toThrow(/"A\|B"/);
    await expect(
      run(['decompose', '--model', model, '--image', image, '--text', 'a', '--versus-rest', '--out', out]),
    ).rejects.toThrow(/at least two/);
  });
});
