import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { benchmarkAgreement, kendallTau, metricAgreement } from '../../src/experiments/agreement.js';
import { binomialSE, pooledSeedStd, swapRate, tiedWithBest } from '../../src/experiments/noise.js';
import { nb201Space } from '../../src/spaces/nb201.js';
import type { Benchmark } from '../../src/benchmarks/types.js';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('Kendall τ-b matches scipy.stats.kendalltau, ties included', () => {
  // scipy 1.17: kendalltau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]).statistic
  close(kendallTau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]), -0.4714045207910316);
  const x = [0.3, 1.5, 2.2, 2.2, -1, 4, 5.5, 0.3, 9, 7];
  const y = [1, 2, 3, 3, 3, 8, 6, 2, 10, 7];
  close(kendallTau(x, y), 0.7144882623443114);
  // scipy.stats.spearmanr of the same pairs, through metricAgreement
  const [row] = metricAgreement(y, new Map([['m', x]]));
  close(row.spearman, 0.8328532615141301);
  close(row.kendall, 0.7144882623443114);
  assert.equal(row.n, 10);
});

test('Kendall τ: identical orders 1, reversed −1, symmetric, invariant under increasing maps, NaN pairs dropped', () => {
  fc.assert(
    // small integers: ties are common
    fc.property(fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 2, maxLength: 30 }), fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 30, maxLength: 30 }), (xs, ys0) => {
      const ys = ys0.slice(0, xs.length);
      const t = kendallTau(xs, ys);
      if (Number.isNaN(t)) return;
      assert.ok(t >= -1 - 1e-12 && t <= 1 + 1e-12);
      close(kendallTau(ys, xs), t, 1e-12);
      close(kendallTau(xs.map((v) => v * v * v + 5), ys), t, 1e-12);
      close(kendallTau(xs.map((v) => -v), ys), -t, 1e-12);
    }),
  );
  close(kendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  close(kendallTau([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  close(kendallTau([1, NaN, 2, 3, 4], [10, 0, 20, 30, Infinity]), 1);
  assert.ok(Number.isNaN(kendallTau([1, 1, 1], [1, 2, 3])), 'a constant side has no τ');
});

test('benchmarkAgreement reads a benchmark’s columns against its objective or final metric', () => {
  const archs = nb201Space.enumerate().slice(0, 5);
  const b: Benchmark = {
    benchmark: 'pool',
    task: 't',
    space: nb201Space,
    sources: [],
    archs,
    objective: Float64Array.from([1, 2, 3, 4, 5]),
    cost: new Float64Array(5),
    final: Float64Array.from([5, 4, 3, 2, 1]),
    metrics: new Map([
      ['up', Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5])],
      ['gap', Float64Array.from([0.1, NaN, 0.3, 0.2, 0.5])],
    ]),
    objectiveName: 'valid_acc',
    finalName: 'valid_acc',
  };
  const rows = benchmarkAgreement(b);
  assert.deepEqual(rows.map((r) => r.metric), ['up', 'gap']);
  close(rows[0].spearman, 1);
  close(rows[0].kendall, 1);
  assert.equal(rows[1].n, 4);
  close(rows[1].kendall, 4 / 6);
  close(benchmarkAgreement(b, { metrics: ['up'], against: 'final' })[0].kendall, -1);
  assert.throws(() => benchmarkAgreement(b, { metrics: ['nope'] }), /no metric 'nope'/);
});

test('noise figures: binomial SE, pooled seed std, swap rate, candidates tied with the best', () => {
  close(binomialSE(90, 400), 1.5);
  close(binomialSE(50, 10000), 0.5);
  // two architectures, variances 2 and 0 (ddof 1) → pooled √1
  close(pooledSeedStd([[1, 3], [5, 5, 5], [7]]), 1);
  assert.ok(Number.isNaN(pooledSeedStd([[1], []])));
  close(swapRate([1, 2, 3], [1, 2, 3]), 0);
  close(swapRate([1, 2, 3], [3, 2, 1]), 1);
  close(swapRate([1, 2, 3], [1, 3, 2]), 1 / 3);
  close(swapRate([1, 2], [5, 5]), 0.5);
  assert.equal(tiedWithBest([90, 89.5, 88, 91], 1.2), 2);
  assert.equal(tiedWithBest([90, 89.5, 88, 91], 0), 1);
});
