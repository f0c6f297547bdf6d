import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as DW from '../../src/engine/depthwise.js';
import { getEngine } from '../../src/engine/kernels.js';
import { disposeArena, inArena, Tensor } from '../../src/engine/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { forEachBackend } from '../helpers/engines.js';

/**
 * The depthwise convolution kernels (native/kernels/depthwise.c through engine/depthwise.ts):
 * - 'double' taps (exact) give the bits of the JavaScript loops DARTS' networks ran on before (written out below as
 *   they were), forward, input gradient and filter gradient;
 * - 'float' taps match a float64 convolution to float precision;
 * - every result is the same on every engine kind and thread count;
 * - the two gradients are the adjoints of the forward (float64 identities ⟨y, dy⟩ = ⟨x, dx⟩ = ⟨f, df⟩).
 * Shapes: DARTS' four (sep 3×3/5×5, dil 3×3/5×5 with dilation 2), MobileNet's 3/5/7, strides 1–3, 1×1 and 2×2
 * filters, channel counts that are and are not multiples of 4/16, images smaller than the padding.
 */

interface Case {
  n: number;
  h: number;
  w: number;
  c: number;
  k: number;
  s: number;
  p: number;
  d: number;
}

function cases(): Case[] {
  const rng = new Rng(5);
  const out: Case[] = [];
  for (const [k, p, d] of [
    [3, 1, 1],
    [5, 2, 1],
    [3, 2, 2],
    [5, 4, 2],
    [7, 3, 1],
    [1, 0, 1],
    [3, 0, 1],
    [2, 0, 1],
  ])
    for (const s of [1, 2, 3]) for (const c of [1, 3, 4, 7, 16, 20, 37]) out.push({ n: 2, h: 4 + rng.int(9), w: 4 + rng.int(9), c, k, s, p, d });
  out.push({ n: 3, h: 32, w: 32, c: 16, k: 3, s: 1, p: 1, d: 1 }); // a DARTS cell at CIFAR size
  out.push({ n: 2, h: 2, w: 2, c: 5, k: 5, s: 2, p: 4, d: 2 }); // padding wider than the image
  out.push({ n: 1, h: 1, w: 1, c: 3, k: 3, s: 1, p: 1, d: 1 });
  out.push({ n: 2, h: 9, w: 9, c: 24, k: 7, s: 2, p: 3, d: 1 });
  return out.filter((c) => DW.depthwiseOutSize(c.h, geom(c)) >= 1 && DW.depthwiseOutSize(c.w, geom(c)) >= 1);
}

const geom = (c: Case, exact?: boolean): DW.DepthwiseGeom => ({ k: c.k, stride: c.s, pad: c.p, dilation: c.d, exact });

// ---- the JavaScript loops the exact kernels replace (Float32Array accumulation, float64 for the filter gradient) ----

function jsForward(x: Float32Array, f: Float32Array, c: Case, ho: number, wo: number): Float32Array {
  const y = new Float32Array(c.n * ho * wo * c.c);
  for (let b = 0; b < c.n; b++)
    for (let yy = 0; yy < ho; yy++)
      for (let xx = 0; xx < wo; xx++) {
        const o = ((b * ho + yy) * wo + xx) * c.c;
        for (let a = 0; a < c.k; a++) {
          const iy = yy * c.s - c.p + a * c.d;
          if (iy < 0 || iy >= c.h) continue;
          for (let e = 0; e < c.k; e++) {
            const ix = xx * c.s - c.p + e * c.d;
            if (ix < 0 || ix >= c.w) continue;
            const i = ((b * c.h + iy) * c.w + ix) * c.c;
            const fo = (a * c.k + e) * c.c;
            for (let q = 0; q < c.c; q++) y[o + q] += f[fo + q] * x[i + q];
          }
        }
      }
  return y;
}

