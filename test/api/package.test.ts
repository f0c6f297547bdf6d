/**
 * What `npm publish` would ship: every file the engine and the GP load at run time is in the package (a registry
 * install has no native/ folder of its own: without these the CLI could not start an engine).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASM_PATH } from '../../src/engine/kernels.js';
import { GP_WASM_PATH } from '../../src/gp/wasm.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

test('the packed package holds the WebAssembly modules the loaders read, and the CLI', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
  for (const path of [WASM_PATH, GP_WASM_PATH]) assert.ok(files.has(relative(REPO, path)), `${relative(REPO, path)} is not packed`);
  assert.ok(files.has('bin/robot-nas.js') && files.has('dist/cli/main.js'));
});
