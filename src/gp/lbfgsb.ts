/**
 * L-BFGS-B (Byrd, Lu, Nocedal & Zhu 1995; version 3.0 subspace step of Morales & Nocedal 2011)
 * following the iteration scipy's `minimize(method='L-BFGS-B')` performs, step for step:
 * generalized Cauchy point along the projected gradient path, Newton step on the free
 * variables projected back into the box, Moré–Thuente line search (ftol 1e-3, gtol 0.9,
 * xtol 0.1) starting from the unit step, and scipy's stopping rules (projected gradient ≤
 * pgtol, relative reduction ≤ factr·ε). Reference runs (bayes_opt, sklearn) stop where scipy
 * stops, not at the exact optimum, and in flat regions the path decides which optimum is
 * reached at all, so replaying them needs the same iteration rather than any good optimiser.
 *
 * Problems here are tiny, so the limited-memory matrix is formed densely (θI updated by the
 * stored pairs, which equals the compact representation) instead of in compact form.
 *
 * Long file: one iteration (Cauchy point, subspace step, line search, stopping rules) that must stay step for step
 * scipy's; kept in one file so that it reads side by side with scipy's lbfgsb routines.
 */
import type { FunctionWithGradient } from './optimise.js';
import { bfgsUpdate, setScaledIdentity } from './bfgs.js';
import { choleskySolvePrincipal, dot, matVec } from './linalg.js';

export interface LbfgsbOptions {
  /** Stored correction pairs (scipy default 10). */
  readonly m?: number;
  /** Stop when the relative reduction of f is at most factr·ε (default 1e7). */
  readonly factr?: number;
  /** Stop when the projected gradient's largest component is at most this (default 1e-5). */
  readonly pgtol?: number;
  /** Iteration limit (default 15000). */
  readonly maxIter?: number;
  /** Function evaluations per line search before giving up (default 20). */
  readonly maxLs?: number;
}

export interface LbfgsbResult {
  readonly x: Float64Array;
  readonly f: number;
  /** scipy's `success`: a convergence test was met. */
  readonly success: boolean;
  readonly message: string;
  readonly iterations: number;
  readonly evaluations: number;
}

const EPS = 2.220446049250313e-16;
const BIG = 1e10;
const FTOL = 1e-3;
const GTOL = 0.9;
const XTOL = 0.1;

