/**
 * The user's formats end to end through the CLI: a search on idx files, `train` on an npz archive with the test
 * part, per-class accuracy and a confusion matrix, and the grey 28×28 input kept as 1×28×28.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { int64, npyBytes, writeIdx, writeZip } from '../helpers/arrays-writer.js';
import { tempDir } from '../data/util.js';

/** n 28×28 images of `classes` classes: class k is a bright bar at row 4k+2, plus noise; labels cycle. */
function bars(n: number, classes: number, seed: number): { x: Uint8Array; y: number[] } {
  let s = seed;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 63;
  const x = new Uint8Array(n * 784);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    // uneven classes: class 0 twice as often
    const k = i % (classes + 1) === classes ? 0 : i % (classes + 1);
    y.push(k);
    for (let p = 0; p < 784; p++) x[i * 784 + p] = rnd() + (Math.floor(p / 28) >= 4 * k + 2 && Math.floor(p / 28) < 4 * k + 5 ? 180 : 0);
  }
  return { x, y };
}

test('search on MNIST-style idx files: 1×28×28 input, the next command runs with --data', () => {
  const dir = tempDir('cli-idx');
  const { x, y } = bars(120, 3, 1);
  writeIdx(join(dir, 'train-images-idx3-ubyte.gz'), [120, 28, 28], x);
  writeIdx(join(dir, 'train-labels-idx1-ubyte.gz'), [120], Uint8Array.from(y));
  const out = join(dir, 'run');
  const r = runCli(['search', '--dataset', 'idx', '--data', dir, '--pool', '3', '--budget', '2', '--epochs', '1', '--channels', '4', '--score-batch', '16', '--parallel', '0', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /data: idx 1×28×28, 3 classes — 96 train \/ 24 validation images/);
  assert.match(r.stdout, new RegExp(`next .* --dataset idx --data ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
  // the training split is imbalanced (class 0 twice as large): balanced and per-class accuracy are reported
  assert.match(r.stdout, /balanced accuracy\s+\d+\.\d\d % \(classes are imbalanced/);
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
  assert.deepEqual(result.data.shape, [1, 28, 28]);
  assert.equal(result.bestByClass.total.length, 3);
});

test('train on an npz archive: its test part, per-class accuracy, a confusion matrix (CSV and SVG), 1×28×28 kept', () => {
  const dir = tempDir('cli-npz');
  const tr = bars(90, 2, 2);
  const te = bars(30, 2, 3);
  const file = join(dir, 'data.npz');
  writeZip(
    file,
    {
      'x_train.npy': npyBytes('|u1', [90, 28, 28], tr.x),
      'y_train.npy': npyBytes('<i8', [90], int64(tr.y)),
      'x_test.npy': npyBytes('|u1', [30, 28, 28], te.x),
      'y_test.npy': npyBytes('<i8', [30], int64(te.y)),
    },
    true,
  );
  const conf = join(dir, 'conf');
  const r = runCli(['train', '--arch', '|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|nor_conv_1x1~0|skip_connect~1|none~2|', '--dataset', 'npz', '--data', file, '--epochs', '2', '--channels', '4', '--batch-size', '16', '--confusion', conf, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.data.shape, [1, 28, 28]);
  assert.equal(report.data.testCount, 30);
  assert.equal(report.perClass.test.total.reduce((a: number, b: number) => a + b, 0), 30);
  const csv = readFileSync(join(conf, 'confusion.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'true\\predicted,0,1');
  const cells = csv.slice(1).flatMap((l) => l.split(',').slice(1).map(Number));
  assert.equal(cells.reduce((a, b) => a + b, 0), 30);
  assert.ok(existsSync(join(conf, 'confusion.svg')));
  assert.match(readFileSync(join(conf, 'confusion.svg'), 'utf8'), /<svg/);
});
