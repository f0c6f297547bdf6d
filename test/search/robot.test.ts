import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRobot, normalisedColumns, scoreInto } from '../../src/search/robot.js';
import { createSingleMetric, topByMetric } from '../../src/search/training-free.js';
import { makePool, type Pool } from '../../src/search/types.js';
import type { SearchSpace } from '../../src/spaces/types.js';
import { QueryLedger } from '../../src/objective/ledger.js';
import { TabularObjective } from '../../src/objective/tabular.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { SHARED_DATA } from '../helpers/shared.js';

// The pool only carries the space along; these tests never use it.
const STUB_SPACE = { id: 'stub' } as unknown as SearchSpace;

function poolOf(metrics: Record<string, ArrayLike<number>>, n: number): Pool {
  const archs = Array.from({ length: n }, (_, i) => `a${i}`);
  return makePool(STUB_SPACE, archs, new Map(Object.entries(metrics).map(([k, v]) => [k, Float64Array.from(v)])));
}

function ledgerOf(objective: ArrayLike<number>): QueryLedger {
  return new QueryLedger(new TabularObjective(objective, new Float64Array(objective.length).fill(1)));
}

/** Synthetic pool: 'good' is the objective plus nothing, 'noise' is unrelated, some values missing. */
function synthetic(seed: number, n = 600) {
  const rng = new Rng(seed);
  const objective = Float64Array.from({ length: n }, () => 50 + 40 * rng.next());
  const good = Float64Array.from(objective, (v) => 3 * v - 7);
  const noise = Float64Array.from({ length: n }, () => rng.normal());
  for (let i = 0; i < n; i += 17) noise[i] = NaN;
  return { objective, pool: poolOf({ good, noise }, n) };
}

const argmax = (xs: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[b]) b = i;
  return b;
};

test('finds the optimum when one metric predicts the objective perfectly', async () => {
  for (const seed of [1, 2, 3]) {
    const { objective, pool } = synthetic(seed);
    const ledger = ledgerOf(objective);
    const out = await createRobot({ metrics: ['good', 'noise'] }).run({ pool, ledger, budget: 8, rng: new Rng(seed) });
    assert.equal(out.best, argmax(objective), `seed ${seed}`);
    assert.equal(ledger.count, 8);
    assert.ok(out.t0! >= 1 && out.t0! <= 8);
    assert.ok(out.weights!.good > 0);
    assert.deepEqual(Object.keys(out.weights!), ['good', 'noise']);
    const { tops, ...settings } = out.extras as { tops: number[] };
    assert.deepEqual(settings, { acquisition: 'ucb', normalise: 'minmax', stream: 'reference' });
    // the top architecture of every BO step: the first T0 distinct ones are the BO phase's queries
    assert.deepEqual([...new Set(tops)], ledger.history.slice(0, out.t0).map((r) => r.index));
  }
});

test('exactly T distinct queries, T0 ≤ T, progress reported up to T', async () => {
  for (const budget of [1, 5, 20]) {
    const { objective, pool } = synthetic(7);
    const ledger = ledgerOf(objective);
    const seen: number[] = [];
    const out = await createRobot({ metrics: ['noise', 'good'], normalise: 'rank', acquisition: 'ei' }).run({
      pool,
      ledger,
      budget,
      rng: new Rng(4),
      onProgress: (q, b) => {
        assert.equal(b, budget);
        seen.push(q);
      },
    });
    assert.equal(ledger.count, budget);
    assert.ok(out.t0! <= budget && out.t0! >= 1);
    assert.equal(seen.at(-1), budget);
    assert.equal(out.best, ledger.best());
    for (const w of Object.values(out.weights!)) assert.ok(w >= -1 && w <= 1);
  }
});

test('stops when the pool is exhausted', async () => {
  const { objective, pool } = synthetic(8, 6);
  const ledger = ledgerOf(objective);
  await createRobot({ metrics: ['good'] }).run({ pool, ledger, budget: 10, rng: new Rng(1) });
  assert.equal(ledger.count, 6);
});

test('deterministic for a seed', async () => {
  const run = async (seed: number) => {
    const { objective, pool } = synthetic(5);
    const ledger = ledgerOf(objective);
    const out = await createRobot({ metrics: ['good', 'noise'] }).run({ pool, ledger, budget: 12, rng: new Rng(seed) });
    return { order: ledger.history.map((r) => r.index), out };
  };
  const a = await run(42);
  const b = await run(42);
  assert.deepEqual(a.order, b.order);
  assert.deepEqual(a.out, b.out);
  const c = await run(43);
  assert.notDeepEqual(c.out.weights, a.out.weights);
});

test("with the run's seed, the reference stream draws from numpy's MT19937, not ctx.rng", async () => {
  const run = async (rngSeed: number, seed: number | undefined, stream?: 'reference' | 'fast') => {
    const { objective, pool } = synthetic(5);
    const ledger = ledgerOf(objective);
    await createRobot({ metrics: ['good', 'noise'], stream }).run({ pool, ledger, budget: 6, rng: new Rng(rngSeed), seed });
    return ledger.history.map((r) => r.index);
  };
  assert.deepEqual(await run(1, 42), await run(2, 42));
  assert.notDeepEqual(await run(1, 42), await run(1, 43));
  // Without a seed (or in 'fast' mode) ctx.rng is the stream.
  assert.notDeepEqual(await run(1, undefined), await run(2, undefined));
  assert.notDeepEqual(await run(1, 42, 'fast'), await run(2, 42, 'fast'));
});

