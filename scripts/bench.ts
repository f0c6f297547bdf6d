/**
 * `npm run bench`: wall-clock figures for RoBoT on the tabular benchmarks.
 * - loading NAS-Bench-201 CIFAR-10 from the shared CSV;
 * - one RoBoT run (T = 20, six sz.* metrics), median of many;
 * - one RoBoT run with T = 100 on the TransNAS-Bench-101 micro pool (class_scene), and one RoBoT+ run (its time per query);
 * - ten seeds of one task (what the reference takes 8–24 s for), in-process and as the CLI command (wall time with
 *   start-up and loading);
 * - the whole `table nb201` (all methods × tasks × seeds 10–19), in-process.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
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

// The TransNAS setting of the paper's Table 3: T = 100 on a pool of about 700, where the BO numerics dominate.
const tnb = loadBenchmark({ benchmark: 'tnb101-micro', task: 'class_scene', data });
const tnbMetrics = defaultMetrics(tnb);
const tbp = buildPool(tnb, tnbMetrics);
const tnbTimes: number[] = [];
for (let seed = 10; seed < 13; seed++) {
  t = performance.now();
  await runOnce(tbp, createMethod('robot', { metrics: tnbMetrics, normalise: 'minmax', acquisition: 'ucb', stream: 'reference' }), 100, seed);
  tnbTimes.push(ms(t));
}
tnbTimes.sort((x, y) => x - y);
console.log(
  `one RoBoT run, tnb101-micro class_scene (T=100, ${tnbMetrics.length} metrics, pool ${tbp.pool.archs.length}, reference stream): median ${tnbTimes[1].toFixed(0)} ms, min ${tnbTimes[0].toFixed(0)} ms, max ${tnbTimes[2].toFixed(0)} ms (Python reference ≈ 10 s)`,
);

// RoBoT+ (the default) in the same setting: its whole run over T queries, i.e. the search's own time per query
// (GP fits, acquisition, the exploitation's refits; the tabular queries themselves cost nothing).
const plusTimes: number[] = [];
for (let seed = 10; seed < 13; seed++) {
  t = performance.now();
  await runOnce(tbp, createMethod('robot-plus', { metrics: tnbMetrics, normalise: 'log-minmax', acquisition: 'ucb' }), 100, seed);
  plusTimes.push(ms(t));
}
plusTimes.sort((x, y) => x - y);
console.log(
  `one RoBoT+ run, tnb101-micro class_scene (T=100, same pool): median ${plusTimes[1].toFixed(0)} ms = ${(plusTimes[1] / 100).toFixed(1)} ms per query (RoBoT above: ${(tnbTimes[1] / 100).toFixed(1)} ms per query)`,
);

t = performance.now();
await runExperiment(b, { method: 'robot', budget: 20, seeds: parseSeeds('10-19') });
console.log(`RoBoT, 10 seeds, cifar10 (reference stream, incl. pool building): ${ms(t).toFixed(0)} ms (Python reference: 8–24 s)`);

// What a user types, timed from outside: node start-up, module loading, reading the CSV, ten runs, printing. Built CLI
// (dist/), as installed; best of three.
const cli = fileURLToPath(new URL('../bin/robot-nas.js', import.meta.url));
const walls: number[] = [];
for (let k = 0; k < 3; k++) {
  t = performance.now();
  const r = spawnSync(process.execPath, [cli, 'bench', '--benchmark', 'nb201', '--task', 'cifar10', '--method', 'robot', '--budget', '20', '--seeds', '10-19', ...(data ? ['--data', data] : [])], { encoding: 'utf8' });
  walls.push(ms(t));
  if (r.status !== 0) throw new Error(`robot-nas bench failed: ${r.stderr}`);
}
console.log(`robot-nas bench --benchmark nb201 --task cifar10 --method robot --budget 20 --seeds 10-19: ${Math.min(...walls).toFixed(0)} ms wall (best of 3; incl. start-up and loading)`);

t = performance.now();
await runTable(TABLES.nb201, (task) => loadBenchmark({ benchmark: 'nb201', task, data }), { seeds: parseSeeds('10-19') });
console.log(`whole table nb201 (incl. loading): ${(ms(t) / 1000).toFixed(2)} s`);
