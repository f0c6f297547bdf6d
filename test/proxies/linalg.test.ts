import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choleskyLogDet, corrcoef, slogdet, symmetricEigenvalues } from '../../src/proxies/linalg.js';
import { Rng } from '../../src/util/rng.js';

function close(a: number, b: number, tol: number, what = ''): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

/** Q·diag(λ)·Qᵀ with Q a product of random Householder reflections. */
function withEigenvalues(lambda: number[], rng: Rng): Float64Array {
  const n = lambda.length;
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let r = 0; r < 3; r++) {
    const v = Array.from({ length: n }, () => rng.normal());
    const norm = Math.hypot(...v);
    const u = v.map((x) => x / norm);
    // Q ← (I − 2uuᵀ)·Q
    for (let j = 0; j < n; j++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += u[i] * q[i * n + j];
      for (let i = 0; i < n; i++) q[i * n + j] -= 2 * u[i] * d;
    }
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += q[i * n + k] * lambda[k] * q[j * n + k];
  return a;
}

test('symmetricEigenvalues: diagonal, 2×2 closed form, and a rotated spectrum incl. tiny eigenvalues', () => {
  assert.deepEqual(Array.from(symmetricEigenvalues([3, 0, 0, 0, -1, 0, 0, 0, 2], 3)), [-1, 2, 3]);
  const [a, b, c] = [2, 0.7, -1.5];
  const disc = Math.sqrt(((a - c) / 2) ** 2 + b * b);
  const ev = symmetricEigenvalues([a, b, b, c], 2);
  close(ev[0], (a + c) / 2 - disc, 1e-14, 'λmin');
  close(ev[1], (a + c) / 2 + disc, 1e-14, 'λmax');
  const rng = new Rng(7);
  const lambda = [1e-9, 3e-6, 0.01, 0.5, 1, 1, 2.5, 7, 40, 64];
  const got = symmetricEigenvalues(withEigenvalues(lambda, rng), lambda.length);
  lambda.forEach((l, i) => assert.ok(Math.abs(got[i] - l) < 1e-13 * 64, `λ${i}: ${got[i]} vs ${l}`));
});

test('symmetricEigenvalues: trace and Frobenius norm preserved on a random 64×64 correlation matrix', () => {
  const rng = new Rng(3);
  const n = 64;
  const d = 200;
  const rows = Array.from({ length: n * d }, () => rng.normal());
  const c = corrcoef(rows, n, d);
  const ev = symmetricEigenvalues(c, n);
  close(ev.reduce((s, v) => s + v, 0), n, 1e-12, 'trace');
  let fro = 0;
  for (const v of c) fro += v * v;
  close(ev.reduce((s, v) => s + v * v, 0), fro, 1e-12, 'Frobenius');
  assert.ok(ev[0] > 0, 'a correlation matrix of independent rows is positive definite');
});

test('slogdet: closed forms, pivoting sign, singular matrix; Cholesky agrees on SPD matrices', () => {
  const r = slogdet([0, 2, 3, 1], 2); // det = −6
  assert.equal(r.sign, -1);
  close(r.logAbsDet, Math.log(6), 1e-15);
  const tri = [2, 5, 7, 0, 3, 11, 0, 0, 0.5];
  close(slogdet(tri, 3).logAbsDet, Math.log(3), 1e-15);
  assert.equal(slogdet(tri, 3).sign, 1);
  assert.deepEqual(slogdet([1, 2, 2, 4], 2), { sign: 0, logAbsDet: -Infinity });
  const rng = new Rng(11);
  const lambda = [0.1, 1, 2, 30, 400, 5000];
  const a = withEigenvalues(lambda, rng);
  const expected = lambda.reduce((s, l) => s + Math.log(l), 0);
  close(slogdet(a, 6).logAbsDet, expected, 1e-12, 'LU');
  close(choleskyLogDet(a, 6)!, expected, 1e-12, 'Cholesky');
  assert.equal(choleskyLogDet([1, 2, 2, 1], 2), null);
});

test('corrcoef: matches the definition, symmetric with unit diagonal; a constant row gives NaN like numpy', () => {
  const rows = [1, 2, 3, 4, 2, 4, 6, 8.5, 4, 3, 2, 1];
  const c = corrcoef(rows, 3, 4);
  const pearson = (x: number[], y: number[]): number => {
    const mx = x.reduce((a, b) => a + b) / x.length;
    const my = y.reduce((a, b) => a + b) / y.length;
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    x.forEach((xi, i) => {
      sxy += (xi - mx) * (y[i] - my);
      sxx += (xi - mx) ** 2;
      syy += (y[i] - my) ** 2;
    });
    return sxy / Math.sqrt(sxx * syy);
  };
  close(c[1], pearson([1, 2, 3, 4], [2, 4, 6, 8.5]), 1e-15);
  close(c[2], -1, 1e-15);
  for (let i = 0; i < 3; i++) {
    close(c[i * 3 + i], 1, 1e-15);
    for (let j = 0; j < 3; j++) assert.equal(c[i * 3 + j], c[j * 3 + i]);
  }
  assert.ok(Number.isNaN(corrcoef([1, 1, 1, 1, 2, 3], 2, 3)[1]));
});
