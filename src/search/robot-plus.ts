/**
 * RoBoT+ — RoBoT that learns from every query. The paper's idea stays: Bayesian optimisation over the weights
 * w ∈ [-1, 1]^M of a linear combination of normalised training-free metrics, each evaluation querying the pool's
 * top architecture under w, then exploitation of the learned combination. Four changes, each from a traced
 * failure of the paper's algorithm (README, "How RoBoT is implemented"):
 *
 * 1. **Initial design.** BO starts from the equal-weight combination and from each metric alone (M + 1 weight
 *    vectors, de-duplicated by their top architecture) instead of one random w, so the best single metric's
 *    choice is always among the candidates and BO never starts in a corner of the box.
 * 2. **Exploitation refits w.** Before each exploitation query, w is fitted to every queried architecture (a
 *    top-weighted pairwise ranking loss, src/search/rank-fit.ts), not kept at the w whose top-1 happened to be
 *    best; a poor result moves w away instead of being followed for the rest of the budget.
 * 3. **Restarts.** After PATIENCE exploitation queries in a row without a new best, one query goes back to BO:
 *    the w of highest UCB whose top architecture has not been queried yet (a paper BO step may land on a known
 *    top and teach nothing).
 * 4. **Metrics spanning many decades in log** ('log-minmax', the default normalisation): min-max of raw synflow
 *    (10⁷–10⁵⁰) keeps only its few largest values apart.
 *
 * With budget T: design + BO make T evaluations of w in all (as the paper's T BO steps; an evaluation whose top is
 * already queried is answered at once), then exploitation fills up to T distinct queries. Batches of `parallel`
 * proposals work as RoBoT's: pending weight vectors believed at the GP mean, de-duplication by architecture.
 */
import type { AcquisitionKind } from '../gp/acquisition.js';
import { BayesOpt } from '../gp/bayesopt.js';
import { GaussianProcess } from '../gp/gp.js';
import { InputError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import type { NormaliseKind } from './normalise.js';
import { fitRankWeights } from './rank-fit.js';
import { normalisedColumns, scoreInto } from './robot.js';
import { keepBusy } from './schedule.js';
import type { SearchMethod } from './types.js';

/** Bumped whenever RoBoT+'s numerics change: the robustness study's cached runs are keyed by it. */
export const ROBOT_PLUS_VERSION = 1;

/** Exploitation queries in a row without a new best before a restart. */
export const PATIENCE = 3;

/** Uniform weight vectors a restart ranks by UCB. */
const RESTART_SAMPLES = 2000;

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
  /** Go back to BO after PATIENCE exploitation queries without a new best (default true). */
  readonly restarts?: boolean;
}

