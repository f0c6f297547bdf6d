/**
 * Dependencies point one way: no source file imports itself through others, no folder of src/ depends on a folder
 * that depends on it, and the runners and the job kinds can be imported without loading an engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cycles, importGraph, rel, type ImportEdge } from '../helpers/imports.js';
import { REPO } from '../helpers/shared.js';

const SRC = join(REPO, 'src');
const graph = importGraph(SRC);
const local = (edges: readonly ImportEdge[]): string[] => edges.filter((e) => e.to.startsWith(SRC)).map((e) => e.to);

/** src/<folder> of a file (the entry point src/index.ts is no folder's). */
const folderOf = (file: string): string | undefined => {
  const parts = rel(SRC, file).split('/');
  return parts.length > 1 ? parts[0] : undefined;
};

test('the import graph covers every source file, and it can see a cycle', () => {
  assert.ok(graph.size > 100, `${graph.size} files`);
  assert.ok([...graph.values()].some((e) => e.some((x) => x.typeOnly)) && [...graph.values()].some((e) => e.some((x) => x.dynamic)));
  assert.deepEqual(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c']]);
});

test('no import cycle between source files (type-only and dynamic imports included)', () => {
  const g = new Map([...graph].map(([f, edges]) => [f, local(edges)]));
  assert.deepEqual(cycles(g).map((c) => c.map((f) => rel(SRC, f))), []);
});

test('no import cycle between the folders of src/', () => {
  const g = new Map<string, Set<string>>();
  const why = new Map<string, string>();
  for (const [file, edges] of graph) {
    const a = folderOf(file);
    if (a === undefined) continue;
    for (const to of local(edges)) {
      const b = folderOf(to);
      if (b === undefined || b === a) continue;
      if (!g.has(a)) g.set(a, new Set());
      g.get(a)!.add(b);
      why.set(`${a}>${b}`, `${rel(SRC, file)} → ${rel(SRC, to)}`);
    }
  }
  const found = cycles(new Map([...g].map(([k, v]) => [k, [...v]])));
  const explain = found.map((c) => c.flatMap((a) => c.filter((b) => why.has(`${a}>${b}`)).map((b) => why.get(`${a}>${b}`))).join('; '));
  assert.deepEqual(explain, []);
});

/** What importing `file` loads, following the imports that run at import time (not type-only, not dynamic). */
function loadedBy(file: string): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const e of graph.get(f) ?? []) if (!e.typeOnly && !e.dynamic) (e.to.startsWith(SRC) ? visit(e.to) : seen.add(e.to));
  };
  visit(file);
  return seen;
}

/** The engine: our tensor code (src/nn before its split into src/engine and src/networks) and tfjs. */
const isEngine = (m: string): boolean => /^@tensorflow\//.test(m) || (m.startsWith(SRC) && /^(nn|engine|networks)\//.test(rel(SRC, m)));

test('importing a runner or the job kinds loads no engine; a kind loads its engine only when it runs', () => {
  const entries = [...graph.keys()].filter((f) => /^(runner\/|jobs\/)/.test(rel(SRC, f)));
  assert.ok(entries.length >= 10);
  for (const f of entries) {
    const engine = [...loadedBy(f)].filter(isEngine).map((m) => (m.startsWith(SRC) ? rel(SRC, m) : m));
    assert.deepEqual(engine, [], `importing ${rel(SRC, f)} loads the engine`);
  }
  // the check can fail: a scoring job's own module does load it
  assert.ok([...loadedBy(join(SRC, 'proxies', 'spec.ts'))].some(isEngine));
  // and the runners import no job kind at all
  for (const f of entries.filter((x) => rel(SRC, x).startsWith('runner/'))) {
    assert.deepEqual([...loadedBy(f)].filter((m) => m.startsWith(join(SRC, 'jobs'))), [], rel(SRC, f));
  }
});
