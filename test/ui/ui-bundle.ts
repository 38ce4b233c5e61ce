/**
 * Builds the UI bundle for tests into a folder (app.js + index.html) with the same script as `npm run build:ui`.
 *
 * @example
 * const dir = await bundleUi('/tmp/ui'); // then buildApp({ ..., uiDir: dir })
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/shared-data.ts';

export async function bundleUi(outdir: string): Promise<string> {
  await promisify(execFile)(process.execPath, [
    join(repoRoot, 'scripts', 'build-ui.mjs'),
    '--outdir',
    outdir,
    '--dev',
  ]);
  return outdir;
}
