/**
 * Gaussian-process regression matching the sklearn GaussianProcessRegressor that bayes_opt 1.2.0
 * builds: Matérn 5/2 kernel with one isotropic length scale and no amplitude, `alpha` (noise)
 * added to the Gram diagonal, targets standardised (normalize_y), and the length scale fitted by
 * maximising the log marginal likelihood from ℓ = 1 plus `restarts` starts uniform in log-bounds.
 */
import type { Rng } from '../util/rng.js';
import { cholesky, choleskySolve, dot, solveLower } from './linalg.js';
import { matern52FromScaledSq, matern52Gram, matern52InputFactor, pairwiseDistances } from './kernel.js';
import { minimiseBounded } from './optimise.js';
import { lbfgsb } from './lbfgsb.js';
import { blockOf, destandardisedStd, loadModel, posteriorInto, type FittedGp } from './posterior.js';
import { gpHeaps } from './wasm.js';
import { numpySum } from '../numpy/sum.js';

export interface GpOptions {
  /** Added to the Gram diagonal (sklearn's alpha; default 1e-6). */
  noise?: number;
  /** Standardise targets by mean and (population) std before fitting (default true). */
  normalizeY?: boolean;
  /** Initial (or, with optimise false, fixed) length scale (default 1). */
  lengthScale?: number;
  /** Length-scale bounds for fitting (default [1e-5, 1e5]). */
  lengthScaleBounds?: readonly [number, number];
  /** Random restarts of the likelihood optimiser besides the start at `lengthScale` (default 5). */
  restarts?: number;
  /** Fit the length scale by maximum likelihood (default true). */
  optimise?: boolean;
  /**
   * Reproduce sklearn 1.2 where it changes which model is fitted (default false): the target
   * mean and std summed in numpy's order, a std left unscaled only when exactly 0 (a 1-D target
   * gives numpy a scalar std, which `_handle_zeros_in_scale` only checks for 0), each likelihood
   * start run by the same L-BFGS-B iteration as scipy's (in flat likelihoods its path decides
   * which optimum wins), and the posterior std de-standardised as √(σ²ₙ·s²).
   */
  reference?: boolean;
}

const LOG_2PI = Math.log(2 * Math.PI);
const SQRT5 = Math.sqrt(5);
export class GaussianProcess {
  readonly dim: number;
  private readonly noise: number;
  private readonly normalizeY: boolean;
  private readonly initialLengthScale: number;
  private readonly logBounds: readonly [number, number];
  private readonly restarts: number;
  private readonly optimise: boolean;
  private readonly reference: boolean;

  private n = 0;
  private x: Float64Array = new Float64Array(0);
  /** Standardised targets. */
  private yn: Float64Array = new Float64Array(0);
  private yMeanValue = 0;
  private yStdValue = 1;
  private ell = 1;
  private l: Float64Array = new Float64Array(0);
  /** K⁻¹·yₙ */
  private alpha: Float64Array = new Float64Array(0);
  private fitted = false;

  // Workspace for likelihood evaluations, sized to n.
  private dist: Float64Array = new Float64Array(0);
  private kBuf: Float64Array = new Float64Array(0);
  private aBuf: Float64Array = new Float64Array(0);
  // Workspace for predictions.
  private kStar: Float64Array = new Float64Array(0);
  private vBuf: Float64Array = new Float64Array(0);
  private invDiag: Float64Array = new Float64Array(0);
  /** The current fit as the posterior computations read it (posterior.ts); a new object per fit. */
  private model: FittedGp | undefined;

  constructor(dim: number, options: GpOptions = {}) {
    if (!(Number.isInteger(dim) && dim >= 1)) throw new RangeError(`GaussianProcess: dim must be a positive integer, got ${dim}`);
    this.dim = dim;
    this.noise = options.noise ?? 1e-6;
    this.normalizeY = options.normalizeY ?? true;
    this.initialLengthScale = options.lengthScale ?? 1;
    const [lo, hi] = options.lengthScaleBounds ?? [1e-5, 1e5];
    if (!(lo > 0 && hi >= lo)) throw new RangeError(`GaussianProcess: bad length-scale bounds [${lo}, ${hi}]`);
    this.logBounds = [Math.log(lo), Math.log(hi)];
    this.restarts = options.restarts ?? 5;
    this.optimise = options.optimise ?? true;
    this.reference = options.reference ?? false;
  }

  /** Fitted length scale ℓ. */
  get lengthScale(): number {
    return this.ell;
  }
  /** Number of training points. */
  get size(): number {
    return this.n;
  }
  /** Mean and std used to standardise targets (0 and 1 without normalizeY). */
  get yMean(): number {
    return this.yMeanValue;
  }
  get yStd(): number {
    return this.yStdValue;
  }

