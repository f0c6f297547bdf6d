/**
 * The GP's WebAssembly loops (native/gp/gp.c) against the JavaScript loops they replaced, bit for bit: the likelihood
 * and its gradient from src/gp/linalg.ts's Cholesky, solve and inverse; posteriors one point at a time; and the sweep's
 * bounds holding for every point while two GPs take turns with the shared instances.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GaussianProcess } from '../../src/gp/gp.js';
import { boundSweep } from '../../src/gp/sweep.js';
import { matern52Gram, pairwiseDistances } from '../../src/gp/kernel.js';
import { cholesky, choleskyInverse, choleskySolve } from '../../src/gp/linalg.js';
import { Rng } from '../../src/util/rng.js';

/** The likelihood and gradient exactly as gp.ts computed them in JavaScript. */
function jsLikelihood(x: Float64Array, yn: Float64Array, dim: number, logEll: number, noise: number): { value: number; grad: number } {
  const n = yn.length;
  const dist = pairwiseDistances(x, n, dim);
  const dk = new Float64Array(n * n);
  const k = matern52Gram(dist, n, Math.exp(logEll), noise, undefined, dk);
  const l = cholesky(k, n);
  if (!l) return { value: -Infinity, grad: 0 };
  const a = choleskySolve(l, n, yn);
  let fit = 0;
  for (let i = 0; i < n; i++) fit += yn[i] * a[i];
  let logDiag = 0;
  for (let i = 0; i < n; i++) logDiag += Math.log(l[i * n + i]);
  const inv = choleskyInverse(l, n);
  let g = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g += (a[i] * a[j] - inv[i * n + j]) * dk[i * n + j];
  return { value: -0.5 * fit - logDiag - 0.5 * n * Math.log(2 * Math.PI), grad: 0.5 * g };
}

test('the likelihood and its gradient equal the JavaScript linear algebra bit for bit', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 }), fc.double({ min: -4, max: 3, noNaN: true }), fc.integer({ min: 0, max: 1e6 }), (n, dim, logEll, seed) => {
      const rng = new Rng(seed);
      const x = Float64Array.from({ length: n * dim }, () => rng.uniform(-1, 1));
      const y = Float64Array.from({ length: n }, () => rng.uniform(40, 50));
      const gp = new GaussianProcess(dim, { optimise: false, normalizeY: false });
      gp.fit(x, y);
      const g = new Float64Array(1);
      const value = gp.logMarginalLikelihood(logEll, g);
      const want = jsLikelihood(x, y, dim, logEll, 1e-6);
      assert.equal(value, want.value);
      assert.equal(g[0], want.grad);
    }),
    { numRuns: 60 },
  );
});

test('two GPs taking turns get the posteriors each would get alone; a sweep overwritten by another GP is refused', () => {
  const make = (seed: number, n: number, dim: number) => {
    const rng = new Rng(seed);
    const gp = new GaussianProcess(dim);
    gp.fit(
      Float64Array.from({ length: n * dim }, () => rng.uniform(-1, 1)),
      Float64Array.from({ length: n }, () => rng.uniform(0, 1)),
      rng,
    );
    const pts = Float64Array.from({ length: 301 * dim }, () => rng.uniform(-1, 1));
    return { gp, pts, dim };
  };
  const a = make(1, 13, 5); // odd n: the paired loops' tails
  const b = make(2, 30, 3);
  const posterior = (s: typeof a) => {
    const m = new Float64Array(301);
    const sd = new Float64Array(301);
    s.gp.predictBatch(s.pts, 301, m, sd);
    return [m, sd];
  };
  const aloneA = posterior(a);
  const aloneB = posterior(b);
  for (let k = 0; k < 3; k++) {
    assert.deepEqual(posterior(a), aloneA);
    assert.deepEqual(posterior(b), aloneB);
  }
  // One at a time equals the batch (predictInto's loops are JavaScript).
  const one = new Float64Array(2);
  for (let p = 0; p < 301; p += 37) {
    a.gp.predictInto(a.pts.subarray(p * 5, (p + 1) * 5), one);
    assert.equal(one[0], aloneA[0][p]);
    assert.equal(one[1], aloneA[1][p]);
  }
  const bm = new Float64Array(301);
  const bs = new Float64Array(301);
  const sweepA = boundSweep(a.gp, a.pts, 301, bm, bs);
  const ex = new Float64Array(2);
  for (let p = 0; p < 301; p++) {
    sweepA.exactAt(p, ex);
    assert.equal(ex[0], aloneA[0][p]);
    assert.ok(bm[p] >= ex[0] && bs[p] >= ex[1], `bounds at ${p}`);
  }
  const sweepB = boundSweep(b.gp, b.pts, 301, bm, bs);
  assert.throws(() => sweepA.exactAt(0, ex), /overwritten by a later sweep/);
  assert.throws(() => sweepB.exactAt(301, ex), /no point 301 in this sweep/);
  sweepB.exactAt(0, ex);
  assert.equal(ex[0], aloneB[0][0]);
});

test('the sweep bounds hold at training points, between them and far away, for short and long length scales', () => {
  for (const [n, dim, scale] of [
    [1, 2, 1],
    [7, 6, 0.05],
    [25, 6, 1],
    [40, 2, 30],
  ] as const) {
    const rng = new Rng(n * 100 + dim);
    const x = Float64Array.from({ length: n * dim }, () => rng.uniform(-1, 1) * scale);
    const y = Float64Array.from({ length: n }, (_, i) => Math.sin(5 * x[i * dim]) + rng.normal() * 0.1);
    const gp = new GaussianProcess(dim);
    gp.fit(x, y, rng);
    const count = 2000;
    // A third at the training points (σ ≈ 0, the tightest test of the σ bound), a third near, a third far out.
    const pts = Float64Array.from({ length: count * dim }, (_, q) => {
      const p = Math.floor(q / dim);
      const m = q % dim;
      const i = p % n;
      if (p < count / 3) return x[i * dim + m];
      if (p < (2 * count) / 3) return x[i * dim + m] + rng.normal() * 0.01 * scale;
      return rng.uniform(-40, 40) * scale;
    });
    const mean = new Float64Array(count);
    const std = new Float64Array(count);
    gp.predictBatch(pts, count, mean, std);
    const bm = new Float64Array(count);
    const bs = new Float64Array(count);
    boundSweep(gp, pts, count, bm, bs);
    for (let p = 0; p < count; p++) {
      assert.ok(bm[p] >= mean[p], `n ${n}: mean bound ${bm[p]} < ${mean[p]} at ${p}`);
      assert.ok(bs[p] >= std[p], `n ${n}: std bound ${bs[p]} < ${std[p]} at ${p}`);
    }
  }
});
