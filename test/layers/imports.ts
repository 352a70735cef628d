// The import graph of src/: every file's imports (static, including `import type`), for the layer tests.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';

export const SRC = resolve(dirname(new URL(import.meta.url).pathname), '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/**
 * file (relative to src/, e.g. 'metrics/cka.ts') → its imports: other src files (relative) or
 * package names, from static imports and re-exports, `require('…')` and `import('…')` with a
 * literal name. `types: false` leaves out `import type` / `export type` (erased at run time).
 */
export function importGraph({ types = true }: { types?: boolean } = {}): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of files(SRC)) {
    const text = readFileSync(f, 'utf8');
    const specs = [...text.matchAll(/^\s*(import|export)\s+(type\s)?[^'";]*?from\s+'([^']+)'/gm)]
      .filter((m) => types || !m[2])
      .map((m) => m[3])
      .concat([...text.matchAll(/^\s*import\s+'([^']+)'/gm)].map((m) => m[1]))
      // require('…') through createRequire, and dynamic import('…') with a literal: loaded at run time too.
      .concat([...text.matchAll(/\b(?:require|import)\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]));
    graph.set(
      relative(SRC, f),
      specs.map((s) => (s.startsWith('.') ? relative(SRC, resolve(dirname(f), s)).replace(/\.js$/, '.ts') : s)),
    );
  }
  return graph;
}

/** Everything `start` reaches through the graph (itself excluded). */
export function reach(graph: Map<string, string[]>, start: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(graph.get(start) ?? [])];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...(graph.get(n) ?? []));
  }
  return seen;
}

/** The cycles of the graph, each as a path of files (Tarjan's strongly connected components of size > 1). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>(),
    low = new Map<string, number>(),
    on = new Set<string>(),
    stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}
