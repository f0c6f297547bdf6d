import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/nn/backend.js';
import { conv2dFilterGrad, conv2dInputGrad } from '../../src/nn/tfjs-kernels.js';
import { Rng } from '../../src/util/rng.js';

/**
 * The project's tfjs kernels on wasm (Conv2DBackpropFilter, Conv2DBackpropInput, computed by the engine) and gradient functions (grads.ts),
 * checked against tfjs's own cpu kernels and against finite differences of a float64 convolution.
 */

type Cfg = { n: number; h: number; w: number; ci: number; co: number; k: number; s: number; pad: number | 'same' | 'valid' };
const CONFIGS: Cfg[] = [
  { n: 2, h: 9, w: 7, ci: 3, co: 4, k: 3, s: 1, pad: 1 },
  { n: 2, h: 8, w: 8, ci: 3, co: 5, k: 3, s: 2, pad: 1 },
  { n: 2, h: 9, w: 9, ci: 4, co: 3, k: 3, s: 2, pad: 1 },
  { n: 2, h: 8, w: 6, ci: 3, co: 4, k: 1, s: 1, pad: 0 },
  { n: 2, h: 7, w: 7, ci: 2, co: 3, k: 3, s: 2, pad: 0 },
  { n: 3, h: 6, w: 6, ci: 2, co: 2, k: 2, s: 2, pad: 0 },
  { n: 1, h: 7, w: 5, ci: 2, co: 3, k: 3, s: 2, pad: 'same' },
  { n: 1, h: 6, w: 6, ci: 2, co: 3, k: 3, s: 1, pad: 'valid' },
];

function randArray(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

interface Data {
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  xShape: [number, number, number, number];
  wShape: [number, number, number, number];
  yShape: [number, number, number, number];
}

function makeData(c: Cfg, rng: Rng): Data {
  const xShape: [number, number, number, number] = [c.n, c.h, c.w, c.ci];
  const wShape: [number, number, number, number] = [c.k, c.k, c.ci, c.co];
  const info = tf.backend_util.computeConv2DInfo(xShape, wShape, c.s, 1, c.pad);
  const yShape: [number, number, number, number] = [c.n, info.outHeight, info.outWidth, c.co];
  return { x: randArray(c.n * c.h * c.w * c.ci, rng), w: randArray(c.k * c.k * c.ci * c.co, rng), dy: randArray(yShape.reduce((a, b) => a * b), rng), xShape, wShape, yShape };
}

/** Weight and input gradients of Σ dy⊙conv(x, W) through tfjs's gradient machinery on the current backend. */
function convGrads(c: Cfg, d: Data): { gx: Float32Array; gw: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(d.x, d.xShape);
    const w = tf.tensor4d(d.w, d.wShape);
    const dy = tf.tensor4d(d.dy, d.yShape);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), dy)))([x, w]);
    return { gx: gx.dataSync() as Float32Array, gw: gw.dataSync() as Float32Array };
  }) as unknown as { gx: Float32Array; gw: Float32Array };
}

test('project conv backprop kernels on wasm match the cpu backend for strides 1/2, paddings, kernel sizes 1–3', async () => {
  const rng = new Rng(1);
  const data = CONFIGS.map((c) => makeData(c, rng));
  await initBackend('cpu');
  const ref = CONFIGS.map((c, i) => convGrads(c, data[i]));
  await initBackend('wasm');
  assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined, true);
  CONFIGS.forEach((c, i) => {
    const got = convGrads(c, data[i]);
    assert.ok(relErr(got.gx, ref[i].gx) < 1e-5, `input grad ${JSON.stringify(c)}: ${relErr(got.gx, ref[i].gx)}`);
    assert.ok(relErr(got.gw, ref[i].gw) < 1e-5, `filter grad ${JSON.stringify(c)}: ${relErr(got.gw, ref[i].gw)}`);
  });
});

/** float64 conv (NHWC, HWIO) with explicit per-side padding from tfjs's own geometry. */
function conv64(c: Cfg, x: Float64Array, w: Float64Array, d: Data): Float64Array {
  const info = tf.backend_util.computeConv2DInfo(d.xShape, d.wShape, c.s, 1, c.pad);
  const [, ho, wo] = d.yShape;
  const y = new Float64Array(c.n * ho * wo * c.co);
  for (let b = 0; b < c.n; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let o = 0; o < c.co; o++) {
          let acc = 0;
          for (let a = 0; a < c.k; a++)
            for (let bb = 0; bb < c.k; bb++) {
              const yy = i * c.s + a - info.padInfo.top;
              const xx = j * c.s + bb - info.padInfo.left;
              if (yy < 0 || yy >= c.h || xx < 0 || xx >= c.w) continue;
              for (let q = 0; q < c.ci; q++) acc += x[((b * c.h + yy) * c.w + xx) * c.ci + q] * w[((a * c.k + bb) * c.ci + q) * c.co + o];
            }
          y[((b * ho + i) * wo + j) * c.co + o] = acc;
        }
  return y;
}

