/**
 * Dense linear algebra for small symmetric positive-definite systems (GP Gram matrices).
 * Matrices are row-major Float64Arrays of n×n; `L` always means a lower-triangular Cholesky factor.
 * Functions take optional `out` buffers so hot loops can reuse memory.
 */

/**
 * Cholesky factor L (lower, row-major, upper triangle zeroed) with A = L·Lᵀ. Only A's lower triangle
 * is read, so `out` may be `a` (factorised in place).
 * Returns null when A is not numerically positive definite, so callers can treat it as a failed fit.
 */
export function cholesky(a: Float64Array, n: number, out?: Float64Array): Float64Array | null {
  const l = out ?? new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
      if (i === j) {
        if (!(s > 0)) return null;
        l[ri + i] = Math.sqrt(s);
      } else {
        l[ri + j] = s / l[rj + j];
      }
    }
    for (let j = i + 1; j < n; j++) l[ri + j] = 0;
  }
  return l;
}

/** Solve L·x = b (forward substitution). `out` may alias `b`. */
export function solveLower(l: Float64Array, n: number, b: ArrayLike<number>, out?: Float64Array): Float64Array {
  const x = out ?? new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * x[k];
    x[i] = s / l[ri + i];
  }
  return x;
}

/** Solve Lᵀ·x = b (back substitution with the transpose of L). `out` may alias `b`. */
export function solveLowerTransposed(l: Float64Array, n: number, b: ArrayLike<number>, out?: Float64Array): Float64Array {
  const x = out ?? new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
  return x;
}

/** Solve A·x = b given A's Cholesky factor L. `out` may alias `b`. */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>, out?: Float64Array): Float64Array {
  const x = solveLower(l, n, b, out);
  return solveLowerTransposed(l, n, x, x);
}

/**
 * Solve A_FF·x = r for the principal submatrix of A (n×n) on rows and columns idx[0..nf): A_FF's
 * Cholesky factor goes to `l` (nf×nf, row-major) and x overwrites r[0..nf). Returns false, with r
 * untouched, when A_FF is not numerically positive definite.
 */
export function choleskySolvePrincipal(
  a: Float64Array,
  n: number,
  idx: ArrayLike<number>,
  nf: number,
  r: Float64Array,
  l: Float64Array,
): boolean {
  for (let p = 0; p < nf; p++) {
    const row = idx[p] * n;
    for (let q = 0; q <= p; q++) l[p * nf + q] = a[row + idx[q]];
  }
  if (!cholesky(l, nf, l)) return false;
  choleskySolve(l, nf, r, r);
  return true;
}

/** Σ a[i]·b[i] over i < n, summed in index order. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/** out = A·v for A n×n (row-major); each entry summed in column order. `out` must not alias v. */
export function matVec(a: Float64Array, v: ArrayLike<number>, n: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j] * v[j];
    out[i] = s;
  }
}

/** log det A = 2·Σ log Lᵢᵢ. */
export function logDetFromCholesky(l: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(l[i * n + i]);
  return 2 * s;
}

/**
 * A⁻¹ (full symmetric, row-major) from A's Cholesky factor, via L⁻¹ then L⁻ᵀL⁻¹. L⁻¹ is kept transposed (row j of
 * `work` is column j of L⁻¹), so both products run over contiguous memory; every entry is still summed in the same
 * order as the textbook loops (k increasing).
 */
export function choleskyInverse(l: Float64Array, n: number, out?: Float64Array, work?: Float64Array): Float64Array {
  const inv = out ?? new Float64Array(n * n);
  // mt[j·n + i] = (L⁻¹)ᵢⱼ, lower triangular L⁻¹, column by column.
  const mt = work ?? new Float64Array(n * n);
  mt.fill(0, 0, n * n);
  for (let j = 0; j < n; j++) {
    const cj = j * n;
    mt[cj + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let k = j; k < i; k++) s -= l[ri + k] * mt[cj + k];
      mt[cj + i] = s / l[ri + i];
    }
  }
  // A⁻¹ = (L⁻¹)ᵀ L⁻¹; entry (i, j) sums over rows k ≥ max(i, j) because L⁻¹ is lower triangular.
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let j = 0; j <= i; j++) {
      const cj = j * n;
      let s = 0;
      for (let k = i; k < n; k++) s += mt[ci + k] * mt[cj + k];
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}
