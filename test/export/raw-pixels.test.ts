/**
 * The ONNX export states its preprocessing in its metadata: a user who feeds raw 0–255 pixels of their own image
 * files, normalised as the model's `normalisation` entry says, gets what `predict` gives for those files
 * (onnxruntime-node, colour folder images kept at their own size).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import pngjs from 'pngjs';
import { onnxRoot } from '../../src/export/onnx-schema.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../data/util.js';
import { maxAbsDiff } from './helpers.js';

test('ONNX metadata: raw pixels normalised as it says give the same logits and classes as predict', async () => {
  const root = tempDir('raw-pixels');
  const data = join(root, 'tints');
  let seed = 3;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const files: string[] = [];
  for (const [cls, tint] of [['green', [40, 200, 60]], ['red', [200, 50, 40]]] as const) {
    mkdirSync(join(data, cls), { recursive: true });
    for (let i = 0; i < 8; i++) {
      const png = new pngjs.PNG({ width: 12, height: 12 });
      for (let p = 0; p < 144; p++) png.data.set([...tint.map((t) => Math.min(255, Math.floor(t + 60 * rand()))), 255], 4 * p);
      const f = join(data, cls, `${i}.png`);
      writeFileSync(f, pngjs.PNG.sync.write(png, { colorType: 2 }));
      files.push(f);
    }
  }
  const model = join(root, 'model');
  const t = runCli(['train', '--arch', '|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|nor_conv_1x1~0|skip_connect~1|none~2|', '--dataset', 'folder', '--data', data, '--channels', '4', '--epochs', '1', '--batch-size', '4', '--save', model]);
  assert.equal(t.code, 0, t.stderr);
  const onnxDir = join(root, 'onnx');
  const e = runCli(['export', '--model', model, '--format', 'onnx', '--out', onnxDir]);
  assert.equal(e.code, 0, e.stderr);
  const bytes = readFileSync(join(onnxDir, 'model.onnx'));
  const proto = onnxRoot().lookupType('onnx.ModelProto').decode(bytes) as unknown as { metadata_props: { key: string; value: string }[] };
  const meta = Object.fromEntries(proto.metadata_props.map((p) => [p.key, p.value]));
  const norm = JSON.parse(meta['normalisation']!) as { scale: number; mean: number[]; std: number[]; input: string };
  assert.match(norm.input, /RGB pixels 0\.\.255, 12×12, NCHW/);
  assert.deepEqual(JSON.parse(meta['classes']!), ['green', 'red']);
  // raw pixels of the files, normalised by the metadata alone
  const x = new Float32Array(files.length * 3 * 144);
  files.forEach((f, i) => {
    const png = pngjs.PNG.sync.read(readFileSync(f));
    for (let c = 0; c < 3; c++) for (let p = 0; p < 144; p++) x[(i * 3 + c) * 144 + p] = (png.data[4 * p + c]! * norm.scale - norm.mean[c]!) / norm.std[c]!;
  });
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  const got = (await session.run({ input: new ort.Tensor('float32', x, [files.length, 3, 12, 12]) })).logits!.data as Float32Array;
  const p = runCli(['predict', '--model', model, ...files, '--json']);
  assert.equal(p.code, 0, p.stderr);
  const ref = p.json<{ logits: number[][]; predictions: { name: string }[] }>();
  assert.ok(maxAbsDiff(got, ref.logits.flat()) < 1e-4, `max |Δlogit| ${maxAbsDiff(got, ref.logits.flat())}`);
  const argmax = (i: number): number => (got[2 * i]! >= got[2 * i + 1]! ? 0 : 1);
  assert.deepEqual(files.map((_, i) => ['green', 'red'][argmax(i)]), ref.predictions.map((q) => q.name));
});
