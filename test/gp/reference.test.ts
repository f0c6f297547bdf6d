import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BayesOpt, DEFAULT_BO_STREAM } from '../../src/gp/bayesopt.js';
import { sweepAcquisition } from '../../src/gp/sweep.js';
import { acquisitionValue } from '../../src/gp/acquisition.js';
import { GaussianProcess } from '../../src/gp/gp.js';
import { numpySum } from '../../src/numpy/sum.js';
import { lbfgsb } from '../../src/gp/lbfgsb.js';
import { MT19937 } from '../../src/numpy/mt19937.js';
import { Rng } from '../../src/util/rng.js';

// Expected values come from numpy 1.24 / scikit-learn 1.2.1 / bayes_opt 1.2.0 runs.

test("numpySum adds in numpy's pairwise order", () => {
  // Arrays are RandomState(1).random_sample(n)·10 + 46, drawn one after another.
  const g = new MT19937(1);
  const want: [number, number, number][] = [
    // n, np.sum, np.std
    [1, 50.17022004702574, 0],
    [3, 148.22771440891344, 2.9528812669859867],
    [7, 343.2569414664395, 1.5218876043557845],
    [8, 403.82025859303667, 2.8169485676650288],
    [9, 462.6794923771091, 3.558489828916213],
    [15, 773.7290486913099, 3.098947146534477],
    [16, 795.9087711125744, 2.6480505436374893],
    [17, 863.7098691205235, 2.788084159955011],
    [20, 1039.4048693043492, 2.538509568970155],
    [127, 6464.698035480685, 3.183079600682569],
    [128, 6590.773249331851, 2.6809990115903255],
    [129, 6574.576771709782, 3.024684733179297],
    [300, 15297.068877474427, 2.820195572479712],
    [1000, 51073.392550530465, 2.9184805108348835],
  ];
  for (const [n, sum, std] of want) {
    const a = Float64Array.from({ length: n }, () => g.randomSample() * 10 + 46);
    assert.equal(numpySum(a, 0, n), sum, `sum of ${n}`);
    // np.std, via the GP's target standardisation.
    if (n > 1) {
      const gp = new GaussianProcess(1, { reference: true, optimise: false });
      gp.fit(new Float64Array(n).map((_, i) => i), a);
      assert.equal(gp.yStd, std, `std of ${n}`);
      assert.equal(gp.yMean, sum / n);
    }
  }
});

test('reference GP: a tiny but non-zero std is kept, as sklearn does for a 1-D target', () => {
  const gp = new GaussianProcess(1, { reference: true, optimise: false });
  gp.fit([0, 1, 2], [46.33, 46.33, 46.33]);
  assert.equal(gp.yMean, 46.330000000000005);
  assert.equal(gp.yStd, 7.105427357601002e-15);
  gp.fit([0, 1], [46.33, 46.33]);
  assert.equal(gp.yStd, 1);
});

// The GP fits of bayes_opt's RoBoT run on NAS-Bench-201 ImageNet16-120, seed 15, with 2 and 3
// observations (parameters in sorted-name order).
const X15 = [
  [0.6976353945371574, -0.642208150158003, -0.8912735713871371, -0.2769231078235541, -0.44919814278717607, 0.06000044979085062],
  [-1.0, 1.0, 1.0, 1.0, 1.0, -1.0],
  [-0.8662335165661428, 0.39355914127620695, -0.1517195914263001, -0.39298660843212563, 0.12545919338615374, 0.3859315091917257],
];
const Y15 = [48.98999999145508, 47.18799999816895, 48.36199999511719];
const LOG_BOUNDS = [Math.log(1e-5), Math.log(1e5)];

function traced(n: number) {
  // bayes_opt's own RandomState(15) has made one suggestion per earlier step: 5 restarts,
  // 10,000 × 6 sweep draws and 10 × 6 local starts each.
  const rng = new Rng(15, 'numpy');
  for (let i = 0; i < 60065 * (n - 1); i++) rng.next();
  const draws: number[] = [];
  const spy = {
    uniform: (a: number, b: number) => {
      const v = rng.uniform(a, b);
      draws.push(v);
      return v;
    },
  } as unknown as Rng;
  const gp = new GaussianProcess(6, { reference: true });
  gp.fit(X15.slice(0, n).flat(), Y15.slice(0, n), spy);
  const g = new Float64Array(1);
  const negLml = (t: Float64Array, grad: Float64Array) => {
    const v = gp.logMarginalLikelihood(t[0], g);
    grad[0] = -g[0];
    return -v;
  };
  return { gp, draws, fromZero: lbfgsb(negLml, [0], [LOG_BOUNDS[0]], [LOG_BOUNDS[1]]) };
}

test('reference GP fit lands where sklearn does, flat likelihood included', () => {
  // Two points: the likelihood is nearly flat; sklearn's start at 0 stops at log ℓ = −0.8414 but
  // three restarts run to the lower bound, whose likelihood is higher (by 5e-7), so ℓ = 1e-5.
  const two = traced(2);
  assert.deepEqual(two.draws, [8.342476817174047, 4.678163045066947, -3.361750077547528, 9.584689672566027, 0.7623112932819947]);
  assert.ok(Math.abs(two.gp.lengthScale - 1e-5) < 1e-18, `${two.gp.lengthScale}`);
  assert.ok(Math.abs(two.gp.logMarginalLikelihood(Math.log(two.gp.lengthScale)) + 2.8378770664098454) < 1e-13);
  assert.ok(Math.abs(two.fromZero.x[0] + 0.8414310582991371) < 1e-12, `${two.fromZero.x[0]}`);
  assert.ok(Math.abs(two.fromZero.f - 2.837877606888176) < 1e-13);
  assert.equal(two.gp.yStd, 0.9009999966430655);
  // Three points: the best of six starts is the restart from 0.945 (log ℓ = −0.015655825918239732).
  const three = traced(3);
  assert.deepEqual(three.draws, [7.1851757747747005, 4.704889187956921, 0.9452518438716204, 1.817072240627141, 10.235150618854577]);
  assert.ok(Math.abs(Math.log(three.gp.lengthScale) + 0.015655825918239732) < 1e-12, `${Math.log(three.gp.lengthScale)}`);
  assert.ok(Math.abs(three.gp.logMarginalLikelihood(Math.log(three.gp.lengthScale)) + 4.25006436655456) < 1e-12);
  assert.ok(Math.abs(three.fromZero.x[0] + 0.015644451699982635) < 1e-12);
});

