/**
 * Ask/tell Bayesian optimisation (maximisation) behaving like bayes_opt 1.2.0's
 * `BayesianOptimization.maximize(init_points=0, …)`: the first suggestion is uniform in the box;
 * later ones maximise UCB or EI of a GP fitted to all observations, found by a random sweep
 * followed by bounded quasi-Newton refinement, and clipped to the box.
 *
 * Two streams. 'reference' draws every number in bayes_opt's order — per suggestion the GP's
 * restart points, the sweep (row by row) and the local starts — and refines only from those
 * starts, so that with `new Rng(seed, 'numpy')` as `rng`, another as `spaceRng`, and the
 * parameters in bayes_opt's (sorted-name) order it retraces bayes_opt's run for that seed.
 * 'fast' draws the sweep from a small generator seeded by the Rng and also refines the best
 * sweep points; it is cheaper and finds the acquisition maximum more reliably.
 */
import type { Rng } from '../util/rng.js';
import { acquisitionValue, acquisitionWithPartials, type AcquisitionKind, type AcquisitionSpec } from './acquisition.js';
import { GaussianProcess } from './gp.js';
import { createSweepScratch, sweepAcquisition, type SweepScratch } from './sweep.js';
import { minimiseBounded } from './optimise.js';
import { forwardDifferences, lbfgsb } from './lbfgsb.js';

export interface BayesOptOptions {
  /** Number of parameters. */
  readonly dim: number;
  /** [lower, upper] per parameter (default [-1, 1] each). */
  readonly bounds?: ReadonlyArray<readonly [number, number]>;
  /** Acquisition function (default 'ucb'). */
  readonly acquisition?: AcquisitionKind;
  /** UCB κ (default 2.576). */
  readonly kappa?: number;
  /** EI ξ (default 0). */
  readonly xi?: number;
  /** GP likelihood restarts (default 5). */
  readonly gpRestarts?: number;
  /** Random points in the acquisition sweep (default 10,000). */
  readonly samples?: number;
  /** Local refinements started from uniform random points (default 10). */
  readonly localStarts?: number;
  /** Local refinements started from the best points of the sweep (default 5; bayes_opt has none). */
  readonly bestStarts?: number;
  /** GP diagonal noise (default 1e-6). */
  readonly noise?: number;
  /**
   * 'reference' retraces bayes_opt's random stream and search (bestStarts is then 0, the sweep
   * is drawn from the Rng, refinements and the GP fit replay scipy's L-BFGS-B, the former on
   * forward differences as bayes_opt calls it); 'fast' as described above. Default DEFAULT_BO_STREAM.
   */
  readonly stream?: BayesOptStream;
}

export type BayesOptStream = 'reference' | 'fast';

/**
 * The one default of the BO random stream, for BayesOpt and every search built on it (RoBoT, the CLI): 'reference',
 * so that an unconfigured run retraces the paper's reference code for its seed.
 */
export const DEFAULT_BO_STREAM: BayesOptStream = 'reference';

export class BayesOpt {
  readonly dim: number;
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  readonly spec: AcquisitionSpec;
  readonly stream: BayesOptStream;
  private readonly samples: number;
  private readonly localStarts: number;
  private readonly bestStarts: number;
  private readonly gp: GaussianProcess;

  private xs: number[] = [];
  private ys: number[] = [];
  /** Exact point → target, so a repeated suggestion is answered from here and not registered twice. */
  private readonly seen = new Map<string, number>();

  // Sweep buffers, allocated once.
  private readonly sweep: Float64Array;
  private readonly scratch: SweepScratch;

