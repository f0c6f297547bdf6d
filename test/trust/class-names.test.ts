/**
 * Issue 18, class 2 — folder classes are matched by name, never by position: against the model card's class names in
 * `predict --dataset folder` (test and train splits), and against the training split's names for a folder's test
 * split in `train`. A missing class is allowed and said; an unknown one is exit 2 naming it and its folder.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDirs } from '../helpers/tmp.js';
import { writeClassFolders } from '../helpers/images.js';

const tmp = tempDirs('robot-nas-trust-classes-');
const ARCH = '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
const CLASSES = ['0-tshirt', '1-trouser', '2-pullover'];
const colour = (name: string): number => CLASSES.indexOf(name);
const TRAIN = ['train', '--arch', ARCH, '--dataset', 'folder', '--channels', '4', '--epochs', '1', '--batch-size', '8'];

let base = '';
let data = '';
let model = '';

before(() => {
  base = tmp();
  data = join(base, 'fashion');
  writeClassFolders(join(data, 'train'), CLASSES, 10, 8, colour);
  // the test folder has no 1-trouser
  writeClassFolders(join(data, 'test'), ['0-tshirt', '2-pullover'], 4, 8, colour);
  model = join(base, 'model');
  const r = runCli([...TRAIN, '--data', data, '--save', model]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /fashion\/test: no images of class '1-trouser'/);
});

/** Lines of `predict` output: [name, predicted, label]. */
function rows(stdout: string): { name: string; label: string }[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => / label /.test(l))
    .map((l) => {
      const m = /^(\S+)\s+\S+\s+p \S+\s+label (\S+)/.exec(l);
      assert.ok(m, l);
      return { name: m[1]!, label: m[2]! };
    });
}

test('a test folder without one class: every image is labelled by its own folder name, and the missing class is said', () => {
  const r = runCli(['predict', '--model', model, '--dataset', 'folder', '--split', 'test']);
  assert.equal(r.code, 0, r.stderr);
  const rs = rows(r.stdout);
  assert.equal(rs.length, 8);
  for (const x of rs) assert.equal(x.label, x.name.split('/').at(-2), `${x.name} labelled ${x.label}`);
  assert.ok(rs.some((x) => x.label === '2-pullover'), 'test/2-pullover is labelled 2-pullover, not 1-trouser');
  assert.match(r.stderr, /note: .*test: no images of class '1-trouser'/);
});

test('a renamed class is exit 2 naming it and its folder, in predict and in train', () => {
  const d = join(tmp(), 'renamed');
  cpSync(data, d, { recursive: true });
  renameSync(join(d, 'test', '2-pullover'), join(d, 'test', '3-dress'));
  const p = runCli(['predict', '--model', model, '--dataset', 'folder', '--data', d, '--split', 'test']);
  assert.equal(p.code, 2, p.stdout + p.stderr);
  assert.match(p.stderr, /renamed\/test: class '3-dress' not among the training classes \(0-tshirt, 1-trouser, 2-pullover\)/);
  const t = runCli([...TRAIN, '--data', d]);
  assert.equal(t.code, 2, t.stderr);
  assert.match(t.stderr, /renamed\/test: class '3-dress' not among the training classes/);
  assert.doesNotMatch(t.stderr, /epoch 1/, 'refused before training');
});

test('predict on another folder holding 3 of 4 classes labels by name (not 33 % with shifted labels); an extra class is exit 2', () => {
  const b = tmp();
  const four = ['ant', 'bee', 'cat', 'dog'];
  const d4 = join(b, 'four');
  writeClassFolders(join(d4, 'train'), four, 8, 8);
  writeClassFolders(join(d4, 'test'), four, 2, 8);
  const m4 = join(b, 'm4');
  assert.equal(runCli([...TRAIN, '--data', d4, '--save', m4]).code, 0);
  const other = join(b, 'other');
  writeClassFolders(other, ['bee', 'cat', 'dog'], 3, 8, (n) => four.indexOf(n));
  const r = runCli(['predict', '--model', m4, '--dataset', 'folder', '--data', other, '--split', 'train']);
  assert.equal(r.code, 0, r.stderr);
  const rs = rows(r.stdout);
  assert.equal(rs.length, 9);
  for (const x of rs) assert.equal(x.label, x.name.split('/').at(-2));
  assert.match(r.stderr, /other: no images of class 'ant'/);
  const extra = join(b, 'extra');
  writeClassFolders(extra, ['ant', 'bee', 'cat', 'dog', 'emu'], 2, 8);
  const e = runCli(['predict', '--model', m4, '--dataset', 'folder', '--data', extra, '--split', 'train']);
  assert.equal(e.code, 2);
  assert.match(e.stderr, /extra: class 'emu' not among the training classes \(ant, bee, cat, dog\)/);
});

test('the train split of a folder is checked against the model the same way', () => {
  const d = join(tmp(), 'moved');
  cpSync(data, d, { recursive: true });
  renameSync(join(d, 'train', '1-trouser'), join(d, 'train', '1-jeans'));
  const r = runCli(['predict', '--model', model, '--dataset', 'folder', '--data', d, '--split', 'train']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /moved\/train: class '1-jeans' not among the training classes/);
});

test('--split valid rebuilds the model\'s validation split only from its own images and classes, otherwise exit 2', () => {
  // the same images in another place: the same split, accepted
  const same = join(tmp(), 'same');
  cpSync(data, same, { recursive: true });
  const ok = runCli(['predict', '--model', model, '--dataset', 'folder', '--data', same, '--split', 'valid']);
  assert.equal(ok.code, 0, ok.stderr);
  // a class fewer: its labels would shift by position
  const fewer = join(tmp(), 'fewer');
  cpSync(data, fewer, { recursive: true });
  rmSync(join(fewer, 'train', '1-trouser'), { recursive: true });
  const f = runCli(['predict', '--model', model, '--dataset', 'folder', '--data', fewer, '--split', 'valid']);
  assert.equal(f.code, 2, f.stdout + f.stderr);
  assert.match(f.stderr, /--split valid: folder \(.*fewer\) has classes '0-tshirt', '2-pullover', the model '0-tshirt', '1-trouser', '2-pullover'/);
  // one image more: the seeded split moves, and training images could be scored as validation ones
  const more = join(tmp(), 'more');
  cpSync(data, more, { recursive: true });
  const cls = join(more, 'train', '0-tshirt');
  cpSync(join(cls, readdirSync(cls).sort()[0]!), join(cls, 'zz-extra.png'));
  const m = runCli(['predict', '--model', model, '--dataset', 'folder', '--data', more, '--split', 'valid']);
  assert.equal(m.code, 2, m.stdout + m.stderr);
  assert.match(m.stderr, /--split valid: folder \(.*more\) holds other images than the model was trained on \(the data changed: fingerprint [0-9a-f]{16} → [0-9a-f]{16}\)/);
});
