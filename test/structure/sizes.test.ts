/**
 * Small modules with one job each: no source file is longer than MAX_LINES unless its opening comment says why, on a
 * line starting `Long file:` (e.g. ` * Long file: a port of … kept in one piece so that …`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rel, sourceFiles } from '../helpers/imports.js';
import { REPO } from '../helpers/shared.js';

const SRC = join(REPO, 'src');
export const MAX_LINES = 450;

const LONG_REASON = /^\s*(?:\/\/|\/?\*+)\s*Long file:\s*\w/m;

function lines(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** The leading comment block(s) of a file: its header. */
function header(text: string): string {
  const m = /^(?:\s*(?:\/\*[\s\S]*?\*\/|\/\/[^\n]*))+/.exec(text);
  return m ? m[0] : '';
}

test('a reason is only read from the opening comment', () => {
  assert.ok(LONG_REASON.test(header('/**\n * Parses X.\n *\n * Long file: one state machine.\n */\nimport x;')));
  assert.ok(!LONG_REASON.test(header('import x;\n// Long file: too late')));
  assert.ok(!LONG_REASON.test(header('/** Long file: */\n')));
});

test(`no source file is longer than ${MAX_LINES} lines unless it says why`, () => {
  const long: string[] = [];
  for (const f of sourceFiles(SRC)) {
    const text = readFileSync(f, 'utf8');
    const n = lines(text);
    const path = rel(SRC, f);
    if (n > MAX_LINES && !LONG_REASON.test(header(text))) long.push(`${path}: ${n} lines`);
  }
  assert.deepEqual(long, [], `split these files, or say why in their opening comment ('Long file: …')`);
});
