/**
 * Box-constrained minimisation with analytic gradients: a projected quasi-Newton method in the
 * style of Bertsekas' two-metric projection, playing the role scipy's L-BFGS-B plays in sklearn
 * and bayes_opt. Problems here are tiny (1 to ~13 variables), so a dense BFGS Hessian
 * approximation is cheaper and steadier than limited memory.
 *
 * Each iteration splits the variables into those held at a bound (within ε of it, with the
 * gradient pushing outward) and free ones; free ones take the quasi-Newton step restricted to
 * them, held ones a scaled gradient step, and the trial point is projected onto the box.
 * Holding variables that are merely near a bound is what keeps steps from being cut short by
 * the projection again and again.
 */
import { bfgsUpdate, setScaledIdentity } from './bfgs.js';
import { choleskySolvePrincipal } from './linalg.js';

/** f(x), writing ∂f/∂x into `grad`. A non-finite value marks x as infeasible (e.g. a failed Cholesky). */
export type FunctionWithGradient = (x: Float64Array, grad: Float64Array) => number;

export interface MinimiseOptions {
  /** Iteration cap (default 200). */
  maxIter?: number;
  /** Stop when the projected gradient ‖x − P(x − ∇f)‖∞ is at most this (default 1e-5, scipy's pgtol). */
  gradTol?: number;
  /** Stop when an accepted step lowers f by at most relTol·max(|f|, 1) (default ~2.2e-9, scipy's factr·eps). */
  relTol?: number;
  /** Step reductions tried per line search (default 30). */
  maxBacktracks?: number;
}

export interface MinimiseResult {
  readonly x: Float64Array;
  readonly f: number;
  readonly iterations: number;
  readonly evaluations: number;
  /** True when a tolerance was met (not just the iteration cap or a failed line search). */
  readonly converged: boolean;
}

/** Width used to decide which variables are "near" a bound, at most. */
const EPS_ACTIVE = 1e-3;

/**
 * Minimise f over lower ≤ x ≤ upper from x0 (clipped into the box). Only steps that lower f are
 * taken, so the result is the best point seen; if f(x0) is not finite, x0 is returned with that
 * value and converged = false.
 */