/** Calls fn(o, i, fo) for every (output pixel, in-range tap), outputs ascending, taps in (a, e) order. */
function eachTap(c: Case, ho: number, wo: number, fn: (o: number, i: number, fo: number) => void): void {
  for (let b = 0; b < c.n; b++)
    for (let y = 0; y < ho; y++)
      for (let x = 0; x < wo; x++)
        for (let a = 0; a < c.k; a++) {
          const iy = y * c.s - c.p + a * c.d;
          if (iy < 0 || iy >= c.h) continue;
          for (let e = 0; e < c.k; e++) {
            const ix = x * c.s - c.p + e * c.d;
            if (ix < 0 || ix >= c.w) continue;
            fn(((b * ho + y) * wo + x) * c.c, ((b * c.h + iy) * c.w + ix) * c.c, (a * c.k + e) * c.c);
          }
        }
}

function jsInputGrad(dy: Float32Array, f: Float32Array, c: Case, ho: number, wo: number): Float32Array {
  const gx = new Float32Array(c.n * c.h * c.w * c.c);
  eachTap(c, ho, wo, (o, i, fo) => {
    for (let q = 0; q < c.c; q++) gx[i + q] += f[fo + q] * dy[o + q];
  });
  return gx;
}

function jsFilterGrad(x: Float32Array, dy: Float32Array, c: Case, ho: number, wo: number): Float32Array {
  const acc = new Float64Array(c.k * c.k * c.c);
  eachTap(c, ho, wo, (o, i, fo) => {
    for (let q = 0; q < c.c; q++) acc[fo + q] += x[i + q] * dy[o + q];
  });
  return Float32Array.from(acc);
}

function run<T>(fn: () => T): T {
  const arena: Tensor[] = [];
  try {
    return inArena(arena, fn);
  } finally {
    disposeArena(arena);
  }
}