/** Minimise f over the finite box lower ≤ x ≤ upper from x0 as scipy's L-BFGS-B does. */
export function lbfgsb(
  fg: FunctionWithGradient,
  x0: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  options: LbfgsbOptions = {},
): LbfgsbResult {
  const n = x0.length;
  const m = options.m ?? 10;
  const tol = (options.factr ?? 1e7) * EPS;
  const pgtol = options.pgtol ?? 1e-5;
  const maxIter = options.maxIter ?? 15000;
  const maxLs = options.maxLs ?? 20;

  for (let i = 0; i < n; i++) {
    // Only the fully boxed case is replayed (scipy's first step differs for unbounded variables).
    if (!(Number.isFinite(lower[i]) && Number.isFinite(upper[i]) && lower[i] <= upper[i])) {
      throw new RangeError(`lbfgsb: bounds of variable ${i} must be finite, got [${lower[i]}, ${upper[i]}]`);
    }
  }
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.min(Math.max(x0[i], lower[i]), upper[i]);
  let g = new Float64Array(n);
  let evaluations = 1;
  let f = fg(x, g);
  const done = (success: boolean, message: string, iterations: number): LbfgsbResult => ({
    x,
    f,
    success,
    message,
    iterations,
    evaluations,
  });
  if (projectedGradientNorm(x, g, lower, upper) <= pgtol) return done(true, 'CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL', 0);

  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  const sys: number[] = [];
  let theta = 1;
  const b = new Float64Array(n * n);
  const xcp = new Float64Array(n);
  const free = new Uint8Array(n);
  const z = new Float64Array(n);
  const d = new Float64Array(n);
  const xt = new Float64Array(n);
  let gNew = new Float64Array(n);
  let iter = 0;

  for (;;) {
    formB(b, n, theta, ss, ys, sys);
    cauchyPoint(x, g, lower, upper, b, n, xcp, free);
    z.set(xcp);
    let ok = true;
    if (ss.length > 0) ok = subspaceStep(x, g, lower, upper, b, n, xcp, free, z);
    if (!ok) {
      // Reduced matrix not positive definite: forget the pairs and start the iteration again.
      ss.length = ys.length = sys.length = 0;
      theta = 1;
      continue;
    }
    for (let i = 0; i < n; i++) d[i] = z[i] - x[i];

    // Line search along d from x.
    let stpmx = BIG;
    if (iter === 0) {
      stpmx = 1;
    } else {
      for (let i = 0; i < n; i++) {
        const a1 = d[i];
        if (a1 < 0) {
          const a2 = lower[i] - x[i];
          if (a2 >= 0) stpmx = 0;
          else if (a1 * stpmx < a2) stpmx = a2 / a1;
        } else if (a1 > 0) {
          const a2 = upper[i] - x[i];
          if (a2 <= 0) stpmx = 0;
          else if (a1 * stpmx > a2) stpmx = a2 / a1;
        }
      }
    }
    xt.set(x);
    const fOld = f;
    const gdOld = dot(g, d, n);
    let abnormal = gdOld >= 0;
    let stp = 1;
    let fNew = f;
    if (!abnormal) {
      const search = new LineSearch(f, gdOld, stp, 0, stpmx);
      let ifun = 0;
      for (;;) {
        if (search.error) {
          abnormal = true;
          break;
        }
        stp = search.stp;
        ifun++;
        if (ifun - 1 >= maxLs) {
          abnormal = true;
          break;
        }
        if (stp === 1) x.set(z);
        else for (let i = 0; i < n; i++) x[i] = stp * d[i] + xt[i];
        evaluations++;
        fNew = fg(x, gNew);
        if (search.next(fNew, dot(gNew, d, n))) break;
      }
    }
    if (abnormal) {
      x.set(xt);
      f = fOld;
      if (ss.length === 0) return done(false, 'ABNORMAL_TERMINATION_IN_LNSRCH', iter);
      ss.length = ys.length = sys.length = 0;
      theta = 1;
      continue;
    }
    const gOld = g;
    g = gNew;
    gNew = gOld; // reused as the next buffer after y is taken from it
    f = fNew;
    iter++;
    if (projectedGradientNorm(x, g, lower, upper) <= pgtol) return done(true, 'CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL', iter);
    if (fOld - f <= tol * Math.max(Math.abs(fOld), Math.abs(f), 1)) return done(true, 'CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH', iter);
    if (iter >= maxIter) return done(false, 'STOP: TOTAL NO. of ITERATIONS REACHED LIMIT', iter);

    // Correction pair s = stp·d, y = g − g_old, kept only with enough curvature.
    const y = new Float64Array(n);
    let rr = 0;
    for (let i = 0; i < n; i++) {
      y[i] = g[i] - gOld[i];
      rr += y[i] * y[i];
    }
    const gd = dot(g, d, n);
    const dr = stp === 1 ? gd - gdOld : (gd - gdOld) * stp;
    const ddum = stp === 1 ? -gdOld : -gdOld * stp;
    if (dr <= EPS * ddum) continue;
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) s[i] = stp * d[i];
    ss.push(s);
    ys.push(y);
    sys.push(dr);
    if (ss.length > m) {
      ss.shift();
      ys.shift();
      sys.shift();
    }
    theta = rr / dr;
  }
}

/**
 * Wrap a value function with scipy's default forward differences (step 1e-8, backward at an upper bound). With
 * `batch`, the point and its n neighbours are evaluated in one call (rows of a (n+1)×n array; the same values as n+1
 * calls of `value` when batch computes each row as `value` would).
 */
