/**
 * How well each training-free metric ranks a pool by its ground truth: Spearman ρ and Kendall τ-b of every metric
 * column with the objective (or the final metric). Pure; used by the real-pool evidence and by metric studies on
 * the tabular benchmarks.
 */
import type { Benchmark } from '../benchmarks/types.js';
import { spearman } from '../util/stats.js';

export interface MetricAgreement {
  readonly metric: string;
  /** Architectures with a finite value of both the metric and the ground truth. */
  readonly n: number;
  readonly spearman: number;
  readonly kendall: number;
}

/**
 * Kendall's τ-b of paired samples (pairs with a non-finite member dropped): (concordant − discordant) over
 * √((pairs − ties in a)(pairs − ties in b)), as scipy.stats.kendalltau's default. O(n²), which is plenty for pools
 * of thousands; NaN when either side is constant or fewer than two pairs remain.
 */
export function kendallTau(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`kendallTau: ${a.length} vs ${b.length} values`);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i])) {
      xs.push(a[i]);
      ys.push(b[i]);
    }
  }
  const n = xs.length;
  let s = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(xs[i] - xs[j]);
      const dy = Math.sign(ys[i] - ys[j]);
      if (dx === 0) tiesX++;
      if (dy === 0) tiesY++;
      s += dx * dy;
    }
  }
  const pairs = (n * (n - 1)) / 2;
  const denom = Math.sqrt((pairs - tiesX) * (pairs - tiesY));
  return denom > 0 ? s / denom : NaN;
}

/** ρ and τ of each metric column with `truth` (same order); the metrics in the order given. */
export function metricAgreement(truth: ArrayLike<number>, metrics: ReadonlyMap<string, ArrayLike<number>>): MetricAgreement[] {
  return [...metrics].map(([metric, col]) => {
    if (col.length !== truth.length) throw new RangeError(`metricAgreement: metric '${metric}' has ${col.length} values for ${truth.length} architectures`);
    let n = 0;
    for (let i = 0; i < truth.length; i++) if (Number.isFinite(truth[i]) && Number.isFinite(col[i])) n++;
    return { metric, n, spearman: n >= 2 ? spearman(col, truth) : NaN, kendall: kendallTau(col, truth) };
  });
}

/**
 * ρ and τ of a benchmark's metric columns (all of them, or those named) with its objective or its final metric —
 * e.g. a real pool's validation accuracy, or NAS-Bench-201's test accuracy.
 */
export function benchmarkAgreement(b: Benchmark, opts: { metrics?: readonly string[]; against?: 'objective' | 'final' } = {}): MetricAgreement[] {
  const names = opts.metrics ?? [...b.metrics.keys()];
  const cols = new Map<string, Float64Array>();
  for (const m of names) {
    const c = b.metrics.get(m);
    if (c === undefined) throw new RangeError(`benchmarkAgreement: no metric '${m}' in ${b.benchmark}/${b.task} (has ${[...b.metrics.keys()].join(', ')})`);
    cols.set(m, c);
  }
  return metricAgreement(opts.against === 'final' ? b.final : b.objective, cols);
}
