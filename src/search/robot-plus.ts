/**
 * RoBoT+ — RoBoT that learns from every query. The paper's idea stays: Bayesian optimisation over the weights
 * w ∈ [-1, 1]^M of a linear combination of normalised training-free metrics, each evaluation querying the pool's
 * top architecture under w, then exploitation of the learned combination. Three changes, each from a traced
 * failure of the paper's algorithm (see the README, "How RoBoT is implemented"):
 *
 * 1. **Initial design.** BO starts from the equal-weight combination and from each metric alone (M + 1 weight
 *    vectors, de-duplicated by their top architecture) instead of one random w, so the best single metric's
 *    choice is always among the candidates and BO never starts in a corner of the box.
 * 2. **Exploitation refits w.** Before each exploitation query, w is fitted to every queried architecture (a
 *    top-weighted pairwise ranking loss, src/search/rank-fit.ts), not kept at the w whose top-1 happened to be
 *    best; a poor result moves w away instead of being followed for the rest of the budget.
 * 3. **Metrics spanning many decades in log** ('log-minmax', the default normalisation): min-max of raw synflow
 *    (10⁷–10⁵⁰) keeps only its largest few values apart.
 *
 * With budget T: design + BO make T evaluations of w in all (as the paper's T BO steps; an evaluation whose top is
 * already queried is answered at once), then exploitation fills up to T distinct queries. Batches of `parallel`
 * proposals work as RoBoT's: pending weight vectors believed at the GP mean, de-duplication by architecture.
 */
import type { AcquisitionKind } from '../gp/acquisition.js';
import { BayesOpt } from '../gp/bayesopt.js';
import { InputError } from '../util/errors.js';
import type { NormaliseKind } from './normalise.js';
import { keepBusy } from './random.js';
import { fitRankWeights } from './rank-fit.js';
import { normalisedColumns, scoreInto } from './robot.js';
import type { SearchMethod } from './types.js';

export interface RobotPlusOptions {
  /** Metric columns of the pool to combine (the order of w). */
  readonly metrics: readonly string[];
  /** Normalisation of each metric over the pool (default 'log-minmax'). */
  readonly normalise?: NormaliseKind;
  /** Acquisition of the BO phase (default 'ucb', κ = 2.576). */
  readonly acquisition?: AcquisitionKind;
  readonly kappa?: number;
  readonly xi?: number;
  /** Start BO from the equal-weight combination and each metric alone (default true). */
  readonly design?: boolean;
  /** Exploitation's w: 'refit' to every queried architecture before each query (default) or 'best', the paper's. */
  readonly exploit?: 'refit' | 'best';
  /** Stop BO after this many evaluations in a row whose top architecture was already known (default: never). */
  readonly stall?: number;
  readonly lambda?: number;
  readonly refitRank?: boolean;
  readonly patience?: number;
  readonly sample?: number;
}

