import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/nn/backend.js';
import {
  conv2dFilterGrad,
  conv2dInputGrad,
  dwModuleBytes,
  setDirectFilterGradEnabled,
  setDirectFilterGradLimits,
  type FilterGradMethod,
  type InputGradMethod,
} from '../../src/nn/kernels.js';
import { Rng } from '../../src/util/rng.js';

/**
 * The conv backward paths of kernels.ts — the SIMD filter-gradient kernel ('direct'), the dilated-convolution
 * formulation, and the per-phase input gradient — against plain float64 loops over tfjs's own conv geometry,
 * on random inputs. Shapes cover stride 1/2/3, explicit/'same'/'valid' padding, sizes the stride does not divide,
 * batch 1, channel counts that are and are not multiples of 4 (kernel blocks of 8 and 4 outputs, padded dy),
 * and sizes large enough for several chunks and float32 flushes.
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
  { n: 2, h: 7, w: 5, ci: 8, co: 12, kh: 1, kw: 1, s: 1, pad: 0 }, // 1×1: x read in place; 8 + 4 outputs
  { n: 2, h: 7, w: 7, ci: 4, co: 4, kh: 1, kw: 1, s: 2, pad: 0 }, // 1×1 stride 2: phases without taps
  { n: 2, h: 10, w: 7, ci: 3, co: 8, kh: 3, kw: 3, s: 2, pad: 'valid' }, // odd sizes, Ci not a multiple of 4
  { n: 1, h: 11, w: 11, ci: 16, co: 32, kh: 3, kw: 3, s: 1, pad: 1 }, // batch 1
  { n: 2, h: 7, w: 6, ci: 5, co: 4, kh: 3, kw: 3, s: 2, pad: 'same' }, // asymmetric padding
  { n: 2, h: 6, w: 6, ci: 4, co: 8, kh: 2, kw: 2, s: 2, pad: 0 },
  { n: 2, h: 9, w: 9, ci: 6, co: 8, kh: 5, kw: 5, s: 1, pad: 2 },
  { n: 2, h: 10, w: 11, ci: 4, co: 4, kh: 3, kw: 3, s: 3, pad: 1 }, // three phases per axis
  { n: 2, h: 9, w: 8, ci: 8, co: 8, kh: 3, kw: 1, s: [2, 1], pad: 'same' }, // unequal strides, rectangular kernel
  { n: 2, h: 6, w: 6, ci: 3, co: 3, kh: 3, kw: 3, s: 1, pad: 1 }, // Co not a multiple of 4: dy copied with padding channels
  { n: 2, h: 9, w: 9, ci: 5, co: 10, kh: 3, kw: 3, s: 2, pad: 1 }, // Co = 8 + 2
  { n: 64, h: 28, w: 28, ci: 8, co: 8, kh: 3, kw: 3, s: 1, pad: 1 }, // the training shape: many chunks and flushes
  { n: 2, h: 40, w: 40, ci: 32, co: 32, kh: 3, kw: 3, s: 1, pad: 1 }, // chunks of rows within an image
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

interface Geometry {
  ho: number;
  wo: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
}

function geometry(c: Case): Geometry {
  const info = tf.backend_util.computeConv2DInfo([c.n, c.h, c.w, c.ci], [c.kh, c.kw, c.ci, c.co], c.s, 1, c.pad);
  return { ho: info.outHeight, wo: info.outWidth, sh: info.strideHeight, sw: info.strideWidth, top: info.padInfo.top, left: info.padInfo.left };
}

/** dW[a,b,i,o] = Σ_{n,y,x} x[n, y·sh + a − top, x·sw + b − left, i] · dy[n,y,x,o], in float64. */
function filterGrad64(c: Case, g: Geometry, x: Float32Array, dy: Float32Array): Float64Array {
  const out = new Float64Array(c.kh * c.kw * c.ci * c.co);
  for (let n = 0; n < c.n; n++)
    for (let y = 0; y < g.ho; y++)
      for (let xx = 0; xx < g.wo; xx++) {
        const d0 = ((n * g.ho + y) * g.wo + xx) * c.co;
        for (let a = 0; a < c.kh; a++) {
          const iy = y * g.sh + a - g.top;
          if (iy < 0 || iy >= c.h) continue;
          for (let b = 0; b < c.kw; b++) {
            const ix = xx * g.sw + b - g.left;
            if (ix < 0 || ix >= c.w) continue;
            const x0 = ((n * c.h + iy) * c.w + ix) * c.ci;
            for (let i = 0; i < c.ci; i++) {
              const xv = x[x0 + i];
              const o0 = ((a * c.kw + b) * c.ci + i) * c.co;
              for (let o = 0; o < c.co; o++) out[o0 + o] += xv * dy[d0 + o];
            }
          }
        }
      }
  return out;
}

/** dx[n, iy, ix, i] = Σ dy[n,y,x,o] · W[a,b,i,o] over the (y, x, a, b) that read (iy, ix), in float64. */
function inputGrad64(c: Case, g: Geometry, w: Float32Array, dy: Float32Array): Float64Array {
  const out = new Float64Array(c.n * c.h * c.w * c.ci);
  for (let n = 0; n < c.n; n++)
    for (let y = 0; y < g.ho; y++)
      for (let xx = 0; xx < g.wo; xx++) {
        const d0 = ((n * g.ho + y) * g.wo + xx) * c.co;
        for (let a = 0; a < c.kh; a++) {
          const iy = y * g.sh + a - g.top;
          if (iy < 0 || iy >= c.h) continue;
          for (let b = 0; b < c.kw; b++) {
            const ix = xx * g.sw + b - g.left;
            if (ix < 0 || ix >= c.w) continue;
            const x0 = ((n * c.h + iy) * c.w + ix) * c.ci;
            for (let i = 0; i < c.ci; i++) {
              const w0 = ((a * c.kw + b) * c.ci + i) * c.co;
              let s = 0;
              for (let o = 0; o < c.co; o++) s += dy[d0 + o] * w[w0 + o];
              out[x0 + i] += s;
            }
          }
        }
      }
  return out;
}