export function createRobotPlus(options: RobotPlusOptions): SearchMethod {
  const metrics = [...options.metrics];
  if (metrics.length === 0) throw new InputError('RoBoT+ needs at least one metric');
  if (new Set(metrics).size !== metrics.length) throw new InputError(`RoBoT+ metrics must be distinct: ${metrics.join(', ')}`);
  const kind = options.normalise ?? 'log-minmax';
  const acquisition = options.acquisition ?? 'ucb';
  const exploit = options.exploit ?? 'refit';
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
      const observed: { w: Float64Array; y: number }[] = [];
      let bestW: Float64Array | undefined;
      let bestY = -Infinity;
      const observe = (w: Float64Array, y: number): void => {
        // Later weights win ties, as RoBoT's `>=`.
        if (y >= bestY) {
          bestY = y;
          bestW = w;
        }
        if (bo.observe(w, y)) observed.push({ w, y });
      };
      const design: Float64Array[] = [];
      if (options.design ?? true) {
        design.push(new Float64Array(M).fill(1));
        if (M > 1) for (let m = 0; m < M; m++) design.push(Float64Array.from({ length: M }, (_, k) => (k === m ? 1 : 0)));
      }

      // Phase 1: design, then BO — T evaluations of w in all, `parallel` at a time, as RoBoT's phase 1.
      let t = 0;
      const waiting = new Map<number, Float64Array[]>();
      const pendingWs = (): Float64Array[] => [...waiting.values()].flat();
      const isPending = (w: Float64Array): boolean => pendingWs().some((p) => p.every((v, k) => v === w[k]));
      await keepBusy(
        ctx,
        start + budget,
        () => {
          while (t < budget) {
            const w = t < design.length ? design[t] : bo.suggest(pendingWs());
            t++;
            if (bo.lookup(w) !== undefined || isPending(w)) continue;
            const top = topOf(w);
            if (ledger.has(top)) {
              observe(w, ledger.peek(top)!);
              continue;
            }
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
      let w = boBest;
      let fittedOn = -1;
      const patience = options.restarts ?? true ? PATIENCE : Infinity;
      let lastBest = ledger.count > 0 ? ledger.peek(ledger.best())! : -Infinity;
      let since = 0;
      let restarts = 0;
      await keepBusy(
        ctx,
        Math.min(start + budget, n),
        (round) => {
          if (since >= patience) {
            since = 0;
            const x = restartPoint(observed, options.kappa ?? 2.576, ctx.rng, (v) => {
              const top = topOf(v);
              return !ledger.isTaken(top) && !round.has(top);
            });
            if (x !== undefined) {
              const top = topOf(x);
              waiting.set(top, [x]);
              restarts++;
              return top;
            }
          }
          if (exploit === 'refit' && ledger.count !== fittedOn) {
            w = refit(cols, ledger.history, [w, boBest]);
            fittedOn = ledger.count;
          }
          return topOf(w, (i) => ledger.isTaken(i) || round.has(i));
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
      // The learned combination reported is the one fitted to every query, the last included.
      if (exploit === 'refit' && ledger.count > t0 + start && ledger.count !== fittedOn) w = refit(cols, ledger.history, [w, boBest]);
      const weights: Record<string, number> = {};
      metrics.forEach((name, m) => (weights[name] = w[m]));
      const boWeights: Record<string, number> = {};
      metrics.forEach((name, m) => (boWeights[name] = boBest[m]));
      return { best: ledger.best(), t0, weights, extras: { restarts, normalise: kind, acquisition, exploit, design: design.length, boWeights } };
    },
  };
}

/** w fitted to every queried architecture (rows of the normalised columns), from the current and BO's best w. */
function refit(cols: readonly Float64Array[], history: readonly { index: number; value: number }[], starts: Float64Array[]): Float64Array {
  const M = cols.length;
  const q = history.length;
  const features = new Float64Array(q * M);
  const y = new Float64Array(q);
  history.forEach((h, a) => {
    y[a] = h.value;
    for (let m = 0; m < M; m++) features[a * M + m] = cols[m][h.index];
  });
  return fitRankWeights(features, y, starts);
}

/**
 * The w of highest UCB, among RESTART_SAMPLES uniform points of the box, whose top architecture is new (`isNew`),
 * under a GP fitted to every observation of w so far; undefined when no sampled w has a new top. A BO step that
 * cannot land on an architecture already queried.
 */
function restartPoint(observed: readonly { w: Float64Array; y: number }[], kappa: number, rng: Rng, isNew: (w: Float64Array) => boolean): Float64Array | undefined {
  if (observed.length === 0) return undefined;
  const M = observed[0].w.length;
  const gp = new GaussianProcess(M, { noise: 1e-6, restarts: 2, normalizeY: true });
  const xs = new Float64Array(observed.length * M);
  observed.forEach((o, i) => xs.set(o.w, i * M));
  gp.fit(xs, observed.map((o) => o.y), rng);
  const S = RESTART_SAMPLES;
  const pts = new Float64Array(S * M);
  for (let k = 0; k < pts.length; k++) pts[k] = rng.uniform(-1, 1);
  const mean = new Float64Array(S);
  const std = new Float64Array(S);
  gp.predictBatch(pts, S, mean, std);
  const ucb = Float64Array.from(mean, (m, k) => m + kappa * std[k]);
  const order = Array.from({ length: S }, (_, k) => k).sort((a, b) => ucb[b] - ucb[a] || a - b);
  for (const k of order) {
    const w = pts.slice(k * M, (k + 1) * M);
    if (isNew(w)) return w;
  }
  return undefined;
}
