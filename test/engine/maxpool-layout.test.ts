import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEngine } from '../../src/engine/kernels.js';
import * as L from '../../src/engine/layout.js';
import * as MP from '../../src/engine/maxpool.js';
import { disposeArena, inArena, Tensor } from '../../src/engine/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { forEachBackend } from '../helpers/engines.js';

/**
 * Max pooling (native/kernels/maxpool.c) and the channel/crop copies (copy.c) against the JavaScript loops DARTS ran on
 * before, bit for bit, on every engine and thread count: PyTorch's rules (padding never wins, the first maximum takes
 * ties, NaN propagates), the gradient summed into the arg-max in output order, and pure copies.
 */

function run<T>(fn: () => T): T {
  const arena: Tensor[] = [];
  try {
    return inArena(arena, fn);
  } finally {
    disposeArena(arena);
  }
}

/** The loop the kernel replaces: per output, the first maximum in row-major window order (PyTorch's `val > maxval` scan). */
function jsMaxPool(x: Float32Array, [n, h, w, c]: number[], k: number, s: number, p: number): { y: Float32Array; arg: Int32Array; ho: number; wo: number } {
  const ho = Math.floor((h + 2 * p - k) / s) + 1;
  const wo = Math.floor((w + 2 * p - k) / s) + 1;
  const y = new Float32Array(n * ho * wo * c);
  const arg = new Int32Array(y.length);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let q = 0; q < c; q++) {
          let best = -Infinity;
          let at = -1;
          for (let yy = Math.max(0, i * s - p); yy < Math.min(h, i * s - p + k); yy++)
            for (let xx = Math.max(0, j * s - p); xx < Math.min(w, j * s - p + k); xx++) {
              const src = ((b * h + yy) * w + xx) * c + q;
              const v = x[src];
              if (v > best || (v !== v && best === best) || at < 0) {
                best = v;
                at = src;
              }
            }
          y[((b * ho + i) * wo + j) * c + q] = best;
          arg[((b * ho + i) * wo + j) * c + q] = at;
        }
  return { y, arg, ho, wo };
}

function same(a: Float32Array, b: Float32Array, what: string): void {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${what}: element ${i} is ${a[i]}, want ${b[i]}`);
}

test('max pool forward, arg-max, backward and tangent gather equal the JavaScript loops bit for bit (ties, NaN, padding)', () => {
  const rng = new Rng(3);
  const inputs: { shape: number[]; x: Float32Array; what: string }[] = [];
  for (const shape of [
    [2, 7, 9, 5],
    [3, 8, 8, 16],
    [1, 3, 3, 1],
    [2, 32, 32, 16],
  ]) {
    const len = shape.reduce((a, b) => a * b, 1);
    inputs.push({ shape, x: Float32Array.from({ length: len }, () => rng.normal()), what: 'random' });
    // Ties everywhere (SynFlow's all-ones input), and a few repeated values, NaN, ±∞ and −0.
    inputs.push({ shape, x: new Float32Array(len).fill(1), what: 'constant' });
    const specials = [0, -0, 1, 1, -Infinity, Infinity, NaN, -2, 2, 2];
    inputs.push({ shape, x: Float32Array.from({ length: len }, () => specials[rng.int(specials.length)]), what: 'specials' });
  }
  forEachBackend([1, 2, 3], (label) => {
    for (const { shape, x, what } of inputs)
      for (const s of [1, 2]) {
        const ref = jsMaxPool(x, shape, 3, s, 1);
        const gy = Float32Array.from({ length: ref.y.length }, (_, i) => ((i * 7919) % 13) - 6.5);
        const gx = new Float32Array(x.length);
        for (let i = 0; i < gy.length; i++) gx[ref.arg[i]] += gy[i];
        const xt = Float32Array.from({ length: x.length }, (_, i) => (i % 11) - 5);
        const tangent = Float32Array.from(ref.arg, (a) => xt[a]);
        run(() => {
          const X = Tensor.from(x, shape);
          const { y, arg } = MP.maxPoolWithArg(X, 3, s, 1);
          const tag = `${label} ${what} [${shape}] stride ${s}`;
          same(y.view(), ref.y, `${tag} y`);
          assert.deepEqual(MP.argIndices(arg), ref.arg, `${tag} arg`);
          same(MP.maxPoolBackward(Tensor.from(gy, y.shape), arg, shape, 3, s, 1).view(), gx, `${tag} backward`);
          same(MP.gatherArg(Tensor.from(xt, shape), arg).view(), tangent, `${tag} tangent`);
        });
      }
    assert.equal(getEngine().heap.liveBlocks, 0);
  });
  run(() => assert.throws(() => MP.maxPoolWithArg(Tensor.zeros([1, 4, 4, 1]), 3, 1, 2), /padding/));
});

test('channel concatenation, slicing, crop and uncrop are exact copies on every engine', () => {
  const rng = new Rng(4);
  const r = (shape: number[]): Float32Array => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  const a = r([2, 5, 6, 3]);
  const b = r([2, 5, 6, 7]);
  const big = r([4, 33, 32, 16]); // several tasks
  forEachBackend([1, 2], (label) => {
    run(() => {
      const A = Tensor.from(a, [2, 5, 6, 3]);
      const B = Tensor.from(b, [2, 5, 6, 7]);
      const cat = L.concatChannels([A, null, B], [3, 2, 7]).view();
      for (let p = 0; p < 60; p++)
        for (let q = 0; q < 12; q++) {
          const want = q < 3 ? a[p * 3 + q] : q < 5 ? 0 : b[p * 7 + q - 5];
          assert.equal(cat[p * 12 + q], want, `${label} concat at ${p}, ${q}`);
        }
      const catT = Tensor.from(cat, [2, 5, 6, 12]);
      assert.deepEqual(L.sliceChannels(catT, 5, 7).view(), b, `${label} slice`);
      assert.deepEqual(L.concatChannels([null], [4], [1, 2, 2]).view(), new Float32Array(16), `${label} zeros only`);
      const BIG = Tensor.from(big, [4, 33, 32, 16]);
      const crop = L.cropTopLeft(BIG, 1, 1);
      assert.deepEqual(crop.shape, [4, 32, 31, 16]);
      const cv = crop.view();
      const un = L.uncropTopLeft(crop, 1, 1).view();
      for (let n = 0; n < 4; n++)
        for (let y = 0; y < 33; y++)
          for (let x = 0; x < 32; x++)
            for (let q = 0; q < 16; q++) {
              const i = ((n * 33 + y) * 32 + x) * 16 + q;
              const inside = y >= 1 && x >= 1;
              if (inside) assert.equal(cv[((n * 32 + y - 1) * 31 + x - 1) * 16 + q], big[i]);
              assert.equal(un[i], inside ? big[i] : 0, `${label} uncrop at ${n},${y},${x},${q}`);
            }
    });
  });
});