test('the greedy phase queries in score order of the best weights, missing values counting 0', async () => {
  for (const kind of ['minmax', 'quantile'] as const) {
    const { objective, pool } = synthetic(9);
    const ledger = ledgerOf(objective);
    const metrics = ['noise', 'good'];
    const out = await createRobot({ metrics, normalise: kind }).run({ pool, ledger, budget: 25, rng: new Rng(3) });
    // Scores recomputed here from the normalised columns (0 where the raw value is missing).
    const norm = normalisedColumns(pool, metrics, kind);
    const noise = pool.metrics.get('noise')!;
    for (let i = 0; i < noise.length; i++) if (Number.isNaN(noise[i])) assert.equal(norm[0][i], 0);
    const w = metrics.map((m) => out.weights![m]);
    const score = (i: number) => 0 + w[0] * norm[0][i] + w[1] * norm[1][i];
    const order = ledger.history.map((r) => r.index);
    const bo = order.slice(0, out.t0);
    const greedy = order.slice(out.t0);
    const expected = Array.from({ length: pool.archs.length }, (_, i) => i)
      .filter((i) => !bo.includes(i))
      .sort((a, b) => score(b) - score(a) || b - a)
      .slice(0, greedy.length);
    assert.deepEqual(greedy, expected, kind);
  }
});

test('missing values contribute 0 to every score', () => {
  const pool = poolOf({ a: [NaN, 1, 3, 5], b: [10, NaN, 20, 30] }, 4);
  const cols = normalisedColumns(pool, ['a', 'b']);
  assert.deepEqual(Array.from(cols[0]), [0, 0, 0.5, 1]);
  assert.deepEqual(Array.from(cols[1]), [0, 0, 0.5, 1]);
  const s = scoreInto(cols, [0.5, -1], new Float64Array(4));
  assert.deepEqual(Array.from(s), [0, 0, 0.25 - 0.5, 0.5 - 1]);
});

test("ties, 'fast' stream: the last index wins the top spot, and the greedy goes down from the highest index", async () => {
  // Every architecture has the same metrics, so every w ties all of them.
  const n = 30;
  const pool = poolOf({ m: new Float64Array(n).fill(2), k: new Float64Array(n).fill(-1) }, n);
  const objective = Float64Array.from({ length: n }, (_, i) => i % 7);
  const ledger = ledgerOf(objective);
  const out = await createRobot({ metrics: ['m', 'k'], stream: 'fast', bo: { samples: 200 } }).run({ pool, ledger, budget: 5, rng: new Rng(2) });
  assert.equal(out.t0, 1);
  assert.deepEqual(
    ledger.history.map((r) => r.index),
    [29, 28, 27, 26, 25],
  );
  assert.equal(out.best, 27); // objective 27 % 7 = 6, the best queried
});

test("ties, 'reference' stream: numpy's argsort order, as np.flip(np.argsort(score)) walks it", async () => {
  // np.argsort(np.zeros(30)) = [0, 27, 26, …, 1, 28, 29], so the walk goes 29, 28, 1, 2, 3, ….
  const n = 30;
  const pool = poolOf({ m: new Float64Array(n).fill(2), k: new Float64Array(n).fill(-1) }, n);
  const objective = Float64Array.from({ length: n }, (_, i) => i % 7);
  const ledger = ledgerOf(objective);
  const out = await createRobot({ metrics: ['m', 'k'], bo: { samples: 200 } }).run({ pool, ledger, budget: 5, rng: new Rng(2), seed: 2 });
  assert.equal(out.t0, 1);
  assert.deepEqual(
    ledger.history.map((r) => r.index),
    [29, 28, 1, 2, 3],
  );
  assert.equal(out.best, 3);
});

test('input errors', async () => {
  const { objective, pool } = synthetic(1, 20);
  assert.throws(() => createRobot({ metrics: [] }), InputError);
  assert.throws(() => createRobot({ metrics: ['good', 'good'] }), InputError);
  await assert.rejects(
    createRobot({ metrics: ['good', 'nope'] }).run({ pool, ledger: ledgerOf(objective), budget: 3, rng: new Rng(1) }),
    /metric 'nope' is not in the pool/,
  );
  await assert.rejects(
    createRobot({ metrics: ['good'] }).run({ pool, ledger: ledgerOf(objective), budget: 0, rng: new Rng(1) }),
    InputError,
  );
});

test('single training-free metric: top raw value, NaN excluded, one query', async () => {
  const pool = poolOf({ m: [3, NaN, 7, 7, -Infinity], e: [NaN, NaN, NaN, NaN, NaN] }, 5);
  assert.equal(topByMetric(pool, 'm'), 2);
  assert.throws(() => topByMetric(pool, 'e'), /no values/);
  assert.throws(() => topByMetric(pool, 'x'), InputError);
  const ledger = ledgerOf([1, 2, 3, 4, 5]);
  const method = createSingleMetric('m');
  assert.equal(method.name, 'm');
  const out = await method.run({ pool, ledger, budget: 10, rng: new Rng(1) });
  assert.equal(out.best, 2);
  assert.equal(ledger.count, 1);
});