export function forwardDifferences(
  value: (x: Float64Array) => number,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  step = 1e-8,
  batch?: (points: Float64Array, count: number, out: Float64Array) => void,
): FunctionWithGradient {
  let xh = new Float64Array(0);
  let pts = new Float64Array(0);
  let vals = new Float64Array(0);
  let dxs = new Float64Array(0);
  /** The step for coordinate i (0 when none is needed): scipy's _adjust_scheme_to_bounds. */
  const stepFor = (x: Float64Array, i: number): number => {
    let h = step;
    const xi = x[i];
    if (xi + h - xi === 0) h = EPS ** 0.5 * (xi >= 0 ? 1 : -1) * Math.max(1, Math.abs(xi));
    // One-sided scheme adjusted to the bounds: flip a step that leaves the box if the other side has room, else
    // step to the farther bound.
    const t = xi + h;
    const below = xi - lower[i];
    const above = upper[i] - xi;
    const fits = Math.abs(h) <= Math.max(below, above);
    if ((t < lower[i] || t > upper[i]) && fits) h = -h;
    else if (!fits) h = above >= below ? above : -below;
    return h;
  };
  if (batch) {
    return (x, grad) => {
      const n = x.length;
      if (pts.length !== (n + 1) * n) {
        pts = new Float64Array((n + 1) * n);
        vals = new Float64Array(n + 1);
        dxs = new Float64Array(n);
      }
      pts.set(x);
      for (let i = 0; i < n; i++) {
        const row = (i + 1) * n;
        pts.set(x, row);
        pts[row + i] = x[i] + stepFor(x, i);
        dxs[i] = pts[row + i] - x[i];
      }
      batch(pts, n + 1, vals);
      for (let i = 0; i < n; i++) grad[i] = (vals[i + 1] - vals[0]) / dxs[i];
      return vals[0];
    };
  }
  return (x, grad) => {
    const n = x.length;
    if (xh.length !== n) xh = new Float64Array(n);
    const f0 = value(x);
    xh.set(x);
    for (let i = 0; i < n; i++) {
      const xi = x[i];
      xh[i] = xi + stepFor(x, i);
      const dx = xh[i] - xi;
      grad[i] = (value(xh) - f0) / dx;
      xh[i] = xi;
    }
    return f0;
  };
}

function projectedGradientNorm(x: ArrayLike<number>, g: ArrayLike<number>, lower: ArrayLike<number>, upper: ArrayLike<number>): number {
  let norm = 0;
  for (let i = 0; i < x.length; i++) {
    let gi = g[i];
    if (gi < 0) gi = Math.max(x[i] - upper[i], gi);
    else gi = Math.min(x[i] - lower[i], gi);
    norm = Math.max(norm, Math.abs(gi));
  }
  return norm;
}

/** B = θI updated by BFGS with the stored pairs, oldest first. */
function formB(b: Float64Array, n: number, theta: number, ss: Float64Array[], ys: Float64Array[], sys: number[]): void {
  setScaledIdentity(b, n, theta);
  const bs = new Float64Array(n);
  for (let k = 0; k < ss.length; k++) bfgsUpdate(b, n, ss[k], ys[k], sys[k], bs);
}

/**
 * Generalized Cauchy point: the first local minimiser of the quadratic model along the
 * projected steepest-descent path. Writes it to xcp; free[i] = 1 for variables not at a bound
 * there (those the subspace step may move).
 */
