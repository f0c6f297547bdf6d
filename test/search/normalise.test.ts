import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NORMALISE_KINDS,
  averageRanks,
  isNormaliseKind,
  normQuantile,
  normalise,
  percentileSorted,
  winsorise,
} from '../../src/search/normalise.js';
import { normCdf } from '../../src/gp/acquisition.js';

const f = (xs: number[]) => Float64Array.from(xs);
function closeArr(actual: Float64Array, expected: number[], tol = 1e-12): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => {
    if (Number.isNaN(e)) assert.ok(Number.isNaN(actual[i]), `[${i}] ${actual[i]} should be NaN`);
    else assert.ok(Math.abs(actual[i] - e) <= tol, `[${i}] ${actual[i]} vs ${e}`);
  });
}

test('kinds are listed and recognised', () => {
  assert.deepEqual(NORMALISE_KINDS, ['minmax', 'rank', 'quantile', 'clip', 'log-minmax']);
  assert.ok(isNormaliseKind('rank'));
  assert.ok(!isNormaliseKind('zscore'));
  assert.throws(() => normalise(f([1]), 'zscore' as never), /unknown normalisation/);
});

test('minmax: reference formula over non-missing values, NaN kept', () => {
  closeArr(normalise(f([2, NaN, 6, 4, 10]), 'minmax'), [0, NaN, 0.5, 0.25, 1]);
  // constant column: left as it is (the reference's rule)
  closeArr(normalise(f([3, 3, NaN]), 'minmax'), [3, 3, NaN]);
  // all missing
  closeArr(normalise(f([NaN, NaN]), 'minmax'), [NaN, NaN]);
  // an outlier squashes everything else (what 'rank' etc. are for)
  const o = normalise(f([1, 2, 3, 1e6]), 'minmax');
  assert.ok(o[2] < 1e-5 && o[3] === 1);
  // an infinity turns the column into NaN/0, as Python's arithmetic does: it drops out of scores
  closeArr(normalise(f([-Infinity, 0, 5, 10]), 'minmax'), [NaN, NaN, NaN, NaN]);
  closeArr(normalise(f([0, 5, Infinity, NaN]), 'minmax'), [0, 0, NaN, NaN]);
});

test('average ranks share ties', () => {
  const { ranks, count } = averageRanks(f([10, 20, 10, NaN, 30, 20]));
  assert.equal(count, 5);
  closeArr(ranks, [1.5, 3.5, 1.5, NaN, 5, 3.5]);
});

test('rank: average ranks scaled to [0, 1], robust to outliers', () => {
  // (r − 1)/(n − 1) with average ranks, so tied minima sit above 0
  closeArr(normalise(f([10, 20, 10, NaN, 30, 20]), 'rank'), [0.125, 0.625, 0.125, NaN, 1, 0.625]);
  closeArr(normalise(f([1, 2, 3, 1e6]), 'rank'), [0, 1 / 3, 2 / 3, 1]);
  closeArr(normalise(f([7, 7, 7]), 'rank'), [0.5, 0.5, 0.5]);
  closeArr(normalise(f([NaN, 4]), 'rank'), [NaN, 0.5]);
  closeArr(normalise(f([-Infinity, 1, 2]), 'rank'), [0, 0.5, 1]);
});

test('quantile: Blom normal scores of the average ranks', () => {
  // n = 4: p = (r − 3/8)/(4 + 1/4) for r = 1..4
  const q = normalise(f([5, 1, NaN, 9, 3]), 'quantile');
  const p = (r: number) => (r - 0.375) / 4.25;
  closeArr(q, [normQuantile(p(3)), normQuantile(p(1)), NaN, normQuantile(p(4)), normQuantile(p(2))]);
  // symmetric, centred
  assert.ok(Math.abs(q[0] + q[4]) < 1e-12 && Math.abs(q[1] + q[3]) < 1e-12);
  // ties share the score of their average rank; a constant column maps to 0
  const t = normalise(f([2, 2, 8]), 'quantile');
  assert.equal(t[0], t[1]);
  closeArr(normalise(f([4, 4, 4]), 'quantile'), [0, 0, 0]);
});

test('inverse normal CDF against tabulated quantiles and round trips', () => {
  const table: [number, number][] = [
    [0.975, 1.959963984540054],
    [0.001, -3.090232306167813],
    [0.3, -0.5244005127080409],
    [1e-10, -6.361340902404056],
  ];
  for (const [p, z] of table) assert.ok(Math.abs(normQuantile(p) - z) < 1e-12 * Math.max(1, Math.abs(z)), `Φ⁻¹(${p}) = ${normQuantile(p)}`);
  assert.equal(normQuantile(0.5), 0);
  assert.equal(normQuantile(0), -Infinity);
  assert.equal(normQuantile(1), Infinity);
  assert.ok(Number.isNaN(normQuantile(1.5)));
  for (let p = 0.0005; p < 1; p += 0.0123) {
    assert.ok(Math.abs(normCdf(normQuantile(p)) - p) < 1e-14, `round trip at ${p}`);
  }
});

test('percentiles interpolate linearly like numpy', () => {
  const s = f([1, 2, 3, 4, 5]);
  assert.equal(percentileSorted(s, 0), 1);
  assert.equal(percentileSorted(s, 100), 5);
  assert.equal(percentileSorted(s, 50), 3);
  assert.equal(percentileSorted(s, 10), 1.4); // h = 0.4
  assert.ok(Number.isNaN(percentileSorted(f([]), 50)));
});

test('clip: winsorise at percentiles, then min-max', () => {
  // 101 values 0..100 plus an outlier: the 1st/99th percentiles of the 102 finite values bound it
  const xs = [...Array.from({ length: 101 }, (_, i) => i), 1e9, NaN];
  const w = winsorise(f(xs), 1, 99);
  const sorted = f(xs.filter((v) => !Number.isNaN(v))).sort();
  const lo = percentileSorted(sorted, 1);
  const hi = percentileSorted(sorted, 99);
  assert.equal(w[0], lo);
  assert.equal(w[101], hi);
  assert.ok(Number.isNaN(w[102]));
  const c = normalise(f(xs), 'clip');
  assert.equal(c[0], 0);
  assert.equal(c[101], 1);
  assert.ok(Math.abs(c[50] - (50 - lo) / (hi - lo)) < 1e-12);
  // custom percentiles; [0, 100] is plain min-max
  closeArr(normalise(f([2, NaN, 6, 4, 10]), 'clip', { clipPercentiles: [0, 100] }), [0, NaN, 0.5, 0.25, 1]);
  closeArr(normalise(f([0, 1, 2, 3, 4]), 'clip', { clipPercentiles: [25, 75] }), [0, 0, 0.5, 1, 1]);
  assert.throws(() => normalise(f([1]), 'clip', { clipPercentiles: [60, 40] }), /percentiles/);
  // −∞ is clipped to the lower bound; a constant column stays as it is
  const inf = normalise(f([-Infinity, 1, 2, 3]), 'clip', { clipPercentiles: [0, 100] });
  closeArr(inf, [0, 0, 0.5, 1]);
  closeArr(normalise(f([5, 5, NaN]), 'clip'), [5, 5, NaN]);
});
