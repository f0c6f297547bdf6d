import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../src/engine/activation.js';
import { disposeArena, inArena, Tensor } from '../../src/engine/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { forEachBackend } from '../helpers/engines.js';
import { act64 } from '../helpers/f64.js';

/**
 * Mobile-network activations (native/kernels/activation.c): values against PyTorch's float formulas (piecewise ones
 * exactly; sigmoid and SiLU within an ulp of the float64 value), first and second derivatives against float64 closed
 * forms with PyTorch's conventions at the kinks, NaN propagation, the same bits on every engine and thread count;
 * and squeeze-and-excitation's channel scale and its gradient against loops.
 */

function run<T>(fn: () => T): T {
  const arena: Tensor[] = [];
  try {
    return inArena(arena, fn);
  } finally {
    disposeArena(arena);
  }
}

const f = Math.fround;
const relu6f = (v: number): number => (v !== v ? v : v <= 0 ? 0 : v < 6 ? v : 6);
/** PyTorch's float formulas for the piecewise activations. */
const PIECEWISE: Partial<Record<A.Activation, (x: number) => number>> = {
  relu6: relu6f,
  hardswish: (x) => f(f(x * relu6f(f(x + 3))) / 6),
  hardsigmoid: (x) => f(relu6f(f(x + 3)) / 6),
};

/** PyTorch's float backward formulas of the piecewise activations (g = ∂L/∂y). */
const TORCH_GRAD: Partial<Record<A.Activation, (x: number, g: number) => number>> = {
  relu6: (x, g) => (x > 0 && x < 6 ? g : 0),
  hardswish: (x, g) => (x < -3 ? 0 : x <= 3 ? f(g * f(f(x / 3) + 0.5)) : g),
  hardsigmoid: (x, g) => (x > -3 && x < 3 ? f(g / 6) : 0),
};

/** Distance in units in the last place of float32 (0 when equal). */
function ulps(a: number, b: number): number {
  if (Object.is(a, b) || (a !== a && b !== b)) return 0;
  const buf = new Float32Array([a, b]);
  const i = new Int32Array(buf.buffer);
  const key = (v: number): number => (v < 0 ? -2147483648 - v : v);
  return Math.abs(key(i[0]) - key(i[1]));
}

const KINKS = [-6, -3, -1e-7, -0, 0, 1e-7, 3, 6, 7];
function inputs(rng: Rng): Float32Array {
  const v = [...KINKS, -Infinity, Infinity, NaN, -100, 100, -20, 20, 1e-30, -1e-30];
  for (let i = 0; i < 70000; i++) v.push(rng.normal() * (i % 3 === 0 ? 8 : 2));
  return Float32Array.from(v);
}

test('activation values: piecewise ones equal PyTorch float formulas, sigmoid/SiLU within 1 ulp of float64, NaN propagates', () => {
  const x = inputs(new Rng(1));
  forEachBackend([1], (label) => {
    for (const kind of A.ACTIVATIONS) {
      const y = run(() => A.activation(kind, Tensor.from(x, [x.length])).dataSync());
      const ref = PIECEWISE[kind];
      const { f: f64 } = act64(kind);
      for (let i = 0; i < x.length; i++) {
        if (x[i] !== x[i]) {
          assert.ok(y[i] !== y[i], `${label} ${kind}(NaN) = ${y[i]}`);
          continue;
        }
        if (ref) assert.ok(Object.is(y[i], ref(x[i])) || (y[i] === 0 && ref(x[i]) === 0), `${label} ${kind}(${x[i]}) = ${y[i]}, want ${ref(x[i])}`);
        else if (Number.isFinite(x[i])) assert.ok(ulps(y[i], f(f64(x[i]))) <= 1, `${label} ${kind}(${x[i]}) = ${y[i]}, float64 ${f64(x[i])}`);
      }
      if (!ref) {
        assert.equal(y[x.indexOf(-Infinity)], kind === 'sigmoid' ? 0 : NaN); // SiLU: −∞·0, as PyTorch
        assert.equal(y[x.indexOf(Infinity)], kind === 'sigmoid' ? 1 : Infinity);
      }
    }
  });
});

