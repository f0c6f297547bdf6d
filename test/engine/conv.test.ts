import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEngine } from '../../src/engine/kernels.js';
import * as C from '../../src/engine/conv.js';
import { disposeArena, inArena, Tensor } from '../../src/engine/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { forEachBackend } from '../helpers/engines.js';

/**
 * The engine's convolutions (engine/conv.ts over native/kernels/conv.c) — forward, input gradient by stride phases,
 * filter gradient by per-task partial sums — against plain float64 loops (TensorFlow's geometry for 'same'), on random
 * inputs, for every kernel backend on this machine with 1 and 2 threads. Shapes cover strides 1/2/3 and unequal ones,
 * explicit/'same'/'valid' padding, sizes the stride does not divide, batch 1, channel counts that are and are not
 * multiples of the vector width, rectangular and 5×5 filters, and sizes with many filter-gradient tasks.
 */

interface Case {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  s: number | [number, number];
  pad: number | 'same' | 'valid';
}

const CASES: Case[] = [
  { n: 4, h: 10, w: 10, ci: 8, co: 8, kh: 3, kw: 3, s: 1, pad: 1 },
  { n: 3, h: 9, w: 9, ci: 8, co: 16, kh: 3, kw: 3, s: 2, pad: 1 }, // stride does not divide
  { n: 4, h: 8, w: 8, ci: 4, co: 8, kh: 3, kw: 3, s: 2, pad: 1 },
  { n: 2, h: 7, w: 5, ci: 8, co: 12, kh: 1, kw: 1, s: 1, pad: 0 }, // 1×1: x read in place
  { n: 2, h: 7, w: 7, ci: 4, co: 4, kh: 1, kw: 1, s: 2, pad: 0 }, // 1×1 stride 2: phases without taps
  { n: 2, h: 10, w: 7, ci: 3, co: 8, kh: 3, kw: 3, s: 2, pad: 'valid' }, // odd sizes, Ci = 3 (the stem)
  { n: 2, h: 9, w: 9, ci: 1, co: 8, kh: 3, kw: 3, s: 1, pad: 1 }, // Ci = 1 (MNIST's stem)
  { n: 1, h: 11, w: 11, ci: 16, co: 32, kh: 3, kw: 3, s: 1, pad: 1 }, // batch 1
  { n: 2, h: 7, w: 6, ci: 5, co: 4, kh: 3, kw: 3, s: 2, pad: 'same' }, // asymmetric padding
  { n: 2, h: 6, w: 6, ci: 4, co: 8, kh: 2, kw: 2, s: 2, pad: 0 },
  { n: 2, h: 9, w: 9, ci: 6, co: 8, kh: 5, kw: 5, s: 1, pad: 2 },
  { n: 2, h: 10, w: 11, ci: 4, co: 4, kh: 3, kw: 3, s: 3, pad: 1 }, // three phases per axis
  { n: 2, h: 9, w: 8, ci: 8, co: 8, kh: 3, kw: 1, s: [2, 1], pad: 'same' }, // unequal strides, rectangular kernel
  { n: 2, h: 6, w: 6, ci: 3, co: 3, kh: 3, kw: 3, s: 1, pad: 1 }, // Co = 3: partial vectors
  { n: 2, h: 9, w: 9, ci: 5, co: 10, kh: 3, kw: 3, s: 2, pad: 1 }, // Co = 8 + 2
  { n: 2, h: 8, w: 8, ci: 64, co: 20, kh: 3, kw: 3, s: 1, pad: 1 }, // many channel blocks
  { n: 16, h: 28, w: 28, ci: 8, co: 8, kh: 3, kw: 3, s: 1, pad: 1 }, // many tasks, tasks across images
  { n: 2, h: 40, w: 40, ci: 32, co: 32, kh: 3, kw: 3, s: 1, pad: 1 }, // several tasks within an image
];

function randArray(len: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: len }, () => rng.uniform(-1, 1));
}

/** max |a − ref| / max |ref| */
function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(a.length, ref.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - ref[i]));
    s = Math.max(s, Math.abs(ref[i]));
  }
  return d / s;
}

/** Output size and padding (before, after) along one axis, with TensorFlow's meaning of 'same' and 'valid'. */
function axis(size: number, k: number, s: number, pad: Case['pad']): { out: number; before: number; after: number } {
  if (pad === 'valid') return { out: Math.ceil((size - k + 1) / s), before: 0, after: 0 };
  if (pad === 'same') {
    const out = Math.ceil(size / s);
    const total = Math.max((out - 1) * s + k - size, 0);
    return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
  }
  return { out: Math.floor((size + 2 * pad - k) / s) + 1, before: pad, after: pad };
}

function geometry(c: Case): { g: C.ConvGeom; ho: number; wo: number } {
  const [sh, sw] = typeof c.s === 'number' ? [c.s, c.s] : c.s;
  const y = axis(c.h, c.kh, sh, c.pad);
  const x = axis(c.w, c.kw, sw, c.pad);
  return { g: { kh: c.kh, kw: c.kw, sh, sw, pt: y.before, pb: y.after, pl: x.before, pr: x.after }, ho: y.out, wo: x.out };
}

