/**
 * The static import graph of the sources, as the import-cycle and CLI start-up tests see it: edges are the
 * `import … from '…'`, `import '…'` and `export … from '…'` statements that survive compilation; `import type`,
 * imports of types only (`import { type A }`) and dynamic `import()` are not edges.
 *
 * @example
 * const graph = importGraph();            // 'src/cli/main.ts' -> ['src/cli/commands/index.ts', ...]
 * const { packages } = staticClosure('src/cli/main.ts'); // ['commander', ...]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../helpers/shared-data.ts';

const SRC = join(repoRoot, 'src');

/** A static import (or re-export) clause up to its module specifier. */
const FROM_RE =
  /^[ \t]*(import|export)\s+(type\s+)?((?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?)|[\w$]+)\s*from\s*['"]([^'"]+)['"]/gm;
/** A side-effect import. */
const BARE_RE = /^[ \t]*import\s*['"]([^'"]+)['"]/gm;

/**
 * Module specifiers a file imports at run time (type-only imports and dynamic imports are left out).
 *
 * @example
 * runtimeSpecifiers("import { a } from './a.ts';\nimport type { B } from './b.ts';"); // ['./a.ts']
 */
export function runtimeSpecifiers(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(FROM_RE)) {
    const [, , typeKeyword, clause, spec] = m;
    if (typeKeyword) continue;
    const braces = /^\{([^}]*)\}$/.exec(clause.trim());
    if (braces) {
      const names = braces[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      // TypeScript drops an import (or re-export) whose names are all `type` ones.
      if (names.length > 0 && names.every((n) => /^type\s/.test(n))) continue;
    }
    out.push(spec);
  }
  for (const m of source.matchAll(BARE_RE)) out.push(m[1]);
  return out;
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return listTs(p);
    return e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/**
 * The graph: repo-relative file -> repo-relative files under src/ it imports statically.
 *
 * @example
 * importGraph().get('src/cli/main.ts');
 */
export function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of listTs(SRC)) {
    const deps = runtimeSpecifiers(readFileSync(file, 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(repoRoot, resolve(dirname(file), s)))
      .filter((p) => p.startsWith('src/') && p.endsWith('.ts'));
    graph.set(relative(repoRoot, file), [...new Set(deps)].sort());
  }
  return graph;
}

/**
 * Files reached from `entry` (repo-relative) by static imports, and the packages they import (`node:` built-ins
 * left out).
 *
 * @example
 * staticClosure('src/cli/main.ts').packages; // ['commander', 'svgpath']
 */
export function staticClosure(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of runtimeSpecifiers(readFileSync(join(repoRoot, file), 'utf8'))) {
      if (spec.startsWith('.')) todo.push(relative(repoRoot, resolve(dirname(join(repoRoot, file)), spec)));
      else if (!spec.startsWith('node:')) packages.add(spec);
    }
  }
  return { files: [...files].sort(), packages: [...packages].sort() };
}
