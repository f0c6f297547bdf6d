/**
 * Test reference: plain loops on NHWC float32 arrays (channels innermost) for the engine's BatchNorm and pooling
 * kernels, which test/engine checks against them. Reductions accumulate in float64.
 *
 * BatchNorm (training mode, per channel over the M = N·H·W positions): x̂ = (x − μ)·r with
 * r = (σ² + eps)^(−1/2), σ² the biased variance. Its Jacobian is J = r·(I − 11ᵀ/M − x̂x̂ᵀ/M) (symmetric), so the
 * forward tangent and the backward pass are the same map: J·v = r·(v − mean(v) − x̂·mean(x̂v)).
 */

export interface BnStats {
  mean: Float32Array;
  /** (σ² + eps)^(−1/2) per channel. */
  r: Float64Array;
}

/**
 * Batch mean and inverse standard deviation per channel (two-pass variance).
 *
 * The sums are accumulated in float32, in position order, as PyTorch's CPU BatchNorm does: deep BN networks are
 * ill-conditioned in the backward pass (x̄ = r·(ĝ − mean ĝ − x̂·mean(x̂ĝ)) cancels), so the rounding of μ and σ²
 * shows up ~1e4-fold in the gradients. float64 statistics put grad_norm 3.6e-4 away from the PyTorch reference
 * on a C=16, N=5 network; float32 ones agree to 1e-7.
 */
export function bnStats(x: Float32Array, channels: number, eps: number): BnStats {
  const m = x.length / channels;
  const mean = new Float32Array(channels);
  for (let i = 0; i < x.length; i += channels) {
    for (let k = 0; k < channels; k++) mean[k] += x[i + k];
  }
  for (let k = 0; k < channels; k++) mean[k] /= m;
  const v = new Float32Array(channels);
  for (let i = 0; i < x.length; i += channels) {
    for (let k = 0; k < channels; k++) {
      const d = x[i + k] - mean[k];
      v[k] += d * d;
    }
  }
  const r = new Float64Array(channels);
  for (let k = 0; k < channels; k++) r[k] = 1 / Math.sqrt(v[k] / m + eps);
  return { mean, r };
}

/** x̂ = (x − μ)·r, and y = γ·x̂ + β when an affine output array is given. */
export function bnNormalize(
  x: Float32Array,
  s: BnStats,
  xhat: Float32Array,
  y?: Float32Array,
  gamma?: Float32Array,
  beta?: Float32Array,
): void {
  const c = s.mean.length;
  const { mean, r } = s;
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) xhat[i + k] = (x[i + k] - mean[k]) * r[k];
  }
  if (y) affine(xhat, y, gamma, beta);
}

/** y = γ·x + β per channel (γ = 1, β = 0 when absent). */
export function affine(x: Float32Array, y: Float32Array, gamma?: Float32Array, beta?: Float32Array): void {
  const c = (gamma ?? beta)?.length;
  if (c === undefined) {
    y.set(x);
    return;
  }
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) y[i + k] = (gamma ? gamma[k] : 1) * x[i + k] + (beta ? beta[k] : 0);
  }
}

/**
 * out = J·v = r·(v − mean(v) − x̂·mean(x̂v)) per channel, v optionally pre-scaled by γ (backward through an
 * affine BN). Returns mean(x̂·γv) per channel (the tangent code needs it).
 */
export function bnJacobian(xhat: Float32Array, r: Float64Array, v: Float32Array, out: Float32Array, gamma?: Float32Array): Float64Array {
  const c = r.length;
  const m = xhat.length / c;
  const sv = new Float64Array(c);
  const sxv = new Float64Array(c);
  for (let i = 0; i < v.length; i += c) {
    for (let k = 0; k < c; k++) {
      const g = gamma ? gamma[k] * v[i + k] : v[i + k];
      sv[k] += g;
      sxv[k] += xhat[i + k] * g;
    }
  }
  for (let k = 0; k < c; k++) {
    sv[k] /= m;
    sxv[k] /= m;
  }
  for (let i = 0; i < v.length; i += c) {
    for (let k = 0; k < c; k++) {
      const g = gamma ? gamma[k] * v[i + k] : v[i + k];
      out[i + k] = r[k] * (g - sv[k] - xhat[i + k] * sxv[k]);
    }
  }
  return sxv;
}

/**
 * Tangent of BN's backward x̄ = J(x)·ĝ along the forward tangent (x̂̇ = J·ẋ, ρ = ṙ/r = −r·mean(x̂ẋ)) with
 * incoming ĝ̇ (ĝ = γȳ, ĝ̇ = γȳ̇):
 *   x̄̇ = ρ·x̄ + r·(ĝ̇ − mean(ĝ̇) − x̂·(mean(x̂ĝ̇) + mean(x̂̇ĝ)) − x̂̇·mean(x̂ĝ)).
 * gt may be null (ȳ̇ = 0). Writes x̄ and x̄̇.
 */
