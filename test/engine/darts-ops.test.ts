import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as DW from '../../src/engine/depthwise.js';
import * as L from '../../src/engine/layout.js';
import * as MP from '../../src/engine/maxpool.js';
import { disposeArena, inArena, Tensor } from '../../src/engine/tensor.js';
import { Rng } from '../../src/util/rng.js';

/**
 * The engine's DARTS operations (engine/depthwise.ts with DARTS' 'double' taps, maxpool.ts, layout.ts): the depthwise
 * (dilated) conv against a naive float64 loop with both gradients as its exact adjoints and by finite differences, max
 * pooling with PyTorch's semantics and its gradient, and the concat/slice and crop/uncrop pairs as adjoints of each
 * other. (test/engine/depthwise.test.ts checks the kernels against the JavaScript loops they replaced, bit for bit.)
 */

const rnd = (rng: Rng, n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

function run<T>(fn: () => T): T {
  const arena: Tensor[] = [];
  try {
    return inArena(arena, fn);
  } finally {
    disposeArena(arena);
  }
}

interface Geom {
  k: number;
  stride: number;
  pad: number;
  dilation: number;
}

/** DARTS' depthwise layers use 'double' taps. */
const exact = (g: Geom): DW.DepthwiseGeom => ({ ...g, exact: true });
const outSize = (size: number, g: Geom): number => Math.floor((size + 2 * g.pad - (g.k - 1) * g.dilation - 1) / g.stride) + 1;

/** Naive float64 depthwise conv, NHWC, filter [k,k,C]. */
function dwRef(x: ArrayLike<number>, f: ArrayLike<number>, shape: number[], g: Geom): Float64Array {
  const [n, h, w, c] = shape;
  const { k, stride, pad, dilation } = g;
  const ho = outSize(h, g);
  const wo = outSize(w, g);
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

// DARTS's depthwise configurations: sep 3/5 and dil 3/5 (k, pad, dilation), each at stride 1 and 2.
const CONFIGS: [number, number, number][] = [
  [3, 1, 1],
  [5, 2, 1],
  [3, 2, 2],
  [5, 4, 2],
];

test('depthwise conv: forward matches a naive loop, and both gradients are its exact adjoints', () => {
  const rng = new Rng(1);
  const shape = [2, 8, 8, 4];
  for (const [k, pad, dilation] of CONFIGS) {
    for (const stride of [1, 2]) {
      const g = { k, stride, pad, dilation };
      const yShape = [2, outSize(8, g), outSize(8, g), 4];
      const xv = rnd(rng, 2 * 8 * 8 * 4);
      const fv = rnd(rng, k * k * 4);
      const dyv = rnd(rng, yShape.reduce((a, b) => a * b, 1));
      run(() => {
        const x = Tensor.from(xv, shape);
        const f = Tensor.from(fv, [k, k, 4]);
        const dy = Tensor.from(dyv, yShape);
        const y = DW.depthwiseConv(x, f, exact(g));
        assert.deepEqual(y.shape, yShape);
        const ref = dwRef(xv, fv, shape, g);
        const yv = y.view();
        for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(yv[i] - ref[i]) < 1e-4, `k${k} s${stride} d${dilation}: y[${i}] ${yv[i]} vs ${ref[i]}`);
        // ⟨y, dy⟩ = ⟨x, Bᵀdy⟩ = ⟨f, F(x, dy)⟩ (the conv is bilinear).
        const gx = DW.depthwiseInputGrad(shape, dy, f, exact(g)).view();
        const gf = DW.depthwiseFilterGrad(x, dy, exact(g));
        assert.deepEqual(gf.shape, [k, k, 4]);
        const yd = dot(ref, dyv);
        assert.ok(Math.abs(dot(xv, gx) - yd) < 1e-3 * (1 + Math.abs(yd)));
        assert.ok(Math.abs(dot(fv, gf.view()) - yd) < 1e-3 * (1 + Math.abs(yd)));
      });
    }
  }
});

test('depthwise filter gradient matches central finite differences (float64 reference, stride 2, dilation 2)', () => {
  const rng = new Rng(2);
  const shape = [1, 7, 7, 2];
  const g = { k: 3, stride: 2, pad: 2, dilation: 2 };
  const ho = outSize(7, g);
  const xv = rnd(rng, 98);
  const fv = rnd(rng, 18);
  const r = rnd(rng, ho * ho * 2);
  const L = (f: Float32Array): number => dot(dwRef(xv, f, shape, g), r) ** 2 / 2;
  const y0 = dot(dwRef(xv, fv, shape, g), r);
  const gf = run(() => DW.depthwiseFilterGrad(Tensor.from(xv, shape), Tensor.from(Float32Array.from(r, (v) => v * y0), [1, ho, ho, 2]), exact(g)).dataSync());
  for (let i = 0; i < 18; i++) {
    const p = Float32Array.from(fv);
    const m = Float32Array.from(fv);
    p[i] += 1e-3;
    m[i] -= 1e-3;
    const fd = (L(p) - L(m)) / 2e-3;
    assert.ok(Math.abs(fd - gf[i]) < 1e-2 * (1 + Math.abs(fd)), `w[${i}]: ${gf[i]} vs fd ${fd}`);
  }
});

test('max pool: PyTorch semantics (padding never wins, first maximum takes ties), gradient by finite differences', () => {
  run(() => {
    // Ties: a constant image routes every window's gradient to its first (top-left) in-bounds element.
    const { y, arg } = MP.maxPoolWithArg(Tensor.from(new Float32Array(16).fill(1), [1, 4, 4, 1]), 3, 1, 1);
    assert.deepEqual(Array.from(y.view()), new Array(16).fill(1));
    const expectArg = [];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expectArg.push(Math.max(0, i - 1) * 4 + Math.max(0, j - 1));
    assert.deepEqual(Array.from(MP.argIndices(arg)), expectArg);
    const scattered = MP.maxPoolBackward(Tensor.from(new Float32Array(16).fill(1), [1, 4, 4, 1]), arg, [1, 4, 4, 1], 3, 1, 1).view();
    // Window (i, j) routes its gradient to input (max(0, i − 1), max(0, j − 1)): (0, 0) gets the four top-left windows.
    assert.deepEqual(Array.from(scattered), [4, 2, 2, 0, 2, 1, 1, 0, 2, 1, 1, 0, 0, 0, 0, 0]);
    // Negative values with padding: the max is over in-bounds values only.
    assert.deepEqual(Array.from(MP.maxPoolWithArg(Tensor.from(new Float32Array(9).fill(-5), [1, 3, 3, 1]), 3, 2, 1).y.view()), [-5, -5, -5, -5]);
    // NaN propagates, as in PyTorch.
    const withNaN = Float32Array.from([1, 2, 3, Number.NaN]);
    assert.ok(Number.isNaN(MP.maxPoolWithArg(Tensor.from(withNaN, [1, 2, 2, 1]), 2, 2, 0).y.view()[0]));
  });
  const rng = new Rng(3);
  const shape = [2, 6, 6, 3];
  const xv = rnd(rng, 216);
  for (const stride of [1, 2]) {
    const ho = Math.floor((6 + 2 - 3) / stride) + 1;
    const yShape = [2, ho, ho, 3];
    const r = rnd(rng, 2 * ho * ho * 3);
    const f = (v: Float32Array): number => run(() => dot(MP.maxPoolWithArg(Tensor.from(v, shape), 3, stride, 1).y.view(), r));
    const gx = run(() => {
      const { arg } = MP.maxPoolWithArg(Tensor.from(xv, shape), 3, stride, 1);
      // The tangent of the pool is the gathered input tangent; the gradient is its adjoint.
      const t = rnd(rng, 216);
      const gathered = MP.gatherArg(Tensor.from(t, shape), arg).view();
      const back = MP.maxPoolBackward(Tensor.from(r, yShape), arg, shape, 3, stride, 1).dataSync();
      assert.ok(Math.abs(dot(gathered, r) - dot(t, back)) < 1e-4);
      return back;
    });
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

test('concat/slice and crop/uncrop: exact values, and each pair are adjoints', () => {
  const rng = new Rng(4);
  const av = rnd(rng, 2 * 4 * 4 * 3);
  const bv = rnd(rng, 2 * 4 * 4 * 5);
  run(() => {
    const a = Tensor.from(av, [2, 4, 4, 3]);
    const b = Tensor.from(bv, [2, 4, 4, 5]);
    const c = L.concatChannels([a, null, b], [3, 2, 5], [2, 4, 4]);
    assert.deepEqual(c.shape, [2, 4, 4, 10]);
    const cv = c.view();
    for (let p = 0; p < 32; p++) {
      assert.deepEqual(Array.from(cv.subarray(p * 10, p * 10 + 3)), Array.from(av.subarray(p * 3, p * 3 + 3)));
      assert.deepEqual(Array.from(cv.subarray(p * 10 + 3, p * 10 + 5)), [0, 0]);
      assert.deepEqual(Array.from(cv.subarray(p * 10 + 5, p * 10 + 10)), Array.from(bv.subarray(p * 5, p * 5 + 5)));
    }
    assert.deepEqual(Array.from(L.sliceChannels(c, 5, 5).view()), Array.from(bv));
    assert.deepEqual(Array.from(L.sliceChannels(c, 0, 3).view()), Array.from(av));
    const crop = L.cropTopLeft(a, 1, 1);
    assert.deepEqual(crop.shape, [2, 3, 3, 3]);
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++)
          for (let q = 0; q < 3; q++) assert.equal(crop.view()[((n * 3 + i) * 3 + j) * 3 + q], av[((n * 4 + i + 1) * 4 + j + 1) * 3 + q]);
    const r = Tensor.from(rnd(rng, 2 * 3 * 3 * 3), [2, 3, 3, 3]);
    const un = L.uncropTopLeft(r, 1, 1);
    assert.ok(Math.abs(dot(crop.view(), r.view()) - dot(av, un.view())) < 1e-4);
  });
});
