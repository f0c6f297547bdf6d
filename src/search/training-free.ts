/**
 * Training-free baseline: return the pool's top architecture by one raw metric. Its single
 * query goes through the ledger so that the cost of reporting the objective is accounted.
 */
import { InputError } from '../util/errors.js';
import { keepBusy } from './schedule.js';
import type { Pool, SearchMethod } from './types.js';

/** Column of `metric` in the pool, or an InputError listing the available ones. */
export function metricColumn(pool: Pool, metric: string): Float64Array {
  const col = pool.metrics.get(metric);
  if (!col) {
    const known = [...pool.metrics.keys()].join(', ') || '(none)';
    throw new InputError(`metric '${metric}' is not in the pool (available: ${known})`);
  }
  return col;
}

/** Pool index with the largest raw value of `metric` (NaN excluded; first index on ties). */
export function topByMetric(pool: Pool, metric: string): number {
  const col = metricColumn(pool, metric);
  let bi = -1;
  let bv = -Infinity;
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (Number.isNaN(v)) continue;
    if (bi < 0 || v > bv) {
      bi = i;
      bv = v;
    }
  }
  if (bi < 0) throw new InputError(`metric '${metric}' has no values in the pool`);
  return bi;
}

/** The single-metric method; its name is the metric's. */
export function createSingleMetric(metric: string): SearchMethod {
  return {
    name: metric,
    async run(ctx) {
      const best = topByMetric(ctx.pool, metric);
      await ctx.ledger.query(best);
      ctx.onProgress?.(ctx.ledger.count, ctx.budget);
      return { best, extras: { metric } };
    },
  };
}

/**
 * One metric with the query budget: query the top-T architectures of the metric's ranking (ties by index) and
 * return the best of them — RoBoT's greedy phase with a fixed one-metric weight vector, i.e. the single-metric
 * baseline at the same budget as RoBoT.
 */
export function createGreedyMetric(metric: string): SearchMethod {
  return {
    name: `${metric} (top-T)`,
    async run(ctx) {
      const col = metricColumn(ctx.pool, metric);
      const order = Array.from(col.keys())
        .filter((i) => !Number.isNaN(col[i]))
        .sort((a, b) => col[b] - col[a] || a - b);
      let next = 0;
      await keepBusy(ctx, Math.min(ctx.budget, order.length), (round) => {
        while (next < order.length && (ctx.ledger.isTaken(order[next]) || round.has(order[next]))) next++;
        return next < order.length ? order[next++] : -1;
      });
      const best = ctx.ledger.best();
      if (best < 0) throw new InputError(`metric '${metric}' has no values in the pool`);
      return { best, extras: { metric } };
    },
  };
}
