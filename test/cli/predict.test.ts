import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { loadDataset } from '../../src/data/index.js';
import { loadModel } from '../../src/model/store.js';
import { predict } from '../../src/train/step.js';
import { runCli } from '../helpers/cli.js';
import { tempDirs } from '../helpers/tmp.js';
import { ALL_OPS_CELL, ALL_OPS_GENOTYPE, maxAbsDiff } from '../export/helpers.js';

const tmp = tempDirs('robot-nas-predict-');
// Tiny but real: MNIST digits, one epoch on 96 images.
const TINY = ['--dataset', 'mnist', '--epochs', '1', '--train-limit', '96', '--valid-limit', '40', '--test-limit', '60', '--batch-size', '32', '--seed', '3'];

interface Report {
  validAccuracy: number;
  testAccuracy: number;
  model: string | null;
}
interface Prediction {
  inputs: string[];
  predictions: { class: number; name: string; probability: number }[];
  logits: number[][];
  labels?: number[];
  accuracy?: number;
}

const trained = new Map<string, { dir: string; report: Report }>();

/** One training per space for the whole file (the tests only read the model folder). */
function trainSaved(space: 'nb201' | 'darts'): { dir: string; report: Report } {
  const done = trained.get(space);
  if (done) return done;
  const base = tmp();
  const dir = join(base, 'model');
  const size = space === 'nb201' ? ['--arch', ALL_OPS_CELL, '--channels', '4', '--cells', '1'] : ['--space', 'darts', '--arch', ALL_OPS_GENOTYPE, '--channels', '2', '--cells', '4'];
  const r = runCli(['train', ...size, ...TINY, '--save', dir, '--out', join(base, 'report.json')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /saved model\s+.*model/);
  const report = JSON.parse(readFileSync(join(base, 'report.json'), 'utf8')) as Report;
  assert.equal(report.model, dir);
  trained.set(space, { dir, report });
  return { dir, report };
}

for (const space of ['nb201', 'darts'] as const) {
  test(`train --save → predict (${space}): the test and validation accuracies train printed, per-image classes and probabilities`, () => {
    const { dir, report } = trainSaved(space);
    const t = runCli(['predict', '--model', dir, '--dataset', 'mnist', '--split', 'test', '--limit', '60', '--json']);
    assert.equal(t.code, 0, t.stderr);
    const p = t.json<Prediction>();
    assert.equal(p.accuracy, report.testAccuracy);
    assert.equal(p.logits.length, 60);
    assert.ok(p.logits.every((row) => row.length === 10));
    assert.equal(p.labels!.length, 60);
    assert.ok(p.predictions.every((q) => q.probability > 0 && q.probability <= 1 && q.name === String(q.class)));
    const lines = t.stdout.trim().split('\n');
    assert.equal(lines.length, 60 + 2, 'one line per image, a summary, the JSON');
    assert.match(lines[60], new RegExp(`60 mnist test images, accuracy ${report.testAccuracy.toFixed(2)} %`));
    const v = runCli(['predict', '--model', dir, '--dataset', 'mnist', '--split', 'valid', '--json']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.json<Prediction>().accuracy, report.validAccuracy);
    assert.equal(v.json<Prediction>().logits.length, 40);
  });
}

test('predict on PNG and JPEG files: decoded, converted to grey, resized and normalised as the model card says', async () => {
  const { dir } = trainSaved('nb201');
  const base = tmp();
  const digits = loadDataset('mnist', { split: 'test', limit: 3, mean: [0], std: [1] }); // 0..1 pixels
  const files: string[] = [];
  const expected: Float32Array[] = [];
  for (let i = 0; i < 3; i++) {
    const px = digits.images.subarray(i * 784, (i + 1) * 784);
    const bytes = Uint8Array.from(px, (v) => Math.round(v * 255));
    if (i < 2) {
      // An RGB PNG of the digit (R = G = B), and one at 56×56 (each pixel doubled: area averaging restores it).
      const side = i === 0 ? 28 : 56;
      const png = new pngjs.PNG({ width: side, height: side });
      for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
        const b = bytes[Math.floor((y * 28) / side) * 28 + Math.floor((x * 28) / side)];
        png.data.set([b, b, b, 255], 4 * (y * side + x));
      }
      files.push(join(base, `digit${i}.png`));
      writeFileSync(files[i], pngjs.PNG.sync.write(png));
      expected.push(Float32Array.from(bytes, (b) => (b / 255 - 0.1307) / 0.3081));
    } else {
      // A colour JPEG: lossy, so the expected input comes from decoding it (luma of the decoded RGB).
      const rgba = new Uint8Array(28 * 28 * 4);
      bytes.forEach((b, p) => rgba.set([b, Math.max(0, b - 40), 255 - b, 255], 4 * p));
      files.push(join(base, 'digit2.jpg'));
      writeFileSync(files[i], jpeg.encode({ data: rgba, width: 28, height: 28 }, 95).data);
      const dec = jpeg.decode(readFileSync(files[i]), { useTArray: true });
      expected.push(Float32Array.from({ length: 784 }, (_, p) => ((0.299 * dec.data[4 * p] + 0.587 * dec.data[4 * p + 1] + 0.114 * dec.data[4 * p + 2]) / 255 - 0.1307) / 0.3081));
    }
  }
  const r = runCli(['predict', '--model', dir, ...files, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const p = r.json<Prediction>();
  assert.deepEqual(p.inputs, files);
  assert.equal(p.labels, undefined, 'no labels for files');
  assert.equal(p.accuracy, undefined);
  const m = loadModel(dir);
  const x = new Float32Array(3 * 784);
  expected.forEach((e, i) => x.set(e, i * 784));
  const ref = predict(m.net, m.params, m.running, x, 3);
  assert.ok(maxAbsDiff(p.logits.flat(), ref) < 1e-4, `max |Δ| ${maxAbsDiff(p.logits.flat(), ref)}`);
  for (const [i, f] of files.entries()) assert.match(r.stdout, new RegExp(`${f.replace(/[.\\/]/g, '\\$&')}\\s+${p.predictions[i].name}\\s+p ${p.predictions[i].probability.toFixed(4)}`));
});

test('folder dataset: class names are saved, and predicting the files equals predicting the dataset split', () => {
  const data = join(tmp(), 'shapes');
  // Two classes of 20×20 RGB images (kept at their size and colour by the loader): reddish and bluish noise.
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const files: string[] = [];
  for (const [cls, tint] of [['blue', [40, 60, 200]], ['red', [200, 50, 40]]] as const) {
    mkdirSync(join(data, cls), { recursive: true });
    for (let i = 0; i < 6; i++) {
      const png = new pngjs.PNG({ width: 20, height: 20 });
      for (let p = 0; p < 400; p++) png.data.set([...tint.map((t) => Math.min(255, Math.floor(t + 50 * rand()))), 255], 4 * p);
      const f = join(data, cls, `${i}.png`);
      writeFileSync(f, pngjs.PNG.sync.write(png));
      files.push(f);
    }
  }
  const dir = join(tmp(), 'model');
  const t = runCli(['train', '--arch', ALL_OPS_CELL, '--dataset', 'folder', '--data', data, '--channels', '4', '--epochs', '1', '--batch-size', '4', '--save', dir]);
  assert.equal(t.code, 0, t.stderr);
  const card = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(card.classes.names, ['blue', 'red']);
  assert.deepEqual(card.input.shape, [3, 20, 20]);
  assert.equal(card.training.data, data);
  const byFile = runCli(['predict', '--model', dir, ...files, '--json']);
  assert.equal(byFile.code, 0, byFile.stderr);
  // The dataset's own folder is the default --data; a folder without train/test has no test split.
  const bySplit = runCli(['predict', '--model', dir, '--dataset', 'folder', '--split', 'train', '--json']);
  assert.equal(bySplit.code, 0, bySplit.stderr);
  assert.ok(maxAbsDiff(byFile.json<Prediction>().logits.flat(), bySplit.json<Prediction>().logits.flat()) < 1e-5);
  assert.match(byFile.stdout, /(blue|red)\s+p \d\.\d{4}/);
  const noTest = runCli(['predict', '--model', dir, '--dataset', 'folder']);
  assert.equal(noTest.code, 2);
  assert.match(noTest.stderr, /has no separate test images; use --split valid/);
  const grey = runCli(['predict', '--model', dir, '--dataset', 'mnist']);
  assert.equal(grey.code, 2);
  // the digits are converted to the model's input (3×20×20); their ten classes are not the model's two
  assert.match(grey.stderr, /mnist has 10 classes; the model outputs 2/);
});

test('bad model folders and output paths: exit 2 with one line naming the file, before any training', () => {
  const base = tmp();
  writeFileSync(join(base, 'file'), 'x');
  const unwritable = runCli(['train', '--arch', ALL_OPS_CELL, ...TINY, '--save', join(base, 'file', 'model')]);
  assert.equal(unwritable.code, 2);
  assert.match(unwritable.stderr, /--save: .*file\/model: .*file is a file, so no folder can be created under it/);
  assert.doesNotMatch(unwritable.stderr, /training|epoch/, 'refused before training');
  const badOut = runCli(['train', '--arch', ALL_OPS_CELL, ...TINY, '--out', join(base, 'file', 'r.json')]);
  assert.equal(badOut.code, 2);
  assert.match(badOut.stderr, /--out: .*file\/r\.json: .*file is a file/);
  assert.doesNotMatch(badOut.stderr, /epoch/);

  const missing = runCli(['predict', '--model', join(base, 'none'), 'x.png']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /none: model folder not found/);
  mkdirSync(join(base, 'empty'));
  const noManifest = runCli(['predict', '--model', join(base, 'empty'), 'x.png']);
  assert.equal(noManifest.code, 2);
  assert.match(noManifest.stderr, /empty\/manifest\.json: missing: not a robot-nas model folder/);
  for (const r of [unwritable, badOut, missing, noManifest]) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  const usage = runCli(['predict', '--model', join(base, 'empty')]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /nothing to predict/);
});