  /**
   * Fit to n points X (row-major n×dim) with targets y. `rng` draws the restart points; it is
   * required when the length scale is optimised with restarts.
   */
  fit(x: ArrayLike<number>, y: ArrayLike<number>, rng?: Rng): this {
    const n = y.length;
    if (n < 1) throw new RangeError('GaussianProcess.fit: no training points');
    if (x.length !== n * this.dim) throw new RangeError(`GaussianProcess.fit: X has ${x.length} values, expected ${n}×${this.dim}`);
    this.fitted = false;
    this.n = n;
    this.x = Float64Array.from(x);
    this.allocate(n);

    let mean = 0;
    let std = 1;
    if (this.normalizeY && this.reference) {
      mean = numpySum(y, 0, n) / n;
      const dev = new Float64Array(n);
      for (let i = 0; i < n; i++) dev[i] = (y[i] - mean) * (y[i] - mean);
      std = Math.sqrt(numpySum(dev, 0, n) / n);
      if (std === 0) std = 1;
    } else if (this.normalizeY) {
      for (let i = 0; i < n; i++) mean += y[i];
      mean /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (y[i] - mean) * (y[i] - mean);
      std = Math.sqrt(v / n);
      // sklearn's _handle_zeros_in_scale: a (near-)constant target is left unscaled.
      if (std < 10 * Number.EPSILON) std = 1;
    }
    this.yMeanValue = mean;
    this.yStdValue = std;
    this.yn = new Float64Array(n);
    for (let i = 0; i < n; i++) this.yn[i] = (y[i] - mean) / std;
    pairwiseDistances(this.x, n, this.dim, this.dist);

    let bestLog = Math.log(this.initialLengthScale);
    if (this.optimise) {
      const [lo, hi] = this.logBounds;
      const starts = [bestLog];
      if (this.restarts > 0) {
        if (!rng) throw new RangeError('GaussianProcess.fit: an Rng is needed for likelihood restarts');
        for (let r = 0; r < this.restarts; r++) starts.push(rng.uniform(lo, hi));
      }
      const lower = [lo];
      const upper = [hi];
      const objective = (t: Float64Array, grad: Float64Array): number => {
        const v = this.logMarginalLikelihood(t[0], grad);
        grad[0] = -grad[0];
        return -v;
      };
      let bestNeg = Infinity;
      for (const s of starts) {
        const res = this.reference ? lbfgsb(objective, [s], lower, upper) : minimiseBounded(objective, [s], lower, upper);
        // First best kept on ties, as np.argmin over the optima.
        if (res.f < bestNeg) {
          bestNeg = res.f;
          bestLog = res.x[0];
        }
      }
    }
    this.ell = Math.exp(bestLog);
    this.factorise();
    return this;
  }

  /**
   * Conditions the fitted GP on further points with the same length scale and target scaling (no refit, no
   * random draws): the kriging believer's hallucinated observations — at a pending point the target is the
   * posterior mean, so the mean stays put while the variance there shrinks.
   */
  condition(extraX: ArrayLike<number>, extraY: ArrayLike<number>): this {
    this.requireFitted();
    const k = extraY.length;
    if (extraX.length !== k * this.dim) throw new RangeError(`GaussianProcess.condition: X has ${extraX.length} values, expected ${k}×${this.dim}`);
    if (k === 0) return this;
    const n = this.n + k;
    const x = new Float64Array(n * this.dim);
    x.set(this.x);
    x.set(Float64Array.from(extraX), this.n * this.dim);
    const yn = new Float64Array(n);
    yn.set(this.yn);
    for (let i = 0; i < k; i++) yn[this.n + i] = (extraY[i] - this.yMeanValue) / this.yStdValue;
    this.n = n;
    this.x = x;
    this.allocate(n);
    this.yn = yn;
    pairwiseDistances(this.x, n, this.dim, this.dist);
    this.factorise();
    return this;
  }