function cauchyPoint(
  x: Float64Array,
  g: Float64Array,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  b: Float64Array,
  n: number,
  xcp: Float64Array,
  free: Uint8Array,
): void {
  xcp.set(x);
  const d = new Float64Array(n);
  const brk: { t: number; i: number }[] = [];
  let bounded = true;
  let f1 = 0;
  for (let i = 0; i < n; i++) {
    const neg = -g[i];
    const atLower = x[i] - lower[i] <= 0;
    const atUpper = upper[i] - x[i] <= 0;
    // Held at a bound the gradient pushes against; a zero gradient component does not move.
    let held = false;
    if (atLower) held = neg <= 0;
    else if (atUpper) held = neg >= 0;
    else held = Math.abs(neg) <= 0;
    free[i] = (atLower && neg <= 0) || (atUpper && neg >= 0) ? 0 : 1;
    if (held) continue;
    d[i] = neg;
    f1 -= neg * neg;
    if (neg < 0) brk.push({ t: (x[i] - lower[i]) / -neg, i });
    else if (neg > 0) brk.push({ t: (upper[i] - x[i]) / neg, i });
    else bounded = false;
  }
  if (f1 === 0) return;
  const bd = new Float64Array(n);
  matVec(b, d, n, bd);
  let f2 = dot(d, bd, n);
  const f2Org = f2;
  let dtm = -f1 / f2;
  let tsum = 0;
  brk.sort((p, q) => p.t - q.t || p.i - q.i);
  const zz = new Float64Array(n); // displacement xcp − x along the path so far
  const fixed = new Uint8Array(n);
  let tj = 0;
  let k = 0;
  let allFixed = false;
  while (k < brk.length) {
    const tj0 = tj;
    const { t, i: ibp } = brk[k];
    tj = t;
    const dt = tj - tj0;
    if (dtm < dt) break;
    tsum += dt;
    k++;
    const dibp = d[ibp];
    d[ibp] = 0;
    fixed[ibp] = 1;
    free[ibp] = 0;
    xcp[ibp] = dibp > 0 ? upper[ibp] : lower[ibp];
    if (k === brk.length && brk.length === n) {
      allFixed = true;
      break;
    }
    // Derivatives of the model along the reduced direction at the breakpoint.
    for (let i = 0; i < n; i++) zz[i] = fixed[i] ? xcp[i] - x[i] : tsum * d[i];
    matVec(b, d, n, bd);
    f1 = dot(g, d, n) + dot(zz, bd, n);
    f2 = Math.max(EPS * f2Org, dot(d, bd, n));
    if (k < brk.length) dtm = -f1 / f2;
    else if (bounded) dtm = 0;
    else dtm = -f1 / f2;
  }
  if (allFixed) return;
  if (dtm <= 0) dtm = 0;
  tsum += dtm;
  for (let i = 0; i < n; i++) if (!fixed[i]) xcp[i] += tsum * d[i];
}

/**
 * Newton step of the model over the variables free at the Cauchy point, projected into the
 * box; if the projection stops being a descent direction, the step is instead cut back to stay
 * feasible (version 3.0's rule). Writes the result to z (which holds xcp on entry). False if
 * the reduced matrix is not positive definite.
 */
function subspaceStep(
  x: Float64Array,
  g: Float64Array,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  b: Float64Array,
  n: number,
  xcp: Float64Array,
  free: Uint8Array,
  z: Float64Array,
): boolean {
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (free[i]) idx.push(i);
  const nf = idx.length;
  if (nf === 0) return true;
  // r = −(g + B(xcp − x)) on the free variables.
  const dx = new Float64Array(n);
  for (let i = 0; i < n; i++) dx[i] = xcp[i] - x[i];
  const bdx = new Float64Array(n);
  matVec(b, dx, n, bdx);
  const dF = new Float64Array(nf);
  for (let a = 0; a < nf; a++) dF[a] = -(g[idx[a]] + bdx[idx[a]]);
  // dF = B_FF⁻¹·r, solved in place by Cholesky of B_FF.
  if (!choleskySolvePrincipal(b, n, idx, nf, dF, new Float64Array(nf * nf))) return false;
  // Try the projected Newton point.
  let touched = false;
  for (let a = 0; a < nf; a++) {
    const i = idx[a];
    const v = Math.min(upper[i], Math.max(lower[i], xcp[i] + dF[a]));
    z[i] = v;
    if (v === lower[i] || v === upper[i]) touched = true;
  }
  if (!touched) return true;
  let ddp = 0;
  for (let i = 0; i < n; i++) ddp += (z[i] - x[i]) * g[i];
  if (!(ddp > 0)) return true;
  // Not a descent direction: the longest feasible step (≤ 1) along dF from xcp instead.
  z.set(xcp);
  let alpha = 1;
  let ibd = -1;
  for (let a = 0; a < nf; a++) {
    const i = idx[a];
    const dk = dF[a];
    let t = alpha;
    if (dk < 0) {
      const room = lower[i] - z[i];
      if (room >= 0) t = 0;
      else if (dk * alpha < room) t = room / dk;
    } else if (dk > 0) {
      const room = upper[i] - z[i];
      if (room <= 0) t = 0;
      else if (dk * alpha > room) t = room / dk;
    }
    if (t < alpha) {
      alpha = t;
      ibd = a;
    }
  }
  if (alpha < 1 && ibd >= 0) {
    const i = idx[ibd];
    z[i] = dF[ibd] > 0 ? upper[i] : lower[i];
    dF[ibd] = 0;
  }
  for (let a = 0; a < nf; a++) z[idx[a]] += alpha * dF[a];
  return true;
}

