/**
 * A training that diverges is said so: `train` prints it, a search records `diverged: true` (and why) in
 * queries.jsonl and result.json and names the queries in its summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-diverged-');
const TINY = ['--pool', '3', '--budget', '2', '--epochs', '1', '--channels', '4', '--train-limit', '64', '--valid-limit', '32', '--score-batch', '16', '--parallel', '0', '--seed', '4'];

test('a search whose trainings blow up records and reports them as diverged', () => {
  const d = tmp();
  const out = join(d, 'run');
  const r = runCli(['search', ...TINY, '--lr', '1000', '--method', 'rs', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(join(out, 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { diverged: boolean; details: { divergence?: string; trainLoss: number | null } });
  assert.equal(lines.length, 2);
  for (const l of lines) {
    assert.equal(l.diverged, true, JSON.stringify(l));
    assert.match(l.details.divergence ?? '', /^(non-finite loss|loss above bound)$/);
    // the flag is true whenever the loss is not finite or above the bound (10·ln 10 ≈ 23)
    assert.ok(l.details.trainLoss === null || l.details.trainLoss > 23);
  }
  const res = JSON.parse(r.stdout) as { diverged: { query: number; reason: string }[] };
  assert.deepEqual(res.diverged.map((x) => x.query), [1, 2]);
  assert.match(r.stderr, /query 1\/2 .*\(diverged: /);
  const again = runCli(['search', ...TINY, '--lr', '1000', '--method', 'rs', '--out', out]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^diverged\s+2 of 2 trainings: query 1 \(/m);
});

test('train says when the training diverged', () => {
  const r = runCli(['train', '--arch', '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|', '--channels', '4', '--train-limit', '64', '--valid-limit', '32', '--epochs', '1', '--lr', '1000']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^diverged\s+yes — (non-finite loss|loss above bound)/m);
});