export function createRobotPlus(options: RobotPlusOptions): SearchMethod {
  const metrics = [...options.metrics];
  if (metrics.length === 0) throw new InputError('RoBoT+ needs at least one metric');
  if (new Set(metrics).size !== metrics.length) throw new InputError(`RoBoT+ metrics must be distinct: ${metrics.join(', ')}`);
  const kind = options.normalise ?? 'log-minmax';
  const acquisition = options.acquisition ?? 'ucb';
  const exploit = options.exploit ?? 'refit';
  const stall = options.stall ?? Infinity;
  const M = metrics.length;

  return {
    name: 'RoBoT+',
    async run(ctx) {
      const { pool, ledger, budget } = ctx;
      if (!(Number.isInteger(budget) && budget >= 1)) throw new InputError(`budget must be a positive integer, got ${budget}`);
      const n = pool.archs.length;
      if (n === 0) throw new InputError('RoBoT+: the pool is empty');
      const start = ledger.count;
      const cols = normalisedColumns(pool, metrics, kind);
      const scores = new Float64Array(n);
      /** The highest score under w, the last index among ties (RoBoT's 'fast' rule), skipping `skip`. */
      const topOf = (w: ArrayLike<number>, skip?: (i: number) => boolean): number => {
        scoreInto(cols, w, scores);
        let bi = -1;
        for (let i = 0; i < n; i++) if (!skip?.(i) && (bi < 0 || scores[i] >= scores[bi])) bi = i;
        return bi;
      };

      const bo = new BayesOpt({ dim: M, acquisition, kappa: options.kappa, xi: options.xi, stream: 'fast' }, ctx.rng);
      let bestW: Float64Array | undefined;
      let bestY = -Infinity;
      const observe = (w: Float64Array, y: number): void => {
        // Later weights win ties, as RoBoT's `>=`.
        if (y >= bestY) {
          bestY = y;
          bestW = w;
        }
        bo.observe(w, y);
      };
      const design: Float64Array[] = [];
      if (options.design ?? true) {
        design.push(new Float64Array(M).fill(1));
        if (M > 1) for (let m = 0; m < M; m++) design.push(Float64Array.from({ length: M }, (_, k) => (k === m ? 1 : 0)));
      }

      // Phase 1: design, then BO — T evaluations of w in all, `parallel` at a time, as RoBoT's phase 1.
      let t = 0;
      let known = 0;
      const waiting = new Map<number, Float64Array[]>();
      const pendingWs = (): Float64Array[] => [...waiting.values()].flat();
      const isPending = (w: Float64Array): boolean => pendingWs().some((p) => p.every((v, k) => v === w[k]));
      await keepBusy(
        ctx,
        start + budget,
        () => {
          while (t < budget && known < stall) {
            const w = t < design.length ? design[t] : bo.suggest(pendingWs());
            t++;
            if (bo.lookup(w) !== undefined || isPending(w)) {
              known++;
              continue;
            }
            const top = topOf(w);
            if (ledger.has(top)) {
              known++;
              observe(w, ledger.peek(top)!);
              continue;
            }
            known = 0;
            const list = waiting.get(top) ?? [];
            list.push(w);
            waiting.set(top, list);
            if (list.length === 1) return top;
          }
          return -1;
        },
        (index, y) => {
          for (const w of waiting.get(index) ?? []) observe(w, y);
          waiting.delete(index);
        },
      );
      const t0 = ledger.count - start;
      if (bestW === undefined) throw new InputError('RoBoT+: no weight vector was evaluated');
      const boBest = bestW;

      // Phase 2: exploitation — the top unqueried architecture under w, w refitted to all queries before each.
      const fitCols = options.refitRank ? [...cols, ...normalisedColumns(pool, metrics, 'rank')] : cols;
      const FM = fitCols.length;
      const widen = (v: Float64Array): Float64Array => { const o = new Float64Array(FM); o.set(v); return o; };
      let w = widen(boBest);
      const boStart = widen(boBest);
      const sampleIdx: number[] = [];
      {
        const k = Math.min(n, options.sample ?? n);
        const step = n / k;
        for (let j = 0; j < k; j++) sampleIdx.push(Math.floor(j * step));
      }
      const others = (l: typeof ledger, round: ReadonlySet<number>): Float64Array => {
        const rows = sampleIdx.filter((i) => !l.isTaken(i) && !round.has(i));
        const out = new Float64Array(rows.length * FM);
        rows.forEach((i, a) => { for (let m = 0; m < FM; m++) out[a * FM + m] = fitCols[m][i]; });
        return out;
      };
      let fittedOn = -1;
      const patience = options.patience ?? Infinity;
      let lastBest = ledger.count > 0 ? ledger.peek(ledger.best())! : -Infinity;
      let since = 0;
      let restarts = 0;
      await keepBusy(
        ctx,
        Math.min(start + budget, n),
        (round) => {
          if (since >= patience) {
            since = 0;
            for (let k = 0; k < 4 * M + 10; k++) {
              const x = bo.suggest(pendingWs());
              if (bo.lookup(x) !== undefined || isPending(x)) continue;
              const top = topOf(x);
              if (ledger.has(top)) {
                observe(x, ledger.peek(top)!);
                continue;
              }
              if (ledger.isTaken(top) || round.has(top)) continue;
              waiting.set(top, [x]);
              restarts++;
              return top;
            }
          }
          if (exploit === 'refit' && ledger.count !== fittedOn) {
            w = refit(fitCols, ledger.history, [w, boStart], options.lambda ?? 0, others(ledger, round));
            fittedOn = ledger.count;
          }
          scoreInto(fitCols, w, scores);
          let bi = -1;
          for (let i = 0; i < n; i++) if (!(ledger.isTaken(i) || round.has(i)) && (bi < 0 || scores[i] >= scores[bi])) bi = i;
          return bi;
        },
        (index, y) => {
          for (const x of waiting.get(index) ?? []) observe(x, y);
          waiting.delete(index);
          if (y > lastBest) {
            lastBest = y;
            since = 0;
          } else since++;
        },
      );
      const weights: Record<string, number> = {};
      metrics.forEach((name, m) => (weights[name] = w[m]));
      const boWeights: Record<string, number> = {};
      metrics.forEach((name, m) => (boWeights[name] = boBest[m]));
      return { best: ledger.best(), t0, weights, extras: { restarts, normalise: kind, acquisition, exploit, design: design.length, boWeights } };
    },
  };
}

/** w fitted to every queried architecture (rows of the normalised columns), from the current and BO's best w. */
function refit(cols: readonly Float64Array[], history: readonly { index: number; value: number }[], starts: Float64Array[], lambda: number, others: Float64Array): Float64Array {
  const M = cols.length;
  const q = history.length;
  const features = new Float64Array(q * M);
  const y = new Float64Array(q);
  history.forEach((h, a) => {
    y[a] = h.value;
    for (let m = 0; m < M; m++) features[a * M + m] = cols[m][h.index];
  });
  return fitRankWeights(features, y, starts, lambda > 0 ? { others, othersWeight: lambda } : {});
}
