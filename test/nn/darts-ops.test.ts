import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/nn/backend.js';
import * as D from '../../src/nn/dartsops.js';
import { Rng } from '../../src/util/rng.js';

const rnd = (rng: Rng, n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Naive float64 depthwise conv, NHWC, filter [k,k,C]. */
function dwRef(x: Float32Array, f: Float32Array, g: D.DwGeom): Float64Array {
  const { n, h, w, c, k, stride, pad, dilation, ho, wo } = g;
  const y = new Float64Array(n * ho * wo * c);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let q = 0; q < c; q++) {
          let s = 0;
          for (let a = 0; a < k; a++)
            for (let e = 0; e < k; e++) {
              const yy = i * stride - pad + a * dilation;
              const xx = j * stride - pad + e * dilation;
              if (yy >= 0 && yy < h && xx >= 0 && xx < w) s += x[((b * h + yy) * w + xx) * c + q] * f[(a * k + e) * c + q];
            }
          y[((b * ho + i) * wo + j) * c + q] = s;
        }
  return y;
}

// DARTS's depthwise configurations: sep 3/5 and dil 3/5, stride 1 and 2 (k, pad, dilation).
const CONFIGS: [number, number, number][] = [
  [3, 1, 1],
  [5, 2, 1],
  [3, 2, 2],
  [5, 4, 2],
];

for (const backend of ['wasm', 'cpu'] as const) {
  test(`depthwise conv (${backend}): forward matches a naive loop, both gradients are its exact adjoints, and the tape uses them`, async () => {
    await initBackend(backend);
    const rng = new Rng(1);
    for (const [k, pad, dil] of CONFIGS) {
      for (const stride of [1, 2]) {
        const shape = [2, 8, 8, 4];
        const g = D.dwGeom(shape, k, stride, pad, dil);
        const xv = rnd(rng, 2 * 8 * 8 * 4);
        const fv = rnd(rng, k * k * 4);
        const dyv = rnd(rng, g.n * g.ho * g.wo * g.c);
        const x = tf.tensor4d(xv, shape as [number, number, number, number]);
        const f = tf.tensor4d(fv, [k, k, 4, 1]);
        const dy = tf.tensor4d(dyv, [g.n, g.ho, g.wo, g.c]);
        const y = D.depthwiseForward(x, f, stride, pad, dil);
        assert.deepEqual(y.shape, [g.n, g.ho, g.wo, g.c]);
        const ref = dwRef(xv, fv, g);
        const yv = y.dataSync();
        for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(yv[i] - ref[i]) < 1e-4, `k${k} s${stride} d${dil}: y[${i}] ${yv[i]} vs ${ref[i]}`);
        // ⟨y, dy⟩ = ⟨x, Bᵀdy⟩ = ⟨f, F(x, dy)⟩ (the conv is bilinear).
        const gx = D.depthwiseInputGrad(shape, dy, f, stride, pad, dil).dataSync();
        const gf = D.depthwiseFilterGrad(x, dy, k, stride, pad, dil).dataSync();
        const yd = dot(ref, dyv);
        assert.ok(Math.abs(dot(xv, gx) - yd) < 1e-3 * (1 + Math.abs(yd)));
        assert.ok(Math.abs(dot(fv, gf) - yd) < 1e-3 * (1 + Math.abs(yd)));
        // Through tfjs's tape (registered gradient + project kernels).
        const [tx, tfl] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(D.depthwiseForward(a, b, stride, pad, dil), dy)))([x, f]);
        const txv = tx.dataSync();
        const tfv = tfl.dataSync();
        for (let i = 0; i < gx.length; i++) assert.ok(Math.abs(txv[i] - gx[i]) < 1e-5);
        for (let i = 0; i < gf.length; i++) assert.ok(Math.abs(tfv[i] - gf[i]) < 1e-4);
        tf.dispose([x, f, dy, y, tx, tfl]);
      }
    }
  });
}

test('depthwise filter gradient matches central finite differences (float64 reference, stride 2, dilation 2)', async () => {
  await initBackend('wasm');
  const rng = new Rng(2);
  const shape = [1, 7, 7, 2];
  const g = D.dwGeom(shape, 3, 2, 2, 2);
  const xv = rnd(rng, 98);
  const fv = rnd(rng, 18);
  const r = rnd(rng, g.ho * g.wo * 2);
  const L = (f: Float32Array): number => dot(dwRef(xv, f, g), r) ** 2 / 2;
  const y0 = dot(dwRef(xv, fv, g), r);
  const gf = new Float32Array(18);
  const ry = Float32Array.from(r, (v) => v * y0);
  D.dwFilterGradHost(xv, ry, g, gf);
  for (let i = 0; i < 18; i++) {
    const p = Float32Array.from(fv);
    const m = Float32Array.from(fv);
    p[i] += 1e-3;
    m[i] -= 1e-3;
    const fd = (L(p) - L(m)) / 2e-3;
    assert.ok(Math.abs(fd - gf[i]) < 1e-2 * (1 + Math.abs(fd)), `w[${i}]: ${gf[i]} vs fd ${fd}`);
  }
});

