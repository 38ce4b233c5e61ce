/**
 * One place where tests find the project's shared reference data (`../shared` next to the repo,
 * or `$ARTPROBE_SHARED`). When it is absent, suites are skipped with a loud message, never passed silently.
 *
 * @example
 * const golden = sharedPath('golden');
 * describeShared('parity', ['golden'], () => { it(...) });
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of the shared data folder. */
export const sharedDir: string = process.env.ARTPROBE_SHARED
  ? resolve(process.env.ARTPROBE_SHARED)
  : resolve(repoRoot, '..', 'shared');

/** Absolute path below the shared data folder. */
export function sharedPath(...parts: string[]): string {
  return join(sharedDir, ...parts);
}

/** True when every named path below the shared folder exists. */
export function hasShared(...parts: string[][]): boolean {
  return parts.every((p) => existsSync(sharedPath(...p)));
}

/**
 * `describe` that runs only when the shared data it needs exists; otherwise it is skipped and a
 * warning naming the missing path is printed (so a run without data is visibly incomplete).
 */
export function describeShared(name: string, needs: string[], fn: () => void): void {
  const missing = needs.filter((p) => !existsSync(sharedPath(p)));
  if (missing.length > 0) {
    const msg = `\n!!! SKIPPED "${name}": shared data missing: ${missing.map((m) => sharedPath(m)).join(', ')}\n`;
    console.warn(msg);
    process.stderr.write(msg);
    describe.skip(name, fn);
    return;
  }
  describe(name, fn);
}

export { repoRoot };
