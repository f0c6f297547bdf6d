/**
 * Small dense float64 linear algebra for the batch × batch matrices of jacob_cov and NASWOT (n ≤ a few
 * hundred), row-major Float64Array storage.
 */

/**
 * Eigenvalues of a symmetric matrix by the cyclic Jacobi method (accurate to a few ulps of ‖A‖, also for tiny
 * eigenvalues relative to that norm, which jacob_cov's 1/(λ+1e-5) term is sensitive to). Ascending order.
 * The input is not modified.
 */
export function symmetricEigenvalues(a: Float64Array | number[], n: number): Float64Array {
  if (a.length !== n * n) throw new RangeError(`symmetricEigenvalues: expected ${n * n} entries, got ${a.length}`);
  const m = Float64Array.from(a);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      // Symmetrise explicitly: the rotations below only read the upper triangle consistently if both halves agree.
      const v = 0.5 * (m[i * n + j] + m[j * n + i]);
      m[i * n + j] = v;
      m[j * n + i] = v;
    }
  }
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i] * m[i * n + i];
      for (let j = i + 1; j < n; j++) off += m[i * n + j] * m[i * n + j];
    }
    if (off === 0 || off <= 1e-30 * diag) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const app = m[p * n + p];
        const aqq = m[q * n + q];
        // Rotation angle from the stable formulation (Golub & Van Loan, sym.schur2).
        const tau = (aqq - app) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p];
          const akq = m[k * n + q];
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k];
          const aqk = m[q * n + k];
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
        // Exact zero for the annihilated pair keeps rounding noise from re-entering the off-diagonal sum.
        m[p * n + q] = 0;
        m[q * n + p] = 0;
      }
    }
  }
  const ev = new Float64Array(n);
  for (let i = 0; i < n; i++) ev[i] = m[i * n + i];
  return ev.sort();
}

/** sign and log|det A| (like numpy.linalg.slogdet) by LU with partial pivoting; sign 0 and -Infinity if singular. */
export function slogdet(a: Float64Array | number[], n: number): { sign: number; logAbsDet: number } {
  if (a.length !== n * n) throw new RangeError(`slogdet: expected ${n * n} entries, got ${a.length}`);
  const m = Float64Array.from(a);
  let sign = 1;
  let logAbsDet = 0;
  for (let k = 0; k < n; k++) {
    let piv = k;
    let best = Math.abs(m[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(m[i * n + k]);
      if (v > best) {
        best = v;
        piv = i;
      }
    }
    if (best === 0) return { sign: 0, logAbsDet: -Infinity };
    if (piv !== k) {
      for (let j = 0; j < n; j++) {
        const t = m[k * n + j];
        m[k * n + j] = m[piv * n + j];
        m[piv * n + j] = t;
      }
      sign = -sign;
    }
    const d = m[k * n + k];
    if (d < 0) sign = -sign;
    logAbsDet += Math.log(Math.abs(d));
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k] / d;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) m[i * n + j] -= f * m[k * n + j];
    }
  }
  return { sign, logAbsDet };
}

/** log det of a symmetric positive-definite matrix by Cholesky; null if it is not numerically positive definite. */
export function choleskyLogDet(a: Float64Array | number[], n: number): number | null {
  if (a.length !== n * n) throw new RangeError(`choleskyLogDet: expected ${n * n} entries, got ${a.length}`);
  const l = new Float64Array(n * n);
  let logDet = 0;
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0)) return null;
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    logDet += 2 * Math.log(ljj);
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / ljj;
    }
  }
  return logDet;
}

/**
 * Correlation matrix (numpy.corrcoef semantics) of the n rows of a row-major n × d matrix, accumulated in
 * float64. A constant row yields NaN entries, as numpy does.
 */
export function corrcoef(rows: ArrayLike<number>, n: number, d: number): Float64Array {
  if (rows.length !== n * d) throw new RangeError(`corrcoef: expected ${n * d} entries, got ${rows.length}`);
  const centred = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (let k = 0; k < d; k++) mean += rows[i * d + k];
    mean /= d;
    for (let k = 0; k < d; k++) centred[i * d + k] = rows[i * d + k] - mean;
  }
  const cov = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += centred[i * d + k] * centred[j * d + k];
      cov[i * n + j] = s;
      cov[j * n + i] = s;
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = cov[i * n + j] / Math.sqrt(cov[i * n + i] * cov[j * n + j]);
      // numpy clips to [-1, 1] against rounding.
      out[i * n + j] = Number.isNaN(v) ? v : Math.max(-1, Math.min(1, v));
    }
  }
  return out;
}