test('activation derivatives: f′·a and f′·a + f″·b·c equal PyTorch float formulas (piecewise) or float64 closed forms (sigmoid, SiLU)', () => {
  const rng = new Rng(2);
  const x = inputs(rng).filter((v) => Number.isFinite(v));
  const a = Float32Array.from(x, () => rng.normal());
  const b = Float32Array.from(x, () => rng.normal());
  const c = Float32Array.from(x, () => rng.normal());
  forEachBackend([1], (label) => {
    for (const kind of A.ACTIVATIONS) {
      const { d1, d2 } = act64(kind);
      const [g1, g2, g3] = run(() => {
        const X = Tensor.from(x, [x.length]);
        const [T, B, C] = [a, b, c].map((v) => Tensor.from(v, [v.length]));
        return [A.activationGrad(kind, X, T), A.activationGradDual(kind, X, T, B, C), A.activationGradDual(kind, X, null, B, C)].map((t) => t.dataSync());
      });
      const torch = TORCH_GRAD[kind];
      for (let i = 0; i < x.length; i++) {
        if (torch) {
          // PyTorch's float backward formulas, bit for bit (hard-swish's f″ term: (b·c)/3 on (−3, 3)).
          const v = torch(x[i], a[i]);
          const t2 = kind === 'hardswish' && x[i] > -3 && x[i] < 3 ? f(f(b[i] * c[i]) / 3) : 0;
          assert.ok(Object.is(g1[i], v) || (g1[i] === 0 && v === 0), `${label} ${kind}′(${x[i]})·a = ${g1[i]}, PyTorch ${v}`);
          assert.ok(Object.is(g2[i], f(v + t2)) || (g2[i] === 0 && f(v + t2) === 0), `${label} ${kind} dual at ${x[i]}: ${g2[i]}, want ${f(v + t2)}`);
          assert.ok(Object.is(g3[i], t2) || (g3[i] === 0 && t2 === 0), `${label} ${kind} dual without ȳ̇ at ${x[i]}: ${g3[i]}, want ${t2}`);
          continue;
        }
        const w1 = d1(x[i]) * a[i];
        const w2 = w1 + d2(x[i]) * b[i] * c[i];
        const w3 = d2(x[i]) * b[i] * c[i];
        assert.ok(ulps(g1[i], f(w1)) <= 2 || Math.abs(g1[i] - w1) < 1e-12, `${label} ${kind}′(${x[i]})·a = ${g1[i]}, want ${w1}`);
        assert.ok(ulps(g2[i], f(w2)) <= 2 || Math.abs(g2[i] - w2) < 1e-12, `${label} ${kind} dual at ${x[i]}: ${g2[i]}, want ${w2}`);
        assert.ok(ulps(g3[i], f(w3)) <= 2 || Math.abs(g3[i] - w3) < 1e-12, `${label} ${kind} dual without ȳ̇ at ${x[i]}: ${g3[i]}, want ${w3}`);
      }
    }
  });
  // PyTorch's derivatives at the kinks: relu6 0 at 0 and 6; hardswish x/3 + 1/2 on [−3, 3], 0 below, 1 above; hardsigmoid 1/6 on (−3, 3).
  const k = Float32Array.from([-3, 0, 3, 6]);
  const one = new Float32Array(4).fill(1);
  const d = (kind: A.Activation): number[] => run(() => [...A.activationGrad(kind, Tensor.from(k, [4]), Tensor.from(one, [4])).view()]);
  assert.deepEqual(d('relu6'), [0, 0, 1, 0]);
  assert.deepEqual(d('hardswish'), [-0.5, 0.5, 1.5, 1]);
  assert.deepEqual(d('hardsigmoid'), [0, f(1 / 6), 0, 0]);
});

test('activations and the channel scale give the same bits on every engine and thread count', () => {
  const rng = new Rng(3);
  const x = Float32Array.from({ length: 4 * 20 * 20 * 40 }, () => rng.normal() * 4);
  const g = Float32Array.from(x, () => rng.normal());
  const s = Float32Array.from({ length: 4 * 40 }, () => rng.normal());
  let first: Float32Array[] | undefined;
  forEachBackend([1, 2, 3], (label) => {
    const got = run(() => {
      const X = Tensor.from(x, [4, 20, 20, 40]);
      const G = Tensor.from(g, X.shape);
      const S = Tensor.from(s, [4, 40]);
      const out: Tensor[] = [];
      for (const kind of A.ACTIVATIONS) out.push(A.activation(kind, X), A.activationGrad(kind, X, G), A.activationGradDual(kind, X, G, G, X));
      out.push(A.channelScale(X, S), A.channelScale(X, S, G, S), A.channelScaleGrad([[X, G]], [4, 40]));
      return out.map((t) => t.dataSync());
    });
    if (first === undefined) first = got;
    else got.forEach((v, i) => assert.deepEqual(v, first![i], `${label}: output ${i}`));
  });
});

test('channel scale: x·s per image and channel, its two-term form, and Σ_positions x·g as ∂/∂s', () => {
  const rng = new Rng(4);
  const [n, h, w, c] = [3, 4, 5, 6];
  const x = Float32Array.from({ length: n * h * w * c }, () => rng.normal());
  const b = Float32Array.from(x, () => rng.normal());
  const s = Float32Array.from({ length: n * c }, () => rng.normal());
  const t = Float32Array.from(s, () => rng.normal());
  forEachBackend([1], (label) => {
    run(() => {
      const X = Tensor.from(x, [n, h, w, c]);
      const B = Tensor.from(b, X.shape);
      const S = Tensor.from(s, [n, 1, 1, c]);
      const T = Tensor.from(t, [n, c]);
      const y = A.channelScale(X, S).view();
      const y2 = A.channelScale(X, S, B, T).view();
      const gs = A.channelScaleGrad([[X, B]], [n, 1, 1, c]);
      assert.deepEqual(gs.shape, [n, 1, 1, c]);
      const want = new Float64Array(n * c);
      for (let i = 0; i < x.length; i++) {
        const k = Math.floor(i / (h * w * c)) * c + (i % c);
        assert.equal(y[i], f(x[i] * s[k]), `${label} y[${i}]`);
        assert.equal(y2[i], f(f(x[i] * s[k]) + f(b[i] * t[k])), `${label} y2[${i}]`);
        want[k] += x[i] * b[i];
      }
      gs.view().forEach((v, k) => assert.equal(v, f(want[k]), `${label} ∂s[${k}]`));
      assert.throws(() => A.channelScale(X, Tensor.zeros([n, c + 1])), /one value per image and channel/);
    });
  });
});