/** Calls f(n, y, x, a, b, iy, ix) for every output cell and tap that reads an input pixel. */
function eachTap(c: Case, g: C.ConvGeom, ho: number, wo: number, f: (d0: number, x0: number, tap: number) => void): void {
  for (let n = 0; n < c.n; n++)
    for (let y = 0; y < ho; y++)
      for (let xx = 0; xx < wo; xx++)
        for (let a = 0; a < c.kh; a++) {
          const iy = y * g.sh + a - g.pt;
          if (iy < 0 || iy >= c.h) continue;
          for (let b = 0; b < c.kw; b++) {
            const ix = xx * g.sw + b - g.pl;
            if (ix < 0 || ix >= c.w) continue;
            f(((n * ho + y) * wo + xx) * c.co, ((n * c.h + iy) * c.w + ix) * c.ci, a * c.kw + b);
          }
        }
}

interface Data {
  c: Case;
  g: C.ConvGeom;
  ho: number;
  wo: number;
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  y64: Float64Array;
  dw64: Float64Array;
  dx64: Float64Array;
}

function makeData(rng: Rng): Data[] {
  return CASES.map((c) => {
    const { g, ho, wo } = geometry(c);
    const x = randArray(c.n * c.h * c.w * c.ci, rng);
    const w = randArray(c.kh * c.kw * c.ci * c.co, rng);
    const dy = randArray(c.n * ho * wo * c.co, rng);
    const y64 = new Float64Array(dy.length);
    const dw64 = new Float64Array(w.length);
    const dx64 = new Float64Array(x.length);
    eachTap(c, g, ho, wo, (d0, x0, tap) => {
      for (let i = 0; i < c.ci; i++) {
        const w0 = (tap * c.ci + i) * c.co;
        for (let o = 0; o < c.co; o++) {
          y64[d0 + o] += x[x0 + i] * w[w0 + o];
          dw64[w0 + o] += x[x0 + i] * dy[d0 + o];
          dx64[x0 + i] += dy[d0 + o] * w[w0 + o];
        }
      }
    });
    return { c, g, ho, wo, x, w, dy, y64, dw64, dx64 };
  });
}

const name = (c: Case): string => `[${c.n},${c.h},${c.w},${c.ci}] ${c.kh}×${c.kw} s${String(c.s)} pad ${String(c.pad)} → Co ${c.co}`;
const TOL = 1e-5;
const data = makeData(new Rng(11));

function engineRun<T>(fn: () => T): T {
  const arena: Tensor[] = [];
  try {
    return inArena(arena, fn);
  } finally {
    disposeArena(arena);
  }
}

test('engine convolutions (forward, input gradient, filter gradient) match float64 loops, on every kernel backend and thread count', () => {
  const first = new Map<string, Float32Array[]>();
  forEachBackend([1, 2], (label) => {
    const kind = label.split(',')[0];
    for (const d of data) {
      const { c } = d;
      const got = engineRun(() => {
        const x = Tensor.from(d.x, [c.n, c.h, c.w, c.ci]);
        const w = Tensor.from(d.w, [c.kh, c.kw, c.ci, c.co]);
        const dy = Tensor.from(d.dy, [c.n, d.ho, d.wo, c.co]);
        const y = C.conv2d(x, w, d.g);
        const dx = C.conv2dInputGrad(x.shape, dy, w, d.g);
        const dw = C.conv2dFilterGrad(x, dy, d.g);
        assert.deepEqual(y.shape, [c.n, d.ho, d.wo, c.co]);
        assert.deepEqual(dx.shape, [c.n, c.h, c.w, c.ci]);
        assert.deepEqual(dw.shape, [c.kh, c.kw, c.ci, c.co]);
        return [y.dataSync(), dx.dataSync(), dw.dataSync()];
      });
      assert.ok(relErr(got[0], d.y64) < TOL, `forward ${label} ${name(c)}: ${relErr(got[0], d.y64)}`);
      assert.ok(relErr(got[1], d.dx64) < TOL, `input grad ${label} ${name(c)}: ${relErr(got[1], d.dx64)}`);
      assert.ok(relErr(got[2], d.dw64) < TOL, `filter grad ${label} ${name(c)}: ${relErr(got[2], d.dw64)}`);
      // Threads never change a result: the same bits with 1 and 2 threads.
      const key = `${kind} ${name(c)}`;
      const prev = first.get(key);
      if (prev === undefined) first.set(key, got);
      else got.forEach((v, i) => assert.deepEqual(v, prev[i], `${label} ${name(c)}: output ${i} differs from 1 thread`));
    }
    assert.equal(getEngine().heap.liveBlocks, 0, `${label}: every block freed`);
  });
});

test('conv with bias adds it per output channel', () => {
  forEachBackend([1], (label) => {
    const d = data[13]; // Co = 3: the bias is padded for the kernels
    const { c } = d;
    const bias = Float32Array.from({ length: c.co }, (_, i) => i + 0.5);
    const got = engineRun(() => C.conv2d(Tensor.from(d.x, [c.n, c.h, c.w, c.ci]), Tensor.from(d.w, [c.kh, c.kw, c.ci, c.co]), d.g, Tensor.from(bias, [c.co])).dataSync());
    const want = d.y64.map((v, i) => v + bias[i % c.co]);
    assert.ok(relErr(got, want) < TOL, `${label}: ${relErr(got, want)}`);
  });
});
