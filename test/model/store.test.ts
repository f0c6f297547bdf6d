import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE, SAMPLES_FILE, WEIGHTS_FILE } from '../../src/model/card.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';
import { checkModelDestination, loadModel, saveModel, type ModelToSave } from '../../src/model/store.js';
import { InputError, SettingError } from '../../src/util/errors.js';
import { ALL_OPS_CELL, ALL_OPS_GENOTYPE, randomModel, realImages } from '../export/helpers.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-store-');

function toSave(space: 'nb201' | 'darts'): ModelToSave {
  const spec = space === 'nb201'
    ? { space, arch: ALL_OPS_CELL, channels: 4, cells: 1, classes: 10, inputShape: [1, 28, 28] as [number, number, number] }
    : { space, arch: ALL_OPS_GENOTYPE, channels: 2, cells: 4, classes: 10, inputShape: [1, 28, 28] as [number, number, number] };
  const m = randomModel(spec, 5);
  const real = realImages('mnist', 40);
  return {
    ...spec,
    classNames: real.classNames,
    mean: [0.1307],
    std: [0.3081],
    params: m.params,
    running: m.running,
    samples: { images: real.images, labels: real.labels },
    training: null,
    accuracies: { train: 50, validation: 40.5, test: null },
  };
}

const rejects = (fn: () => unknown, file: string, re: RegExp): void =>
  assert.throws(fn, (e: unknown) => e instanceof InputError && e.message.startsWith(`${file}: `) && re.test(e.message), `expected ${file}: ${re}`);

for (const space of ['nb201', 'darts'] as const) {
  test(`model folder (${space}): save → load gives back the card, every weight, the running statistics and the samples`, () => {
    const s = toSave(space);
    const dir = join(tmp(), 'm');
    const card = saveModel(dir, s);
    assert.deepEqual(readdirSync(dir).sort(), [MANIFEST_FILE, SAMPLES_FILE, WEIGHTS_FILE].sort());
    const m = loadModel(dir);
    assert.deepEqual(m.card, card);
    assert.equal(m.card.formatVersion, 1);
    assert.equal(m.card.preprocessing.colour, 'grey');
    for (const p of m.net.params) assert.deepEqual(m.params.get(p.name), s.params.get(p.name), p.name);
    for (const bn of m.net.batchNorms) assert.deepEqual(m.running.get(bn.name), s.running.get(bn.name), bn.name);
    // 16 class-balanced samples of the 40 given (4 per digit, sorted by digit): digits 0..9 then 0..5.
    assert.equal(m.samples.count, 16);
    assert.deepEqual([...new Set(m.samples.labels)].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const weights = decodeSafetensors(readFileSync(join(dir, WEIGHTS_FILE)), 'w');
    assert.ok(weights.tensors.has(`${m.net.batchNorms[0].name}.running_var`));
    // Saving again over a model folder replaces it atomically (no temporary folders left behind).
    saveModel(dir, { ...s, accuracies: { train: null, validation: 99, test: 98 } });
    assert.equal(loadModel(dir).card.accuracies.validation, 99);
    assert.deepEqual(readdirSync(join(dir, '..')), ['m']);
  });
}

test('model folder: missing or corrupt files and fields are InputErrors naming the file', () => {
  const base = tmp();
  const fresh = (): string => {
    const dir = join(base, `m${readdirSync(base).length}`);
    saveModel(dir, toSave('nb201'));
    return dir;
  };
  const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
  const rewrite = (dir: string, f: (j: Record<string, any>) => void): void => {
    const j = manifest(dir);
    f(j);
    writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(j));
  };
  rejects(() => loadModel(join(base, 'nope')), join(base, 'nope'), /model folder not found/);
  let d = fresh();
  rmSync(join(d, MANIFEST_FILE));
  rejects(() => loadModel(d), join(d, MANIFEST_FILE), /missing: not a robot-nas model folder/);
  d = fresh();
  writeFileSync(join(d, MANIFEST_FILE), '{"format": "robot-nas-model",');
  rejects(() => loadModel(d), join(d, MANIFEST_FILE), /not valid JSON/);
  d = fresh();
  rewrite(d, (j) => (j.formatVersion = 2));
  rejects(() => loadModel(d), join(d, MANIFEST_FILE), /format version 2 is not supported .* upgrade robot-nas/);
  d = fresh();
  rewrite(d, (j) => delete j.network.channels);
  rejects(() => loadModel(d), join(d, MANIFEST_FILE), /field 'network\.channels' must be an integer ≥ 1; it is missing/);
  d = fresh();
  rewrite(d, (j) => (j.preprocessing.std = [0]));
  rejects(() => loadModel(d), join(d, MANIFEST_FILE), /field 'preprocessing\.std' must be a list of 1 positive numbers/);
  d = fresh();
  rewrite(d, (j) => (j.arch = '|bogus~0|'));
  rejects(() => loadModel(d), join(d, MANIFEST_FILE), /cannot be built: not a nb201 architecture/);
  d = fresh();
  rewrite(d, (j) => (j.network.channels = 8));
  rejects(() => loadModel(d), join(d, MANIFEST_FILE), /field 'network\.params' is \d+, but the network it describes has \d+ parameters/);
  d = fresh();
  rmSync(join(d, WEIGHTS_FILE));
  rejects(() => loadModel(d), join(d, WEIGHTS_FILE), /missing \(listed in manifest\.json\)/);
  d = fresh();
  writeFileSync(join(d, WEIGHTS_FILE), readFileSync(join(d, WEIGHTS_FILE)).subarray(0, 100));
  rejects(() => loadModel(d), join(d, WEIGHTS_FILE), /100 bytes, manifest\.json says \d+ \(truncated or replaced\)/);
  d = fresh();
  const w = readFileSync(join(d, WEIGHTS_FILE));
  w[w.length - 1] ^= 0xff;
  writeFileSync(join(d, WEIGHTS_FILE), w);
  rejects(() => loadModel(d), join(d, WEIGHTS_FILE), /does not match the SHA-256/);
  // A consistent but wrong weights file (checksum updated): the tensor the network needs is named.
  d = fresh();
  const t = decodeSafetensors(readFileSync(join(d, WEIGHTS_FILE)), 'w').tensors;
  t.delete('classifier.bias');
  const bytes = encodeSafetensors(t);
  writeFileSync(join(d, WEIGHTS_FILE), bytes);
  rewrite(d, (j) => (j.files.weights = { path: WEIGHTS_FILE, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }));
  rejects(() => loadModel(d), join(d, WEIGHTS_FILE), /tensor "classifier\.bias" is missing/);
  d = fresh();
  rmSync(join(d, SAMPLES_FILE));
  rejects(() => loadModel(d), join(d, SAMPLES_FILE), /missing/);
});

