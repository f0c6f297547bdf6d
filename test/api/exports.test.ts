/**
 * The public API is what the README's "What the package exports" table lists, no more, no less: the built package's
 * runtime exports are the table's values, src/index.ts exports the table's values and types, and internals stay out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { REPO } from '../helpers/shared.js';

/** The table's names: values (before "; type(s)") and types, over every row. */
function documented(): { values: string[]; types: string[] } {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const at = readme.indexOf('### What the package exports');
  assert.ok(at >= 0, 'the README lists the exports');
  const rows = readme.slice(at).split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Group'));
  const names = (text: string): string[] => [...text.matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1]);
  const values: string[] = [];
  const types: string[] = [];
  for (const row of rows) {
    const cell = row.split('|')[2] ?? '';
    const [v, t = ''] = cell.split(/; types? /);
    values.push(...names(v));
    types.push(...names(t));
  }
  return { values, types };
}

/** Every name src/index.ts exports, with whether it is a type only. */
function indexExports(): Map<string, boolean> {
  const file = join(REPO, 'src', 'index.ts');
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out = new Map<string, boolean>();
  for (const st of src.statements) {
    if (!ts.isExportDeclaration(st) || !st.exportClause || !ts.isNamedExports(st.exportClause)) continue;
    for (const e of st.exportClause.elements) out.set(e.name.text, st.isTypeOnly || e.isTypeOnly);
  }
  return out;
}

test('the README documents every export of src/index.ts, values and types apart, each once', () => {
  const { values, types } = documented();
  assert.ok(values.length > 40 && types.length > 40);
  assert.deepEqual([...values, ...types].filter((n, i, all) => all.indexOf(n) !== i), [], 'listed twice');
  const exported = indexExports();
  const wantValues = [...exported].filter(([, t]) => !t).map(([n]) => n).sort();
  const wantTypes = [...exported].filter(([, t]) => t).map(([n]) => n).sort();
  assert.deepEqual([...values].sort(), wantValues, 'values in the README table vs src/index.ts');
  assert.deepEqual([...types].sort(), wantTypes, 'types in the README table vs src/index.ts');
});

test('the built package exports exactly the documented values, and no internals', async () => {
  const pkg = (await import(join(REPO, 'dist', 'index.js'))) as Record<string, unknown>;
  assert.deepEqual(Object.keys(pkg).sort(), [...documented().values].sort());
  for (const internal of ['GaussianProcess', 'BayesOpt', 'MT19937', 'numpyArgsort', 'AdExec', 'executeJob', 'runProxyBatch', 'queryKey', 'normalise']) {
    assert.equal(pkg[internal], undefined, `${internal} is internal`);
  }
  // a few of the values are what they say
  assert.equal(typeof pkg.runSearch, 'function');
  assert.ok(Array.isArray(pkg.METHOD_IDS));
  assert.ok(new (pkg.InputError as new (m: string) => Error)('x') instanceof Error);
});
