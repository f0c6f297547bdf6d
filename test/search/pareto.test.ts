import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { paretoFront, type TradeOff } from '../../src/search/pareto.js';

const dominates = (a: TradeOff, b: TradeOff): boolean => a.value >= b.value && a.cost <= b.cost && (a.value > b.value || a.cost < b.cost);

test('pareto front of a small case, by increasing cost', () => {
  const pts = [
    { value: 90, cost: 50 },
    { value: 85, cost: 10 },
    { value: 80, cost: 20 }, // dominated by 85 @ 10
    { value: 95, cost: 100 },
    { value: 95, cost: 120 }, // dominated by 95 @ 100
    { value: 85, cost: 10 }, // duplicate: the first is kept
  ];
  assert.deepEqual(paretoFront(pts), [1, 0, 3]);
});

test('property: no front point is dominated, every other point is dominated or duplicates a front point', () => {
  const point = fc.record({ value: fc.integer({ min: 0, max: 20 }), cost: fc.integer({ min: 1, max: 20 }) });
  fc.assert(
    fc.property(fc.array(point, { maxLength: 40 }), (pts) => {
      const front = paretoFront(pts);
      const on = new Set(front);
      for (const i of front) for (const p of pts) assert.ok(!dominates(p, pts[i]));
      for (let i = 0; i < pts.length; i++) {
        if (on.has(i)) continue;
        assert.ok(front.some((j) => dominates(pts[j], pts[i]) || (pts[j].value === pts[i].value && pts[j].cost === pts[i].cost)));
      }
      for (let k = 1; k < front.length; k++) assert.ok(pts[front[k]].cost > pts[front[k - 1]].cost && pts[front[k]].value > pts[front[k - 1]].value);
    }),
  );
});
