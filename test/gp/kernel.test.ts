import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  matern52,
  matern52DLogLength,
  matern52FromScaledSq,
  matern52Gram,
  matern52InputFactor,
  pairwiseDistances,
} from '../../src/gp/kernel.js';

function close(actual: number, expected: number, tol: number, msg = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${msg} ${actual} vs ${expected}`);
}

test('Matérn 5/2 at known distances (values of sklearn Matern(nu=2.5))', () => {
  close(matern52(0, 1), 1, 0);
  close(matern52(0.5, 1), 0.8286491424181255, 1e-15);
  close(matern52(1, 1), 0.5239941088318203, 1e-15);
  close(matern52(2, 1), 0.13866021913850426, 1e-15);
  // only r/ℓ matters
  close(matern52(1, 2), 0.8286491424181255, 1e-15);
  // the closed form at r = ℓ: (1 + √5 + 5/3)·e^{−√5}
  close(matern52(3, 3), (1 + Math.sqrt(5) + 5 / 3) * Math.exp(-Math.sqrt(5)), 1e-15);
  close(matern52FromScaledSq(0.25), 0.8286491424181255, 1e-15);
});

test('∂k/∂log ℓ matches finite differences', () => {
  for (const [r, l] of [[0.3, 1], [1, 0.7], [2.5, 1.8], [0, 1]]) {
    const h = 1e-6;
    const fd = (matern52(r, l * Math.exp(h)) - matern52(r, l * Math.exp(-h))) / (2 * h);
    close(matern52DLogLength(r, l), fd, 1e-8, `r=${r} l=${l}`);
  }
});

test('input-gradient factor matches finite differences', () => {
  const l = 0.8;
  const xi = [0.2, -0.4];
  const x = [0.5, 0.1];
  const k = (p: number[]) => matern52(Math.hypot(p[0] - xi[0], p[1] - xi[1]), l);
  const d2 = ((x[0] - xi[0]) ** 2 + (x[1] - xi[1]) ** 2) / (l * l);
  const g = matern52InputFactor(d2, l);
  for (let m = 0; m < 2; m++) {
    const h = 1e-6;
    const xp = [...x];
    const xm = [...x];
    xp[m] += h;
    xm[m] -= h;
    close(g * (x[m] - xi[m]), (k(xp) - k(xm)) / (2 * h), 1e-8, `dim ${m}`);
  }
});

test('Gram matrix has noise on the diagonal and symmetric entries', () => {
  const X = Float64Array.from([0, 0, 3, 4, 1, 0]);
  const dist = pairwiseDistances(X, 3, 2);
  assert.equal(dist[1], 5);
  assert.equal(dist[3], 5);
  const grad = new Float64Array(9);
  const K = matern52Gram(dist, 3, 2, 1e-6, undefined, grad);
  close(K[0], 1 + 1e-6, 1e-16);
  close(K[1], matern52(5, 2), 1e-16);
  close(K[2 * 3 + 1], K[1 * 3 + 2], 0);
  close(grad[0], 0, 0);
  close(grad[1], matern52DLogLength(5, 2), 1e-16);
});