export function bnBackwardDual(
  xhat: Float32Array,
  xhatT: Float32Array,
  r: Float64Array,
  rho: Float64Array,
  g: Float32Array,
  gt: Float32Array | null,
  outV: Float32Array,
  outT: Float32Array,
  gamma?: Float32Array,
): void {
  const c = r.length;
  const m = xhat.length / c;
  const a = new Float64Array(c); // mean(ĝ)
  const b = new Float64Array(c); // mean(x̂ĝ)
  const at = new Float64Array(c); // mean(ĝ̇)
  const e = new Float64Array(c); // mean(x̂ĝ̇)
  const cc = new Float64Array(c); // mean(x̂̇ĝ)
  for (let i = 0; i < g.length; i += c) {
    for (let k = 0; k < c; k++) {
      const gk = gamma ? gamma[k] : 1;
      const gv = gk * g[i + k];
      const xh = xhat[i + k];
      a[k] += gv;
      b[k] += xh * gv;
      cc[k] += xhatT[i + k] * gv;
      if (gt) {
        const gtv = gk * gt[i + k];
        at[k] += gtv;
        e[k] += xh * gtv;
      }
    }
  }
  for (let k = 0; k < c; k++) {
    a[k] /= m;
    b[k] /= m;
    at[k] /= m;
    e[k] /= m;
    cc[k] /= m;
  }
  for (let i = 0; i < g.length; i += c) {
    for (let k = 0; k < c; k++) {
      const gk = gamma ? gamma[k] : 1;
      const gv = gk * g[i + k];
      const gtv = gt ? gk * gt[i + k] : 0;
      const xh = xhat[i + k];
      const xv = r[k] * (gv - a[k] - xh * b[k]);
      outV[i + k] = xv;
      outT[i + k] = rho[k] * xv + r[k] * (gtv - at[k] - xh * (e[k] + cc[k]) - xhatT[i + k] * b[k]);
    }
  }
}

/** Forward tangent of BN: x̂̇ = J·ẋ; returns ρ = ṙ/r = −r·mean(x̂ẋ) per channel. */
export function bnTangent(xhat: Float32Array, r: Float64Array, xt: Float32Array, xhatT: Float32Array): Float64Array {
  const sxv = bnJacobian(xhat, r, xt, xhatT);
  const rho = new Float64Array(r.length);
  for (let k = 0; k < r.length; k++) rho[k] = -r[k] * sxv[k];
  return rho;
}

/** Geometry of a 2-D pool on NHWC data. */
export interface PoolGeom {
  n: number;
  h: number;
  w: number;
  c: number;
  kernel: number;
  stride: number;
  pad: number;
  ho: number;
  wo: number;
}

export function poolGeom(shape: readonly number[], kernel: number, stride: number, pad: number): PoolGeom {
  const [n, h, w, c] = shape;
  return { n, h, w, c, kernel, stride, pad, ho: Math.floor((h + 2 * pad - kernel) / stride) + 1, wo: Math.floor((w + 2 * pad - kernel) / stride) + 1 };
}

/** Window bounds [lo[o], hi[o]) of every output index along an axis of length len (padding excluded). */
function windows(outLen: number, g: PoolGeom, len: number): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(outLen);
  const hi = new Int32Array(outLen);
  for (let o = 0; o < outLen; o++) {
    const a = o * g.stride - g.pad;
    lo[o] = Math.max(0, a);
    hi[o] = Math.min(len, a + g.kernel);
  }
  return { lo, hi };
}

let scratch = new Float32Array(0);
function scratchOf(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch;
}

/**
 * Average pool not counting padding (PyTorch count_include_pad=False), separably: window sums along the
 * width into a scratch [N, H, Wo, C], then along the height, divided by the valid-window size.
 */
export function avgPoolForward(x: Float32Array, g: PoolGeom, y: Float32Array): void {
  if (g.kernel === 3 && g.stride === 1 && g.pad === 1) {
    avgPool3x3(x, g, y, false);
    return;
  }
  const { n, h, w, c, ho, wo } = g;
  const t = scratchOf(n * h * wo * c);
  const cols = windows(wo, g, w);
  const rows = windows(ho, g, h);
  for (let r = 0; r < n * h; r++) {
    for (let j = 0; j < wo; j++) {
      const x0 = cols.lo[j];
      const x1 = cols.hi[j];
      const d = (r * wo + j) * c;
      for (let k = 0; k < c; k++) t[d + k] = 0;
      for (let xx = x0; xx < x1; xx++) {
        const s = (r * w + xx) * c;
        for (let k = 0; k < c; k++) t[d + k] += x[s + k];
      }
    }
  }
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      const y0 = rows.lo[i];
      const y1 = rows.hi[i];
      for (let j = 0; j < wo; j++) {
        const inv = 1 / ((y1 - y0) * (cols.hi[j] - cols.lo[j]));
        const d = ((b * ho + i) * wo + j) * c;
        for (let k = 0; k < c; k++) y[d + k] = 0;
        for (let yy = y0; yy < y1; yy++) {
          const s = ((b * h + yy) * wo + j) * c;
          for (let k = 0; k < c; k++) y[d + k] += t[s + k];
        }
        for (let k = 0; k < c; k++) y[d + k] *= inv;
      }
    }
  }
}

