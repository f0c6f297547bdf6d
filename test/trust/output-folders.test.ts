/**
 * Issue 18, class 1 — never delete a user's files: an output folder robot-nas replaces (`train --save`,
 * `search --train-best --save`, `export --out`) or writes into (`search --out`, `--cache`, `train --out`, `table --out`)
 * is replaced only when it is provably ours; anything else is exit 2 before any work, naming it, with nothing changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDirs } from '../helpers/tmp.js';
import { writeFolderAtomic } from '../../src/util/atomic.js';
import { checkReplaceable, type FolderOwner } from '../../src/util/owned-folder.js';
import { MODEL_FOLDER } from '../../src/model/store.js';
import { InputError } from '../../src/util/errors.js';

const tmp = tempDirs('robot-nas-trust-out-');
const ARCH = '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
const TINY_TRAIN = ['train', '--arch', ARCH, '--channels', '4', '--epochs', '1', '--train-limit', '64', '--valid-limit', '32', '--test-limit', '20'];

/** Every file under `dir` with its content, to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out[`${prefix}${e.name}`] = readFileSync(join(d, e.name), 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

function webApp(dir: string): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ name: 'my app', start_url: '/' }));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-app', version: '1.0.0' }));
  writeFileSync(join(dir, 'src', 'app.js'), 'console.log("hello");\n');
}

test('train --save into a web app holding a manifest.json: exit 2 before training, every file kept', () => {
  const w = join(tmp(), 'W');
  webApp(w);
  const before = snapshot(w);
  const r = runCli([...TINY_TRAIN, '--save', w]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--save: .*W is not a model folder of robot-nas: its manifest\.json is not a robot-nas model card/);
  assert.doesNotMatch(r.stderr, /epoch 1/, 'refused before any training');
  assert.deepEqual(snapshot(w), before);
});

test('train --save into a folder with manifest.json {} and notes.txt: refused, notes.txt kept', () => {
  const w = join(tmp(), 'W');
  mkdirSync(w);
  writeFileSync(join(w, 'manifest.json'), '{}');
  writeFileSync(join(w, 'notes.txt'), 'my notes');
  const r = runCli([...TINY_TRAIN, '--save', w]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /W is not a model folder of robot-nas/);
  assert.deepEqual(snapshot(w), { 'manifest.json': '{}', 'notes.txt': 'my notes' });
});

test('a previous model folder is replaced; with a file added or a file edited it is refused', () => {
  const base = tmp();
  const m = join(base, 'model');
  assert.equal(runCli([...TINY_TRAIN, '--save', m]).code, 0);
  const again = runCli([...TINY_TRAIN, '--seed', '1', '--save', m]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(readdirSync(m).sort(), ['manifest.json', 'samples.safetensors', 'weights.safetensors']);
  writeFileSync(join(m, 'notes.txt'), 'mine');
  const extra = runCli([...TINY_TRAIN, '--save', m]);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /it also holds 'notes\.txt', which robot-nas did not write/);
  assert.equal(readFileSync(join(m, 'notes.txt'), 'utf8'), 'mine');
  const m2 = join(base, 'model2');
  assert.equal(runCli([...TINY_TRAIN, '--save', m2]).code, 0);
  const w = readFileSync(join(m2, 'weights.safetensors'));
  w[w.length - 1] ^= 1;
  writeFileSync(join(m2, 'weights.safetensors'), w);
  const edited = runCli([...TINY_TRAIN, '--save', m2]);
  assert.equal(edited.code, 2);
  assert.match(edited.stderr, /'weights\.safetensors' was changed since robot-nas wrote it/);
});

test('export --out into a folder with sample-logits.json {}, thesis.tex and sub/data.csv: refused, nothing deleted; a previous export is replaced', () => {
  const base = tmp();
  const m = join(base, 'model');
  assert.equal(runCli([...TINY_TRAIN, '--save', m]).code, 0);
  const x = join(base, 'X');
  mkdirSync(join(x, 'sub'), { recursive: true });
  writeFileSync(join(x, 'sample-logits.json'), '{}');
  writeFileSync(join(x, 'thesis.tex'), '\\documentclass{article}');
  writeFileSync(join(x, 'sub', 'data.csv'), 'a,b\n1,2\n');
  const before = snapshot(x);
  const r = runCli(['export', '--model', m, '--format', 'onnx', '--out', x]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--out: .*X is not an export folder of robot-nas/);
  assert.deepEqual(snapshot(x), before);
  const e = join(base, 'E');
  assert.equal(runCli(['export', '--model', m, '--format', 'onnx', '--out', e]).code, 0);
  const replaced = runCli(['export', '--model', m, '--format', 'tfjs', '--out', e]);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.deepEqual(readdirSync(e).sort(), ['model.json', 'sample-input.bin', 'sample-logits.json', 'weights.bin']);
  writeFileSync(join(e, 'README.md'), 'my notes');
  const extra = runCli(['export', '--model', m, '--format', 'onnx', '--out', e]);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /it also holds 'README\.md'/);
  assert.ok(existsSync(join(e, 'README.md')));
});

test('search --out holding files of someone else, and --cache naming a file of someone else, are refused before any work', () => {
  const base = tmp();
  const out = join(base, 'mine');
  mkdirSync(out);
  writeFileSync(join(out, 'result.json'), '{"my":"result"}');
  const r = runCli(['search', '--pool', '3', '--budget', '2', '--channels', '4', '--train-limit', '64', '--valid-limit', '32', '--score-batch', '8', '--parallel', '0', '--out', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--out: .*mine is not a search folder of robot-nas: it holds result\.json but no settings\.json/);
  assert.doesNotMatch(r.stderr, /^data:/m, 'refused before the data is read');
  assert.deepEqual(snapshot(out), { 'result.json': '{"my":"result"}' });
  const notes = join(base, 'notes.txt');
  writeFileSync(notes, 'line one\nline two without newline');
  const c = runCli(['search', '--pool', '3', '--budget', '2', '--channels', '4', '--parallel', '0', '--out', join(base, 'run'), '--cache', notes]);
  assert.equal(c.code, 2, c.stderr);
  assert.match(c.stderr, /--cache: .*notes\.txt is not a robot-nas query cache/);
  assert.equal(readFileSync(notes, 'utf8'), 'line one\nline two without newline', 'the last line is not cut');
});

test('train --out naming a file of someone else is refused before training', () => {
  const f = join(tmp(), 'report.json');
  writeFileSync(f, '{"mine": true}');
  const r = runCli([...TINY_TRAIN, '--out', f]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--out: .*report\.json exists and is not a training report of robot-nas/);
  assert.equal(readFileSync(f, 'utf8'), '{"mine": true}');
});

test('writeFolderAtomic checks ownership again at the moment of replacing (a file added during the work is kept)', () => {
  const dir = join(tmp(), 'model');
  const owner: FolderOwner = MODEL_FOLDER;
  checkReplaceable(dir, 'save', owner);
  mkdirSync(dir);
  writeFileSync(join(dir, 'added-meanwhile.txt'), 'keep');
  assert.throws(
    () => writeFolderAtomic(dir, new Map([['manifest.json', '{}']]), owner),
    (e: unknown) => e instanceof InputError && /model is not a model folder of robot-nas: it holds no manifest\.json/.test(e.message),
  );
  assert.deepEqual(readdirSync(dir), ['added-meanwhile.txt']);
  assert.deepEqual(readdirSync(join(dir, '..')).sort(), ['model'], 'no temporary folder left');
});
