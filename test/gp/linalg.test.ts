import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cholesky,
  choleskyInverse,
  choleskySolve,
  choleskySolvePrincipal,
  logDetFromCholesky,
  solveLower,
  solveLowerTransposed,
} from '../../src/gp/linalg.js';

function close(actual: number, expected: number, tol = 1e-12, msg = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${msg} ${actual} vs ${expected}`);
}

// A = L·Lᵀ with L = [[2,0,0],[1,3,0],[−1,2,4]] chosen by hand, so every expected number is exact.
const L = [2, 0, 0, 1, 3, 0, -1, 2, 4];
const A = Float64Array.from([4, 2, -2, 2, 10, 5, -2, 5, 21]);

test('cholesky recovers a known factor', () => {
  const l = cholesky(A, 3);
  assert.ok(l);
  for (let i = 0; i < 9; i++) close(l[i], L[i], 1e-14, `L[${i}]`);
});

test('cholesky reports a matrix that is not positive definite', () => {
  assert.equal(cholesky(Float64Array.from([1, 2, 2, 1]), 2), null);
  assert.equal(cholesky(Float64Array.from([0, 0, 0, 1]), 2), null);
});

test('triangular solves and the full solve', () => {
  const l = cholesky(A, 3)!;
  // L·x = b with b = L·[1, 2, 3] = [2, 7, 15]
  const x = solveLower(l, 3, [2, 7, 15]);
  assert.deepEqual(Array.from(x, (v) => Math.round(v * 1e12) / 1e12), [1, 2, 3]);
  // Lᵀ·x = b with b = Lᵀ·[1, 2, 3] = [2+2−3, 6+6, 12] = [1, 12, 12]
  const y = solveLowerTransposed(l, 3, [1, 12, 12]);
  [1, 2, 3].forEach((v, i) => close(y[i], v, 1e-14));
  // A·x = b with b = A·[1, −1, 2] = [4−2−4, 2−10+10, −2−5+42] = [−2, 2, 35]
  const z = choleskySolve(l, 3, [-2, 2, 35]);
  [1, -1, 2].forEach((v, i) => close(z[i], v, 1e-13));
});

test('solves may write in place', () => {
  const l = cholesky(A, 3)!;
  const b = Float64Array.from([-2, 2, 35]);
  choleskySolve(l, 3, b, b);
  [1, -1, 2].forEach((v, i) => close(b[i], v, 1e-13));
});

test('log-determinant and inverse', () => {
  const l = cholesky(A, 3)!;
  close(logDetFromCholesky(l, 3), Math.log(576), 1e-14); // det = (2·3·4)²
  const inv = choleskyInverse(l, 3);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += A[i * 3 + k] * inv[k * 3 + j];
      close(s, i === j ? 1 : 0, 1e-13, `(A·A⁻¹)[${i},${j}]`);
    }
  }
});

test('cholesky in place, and the principal-submatrix solve the optimisers share', () => {
  const inPlace = Float64Array.from(A);
  assert.equal(cholesky(inPlace, 3, inPlace), inPlace);
  assert.deepEqual(Array.from(inPlace), Array.from(cholesky(A, 3)!));
  // Rows and columns {0, 2} of A: [[4, −2], [−2, 21]]; the solve must equal the dense one bit for bit.
  const r = Float64Array.from([3, -7]);
  assert.equal(choleskySolvePrincipal(A, 3, [0, 2], 2, r, new Float64Array(9)), true);
  const sub = Float64Array.from([4, -2, -2, 21]);
  assert.deepEqual(Array.from(r), Array.from(choleskySolve(cholesky(sub, 2)!, 2, [3, -7])));
  // Not positive definite: false, right-hand side untouched.
  const bad = Float64Array.from([1, 0, 2, 0, 5, 0, 2, 0, 1]);
  const rb = Float64Array.from([1, 2]);
  assert.equal(choleskySolvePrincipal(bad, 3, [0, 2], 2, rb, new Float64Array(4)), false);
  assert.deepEqual(Array.from(rb), [1, 2]);
});