test('max pool: PyTorch semantics (padding never wins, first maximum takes ties), gradient by finite differences, tape kernel agrees', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    // Ties: a constant image routes every window's gradient to its first (top-left) in-bounds element.
    const ones = tf.ones([1, 4, 4, 1]);
    const { y, arg } = D.maxPoolWithArg(ones, 3, 1, 1);
    assert.deepEqual(Array.from(y.dataSync()), new Array(16).fill(1));
    const expectArg = [];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expectArg.push(Math.max(0, i - 1) * 4 + Math.max(0, j - 1));
    assert.deepEqual(Array.from(arg), expectArg);
    const tapeG = tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 3, 1, 1)))(ones).dataSync();
    const scat = D.maxPoolScatter(tf.ones([1, 4, 4, 1]), arg, [1, 4, 4, 1]).dataSync();
    assert.deepEqual(Array.from(tapeG), Array.from(scat));
    // Negative values with padding: the max is over in-bounds values only.
    const neg = tf.fill([1, 3, 3, 1], -5);
    assert.deepEqual(Array.from(D.maxPoolWithArg(neg, 3, 2, 1).y.dataSync()), [-5, -5, -5, -5]);
  }
  await initBackend('wasm');
  const rng = new Rng(3);
  const shape = [2, 6, 6, 3];
  const xv = rnd(rng, 216);
  for (const stride of [1, 2]) {
    const g = D.maxPoolGeom(shape, 3, stride, 1);
    const r = rnd(rng, g.n * g.ho * g.wo * g.c);
    const f = (v: Float32Array): number => dot(D.maxPoolWithArg(tf.tensor4d(v, shape as [number, number, number, number]), 3, stride, 1).y.dataSync(), r);
    const { arg } = D.maxPoolWithArg(tf.tensor4d(xv, shape as [number, number, number, number]), 3, stride, 1);
    const gx = D.maxPoolScatter(tf.tensor(r, [g.n, g.ho, g.wo, g.c]), arg, shape).dataSync();
    for (let i = 0; i < 216; i += 7) {
      const p = Float32Array.from(xv);
      const m = Float32Array.from(xv);
      p[i] += 1e-3;
      m[i] -= 1e-3;
      const fd = (f(p) - f(m)) / 2e-3;
      assert.ok(Math.abs(fd - gx[i]) < 1e-2, `x[${i}]: ${gx[i]} vs fd ${fd}`);
    }
  }
});

test('concat/slice and crop/uncrop are adjoint pairs; the tape gradients of tf.concat and tf.slice agree', async () => {
  await initBackend('wasm');
  const rng = new Rng(4);
  const a = tf.tensor4d(rnd(rng, 2 * 4 * 4 * 3), [2, 4, 4, 3]);
  const b = tf.tensor4d(rnd(rng, 2 * 4 * 4 * 5), [2, 4, 4, 5]);
  const c = D.concatChannels([a, null, b], [3, 2, 5], [2, 4, 4]);
  const ref = tf.concat([a, tf.zeros([2, 4, 4, 2]), b], 3);
  assert.deepEqual(Array.from(c.dataSync()), Array.from(ref.dataSync()));
  assert.deepEqual(Array.from(D.sliceChannels(c, 5, 5).dataSync()), Array.from(b.dataSync()));
  const crop = D.cropTopLeft(a, 1, 1);
  assert.deepEqual(Array.from(crop.dataSync()), Array.from(tf.slice(a, [0, 1, 1, 0], [2, 3, 3, 3]).dataSync()));
  const r = tf.tensor4d(rnd(rng, 2 * 3 * 3 * 3), [2, 3, 3, 3]);
  const un = D.uncropTopLeft(r, 1, 1);
  assert.ok(Math.abs(dot(crop.dataSync(), r.dataSync()) - dot(a.dataSync(), un.dataSync())) < 1e-4);
  const tg = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.slice(x, [0, 1, 1, 0], [2, 3, 3, 3]), r)))(a);
  assert.deepEqual(Array.from(tg.dataSync()), Array.from(un.dataSync()));
  const w = tf.tensor4d(rnd(rng, 2 * 4 * 4 * 8), [2, 4, 4, 8]);
  const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.concat([x, y], 3), w)))([a, b]);
  assert.deepEqual(Array.from(ga.dataSync()), Array.from(D.sliceChannels(w, 0, 3).dataSync()));
  assert.deepEqual(Array.from(gb.dataSync()), Array.from(D.sliceChannels(w, 3, 5).dataSync()));
});