/** Adjoint of avgPoolForward (same separable structure, reversed). */
export function avgPoolBackward(gy: Float32Array, g: PoolGeom, gx: Float32Array): void {
  if (g.kernel === 3 && g.stride === 1 && g.pad === 1) {
    avgPool3x3(gy, g, gx, true);
    return;
  }
  const { n, h, w, c, ho, wo } = g;
  const t = scratchOf(n * h * wo * c);
  t.fill(0, 0, n * h * wo * c);
  const cols = windows(wo, g, w);
  const rows = windows(ho, g, h);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      const y0 = rows.lo[i];
      const y1 = rows.hi[i];
      for (let j = 0; j < wo; j++) {
        const inv = 1 / ((y1 - y0) * (cols.hi[j] - cols.lo[j]));
        const s = ((b * ho + i) * wo + j) * c;
        for (let yy = y0; yy < y1; yy++) {
          const d = ((b * h + yy) * wo + j) * c;
          for (let k = 0; k < c; k++) t[d + k] += gy[s + k] * inv;
        }
      }
    }
  }
  gx.fill(0);
  for (let r = 0; r < n * h; r++) {
    for (let j = 0; j < wo; j++) {
      const x0 = cols.lo[j];
      const x1 = cols.hi[j];
      const s = (r * wo + j) * c;
      for (let xx = x0; xx < x1; xx++) {
        const d = (r * w + xx) * c;
        for (let k = 0; k < c; k++) gx[d + k] += t[s + k];
      }
    }
  }
}

/**
 * NAS-Bench-201's 3×3, stride 1, pad 1 pool (the hot case), on whole rows as flat [W·C] vectors: a window sum
 * is x[q−C] + x[q] + x[q+C] along the width and the same with rows along the height. The operator is
 * S·D (sums then 1/count) forward and D·S backward, S being symmetric.
 */
function avgPool3x3(x: Float32Array, g: PoolGeom, y: Float32Array, adjoint: boolean): void {
  const { n, h, w, c } = g;
  const rowLen = w * c;
  // 1/count per position: count = (valid rows)·(valid cols), 2 or 3 each.
  const colCount = new Float32Array(rowLen);
  for (let j = 0; j < w; j++) colCount.fill((j > 0 ? 1 : 0) + 1 + (j < w - 1 ? 1 : 0), j * c, (j + 1) * c);
  const rowCount = (i: number): number => (i > 0 ? 1 : 0) + 1 + (i < h - 1 ? 1 : 0);
  const t = scratchOf(n * h * rowLen);
  const src = adjoint ? scratchOf2(x.length) : x;
  if (adjoint) {
    // D first: scale each incoming gradient by 1/count.
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < h; i++) {
        const base = (b * h + i) * rowLen;
        const rc = rowCount(i);
        for (let q = 0; q < rowLen; q++) src[base + q] = x[base + q] / (rc * colCount[q]);
      }
    }
  }
  // Width sums.
  for (let r = 0; r < n * h; r++) {
    const base = r * rowLen;
    for (let q = 0; q < c; q++) t[base + q] = src[base + q] + (w > 1 ? src[base + q + c] : 0);
    for (let q = c; q < rowLen - c; q++) t[base + q] = src[base + q - c] + src[base + q] + src[base + q + c];
    if (w > 1) for (let q = rowLen - c; q < rowLen; q++) t[base + q] = src[base + q - c] + src[base + q];
  }
  // Height sums (and 1/count forward).
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      const o = (b * h + i) * rowLen;
      const up = i > 0 ? o - rowLen : -1;
      const down = i < h - 1 ? o + rowLen : -1;
      const rc = rowCount(i);
      for (let q = 0; q < rowLen; q++) {
        let v = t[o + q];
        if (up >= 0) v += t[up + q];
        if (down >= 0) v += t[down + q];
        y[o + q] = adjoint ? v : v / (rc * colCount[q]);
      }
    }
  }
}

let scratch2 = new Float32Array(0);
function scratchOf2(n: number): Float32Array {
  if (scratch2.length < n) scratch2 = new Float32Array(n);
  return scratch2;
}

/** [N,H,W,C] → [N,C] mean over positions. */
export function globalAvgForward(x: Float32Array, n: number, c: number, y: Float32Array): void {
  const p = x.length / (n * c);
  for (let b = 0; b < n; b++) {
    const acc = new Float64Array(c);
    for (let q = 0; q < p; q++) {
      const s = (b * p + q) * c;
      for (let k = 0; k < c; k++) acc[k] += x[s + k];
    }
    for (let k = 0; k < c; k++) y[b * c + k] = acc[k] / p;
  }
}

