import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../helpers/shared.js';

test("the README's library example runs against the built package and finds a top architecture", () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'examples', 'robot-nb201.ts')], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^pool 9445, queried 20 architectures \(T0 = \d+\), cost \d+ s$/m);
  const m = /test (\d+\.\d+)/.exec(r.stdout);
  assert.ok(m && Number(m[1]) > 93, r.stdout);
  assert.match(r.stdout, /best \|[a-z_0-9]+~0\|\+/);
});
