/**
 * The static import graph of `src/**\/*.ts` has no cycles, and `src/core` never imports `src/attribution`
 * (core is the layer below). Edges are the `import … from '…'`, `import '…'` and `export … from '…'` statements
 * that survive compilation: `import type`, imports of types only (`import { type A }`) and dynamic `import()`
 * are not edges.
 */
import { describe, expect, it } from 'vitest';
import { importGraph, runtimeSpecifiers } from './cli/import-graph.ts';

/** Strongly connected components with more than one file (or a file importing itself), by Tarjan's algorithm. */
function cyclicComponents(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** Every elementary cycle (as "a -> b -> a"), each listed once from its smallest file; at most `limit`. */
function cycles(graph: Map<string, string[]>, limit = 200): string[] {
  const out: string[] = [];
  for (const scc of cyclicComponents(graph)) {
    const inScc = new Set(scc);
    for (const start of scc) {
      const path = [start];
      const onPath = new Set(path);
      const walk = (v: string) => {
        for (const w of graph.get(v) ?? []) {
          if (out.length >= limit || !inScc.has(w) || w < start) continue;
          if (w === start) out.push([...path, start].join(' -> '));
          else if (!onPath.has(w)) {
            path.push(w);
            onPath.add(w);
            walk(w);
            onPath.delete(w);
            path.pop();
          }
        }
      };
      walk(start);
    }
  }
  return out;
}

describe('the import parser', () => {
  it('keeps run-time imports and re-exports, and drops type-only and dynamic imports', () => {
    const source = [
      "import { a } from './a.ts';",
      "import b, { c } from './b.ts';",
      "import * as d from './d.ts';",
      'import {',
      '  e,',
      '  type E,',
      "} from './e.ts';",
      "import type { F } from './f.ts';",
      "import { type G, type H } from './g.ts';",
      "import './side-effect.ts';",
      "export { i } from './i.ts';",
      "export * from './j.ts';",
      "export type { K } from './k.ts';",
      "export { type L } from './l.ts';",
      "const m = await import('./m.ts');",
      " * import { n } from './in-a-doc-comment.ts';",
    ].join('\n');
    expect(runtimeSpecifiers(source).sort()).toEqual(
      ['./a.ts', './b.ts', './d.ts', './e.ts', './i.ts', './j.ts', './side-effect.ts'].sort(),
    );
  });

  it('sees the real graph', () => {
    const graph = importGraph();
    expect(graph.get('src/cli/main.ts')).toContain('src/cli/commands/index.ts');
    expect(graph.size).toBeGreaterThan(50);
  });
});

describe('the static import graph of src/', () => {
  const graph = importGraph();

  it('has no cycles', () => {
    const found = cycles(graph);
    expect(found, `import cycles:\n  ${found.join('\n  ')}`).toEqual([]);
  });

  it('has no imports from src/core into src/attribution', () => {
    const edges = [...graph]
      .filter(([from]) => from.startsWith('src/core/'))
      .flatMap(([from, deps]) =>
        deps.filter((d) => d.startsWith('src/attribution/')).map((d) => `${from} -> ${d}`),
      );
    expect(edges, `src/core imports src/attribution:\n  ${edges.join('\n  ')}`).toEqual([]);
  });
});
