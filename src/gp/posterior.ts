/**
 * One fit of the Gaussian process, as the posterior computations read it, and the exact posterior they share: the GP's
 * own predictions (gp.ts) and the acquisition sweep's exact evaluations (sweep.ts) run the same operations in the same
 * order from here, so that a point gets the same value to the bit whichever path computes it.
 */
import type { GpHeap } from './wasm.js';

/** Points per posterior block: n×512 doubles stay in cache. */
export const BATCH_BLOCK = 512;

/** A fitted GP's posterior state. Every fit makes a new one; its arrays are never written after it is made. */
export interface FittedGp {
  readonly n: number;
  readonly dim: number;
  /** Training points, row-major n×dim. */
  readonly x: Float64Array;
  /** Length scale ℓ. */
  readonly ell: number;
  /** Added to the Gram diagonal. */
  readonly noise: number;
  /** Cholesky factor L of the Gram matrix (row-major n×n). */
  readonly l: Float64Array;
  /** K⁻¹·yₙ */
  readonly alpha: Float64Array;
  /** 1/diag(L). */
  readonly invDiag: Float64Array;
  /** The Gram matrix (noise on the diagonal), row-major n×n. */
  readonly gram: Float64Array;
  /** Mean and std the targets were standardised with. */
  readonly yMean: number;
  readonly yStd: number;
  /** sklearn's order of the std de-standardisation (see GpOptions.reference). */
  readonly reference: boolean;
  /** Scratch of n doubles for one point's forward substitution. */
  readonly scratch: Float64Array;
}

/**
 * This fit's L, α and 1/diag(L) in the work instance's persistent part (written once per fit, unless another GP's
 * calls took the part since), with the layout reset after them.
 */
export function loadModel(m: FittedGp, work: GpHeap): { l: number; alpha: number; invDiag: number } {
  const n = m.n;
  const nn = n * n;
  const at = work.start;
  const model = { l: at, alpha: at + 8 * nn, invDiag: at + 8 * (nn + n) };
  if (!work.claim(m, 8 * (nn + 2 * n))) {
    work.view(model.l, nn).set(m.l.subarray(0, nn));
    work.view(model.alpha, n).set(m.alpha);
    work.view(model.invDiag, n).set(m.invDiag);
  }
  return model;
}

/**
 * Mean and std into out[0..1] from k* (in `v`, overwritten with L⁻¹k*) and μₙ = αᵀk*: forward substitution with the
 * same operations in the same order as the batched posterior (native/gp/gp.c `gp_posterior`), so one point and a
 * batch agree to the bit.
 */
export function posteriorInto(m: FittedGp, v: Float64Array, mu: number, out: Float64Array): void {
  const n = m.n;
  const l = m.l;
  let varN = 1;
  for (let i = 0; i < n; i++) {
    let t = v[i];
    for (let k = 0; k < i; k++) t -= l[i * n + k] * v[k];
    const vi = t * m.invDiag[i];
    v[i] = vi;
    varN -= vi * vi;
  }
  out[0] = mu * m.yStd + m.yMean;
  out[1] = destandardisedStd(m, varN);
}

/** σ from the standardised variance (clipped at 0); sklearn's order √(σ²ₙ·s²) in reference mode. */
export function destandardisedStd(m: FittedGp, varN: number): number {
  if (!(varN > 0)) return 0;
  const s = m.yStd;
  return m.reference ? Math.sqrt(varN * (s * s)) : Math.sqrt(varN) * s;
}

/** Points per posterior block: up to BATCH_BLOCK, even (two points share a SIMD register). */
export function blockOf(count: number): number {
  const b = Math.min(BATCH_BLOCK, Math.max(count, 1));
  return b + (b & 1);
}