  /**
   * Log marginal likelihood of the standardised targets at log ℓ; with `gradOut`, writes
   * ∂/∂log ℓ = ½·tr((ααᵀ − K⁻¹)·∂K/∂log ℓ) to gradOut[0]. −∞ (gradient 0) when K is not
   * positive definite, as sklearn does.
   */
  logMarginalLikelihood(logLengthScale: number, gradOut?: Float64Array): number {
    const n = this.n;
    if (n === 0) throw new RangeError('GaussianProcess: not fitted');
    const ell = Math.exp(logLengthScale);
    // The Gram matrix (its exponentials) here, its factorisation, solve and inverse in WebAssembly (native/gp/gp.c):
    // the same operations in the same order as linalg.ts's loops, at about twice their speed.
    const { work } = gpHeaps();
    work.reset();
    const nn = n * n;
    const kAt = work.alloc(nn);
    const dkAt = work.alloc(nn);
    const yAt = work.alloc(n);
    const aAt = work.alloc(n);
    const invAt = gradOut ? work.alloc(nn) : 0;
    const mtAt = gradOut ? work.alloc(n * (n + 1)) : 0; // L⁻¹ in column pairs: n(n + 1) for odd n
    const outAt = work.alloc(2);
    const k = work.view(kAt, nn);
    matern52Gram(this.dist, n, ell, this.noise, k, gradOut ? work.view(dkAt, nn) : undefined);
    work.view(yAt, n).set(this.yn);
    if (!work.x.gp_lml(kAt, dkAt, yAt, n, gradOut ? 1 : 0, aAt, invAt, mtAt, outAt)) {
      if (gradOut) gradOut[0] = 0;
      return -Infinity;
    }
    const out = work.view(outAt, 2);
    let logDiag = 0;
    for (let i = 0; i < n; i++) logDiag += Math.log(k[i * n + i]);
    const value = -0.5 * out[0] - logDiag - 0.5 * n * LOG_2PI;
    if (gradOut) gradOut[0] = 0.5 * out[1];
    return value;
  }

  /** Posterior at one point (de-standardised): mean, variance and std (variance clipped at 0). */
  predict(point: ArrayLike<number>): { mean: number; variance: number; std: number } {
    this.requireFitted();
    const n = this.n;
    const ks = this.kernelVector(point);
    const mu = dot(ks, this.alpha, n);
    const v = solveLower(this.l, n, ks, this.vBuf);
    const q = dot(v, v, n);
    const varN = Math.max(1 - q, 0);
    const s = this.yStdValue;
    const variance = varN * s * s;
    return { mean: mu * s + this.yMeanValue, variance, std: Math.sqrt(variance) };
  }

  /**
   * Posterior mean and std with their gradients w.r.t. the input point (written to gradMean,
   * gradStd). Where the variance is 0 the std gradient is reported as 0.
   */
  predictWithGradient(point: ArrayLike<number>, gradMean: Float64Array, gradStd: Float64Array): { mean: number; std: number } {
    this.requireFitted();
    const n = this.n;
    const dim = this.dim;
    const ks = this.kernelVector(point);
    const mu = dot(ks, this.alpha, n);
    // w = K⁻¹k*: σ²ₙ = 1 − k*ᵀw, ∂σ²ₙ/∂x = −2·Σᵢ wᵢ ∂k*ᵢ/∂x.
    const v = solveLower(this.l, n, ks, this.vBuf);
    const q = dot(v, v, n);
    const w = choleskySolve(this.l, n, ks, this.aBuf);
    gradMean.fill(0, 0, dim);
    gradStd.fill(0, 0, dim);
    const ell2 = this.ell * this.ell;
    for (let i = 0; i < n; i++) {
      let d2 = 0;
      for (let m = 0; m < dim; m++) {
        const t = point[m] - this.x[i * dim + m];
        d2 += t * t;
      }
      const gk = matern52InputFactor(d2 / ell2, this.ell);
      const cm = gk * this.alpha[i];
      const cv = -2 * gk * w[i];
      for (let m = 0; m < dim; m++) {
        const t = point[m] - this.x[i * dim + m];
        gradMean[m] += cm * t;
        gradStd[m] += cv * t; // ∂σ²ₙ/∂x for now
      }
    }
    const s = this.yStdValue;
    const varN = 1 - q;
    const stdN = varN > 0 ? Math.sqrt(varN) : 0;
    for (let m = 0; m < dim; m++) {
      gradMean[m] *= s;
      gradStd[m] = stdN > 0 ? (gradStd[m] * s) / (2 * stdN) : 0;
    }
    return { mean: mu * s + this.yMeanValue, std: stdN * s };
  }

