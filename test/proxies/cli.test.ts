import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES, REPO } from '../helpers/shared.js';

function cliWith(env: NodeJS.ProcessEnv, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'cli', 'main.ts'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ROBOT_NAS_KERNELS: '', ROBOT_NAS_ENGINE: '', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cli = (...args: string[]): ReturnType<typeof cliWith> => cliWith({}, ...args);

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

test('robot-nas proxies: the kernel backend is chosen by ROBOT_NAS_KERNELS (or its former name ROBOT_NAS_ENGINE), with the same --json bits', () => {
  const fixture = join(FIXTURES, 'nb201-c8n1-gauss-d');
  const auto = cli('proxies', '--fixture', fixture, '--json');
  assert.equal(auto.status, 0, auto.stderr);
  for (const env of [{ ROBOT_NAS_KERNELS: 'wasm' }, { ROBOT_NAS_ENGINE: 'wasm' }]) {
    const r = cliWith(env, 'proxies', '--fixture', fixture, '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.split('\n')[0], /\(wasm kernels, \d+ threads?, /);
    assert.equal(r.stdout.trim().split('\n').pop(), auto.stdout.trim().split('\n').pop(), `${JSON.stringify(env)}: other bits than the default kernels`);
    assert.equal(r.stderr, '', 'wasm was asked for: no fallback note');
  }
});

test('robot-nas proxies: a bad ROBOT_NAS_KERNELS is a usage error naming the variable', () => {
  const r = cliWith({ ROBOT_NAS_KERNELS: 'gpu' }, 'proxies', '--fixture', join(FIXTURES, 'nb201-c8n1-gauss-d'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /ROBOT_NAS_KERNELS must be native, wasm or auto, got 'gpu'/);
  assert.equal(r.stdout, '');
});
