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
import { BayesOpt, DEFAULT_BO_STREAM, type BayesOptOptions, type BayesOptStream } from '../gp/bayesopt.js';
import type { AcquisitionKind } from '../gp/acquisition.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { numpyArgsort, topAsNumpy } from '../numpy/argsort.js';
import { normalise, type NormaliseKind, type NormaliseOptions } from './normalise.js';
import { metricColumn } from './training-free.js';
import { keepBusy } from './schedule.js';
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
  readonly bo?: Partial<Omit<BayesOptOptions, 'dim' | 'acquisition' | 'kappa' | 'xi' | 'stream'>>;
  /**
   * 'reference' (the default, DEFAULT_BO_STREAM): retrace the reference implementation (bayes_opt 1.2.0) for the run's
   * seed — BO parameters in sorted-name order as bayes_opt's TargetSpace keeps them, all draws
   * from numpy's MT19937 seeded with the seed (ctx.seed; without it, ctx.rng) in bayes_opt's
   * order. 'fast': BO in metric order on ctx.rng with the cheaper sweep.
   */
  readonly stream?: BayesOptStream;
}

export function createRobot(options: RobotOptions): SearchMethod {
  const metrics = [...options.metrics];
  if (metrics.length === 0) throw new InputError('RoBoT needs at least one metric');
  if (new Set(metrics).size !== metrics.length) throw new InputError(`RoBoT metrics must be distinct: ${metrics.join(', ')}`);
  const kind = options.normalise ?? 'minmax';
  const acquisition = options.acquisition ?? 'ucb';
  const stream = options.stream ?? DEFAULT_BO_STREAM;
  // BO coordinate k is metric order[k]: sorted names in reference mode (bayes_opt sorts pbounds).
  const order = metrics.map((_, m) => m);
  if (stream === 'reference') order.sort((a, b) => (metrics[a] < metrics[b] ? -1 : metrics[a] > metrics[b] ? 1 : 0));

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

      // bayes_opt seeds two RandomStates with the seed: its TargetSpace's (first point) and its own.
      const seed = ctx.seed;
      const numpySeed = stream === 'reference' && seed !== undefined && Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff;
      const rng = numpySeed ? new Rng(seed, 'numpy') : ctx.rng;
      const spaceRng = numpySeed ? new Rng(seed, 'numpy') : ctx.rng;
      const bo = new BayesOpt({ ...options.bo, dim: M, acquisition, kappa: options.kappa, xi: options.xi, stream }, rng, spaceRng);

      const toWeights = (x: Float64Array): Float64Array => {
        const w = new Float64Array(M);
        for (let k = 0; k < M; k++) w[order[k]] = x[k];
        return w;
      };
      const topOf = (w: Float64Array): number => {
        computeScores(w);
        return stream === 'reference' ? topAsNumpy(scores) : argmaxLast(scores);
      };
      let bestW: Float64Array | undefined;
      let bestY = -Infinity;
      const observe = (x: Float64Array, w: Float64Array, y: number): void => {
        // Later weights win ties, as the reference's `>=`.
        if (y >= bestY) {
          bestY = y;
          bestW = w;
        }
        bo.observe(x, y);
      };

      // Phase 1: T evaluations of w, `parallel` at a time. A proposal whose top architecture is already known is
      // answered at once; one whose top is already running waits for that query instead of starting a new one.
      // Proposals not yet answered are pending in the GP (kriging believer), so a batch spreads over w.
      let t = 0;
      /** The top architecture of every evaluated w, in the order proposed (reported for traces). */
      const tops: number[] = [];
      const waiting = new Map<number, { x: Float64Array; w: Float64Array }[]>();
      const pendingXs = (): Float64Array[] => [...waiting.values()].flatMap((list) => list.map((p) => p.x));
      const repeatsPending = (x: Float64Array): boolean => pendingXs().some((p) => p.every((v, k) => v === x[k]));
      await keepBusy(
        ctx,
        start + budget,
        () => {
          while (t < budget) {
            const x = bo.suggest(pendingXs());
            t++;
            // A repeated point is answered from BO's cache without calling the objective (bayes_opt's probe).
            if (bo.lookup(x) !== undefined || repeatsPending(x)) continue;
            const w = toWeights(x);
            const top = topOf(w);
            tops.push(top);
            if (ledger.has(top)) {
              observe(x, w, ledger.peek(top)!);
              continue;
            }
            const list = waiting.get(top) ?? [];
            list.push({ x, w });
            waiting.set(top, list);
            if (list.length === 1) return top;
          }
          return -1;
        },
        (index, y) => {
          for (const p of waiting.get(index) ?? []) observe(p.x, p.w, y);
          waiting.delete(index);
        },
      );
      const t0 = ledger.count - start;

      // Phase 2: greedy by score(best w), highest first, skipping what is already queried, `parallel` at a time.
      computeScores(bestW!);
      // The reference walks np.flip(np.argsort(score)), so ties come in numpy's order; 'fast' takes the highest
      // score, the last index among ties.
      const ranked: ArrayLike<number> =
        stream === 'reference'
          ? numpyArgsort(scores).reverse()
          : Int32Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || b - a);
      let next = 0;
      await keepBusy(ctx, Math.min(start + budget, n), (round) => {
        while (next < ranked.length && (ledger.isTaken(ranked[next]) || round.has(ranked[next]))) next++;
        return next < ranked.length ? ranked[next++] : -1;
      });

      const weights: Record<string, number> = {};
      metrics.forEach((name, m) => (weights[name] = bestW![m]));
      return { best: ledger.best(), t0, weights, extras: { acquisition, normalise: kind, stream, tops } };
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
 * Index of the largest score, the LAST one among ties (what np.flip(np.argsort(scores))[0]
 * would give were the sort stable; 'fast' mode's rule).
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
