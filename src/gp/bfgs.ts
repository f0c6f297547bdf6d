/**
 * Dense BFGS Hessian approximation, shared by the two bounded optimisers (`minimiseBounded` and
 * `lbfgsb`): both start from a scaled identity and apply the same rank-two update.
 */
import { dot, matVec } from './linalg.js';

/** B = γI (n×n, row-major). */
export function setScaledIdentity(b: Float64Array, n: number, gamma: number): void {
  b.fill(0);
  for (let i = 0; i < n; i++) b[i * n + i] = gamma;
}

/**
 * BFGS update of B with the pair (s, y), sy = sᵀy: B += y·yᵀ/sy − (Bs)(Bs)ᵀ/(sᵀBs).
 * `bs` (length n) is workspace.
 */
export function bfgsUpdate(b: Float64Array, n: number, s: ArrayLike<number>, y: ArrayLike<number>, sy: number, bs: Float64Array): void {
  matVec(b, s, n, bs);
  const sbs = dot(s, bs, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) b[i * n + j] += (y[i] * y[j]) / sy - (bs[i] * bs[j]) / sbs;
  }
}
