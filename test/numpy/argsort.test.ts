import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numpyArgsort, topAsNumpy } from '../../src/numpy/argsort.js';
import { MT19937 } from '../../src/numpy/mt19937.js';

// Expected values were produced with numpy 1.24.

test("numpyArgsort reproduces numpy 1.24's argsort, ties and NaN included", () => {
  assert.deepEqual(
    Array.from(numpyArgsort(new Float64Array(30))),
    [0, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 28, 29],
  );
  const checksum = (a: Int32Array) => a.reduce((s, v, i) => (s + v * i) % 1000003, 0);
  // RandomState(5).randint(0, 3, size=2000): heavy ties.
  const g = new MT19937(5);
  const v = Float64Array.from({ length: 2000 }, () => g.randint(3));
  const q = numpyArgsort(v);
  assert.deepEqual(Array.from(q.slice(0, 8)), [1999, 1370, 582, 583, 587, 1362, 590, 1360]);
  assert.deepEqual(Array.from(q.slice(-8)), [1391, 1392, 553, 552, 1395, 551, 563, 0]);
  assert.equal(checksum(q), 748115);
  const h = numpyArgsort(v, 'heapsort');
  assert.deepEqual(Array.from(h.slice(-8)), [515, 257, 513, 127, 63, 1998, 3, 0]);
  assert.equal(checksum(h), 386628);
  // RandomState(6).random_sample(300) with v[::7] = nan, v[5::11] = 0.5.
  const r = new MT19937(6);
  const w = Float64Array.from({ length: 300 }, () => r.randomSample());
  for (let i = 0; i < 300; i += 7) w[i] = NaN;
  for (let i = 5; i < 300; i += 11) w[i] = 0.5;
  const s = numpyArgsort(w);
  assert.deepEqual(Array.from(s.slice(0, 5)), [249, 129, 118, 186, 183]);
  assert.deepEqual(Array.from(s.slice(-50, -40)), [195, 157, 36, 212, 162, 142, 61, 145, 43, 15]);
  assert.equal(checksum(s), 653113);
  assert.equal(topAsNumpy(w), s[299]);
  assert.equal(topAsNumpy(Float64Array.from([1, 5, 2, 5, 3])), numpyArgsort([1, 5, 2, 5, 3])[4]);
  assert.equal(topAsNumpy(Float64Array.from([1, 7, 2, 5, 3])), 1);
});
