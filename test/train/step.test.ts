import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNb201 } from '../../src/networks/nb201.js';
import { initParams } from '../../src/networks/params.js';
import { freshRunning, predict, trainStep, updateRunning } from '../../src/train/step.js';
import { Rng } from '../../src/util/rng.js';
import { F64Exec, inputF64, lossGrads64 } from '../helpers/f64.js';

const ARCH = '|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|';

function setup(seed: number) {
  const net = buildNb201({ arch: ARCH, channels: 4, cellsPerStage: 1, numClasses: 5, inputShape: [3, 12, 12] });
  const rng = new Rng(seed);
  const params = initParams(net, rng);
  // Non-trivial BN affine parameters, so their gradients are not the identity case.
  for (const p of net.params) if (p.init.kind === 'const') params.set(p.name, Float32Array.from(params.get(p.name)!, (v) => v + 0.3 * rng.normal()));
  const n = 6;
  const images = Float32Array.from({ length: n * 3 * 144 }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, () => rng.int(5));
  return { net, params, images, labels, n };
}

test('trainStep: gradients of every parameter (weights, biases, BatchNorm γ/β) match a float64 reference', async () => {
  const { net, params, images, labels } = setup(3);
  const r = trainStep(net, params, images, labels);
  const ref = lossGrads64(net, params, images, labels);
  assert.ok(Math.abs(r.loss - ref.loss) < 1e-5 * ref.loss, `loss ${r.loss} vs ${ref.loss}`);
  let checked = 0;
  for (const p of net.params) {
    const got = r.grads.get(p.name)!;
    assert.equal(got.length, params.get(p.name)!.length, p.name);
    const want = ref.grads.get(p.name);
    if (want === undefined) {
      assert.ok(got.every((v) => v === 0), `${p.name}: unused but got a gradient`);
      continue;
    }
    let d = 0;
    let s = 0;
    for (let j = 0; j < want.length; j++) {
      d += (got[j] - want[j]) ** 2;
      s += want[j] ** 2;
    }
    // A conv bias feeding a BatchNorm has an exactly zero gradient: there the float32 rounding is the error.
    assert.ok(Math.sqrt(d) < 1e-4 * Math.sqrt(s) + 1e-6, `${p.name}: error ${Math.sqrt(d)} vs norm ${Math.sqrt(s)}`);
    checked++;
  }
  // Biases and BN affine parameters are part of what was checked.
  assert.ok(net.params.filter((p) => p.name.endsWith('.bias')).every((p) => ref.grads.has(p.name) || r.grads.get(p.name)!.every((v) => v === 0)));
  assert.ok(checked > net.weightLayers.length, `only ${checked} parameters checked`);
});

test('predict: inference with running statistics equal to the batch statistics reproduces training-mode logits', async () => {
  const { net, params, images, labels, n } = setup(4);
  const step = trainStep(net, params, images, labels);
  // Running statistics = this batch's biased statistics (momentum 1, then undo the unbiasing).
  const running = freshRunning(net);
  for (const l of net.batchNorms) {
    const b = step.bnStats.get(l.name)!;
    running.set(l.name, { mean: Float32Array.from(b.mean), variance: Float32Array.from(b.variance) });
  }
  const logits = predict(net, params, running, images, n);
  const [c, h, w] = net.inputShape;
  const e = new F64Exec(params);
  const want = net.forward(e, inputF64(images, n, c, h, w)).data;
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(logits[i] - want[i]) < 1e-3 * (1 + Math.abs(want[i])), `logit ${i}: ${logits[i]} vs ${want[i]}`);
});

test('updateRunning: PyTorch momentum rule with the unbiased batch variance', () => {
  const net = buildNb201({ arch: ARCH, channels: 4, cellsPerStage: 1, numClasses: 5, inputShape: [3, 12, 12] });
  const running = freshRunning(net);
  const l = net.batchNorms[0];
  const batch = new Map([[l.name, { mean: new Float32Array(l.channels).fill(2), variance: new Float64Array(l.channels).fill(3), count: 4 }]]);
  updateRunning(net, running, batch);
  const r = running.get(l.name)!;
  assert.ok(Math.abs(r.mean[0] - 0.2) < 1e-6);
  assert.ok(Math.abs(r.variance[0] - (0.9 + 0.1 * 3 * (4 / 3))) < 1e-6);
  // Layers without batch statistics keep their fresh values.
  const other = running.get(net.batchNorms[1].name)!;
  assert.equal(other.mean[0], 0);
  assert.equal(other.variance[0], 1);
});
