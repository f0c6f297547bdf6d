import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acquisitionValue,
  acquisitionWithPartials,
  erf,
  erfc,
  expectedImprovement,
  normCdf,
  normPdf,
  ucb,
  type AcquisitionSpec,
} from '../../src/gp/acquisition.js';

function rel(actual: number, expected: number, tol: number, msg = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.abs(expected), `${msg} ${actual} vs ${expected}`);
}

test('normal CDF and density against tabulated values, tails included', () => {
  const table: [number, number, number][] = [
    [0.2, 0.579259709439103, 0.3910426939754559],
    [-1.5, 0.06680720126885807, 0.12951759566589174],
    [1, 0.8413447460685429, 0.24197072451914337],
    [-3, 0.0013498980316300933, 0.0044318484119380075],
    [-10, 7.61985302416047e-24, 7.69459862670642e-23],
    [5, 0.9999997133484281, 1.4867195147342979e-6],
  ];
  for (const [z, cdf, pdf] of table) {
    rel(normCdf(z), cdf, 1e-13, `Φ(${z})`);
    rel(normPdf(z), pdf, 1e-14, `φ(${z})`);
  }
  assert.equal(normCdf(0), 0.5);
  assert.equal(normCdf(-40), 0);
  assert.equal(normCdf(40), 1);
});

test('erfc on both sides of the series/continued-fraction switch', () => {
  const table: [number, number][] = [
    [0.5, 0.4795001221869535],
    [2.4, 0.0006885138966450789],
    [2.6, 0.000236034416529349],
    [4, 1.541725790028002e-8],
    [10, 2.0884875837625446e-45],
    [-1, 1.8427007929497148],
  ];
  for (const [x, v] of table) rel(erfc(x), v, 1e-13, `erfc(${x})`);
  rel(erf(0.5), 1 - 0.4795001221869535, 1e-14);
  assert.equal(erf(-0.5), -erf(0.5));
  assert.ok(Number.isNaN(erfc(NaN)));
});

test('UCB = μ + κσ', () => {
  assert.equal(ucb(1.5, 2, 2.576), 1.5 + 2 * 2.576);
  assert.equal(acquisitionValue({ kind: 'ucb', kappa: 2.576, xi: 0 }, 1.5, 2, 99), 1.5 + 2 * 2.576);
});

test('EI against the formula with hand-tabulated Φ and φ', () => {
  // μ = 1, σ = 2, y_max = 0.5, ξ = 0.1 → a = 0.4, z = 0.2; Φ(0.2) = 0.579259709439103,
  // φ(0.2) = 0.3910426939754559 → EI = 0.4·Φ + 2·φ
  const want = 0.4 * 0.579259709439103 + 2 * 0.3910426939754559;
  rel(expectedImprovement(1, 2, 0.5, 0.1), want, 1e-14);
  rel(want, 1.0137892717265529, 1e-14);
  // μ = 0, σ = 1, y_max = 1.5, ξ = 0 → z = −1.5: −1.5·Φ(−1.5) + φ(−1.5)
  rel(expectedImprovement(0, 1, 1.5, 0), -1.5 * 0.06680720126885807 + 0.12951759566589174, 1e-13);
  // σ = 0: the improvement itself, or 0
  assert.equal(expectedImprovement(3, 0, 1, 0.5), 1.5);
  assert.equal(expectedImprovement(1, 0, 3, 0), 0);
  assert.equal(expectedImprovement(1, 0, 1, 0), 0);
});

test('partials w.r.t. μ and σ match finite differences', () => {
  const specs: AcquisitionSpec[] = [
    { kind: 'ucb', kappa: 2.576, xi: 0 },
    { kind: 'ei', kappa: 0, xi: 0 },
    { kind: 'ei', kappa: 0, xi: 0.3 },
  ];
  const out = new Float64Array(3);
  for (const spec of specs) {
    for (const [mu, sd, ymax] of [[1, 0.5, 1.2], [0, 2, -1], [3, 0.1, 3.4]]) {
      acquisitionWithPartials(spec, mu, sd, ymax, out);
      const h = 1e-6;
      const f = (m: number, s: number) => acquisitionValue(spec, m, s, ymax);
      rel(out[0], f(mu, sd), 1e-15, 'value');
      assert.ok(Math.abs(out[1] - (f(mu + h, sd) - f(mu - h, sd)) / (2 * h)) < 1e-7, `${spec.kind} ∂μ`);
      assert.ok(Math.abs(out[2] - (f(mu, sd + h) - f(mu, sd - h)) / (2 * h)) < 1e-7, `${spec.kind} ∂σ`);
    }
  }
});
