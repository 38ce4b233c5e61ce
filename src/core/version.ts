/**
 * artprobe's version, read once from package.json at run time. The file is found relative to this module
 * (`<root>/src/core/version.ts` and `<root>/dist/core/version.js` both sit two levels below the package
 * root), so the same code works from the sources and from the compiled build.
 *
 * @example
 * import { VERSION } from '../core/version.ts';
 * program.version(VERSION); // '0.1.0'
 */
import { readFileSync } from 'node:fs';

/**
 * Reads the `version` field of the package.json two folders above this module.
 *
 * @example
 * readPackageVersion(); // '0.1.0'
 */
export function readPackageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string' || pkg.version === '')
    throw new Error(`${file.pathname} has no "version" field`);
  return pkg.version;
}

/**
 * The artprobe version from package.json.
 *
 * @example
 * `artprobe ${VERSION}`; // 'artprobe 0.1.0'
 */
export const VERSION: string = readPackageVersion();
