import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Sgd, clipGradNorm, cosineLr } from '../../src/train/optim.js';
import { InputError } from '../../src/util/errors.js';

function near(a: number, b: number, tol = 1e-6, msg = ''): void {
  assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);
}

test('cosineLr: endpoints, midpoint, fractional epochs', () => {
  near(cosineLr(0, 10, 0.1, 0), 0.1, 1e-15);
  near(cosineLr(5, 10, 0.1, 0), 0.05, 1e-15);
  near(cosineLr(10, 10, 0.1, 0.001), 0.001, 1e-15);
  near(cosineLr(2, 4, 1, 0.5), 0.75, 1e-15);
  // a quarter of the way: (1 + cos(π/4))/2
  near(cosineLr(2.5, 10, 1, 0), (1 + Math.SQRT1_2) / 2, 1e-15);
  assert.equal(cosineLr(0, 1, 0.2, 0), 0.2);
  for (const bad of [
    () => cosineLr(0, 0, 0.1, 0),
    () => cosineLr(0, 2.5, 0.1, 0),
    () => cosineLr(-1, 10, 0.1, 0),
    () => cosineLr(11, 10, 0.1, 0),
    () => cosineLr(NaN, 10, 0.1, 0),
    () => cosineLr(0, 10, -0.1, 0),
    () => cosineLr(0, 10, 0.1, 0.2),
  ]) {
    assert.throws(bad, InputError);
  }
});

test('cosineLr: non-increasing over a run', () => {
  let prev = Infinity;
  for (let e = 0; e <= 200; e++) {
    const lr = cosineLr(e / 4, 50, 0.025, 1e-4);
    assert.ok(lr <= prev && lr >= 1e-4 - 1e-18);
    prev = lr;
  }
});

test('clipGradNorm: scales by maxNorm/(norm+1e-6), returns the norm before clipping', () => {
  const a = Float32Array.from([3, 0]);
  const b = Float32Array.from([0, 4]);
  const norm = clipGradNorm([a, b], 1);
  assert.equal(norm, 5);
  const coef = 1 / (5 + 1e-6);
  near(a[0], Math.fround(3 * coef), 0);
  near(b[1], Math.fround(4 * coef), 0);
  assert.equal(a[1], 0);
  // below the limit: untouched
  const c = Float32Array.from([0.3, -0.4]);
  assert.equal(clipGradNorm([c], 1), Math.sqrt(Math.fround(0.3) ** 2 + Math.fround(-0.4) ** 2));
  assert.deepEqual([...c], [Math.fround(0.3), Math.fround(-0.4)]);
  // nothing to clip
  assert.equal(clipGradNorm([], 1), 0);
  assert.equal(clipGradNorm([new Float32Array(3)], 1), 0);
});

test('clipGradNorm: norm accumulated in float64 (no float32 overflow)', () => {
  const g = new Float32Array(4).fill(2e19); // each square overflows float32
  const norm = clipGradNorm([g], 1);
  near(norm / (2 * Math.fround(2e19)), 1, 1e-12);
  for (const v of g) near(v, 0.5, 1e-6);
});

test('clipGradNorm: non-finite norm and bad maxNorm throw', () => {
  assert.throws(() => clipGradNorm([Float32Array.from([1, NaN])], 1), (e: unknown) => e instanceof Error && !(e instanceof InputError) && /non-finite gradient norm/.test(e.message));
  assert.throws(() => clipGradNorm([Float32Array.from([Infinity])], 1), /non-finite gradient norm/);
  assert.throws(() => clipGradNorm([Float32Array.from([1])], 0), InputError);
  assert.throws(() => clipGradNorm([Float32Array.from([1])], NaN), InputError);
});

test('clipGradNorm property: clipped norm ≤ maxNorm·(1+1e-6), direction preserved', () => {
  const arr = fc.float32Array({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6, maxLength: 20 });
  fc.assert(
    fc.property(fc.array(arr, { maxLength: 5 }), fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (gs, maxNorm) => {
      const before = gs.map((g) => Float64Array.from(g));
      const norm = clipGradNorm(gs, maxNorm);
      let sq = 0;
      for (const g of before) for (const v of g) sq += v * v;
      near(norm, Math.sqrt(sq), 1e-9 * Math.max(1, norm));
      let after = 0;
      for (const g of gs) for (const v of g) after += v * v;
      assert.ok(Math.sqrt(after) <= maxNorm * (1 + 1e-6), `${Math.sqrt(after)} > ${maxNorm}`);
      // Same direction: every element scaled by one common non-negative factor (up to float32 rounding).
      const k = norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
      gs.forEach((g, j) => g.forEach((v, i) => assert.equal(v, Math.fround(before[j][i] * k))));
    }),
  );
});

