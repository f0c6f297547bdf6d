import type { Benchmark } from '../benchmarks/types.js';
import type { BayesOptStream } from '../gp/bayesopt.js';
import { QueryLedger } from '../objective/ledger.js';
import { TabularObjective } from '../objective/tabular.js';
import type { NormaliseKind } from '../search/normalise.js';
import { topByMetric } from '../search/training-free.js';
import { checkBudget, type Schedule, type SearchMethod } from '../search/types.js';
import { InputError, SettingError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { mean, std } from '../util/stats.js';
import { createMethod, defaultNormalise, isMethodId, METHOD_IDS, type MethodId, type RobotPlusVariant } from '../search/registry.js';
import { buildPool, defaultMetrics, finalRank, type BenchmarkPool, type PoolRule } from './pool.js';

export interface ExperimentOptions {
  readonly method: MethodId;
  /** T: distinct architectures each run may query. */
  readonly budget: number;
  readonly seeds: readonly number[];
  /** Metric columns (default: the paper's set for the benchmark, see defaultMetrics). */
  readonly metrics?: readonly string[];
  /** Metric normalisation (default: the method's, see defaultNormalise). */
  readonly normalise?: NormaliseKind;
  readonly acquisition?: 'ucb' | 'ei';
  /** RoBoT's BO random stream (default DEFAULT_BO_STREAM, 'reference'). */
  readonly stream?: BayesOptStream;
  readonly poolRule?: PoolRule;
  /** RoBoT+ variant (ablations of the robustness study). */
  readonly plus?: RobotPlusVariant;
  /** Simulated workers: queries run `parallel` at a time, each lasting its recorded cost (default 1). */
  readonly parallel?: number;
  /** Synchronous rounds (default) or asynchronous proposals (see SearchContext.schedule). */
  readonly schedule?: Schedule;
  /** Called after every finished run (seed), e.g. to drive a progress bar. */
  readonly onRun?: (run: RunResult, done: number, total: number) => void;
}

/** One seed's outcome. */
export interface RunResult {
  readonly seed: number;
  /** The returned architecture (canonical string) and its final metric, rank and objective. */
  readonly arch: string;
  readonly final: number;
  readonly rank: number;
  readonly objective: number;
  /** Total seconds of the distinct queries. */
  readonly cost: number;
  /** Simulated wall seconds until the answer with `parallel` workers (the schedule's makespan). */
  readonly time: number;
  readonly queries: number;
  readonly t0: number | null;
  readonly weights?: Readonly<Record<string, number>>;
  /** Best-so-far final metric after query 1..T (the final metric of the best-objective arch so far). */
  readonly curve: number[];
  /** The same curve as ranks within the pool (1 = best). */
  readonly rankCurve: number[];
}

export interface Summary {
  readonly mean: number;
  readonly std: number;
}

/** The aggregate the CLI prints with --json (a stable contract). */
export interface ExperimentResult {
  readonly benchmark: string;
  readonly task: string;
  readonly method: MethodId;
  readonly budget: number;
  readonly seeds: number[];
  readonly metrics: string[];
  readonly normalise: NormaliseKind;
  readonly poolSize: number;
  /** Per-seed final metric values (for tf-avg/tf-best: per metric; the method has no randomness). */
  readonly final: Summary & { values: number[] };
  readonly rank: Summary;
  readonly cost: { mean: number };
  /** Simulated workers, and the mean simulated wall seconds until the answer. */
  readonly parallel: number;
  readonly schedule: Schedule;
  readonly time: { mean: number };
  readonly t0: { mean: number } | null;
  readonly curve: number[];
  /** Per-seed curves (for standard-error bands) and per-run details. */
  readonly runs: RunResult[];
  /** The best final metric in the pool (the "optimal" row). */
  readonly optimum: number;
}

/** Best-so-far final-metric curve of a ledger's query order, padded to `budget` entries. */
function curveOf(ledger: QueryLedger, final: Float64Array, budget: number): number[] {
  const curve: number[] = [];
  let bestObj = -Infinity;
  let bestFinal = NaN;
  for (const q of ledger.history) {
    if (q.value > bestObj) {
      bestObj = q.value;
      bestFinal = final[q.index];
    }
    curve.push(bestFinal);
  }
  while (curve.length < budget && curve.length > 0) curve.push(curve[curve.length - 1]);
  return curve.slice(0, budget);
}

function curves(curve: number[], final: Float64Array): { curve: number[]; rankCurve: number[] } {
  const sorted = Float64Array.from(final).sort();
  // rank of v = 1 + #(final > v), by binary search on the ascending copy
  const rankOf = (v: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    return sorted.length - lo + 1;
  };
  return { curve, rankCurve: curve.map(rankOf) };
}

/** Run one search method once on a prepared pool. Pure: no I/O. */
export async function runOnce(bp: BenchmarkPool, method: SearchMethod, budget: number, seed: number, parallel = 1, schedule: Schedule = 'sync'): Promise<RunResult> {
  const ledger = new QueryLedger(new TabularObjective(bp.objective, bp.cost), { parallel });
  const outcome = await method.run({ pool: bp.pool, ledger, budget, rng: new Rng(seed), seed, schedule });
  const best = outcome.best;
  return {
    seed,
    arch: bp.pool.archs[best],
    final: bp.final[best],
    rank: finalRank(bp.final, best),
    objective: bp.objective[best],
    cost: ledger.cost,
    time: ledger.time,
    queries: ledger.count,
    t0: outcome.t0 ?? null,
    weights: outcome.weights,
    ...curves(curveOf(ledger, bp.final, budget), bp.final),
  };
}

function meanCurve(runs: readonly RunResult[], budget: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < budget; t++) {
    const vs = runs.map((r) => r.curve[t]).filter((v) => v !== undefined && Number.isFinite(v));
    if (vs.length === 0) break;
    out.push(mean(vs));
  }
  return out;
}