function firstDiff(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const name = (c: Case): string => `[${c.n},${c.h},${c.w},${c.c}] k${c.k} s${c.s} p${c.p} d${c.d}`;

interface Data {
  c: Case;
  ho: number;
  wo: number;
  x: Float32Array;
  f: Float32Array;
  dy: Float32Array;
}

function data(): Data[] {
  return cases().map((c) => {
    const ho = DW.depthwiseOutSize(c.h, geom(c));
    const wo = DW.depthwiseOutSize(c.w, geom(c));
    const rng = new Rng(c.n * 1000003 + c.h * 10007 + c.w * 101 + c.c * 13 + c.k * 7 + c.s * 3 + c.d);
    const r = (len: number): Float32Array => Float32Array.from({ length: len }, () => rng.normal());
    return { c, ho, wo, x: r(c.n * c.h * c.w * c.c), f: r(c.k * c.k * c.c), dy: r(c.n * ho * wo * c.c) };
  });
}

/** The three results of one case with the given arithmetic. */
function kernels(d: Data, exact: boolean): Float32Array[] {
  const { c } = d;
  return run(() => {
    const x = Tensor.from(d.x, [c.n, c.h, c.w, c.c]);
    const f = Tensor.from(d.f, [c.k, c.k, c.c]);
    const dy = Tensor.from(d.dy, [c.n, d.ho, d.wo, c.c]);
    const g = geom(c, exact);
    const y = DW.depthwiseConv(x, f, g);
    const dx = DW.depthwiseInputGrad(x.shape, dy, f, g);
    const df = DW.depthwiseFilterGrad(x, dy, g);
    assert.deepEqual(y.shape, [c.n, d.ho, d.wo, c.c]);
    assert.deepEqual(dx.shape, x.shape);
    assert.deepEqual(df.shape, [c.k, c.k, c.c]);
    return [y.dataSync(), dx.dataSync(), df.dataSync()];
  });
}

const DATA = data();

test("depthwise 'double' taps reproduce the JavaScript loops bit for bit (forward, input and filter gradient), every engine and thread count", () => {
  const want = DATA.map((d) => [jsForward(d.x, d.f, d.c, d.ho, d.wo), jsInputGrad(d.dy, d.f, d.c, d.ho, d.wo), jsFilterGrad(d.x, d.dy, d.c, d.ho, d.wo)]);
  forEachBackend([1, 2, 3], (label) => {
    DATA.forEach((d, j) => {
      const got = kernels(d, true);
      got.forEach((v, i) => {
        const at = firstDiff(v, want[j][i]);
        assert.equal(at, -1, `${label} ${name(d.c)} output ${i}: element ${at} is ${v[at]}, the loop gives ${want[j][i][at]}`);
      });
    });
    assert.equal(getEngine().heap.liveBlocks, 0);
  });
});

test("depthwise 'float' taps match a float64 convolution and give the same bits on every engine and thread count", () => {
  const first = new Map<string, Float32Array[]>();
  forEachBackend([1, 2, 3], (label) => {
    for (const d of DATA) {
      const got = kernels(d, false);
      const key = name(d.c);
      const prev = first.get(key);
      if (prev === undefined) {
        first.set(key, got);
        // float64 references
        const y = new Float64Array(got[0].length);
        const dx = new Float64Array(got[1].length);
        const df = new Float64Array(got[2].length);
        eachTap(d.c, d.ho, d.wo, (o, i, fo) => {
          for (let q = 0; q < d.c.c; q++) {
            y[o + q] += d.f[fo + q] * d.x[i + q];
            dx[i + q] += d.f[fo + q] * d.dy[o + q];
            df[fo + q] += d.x[i + q] * d.dy[o + q];
          }
        });
        [y, dx, df].forEach((ref, i) => {
          let err = 0;
          let scale = 1e-30;
          for (let j = 0; j < ref.length; j++) {
            err = Math.max(err, Math.abs(got[i][j] - ref[j]));
            scale = Math.max(scale, Math.abs(ref[j]));
          }
          assert.ok(err / scale < 1e-5, `${label} ${key} output ${i}: relative error ${err / scale}`);
        });
      } else {
        got.forEach((v, i) => assert.equal(firstDiff(v, prev[i]), -1, `${label} ${key} output ${i} differs from the first engine's`));
      }
    }
  });
});

test('depthwise gradients are the adjoints of the forward: ⟨y, dy⟩ = ⟨x, dx⟩ = ⟨f, df⟩', () => {
  forEachBackend([1], (label) => {
    for (const d of DATA) {
      const [y, dx, df] = kernels(d, false);
      const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
        let s = 0;
        for (let i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
      };
      const yd = dot(y, d.dy);
      const tol = 1e-4 * (1 + Math.abs(yd)) * Math.sqrt(d.dy.length);
      assert.ok(Math.abs(dot(d.x, dx) - yd) < tol, `${label} ${name(d.c)}: ⟨x, dx⟩ ${dot(d.x, dx)} vs ⟨y, dy⟩ ${yd}`);
      assert.ok(Math.abs(dot(d.f, df) - yd) < tol, `${label} ${name(d.c)}: ⟨f, df⟩ ${dot(d.f, df)} vs ⟨y, dy⟩ ${yd}`);
    }
  });
});

test("samePad and depthwiseOutSize follow PyTorch's Conv2d: padding='same' keeps the size at stride 1, ⌈n/2⌉ at stride 2", () => {
  for (const k of [3, 5, 7])
    for (const d of [1, 2])
      for (const n of [7, 8, 28, 32]) {
        const p = DW.samePad(k, d);
        assert.equal(DW.depthwiseOutSize(n, { k, stride: 1, pad: p, dilation: d }), n);
        assert.equal(DW.depthwiseOutSize(n, { k, stride: 2, pad: p, dilation: d }), Math.ceil(n / 2));
      }
  assert.throws(() => DW.samePad(4), /even/);
  run(() => {
    const x = Tensor.zeros([1, 4, 4, 2]);
    assert.throws(() => DW.depthwiseConv(x, Tensor.zeros([9, 9, 2]), { k: 9, stride: 1, pad: 4, dilation: 1 }), /filter size 9/);
    assert.throws(() => DW.depthwiseConv(x, Tensor.zeros([3, 3, 2]), { k: 3, stride: 1, pad: 0, dilation: 3 }), /too small/);
  });
});
