/**
 * The kernel backends as a user meets them: an installation without the native addon (no C compiler at `npm ci`) runs
 * on the WebAssembly kernels, says why in one line on stderr, and computes the same numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, REPO } from '../helpers/shared.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-kernels-');

/** The package as `npm ci` leaves it without a compiler: built JavaScript and native/kernels.wasm, no build/ folder. */
function installWithoutAddon(): string {
  const dir = tmp();
  for (const f of ['package.json', 'bin', 'dist']) cpSync(join(REPO, f), join(dir, f), { recursive: true });
  mkdirSync(join(dir, 'native'));
  cpSync(join(REPO, 'native', 'kernels.wasm'), join(dir, 'native', 'kernels.wasm'));
  cpSync(join(REPO, 'native', 'gp.wasm'), join(dir, 'native', 'gp.wasm'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function run(dir: string, env: NodeJS.ProcessEnv, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(dir, 'bin', 'robot-nas.js'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ROBOT_NAS_KERNELS: '', ROBOT_NAS_ENGINE: '', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('without the native addon: the WebAssembly kernels, one line on stderr saying why, the same --json bits', () => {
  const dir = installWithoutAddon();
  const args = ['proxies', '--fixture', join(FIXTURES, 'nb201-c8n1-gauss-d'), '--json'];
  const r = run(dir, {}, args);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^robot-nas: using the WebAssembly kernels \(slower, same results\): .*robot_nas_native\.node is not built \(npm run build:native\)\n$/);
  assert.match(r.stdout.split('\n')[0], /\(wasm kernels, /);
  const here = run(REPO, {}, args);
  assert.equal(here.status, 0, here.stderr);
  assert.equal(r.stdout.trim().split('\n').pop(), here.stdout.trim().split('\n').pop());
  // Asking for wasm is not a fallback: nothing to say. Asking for native is an error naming the missing file.
  assert.equal(run(dir, { ROBOT_NAS_KERNELS: 'wasm' }, args).stderr, '');
  const native = run(dir, { ROBOT_NAS_KERNELS: 'native' }, args);
  assert.equal(native.status, 2);
  assert.match(native.stderr, /native kernels: .*robot_nas_native\.node is not built/);
});