/** The training-free rows: each metric's top-1 architecture, no query needed (cost 0). */
function trainingFree(bp: BenchmarkPool, metrics: readonly string[], budget: number): RunResult[] {
  return metrics.map((m) => {
    const i = topByMetric(bp.pool, m);
    return {
      seed: NaN,
      arch: bp.pool.archs[i],
      final: bp.final[i],
      rank: finalRank(bp.final, i),
      objective: bp.objective[i],
      cost: 0,
      time: 0,
      queries: 0,
      t0: null,
      weights: { [m]: 1 },
      ...curves(new Array<number>(budget).fill(bp.final[i]), bp.final),
    };
  });
}

/**
 * Run a method over seeds on a benchmark and aggregate like the paper's tables (mean ± population
 * std over seeds). Pure: the benchmark is already loaded.
 */
export async function runExperiment(b: Benchmark, opts: ExperimentOptions): Promise<ExperimentResult> {
  if (!isMethodId(opts.method)) throw new InputError(`unknown method '${opts.method}'; expected one of ${METHOD_IDS.join(', ')}`);
  if (!Number.isInteger(opts.budget) || opts.budget < 1) throw new InputError(`budget must be a positive integer, got ${opts.budget}`);
  if (opts.seeds.length === 0) throw new InputError('at least one seed is needed');
  const metrics = opts.metrics && opts.metrics.length > 0 ? [...opts.metrics] : defaultMetrics(b);
  if (metrics.length === 0 && (opts.method.startsWith('robot') || opts.method.startsWith('tf-'))) {
    throw new InputError(
      `${opts.method} needs training-free metrics, but ${b.benchmark}/${b.task} (${b.sources.join(', ')}) has none; add a metric table (see the data layout in the README) or use --table`,
    );
  }
  const normalise = opts.normalise ?? defaultNormalise(opts.method);
  const parallel = opts.parallel ?? 1;
  if (!(Number.isInteger(parallel) && parallel >= 1)) throw new SettingError('parallel', `expected a positive integer, got ${parallel}`);
  const schedule = opts.schedule ?? 'sync';
  const bp = buildPool(b, metrics, opts.poolRule ?? 'complete');
  if (!opts.method.startsWith('tf-')) checkBudget(bp.pool.archs.length, opts.budget, `the ${b.benchmark}/${b.task} pool`);
  let runs: RunResult[];
  let values: number[];
  if (opts.method === 'tf-avg' || opts.method === 'tf-best') {
    const perMetric = trainingFree(bp, metrics, opts.budget);
    if (opts.method === 'tf-best') {
      const best = perMetric.reduce((a, r) => (r.final > a.final ? r : a));
      runs = opts.seeds.map((seed) => ({ ...best, seed }));
      values = runs.map((r) => r.final);
    } else {
      runs = perMetric;
      values = perMetric.map((r) => r.final);
    }
    runs.forEach((r, k) => opts.onRun?.(r, k + 1, runs.length));
  } else {
    runs = [];
    for (const seed of opts.seeds) {
      const method = createMethod(opts.method, { metrics, normalise, acquisition: opts.acquisition ?? 'ucb', stream: opts.stream, ...(opts.plus ? { plus: opts.plus } : {}) });
      const r = await runOnce(bp, method, opts.budget, seed, parallel, schedule);
      runs.push(r);
      opts.onRun?.(r, runs.length, opts.seeds.length);
    }
    values = runs.map((r) => r.final);
  }
  const t0s = runs.map((r) => r.t0).filter((t): t is number => t !== null);
  let optimum = -Infinity;
  for (const v of bp.final) if (v > optimum) optimum = v;
  return {
    benchmark: b.benchmark,
    task: b.task,
    method: opts.method,
    budget: opts.budget,
    seeds: [...opts.seeds],
    metrics,
    normalise,
    poolSize: bp.pool.archs.length,
    final: { mean: mean(values), std: std(values), values },
    rank: { mean: mean(runs.map((r) => r.rank)), std: std(runs.map((r) => r.rank)) },
    cost: { mean: mean(runs.map((r) => r.cost)) },
    parallel,
    schedule,
    time: { mean: mean(runs.map((r) => r.time)) },
    t0: t0s.length > 0 ? { mean: mean(t0s) } : null,
    curve: meanCurve(runs, opts.budget),
    runs,
    optimum,
  };
}
