/**
 * A search as its steps (src/pipeline/): the pool, its limits, its scored metrics, the queries and the result files,
 * on real MNIST splits with a fake runner answering the scoring and training jobs (deterministic values from the
 * architecture), so every step is checked without training anything. Also: a SearchMethod of one's own plugs into
 * runSearch without the registry, and architecture selection (archs.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job, JobResult } from '../../src/jobs/index.js';
import { architectureCost } from '../../src/model/cost.js';
import { parseArchSpec, readArchFile, selectArchs } from '../../src/pipeline/archs.js';
import { runSearch } from '../../src/pipeline/search.js';
import type { SearchOptions } from '../../src/pipeline/types.js';
import type { Runner } from '../../src/runner/types.js';
import { keepBusy } from '../../src/search/schedule.js';
import type { SearchMethod } from '../../src/search/types.js';
import { getSpace, nb201Space } from '../../src/spaces/index.js';
import { MemoryStore } from '../../src/store/memory.js';
import { InputError, SettingError } from '../../src/util/errors.js';
import { queryKey } from '../../src/util/key.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-pipeline-');

/** A number in [0, 1) from a string: the fake jobs' values. */
const unit = (s: string): number => parseInt(queryKey(s).slice(0, 8), 16) / 2 ** 32;

/** Answers scoring jobs with metric values and training jobs with an accuracy, both from the architecture; counts them. */
function fakeRunner(counts = { score: 0, train: 0 }): Runner<Job, JobResult> & { counts: typeof counts } {
  return {
    counts,
    capacity: 2,
    label: 'a fake runner',
    async run(job) {
      if (job.kind === 'score') {
        counts.score++;
        return { arch: job.arch, values: Object.fromEntries(job.config.metrics.map((m) => [m, unit(m + job.arch)])), seconds: 0.01 };
      }
      if (job.kind === 'train') {
        counts.train++;
        return { validAccuracy: Math.round(1000 * unit(job.arch)) / 10, seconds: 2, trainLoss: 1, trainAccuracy: 50, diverged: false, epochs: job.train.epochs };
      }
      throw new Error(`unexpected ${job.kind}`);
    },
    async close() {},
  };
}

/** A method of one's own: queries the pool from its last member backwards. */
const backwards: SearchMethod = {
  name: 'backwards',
  async run(ctx) {
    let next = ctx.pool.archs.length - 1;
    await keepBusy(ctx, ctx.budget, () => (next >= 0 ? next-- : -1));
    return { best: ctx.ledger.best(), extras: { note: 'mine' } };
  },
};

function options(out: string, o: Partial<SearchOptions> = {}): SearchOptions {
  return {
    space: 'nb201',
    dataset: 'mnist',
    pool: 12,
    budget: 4,
    method: backwards,
    metrics: ['grad_norm', 'snip'],
    channels: 4,
    cells: 1,
    epochs: 1,
    batchSize: 16,
    lr: 0.1,
    scoreBatch: 8,
    validFraction: 0.2,
    trainLimit: 64,
    validLimit: 32,
    seed: 4,
    out,
    cache: join(out, '..', 'cache.jsonl'),
    parallel: 2,
    ...o,
  };
}

const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { n: number; arch: string; key: string; validAccuracy: number; cached: boolean });

