import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu'; // the backend tfjs-layers runs on here (any would do)
import * as tfl from '@tensorflow/tfjs-layers';
import { exportTfjs, samePoolPlan, TFJS_WEIGHTS_FILE } from '../../src/export/tfjs.js';
import { predict } from '../../src/train/step.js';
import { tempDirs } from '../helpers/tmp.js';
import { EXPORT_CASES, maxAbsDiff, randomModel, realImages } from './helpers.js';

// PROD: no console hint from tfjs about installing tfjs-node.
tf.env().set('PROD', true);

const tmp = tempDirs('robot-nas-tfjs-');

/** Loads model.json + shards from a folder, as tf.loadLayersModel('file://…') does with tfjs-node. */
function fileHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
      const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
      const bytes = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      };
    },
  };
}


for (const c of EXPORT_CASES) {
  test(`tfjs export: tf.loadLayersModel of model.json + weights.bin gives the engine's logits within 1e-4 (${c.name})`, async () => {
    const m = randomModel({ ...c.spec, inputShape: [...c.spec.inputShape] }, 12);
    const n = 8;
    const { images } = realImages(c.data, n);
    const ref = predict(m.net, m.params, m.running, images, n);
    const t = exportTfjs(m.net, m.params, m.running, { producerVersion: 'test', metadata: { arch: c.spec.arch } });
    const dir = join(tmp(), 'model');
    mkdirSync(dir);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(t.modelJson));
    writeFileSync(join(dir, TFJS_WEIGHTS_FILE), t.weightData);
    const model = await tfl.loadLayersModel(fileHandler(dir)); // strict: every weight present, none left over
    const y = tf.tidy(() => (model.predict(tf.tensor4d(images, [n, ...c.spec.inputShape])) as tf.Tensor).dataSync());
    const d = maxAbsDiff(y, ref);
    assert.ok(d < 1e-4, `max |Δlogit| ${d}`);
    assert.deepEqual(model.outputs[0].shape, [null, 10]);
    assert.equal(model.layers.at(-1)!.name, 'logits');
    const allowed = new Set(['InputLayer', 'Permute', 'Conv2D', 'SeparableConv2D', 'ZeroPadding2D', 'Cropping2D', 'BatchNormalization', 'Activation', 'AveragePooling2D', 'MaxPooling2D', 'Add', 'Concatenate', 'Rescaling', 'GlobalAveragePooling2D', 'Dense']);
    for (const l of model.layers) assert.ok(allowed.has(l.getClassName()), `standard layer: ${l.getClassName()}`);
    model.dispose();
  });
}

/** PyTorch pooling windows along one axis: index lists, padding cells left out (count_include_pad=False). */
function torchWindows(size: number, k: number, s: number, p: number): number[][] {
  const out = Math.floor((size + 2 * p - k) / s) + 1;
  return Array.from({ length: out }, (_, i) => Array.from({ length: k }, (_, j) => i * s - p + j).filter((x) => x >= 0 && x < size));
}

/** TF 'same' pooling windows over `size + extra` cells (cells ≥ size stand for the appended ones), after cropping. */
function tfWindows(size: number, k: number, s: number, extra: number, crop: number): number[][] {
  const len = size + extra;
  const out = Math.ceil(len / s);
  const before = Math.floor(Math.max((out - 1) * s + k - len, 0) / 2);
  return Array.from({ length: out - crop }, (_, i) => Array.from({ length: k }, (_, j) => i * s - before + j).filter((x) => x >= 0 && x < len));
}

test("tfjs export: the 'same'-pooling plan selects exactly PyTorch's windows whenever it exists (property)", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }), (size, k, s, p) => {
      fc.pre(2 * p <= k && size + 2 * p >= k); // PyTorch requires pad ≤ kernel / 2 and a window that fits
      const plan = samePoolPlan(size, k, s, p);
      if (plan === null) return;
      assert.deepEqual(tfWindows(size, k, s, plan.extra, plan.crop), torchWindows(size, k, s, p));
    }),
    { numRuns: 2000 },
  );
  // The cases the spaces need always have a plan.
  for (const size of [4, 7, 8, 14, 16, 28, 32]) {
    assert.ok(samePoolPlan(size, 3, 1, 1), `3×3 stride 1 on ${size}`);
    assert.ok(samePoolPlan(size, 3, 2, 1), `3×3 stride 2 on ${size}`);
  }
  assert.deepEqual(samePoolPlan(28, 3, 2, 1), { extra: 1, crop: 1 }, "even sizes: TF's stride-2 'same' would start the windows one cell later");
});
