// The layering rule, kept honest by a test: a top-level folder of src/ is a capability, and
// another folder reaches it only through its index.ts; the folder graph is a tree (no cycle).
// An exception needs a written reason in the table below; keep the table short.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const SRC = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../src');

/** Imports that may reach past another folder's index.ts, each with the reason it may. */
const INDEX_EXCEPTIONS: Readonly<Record<string, string>> = {};

/** Folder edges left out of the cycle check, each with the reason they may be. */
const CYCLE_EXCEPTIONS: Readonly<Record<string, string>> = {};

interface Import {
  readonly from: string;
  readonly to: string;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

// Static imports and re-exports (single or multi-line), side-effect imports and dynamic imports.
const SPECIFIERS = [
  /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\sfrom\s*['"]([^'"]+)['"]/g,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** Every relative import of src/, as paths relative to src/ with the .ts file they name. */
function readImports(): Import[] {
  const imports: Import[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const pattern of SPECIFIERS) {
      for (const match of text.matchAll(pattern)) {
        const specifier = match[1]!;
        if (!specifier.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts');
        imports.push({ from: path.relative(SRC, file), to: path.relative(SRC, target) });
      }
    }
  }
  return imports;
}

const folderOf = (file: string): string => file.split(path.sep)[0]!;
const crossesFolders = (i: Import): boolean => folderOf(i.from) !== folderOf(i.to);
const throughIndex = (i: Import): boolean => i.to === path.join(folderOf(i.to), 'index.ts');

/** One cycle of the folder graph (as a closed path), or undefined when it is a tree. */
function findCycle(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...edges.keys()].sort()) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}

describe('folder boundaries', () => {
  const imports = readImports().filter(crossesFolders);

  it('reads the imports of the source tree', () => {
    assert.ok(imports.length > 50, `only ${imports.length} cross-folder imports found under ${SRC}`);
  });

  it('a folder reaches another folder only through its index.ts', () => {
    const violations = imports
      .filter((i) => !throughIndex(i))
      .map((i) => `${i.from} -> ${i.to}`)
      .filter((line) => !(line in INDEX_EXCEPTIONS));
    assert.deepEqual([...new Set(violations)].sort(), []);
  });

  it('every exception in the index table is still needed', () => {
    const seen = new Set(imports.map((i) => `${i.from} -> ${i.to}`));
    assert.deepEqual(
      Object.keys(INDEX_EXCEPTIONS).filter((line) => !seen.has(line)),
      [],
    );
  });

  it('the folder graph has no cycle', () => {
    const edges = new Map<string, Set<string>>();
    for (const i of imports) {
      const edge = `${folderOf(i.from)} -> ${folderOf(i.to)}`;
      if (edge in CYCLE_EXCEPTIONS) continue;
      const targets = edges.get(folderOf(i.from)) ?? new Set<string>();
      targets.add(folderOf(i.to));
      edges.set(folderOf(i.from), targets);
    }
    const cycle = findCycle(edges);
    assert.equal(cycle, undefined, `folder cycle: ${cycle?.join(' -> ')}`);
  });

  it('every exception in the cycle table is still needed', () => {
    const seen = new Set(imports.map((i) => `${folderOf(i.from)} -> ${folderOf(i.to)}`));
    assert.deepEqual(
      Object.keys(CYCLE_EXCEPTIONS).filter((edge) => !seen.has(edge)),
      [],
    );
  });
});