test('runSearch runs a SearchMethod object through every step: pool, metrics, queries, result files', async () => {
  const out = join(tmp(), 'search');
  const runner = fakeRunner();
  const hooks: string[] = [];
  const r = await runSearch(
    options(out),
    {
      onScoringStart: (total, todo) => hooks.push(`scoring ${todo}/${total}`),
      onScoringEnd: () => hooks.push('scored'),
      onQuery: (l, budget) => hooks.push(`query ${l.n}/${budget}`),
    },
    { runner, store: new MemoryStore() },
  );
  assert.deepEqual(hooks, ['scoring 12/12', 'scored', 'query 1/4', 'query 2/4', 'query 3/4', 'query 4/4']);
  assert.deepEqual(runner.counts, { score: 12, train: 4 });
  assert.equal(r.method, 'backwards');
  assert.equal(r.queries, 4);
  const q = lines(join(out, 'queries.jsonl'));
  // the method's order: the pool's last four, backwards; each keyed by its training job
  assert.deepEqual(q.map((l) => l.n), [1, 2, 3, 4]);
  const metricsCsv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.match(metricsCsv[0], /^arch,grad_norm,snip\b/);
  assert.equal(metricsCsv.length, 13, 'a header and the pool');
  const poolArchs = metricsCsv.slice(1).map((l) => l.split(',')[0]);
  assert.deepEqual(q.map((l) => l.arch), poolArchs.slice(-4).reverse());
  const best = q.reduce((a, b) => (b.validAccuracy > a.validAccuracy ? b : a));
  assert.equal(r.best.arch, best.arch);
  assert.equal(r.best.validAccuracy, best.validAccuracy);
  assert.ok(r.best.params > 0 && r.bestLatencyMs > 0);
  assert.equal(r.totalCost, 8);
  assert.equal(r.weights, null, 'a method without weights reports none');
  for (const f of ['settings.json', 'metrics.csv', 'queries.jsonl', 'result.json', 'search-curve.svg']) assert.ok(existsSync(join(out, f)), f);
  const settings = JSON.parse(readFileSync(join(out, 'settings.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(settings.method, 'backwards');
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')), JSON.parse(JSON.stringify(r)));
  assert.ok(q.every((l) => /^[0-9a-f]{64}$/.test(l.key)));
});

test('a rerun in the same folder replays the finished work from the cache and the scored table; other settings are refused', async () => {
  const out = join(tmp(), 'again');
  const first = await runSearch(options(out), {}, { runner: fakeRunner() });
  const log = readFileSync(join(out, 'queries.jsonl'), 'utf8');
  const runner = fakeRunner();
  const again = await runSearch(options(out), {}, { runner });
  assert.deepEqual(runner.counts, { score: 0, train: 0 }, 'nothing computed again');
  assert.equal(again.cacheHits, 4);
  assert.equal(again.best.arch, first.best.arch);
  assert.equal(readFileSync(join(out, 'queries.jsonl'), 'utf8'), log, 'the query log is not written twice');
  // the training cache's keys are the training jobs' keys
  const cache = readFileSync(join(out, '..', 'cache.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { key: string });
  assert.deepEqual(new Set(cache.map((c) => c.key)), new Set(lines(join(out, 'queries.jsonl')).map((l) => l.key)));
  await assert.rejects(runSearch(options(out, { budget: 5 }), {}, { runner: fakeRunner() }), (e: Error) => e instanceof InputError && /other settings — budget 4 → 5\./.test(e.message));
});

test('size limits shrink the pool before anything is scored; a limit nothing fits names the closest candidate', async () => {
  const d = tmp();
  const free = await runSearch(options(join(d, 'free'), { method: 'rs' }), {}, { runner: fakeRunner(), store: new MemoryStore() });
  assert.equal(free.limits, null);
  // a limit at the pool's median size
  const pool = readFileSync(join(d, 'free', 'metrics.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
  const params = pool.map((arch) => architectureCost({ space: 'nb201', arch, channels: 4, cells: 1, classes: 10, inputShape: [1, 28, 28] }).params).sort((a, b) => a - b);
  const limit = params[6];
  const runner = fakeRunner();
  const limited = await runSearch(options(join(d, 'small'), { method: 'rs', budget: 2, limits: { maxParams: limit }, cache: join(d, 'elsewhere', 'cache.jsonl') }), {}, { runner, store: new MemoryStore() });
  assert.ok(limited.limits !== null && limited.limits.before === 12 && limited.limits.removed === params.filter((p) => p > limit).length, JSON.stringify(limited.limits));
  assert.ok(limited.limits.removed > 0);
  assert.equal(runner.counts.score, 12 - limited.limits.removed, 'only the candidates within the limits are scored (a table of its own: another cache folder)');
  assert.ok(limited.best.params <= limit);
  await assert.rejects(
    runSearch(options(join(d, 'none'), { limits: { maxParams: 10 } }), {}, { runner: fakeRunner() }),
    (e: Error) => e instanceof SettingError && e.setting === 'maxParams' && /no candidate of the pool of 12 fits the limits; the closest is \|/.test(e.message),
  );
  assert.ok(!existsSync(join(d, 'none', 'settings.json')), 'a refused search claims no folder');
});

test('architectures: the whole space, nested seeded samples, a list, or a file of them', () => {
  assert.deepEqual(parseArchSpec('all'), { kind: 'all' });
  assert.deepEqual(parseArchSpec(' 25 '), { kind: 'sample', n: 25 });
  assert.deepEqual(parseArchSpec('archs.txt'), { kind: 'file', file: 'archs.txt' });
  assert.throws(() => parseArchSpec('0'), SettingError);
  const ten = selectArchs(nb201Space, { kind: 'sample', n: 10 }, 7);
  assert.deepEqual(selectArchs(nb201Space, { kind: 'sample', n: 4 }, 7), ten.slice(0, 4), 'samples of one seed are nested');
  assert.notDeepEqual(selectArchs(nb201Space, { kind: 'sample', n: 10 }, 8), ten);
  assert.equal(selectArchs(nb201Space, { kind: 'all' }, 0).length, 15625);
  assert.throws(() => selectArchs(nb201Space, { kind: 'sample', n: 20000 }, 0), /only 15625/);
  assert.throws(() => selectArchs(getSpace('darts'), { kind: 'all' }, 0), /cannot be enumerated/);
  assert.equal(new Set(selectArchs(getSpace('darts'), { kind: 'sample', n: 5 }, 3)).size, 5);
  const file = join(tmp(), 'archs.txt');
  writeFileSync(file, `# two cells\n${ten[0]}\n\n${ten[1]}  # again below\n${ten[0]}\n`);
  assert.deepEqual(readArchFile(file, nb201Space), [ten[0], ten[1]]);
  writeFileSync(file, `${ten[0]}\n|conv~0|\n`);
  assert.throws(() => readArchFile(file, nb201Space), (e: Error) => e instanceof InputError && /archs\.txt:2: not a nb201 architecture/.test(e.message));
});
