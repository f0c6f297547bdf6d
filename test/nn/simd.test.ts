import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/nn/backend.js';
import * as F from '../../src/nn/fastops.js';
import { setSimdEnabled, simd, simdModuleBytes } from '../../src/nn/simd.js';
import { Rng } from '../../src/util/rng.js';

function rand(shape: number[], rng: Rng): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

function maxRel(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let d = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    s = Math.max(s, Math.abs(y[i]));
  }
  return d / s;
}

test('hand-assembled SIMD module validates and binds to the wasm backend memory', async () => {
  assert.ok(WebAssembly.validate(simdModuleBytes()));
  await initBackend('wasm');
  assert.ok(simd() !== null, 'SIMD kernels available on wasm');
});

test('SIMD and JavaScript paths of the elementwise and BatchNorm passes agree', async () => {
  await initBackend('wasm');
  const rng = new Rng(1);
  const shape = [4, 6, 5, 8];
  const c = 8;
  const x = rand(shape, rng);
  const y = rand(shape, rng);
  const g = rand(shape, rng);
  const gt = rand(shape, rng);
  const xt = rand(shape, rng);
  const gamma = Float32Array.from({ length: c }, () => rng.uniform(0.5, 2));
  const beta = Float32Array.from({ length: c }, () => rng.normal());
  const run = (): tf.Tensor[] => {
    const bn = F.bnForward(x, c, 1e-5, gamma, beta);
    const tan = F.bnTangent(bn.xhat, bn.r, xt, c);
    const dual = F.bnBackwardDual(bn.xhat, tan.xhatT, bn.r, tan.rho, g, gt, c, gamma);
    const dualNoGt = F.bnBackwardDual(bn.xhat, tan.xhatT, bn.r, tan.rho, g, null, c, gamma);
    const acc = F.add(x, y);
    F.addInto(acc, g);
    return [
      F.add(x, y),
      F.sum([x, y, g]),
      F.relu(x),
      F.mask(x, y),
      F.subtractChannel(x, gamma),
      bn.xhat,
      bn.y,
      tan.xhatT,
      F.bnBackward(bn.xhat, bn.r, g, c, gamma),
      dual.gx,
      dual.gxt,
      dualNoGt.gxt,
      acc,
      tf.tensor(Float32Array.from(F.channelDot(x, y, 4, c))),
      F.avgPool3x3(x, false),
      F.avgPool3x3(g, true),
    ];
  };
  setSimdEnabled(false);
  const js = run();
  setSimdEnabled(true);
  const sd = run();
  js.forEach((t, i) => assert.ok(maxRel(sd[i], t) < 1e-5, `output ${i}: ${maxRel(sd[i], t)}`));
});
