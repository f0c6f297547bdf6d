import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GaussianProcess } from '../../src/gp/gp.js';
import { boundSweep } from '../../src/gp/sweep.js';
import { Rng } from '../../src/util/rng.js';

function close(actual: number, expected: number, tol: number, msg = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${msg} ${actual} vs ${expected}`);
}

// Matérn 5/2 written out again here, so the expected numbers do not come from the code under test.
const k52 = (r: number, l: number): number => {
  const d = (Math.sqrt(5) * r) / l;
  return (1 + d + (d * d) / 3) * Math.exp(-d);
};

/**
 * Two training points x₁ = 0, x₂ = 1 (1-D), length scale ℓ, diagonal noise a:
 * K = [[1+a, k₁₂], [k₁₂, 1+a]], K⁻¹ = [[1+a, −k₁₂], [−k₁₂, 1+a]] / ((1+a)² − k₁₂²),
 * k* = [k(x*), k(x* − 1)], mean = k*ᵀK⁻¹y, var = 1 − k*ᵀK⁻¹k*.
 */
function twoPointPosterior(y: [number, number], xs: number, l: number, a: number): { mean: number; variance: number } {
  const k12 = k52(1, l);
  const det = (1 + a) * (1 + a) - k12 * k12;
  const inv = [(1 + a) / det, -k12 / det, -k12 / det, (1 + a) / det];
  const ks = [k52(Math.abs(xs), l), k52(Math.abs(xs - 1), l)];
  const w = [inv[0] * ks[0] + inv[1] * ks[1], inv[2] * ks[0] + inv[3] * ks[1]];
  return { mean: w[0] * y[0] + w[1] * y[1], variance: 1 - (w[0] * ks[0] + w[1] * ks[1]) };
}

test('posterior mean and variance match the two-point closed form', () => {
  const a = 0.01;
  const l = 0.8;
  const gp = new GaussianProcess(1, { optimise: false, normalizeY: false, lengthScale: l, noise: a });
  gp.fit([0, 1], [1, 3]);
  for (const xs of [0.4, -0.3, 1.7, 0]) {
    const want = twoPointPosterior([1, 3], xs, l, a);
    const got = gp.predict([xs]);
    close(got.mean, want.mean, 1e-12, `mean at ${xs}`);
    close(got.variance, want.variance, 1e-12, `variance at ${xs}`);
    close(got.std, Math.sqrt(want.variance), 1e-12, `std at ${xs}`);
  }
  // A worked number: at x* = 0.4, k* = [k(0.4), k(0.6)] and the mean lies between the targets.
  const m = gp.predict([0.4]).mean;
  assert.ok(m > 1 && m < 3);
});

test('normalize_y standardises targets and de-standardises predictions', () => {
  const a = 1e-6;
  const l = 0.8;
  const gp = new GaussianProcess(1, { optimise: false, lengthScale: l, noise: a });
  // y = [10, 30]: mean 20, population std 10, standardised [−1, 1]
  gp.fit([0, 1], [10, 30]);
  assert.equal(gp.yMean, 20);
  assert.equal(gp.yStd, 10);
  const base = twoPointPosterior([-1, 1], 0.4, l, a);
  const got = gp.predict([0.4]);
  close(got.mean, 20 + 10 * base.mean, 1e-12);
  close(got.variance, 100 * base.variance, 1e-10);

  // Constant targets: std 0 is replaced by 1, so the mean is the constant and the variance unscaled.
  const flat = new GaussianProcess(1, { optimise: false, lengthScale: l, noise: a });
  flat.fit([0, 1], [5, 5]);
  assert.equal(flat.yStd, 1);
  const p = flat.predict([0.4]);
  close(p.mean, 5, 1e-15);
  close(p.variance, twoPointPosterior([0, 0], 0.4, l, a).variance, 1e-12);
});

test('log marginal likelihood matches the closed form', () => {
  const a = 1e-6;
  const l = 0.8;
  const gp = new GaussianProcess(1, { optimise: false, lengthScale: l, noise: a });
  gp.fit([0, 1], [10, 30]); // standardised targets [−1, 1]
  const k12 = k52(1, l);
  const det = (1 + a) ** 2 - k12 ** 2;
  // yᵀK⁻¹y for y = [−1, 1]: ((1+a)·2 + 2·k₁₂)/det
  const quad = (2 * (1 + a) + 2 * k12) / det;
  const want = -0.5 * quad - 0.5 * Math.log(det) - Math.log(2 * Math.PI);
  close(gp.logMarginalLikelihood(Math.log(l)), want, 1e-12);
});

function randomProblem(seed: number, n: number, dim: number): { x: Float64Array; y: Float64Array } {
  const rng = new Rng(seed);
  const x = Float64Array.from({ length: n * dim }, () => rng.uniform(-1, 1));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let m = 0; m < dim; m++) s += Math.sin(2 * x[i * dim + m] + m);
    y[i] = 50 + 3 * s;
  }
  return { x, y };
}

test('LML gradient w.r.t. log length scale matches finite differences', () => {
  const { x, y } = randomProblem(1, 7, 3);
  const gp = new GaussianProcess(3, { optimise: false });
  gp.fit(x, y);
  const g = new Float64Array(1);
  for (const t of [-2, -0.5, 0, 0.4, 1.5]) {
    gp.logMarginalLikelihood(t, g);
    const h = 1e-5;
    const fd = (gp.logMarginalLikelihood(t + h) - gp.logMarginalLikelihood(t - h)) / (2 * h);
    close(g[0], fd, 1e-6, `at log ℓ = ${t}`);
  }
});

test('fit maximises the LML over the length scale (vs a grid)', () => {
  const { x, y } = randomProblem(2, 9, 2);
  const gp = new GaussianProcess(2);
  gp.fit(x, y, new Rng(3));
  const best = gp.logMarginalLikelihood(Math.log(gp.lengthScale));
  for (let t = Math.log(1e-5); t <= Math.log(1e5); t += 0.05) {
    assert.ok(gp.logMarginalLikelihood(t) <= best + 1e-6, `grid point log ℓ = ${t}`);
  }
  assert.ok(gp.lengthScale >= 1e-5 && gp.lengthScale <= 1e5);
});

test('fit needs an Rng for restarts; one point fits', () => {
  const gp = new GaussianProcess(2);
  assert.throws(() => gp.fit([0, 0, 1, 1], [1, 2]), /Rng/);
  const one = new GaussianProcess(2);
  one.fit([0.5, 0.5], [7], new Rng(1));
  close(one.predict([0.5, 0.5]).mean, 7, 1e-12);
  assert.throws(() => new GaussianProcess(2).predict([0, 0]), /before fit/);
});

test('input gradients of mean and std match finite differences', () => {
  const dim = 3;
  const { x, y } = randomProblem(4, 8, dim);
  const gp = new GaussianProcess(dim, { optimise: false, lengthScale: 0.9 });
  gp.fit(x, y);
  const gm = new Float64Array(dim);
  const gs = new Float64Array(dim);
  const rng = new Rng(5);
  for (let rep = 0; rep < 5; rep++) {
    const p = Array.from({ length: dim }, () => rng.uniform(-1, 1));
    const r = gp.predictWithGradient(p, gm, gs);
    const plain = gp.predict(p);
    close(r.mean, plain.mean, 1e-12);
    close(r.std, plain.std, 1e-12);
    for (let m = 0; m < dim; m++) {
      const h = 1e-6;
      const pp = [...p];
      const pm = [...p];
      pp[m] += h;
      pm[m] -= h;
      close(gm[m], (gp.predict(pp).mean - gp.predict(pm).mean) / (2 * h), 1e-6, `mean dim ${m}`);
      close(gs[m], (gp.predict(pp).std - gp.predict(pm).std) / (2 * h), 1e-6, `std dim ${m}`);
    }
  }
});

for (const dim of [4, 11]) test(`batch prediction equals one-by-one; the sweep bounds hold and exactAt is exact (dim ${dim})`, () => {
  const { x, y } = randomProblem(6, 12, dim);
  const gp = new GaussianProcess(dim);
  gp.fit(x, y, new Rng(7));
  const rng = new Rng(8);
  const count = 1500; // more than one block
  const pts = Float64Array.from({ length: count * dim }, () => rng.uniform(-1, 1));
  pts.set(x.subarray(0, dim), 0); // a training point: std ≈ 0
  const mean = new Float64Array(count);
  const std = new Float64Array(count);
  gp.predictBatch(pts, count, mean, std);
  const bm = new Float64Array(count);
  const bs = new Float64Array(count);
  const sweep = boundSweep(gp, pts, count, bm, bs);
  const ex = new Float64Array(2);
  let slack = 0;
  for (let p = 0; p < count; p++) {
    const one = gp.predict(pts.subarray(p * dim, (p + 1) * dim));
    close(mean[p], one.mean, 1e-12, `mean ${p}`);
    close(std[p], one.std, 1e-9, `std ${p}`);
    sweep.exactAt(p, ex);
    assert.equal(ex[0], mean[p]);
    assert.equal(ex[1], std[p]);
    assert.ok(bm[p] >= mean[p], `mean bound ${bm[p]} < mean ${mean[p]} at ${p}`);
    assert.ok(bs[p] >= std[p], `std bound ${bs[p]} < std ${std[p]} at ${p}`);
    slack = Math.max(slack, bm[p] - mean[p]);
  }
  assert.ok(slack < 0.05 * gp.yStd, `mean bound slack ${slack}`); // tight enough to prune with
  assert.ok(std[0] < 1e-2);
});
