/**
 * Matérn ν = 5/2 kernel with one isotropic length scale ℓ and unit amplitude (as sklearn's
 * `Matern(nu=2.5)` used alone, which is what bayes_opt 1.2.0 fits):
 *   k(r) = (1 + √5·d + 5d²/3)·exp(−√5·d),  d = r/ℓ.
 */

const SQRT5 = Math.sqrt(5);

/** Kernel value at distance r. */
export function matern52(r: number, lengthScale: number): number {
  const d = SQRT5 * (r / lengthScale);
  return (1 + d + (d * d) / 3) * Math.exp(-d);
}

/** Kernel value from the squared distance divided by ℓ² (saves a division in loops). */
export function matern52FromScaledSq(d2: number): number {
  const d = SQRT5 * Math.sqrt(d2);
  return (1 + d + (d * d) / 3) * Math.exp(-d);
}

/** ∂k/∂log ℓ at distance r: (5/3)·d²·(1 + √5·d)·exp(−√5·d), d = r/ℓ. */
export function matern52DLogLength(r: number, lengthScale: number): number {
  const d = r / lengthScale;
  const sd = SQRT5 * d;
  return (5 / 3) * d * d * (1 + sd) * Math.exp(-sd);
}

/**
 * For gradients w.r.t. an input: ∂k(x, xᵢ)/∂x = g·(x − xᵢ) with
 * g = −(5/(3ℓ²))·(1 + √5·d)·exp(−√5·d), where `d2Scaled` = d² = r²/ℓ².
 * Finite at r = 0, so no special case is needed there.
 */
export function matern52InputFactor(d2Scaled: number, lengthScale: number): number {
  const sd = SQRT5 * Math.sqrt(d2Scaled);
  return (-5 / (3 * lengthScale * lengthScale)) * (1 + sd) * Math.exp(-sd);
}

/** Squared Euclidean distance between row i of `a` and row j of `b` (row-major, `dim` columns). */
export function sqDist(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number, dim: number): number {
  let s = 0;
  const oa = i * dim;
  const ob = j * dim;
  for (let m = 0; m < dim; m++) {
    const t = a[oa + m] - b[ob + m];
    s += t * t;
  }
  return s;
}

/** Pairwise distances of the n rows of X (row-major n×n, symmetric, zero diagonal). */
export function pairwiseDistances(x: ArrayLike<number>, n: number, dim: number, out?: Float64Array): Float64Array {
  const r = out ?? new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    r[i * n + i] = 0;
    for (let j = 0; j < i; j++) {
      const v = Math.sqrt(sqDist(x, i, x, j, dim));
      r[i * n + j] = v;
      r[j * n + i] = v;
    }
  }
  return r;
}

/**
 * Gram matrix K + noise·I from precomputed pairwise distances; optionally also ∂K/∂log ℓ
 * (the noise term does not depend on ℓ).
 */
export function matern52Gram(
  dist: Float64Array,
  n: number,
  lengthScale: number,
  noise: number,
  out?: Float64Array,
  gradOut?: Float64Array,
): Float64Array {
  const k = out ?? new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      // Value and derivative share one exp: k = (1 + sd + sd²/3)e^{−sd}, ∂k/∂log ℓ = (sd²/3)(1 + sd)e^{−sd}.
      const sd = SQRT5 * (dist[i * n + j] / lengthScale);
      const e = Math.exp(-sd);
      const v = (1 + sd + (sd * sd) / 3) * e;
      k[i * n + j] = v;
      k[j * n + i] = v;
      if (gradOut) {
        const g = ((sd * sd) / 3) * (1 + sd) * e;
        gradOut[i * n + j] = g;
        gradOut[j * n + i] = g;
      }
    }
    k[i * n + i] += noise;
  }
  return k;
}
