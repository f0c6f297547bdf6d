/**
 * The experiment runner on a small synthetic benchmark (60 NAS-Bench-201 cells, a known objective and final metric,
 * two metrics of which one is informative): pools, per-seed runs, their aggregate, the training-free rows, the paper
 * table over tasks, and the refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Benchmark } from '../../src/benchmarks/types.js';
import { buildPool, defaultMetrics, finalRank } from '../../src/experiments/pool.js';
import { runExperiment, runOnce } from '../../src/experiments/run.js';
import { cellText, runTable, tableMarkdown, type TableSpec } from '../../src/experiments/tables.js';
import { randomSearch } from '../../src/search/random.js';
import { nb201Space } from '../../src/spaces/index.js';
import { InputError, SettingError } from '../../src/util/errors.js';
import { mean, std } from '../../src/util/stats.js';

const N = 60;
const archs = nb201Space.enumerate().slice(0, N);
/** Architecture i's objective rises with i (with a wobble); the final metric follows it; `good` ranks like it, `noise` does not. */
function synthetic(task = 'toy', missing: number[] = []): Benchmark {
  const objective = Float64Array.from(archs, (_, i) => 50 + i * 0.5 + Math.sin(i) * 2);
  const final = Float64Array.from(objective, (v, i) => v + 1 + Math.cos(i));
  const good = Float64Array.from(objective, (v) => v * 3);
  const noise = Float64Array.from(archs, (_, i) => ((i * 37) % 60) / 60);
  for (const i of missing) good[i] = NaN;
  return {
    benchmark: 'nb201',
    task,
    space: nb201Space,
    sources: ['synthetic'],
    archs,
    objective,
    cost: Float64Array.from(archs, (_, i) => 100 + i),
    final,
    metrics: new Map([
      ['good', good],
      ['noise', noise],
    ]),
    objectiveName: 'objective',
    finalName: 'final',
  };
}
const best = (b: Benchmark) => b.final.reduce((m, v) => Math.max(m, v), -Infinity);

test("pools: 'complete' keeps the architectures with every metric, 'zero' keeps all; ranks by the final metric", () => {
  const b = synthetic('toy', [3, 7]);
  const complete = buildPool(b, ['good', 'noise']);
  assert.equal(complete.pool.archs.length, N - 2);
  assert.ok(!complete.pool.archs.includes(archs[3]));
  assert.deepEqual(Array.from(complete.rows.slice(0, 4)), [0, 1, 2, 4]);
  assert.equal(buildPool(b, ['good'], 'zero').pool.archs.length, N);
  assert.equal(buildPool(b, []).pool.archs.length, N);
  assert.throws(() => buildPool(b, ['nope']), (e: Error) => e instanceof InputError && /metric 'nope' is not in nb201\/toy.*available: good, noise/.test(e.message));
  assert.equal(finalRank(Float64Array.from([1, 3, 3, 2]), 1), 1);
  assert.equal(finalRank(Float64Array.from([1, 3, 3, 2]), 0), 4);
  // no paper metric set here: every metric column is the default
  assert.deepEqual(defaultMetrics(b), ['good', 'noise']);
});

test('one run spends the budget on distinct queries; its curve is the final metric of the best objective so far', async () => {
  const bp = buildPool(synthetic(), []);
  const r = await runOnce(bp, randomSearch, 12, 5);
  assert.equal(r.queries, 12);
  assert.equal(r.curve.length, 12);
  assert.equal(r.curve.at(-1), r.final);
  assert.equal(r.rank, finalRank(bp.final, bp.pool.indexOf.get(r.arch)!));
  assert.ok(r.rankCurve.every((k) => k >= 1 && k <= N));
  assert.equal(r.time, r.cost, 'one worker: the simulated time is the total cost');
  const parallel = await runOnce(bp, randomSearch, 12, 5, 4);
  assert.ok(parallel.time < parallel.cost, 'four workers finish sooner than the cost adds up to');
  assert.deepEqual(await runOnce(bp, randomSearch, 12, 5), r, 'a seed gives the same run');
});

test('an experiment aggregates its seeds as the paper does (mean ± population std), and reports each run', async () => {
  const b = synthetic();
  const seen: number[] = [];
  const r = await runExperiment(b, { method: 'rs', budget: 10, seeds: [1, 2, 3], onRun: (run, done, total) => seen.push(run.seed, done, total) });
  assert.deepEqual(seen, [1, 1, 3, 2, 2, 3, 3, 3, 3]);
  assert.deepEqual(r.final.values, r.runs.map((x) => x.final));
  assert.equal(r.final.mean, mean(r.final.values));
  assert.equal(r.final.std, std(r.final.values));
  assert.equal(r.rank.mean, mean(r.runs.map((x) => x.rank)));
  assert.equal(r.curve.length, 10);
  assert.equal(r.curve[9], r.final.mean);
  assert.equal(r.optimum, best(b));
  assert.equal(r.poolSize, N);
  assert.equal(r.t0, null);
  assert.deepEqual(await runExperiment(b, { method: 'rs', budget: 10, seeds: [1, 2, 3] }), r, 'deterministic given the seeds');
});

