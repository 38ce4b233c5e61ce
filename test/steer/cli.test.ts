/**
 * `artprobe steer` end to end on the golden tiny-b32 (TF.js engine, so nothing is compiled beside shared
 * models): steering mode writes the steered input, the amplified perturbation, the steered painting and the
 * JSON; `--dimension` without `--toward` writes robustness curves; errors name the problem.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { parseEpsilon, parseEpsilons, register } from '../../src/cli/commands/steer.ts';
import { decodeNpy } from '../../src/core/npy.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

const out = mkdtempSync(join(tmpdir(), 'steer-cli-'));
const savedEngine = process.env.ARTPROBE_ENGINE;
beforeAll(() => {
  process.env.ARTPROBE_ENGINE = 'tfjs';
});
afterAll(() => {
  if (savedEngine === undefined) delete process.env.ARTPROBE_ENGINE;
  else process.env.ARTPROBE_ENGINE = savedEngine;
  rmSync(out, { recursive: true, force: true });
});

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

it('budgets parse as fractions of 255 or plain numbers', () => {
  expect(parseEpsilon('4/255')).toBeCloseTo(4 / 255, 12);
  expect(parseEpsilon('0.5')).toBe(0.5);
  expect(() => parseEpsilon('8')).toThrow(/\(0, 1\]/);
  expect(() => parseEpsilon('-1/255')).toThrow(/budget/);
  expect(parseEpsilons('4/255,1/255,4/255')).toEqual([1 / 255, 4 / 255]);
});

describeShared('artprobe steer CLI', ['golden/models/tiny-b32', 'paintings'], () => {
  const model = sharedPath('golden/models/tiny-b32');
  const vermeer = sharedPath('paintings/vermeer-girl-with-a-pearl-earring-c1665.jpg');
  const wave = sharedPath('paintings/hokusai-great-wave-off-kanagawa-c1831.jpg');

  it('steer --toward --away --json: scores, zero-shot answers before/after, PSNR/SSIM and files', async () => {
    const dir = join(out, 'steer');
    const json = JSON.parse(
      await run([
        'steer',
        '--model',
        model,
        '--image',
        vermeer,
        '--toward',
        'an AI-generated image',
        '--away',
        'a painting made by a person',
        '--epsilon',
        '4/255',
        '--steps',
        '4',
        '--dimension',
        'style',
        'origin',
        '--out',
        dir,
        '--json',
      ]),
    );
    const r = json.runs[0];
    expect(r.target).toEqual({
      kind: 'contrast',
      a: 'an AI-generated image',
      b: 'a painting made by a person',
    });
    expect(r.epsilon_255).toBe(4);
    expect(r.score.after).toBeGreaterThan(r.score.before);
    expect(Object.keys(r.zero_shot)).toEqual(['style', 'origin']);
    expect(r.zero_shot.style.before.top).toBe(r.zero_shot.style.before.ranked[0].label);
    expect(r.change.input.linf).toBeLessThanOrEqual(4 / 255 + 1e-6);
    expect(r.change.input.psnr).toBeGreaterThan(35);
    const meta = await sharp(join(dir, r.files.steered_painting)).metadata();
    expect([meta.height, meta.width]).toEqual(r.painting_size);
    const delta = decodeNpy(readFileSync(join(dir, r.files.perturbation_npy)));
    expect(delta.shape).toEqual([3, 224, 224]);
    expect(Array.from(delta.data).reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeLessThanOrEqual(
      4 / 255 + 1e-6,
    );
    expect(existsSync(join(dir, r.files.perturbation))).toBe(true);
    expect(existsSync(join(dir, r.files.steered_input))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'steer.json'), 'utf8')).runs).toHaveLength(1);
  });

  it('steer --dimension (no --toward): the smallest flipping budget per painting and dimension', async () => {
    const dir = join(out, 'robust');
    const json = JSON.parse(
      await run([
        'steer',
        '--model',
        model,
        '--image',
        vermeer,
        wave,
        '--dimension',
        'style',
        '--epsilons',
        '1/255,16/255',
        '--steps',
        '6',
        '--out',
        dir,
        '--json',
      ]),
    );
    expect(json.epsilons_255).toEqual([1, 16]);
    expect(json.rows).toHaveLength(2);
    for (const row of json.rows) {
      const d = row.dimensions.style;
      expect(d.curve).toHaveLength(2);
      expect(typeof d.top_before).toBe('string');
      expect(row.seconds).toBeGreaterThan(0);
      if (d.smallest_epsilon_255 !== null) {
        expect(
          d.curve.find((p: { epsilon_255: number }) => p.epsilon_255 === d.smallest_epsilon_255).flipped,
        ).toBe(true);
      }
    }
    expect(json.summary.style.paintings).toBe(2);
    expect(existsSync(join(dir, 'robustness.json'))).toBe(true);
  });

  it('errors name the problem', async () => {
    await expect(run(['steer', '--model', model, '--image', vermeer, '--out', out])).rejects.toThrow(
      /--toward/,
    );
    await expect(
      run(['steer', '--model', model, '--image', vermeer, '--toward', 'a', '--labels', 'b,c', '--out', out]),
    ).rejects.toThrow(/must contain/);
    await expect(
      run(['steer', '--model', model, '--image', vermeer, '--dimension', 'nope', '--out', out]),
    ).rejects.toThrow(/unknown dimension/);
  });
});