// bayes_opt 1.2.0: BayesianOptimization(f=bumps, pbounds={'b': (-1, 1), 'a': (-1, 1)},
// random_state=seed).maximize(init_points=0, n_iter=9); registered points as [a, b].
const BUMPS_REFERENCE: Record<number, number[][]> = {
  1: [
    [-0.165955991, 0.440648987],
    [1.0, -1.0],
    [-0.171445064, 0.436080221],
    [-0.90159475, 0.123403382],
    [-0.00600915969, 0.0381676099],
    [0.119441788, -0.185799529],
    [-0.0615934664, -0.612918876],
    [0.445960715, -0.128096759],
    [1.0, 0.280018345],
    [0.418575948, -0.415349875],
  ],
  2: [
    [-0.128010196, -0.948147536],
    [1.0, 1.0],
    [-0.999182163, 0.575409598],
    [0.138451737, 0.186754222],
    [-0.0923914031, -0.229200767],
    [0.36602712, -0.212632776],
    [0.404201403, -0.617149555],
    [0.717801294, -0.121612357],
    [0.20081447, -0.314738276],
    [0.500636711, -0.163998698],
  ],
};

const bumps = (a: number, b: number): number =>
  Math.exp(-((a - 0.3) ** 2 + (b + 0.2) ** 2) / 0.3) + 0.6 * Math.exp(-((a + 0.6) ** 2 + (b - 0.6) ** 2) / 0.05);

test("reference stream retraces bayes_opt's suggestions", () => {
  for (const seed of [1, 2]) {
    const bo = new BayesOpt({ dim: 2, stream: 'reference' }, new Rng(seed, 'numpy'), new Rng(seed, 'numpy'));
    const want = BUMPS_REFERENCE[seed];
    for (let t = 0; t < want.length; t++) {
      const x = bo.suggest();
      assert.equal(bo.lookup(x), undefined);
      for (let m = 0; m < 2; m++) assert.ok(Math.abs(x[m] - want[t][m]) < 1e-5, `seed ${seed} step ${t + 1}: ${Array.from(x)} vs ${want[t]}`);
      bo.observe(x, bumps(x[0], x[1]));
    }
  }
});

test('reference stream: the first point comes from spaceRng, everything else from rng', () => {
  const a = new BayesOpt({ dim: 3, stream: 'reference', samples: 50 }, new Rng(7, 'numpy'), new Rng(8, 'numpy'));
  const first = a.suggest();
  const g = new MT19937(8);
  assert.deepEqual(Array.from(first), [0, 1, 2].map(() => g.uniform(-1, 1)));
  a.observe(first, 1);
  // With one observation the likelihood is flat: the fit keeps ℓ = 1 and draws its 5 restarts.
  const b = new BayesOpt({ dim: 3, stream: 'reference', samples: 50 }, new Rng(7, 'numpy'), new Rng(8, 'numpy'));
  b.observe(first, 1);
  assert.deepEqual(Array.from(a.suggest()), Array.from(b.suggest()));
  assert.equal(a.stream, 'reference');
  // one default for BayesOpt and RoBoT: the reference stream
  assert.equal(new BayesOpt({ dim: 1 }, new Rng(1)).stream, DEFAULT_BO_STREAM);
  assert.equal(DEFAULT_BO_STREAM, 'reference');
});

test('reference GP: sweep, batch and single-point posteriors agree bit for bit', () => {
  const rng = new Rng(3, 'numpy');
  const dim = 4;
  const n = 9;
  const x = Float64Array.from({ length: n * dim }, () => rng.uniform(-1, 1));
  const y = Float64Array.from({ length: n }, (_, i) => 50 + 20 * Math.sin(3 * x[i * dim]) + x[i * dim + 1]);
  const gp = new GaussianProcess(dim, { reference: true });
  gp.fit(x, y, rng);
  const count = 2000;
  const pts = Float64Array.from({ length: count * dim }, () => rng.uniform(-1, 1));
  const mean = new Float64Array(count);
  const std = new Float64Array(count);
  gp.predictBatch(pts, count, mean, std);
  const spec = { kind: 'ucb' as const, kappa: 2.576, xi: 0 };
  const all = Array.from(mean, (m, p) => acquisitionValue(spec, m, std[p], 0));
  let best = 0;
  for (let p = 1; p < count; p++) if (all[p] > all[best]) best = p;
  const res = sweepAcquisition(gp, pts, count, spec, 0, 1);
  assert.equal(res.best, best);
  assert.equal(res.bestValue, all[best]);
  const out = new Float64Array(2);
  for (const p of [0, best, count - 1]) {
    gp.predictInto(pts.subarray(p * dim, (p + 1) * dim), out);
    assert.deepEqual([out[0], out[1]], [mean[p], std[p]]);
  }
});