test('project conv backprop kernels match central finite differences of a float64 convolution', async () => {
  await initBackend('wasm');
  const rng = new Rng(5);
  for (const c of CONFIGS.slice(0, 6)) {
    const d = makeData(c, rng);
    const gx = tf.tidy(() => conv2dInputGrad(d.xShape, tf.tensor4d(d.dy, d.yShape), tf.tensor4d(d.w, d.wShape), c.s, c.pad).dataSync());
    const gw = tf.tidy(() => conv2dFilterGrad(tf.tensor4d(d.x, d.xShape), tf.tensor4d(d.dy, d.yShape), d.wShape, c.s, c.pad).dataSync());
    const f = (x: Float64Array, w: Float64Array): number => conv64(c, x, w, d).reduce((s, v, i) => s + v * d.dy[i], 0);
    const x0 = Float64Array.from(d.x);
    const w0 = Float64Array.from(d.w);
    const h = 1e-4;
    for (let t = 0; t < 6; t++) {
      const i = rng.int(x0.length);
      const xp = Float64Array.from(x0);
      const xm = Float64Array.from(x0);
      xp[i] += h;
      xm[i] -= h;
      const fd = (f(xp, w0) - f(xm, w0)) / (2 * h);
      assert.ok(Math.abs(fd - gx[i]) < 1e-4 * Math.max(1, Math.abs(fd)), `∂/∂x[${i}] ${JSON.stringify(c)}: ${gx[i]} vs ${fd}`);
      const j = rng.int(w0.length);
      const wp = Float64Array.from(w0);
      const wm = Float64Array.from(w0);
      wp[j] += h;
      wm[j] -= h;
      const fdw = (f(x0, wp) - f(x0, wm)) / (2 * h);
      assert.ok(Math.abs(fdw - gw[j]) < 1e-4 * Math.max(1, Math.abs(fdw)), `∂/∂W[${j}] ${JSON.stringify(c)}: ${gw[j]} vs ${fdw}`);
    }
  }
});

test('second derivatives through conv (incl. the Conv2DBackpropFilter/Input gradients) and padded avgPool match finite differences', async () => {
  await initBackend('wasm');
  const rng = new Rng(9);
  const x = tf.tensor4d(randArray(2 * 6 * 6 * 3, rng), [2, 6, 6, 3]);
  const c = tf.tensor4d(randArray(2 * 6 * 6 * 4, rng), [2, 6, 6, 4]);
  const c2 = tf.tensor4d(randArray(2 * 3 * 3 * 4, rng), [2, 3, 3, 4]);
  const w0 = tf.tensor4d(randArray(3 * 3 * 3 * 4, rng), [3, 3, 3, 4]);
  const v = tf.tensor4d(randArray(3 * 3 * 3 * 4, rng), [3, 3, 3, 4]);
  // Smooth functions of W whose Hessian involves the backprop kernels' own gradients.
  const cases: Record<string, (w: tf.Tensor) => tf.Scalar> = {
    'conv, stride 1': (w) => tf.sum(tf.mul(tf.square(tf.conv2d(x, w as tf.Tensor4D, 1, 1)), c)),
    'conv, stride 2': (w) => tf.sum(tf.mul(tf.square(tf.conv2d(x, w as tf.Tensor4D, 2, 1)), c2)),
    'conv → padded 3×3 avgPool': (w) => tf.sum(tf.mul(tf.square(tf.avgPool(tf.conv2d(x, w as tf.Tensor4D, 1, 1), 3, 1, 1)), c)),
    'conv → 2×2 avgPool': (w) => tf.sum(tf.mul(tf.square(tf.avgPool(tf.conv2d(x, w as tf.Tensor4D, 1, 1), 2, 2, 0)), c2)),
    // The input of a conv depends on W: exercises ∂/∂x of Conv2DBackpropFilter and ∂/∂dy of Conv2DBackpropInput.
    'conv of a function of W': (w) => {
      const y = tf.conv2d(x, w as tf.Tensor4D, 1, 1);
      return tf.sum(tf.mul(tf.conv2d(tf.square(y) as tf.Tensor4D, tf.reshape(w, [3, 3, 4, 3]) as tf.Tensor4D, 1, 1), tf.slice(c, [0, 0, 0, 0], [2, 6, 6, 3])));
    },
  };
  for (const [name, f] of Object.entries(cases)) {
    const hv = tf.tidy(() => tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.grad(f)(w), v)))(w0).dataSync());
    const eps = 1e-2;
    const gp = tf.tidy(() => tf.grad(f)(tf.add(w0, tf.mul(v, eps))).dataSync());
    const gm = tf.tidy(() => tf.grad(f)(tf.sub(w0, tf.mul(v, eps))).dataSync());
    const fd = gp.map((g, i) => (g - gm[i]) / (2 * eps));
    assert.ok(relErr(hv, fd) < 2e-3, `${name}: rel ${relErr(hv, fd)}`);
  }
});

test('avgPool with padding: gradient excludes padding from the divisor like the forward (tfjs AvgPoolGrad alone does not)', async () => {
  await initBackend('wasm');
  const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.avgPool(x as tf.Tensor4D, 3, 1, 1)))(tf.ones([1, 4, 4, 1])).dataSync());
  // corner: windows of 4, 6, 6 and 9 valid inputs contain it.
  assert.ok(Math.abs(g[0] - (1 / 4 + 2 / 6 + 1 / 9)) < 1e-6, String(g[0]));
  assert.ok(Math.abs((g as Float32Array).reduce((a, b) => a + b, 0) - 16) < 1e-5, 'Σ ∂/∂x = number of outputs');
});
