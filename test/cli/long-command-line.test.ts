/**
 * onnxruntime-node 1.30 crashes (SIGSEGV) when its process's command line passes ~25 KB; the launcher hands long
 * command lines to a child through a private file, so `--image folder/*` over hundreds of paintings works.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { describeShared, repoRoot, sharedPath } from '../helpers/shared-data.ts';

const run = promisify(execFile);

describeShared('a command line longer than ONNX Runtime survives', ['toy/A'], () => {
  it('encodes 800 images named on a 34 KB command line with the onnx engine', async () => {
    const images = Array.from({ length: 800 }, (_, i) =>
      sharedPath(`toy/A/eval/images/img_${String(i % 120).padStart(3, '0')}.png`),
    );
    const args = ['--engine', 'onnx', 'encode', '--model', sharedPath('toy/A/model'), '--image', ...images];
    expect(args.join(' ').length).toBeGreaterThan(30_000);
    const { stdout } = await run(
      process.execPath,
      [join(repoRoot, 'bin/artprobe.mjs'), ...args, '--text', 'a red circle', '--json'],
      { cwd: repoRoot, maxBuffer: 1 << 28 },
    );
    const out = JSON.parse(stdout);
    expect(out.engine).toBe('onnx');
    expect(out.images).toHaveLength(800);
  });
});
