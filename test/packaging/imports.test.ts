// The shape of the house, checked: no package's modules import each other in a circle, and the
// core's layers import one way only (ARCHITECTURE.md). Type-only imports count too: a cycle of
// types is still two modules that cannot be read, or moved, one without the other.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const PACKAGES = fileURLToPath(new URL('../../packages/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const SPECIFIER = /^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/gm;

/** Each source file of `src`, relative to it, with the relative modules it imports. */
function importGraph(src: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(src)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(SPECIFIER)].map((m) => relative(src, resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'))));
    graph.set(relative(src, file), targets);
  }
  return graph;
}

/** Every strongly connected group of more than one module (Tarjan), plus modules importing themselves. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(group.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const packages = readdirSync(PACKAGES).filter((name) => !name.startsWith('.'));

describe('import cycles', () => {
  test.each(packages)('packages/%s/src has none', (name) => {
    expect(cycles(importGraph(join(PACKAGES, name, 'src')))).toEqual([]);
  });
});

describe('core layers (ARCHITECTURE.md)', () => {
  const graph = importGraph(join(PACKAGES, 'core', 'src'));
  const layerOf = (file: string): string => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file);
  // What each folder may import besides itself. errors.ts and version.ts are leaves every layer reads.
  const ALLOWED: Record<string, readonly string[]> = {
    http: ['errors.ts'],
    gateway: ['errors.ts', 'http'],
    observability: ['errors.ts', 'http', 'gateway'],
    apps: ['errors.ts', 'version.ts', 'http', 'gateway'],
    engine: ['errors.ts', 'options.ts', 'http', 'gateway', 'observability'],
  };

  test.each(Object.keys(ALLOWED))('%s/ imports only from the layers below it', (layer) => {
    const strays: string[] = [];
    for (const [file, targets] of graph) {
      if (layerOf(file) !== layer) continue;
      for (const target of targets) {
        const to = layerOf(target);
        if (to !== layer && !ALLOWED[layer]!.includes(to)) strays.push(`${file} → ${target}`);
      }
    }
    expect(strays).toEqual([]);
  });

  test('the pure protocol touches no sockets, timers or files', () => {
    const impure: string[] = [];
    for (const file of sources(join(PACKAGES, 'core', 'src', 'http'))) {
      if (/from\s*['"]node:(net|tls|fs|fs\/promises|timers|dgram|cluster|child_process|worker_threads)['"]/.test(readFileSync(file, 'utf8'))) {
        impure.push(relative(PACKAGES, file));
      }
    }
    expect(impure).toEqual([]);
  });
});