/**
 * Moré–Thuente line search (MINPACK-2's dcsrch with its dcstep) on φ(stp) = f(x + stp·d):
 * construct with φ(0), φ'(0) and the first trial step, then feed φ and φ' at each `stp`;
 * `next` returns true once the step is accepted (converged, or stopped by a warning, which
 * L-BFGS-B also accepts).
 */
class LineSearch {
  stp: number;
  error = false;
  private brackt = false;
  private stage = 1;
  private readonly finit: number;
  private readonly ginit: number;
  private readonly gtest: number;
  private width: number;
  private width1: number;
  private stx = 0;
  private fx: number;
  private gx: number;
  private sty = 0;
  private fy: number;
  private gy: number;
  private stmin = 0;
  private stmax: number;

  constructor(
    f: number,
    g: number,
    stp: number,
    private readonly stpmin: number,
    private readonly stpmax: number,
  ) {
    this.stp = stp;
    if (stp < stpmin || stp > stpmax || g >= 0) this.error = true;
    this.finit = f;
    this.ginit = g;
    this.gtest = FTOL * g;
    this.width = stpmax - stpmin;
    this.width1 = this.width / 0.5;
    this.fx = f;
    this.gx = g;
    this.fy = f;
    this.gy = g;
    this.stmax = stp + 4 * stp;
  }

  next(f: number, g: number): boolean {
    const stp = this.stp;
    const ftest = this.finit + stp * this.gtest;
    if (this.stage === 1 && f <= ftest && g >= 0) this.stage = 2;
    let stop = false;
    if (this.brackt && (stp <= this.stmin || stp >= this.stmax)) stop = true; // rounding errors
    if (this.brackt && this.stmax - this.stmin <= XTOL * this.stmax) stop = true; // xtol
    if (stp === this.stpmax && f <= ftest && g <= this.gtest) stop = true;
    if (stp === this.stpmin && (f > ftest || g >= this.gtest)) stop = true;
    if (f <= ftest && Math.abs(g) <= GTOL * -this.ginit) stop = true; // converged
    if (stop) return true;

    const st: StepState = { stx: this.stx, fx: this.fx, dx: this.gx, sty: this.sty, fy: this.fy, dy: this.gy, stp, brackt: this.brackt };
    if (this.stage === 1 && f <= this.fx && f > ftest) {
      // Modified function ψ(stp) = φ(stp) − φ(0) − gtest·stp until a step with ψ ≤ 0 and φ' ≥ 0.
      const gt = this.gtest;
      st.fx = this.fx - this.stx * gt;
      st.fy = this.fy - this.sty * gt;
      st.dx = this.gx - gt;
      st.dy = this.gy - gt;
      dcstep(st, f - stp * gt, g - gt, this.stmin, this.stmax);
      this.fx = st.fx + st.stx * gt;
      this.fy = st.fy + st.sty * gt;
      this.gx = st.dx + gt;
      this.gy = st.dy + gt;
    } else {
      dcstep(st, f, g, this.stmin, this.stmax);
      this.fx = st.fx;
      this.fy = st.fy;
      this.gx = st.dx;
      this.gy = st.dy;
    }
    this.stx = st.stx;
    this.sty = st.sty;
    this.brackt = st.brackt;
    let next = st.stp;
    if (this.brackt) {
      if (Math.abs(this.sty - this.stx) >= 0.66 * this.width1) next = this.stx + 0.5 * (this.sty - this.stx);
      this.width1 = this.width;
      this.width = Math.abs(this.sty - this.stx);
      this.stmin = Math.min(this.stx, this.sty);
      this.stmax = Math.max(this.stx, this.sty);
    } else {
      this.stmin = next + 1.1 * (next - this.stx);
      this.stmax = next + 4 * (next - this.stx);
    }
    next = Math.max(next, this.stpmin);
    next = Math.min(next, this.stpmax);
    if ((this.brackt && (next <= this.stmin || next >= this.stmax)) || (this.brackt && this.stmax - this.stmin <= XTOL * this.stmax)) {
      next = this.stx;
    }
    this.stp = next;
    return false;
  }
}

