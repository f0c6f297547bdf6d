/**
 * RoBoT (He et al., ICLR 2024): Bayesian optimisation of a linear combination of normalised
 * training-free metrics, followed by greedy exploitation of the best combination found.
 *
 * With budget T: BO evaluates T weight vectors w ∈ [−1, 1]^M (the first uniform); each
 * evaluation queries the pool's top architecture under score(w) = Σₘ wₘ·x̃ₘ. T0 distinct
 * architectures get queried this way; then the remaining T − T0 queries go to the top-ranked
 * unqueried architectures under the best w. The answer is the queried architecture with the
 * best objective.
 */
import { BayesOpt, type BayesOptOptions } from '../gp/bayesopt.js';
import type { AcquisitionKind } from '../gp/acquisition.js';
import { InputError } from '../util/errors.js';
import { normalise, type NormaliseKind, type NormaliseOptions } from './normalise.js';
import { metricColumn } from './training-free.js';
import type { Pool, SearchMethod } from './types.js';

export interface RobotOptions {
  /** Metric columns of the pool to combine (in this order: it is the order of w). */
  readonly metrics: readonly string[];
  /** How each metric is normalised over the pool (default 'minmax', the reference). */
  readonly normalise?: NormaliseKind;
  readonly normaliseOptions?: NormaliseOptions;
  /** Acquisition function (default 'ucb', the reference). */
  readonly acquisition?: AcquisitionKind;
  /** UCB κ (default 2.576). */
  readonly kappa?: number;
  /** EI ξ (default 0). */
  readonly xi?: number;
  /** Further BayesOpt settings (samples, restarts, local starts, noise, bounds). */
  readonly bo?: Partial<Omit<BayesOptOptions, 'dim' | 'acquisition' | 'kappa' | 'xi'>>;
}

export function createRobot(options: RobotOptions): SearchMethod {
  const metrics = [...options.metrics];
  if (metrics.length === 0) throw new InputError('RoBoT needs at least one metric');
  if (new Set(metrics).size !== metrics.length) throw new InputError(`RoBoT metrics must be distinct: ${metrics.join(', ')}`);
  const kind = options.normalise ?? 'minmax';
  const acquisition = options.acquisition ?? 'ucb';

  return {
    name: 'RoBoT',
    async run(ctx) {
      const { pool, ledger, budget } = ctx;
      if (!(Number.isInteger(budget) && budget >= 1)) throw new InputError(`budget must be a positive integer, got ${budget}`);
      const n = pool.archs.length;
      if (n === 0) throw new InputError('RoBoT: the pool is empty');
      const M = metrics.length;
      const start = ledger.count;

      const cols = normalisedColumns(pool, metrics, kind, options.normaliseOptions);
      const scores = new Float64Array(n);
      const computeScores = (w: ArrayLike<number>): void => {
        scoreInto(cols, w, scores);
      };

      const bo = new BayesOpt({ ...options.bo, dim: M, acquisition, kappa: options.kappa, xi: options.xi }, ctx.rng);

      // Phase 1: T evaluations of w.
      let bestW: Float64Array | undefined;
      let bestY = -Infinity;
      for (let t = 0; t < budget; t++) {
        const w = bo.suggest();
        // A repeated w is answered from BO's cache without calling the objective (bayes_opt's probe).
        if (bo.lookup(w) !== undefined) continue;
        computeScores(w);
        const top = argmaxLast(scores);
        const y = await ledger.query(top);
        ctx.onProgress?.(ledger.count - start, budget);
        // Later weights win ties, as the reference's `>=`.
        if (y >= bestY) {
          bestY = y;
          bestW = w;
        }
        bo.observe(w, y);
      }
      const t0 = ledger.count - start;

      // Phase 2: greedy by score(best w), highest first, skipping what is already queried.
      computeScores(bestW!);
      const taken = new Uint8Array(n);
      while (ledger.count - start < budget) {
        const next = argmaxLastExcluding(scores, taken, ledger);
        if (next < 0) break; // pool exhausted
        taken[next] = 1;
        await ledger.query(next);
        ctx.onProgress?.(ledger.count - start, budget);
      }

      const weights: Record<string, number> = {};
      metrics.forEach((name, m) => (weights[name] = bestW![m]));
      return { best: ledger.best(), t0, weights, extras: { acquisition, normalise: kind } };
    },
  };
}

/**
 * The chosen metric columns of the pool, normalised over the pool, with missing values (NaN)
 * replaced by 0 so that they contribute nothing to any score (the reference's rule).
 */
export function normalisedColumns(
  pool: Pool,
  metrics: readonly string[],
  kind: NormaliseKind = 'minmax',
  options?: NormaliseOptions,
): Float64Array[] {
  const n = pool.archs.length;
  return metrics.map((name) => {
    const raw = metricColumn(pool, name);
    if (raw.length !== n) throw new InputError(`metric '${name}' has ${raw.length} values for a pool of ${n}`);
    const z = normalise(raw, kind, options);
    for (let i = 0; i < n; i++) if (Number.isNaN(z[i])) z[i] = 0;
    return z;
  });
}

/**
 * score_i = Σₘ wₘ·colsₘ[i] into `out`, summed metric by metric from 0 in the reference's order
 * (so ties come out the same); no allocation.
 */
export function scoreInto(cols: readonly Float64Array[], w: ArrayLike<number>, out: Float64Array): Float64Array {
  out.fill(0);
  const n = out.length;
  for (let m = 0; m < cols.length; m++) {
    const c = cols[m];
    const wm = w[m];
    for (let i = 0; i < n; i++) out[i] += wm * c[i];
  }
  return out;
}

/**
 * Index of the largest score, the LAST one among ties: the reference takes
 * np.flip(np.argsort(scores))[0], which for a stable sort is the highest tied index.
 */
function argmaxLast(scores: Float64Array): number {
  let bi = 0;
  let bv = scores[0];
  for (let i = 1; i < scores.length; i++) {
    if (scores[i] >= bv) {
      bv = scores[i];
      bi = i;
    }
  }
  return bi;
}

/** argmaxLast over indexes neither taken nor already queried; −1 if none is left. */
function argmaxLastExcluding(scores: Float64Array, taken: Uint8Array, ledger: { has(i: number): boolean }): number {
  let bi = -1;
  let bv = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    if (taken[i]) continue;
    const v = scores[i];
    if ((bi < 0 || v >= bv) && !ledger.has(i)) {
      bv = v;
      bi = i;
    }
  }
  return bi;
}
