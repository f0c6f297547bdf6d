import type { Network } from '../networks/layers.js';
import type { ParamValues } from '../networks/params.js';
import { PROXIES, synflowLog } from './metrics.js';
import type { SynflowPassResult } from './synflow.js';
import { isMetricName, type Batch, type MetricName, type ProxyContext } from './types.js';

export * from './types.js';
export { PROXIES, synflowLog } from './metrics.js';
export { loadFixture, type Fixture, type FixtureManifest } from './fixture.js';
export { countMacs, countParams } from './cost.js';

export interface ProxyResult {
  values: Partial<Record<MetricName, number>>;
  /** ln(synflow), when synflow was computed: finite even where synflow itself overflows. */
  synflowLog?: number;
  /** Milliseconds per shared pass (batch, synflow) and per metric (excluding the passes). */
  timings: { passes: Record<string, number>; metrics: Partial<Record<MetricName, number>> };
}

/**
 * Computes the requested metrics of one network with the given weights on one batch, running each shared pass
 * once (see metrics.ts) on the engine (src/engine, created on first use).
 */
export interface ComputeOptions {
  /** ProxyContext.seed; default 0. */
  seed?: number;
  /** ProxyContext.extraBatches (zico needs one); default none. */
  extraBatches?: readonly Batch[];
}

export function computeProxies(
  network: Network,
  params: ParamValues,
  batch: Batch,
  metricNames: readonly string[],
  options: ComputeOptions = {},
): ProxyResult {
  const names: MetricName[] = [];
  for (const m of metricNames) {
    if (!isMetricName(m)) throw new RangeError(`unknown metric "${m}"`);
    if (!names.includes(m)) names.push(m);
  }
  const cache = new Map<string, unknown>();
  const passTimes: Record<string, number> = {};
  const ctx: ProxyContext = {
    network,
    params,
    batch,
    requested: new Set(names),
    seed: options.seed ?? 0,
    extraBatches: options.extraBatches ?? [],
    shared<T>(key: string, compute: () => T): T {
      if (!cache.has(key)) {
        const t0 = performance.now();
        cache.set(key, compute());
        passTimes[key] = performance.now() - t0;
      }
      return cache.get(key) as T;
    },
  };
  const values: Partial<Record<MetricName, number>> = {};
  const metricTimes: Partial<Record<MetricName, number>> = {};
  for (const name of names) {
    const before = sum(passTimes);
    const t0 = performance.now();
    values[name] = PROXIES[name].compute(ctx);
    metricTimes[name] = performance.now() - t0 - (sum(passTimes) - before);
  }
  const result: ProxyResult = { values, timings: { passes: passTimes, metrics: metricTimes } };
  if (cache.has('synflow')) result.synflowLog = synflowLog(cache.get('synflow') as SynflowPassResult);
  return result;
}

function sum(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}
