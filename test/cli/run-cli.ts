/**
 * Runs the built command line (`bin/artprobe.mjs`, which needs `npm run build`) in a child process and returns
 * its exit code and output; the environment is the test's, with the given variables set (undefined removes one).
 *
 * @example
 * const { code, stdout } = await runCli(['doctor', '--json'], { ARTPROBE_ENGINE: 'tfjs' });
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/shared-data.ts';

/**
 * The launcher.
 *
 * @example
 * execFile(process.execPath, [BIN, '--help']);
 */
export const BIN = join(repoRoot, 'bin', 'artprobe.mjs');

/**
 * The compiled entry the launcher runs.
 *
 * @example
 * existsSync(DIST_MAIN); // false until `npm run build`
 */
export const DIST_MAIN = join(repoRoot, 'dist', 'cli', 'main.js');

/**
 * Throws a clear error when the CLI is not built (call it in beforeAll).
 *
 * @example
 * beforeAll(requireBuild);
 */
export function requireBuild(): void {
  if (!existsSync(DIST_MAIN))
    throw new Error(
      `${DIST_MAIN} is missing: run \`npm run build\` (scripts/test.sh does) before the CLI tests`,
    );
}

/** What a CLI run printed. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds of the run. */
  ms: number;
}

/**
 * Runs `node bin/artprobe.mjs ...args` from the repository root.
 *
 * @example
 * const { stdout } = await runCli(['--version']);
 */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: repoRoot, env: childEnv, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - t0 });
      },
    );
  });
}