// ---- A quick run on real NAS-Bench-201 data (the reference RoBoT gets 94.37 here) ----

/** CSV number as Python writes it: '' and 'nan' are missing, 'inf' / '-inf' infinite. */
function num(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === '' || t === 'nan') return NaN;
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  return Number(t);
}

function loadCsv(file: string, metrics: string[], complete: boolean) {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  const col = (name: string) => head.indexOf(name);
  // Architecture strings contain no commas, so a plain split is enough for this file.
  const rows = lines
    .slice(1)
    .map((l) => l.split(','))
    .filter((r) => !complete || metrics.every((m) => Number.isFinite(num(r[col(m)]))));
  return {
    objective: Float64Array.from(rows, (r) => num(r[col('hp12_valid_acc')])),
    final: Float64Array.from(rows, (r) => num(r[col('test_acc')])),
    pool: makePool(
      STUB_SPACE,
      rows.map((r) => r[col('arch')]),
      new Map(metrics.map((m) => [m, Float64Array.from(rows, (r) => num(r[col(m)]))])),
    ),
  };
}

/** Each architecture BO's weights put on top, in step order (repeats included). */
async function robotTrace(data: ReturnType<typeof loadCsv>, metrics: string[], seed: number) {
  const ledger = ledgerOf(data.objective);
  const out = await createRobot({ metrics }).run({ pool: data.pool, ledger, budget: 20, rng: new Rng(seed), seed });
  // the top architecture of each BO step, as RoBoT reports it
  return { out, ledger, tops: (out.extras!.tops as number[]).slice(0, 20), final: data.final[out.best] };
}

const SIX = ['sz.grad_norm', 'sz.snip', 'sz.grasp', 'sz.fisher', 'sz.synflow', 'sz.jacov'];

/*
 * Traced with the reference (search_nb201.py's rule with bayes_opt 1.2.0, scikit-learn 1.2.1,
 * numpy 1.24): the architecture on top at each of the 20 BO steps on NAS-Bench-201
 * ImageNet16-120 (pool of the 9,445 architectures with all six metrics). These two seeds are
 * retraced step for step; seeds whose BO meets a near-tie on a flat acquisition ridge are not,
 * because there the reference's choice turns on last-bit rounding (it changes with the BLAS
 * kernel too).
 */
const IN16_TOPS: Record<number, number[]> = {
  11: [15, 8380, 2988, 9090, 2988, 15, 15, 15, 4526, 4526, 1002, 8380, 4526, 2988, 4526, 1002, 1480, 15, 5960, 121],
  16: [1002, 2988, 1002, 4822, 4822, 4822, 15, 15, 8380, 8380, 15, 15, 15, 4526, 4526, 4526, 4526, 4526, 4526, 4526],
};

test('reference stream retraces the reference RoBoT on NAS-Bench-201 ImageNet16-120', async () => {
  const data = loadCsv(join(SHARED_DATA, 'nb201', 'imagenet16-120.csv'), SIX, true);
  assert.equal(data.pool.archs.length, 9445);
  for (const seed of [11, 16]) {
    const run = await robotTrace(data, SIX, seed);
    assert.deepEqual(run.tops, IN16_TOPS[seed], `seed ${seed}`);
    assert.equal(run.out.t0, new Set(IN16_TOPS[seed]).size);
    assert.equal(run.final.toFixed(2), '46.33');
  }
});

/*
 * The reference gives 94.37 ± 0 (mean T0 7.8; per seed 9 8 7 8 7 7 8 9 8 7) for seeds 10–19.
 * The reference stream reproduces every final and 7 of the 10 T0s (the other three seeds
 * part ways on near-ties, see above).
 */
test('NAS-Bench-201 CIFAR-10, six metrics, T = 20, seeds 10–19', async () => {
  const data = loadCsv(join(SHARED_DATA, 'nb201', 'cifar10.csv'), SIX, true);
  assert.equal(data.pool.archs.length, 9445);
  const finals: number[] = [];
  const t0s: number[] = [];
  for (let seed = 10; seed < 20; seed++) {
    const ledger = ledgerOf(data.objective);
    const out = await createRobot({ metrics: SIX }).run({ pool: data.pool, ledger, budget: 20, rng: new Rng(seed), seed });
    assert.equal(ledger.count, 20);
    finals.push(data.final[out.best]);
    t0s.push(out.t0!);
  }
  assert.deepEqual(
    finals.map((v) => v.toFixed(2)),
    new Array(10).fill('94.37'),
  );
  const reference = [9, 8, 7, 8, 7, 7, 8, 9, 8, 7];
  const same = t0s.filter((t, k) => t === reference[k]).length;
  assert.ok(same >= 7, `T0 ${t0s.join(' ')} vs the reference's ${reference.join(' ')}`);
});