  /**
   * Posterior mean and std at `count` points (row-major count×dim) into `meanOut`, `stdOut`.
   * Vectorised over points in blocks: for a block, K* is built as n rows and L⁻¹K* solved row by
   * row, so inner loops run over contiguous memory that stays in cache, and nothing is
   * allocated per point.
   */
  predictBatch(points: Float64Array, count: number, meanOut: Float64Array, stdOut: Float64Array): void {
    this.requireFitted();
    const n = this.n;
    const dim = this.dim;
    const x = this.x;
    const inv2 = 1 / (this.ell * this.ell);
    const s = this.yStdValue;
    const m0 = this.yMeanValue;
    const { work } = gpHeaps();
    const model = loadModel(this.model!, work);
    const B = blockOf(count);
    const kkAt = work.alloc(n * B);
    const meanAt = work.alloc(B);
    const varAt = work.alloc(B);
    const kk = work.view(kkAt, n * B);
    const mv = work.view(meanAt, B);
    const vv = work.view(varAt, B);
    for (let p0 = 0; p0 < count; p0 += B) {
      const cnt = Math.min(B, count - p0);
      for (let i = 0; i < n; i++) {
        const row = i * B;
        const xo = i * dim;
        for (let q = 0; q < cnt; q++) {
          let d2 = 0;
          const po = (p0 + q) * dim;
          for (let m = 0; m < dim; m++) {
            const t = points[po + m] - x[xo + m];
            d2 += t * t;
          }
          // Matérn 5/2 inlined, written exactly as matern52FromScaledSq (which the sweep's exact evaluations call) so that
          // both agree to the bit.
          const d = SQRT5 * Math.sqrt(d2 * inv2);
          kk[row + q] = (1 + d + (d * d) / 3) * Math.exp(-d);
        }
      }
      // Mean αᵀk* and the forward substitution L⁻¹K* (whose squares leave the prior variance 1) in WebAssembly.
      work.x.gp_posterior(kkAt, B, cnt, model.l, n, model.alpha, model.invDiag, meanAt, varAt);
      for (let q = 0; q < cnt; q++) {
        stdOut[p0 + q] = destandardisedStd(this.model!, vv[q]);
        meanOut[p0 + q] = mv[q] * s + m0;
      }
    }
  }

  /**
   * Posterior mean and std at one point into out[0..1], computed exactly as the sweep's `exactAt` computes
   * them for a sweep point (so a point gets the same value either way).
   */
  predictInto(point: ArrayLike<number>, out: Float64Array): void {
    this.requireFitted();
    const n = this.n;
    const ks = this.kernelVector(point);
    posteriorInto(this.model!, ks, dot(this.alpha, ks, n), out);
  }

  private kernelVector(point: ArrayLike<number>): Float64Array {
    const n = this.n;
    const dim = this.dim;
    if (point.length !== dim) throw new RangeError(`GaussianProcess: point has ${point.length} values, expected ${dim}`);
    const inv2 = 1 / (this.ell * this.ell);
    for (let i = 0; i < n; i++) {
      let d2 = 0;
      for (let m = 0; m < dim; m++) {
        const t = point[m] - this.x[i * dim + m];
        d2 += t * t;
      }
      this.kStar[i] = matern52FromScaledSq(d2 * inv2);
    }
    return this.kStar;
  }

  private factorise(): void {
    const n = this.n;
    const k = matern52Gram(this.dist, n, this.ell, this.noise, this.kBuf);
    const l = cholesky(k, n, new Float64Array(n * n));
    if (!l) {
      // sklearn raises here too; with noise > 0 and distinct points it only happens for extreme ℓ.
      throw new RangeError(`GaussianProcess.fit: Gram matrix not positive definite (length scale ${this.ell})`);
    }
    this.l = l;
    this.alpha = choleskySolve(l, n, this.yn, new Float64Array(n));
    this.invDiag = new Float64Array(n);
    for (let i = 0; i < n; i++) this.invDiag[i] = 1 / l[i * n + i];
    this.model = {
      n,
      dim: this.dim,
      x: this.x,
      ell: this.ell,
      noise: this.noise,
      l,
      alpha: this.alpha,
      invDiag: this.invDiag,
      gram: Float64Array.from(k.subarray(0, n * n)),
      yMean: this.yMeanValue,
      yStd: this.yStdValue,
      reference: this.reference,
      scratch: this.vBuf,
    };
    this.fitted = true;
  }

  /** The current fit's posterior state (for the acquisition sweep, sweep.ts). */
  posteriorModel(): FittedGp {
    this.requireFitted();
    return this.model!;
  }

  private requireFitted(): void {
    if (!this.fitted) throw new RangeError('GaussianProcess: predict before fit');
  }

  private allocate(n: number): void {
    if (this.dist.length === n * n) return;
    this.dist = new Float64Array(n * n);
    this.kBuf = new Float64Array(n * n);
    this.aBuf = new Float64Array(n);
    this.kStar = new Float64Array(n);
    this.vBuf = new Float64Array(n);
  }
}
