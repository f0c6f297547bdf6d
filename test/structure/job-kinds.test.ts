/**
 * The job kinds live in src/jobs/ alone: no other source file names one (as a `kind` value, a `case`, or a key prefix
 * such as `train-…`), so adding or changing a kind is a change in that folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JOB_KINDS } from '../../src/jobs/index.js';
import { rel, sourceFiles } from '../helpers/imports.js';
import { REPO } from '../helpers/shared.js';

const SRC = join(REPO, 'src');
const KINDS = Object.keys(JOB_KINDS);

/** The places in `text` that name a job kind: `kind: 'train'`, `kind === 'score'`, `case 'table-cell':`, `` `score-${…}` ``. */
function kindMentions(text: string): string[] {
  const out: string[] = [];
  for (const k of KINDS) {
    const q = `['"\`]${k.replace(/-/g, '\\-')}`;
    const patterns = [new RegExp(`\\bkind\\s*(?:===|!==|==|!=|:)\\s*${q}['"\`]`, 'g'), new RegExp(`\\bcase\\s+${q}['"\`]\\s*:`, 'g'), new RegExp(`${q}-(?:\\$\\{|['"\`])`, 'g')];
    for (const p of patterns) for (const m of text.matchAll(p)) out.push(m[0]);
  }
  return out;
}

test('the scan finds every kind where the kinds are defined (it can fail)', () => {
  const inJobs = sourceFiles(join(SRC, 'jobs'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  for (const k of KINDS) assert.ok(kindMentions(inJobs).some((m) => m.includes(`${k}`)), `kind '${k}' not found in src/jobs`);
  assert.deepEqual(kindMentions("if (job.kind === 'train') return `score-${h}`;").sort(), ['`score-${', "kind === 'train'"]);
});

test('no module outside src/jobs/ names a job kind', () => {
  const found: string[] = [];
  for (const f of sourceFiles(SRC)) {
    if (rel(SRC, f).startsWith('jobs/')) continue;
    for (const m of kindMentions(readFileSync(f, 'utf8'))) found.push(`${rel(SRC, f)}: ${m}`);
  }
  assert.deepEqual(found, []);
});
