/**
 * The replay contract: a pool whose every architecture was trained once, exported as a benchmark table, replays
 * `robot-nas search` exactly — for every search method of the registry and one metric's top-T, one query at a time
 * and in synchronous rounds of 2, several search seeds: the same answer, T0, learned weights and best-so-far curve.
 * The searches run for real (pipeline and CLI) on a small MNIST pool, answered from the query cache the ground
 * truth filled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTable } from '../../src/benchmarks/load.js';
import { poolTableCsv } from '../../src/experiments/pool-table.js';
import { replay, searchMethodIds } from '../../src/experiments/replay.js';
import { choosePool } from '../../src/pipeline/score.js';
import { planSearch } from '../../src/pipeline/plan.js';
import { runSearch, SEARCH_METRICS, type SearchOptions } from '../../src/pipeline/search.js';
import { readResults } from '../../src/proxies/results.js';
import { jobExecutor } from '../../src/jobs/index.js';
import { inProcessRunner } from '../../src/runner/index.js';
import { JsonlStore } from '../../src/store/jsonl.js';
import { runCli } from '../helpers/cli.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-replay-');
const METRICS = [...SEARCH_METRICS];
const BUDGET = 5;

test('a search replayed on its pool table gives the search answer, for every method, seed and parallelism', { timeout: 600_000 }, async () => {
  const d = tmp();
  const cache = join(d, 'query-cache.jsonl');
  const base: SearchOptions = {
    space: 'nb201',
    dataset: 'mnist',
    pool: 14,
    budget: 'all',
    method: 'rs',
    metrics: METRICS,
    channels: 4,
    cells: 1,
    epochs: 1,
    batchSize: 32,
    lr: 0.1,
    scoreBatch: 16,
    validFraction: 0.2,
    trainLimit: 96,
    validLimit: 64,
    seed: 3,
    out: join(d, 'unused'),
    cache,
    parallel: 1,
  };
  const store = JsonlStore.open(cache);
  const runner = inProcessRunner(jobExecutor());
  try {
    // Ground truth: every sampled architecture trained (scored on `params`, always finite, so none is dropped).
    await runSearch({ ...base, metrics: ['params'], out: join(d, 'truth') }, {}, { runner, store });
    // The search's metric table, and the pool as a table in the search's pool order.
    const plan = planSearch(base);
    const archs = choosePool(plan);
    const first = await runSearch({ ...base, method: 'rs', budget: BUDGET, out: join(d, 'first') }, {}, { runner, store });
    const scores = readResults(first.files.metricsTable, plan.space).rows;
    const truth = new Map(store.scan().map((r) => [r.arch, r]));
    const table = join(d, 'pool.csv');
    writeFileSync(table, poolTableCsv(archs.map((a) => ({ arch: a, value: truth.get(a)!.value, cost: truth.get(a)!.cost, metrics: scores.get(a) ?? {} })), METRICS));
    const b = loadTable(table);
    assert.equal(b.archs.length, archs.length);
    // the pool drops architectures with a non-finite metric, as the search does (at least the candidate count agrees)
    const methods = [...searchMethodIds(METRICS), 'metric:synflow'];
    assert.ok(methods.includes('robot') && methods.includes('rs') && methods.includes('rea') && methods.includes('reinforce'), methods.join(','));
    for (const method of methods) {
      for (const parallel of [1, 2]) {
        for (const seed of [0, 1]) {
          const what = `${method}, parallel ${parallel}, search seed ${seed}`;
          const r = await runSearch({ ...base, method, budget: BUDGET, searchSeed: seed, parallel, out: join(d, `${method.replace(':', '-')}-p${parallel}-s${seed}`) }, {}, { runner, store });
          assert.equal(r.cacheHits, r.queries, `${what}: answered from the ground truth's cache`);
          const rep = await replay(b, method, { budget: BUDGET, parallel, seeds: [seed], metrics: METRICS });
          const run = rep.runs[0];
          assert.equal(rep.poolSize, r.pool.size, `${what}: candidates`);
          assert.equal(run.arch, r.best.arch, `${what}: answer`);
          assert.equal(run.value, r.best.validAccuracy, `${what}: its accuracy`);
          assert.equal(run.t0, r.t0, `${what}: T0`);
          assert.deepEqual(run.weights, r.weights ?? null, `${what}: weights`);
          const lines = readFileSync(r.files.queries, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { bestSoFar: number });
          assert.deepEqual(run.curve, lines.map((l) => l.bestSoFar), `${what}: best-so-far after each query`);
        }
      }
    }
    // The same through the two commands a user runs, each with its default method: `search` (2 queries at a time)
    // and `bench --table`.
    const cli = runCli(['search', '--pool', '14', '--budget', String(BUDGET), '--channels', '4', '--score-batch', '16', '--train-limit', '96', '--valid-limit', '64', '--seed', '3',
      '--search-seed', '1', '--parallel', '2', '--cache', cache, '--out', join(d, 'cli'), '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const searched = JSON.parse(cli.stdout) as { best: { arch: string }; t0: number; cacheHits: number; queries: number };
    assert.equal(searched.cacheHits, searched.queries);
    const bench = runCli(['bench', '--table', table, '--metrics', METRICS.join(','), '--budget', String(BUDGET), '--seeds', '1', '--parallel', '2', '--json']);
    assert.equal(bench.code, 0, bench.stderr);
    const benched = bench.json<{ runs: { arch: string; t0: number }[] }>();
    assert.equal(benched.runs[0].arch, searched.best.arch);
    assert.equal(benched.runs[0].t0, searched.t0);
  } finally {
    await runner.close();
  }
});
