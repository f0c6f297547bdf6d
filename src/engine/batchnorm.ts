import { CHAN_ROWS, doubles, E, floats, PARALLEL_MIN, release } from './kernel-args.js';
import { axpyChannel, chanAffine, channelSum, channelSumDot } from './ops.js';
import { Tensor } from './tensor.js';

/**
 * Training-mode BatchNorm over all but the last (channel) axis, per channel over its M = N·H·W positions:
 * x̂ = (x − μ)·r with r = (σ² + ε)^(−1/2), σ² the biased variance. Its Jacobian J = r·(I − 11ᵀ/M − x̂x̂ᵀ/M) is
 * symmetric, so the forward tangent and the backward pass are the same map: J·v = r·(v − mean(v) − x̂·mean(x̂v)).
 * Forward, backward, forward tangent (dual mode) and the backward of the tangent.
 */

/** s[k]·(v − a[k] − x̂·b[k]). */
function bnOut(v: Tensor, xhat: Tensor, a: ArrayLike<number>, b: ArrayLike<number>, s: ArrayLike<number>, c: number): Tensor {
  const ap = floats(a);
  const bp = floats(b);
  const sp = floats(s);
  const out = Tensor.empty(v.shape);
  const m = v.size / c;
  E().run('bn_out', [v.ptr, xhat.ptr, ap, bp, sp, out.ptr, m, c, CHAN_ROWS], Math.ceil(m / CHAN_ROWS), { grain: 1, parallel: v.size >= PARALLEL_MIN });
  release(ap, bp, sp);
  return out;
}

export interface BnForward {
  xhat: Tensor;
  /** γ·x̂ + β, or x̂ itself without affine parameters. */
  y: Tensor;
  /** 1/√(σ² + ε) per channel. */
  r: Float64Array;
  /** Batch mean per channel (float32, as used). */
  mean: Float32Array;
  /** Biased batch variance per channel. */
  variance: Float64Array;
}

/**
 * Training-mode BatchNorm over all but the last axis, as PyTorch's CPU kernel: mean and Σ(x − μ)² in float64, then
 * x̂ = (x − μ)·r in float32 with μ and r rounded to float32.
 */
export function bnForward(x: Tensor, c: number, eps: number, gamma?: Float32Array, beta?: Float32Array): BnForward {
  const m = x.size / c;
  const sums = channelSum(x, c);
  const meanD = Float64Array.from(sums, (v) => v / m);
  const mp = doubles(meanD);
  const tasks = Math.ceil(m / CHAN_ROWS);
  const part = E().heap.alloc(tasks * c * 8);
  E().run('chan_sqdev', [x.ptr, mp, part, m, c, CHAN_ROWS], tasks, { grain: 1, parallel: x.size >= PARALLEL_MIN });
  const v = E().heap.F64;
  const sq = new Float64Array(c);
  for (let t = 0; t < tasks; t++) for (let k = 0; k < c; k++) sq[k] += v[(part >> 3) + t * c + k];
  release(mp, part);
  const variance = Float64Array.from(sq, (s) => s / m);
  const r = Float64Array.from(variance, (vv) => 1 / Math.sqrt(vv + eps));
  const mean = Float32Array.from(meanD);
  const affineOut = gamma !== undefined || beta !== undefined;
  const { out: xhat, out2 } = chanAffine(x, c, 1, Float32Array.from(r), mean, affineOut ? (gamma ?? new Float32Array(c).fill(1)) : undefined, beta);
  return { xhat, y: out2 ?? xhat, r, mean, variance };
}

/** Per-channel means of v and of x̂·v. */
function channelMeans(xhat: Tensor, v: Tensor, c: number): { mv: Float64Array; mxv: Float64Array } {
  const m = v.size / c;
  const r = channelSumDot(xhat, v, c);
  return { mv: r.sum.map((a) => a / m), mxv: r.dot.map((a) => a / m) };
}

/** Forward tangent x̂̇ = r·(ẋ − mean ẋ − x̂·mean(x̂ẋ)) and ρ = −r·mean(x̂ẋ). */
export function bnTangent(xhat: Tensor, r: Float64Array, xt: Tensor, c: number): { xhatT: Tensor; rho: Float64Array } {
  const { mv, mxv } = channelMeans(xhat, xt, c);
  return { xhatT: bnOut(xt, xhat, mv, mxv, r, c), rho: Float64Array.from(mxv, (v, k) => -r[k] * v) };
}

/**
 * x̄ = r·γ·(ȳ − mean ȳ − x̂·mean(x̂ȳ)); `sums` may pass the per-channel Σȳ and Σx̂ȳ already computed (the γ/β gradients).
 */
export function bnBackward(xhat: Tensor, r: Float64Array, g: Tensor, c: number, gamma?: Float32Array, sums?: { sum: Float64Array; dot: Float64Array }): Tensor {
  const m = g.size / c;
  const s = sums ?? channelSumDot(xhat, g, c);
  return bnOut(
    g,
    xhat,
    s.sum.map((a) => a / m),
    s.dot.map((a) => a / m),
    Float64Array.from(r, (rk, k) => rk * (gamma ? gamma[k] : 1)),
    c,
  );
}

/**
 * Dual backward: x̄ and x̄̇ = ρ·x̄ + rγ·(ȳ̇ − mean ȳ̇ − x̂·(mean(x̂ȳ̇) + mean(x̂̇ȳ)) − x̂̇·mean(x̂ȳ)); xhatT/gt may be null (zero).
 */
export function bnBackwardDual(
  xhat: Tensor,
  xhatT: Tensor | null,
  r: Float64Array,
  rho: Float64Array | null,
  g: Tensor,
  gt: Tensor | null,
  c: number,
  gamma?: Float32Array,
): { gx: Tensor; gxt: Tensor } {
  const rg = Float64Array.from(r, (rk, k) => rk * (gamma ? gamma[k] : 1));
  const { mv: a, mxv: b } = channelMeans(xhat, g, c);
  const gx = bnOut(g, xhat, a, b, rg, c);
  let e: Float64Array = new Float64Array(c);
  let at: Float64Array = new Float64Array(c);
  if (gt) {
    const t = channelMeans(xhat, gt, c);
    at = t.mv;
    e = t.mxv;
  }
  if (xhatT) {
    const t = channelMeans(xhatT, g, c);
    e = Float64Array.from(e, (v, k) => v + t.mxv[k]);
  }
  let gxt: Tensor;
  if (gt) {
    gxt = bnOut(gt, xhat, at, e, rg, c);
  } else {
    gxt = chanAffine(xhat, c, 0, Float64Array.from(e, (v, k) => -rg[k] * v), new Float32Array(c)).out;
  }
  const acc = (x: Tensor, s: ArrayLike<number>): void => {
    const next = axpyChannel(x, s, gxt, c);
    gxt.dispose();
    gxt = next;
  };
  if (xhatT) acc(xhatT, Float64Array.from(b, (v, k) => -rg[k] * v));
  if (rho) acc(gx, rho);
  return { gx, gxt };
}
