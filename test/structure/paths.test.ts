/**
 * Comments and the README point at files that exist: a source file named in a comment of src/ (`proxies/spec.ts`,
 * `score.ts` next to it, `native/gp/gp.c`), and every src/, scripts/, test/, examples/ or native/ path in the README.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { rel, sourceFiles } from '../helpers/imports.js';
import { REPO } from '../helpers/shared.js';

const SRC = join(REPO, 'src');

/** Candidate files for a path named in `file`: next to it, under src/, under the repository; .js for .ts. */
function exists(file: string, p: string): boolean {
  const names = [p, p.replace(/\.js$/, '.ts')];
  return names.some((n) => [dirname(file), SRC, REPO].some((base) => existsSync(join(base, n))));
}

/** Paths of source files named in comments (`//` lines and `/* … *\/` blocks). */
function commentPaths(text: string): string[] {
  const comments = [...text.matchAll(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g)].map((m) => m[0]).join('\n');
  return [...comments.matchAll(/(?<![\w@./:-])((?:[\w-]+\/)*[\w-]+(?:\.[\w-]+)*\.(?:ts|c))\b/g)].map((m) => m[1]);
}

test('the scan reads paths from comments only', () => {
  assert.deepEqual(commentPaths("import x from './a.js';\n// see proxies/spec.ts and score.ts\n/** native/gp/gp.c */ const s = 'b.ts';"), ['proxies/spec.ts', 'score.ts', 'native/gp/gp.c']);
});

test('every source file a comment in src/ names exists', () => {
  const missing: string[] = [];
  for (const f of sourceFiles(SRC)) for (const p of commentPaths(readFileSync(f, 'utf8'))) if (!exists(f, p)) missing.push(`${rel(SRC, f)}: ${p}`);
  assert.deepEqual(missing, []);
});

test("every file of the repository the README names exists", () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const named = [...readme.matchAll(/(?<![\w./-])((?:src|scripts|test|examples|native)\/[\w./-]*[\w-]\.\w+)/g)].map((m) => m[1]);
  assert.ok(named.length > 10);
  assert.deepEqual(
    [...new Set(named)].filter((p) => !existsSync(join(REPO, p))),
    [],
  );
});
