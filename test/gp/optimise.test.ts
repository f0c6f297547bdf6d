import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minimiseBounded, type FunctionWithGradient } from '../../src/gp/optimise.js';

const rosenbrock: FunctionWithGradient = (x, g) => {
  const a = 1 - x[0];
  const b = x[1] - x[0] * x[0];
  g[0] = -2 * a - 400 * x[0] * b;
  g[1] = 200 * b;
  return a * a + 100 * b * b;
};

test('interior minimum: Rosenbrock', () => {
  const r = minimiseBounded(rosenbrock, [-1.2, 1], [-2, -2], [2, 2], { relTol: 0 });
  assert.ok(r.converged);
  assert.ok(Math.abs(r.x[0] - 1) < 1e-4 && Math.abs(r.x[1] - 1) < 1e-4, `${r.x}`);
  assert.ok(r.f < 1e-8);
});

test('minimum on the boundary satisfies the bound KKT conditions', () => {
  // Unconstrained minimum (3, −0.5) lies outside [0, 1]²: the answer is the corner (1, 0).
  const f: FunctionWithGradient = (x, g) => {
    g[0] = 2 * (x[0] - 3) + 0.5 * x[1];
    g[1] = 2 * (x[1] + 0.5) + 0.5 * x[0];
    return (x[0] - 3) ** 2 + (x[1] + 0.5) ** 2 + 0.5 * x[0] * x[1];
  };
  const r = minimiseBounded(f, [0.2, 0.7], [0, 0], [1, 1]);
  assert.deepEqual(Array.from(r.x), [1, 0]);
  assert.ok(r.converged);
  assert.ok(r.iterations < 10);
});

test('one variable, mixed: one coordinate at a bound, one interior', () => {
  const f: FunctionWithGradient = (x, g) => {
    g[0] = 2 * (x[0] - 0.3);
    g[1] = -1;
    return (x[0] - 0.3) ** 2 - x[1];
  };
  const r = minimiseBounded(f, [-1, -1], [-1, -1], [1, 1]);
  assert.ok(Math.abs(r.x[0] - 0.3) < 1e-6);
  assert.equal(r.x[1], 1);
  const one = minimiseBounded((x, g) => ((g[0] = Math.cos(x[0])), Math.sin(x[0])), [0], [-3], [3]);
  assert.ok(Math.abs(one.x[0] + Math.PI / 2) < 1e-5);
});

test('never steps into an infeasible region and keeps the start if it is infeasible', () => {
  // f is +∞ for x > 0.5; its smooth part would want x = 2.
  const f: FunctionWithGradient = (x, g) => {
    g[0] = 2 * (x[0] - 2);
    return x[0] > 0.5 ? Infinity : (x[0] - 2) ** 2;
  };
  const r = minimiseBounded(f, [0], [-5], [5]);
  assert.ok(r.x[0] <= 0.5 && r.x[0] > 0.4, `${r.x[0]}`);
  assert.ok(Number.isFinite(r.f));
  const bad = minimiseBounded(f, [1], [-5], [5]);
  assert.equal(bad.converged, false);
  assert.equal(bad.x[0], 1);
});

test('start outside the box is clipped in', () => {
  const r = minimiseBounded((x, g) => ((g[0] = 1), x[0]), [7], [-1], [1]);
  assert.equal(r.x[0], -1);
});
