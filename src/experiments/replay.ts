/**
 * Replays of real-data searches on a benchmark table: a pool whose every architecture was trained once (the
 * ground truth, exported as a table `bench --table` reads) answers each query by lookup, so many search seeds cost
 * seconds. Every method the search registry offers runs through `runExperiment` — the code `bench` runs — which
 * gives the answer `robot-nas search` gives with the same metrics, `--search-seed` and `--parallel` (synchronous
 * rounds), provided the table lists the search's candidates in its pool order (test/experiments/replay.test.ts
 * holds that contract). `metric:<name>` (one metric's top-T) runs the search's own greedy method on the same pool.
 * Pure: no I/O.
 */
import type { Benchmark } from '../benchmarks/types.js';
import { searchMethod, METHOD_IDS, type MethodId } from '../search/registry.js';
import { makePool, type Schedule } from '../search/types.js';
import { InputError } from '../util/errors.js';
import { mean, std, stderr } from '../util/stats.js';
import { buildPool, type BenchmarkPool } from './pool.js';
import { runExperiment, runOnce } from './run.js';

export interface ReplaySettings {
  /** T: distinct architectures each search trains. */
  readonly budget: number;
  /** Queries per synchronous round (`search --parallel`). */
  readonly parallel: number;
  /** Search seeds (`search --search-seed`). */
  readonly seeds: readonly number[];
  /** The search's metrics: they decide the candidate pool (architectures with every one finite) and what methods combine. */
  readonly metrics: readonly string[];
  readonly schedule?: Schedule;
}

export interface ReplayRun {
  readonly seed: number;
  readonly arch: string;
  /** The answer's objective (validation accuracy) and its rank among the candidates (1 = best; ties share). */
  readonly value: number;
  readonly rank: number;
  readonly t0: number | null;
  readonly weights: Readonly<Record<string, number>> | null;
  /** Best objective so far after each query. */
  readonly curve: readonly number[];
}

export interface ReplayResult {
  readonly method: string;
  readonly budget: number;
  readonly parallel: number;
  /** One run per seed, or a single run for a method without randomness (`metric:<name>`). */
  readonly runs: readonly ReplayRun[];
  readonly deterministic: boolean;
  readonly poolSize: number;
}

/** The registry's methods that a real-data search runs (the tabular-only aggregates tf-avg/tf-best excluded), in registry order. */
export function searchMethodIds(metrics: readonly string[]): string[] {
  return METHOD_IDS.filter((id) => {
    try {
      searchMethod(id, metrics);
      return true;
    } catch {
      return false;
    }
  });
}

/** The search's candidates in a table: architectures with an objective and every one of `metrics` finite, in table order. */
export function candidatePool(b: Benchmark, metrics: readonly string[]): BenchmarkPool {
  return buildPool(b, metrics, 'complete');
}

/** `metric:<name>` → name, else undefined. */
export function singleMetricOf(method: string): string | undefined {
  return method.startsWith('metric:') ? method.slice('metric:'.length) : undefined;
}

/** Replays one method (a registry id or `metric:<name>`) over the seeds. */
export async function replay(b: Benchmark, method: string, s: ReplaySettings): Promise<ReplayResult> {
  const single = singleMetricOf(method);
  if (single !== undefined) return replaySingleMetric(b, single, s);
  if (!searchMethodIds(s.metrics).includes(method)) {
    throw new InputError(`replay: '${method}' is not a search method; expected one of ${searchMethodIds(s.metrics).join(', ')} or metric:<name>`);
  }
  const r = await runExperiment(b, {
    method: method as MethodId,
    budget: s.budget,
    seeds: s.seeds,
    metrics: s.metrics,
    parallel: s.parallel,
    ...(s.schedule !== undefined ? { schedule: s.schedule } : {}),
  });
  return {
    method,
    budget: s.budget,
    parallel: s.parallel,
    deterministic: false,
    poolSize: r.poolSize,
    runs: r.runs.map((x) => ({ seed: x.seed, arch: x.arch, value: x.objective, rank: x.rank, t0: x.t0, weights: x.weights ?? null, curve: x.curve })),
  };
}

/**
 * One metric's top-T on the search's candidates (the metric need not be one the search combines). It draws no
 * random numbers and its rounds query the same top-T in the same order at any parallelism, so one run stands for
 * every seed.
 */
async function replaySingleMetric(b: Benchmark, metric: string, s: ReplaySettings): Promise<ReplayResult> {
  const bp = candidatePool(b, s.metrics);
  const col = b.metrics.get(metric);
  if (col === undefined) throw new InputError(`replay: no metric '${metric}' in ${b.sources.join(', ') || b.task} (has ${[...b.metrics.keys()].join(', ')})`);
  const cols = new Map(bp.pool.metrics);
  cols.set(metric, Float64Array.from(bp.rows, (r) => col[r]));
  const withMetric: BenchmarkPool = { ...bp, pool: makePool(bp.pool.space, bp.pool.archs, cols) };
  const seed = s.seeds[0] ?? 0;
  const run = await runOnce(withMetric, searchMethod(`metric:${metric}`, [...cols.keys()]), s.budget, seed, s.parallel, s.schedule ?? 'sync');
  return {
    method: `metric:${metric}`,
    budget: s.budget,
    parallel: s.parallel,
    deterministic: true,
    poolSize: bp.pool.archs.length,
    runs: [{ seed, arch: run.arch, value: run.objective, rank: run.rank, t0: null, weights: null, curve: run.curve }],
  };
}

export interface RankSummary {
  readonly runs: number;
  readonly meanRank: number;
  /** Standard error of the mean rank over search seeds (0 for a single deterministic run). */
  readonly se: number;
  readonly stdRank: number;
  readonly worst: number;
  /** Share of runs returning the candidates' best (rank 1). */
  readonly shareBest: number;
  /** Share of runs whose answer ranks within `tied` (the architectures within training noise of the best), when given. */
  readonly shareTied: number | null;
  readonly meanValue: number;
  readonly stdValue: number;
}

export function summarise(r: ReplayResult, tied?: number): RankSummary {
  const ranks = r.runs.map((x) => x.rank);
  const values = r.runs.map((x) => x.value);
  return {
    runs: ranks.length,
    meanRank: mean(ranks),
    se: stderr(ranks),
    stdRank: std(ranks),
    worst: Math.max(...ranks),
    shareBest: ranks.filter((k) => k === 1).length / ranks.length,
    shareTied: tied === undefined ? null : ranks.filter((k) => k <= tied).length / ranks.length,
    meanValue: mean(values),
    stdValue: std(values),
  };
}

/** a's mean rank minus b's, with the standard error of the difference (independent runs) and whether it is within 2 SE. */
export function rankDifference(a: RankSummary, b: RankSummary): { diff: number; se: number; withinNoise: boolean } {
  const diff = a.meanRank - b.meanRank;
  const se = Math.sqrt(a.se * a.se + b.se * b.se);
  return { diff, se, withinNoise: Math.abs(diff) <= 2 * se };
}
