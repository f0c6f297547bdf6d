/**
 * Errors come before the work: an impossible request, a bad output path or a refused run fails at once with
 * exit 2, names the flag the user typed, and leaves nothing behind that would block the corrected command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { runCli } from '../helpers/cli.js';
import { REPO } from '../helpers/shared.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-preflight-');

/** Tiny but real search settings (MNIST digits, C=4 cells, one epoch on 64 images). */
const TINY = ['--pool', '4', '--budget', '2', '--epochs', '1', '--channels', '4', '--train-limit', '64', '--valid-limit', '32', '--score-batch', '16', '--parallel', '0', '--seed', '3'];

function refused(args: string[], flag: RegExp): string {
  const r = runCli(args);
  assert.equal(r.code, 2, `exit code of ${args.join(' ')}: ${r.stderr}`);
  assert.match(r.stderr, flag, `message of ${args.join(' ')}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+|internal error/, 'no stack trace, no internal error');
  return r.stderr;
}

/**
 * Files anywhere under `dir` (to show that a refused run did no work). The image cache (`images-<key>/`, the
 * decoded dataset, reused by the corrected run) is not a result and may be there when the data was read.
 */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && !/(^|[\\/])images-[0-9a-f]{16}$/.test(d.parentPath ?? d.path))
    .map((d) => d.name);
}

test('impossible budgets and pools are refused before any scoring, naming the flag', () => {
  refused(['bench', '--benchmark', 'nb201', '--method', 'robot', '--budget', '10000', '--seeds', '1'], /--budget: 10000 distinct queries requested, but the nb201\/cifar10 pool has only 9445/);
  refused(['bench', '--benchmark', 'nb201', '--method', 'rs', '--budget', '10000', '--seeds', '1'], /--budget/);
  const d = tmp();
  refused(['search', ...TINY, '--pool', '5', '--budget', '9', '--out', join(d, 'run')], /--budget: 9 distinct queries requested, but the requested pool has only 5 architectures/);
  refused(['search', ...TINY, '--pool', '20000', '--out', join(d, 'run')], /--pool: 20000 architectures requested, but the nb201 space has only 15625/);
  const msg = refused(['search', ...TINY, '--pool', '20000', '--out', join(d, 'run')], /--pool/);
  assert.doesNotMatch(msg, /--archs/, 'search has no --archs flag');
  refused(['search', ...TINY, '--pool', '1e2', '--out', join(d, 'run')], /--pool/);
  refused(['search', ...TINY, '--space', 'darts', '--pool', 'all', '--out', join(d, 'run')], /--pool: all: the darts space/);
  refused(['search', ...TINY, '--train-limit', '8', '--score-batch', '16', '--out', join(d, 'run')], /--score-batch: 16 images per scoring batch, but the training split has only 8/);
  assert.deepEqual(filesUnder(d), [], 'nothing was scored or written');
});

test('the learning rate, seeds and lists are checked by one rule per kind, on every command', () => {
  const d = tmp();
  refused(['search', ...TINY, '--lr', '0.0001', '--out', join(d, 'run')], /--lr: .*anneals the learning rate down to 0\.001.*got 0\.0001/);
  refused(['train', '--arch', '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|', '--lr', '0.0001'], /--lr: /);
  for (const args of [
    ['search', '--seed', '-1'],
    ['train', '--arch', '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|', '--seed', '-1'],
    ['proxies', '--space', 'nb201', '--dataset', 'cifar10-1k', '--out', join(d, 'p.csv'), '--seed', '-1'],
    ['bench', '--benchmark', 'nb201', '--seeds', '-1'],
    ['table', 'nb201', '--seeds', '-3'],
  ]) {
    refused(args, /seed/);
  }
  refused(['search', '--metrics', '', '--out', join(d, 'run')], /--metrics/);
  refused(['bench', '--benchmark', 'nb201', '--metrics', ''], /--metrics/);
  refused(['proxies', '--space', 'nb201', '--dataset', 'cifar10-1k', '--out', join(d, 'p.csv'), '--metrics', ' , '], /--metrics/);
  assert.deepEqual(filesUnder(d), []);
});

test('--objective is refused where the benchmark has only one objective', () => {
  refused(['bench', '--benchmark', 'tnb101-micro', '--objective', 'task'], /--objective: applies to nb201 only/);
  refused(['bench', '--benchmark', 'tnb101-macro', '--objective', 'paper'], /--objective/);
});

test('a dataset with a single class is refused before anything is trained', () => {
  const d = tmp();
  const data = join(d, 'one-class', 'cats');
  mkdirSync(data, { recursive: true });
  for (let i = 0; i < 6; i++) {
    const png = new pngjs.PNG({ width: 8, height: 8 });
    png.data.fill(40 * i);
    writeFileSync(join(data, `${i}.png`), pngjs.PNG.sync.write(png));
  }
  refused(['search', ...TINY, '--dataset', 'folder', '--data', join(d, 'one-class'), '--out', join(d, 'run')], /1 class; a classifier needs at least 2/);
  refused(['train', '--arch', '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|', '--dataset', 'folder', '--data', join(d, 'one-class')], /at least 2/);
});

test('output paths are checked before the work: files, folders, empty and unwritable paths', () => {
  const d = tmp();
  const file = join(d, 'a-file');
  writeFileSync(file, 'x');
  const arch = '|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|none~2|';
  refused(['search', ...TINY, '--out', file], /--out: .*a-file is a file; expected a folder/);
  refused(['search', ...TINY, '--out', ''], /--out: expected a folder path, got an empty string/);
  refused(['search', ...TINY, '--out', join(file, 'below')], /--out: .*a-file is a file, so no folder can be created under it/);
  refused(['search', ...TINY, '--out', '/proc/robot-nas-out'], /--out: .*cannot write in \/proc/);
  refused(['search', ...TINY, '--out', join(d, 'run'), '--cache', d], /--cache: .* is a folder; expected a file/);
  refused(['search', ...TINY, '--out', join(d, 'run'), '--cache', ''], /--cache: expected a file path/);
  const t = refused(['train', '--arch', arch, '--train-limit', '32', '--epochs', '1', '--out', d], /--out: .* is a folder; expected a file/);
  assert.doesNotMatch(t, /epoch 1/, 'refused before training');
  refused(['table', 'nb201', '--out', file], /--out: .*is a file/);
  refused(['proxies', '--space', 'nb201', '--dataset', 'cifar10-1k', '--archs', '2', '--out', d], /--out: .*is a folder/);
  assert.deepEqual(readdirSync(d), ['a-file'], 'nothing else was created');
});

test('a refused search leaves nothing that blocks the corrected command', () => {
  const d = tmp();
  const out = join(d, 'run');
  refused(['search', ...TINY, '--budget', '7', '--out', out], /--budget/);
  assert.ok(!existsSync(join(out, 'settings.json')), 'no settings.json from a refused run');
  const ok = runCli(['search', ...TINY, '--out', out]);
  assert.equal(ok.code, 0, ok.stderr);
  const settings = JSON.parse(readFileSync(join(out, 'settings.json'), 'utf8')) as { budget: number };
  assert.equal(settings.budget, 2);
  // Another setting into the same folder is refused with the difference named, and changes nothing there.
  const before = readFileSync(join(out, 'settings.json'), 'utf8');
  refused(['search', ...TINY, '--budget', '3', '--out', out], /run holds a search with other settings — budget 2 → 3\. Use another --out/);
  assert.equal(readFileSync(join(out, 'settings.json'), 'utf8'), before);
});

test('closing the pipe ends quietly; --version prints the package version', () => {
  const cli = join(REPO, 'bin', 'robot-nas.js');
  for (const cmd of [
    `"${process.execPath}" "${cli}" bench --benchmark nb201 --seeds 10-12 --json | head -c 10`,
    `"${process.execPath}" "${cli}" bench --benchmark tnb101-micro --seeds 10 --budget 5 | head -1`,
  ]) {
    const r = spawnSync('sh', ['-c', `${cmd}; echo " status=$?"`], { encoding: 'utf8', cwd: REPO });
    assert.equal(r.stderr, '', `${cmd}: stderr must stay empty, got ${r.stderr}`);
    assert.match(r.stdout, /status=0/);
  }
  const v = runCli(['--version']);
  assert.equal(v.code, 0);
  assert.equal(v.stdout.trim(), (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
});

test('a table without a final-metric column says that the objective is reported instead', () => {
  const d = tmp();
  const f = join(d, 'no-final.csv');
  writeFileSync(
    f,
    'arch,valid_acc,m1\n' +
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|,90.1,1\n' +
      '|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|,80.2,2\n' +
      '|none~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|,70.3,3\n',
  );
  const r = runCli(['bench', '--table', f, '--method', 'rs', '--budget', '2', '--seeds', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /final valid_acc \(.*no-final\.csv has no final-metric column \(test_acc, testacc, test_accuracy\): the objective valid_acc is reported instead\)/);
});
