import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES, REPO } from '../helpers/shared.js';

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'cli', 'main.ts'), ...args], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('robot-nas proxies --fixture DIR --json: table, then the metrics as JSON on the last line', () => {
  const r = cli('proxies', '--fixture', join(FIXTURES, 'nb201-c8n1-gauss-d'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const json = JSON.parse(lines[lines.length - 1]) as Record<string, number>;
  assert.deepEqual(Object.keys(json), ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov', 'naswot']);
  assert.ok(Math.abs(json.naswot - 80.11990813517535) < 1e-6);
  assert.match(r.stdout, /metric\s+value\s+reference\s+rel\. error/);
  assert.match(r.stdout, /ln\(synflow\) = 12\.379/);
});

test('robot-nas proxies: a missing fixture folder is a usage error (exit 2, message naming it)', () => {
  const r = cli('proxies', '--fixture', join(FIXTURES, 'no-such-fixture'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no-such-fixture: not a fixture folder/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
});
