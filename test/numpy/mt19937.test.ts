import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MT19937 } from '../../src/numpy/mt19937.js';
import { Rng } from '../../src/util/rng.js';

// Expected values were produced with numpy 1.24's legacy numpy.random.RandomState.

test('raw outputs and doubles match numpy RandomState', () => {
  const a = new MT19937(5489);
  assert.deepEqual(
    Array.from({ length: 5 }, () => a.nextUint32()),
    [3499211612, 581869302, 3890346734, 3586334585, 545404204],
  );
  const b = new MT19937(15);
  assert.deepEqual(
    Array.from({ length: 4 }, () => b.randomSample()),
    [0.8488176972685787, 0.17889592492099848, 0.05436321430643143, 0.36153844608822294],
  );
  const c = new MT19937(0);
  assert.deepEqual(Array.from({ length: 3 }, () => c.randomSample()), [0.5488135039273248, 0.7151893663724195, 0.6027633760716439]);
  const d = new MT19937(4294967295);
  assert.deepEqual([d.randomSample(), d.randomSample()], [0.0976320289940138, 0.9123828453026218]);
  // Past the first twist.
  const e = new MT19937(123);
  for (let i = 0; i < 1000; i++) e.randomSample();
  assert.equal(e.randomSample(), 0.08189443905104887);
  assert.throws(() => new MT19937(-1), RangeError);
  assert.throws(() => new MT19937(2 ** 32), RangeError);
});

test('uniform in C order, as uniform(low_array, high_array, size=(3, 2))', () => {
  const g = new MT19937(10);
  const lo = [-1, 0];
  const hi = [1, 5];
  const got: number[][] = [];
  for (let r = 0; r < 3; r++) got.push([0, 1].map((m) => g.uniform(lo[m], hi[m])));
  assert.deepEqual(got, [
    [0.542641286533492, 0.1037597467970075],
    [0.26729646985255084, 3.744019412693059],
    [-0.0029859753948191514, 1.1239832276542383],
  ]);
  assert.equal(g.uniform(Math.log(1e-5), Math.log(1e5)), -6.952359466258169);
  assert.equal(g.uniform(-1, 1), 0.5210614243979175);
});

test('randint: masked rejection, 64-bit bounds, and no draw for n = 1', () => {
  const g = new MT19937(3);
  const ns = [1, 2, 10, 1000, 9445, 2 ** 31, 2 ** 32, 2 ** 32 + 5, 2 ** 40 + 3, 7];
  assert.deepEqual(
    ns.map((n) => g.randint(n)),
    [0, 0, 8, 249, 9160, 46504192, 2445173525, 80522091, 593770158997, 6],
  );
  const h = new MT19937(3);
  h.randint(1);
  assert.equal(h.randomSample(), 0.5507979025745755);
});

test('standard normal: polar method with the cached second value', () => {
  const g = new MT19937(7);
  const got = Array.from({ length: 5 }, () => g.standardNormal());
  const want = [1.690525703800356, -0.4659373705408328, 0.0328201636785844, 0.40751628299650783, -0.7889230286257386];
  // Math.log may differ from C's log in the last bit.
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(got[i] - want[i]) <= 4e-16 * Math.abs(want[i]), `${got[i]} vs ${want[i]}`);
  const m = new MT19937(7);
  const seq = [m.standardNormal(), m.randomSample(), m.standardNormal(), m.standardNormal()];
  const wantSeq = [1.690525703800356, 0.9779895119966027, -0.4659373705408328, 0.09316606097975175];
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(seq[i] - wantSeq[i]) <= 4e-16 * Math.abs(wantSeq[i]), `${i}: ${seq[i]}`);
});

test("Rng(seed, 'numpy') draws as RandomState(seed); the default stream is unchanged", () => {
  const r = new Rng(15, 'numpy');
  assert.equal(r.kind, 'numpy');
  assert.equal(r.next(), 0.8488176972685787);
  assert.equal(r.uniform(-1, 1), 2 * 0.17889592492099848 - 1);
  const s = new Rng(3, 'numpy');
  assert.deepEqual([1, 2, 10, 1000, 9445].map((n) => s.int(n)), [0, 0, 8, 249, 9160]);
  // Fisher–Yates from the top with masked draws is exactly numpy's legacy shuffle.
  assert.deepEqual(new Rng(123, 'numpy').shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), [4, 0, 7, 5, 8, 3, 1, 6, 9, 2]);
  const x1 = new Rng(42);
  const x2 = new Rng(42, 'xoroshiro');
  assert.equal(x1.kind, 'xoroshiro');
  for (let i = 0; i < 5; i++) assert.equal(x1.next(), x2.next());
  assert.notEqual(new Rng(15).next(), 0.8488176972685787);
});
