import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu'; // the backend tfjs-layers runs on here (any would do)
import * as tfl from '@tensorflow/tfjs-layers';
import { loadModel } from '../../src/model/store.js';
import { predict } from '../../src/train/step.js';
import { runCli } from '../helpers/cli.js';
import { tempDirs } from '../helpers/tmp.js';
import { ALL_OPS_CELL, ALL_OPS_GENOTYPE, maxAbsDiff } from '../export/helpers.js';

// PROD: no console hint from tfjs about installing tfjs-node.
tf.env().set('PROD', true);

const tmp = tempDirs('robot-nas-export-');
const TINY = ['--dataset', 'mnist', '--epochs', '1', '--train-limit', '64', '--valid-limit', '32', '--test-limit', '32', '--batch-size', '32'];
const PYTHON = '/usr/bin/python3';
const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch']).status === 0;

interface Samples {
  input: { file: string; shape: number[] };
  shape: [number, number];
  logits: number[][];
  labels: number[] | null;
}

function readSamples(dir: string): { x: Float32Array; s: Samples } {
  const s = JSON.parse(readFileSync(join(dir, 'sample-logits.json'), 'utf8')) as Samples;
  const b = readFileSync(join(dir, s.input.file));
  return { x: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), s };
}

const models = new Map<string, string>();

/** One trained model folder per space for the whole file; tests that change it work on a copy. */
function trainedModel(space: 'nb201' | 'darts'): string {
  let model = models.get(space);
  if (model === undefined) {
    model = join(tmp(), 'model');
    const size = space === 'nb201' ? ['--arch', ALL_OPS_CELL, '--channels', '4'] : ['--space', 'darts', '--arch', ALL_OPS_GENOTYPE, '--channels', '2', '--cells', '4'];
    const t = runCli(['train', ...size, ...TINY, '--save', model]);
    assert.equal(t.code, 0, t.stderr);
    models.set(space, model);
  }
  return model;
}

for (const space of ['nb201', 'darts'] as const) {
  test(`train --save → export onnx | tfjs | pytorch (${space}): each runtime reproduces the engine's logits on the sample images`, async (t) => {
    const base = tmp();
    const model = trainedModel(space);
    const m = loadModel(model);
    const engine = predict(m.net, m.params, m.running, m.samples.images, m.samples.count);
    const diffs: Record<string, number> = {};
    for (const format of ['onnx', 'tfjs', 'pytorch'] as const) {
      const out = join(base, format);
      const r = runCli(['export', '--model', model, '--format', format, '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`exported ${space} .* to ${out}`));
      const { x, s } = readSamples(out);
      assert.deepEqual(s.input.shape, [16, 1, 28, 28]);
      assert.deepEqual(x, m.samples.images, 'sample-input.bin holds the model folder samples');
      assert.ok(maxAbsDiff(s.logits.flat(), engine) === 0, 'sample-logits.json holds the engine logits');
      assert.deepEqual(s.labels, Array.from(m.samples.labels!));
      let got: ArrayLike<number> | null = null;
      if (format === 'onnx') {
        assert.deepEqual(readdirSync(out).sort(), ['model.onnx', 'sample-input.bin', 'sample-logits.json']);
        const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
        got = (await session.run({ input: new ort.Tensor('float32', x, s.input.shape) })).logits.data as Float32Array;
      } else if (format === 'tfjs') {
        assert.deepEqual(readdirSync(out).sort(), ['model.json', 'sample-input.bin', 'sample-logits.json', 'weights.bin']);
        const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
        const w = readFileSync(join(out, 'weights.bin'));
        const net = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.length) }));
        got = tf.tidy(() => (net.predict(tf.tensor4d(x, s.input.shape as [number, number, number, number])) as tf.Tensor).dataSync());
      } else {
        assert.deepEqual(readdirSync(out).sort(), ['model.py', 'model.safetensors', 'sample-input.bin', 'sample-logits.json']);
        if (hasTorch) {
          const py = spawnSync(PYTHON, [join(out, 'model.py')], { encoding: 'utf8' });
          assert.equal(py.status, 0, py.stdout + py.stderr);
          const d = Number(/max \|logit difference\| vs robot-nas on 16 sample images: (\S+)/.exec(py.stdout)![1]);
          diffs[format] = d;
        } else {
          t.diagnostic(`PyTorch is not importable by ${PYTHON}: model.py not run (apt-get install python3-torch)`);
        }
      }
      if (got) diffs[format] = maxAbsDiff(got, engine);
    }
    for (const [format, d] of Object.entries(diffs)) assert.ok(d < 1e-4, `${format}: max |Δlogit| ${d}`);
    // Exporting again replaces the previous export.
    assert.equal(runCli(['export', '--model', model, '--format', 'onnx', '--out', join(base, 'onnx')]).code, 0);
  });
}

test('export: bad format, unsafe output folder and corrupt model are exit-2 errors naming what is wrong', () => {
  const base = tmp();
  const model = join(base, 'model');
  cpSync(trainedModel('nb201'), model, { recursive: true });
  const fmt = runCli(['export', '--model', model, '--format', 'keras', '--out', join(base, 'x')]);
  assert.equal(fmt.code, 2);
  assert.match(fmt.stderr, /expected one of onnx, tfjs, pytorch/);
  mkdirSync(join(base, 'mine'));
  writeFileSync(join(base, 'mine', 'notes.md'), 'keep me');
  const clobber = runCli(['export', '--model', model, '--format', 'onnx', '--out', join(base, 'mine')]);
  assert.equal(clobber.code, 2);
  assert.match(clobber.stderr, /--out: .*mine is not an export folder of robot-nas: it holds no sample-logits\.json/);
  assert.deepEqual(readdirSync(join(base, 'mine')), ['notes.md']);
  const w = readFileSync(join(model, 'weights.safetensors'));
  writeFileSync(join(model, 'weights.safetensors'), w.subarray(0, w.length - 8));
  for (const args of [['export', '--model', model, '--format', 'onnx', '--out', join(base, 'y')], ['predict', '--model', model, 'x.png']]) {
    const r = runCli(args);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /model\/weights\.safetensors: \d+ bytes, manifest\.json says \d+ \(truncated or replaced\)/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  assert.ok(!existsSync(join(base, 'y')), 'nothing written');
});
