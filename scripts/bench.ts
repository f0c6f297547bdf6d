/**
 * `npm run bench`: wall-clock figures for RoBoT on the tabular benchmarks.
 * - loading NAS-Bench-201 CIFAR-10 from the shared CSV;
 * - one RoBoT run (T = 20, six sz.* metrics), median of many;
 * - ten seeds of one task (what the reference takes 8–24 s for);
 * - the whole `table nb201` (all methods × tasks × seeds 10–19), in-process.
 */
import { performance } from 'node:perf_hooks';
import { loadBenchmark } from '../src/benchmarks/index.js';
import { buildPool, defaultMetrics } from '../src/experiments/pool.js';
import { runExperiment, runOnce } from '../src/experiments/run.js';
import { createMethod } from '../src/search/registry.js';
import { runTable, TABLES } from '../src/experiments/tables.js';
import { parseSeeds } from '../src/cli/options.js';

const data = process.env.ROBOT_NAS_DATA;
const ms = (t0: number) => performance.now() - t0;

let t = performance.now();
const b = loadBenchmark({ benchmark: 'nb201', task: 'cifar10', data });
console.log(`load nb201 cifar10 CSV:            ${ms(t).toFixed(0)} ms (${b.archs.length} archs)`);

const metrics = defaultMetrics(b);
const bp = buildPool(b, metrics);
for (const stream of ['reference', 'fast'] as const) {
  const times: number[] = [];
  for (let seed = 0; seed < 30; seed++) {
    t = performance.now();
    await runOnce(bp, createMethod('robot', { metrics, normalise: 'minmax', acquisition: 'ucb', stream }), 20, seed);
    times.push(ms(t));
  }
  times.sort((x, y) => x - y);
  console.log(
    `one RoBoT run, ${stream} stream (T=20, ${metrics.length} metrics, pool ${bp.pool.archs.length}): median ${times[15].toFixed(1)} ms, min ${times[0].toFixed(1)} ms, max ${times[29].toFixed(1)} ms`,
  );
}

t = performance.now();
await runExperiment(b, { method: 'robot', budget: 20, seeds: parseSeeds('10-19') });
console.log(`RoBoT, 10 seeds, cifar10 (reference stream, incl. pool building): ${ms(t).toFixed(0)} ms (Python reference: 8–24 s)`);

t = performance.now();
await runTable(TABLES.nb201, (task) => loadBenchmark({ benchmark: 'nb201', task, data }), { seeds: parseSeeds('10-19') });
console.log(`whole table nb201 (incl. loading): ${(ms(t) / 1000).toFixed(2)} s`);