  /**
   * `rng` drives the GP restarts and the acquisition search; `spaceRng` (default: the same)
   * draws the random points suggested before any observation. bayes_opt hands its integer seed
   * to both its TargetSpace and its own RandomState, so they are two generators seeded alike.
   */
  constructor(
    options: BayesOptOptions,
    private readonly rng: Rng,
    private readonly spaceRng: Rng = rng,
  ) {
    const dim = options.dim;
    if (!(Number.isInteger(dim) && dim >= 1)) throw new RangeError(`BayesOpt: dim must be a positive integer, got ${dim}`);
    this.dim = dim;
    this.lower = new Float64Array(dim);
    this.upper = new Float64Array(dim);
    for (let m = 0; m < dim; m++) {
      const b = options.bounds?.[m] ?? [-1, 1];
      if (!(Number.isFinite(b[0]) && Number.isFinite(b[1]) && b[0] <= b[1])) {
        throw new RangeError(`BayesOpt: bad bounds [${b[0]}, ${b[1]}] for parameter ${m}`);
      }
      this.lower[m] = b[0];
      this.upper[m] = b[1];
    }
    if (options.bounds && options.bounds.length !== dim) {
      throw new RangeError(`BayesOpt: ${options.bounds.length} bounds for ${dim} parameters`);
    }
    this.spec = { kind: options.acquisition ?? 'ucb', kappa: options.kappa ?? 2.576, xi: options.xi ?? 0 };
    this.stream = options.stream ?? DEFAULT_BO_STREAM;
    const reference = this.stream === 'reference';
    this.samples = Math.max(1, Math.floor(options.samples ?? 10_000));
    this.localStarts = Math.max(0, Math.floor(options.localStarts ?? 10));
    // bayes_opt refines from random starts only.
    this.bestStarts = reference ? 0 : Math.max(0, Math.floor(options.bestStarts ?? 5));
    this.gp = new GaussianProcess(dim, { noise: options.noise ?? 1e-6, restarts: options.gpRestarts ?? 5, normalizeY: true, reference });
    this.sweep = new Float64Array(this.samples * dim);
    this.scratch = createSweepScratch(this.samples);
  }

  /** Number of registered (distinct) observations. */
  get size(): number {
    return this.ys.length;
  }

  /** The best registered observation (first on ties), or undefined before any. */
  best(): { x: Float64Array; y: number } | undefined {
    let bi = -1;
    for (let i = 0; i < this.ys.length; i++) if (bi < 0 || this.ys[i] > this.ys[bi]) bi = i;
    if (bi < 0) return undefined;
    return { x: Float64Array.from(this.xs.slice(bi * this.dim, (bi + 1) * this.dim)), y: this.ys[bi] };
  }

  /** Target already registered at exactly this point, if any. */
  lookup(x: ArrayLike<number>): number | undefined {
    return this.seen.get(pointKey(x));
  }

  /** Register an observation. Returns false (and changes nothing) if the point was already registered. */
  observe(x: ArrayLike<number>, y: number): boolean {
    if (x.length !== this.dim) throw new RangeError(`BayesOpt.observe: point has ${x.length} values, expected ${this.dim}`);
    if (!Number.isFinite(y)) throw new RangeError(`BayesOpt.observe: target must be finite, got ${y}`);
    const key = pointKey(x);
    if (this.seen.has(key)) return false;
    this.seen.set(key, y);
    for (let m = 0; m < this.dim; m++) this.xs.push(x[m]);
    this.ys.push(y);
    return true;
  }

