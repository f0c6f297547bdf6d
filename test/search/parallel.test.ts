/**
 * Batch search on the tabular benchmarks: one worker reproduces the sequential search exactly (every run's
 * architecture, final, rank, cost, T0, weights and the mean curve, against the JSON the sequential code wrote
 * before batching existed: test/fixtures/sequential), more workers never query an architecture twice, and the
 * simulated time is the makespan of the schedule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadBenchmark, type BenchmarkId } from '../../src/benchmarks/index.js';
import { jsonLine } from '../../src/cli/bench.js';
import { runExperiment } from '../../src/experiments/run.js';
import { buildPool, defaultMetrics } from '../../src/experiments/pool.js';
import { QueryLedger } from '../../src/objective/ledger.js';
import { TabularObjective } from '../../src/objective/tabular.js';
import { createMethod, type MethodId } from '../../src/search/registry.js';
import { Rng } from '../../src/util/rng.js';
import { REPO } from '../helpers/shared.js';

const FIXTURES = join(REPO, 'test', 'fixtures', 'sequential');
const benches = new Map<string, ReturnType<typeof loadBenchmark>>();
const bench = (benchmark: BenchmarkId, task: string) => {
  const k = `${benchmark}/${task}`;
  if (!benches.has(k)) benches.set(k, loadBenchmark({ benchmark, task }));
  return benches.get(k)!;
};

for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort()) {
  test(`one worker reproduces the sequential search: ${file}`, async () => {
    const want = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as Record<string, unknown> & { benchmark: BenchmarkId; task: string; method: MethodId; budget: number; seeds: number[] };
    const stream = file.endsWith('-fast.json') ? 'fast' : 'reference';
    const r = await runExperiment(bench(want.benchmark, want.task), { method: want.method, budget: want.budget, seeds: want.seeds, stream, parallel: 1 });
    const got = JSON.parse(jsonLine(r)) as Record<string, unknown>;
    assert.equal(got.parallel, 1);
    delete got.parallel;
    delete got.time;
    assert.deepEqual(got, want);
  });
}

test('with q workers the simulated time is the makespan: sequential = total cost, rounds = sum of round maxima', async () => {
  const b = bench('nb201', 'cifar10');
  const one = await runExperiment(b, { method: 'rs', budget: 20, seeds: [10, 11], parallel: 1 });
  for (const run of one.runs) assert.ok(Math.abs(run.time - run.cost) < 1e-6);
  const four = await runExperiment(b, { method: 'rs', budget: 20, seeds: [10, 11], parallel: 4 });
  // random search draws the same architectures whatever q: same answers, same cost, a quarter-ish of the time
  assert.deepEqual(four.runs.map((r) => r.arch), one.runs.map((r) => r.arch));
  for (const [k, run] of four.runs.entries()) {
    assert.ok(Math.abs(run.cost - one.runs[k].cost) < 1e-6);
    assert.ok(run.time < run.cost / 2 && run.time >= run.cost / 4 - 1e-6, `time ${run.time} vs cost ${run.cost}`);
  }
});

test('property: batch and async proposals never query an architecture twice, and spend exactly the budget', async () => {
  const b = bench('tnb101-micro', 'jigsaw');
  const metrics = defaultMetrics(b);
  const bp = buildPool(b, metrics, 'complete');
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom<MethodId>('robot-plus', 'robot', 'rs', 'rea', 'reinforce'),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 2, max: 40 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 1000 }),
      async (method, q, budget, async, seed) => {
        const evaluated: number[] = [];
        const inner = new TabularObjective(bp.objective, bp.cost);
        const ledger = new QueryLedger({ evaluate: (i) => (evaluated.push(i), inner.evaluate(i)) }, { parallel: q });
        const m = createMethod(method as Exclude<MethodId, 'tf-avg' | 'tf-best'>, { metrics, normalise: 'minmax', acquisition: 'ucb', stream: 'fast' });
        const out = await m.run({ pool: bp.pool, ledger, budget, rng: new Rng(seed), seed, schedule: async ? 'async' : 'sync' });
        assert.equal(new Set(evaluated).size, evaluated.length, `an architecture was submitted twice: ${evaluated.join(',')}`);
        assert.equal(ledger.count, budget);
        assert.ok(ledger.has(out.best));
        if (!async) assert.ok(ledger.history.every((r, k, h) => k === 0 || r.start >= h[k - 1].start), 'rounds start in order');
      },
    ),
    { numRuns: 40, seed: 7 },
  );
});
