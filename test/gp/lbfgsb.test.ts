import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardDifferences, lbfgsb } from '../../src/gp/lbfgsb.js';
import type { FunctionWithGradient } from '../../src/gp/optimise.js';

// Expected iterates, counts and messages are scipy 1.10's minimize(method='L-BFGS-B') on the
// same problems (nfev there counts the finite-difference evaluations too).

const rosen: FunctionWithGradient = (x, g) => {
  const n = x.length;
  let f = 0;
  g.fill(0);
  for (let i = 0; i < n - 1; i++) {
    const a = x[i + 1] - x[i] * x[i];
    f += 100 * a * a + (1 - x[i]) ** 2;
    g[i] += -400 * x[i] * a - 2 * (1 - x[i]);
    g[i + 1] += 200 * a;
  }
  return f;
};

const bumpy = (x: Float64Array): number => {
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (const v of x) {
    s1 += (v - 0.3) ** 2;
    s2 += (v + 0.5) ** 2;
    s3 += v * v;
  }
  return -Math.exp(-s1 / 0.2) - 0.5 * Math.exp(-s2 / 0.1) + 0.05 * s3;
};

/** A 1-D objective that is almost flat, like a GP likelihood in the length scale. */
const flat: FunctionWithGradient = (x, g) => {
  const t = x[0];
  g[0] = (3e-3 * Math.exp(-3 * t)) / (1 + Math.exp(-3 * t)) + 1e-6 * Math.cos(t);
  return -Math.log1p(Math.exp(-3 * t)) * 1e-3 + 1e-6 * Math.sin(t);
};

interface Case {
  f: 'rosen' | 'bumpy' | 'flat';
  x0: number[];
  lo: number;
  hi: number;
  x: number[];
  fun: number;
  nit: number;
  nfev: number;
}

const CASES: Case[] = [
  { f: 'rosen', x0: [-1.2, 1], lo: -2, hi: 2, x: [0.9999999864904842, 0.9999999685712817], fun: 2.1270408190507256e-15, nit: 33, nfev: 46 },
  { f: 'rosen', x0: [0.5, -0.3, 1.5, 0.2], lo: -2, hi: 2, x: [1.0000000046966864, 1.0000000096871744, 1.0000000197137655, 1.0000000398187274], fun: 5.399885011811535e-16, nit: 36, nfev: 42 },
  { f: 'rosen', x0: [-1.2, 1], lo: -2, hi: 0.5, x: [0.5, 0.24999999999999997], fun: 0.25, nit: 3, nfev: 4 },
  { f: 'rosen', x0: [1.9, -1.9, 0.1], lo: -1.5, hi: 1.5, x: [1.0000000285512312, 1.0000000566955922, 1.0000001084467174], fun: 6.490895900294346e-15, nit: 49, nfev: 63 },
  { f: 'bumpy', x0: [0.9, -0.9, 0.2], lo: -1, hi: 1, x: [0.29702954956502964, 0.2970293458639781, 0.2970285498818319], fun: -0.9866336747663754, nit: 8, nfev: 60 },
  { f: 'bumpy', x0: [-0.2, -0.7, -0.4], lo: -1, hi: 1, x: [-0.4949856586277473, -0.4949856596391053, -0.4949856593849713], fun: -0.46294772900170367, nit: 5, nfev: 44 },
  { f: 'bumpy', x0: [1, 1, -1], lo: -1, hi: 1, x: [0.2970284970231777, 0.2970284970231777, 0.2970289996983969], fun: -0.9866336747624377, nit: 9, nfev: 68 },
  { f: 'flat', x0: [3], lo: -11.5, hi: 11.5, x: [3], fun: 1.771781833660838e-8, nit: 0, nfev: 1 },
  { f: 'flat', x0: [0.5], lo: -11.5, hi: 11.5, x: [-11.5], fun: -0.03449912454782531, nit: 2, nfev: 11 },
  { f: 'flat', x0: [-2], lo: -11.5, hi: 11.5, x: [-11.5], fun: -0.03449912454782531, nit: 2, nfev: 9 },
];

test("follows scipy's L-BFGS-B iteration for iteration", () => {
  for (const c of CASES) {
    const n = c.x0.length;
    const lo = new Array<number>(n).fill(c.lo);
    const hi = new Array<number>(n).fill(c.hi);
    const fn = c.f === 'rosen' ? rosen : c.f === 'flat' ? flat : forwardDifferences(bumpy, lo, hi);
    const r = lbfgsb(fn, c.x0, lo, hi);
    const label = `${c.f} from ${c.x0}`;
    assert.equal(r.success, true, label);
    assert.equal(r.iterations, c.nit, label);
    assert.equal(c.f === 'bumpy' ? r.evaluations * (n + 1) : r.evaluations, c.nfev, label);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(r.x[i] - c.x[i]) < 1e-8, `${label}: x ${Array.from(r.x)}`);
    assert.ok(Math.abs(r.f - c.fun) < 1e-12, `${label}: f ${r.f}`);
  }
});

test('a wrong gradient ends in an abnormal line search, as in scipy', () => {
  const biased: FunctionWithGradient = (x, g) => {
    g[0] = 2 * (x[0] - 0.3) + 0.5;
    return (x[0] - 0.3) ** 2;
  };
  const bad = lbfgsb(biased, [0.8], [-1], [1]);
  assert.equal(bad.success, false);
  assert.equal(bad.message, 'ABNORMAL_TERMINATION_IN_LNSRCH');
  assert.equal(bad.iterations, 2);
  assert.equal(bad.evaluations, 45);
  assert.ok(Math.abs(bad.x[0] - 0.2963203435596426) < 1e-12);
  const ok = lbfgsb(biased, [-0.5], [-1], [1]);
  assert.equal(ok.success, true);
  assert.equal(ok.iterations, 1);
  assert.equal(ok.evaluations, 3);
  assert.ok(Math.abs(ok.x[0] - 0.05) < 1e-12);
  assert.throws(() => lbfgsb(biased, [0], [-Infinity], [1]), /finite/);
});

test('forward differences step backward at an upper bound', () => {
  const seen: number[][] = [];
  const fg = forwardDifferences((x) => (seen.push(Array.from(x)), x[0] * x[0] + 3 * x[1]), [-1, -1], [1, 1]);
  const g = new Float64Array(2);
  fg(Float64Array.from([1, 0.5]), g);
  assert.ok(seen[1][0] < 1 && seen[1][0] > 1 - 2e-8, 'backward step at the upper bound');
  assert.ok(seen[2][1] > 0.5, 'forward step inside');
  assert.ok(Math.abs(g[0] - 2) < 1e-6 && Math.abs(g[1] - 3) < 1e-6);
});
