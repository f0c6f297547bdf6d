import type { Benchmark } from '../benchmarks/types.js';
import { makePool, type Pool } from '../search/types.js';
import { InputError } from '../util/errors.js';

/**
 * Which architectures enter the candidate pool:
 * - 'complete' (default): only those with every chosen metric — no architecture is ranked on
 *   a partial score;
 * - 'zero': the RoBoT reference's rule — every architecture, a missing metric contributes 0.
 */
export type PoolRule = 'complete' | 'zero';

/** A pool built from a benchmark, remembering which benchmark row each candidate is. */
export interface BenchmarkPool {
  readonly pool: Pool;
  /** pool index → benchmark row */
  readonly rows: Int32Array;
  readonly objective: Float64Array;
  readonly cost: Float64Array;
  readonly final: Float64Array;
}

/**
 * Candidate pool for a benchmark and metric set: architectures with a known objective and final
 * metric (and, under rule 'complete', every chosen metric). All methods of one comparison use the
 * same pool so that their ranks and results are comparable.
 */
export function buildPool(b: Benchmark, metrics: readonly string[], rule: PoolRule = 'complete'): BenchmarkPool {
  for (const m of metrics) {
    if (!b.metrics.has(m)) {
      throw new InputError(
        `metric '${m}' is not in ${b.benchmark}/${b.task} (${b.sources.join(', ')}); available: ${[...b.metrics.keys()].join(', ') || 'none'}`,
      );
    }
  }
  const cols = metrics.map((m) => b.metrics.get(m)!);
  const rows: number[] = [];
  for (let i = 0; i < b.archs.length; i++) {
    if (!Number.isFinite(b.objective[i]) || !Number.isFinite(b.final[i])) continue;
    if (rule === 'complete' && cols.some((c) => !Number.isFinite(c[i]))) continue;
    rows.push(i);
  }
  if (rows.length === 0) {
    throw new InputError(
      `no architecture of ${b.benchmark}/${b.task} has an objective, a final metric${rule === 'complete' && metrics.length ? ` and all of ${metrics.join(', ')}` : ''}`,
    );
  }
  const pick = (col: Float64Array) => Float64Array.from(rows, (r) => col[r]);
  const poolMetrics = new Map<string, Float64Array>();
  metrics.forEach((m, k) => poolMetrics.set(m, pick(cols[k])));
  return {
    pool: makePool(b.space, rows.map((r) => b.archs[r]), poolMetrics),
    rows: Int32Array.from(rows),
    objective: pick(b.objective),
    cost: pick(b.cost),
    final: pick(b.final),
  };
}

/** Rank (1 = best) of pool index i by the final metric within the pool; ties share the best rank. */
export function finalRank(final: Float64Array, i: number): number {
  const v = final[i];
  let better = 0;
  for (let k = 0; k < final.length; k++) if (final[k] > v) better++;
  return better + 1;
}

/**
 * The paper's metric sets, in order of preference; the first whose metrics are all present is the
 * default. NAS-Bench-201 CIFAR-100 has no Suite-Zero values, hence the `zc.*` fallback.
 */
const DEFAULT_METRIC_SETS: readonly (readonly string[])[] = [
  ['sz.grad_norm', 'sz.snip', 'sz.grasp', 'sz.fisher', 'sz.synflow', 'sz.jacov'],
  ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov'],
  ['zc.synflow', 'zc.snip', 'zc.naswot'],
];
const SUITE_ZERO_SIX = ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacov'];

/** A metric column counts as present if at least one architecture has a value. */
function present(b: Benchmark, m: string): boolean {
  const c = b.metrics.get(m);
  return c !== undefined && c.some((v) => Number.isFinite(v));
}

/**
 * Default metrics for a benchmark: the paper's six where present, else what the data has of them
 * (TransNAS-Bench-101 samples lack synflow; the reference drops it for some tasks too), else
 * every metric column, else none.
 */
export function defaultMetrics(b: Benchmark): string[] {
  for (const set of DEFAULT_METRIC_SETS) {
    if (set.every((m) => present(b, m))) return [...set];
  }
  const partial = SUITE_ZERO_SIX.filter((m) => present(b, m));
  if (partial.length > 0) return partial;
  const sz = DEFAULT_METRIC_SETS[0].filter((m) => present(b, m));
  if (sz.length > 0) return sz;
  // May be empty: baselines need no metrics; RoBoT and the training-free rows check for it.
  return [...b.metrics.keys()].filter((m) => present(b, m));
}
