/**
 * No import cycle in src/: each module's relative imports, read from its
 * source (`import … from './x.js'`, `export … from`, `import('./x.js')`), form
 * a graph without a cycle, so that the layers (core ← store ← cli ← commands)
 * keep one direction. Type-only imports count too: a cycle through types is
 * still two modules that cannot be read apart.
 */
import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {expect} from 'chai';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The modules of src/ that `file` imports, by path. */
export function importsOf(file: string, text: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    found.push(path.resolve(path.dirname(file), match[1].replace(/\.js$/, '.ts')));
  }
  return found;
}

/** One cycle of the graph, as the list of its modules (first repeated last), or null. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...trail.slice(trail.indexOf(node)), node];
    state.set(node, 'open');
    trail.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    trail.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

describe('import cycles', () => {
  it('src/ has none', () => {
    const graph = new Map<string, string[]>();
    for (const file of sources(SRC)) graph.set(file, importsOf(file, readFileSync(file, 'utf8')));
    const cycle = findCycle(graph);
    expect(cycle?.map((file) => path.relative(SRC, file)).join(' → ') ?? null, 'an import cycle').to.equal(null);
  });

  it('finds a cycle when there is one, and reads every import form', () => {
    const a = path.join(SRC, 'a.ts');
    const text = `import {x} from './b.js';\nexport {y} from '../c.js';\nconst z = await import('./d.js');\nimport './e.js';\nimport type {T} from "./f.js";\n`;
    expect(importsOf(a, text)).to.deep.equal(['b', '../c', 'd', 'e', 'f'].map((name) => path.resolve(SRC, `${name}.ts`)));
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
    ]);
    expect(findCycle(graph)).to.deep.equal(['a', 'b', 'c', 'a']);
    expect(
      findCycle(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).to.equal(null);
  });
});