interface StepState {
  stx: number;
  fx: number;
  dx: number;
  sty: number;
  fy: number;
  dy: number;
  stp: number;
  brackt: boolean;
}

/** One safeguarded step of the Moré–Thuente search: a new trial step and the updated interval. */
function dcstep(s: StepState, fp: number, dp: number, stpmin: number, stpmax: number): void {
  const { stx, fx, dx, sty, fy, dy, stp } = s;
  const sgnd = dp * (dx / Math.abs(dx));
  let stpf: number;
  if (fp > fx) {
    // Higher value: the minimum is bracketed; cubic or quadratic step toward stx.
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = sc * Math.sqrt((theta / sc) * (theta / sc) - (dx / sc) * (dp / sc));
    if (stp < stx) gamma = -gamma;
    const p = gamma - dx + theta;
    const q = gamma - dx + gamma + dp;
    const r = p / q;
    const stpc = stx + r * (stp - stx);
    const stpq = stx + (dx / ((fx - fp) / (stp - stx) + dx) / 2) * (stp - stx);
    stpf = Math.abs(stpc - stx) < Math.abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2;
    s.brackt = true;
  } else if (sgnd < 0) {
    // Derivatives of opposite sign: bracketed.
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = sc * Math.sqrt((theta / sc) * (theta / sc) - (dx / sc) * (dp / sc));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma - dp + gamma + dx;
    const r = p / q;
    const stpc = stp + r * (stx - stp);
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
    s.brackt = true;
  } else if (Math.abs(dp) < Math.abs(dx)) {
    // Same sign, derivative shrinking.
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = sc * Math.sqrt(Math.max(0, (theta / sc) * (theta / sc) - (dx / sc) * (dp / sc)));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma + (dx - dp) + gamma;
    const r = p / q;
    let stpc: number;
    if (r < 0 && gamma !== 0) stpc = stp + r * (stx - stp);
    else if (stp > stx) stpc = stpmax;
    else stpc = stpmin;
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    if (s.brackt) {
      stpf = Math.abs(stpc - stp) < Math.abs(stpq - stp) ? stpc : stpq;
      if (stp > stx) stpf = Math.min(stp + 0.66 * (sty - stp), stpf);
      else stpf = Math.max(stp + 0.66 * (sty - stp), stpf);
    } else {
      stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
      stpf = Math.min(stpmax, stpf);
      stpf = Math.max(stpmin, stpf);
    }
  } else {
    // Same sign, derivative not shrinking.
    if (s.brackt) {
      const theta = (3 * (fp - fy)) / (sty - stp) + dy + dp;
      const sc = Math.max(Math.abs(theta), Math.abs(dy), Math.abs(dp));
      let gamma = sc * Math.sqrt((theta / sc) * (theta / sc) - (dy / sc) * (dp / sc));
      if (stp > sty) gamma = -gamma;
      const p = gamma - dp + theta;
      const q = gamma - dp + gamma + dy;
      const r = p / q;
      stpf = stp + r * (sty - stp);
    } else if (stp > stx) {
      stpf = stpmax;
    } else {
      stpf = stpmin;
    }
  }
  if (fp > fx) {
    s.sty = stp;
    s.fy = fp;
    s.dy = dp;
  } else {
    if (sgnd < 0) {
      s.sty = stx;
      s.fy = fx;
      s.dy = dx;
    }
    s.stx = stp;
    s.fx = fp;
    s.dx = dp;
  }
  s.stp = stpf;
}