test('RoBoT with an informative metric finds the best architecture and learns to weight that metric', async () => {
  const r = await runExperiment(synthetic(), { method: 'robot', budget: 10, seeds: [1, 2], metrics: ['good', 'noise'] });
  assert.ok(r.runs.every((x) => x.final === best(synthetic())), `${r.runs.map((x) => x.final)}`);
  assert.ok(r.t0 !== null && r.t0.mean >= 1 && r.t0.mean <= 10);
  for (const run of r.runs) assert.ok(run.weights!.good > run.weights!.noise, JSON.stringify(run.weights));
});

test('the training-free rows: each metric\'s top architecture at no cost (avg over metrics; best, the same for every seed)', async () => {
  const b = synthetic();
  const avg = await runExperiment(b, { method: 'tf-avg', budget: 10, seeds: [1, 2, 3] });
  assert.equal(avg.runs.length, 2, 'one row per metric');
  assert.equal(avg.cost.mean, 0);
  assert.equal(avg.runs[0].final, best(b), "'good' ranks the best architecture first");
  const top = await runExperiment(b, { method: 'tf-best', budget: 10, seeds: [1, 2, 3] });
  assert.deepEqual(top.final.values, [best(b), best(b), best(b)]);
  assert.equal(top.final.std, 0);
});

test('impossible experiments are refused before any run', async () => {
  const b = synthetic();
  await assert.rejects(runExperiment(b, { method: 'nope' as 'rs', budget: 5, seeds: [1] }), /unknown method 'nope'/);
  await assert.rejects(runExperiment(b, { method: 'rs', budget: 0, seeds: [1] }), /budget must be a positive integer/);
  await assert.rejects(runExperiment(b, { method: 'rs', budget: 5, seeds: [] }), /at least one seed/);
  await assert.rejects(runExperiment(b, { method: 'rs', budget: N + 1, seeds: [1] }), (e: Error) => e instanceof SettingError && /61 distinct queries requested, but the nb201\/toy pool has only 60/.test(e.message));
  await assert.rejects(runExperiment(b, { method: 'rs', budget: 5, seeds: [1], parallel: 0 }), SettingError);
  const bare = { ...synthetic(), metrics: new Map<string, Float64Array>() };
  await assert.rejects(runExperiment(bare, { method: 'robot', budget: 5, seeds: [1] }), /robot needs training-free metrics/);
});

test('a table runs every row on every task, in this thread or through runCell, with the same cells', async () => {
  const spec: TableSpec = {
    id: 'nb201',
    title: 'toy',
    tasks: ['a', 'b'],
    taskLabels: ['A', 'B'],
    budget: 8,
    report: 'final',
    rows: [
      { label: 'RS', method: 'rs' },
      { label: 'Training-free best', method: 'tf-best' },
    ],
    paper: { RS: ['1', '2'] },
  };
  const loads: string[] = [];
  const progress: string[] = [];
  const here = await runTable(spec, (task) => (loads.push(task), synthetic(task)), { seeds: [1, 2], onCell: (d, t, label) => progress.push(`${d}/${t} ${label}`) });
  assert.deepEqual(loads, ['a', 'b']);
  assert.deepEqual(progress, ['1/4 a RS', '2/4 a Training-free best', '3/4 b RS', '4/4 b Training-free best']);
  assert.equal(here.cells.length, 4);
  assert.deepEqual(here.tasks.map((t) => [t.task, t.poolSize, t.optimum]), [['a', N, best(synthetic())], ['b', N, best(synthetic())]]);
  const handed: string[] = [];
  const via = await runTable(spec, () => assert.fail('runCell: nothing is loaded here'), {
    seeds: [1, 2],
    runCell: (task, experiment) => (handed.push(`${task} ${experiment.method}`), runExperiment(synthetic(task), experiment)),
  });
  assert.deepEqual(handed.sort(), ['a rs', 'a tf-best', 'b rs', 'b tf-best']);
  assert.deepEqual(via.cells.map((c) => [c.task, c.row.label, c.result]), here.cells.map((c) => [c.task, c.row.label, c.result]));
  const md = tableMarkdown(here);
  assert.match(md, /^\| Method \| A \(ours\) \| B \(ours\) \| A \(paper\) \| B \(paper\) \| mean cost \(s\) \| mean T0 \|/);
  assert.ok(md.includes(`| RS | ${cellText(spec, here.cells[0].result)} | ${cellText(spec, here.cells[2].result)} | 1 | 2 |`), md);
  assert.match(md, /\| Optimal \(pool\) \|/);
});
