import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDataset } from '../../src/data/index.js';

test('MNIST from the mnist package: 1×28×28, 7,996 train / 2,004 test digits, normalised mean near 0', () => {
  const train = loadDataset('mnist');
  const testSet = loadDataset('mnist', { split: 'test' });
  assert.equal(train.name, 'mnist');
  assert.deepEqual([train.count, train.channels, train.height, train.width, train.classes], [7996, 1, 28, 28, 10]);
  assert.equal(testSet.count, 2004);
  assert.equal(train.images.length, 7996 * 784);
  assert.deepEqual(train.mean, [0.1307]);
  assert.deepEqual(train.std, [0.3081]);
  for (const ds of [train, testSet]) {
    const perClass = new Array<number>(10).fill(0);
    for (const l of ds.labels) {
      assert.ok(Number.isInteger(l) && l >= 0 && l <= 9);
      perClass[l]!++;
    }
    assert.ok(perClass.every((n) => n > 100), `every digit present: ${perClass.join(',')}`);
    let s = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const v of ds.images) {
      s += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    assert.ok(Math.abs(s / ds.images.length) < 0.1, `mean ${s / ds.images.length}`);
    assert.ok(Math.abs(min - -0.1307 / 0.3081) < 1e-5 && Math.abs(max - 0.8693 / 0.3081) < 1e-5, `range ${min}..${max}`);
  }
  // real digits: on average ink in the middle, none in the corners
  let centre = 0;
  let corner = 0;
  for (let i = 0; i < train.count; i++) {
    centre += train.images[i * 784 + 14 * 28 + 14]!;
    corner += train.images[i * 784]!;
  }
  assert.ok(Math.abs(corner / train.count + 0.1307 / 0.3081) < 1e-4, `corner ${corner / train.count}`);
  assert.ok(centre / train.count > 0.5, `centre ${centre / train.count}`);
});

test('MNIST: class-balanced limit, deterministic, resize', () => {
  const a = loadDataset('mnist', { limit: 25 });
  const b = loadDataset('mnist', { limit: 25 });
  assert.deepEqual([...a.labels], [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
  assert.deepEqual(a.images, b.images);
  const full = loadDataset('mnist', { split: 'test', limit: 10 });
  assert.deepEqual([...full.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const big = loadDataset('mnist', { limit: 2, size: 32 });
  assert.deepEqual([big.channels, big.height, big.width], [1, 32, 32]);
});