  /**
   * Next point to evaluate: uniform while nothing is registered, else the acquisition's maximiser. `pending`
   * points (proposed, not yet observed) are believed at the GP's posterior mean (kriging believer): the GP is
   * conditioned on them with its fitted length scale, so the acquisition's variance term no longer favours
   * them and a batch spreads out. Without pending points the draws are exactly those of the sequential search.
   */
  suggest(pending: readonly ArrayLike<number>[] = []): Float64Array {
    const dim = this.dim;
    const out = new Float64Array(dim);
    if (this.ys.length === 0) {
      for (let m = 0; m < dim; m++) out[m] = this.spaceRng.uniform(this.lower[m], this.upper[m]);
      return out;
    }
    const gp = this.gp;
    gp.fit(this.xs, this.ys, this.rng);
    if (pending.length > 0) {
      const px = new Float64Array(pending.length * dim);
      const py = new Float64Array(pending.length);
      const post = new Float64Array(2);
      pending.forEach((p, j) => {
        if (p.length !== dim) throw new RangeError(`BayesOpt.suggest: pending point has ${p.length} values, expected ${dim}`);
        for (let m = 0; m < dim; m++) px[j * dim + m] = p[m];
        gp.predictInto(p, post);
        py[j] = post[0];
      });
      gp.condition(px, py);
    }
    let yMax = -Infinity;
    for (const y of this.ys) if (y > yMax) yMax = y;

    // 1. Random sweep: the best of `samples` uniform points, and the runners-up to refine.
    const S = this.samples;
    const reference = this.stream === 'reference';
    if (reference) {
      // As uniform(lower, upper, size=(S, dim)): row-major, one draw per coordinate, lo + (hi − lo)·u.
      const sw = this.sweep;
      this.rng.fillNext(sw, 0, S * dim);
      for (let p = 0; p < S; p++) {
        for (let m = 0; m < dim; m++) sw[p * dim + m] = this.lower[m] + (this.upper[m] - this.lower[m]) * sw[p * dim + m];
      }
    } else {
      fillUniformBox(this.sweep, S, this.lower, this.upper, this.rng);
    }
    const k = Math.min(this.bestStarts, S);
    const sweep = sweepAcquisition(gp, this.sweep, S, this.spec, yMax, Math.max(k, 1), this.scratch);
    let bestAcq = sweep.bestValue;
    out.set(this.sweep.subarray(sweep.best * dim, (sweep.best + 1) * dim));

    // 2. Local refinement of −acquisition from the sweep's best points and from random points.
    const gradMean = new Float64Array(dim);
    const gradStd = new Float64Array(dim);
    const partials = new Float64Array(3);
    const negAcq = (x: Float64Array, grad: Float64Array): number => {
      const { mean, std } = gp.predictWithGradient(x, gradMean, gradStd);
      acquisitionWithPartials(this.spec, mean, std, yMax, partials);
      for (let m = 0; m < dim; m++) grad[m] = -(partials[1] * gradMean[m] + partials[2] * gradStd[m]);
      return -partials[0];
    };
    const starts: Float64Array[] = [];
    for (let j = 0; j < Math.min(k, sweep.top.length); j++) {
      const p = sweep.top[j];
      starts.push(this.sweep.slice(p * dim, (p + 1) * dim));
    }
    for (let r = 0; r < this.localStarts; r++) {
      const s = new Float64Array(dim);
      for (let m = 0; m < dim; m++) s[m] = this.rng.uniform(this.lower[m], this.upper[m]);
      starts.push(s);
    }
    const posterior = new Float64Array(2);
    // bayes_opt minimises −acquisition with scipy's L-BFGS-B on finite differences and ignores
    // unsuccessful runs.
    const negAcqValue = (x: Float64Array): number => {
      gp.predictInto(x, posterior);
      return -acquisitionValue(this.spec, posterior[0], posterior[1], yMax);
    };
    // The point and its forward-difference neighbours in one batched posterior (bit-identical to predictInto).
    const bm = new Float64Array(dim + 1);
    const bs = new Float64Array(dim + 1);
    const negAcqBatch = (pts: Float64Array, count: number, vals: Float64Array): void => {
      gp.predictBatch(pts, count, bm, bs);
      for (let j = 0; j < count; j++) vals[j] = -acquisitionValue(this.spec, bm[j], bs[j], yMax);
    };
    const referenceObjective = reference ? forwardDifferences(negAcqValue, this.lower, this.upper, 1e-8, negAcqBatch) : undefined;
    for (const s of starts) {
      let res: { readonly x: Float64Array; readonly f: number };
      if (referenceObjective) {
        const r = lbfgsb(referenceObjective, s, this.lower, this.upper);
        if (!r.success) continue;
        res = r;
      } else {
        res = minimiseBounded(negAcq, s, this.lower, this.upper);
      }
      // Later refinements win ties, as bayes_opt's `>=`.
      if (Number.isFinite(res.f) && -res.f >= bestAcq) {
        bestAcq = -res.f;
        out.set(res.x);
      }
    }
    for (let m = 0; m < dim; m++) out[m] = Math.min(Math.max(out[m], this.lower[m]), this.upper[m]);
    return out;
  }
}

function pointKey(x: ArrayLike<number>): string {
  // Number → string round-trips exactly, so equal keys mean bit-equal points (−0 and 0 merge, as in Python).
  return Array.prototype.join.call(x, ',');
}

/**
 * Fill `count` rows with uniform points in the box. Uses a small sfc32 generator seeded from the
 * Rng: tens of thousands of Rng.next() calls per suggestion would cost more than the GP itself,
 * and seeding keeps the run reproducible from the seed. 32-bit resolution is ample for a sweep.
 */
function fillUniformBox(buf: Float64Array, count: number, lower: Float64Array, upper: Float64Array, rng: Rng): void {
  const dim = lower.length;
  let a = (rng.next() * 4294967296) | 0;
  let b = (rng.next() * 4294967296) | 0;
  let c = (rng.next() * 4294967296) | 0;
  let d = 1;
  // Outputs −12..−1 are discarded (they still echo the seed); output k ≥ 0 fills buf[k], whose
  // coordinate is m = k mod dim (rows are row-major).
  const total = count * dim;
  for (let k = -12, m = 0; k < total; k++) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    if (k < 0) continue;
    buf[k] = lower[m] + (upper[m] - lower[m]) * ((t >>> 0) / 4294967296);
    if (++m === dim) m = 0;
  }
}