test('Sgd without momentum: p −= lr·(g + wd·p) on a quadratic', () => {
  // f(p) = ½·p², gradient p; p0 = 1, lr 0.1 → 0.9, 0.81, 0.729
  const p = Float32Array.from([1]);
  const opt = new Sgd(new Map([['w', p]]), { momentum: 0, weightDecay: 0 });
  for (const expected of [0.9, 0.81, 0.729]) {
    opt.step(new Map([['w', Float32Array.from(p)]]), 0.1);
    near(p[0], expected);
  }
  assert.equal(opt.buffer('w'), undefined);
});

test('Sgd with momentum: first step buf = d, then buf = m·buf + d (hand-computed)', () => {
  // f(p) = ½·(2p² + q²) with gradient (2p, q); momentum 0.9, lr 0.1, p0 = (1, −2)
  const p = Float32Array.from([1, -2]);
  const opt = new Sgd(new Map([['w', p]]), { momentum: 0.9, weightDecay: 0 });
  const grad = () => new Map([['w', Float32Array.from([2 * p[0], p[1]])]]);
  opt.step(grad(), 0.1);
  // buf = (2, −2); p = (0.8, −1.8)
  near(p[0], 0.8);
  near(p[1], -1.8);
  assert.deepEqual([...opt.buffer('w')!], [2, -2]);
  opt.step(grad(), 0.1);
  // d = (1.6, −1.8); buf = (0.9·2 + 1.6, 0.9·−2 − 1.8) = (3.4, −3.6); p = (0.46, −1.44)
  near(opt.buffer('w')![0], 3.4);
  near(opt.buffer('w')![1], -3.6);
  near(p[0], 0.46);
  near(p[1], -1.44);
  opt.step(grad(), 0.05);
  // d = (0.92, −1.44); buf = (3.98, −4.68); p = (0.46 − 0.199, −1.44 + 0.234)
  near(p[0], 0.261);
  near(p[1], -1.206);
});

test('Sgd weight decay is added to the gradient before momentum', () => {
  const p = Float32Array.from([2]);
  const opt = new Sgd(new Map([['w', p]]), { momentum: 0.5, weightDecay: 0.1 });
  opt.step(new Map([['w', Float32Array.from([1])]]), 1);
  // d = 1 + 0.2 = 1.2; buf = 1.2; p = 0.8
  near(p[0], 0.8);
  opt.step(new Map([['w', Float32Array.from([0])]]), 1);
  // d = 0.08; buf = 0.6 + 0.08 = 0.68; p = 0.12
  near(p[0], 0.12);
  // zero gradient, no momentum history: pure decay p·(1 − lr·wd)
  const q = Float32Array.from([3]);
  new Sgd(new Map([['q', q]]), { momentum: 0, weightDecay: 0.01 }).step(new Map([['q', new Float32Array(1)]]), 0.5);
  near(q[0], 3 * (1 - 0.005));
});

test('Sgd: parameters without a gradient keep their value and buffer; a later first step starts fresh', () => {
  const a = Float32Array.from([1]);
  const b = Float32Array.from([1]);
  const opt = new Sgd(new Map([['a', a], ['b', b]]), { momentum: 0.9, weightDecay: 0.5 });
  opt.step(new Map([['a', Float32Array.from([1])]]), 0.1);
  assert.equal(b[0], 1);
  assert.equal(opt.buffer('b'), undefined);
  opt.step(new Map([['b', Float32Array.from([1])]]), 0.1);
  // b's first step: buf = 1 + 0.5 = 1.5 (no momentum term)
  near(b[0], 1 - 0.15);
  near(a[0], 1 - 0.15);
});

test('Sgd: shape mismatch / unknown name throw before anything changes; bad options', () => {
  const a = Float32Array.from([1, 2]);
  const b = Float32Array.from([3]);
  const opt = new Sgd(new Map([['a', a], ['b', b]]), { momentum: 0.9, weightDecay: 0 });
  assert.throws(() => opt.step(new Map([['a', Float32Array.from([1, 1])], ['b', Float32Array.from([1, 1])]]), 0.1), /'b' has 2 elements/);
  assert.deepEqual([...a], [1, 2]);
  assert.throws(() => opt.step(new Map([['c', Float32Array.from([1])]]), 0.1), /unknown parameter 'c'/);
  assert.throws(() => opt.step(new Map(), NaN), InputError);
  assert.throws(() => new Sgd(new Map(), { momentum: 1, weightDecay: 0 }), InputError);
  assert.throws(() => new Sgd(new Map(), { momentum: 0.9, weightDecay: -1 }), InputError);
});