export function minimiseBounded(
  f: FunctionWithGradient,
  x0: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  options: MinimiseOptions = {},
): MinimiseResult {
  const n = x0.length;
  const maxIter = options.maxIter ?? 200;
  const gradTol = options.gradTol ?? 1e-5;
  const relTol = options.relTol ?? 1e7 * 2.220446049250313e-16;
  const maxBacktracks = options.maxBacktracks ?? 30;

  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = clamp(x0[i], lower[i], upper[i]);
  const g = new Float64Array(n);
  const xn = new Float64Array(n);
  const gn = new Float64Array(n);
  const d = new Float64Array(n);
  const s = new Float64Array(n);
  const y = new Float64Array(n);
  const bs = new Float64Array(n);
  const held = new Uint8Array(n);
  const freeIdx = new Int32Array(n);
  const b = new Float64Array(n * n); // Hessian approximation
  const sub = new Float64Array(n * n); // Cholesky of its free block
  const rhs = new Float64Array(n);
  let evaluations = 1;
  let fx = f(x, g);
  if (!Number.isFinite(fx)) return { x, f: fx, iterations: 0, evaluations, converged: false };

  let gamma = 1; // scale of the identity the approximation restarts from
  let fresh = true; // B is still γI: steps have no curvature information yet
  setScaledIdentity(b, n, gamma);

  let converged = false;
  let iter = 0;
  for (; iter < maxIter; iter++) {
    // Projected-gradient size, scipy's stopping measure; it also sets how near counts as "at" a bound.
    let pg = 0;
    for (let i = 0; i < n; i++) pg = Math.max(pg, Math.abs(clamp(x[i] - g[i], lower[i], upper[i]) - x[i]));
    if (pg <= gradTol) {
      converged = true;
      break;
    }
    const eps = Math.min(EPS_ACTIVE, pg);
    let nf = 0;
    for (let i = 0; i < n; i++) {
      const h = (x[i] <= lower[i] + eps && g[i] > 0) || (x[i] >= upper[i] - eps && g[i] < 0);
      held[i] = h ? 1 : 0;
      if (!h) freeIdx[nf++] = i;
    }

    // Free variables: solve B_FF·d_F = −g_F; held ones: d = −g/γ.
    if (!newtonDirection(b, n, freeIdx, nf, g, d, sub, rhs)) {
      setScaledIdentity(b, n, gamma);
      fresh = true;
      newtonDirection(b, n, freeIdx, nf, g, d, sub, rhs);
    }
    for (let i = 0; i < n; i++) if (held[i]) d[i] = -g[i] / gamma;

    // Without curvature information, make the first trial step at most unit length (as L-BFGS-B).
    let alpha = 1;
    if (fresh) {
      let dn = 0;
      for (let i = 0; i < n; i++) dn += d[i] * d[i];
      dn = Math.sqrt(dn);
      if (dn > 1) alpha = 1 / dn;
    }

    let accepted = false;
    let fn = Infinity;
    for (let k = 0; k <= maxBacktracks; k++) {
      // Armijo decrease measured along the projected arc: g_F·d_F·α for free variables plus the
      // actual (projected) move of held ones.
      let expected = 0;
      let moved = false;
      for (let i = 0; i < n; i++) {
        xn[i] = clamp(x[i] + alpha * d[i], lower[i], upper[i]);
        expected += held[i] ? g[i] * (xn[i] - x[i]) : alpha * g[i] * d[i];
        if (xn[i] !== x[i]) moved = true;
      }
      if (!moved) break;
      evaluations++;
      fn = f(xn, gn);
      if (Number.isFinite(fn) && fn <= fx + 1e-4 * expected) {
        accepted = true;
        break;
      }
      // Quadratic interpolation of the step, kept within [0.1, 0.5] of the last one.
      let next = 0.5 * alpha;
      if (Number.isFinite(fn) && expected < 0) {
        const q = (-expected * alpha) / (2 * (fn - fx - expected));
        if (q > 0) next = Math.min(0.5 * alpha, Math.max(0.1 * alpha, q));
      }
      alpha = next;
    }
    if (!accepted) {
      if (fresh) break; // even a scaled gradient step fails: as good as it gets
      setScaledIdentity(b, n, gamma);
      fresh = true;
      continue;
    }

    let sy = 0;
    let yy = 0;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      s[i] = xn[i] - x[i];
      y[i] = gn[i] - g[i];
      sy += s[i] * y[i];
      yy += y[i] * y[i];
      ss += s[i] * s[i];
    }
    const decrease = fx - fn;
    const fPrev = fx;
    x.set(xn);
    g.set(gn);
    fx = fn;
    // Skip the update unless the curvature condition holds clearly, keeping B positive definite.
    if (sy > 1e-10 * Math.sqrt(ss * yy)) {
      if (fresh) {
        gamma = yy / sy;
        setScaledIdentity(b, n, gamma);
        fresh = false;
      }
      bfgsUpdate(b, n, s, y, sy, bs);
    }
    if (decrease <= relTol * Math.max(Math.abs(fPrev), Math.abs(fn), 1)) {
      converged = true;
      iter++;
      break;
    }
  }
  return { x, f: fx, iterations: iter, evaluations, converged };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** d_F = −(B_FF)⁻¹·g_F via Cholesky of the free block; false if that block is not positive definite. */
function newtonDirection(
  b: Float64Array,
  n: number,
  freeIdx: Int32Array,
  nf: number,
  g: Float64Array,
  d: Float64Array,
  l: Float64Array,
  z: Float64Array,
): boolean {
  for (let a = 0; a < nf; a++) z[a] = -g[freeIdx[a]];
  if (!choleskySolvePrincipal(b, n, freeIdx, nf, z, l)) return false;
  for (let a = 0; a < nf; a++) d[freeIdx[a]] = z[a];
  return true;
}
