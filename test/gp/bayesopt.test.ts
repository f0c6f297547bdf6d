import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BayesOpt } from '../../src/gp/bayesopt.js';
import { sweepAcquisition } from '../../src/gp/sweep.js';
import { acquisitionValue, type AcquisitionSpec } from '../../src/gp/acquisition.js';
import { GaussianProcess } from '../../src/gp/gp.js';
import { Rng } from '../../src/util/rng.js';

// Two bumps: the global maximum 1 (to within 1e-6) at (0.3, −0.2), a decoy of height 0.6 at (−0.6, 0.6).
const bumps = (x: ArrayLike<number>): number =>
  Math.exp(-((x[0] - 0.3) ** 2 + (x[1] + 0.2) ** 2) / 0.3) + 0.6 * Math.exp(-((x[0] + 0.6) ** 2 + (x[1] - 0.6) ** 2) / 0.05);

function runBo(seed: number, evaluations: number, options: Partial<ConstructorParameters<typeof BayesOpt>[0]> = {}) {
  const bo = new BayesOpt({ dim: 2, stream: 'fast', ...options }, new Rng(seed));
  const xs: Float64Array[] = [];
  for (let t = 0; t < evaluations; t++) {
    const x = bo.suggest();
    xs.push(x);
    if (bo.lookup(x) === undefined) bo.observe(x, bumps(x));
  }
  return { bo, xs };
}

test('finds the maximum of a smooth 2-D function in 25 evaluations', () => {
  for (const seed of [1, 2, 3]) {
    const { bo } = runBo(seed, 25);
    const best = bo.best()!;
    assert.ok(best.y > 0.97, `seed ${seed}: best ${best.y} at ${Array.from(best.x)}`);
  }
  const ei = runBo(4, 25, { acquisition: 'ei' }).bo.best()!;
  assert.ok(ei.y > 0.97, `EI: best ${ei.y}`);
});

test('deterministic for a seed, different across seeds', () => {
  const a = runBo(11, 6).xs.map((x) => Array.from(x));
  const b = runBo(11, 6).xs.map((x) => Array.from(x));
  const c = runBo(12, 6).xs.map((x) => Array.from(x));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('suggestions stay in the box; the first is uniform in it', () => {
  const bounds: [number, number][] = [
    [2, 3],
    [-10, -9.5],
  ];
  const bo = new BayesOpt({ dim: 2, bounds, samples: 500, stream: 'fast' }, new Rng(5));
  for (let t = 0; t < 6; t++) {
    const x = bo.suggest();
    for (let m = 0; m < 2; m++) assert.ok(x[m] >= bounds[m][0] && x[m] <= bounds[m][1], `${Array.from(x)}`);
    bo.observe(x, -((x[0] - 2.2) ** 2) - (x[1] + 9.9) ** 2);
  }
  assert.throws(() => new BayesOpt({ dim: 2, bounds: [[1, 0], [0, 1]] }, new Rng(1)), /bad bounds/);
});

test('a repeated point is answered from the cache and not registered twice', () => {
  const bo = new BayesOpt({ dim: 2, stream: 'fast' }, new Rng(1));
  assert.equal(bo.observe([0.5, -0.5], 3), true);
  assert.equal(bo.observe([0.5, -0.5], 4), false);
  assert.equal(bo.lookup([0.5, -0.5]), 3);
  assert.equal(bo.lookup([0.5, -0.4]), undefined);
  assert.equal(bo.size, 1);
  assert.throws(() => bo.observe([0, 0], NaN), /finite/);
});

test('the pruned sweep returns what evaluating every point would', () => {
  const dim = 3;
  const rng = new Rng(21);
  const specs: AcquisitionSpec[] = [
    { kind: 'ucb', kappa: 2.576, xi: 0 },
    { kind: 'ei', kappa: 0, xi: 0 },
    { kind: 'ei', kappa: 0, xi: 0.05 },
    { kind: 'ucb', kappa: -1, xi: 0 }, // not monotone in σ: no pruning
  ];
  for (let rep = 0; rep < 6; rep++) {
    const n = 2 + rep * 3;
    const x = Float64Array.from({ length: n * dim }, () => rng.uniform(-1, 1));
    const y = Float64Array.from({ length: n }, (_, i) => Math.sin(3 * x[i * dim]) + x[i * dim + 1] * x[i * dim + 2]);
    const gp = new GaussianProcess(dim);
    gp.fit(x, y, rng);
    const count = 3000;
    const pts = Float64Array.from({ length: count * dim }, () => rng.uniform(-1, 1));
    const mean = new Float64Array(count);
    const std = new Float64Array(count);
    gp.predictBatch(pts, count, mean, std);
    const yMax = Math.max(...y);
    for (const spec of specs) {
      const all = Array.from(mean, (m, p) => acquisitionValue(spec, m, std[p], yMax));
      const order = all.map((v, p) => p).sort((a, b) => all[b] - all[a] || a - b);
      const res = sweepAcquisition(gp, pts, count, spec, yMax, 5);
      assert.equal(res.best, order[0], `${spec.kind} κ=${spec.kappa} n=${n}`);
      assert.equal(res.bestValue, all[order[0]]);
      assert.deepEqual(Array.from(res.top), order.slice(0, 5));
    }
  }
});