test('saveModel refuses non-finite weights and wrong sample shapes', () => {
  const s = toSave('nb201');
  const bad = new Map(s.params);
  bad.set('classifier.weight', Float32Array.of(NaN, ...bad.get('classifier.weight')!.subarray(1)));
  assert.throws(() => saveModel(join(tmp(), 'x'), { ...s, params: bad }), /classifier\.weight has non-finite values/);
  assert.throws(() => saveModel(join(tmp(), 'x'), { ...s, samples: { images: new Float32Array(10), labels: null } }), /samples must hold at least one 1×28×28 image/);
});

test('model folder destinations are checked before any work: files, non-model folders and unwritable places are refused', () => {
  const base = tmp();
  const setting = (re: RegExp) => (e: unknown) => e instanceof SettingError && e.setting === 'save' && re.test(e.detail);
  writeFileSync(join(base, 'file.txt'), 'x');
  assert.throws(() => checkModelDestination(join(base, 'file.txt')), setting(/file\.txt is a file; expected a folder/));
  assert.throws(() => checkModelDestination(join(base, 'file.txt', 'model')), setting(/file\.txt is a file, so no folder can be created under it/));
  mkdirSync(join(base, 'stuff'));
  writeFileSync(join(base, 'stuff', 'notes.md'), 'mine');
  assert.throws(() => checkModelDestination(join(base, 'stuff')), setting(/stuff is not a model folder of robot-nas: it holds no manifest\.json/));
  assert.throws(() => checkModelDestination(join(base, 'stuff'), 'out'), (e: unknown) => e instanceof SettingError && e.setting === 'out');
  const model = join(base, 'model');
  saveModel(model, toSave('nb201'));
  checkModelDestination(model);
  checkModelDestination(join(base, 'new', 'deeper', 'model'));
  assert.ok(!existsSync(join(base, 'new')), 'checking creates nothing');
  assert.deepEqual(readdirSync(base).sort(), ['file.txt', 'model', 'stuff'], 'no probe files left');
});