interface Data {
  c: Case;
  g: Geometry;
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  dw64: Float64Array;
  dx64: Float64Array;
}

function makeData(rng: Rng): Data[] {
  return CASES.map((c) => {
    const g = geometry(c);
    const x = randArray(c.n * c.h * c.w * c.ci, rng);
    const w = randArray(c.kh * c.kw * c.ci * c.co, rng);
    const dy = randArray(c.n * g.ho * g.wo * c.co, rng);
    return { c, g, x, w, dy, dw64: filterGrad64(c, g, x, dy), dx64: inputGrad64(c, g, w, dy) };
  });
}

const name = (c: Case): string => `[${c.n},${c.h},${c.w},${c.ci}] ${c.kh}×${c.kw} s${String(c.s)} pad ${String(c.pad)} → Co ${c.co}`;

function filterGrad(d: Data, method: FilterGradMethod): Float32Array {
  const { c, g } = d;
  return tf.tidy(() => {
    const x = tf.tensor4d(d.x, [c.n, c.h, c.w, c.ci]);
    const dy = tf.tensor4d(d.dy, [c.n, g.ho, g.wo, c.co]);
    const out = conv2dFilterGrad(x, dy, [c.kh, c.kw, c.ci, c.co], c.s, c.pad, undefined, method);
    assert.deepEqual(out.shape, [c.kh, c.kw, c.ci, c.co]);
    return out.dataSync() as Float32Array;
  }) as unknown as Float32Array;
}

function inputGrad(d: Data, method: InputGradMethod): Float32Array {
  const { c, g } = d;
  return tf.tidy(() => {
    const w = tf.tensor4d(d.w, [c.kh, c.kw, c.ci, c.co]);
    const dy = tf.tensor4d(d.dy, [c.n, g.ho, g.wo, c.co]);
    const out = conv2dInputGrad([c.n, c.h, c.w, c.ci], dy, w, c.s, c.pad, undefined, method);
    assert.deepEqual(out.shape, [c.n, c.h, c.w, c.ci]);
    return out.dataSync() as Float32Array;
  }) as unknown as Float32Array;
}

const TOL = 1e-4;
const data = makeData(new Rng(11));

test('filter gradient (direct SIMD kernel, dilated conv, auto) matches a float64 loop on wasm', async () => {
  await initBackend('wasm');
  const before = tf.memory().numTensors;
  for (const d of data) {
    for (const m of ['direct', 'dilated', 'auto'] as const) {
      const e = relErr(filterGrad(d, m), d.dw64);
      assert.ok(e < TOL, `${m} ${name(d.c)}: rel err ${e}`);
    }
  }
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
});

test('direct filter gradient with tiny chunking limits (one image per grid group, chunks of rows, a float64 flush per chunk) matches', async () => {
  await initBackend('wasm');
  setDirectFilterGradLimits({ gridFloats: 1, chunkBytes: 1, flushCells: 1 });
  try {
    for (const d of data.filter((x) => x.c.n * x.c.h * x.c.w <= 2000)) {
      const e = relErr(filterGrad(d, 'direct'), d.dw64);
      assert.ok(e < TOL, `${name(d.c)}: rel err ${e}`);
    }
  } finally {
    setDirectFilterGradLimits();
  }
});

test('filter gradient without the SIMD kernel (auto falls back to the dilated conv) still matches', async () => {
  await initBackend('wasm');
  setDirectFilterGradEnabled(false);
  try {
    for (const d of data.slice(0, 6)) {
      const e = relErr(filterGrad(d, 'auto'), d.dw64);
      assert.ok(e < TOL, `${name(d.c)}: rel err ${e}`);
    }
  } finally {
    setDirectFilterGradEnabled(true);
  }
});

test('input gradient (per-phase and dilated conv, auto) matches a float64 loop on wasm', async () => {
  await initBackend('wasm');
  const before = tf.memory().numTensors;
  for (const d of data) {
    for (const m of ['phases', 'conv', 'auto'] as const) {
      const e = relErr(inputGrad(d, m), d.dx64);
      assert.ok(e < TOL, `${m} ${name(d.c)}: rel err ${e}`);
    }
  }
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
});

test('on the cpu backend (no wasm kernels: JavaScript interleave and dilated filter gradient) the results match too', async () => {
  await initBackend('cpu');
  try {
    for (const d of data.filter((x) => x.c.n * x.c.h * x.c.w <= 2000)) {
      const ew = relErr(filterGrad(d, 'auto'), d.dw64);
      assert.ok(ew < TOL, `filter ${name(d.c)}: rel err ${ew}`);
      const ex = relErr(inputGrad(d, 'phases'), d.dx64);
      assert.ok(ex < TOL, `input ${name(d.c)}: rel err ${ex}`);
    }
  } finally {
    await initBackend('wasm');
  }
});

test('the kernel module validates as WebAssembly', () => {
  assert.ok(WebAssembly.validate(dwModuleBytes()));
});
