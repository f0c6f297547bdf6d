import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchOf, loadDataset, splitDataset, subset, type DatasetName, type ImageDataset } from '../../src/data/index.js';
import { SHARED_DATA } from '../helpers/shared.js';
import { throwsInput } from './util.js';

/** n images of 1×2×2 whose pixels are the image index; labels from `labels`. */
function toy(labels: number[], classes: number): ImageDataset {
  const n = labels.length;
  return {
    name: 'toy',
    images: Float32Array.from({ length: n * 4 }, (_, k) => Math.floor(k / 4)),
    labels: Int32Array.from(labels),
    count: n,
    channels: 1,
    height: 2,
    width: 2,
    classes,
    mean: [0.5],
    std: [0.25],
    sources: ['toy'],
  };
}

function classCounts(ds: ImageDataset): number[] {
  const c = new Array<number>(ds.classes).fill(0);
  for (const l of ds.labels) c[l]!++;
  return c;
}

test('splitDataset: stratified by default, exact counts, seeded, disjoint, original order', () => {
  const ds = loadDataset('cifar10-1k', { data: SHARED_DATA });
  const a = splitDataset(ds, { trainFraction: 0.8, seed: 3 });
  assert.equal(a.train.count, 800);
  assert.equal(a.valid.count, 200);
  assert.deepEqual(classCounts(a.train), new Array(10).fill(80));
  assert.deepEqual(classCounts(a.valid), new Array(10).fill(20));
  const all = [...a.trainIndices, ...a.validIndices].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 1000 }, (_, i) => i));
  assert.ok(a.trainIndices.every((v, k) => k === 0 || v > a.trainIndices[k - 1]!));
  const per = 3 * 32 * 32;
  const i = a.validIndices[7]!;
  assert.deepEqual(a.valid.images.subarray(7 * per, 8 * per), ds.images.subarray(i * per, (i + 1) * per));
  assert.equal(a.valid.labels[7], ds.labels[i]);
  assert.deepEqual([a.train.mean, a.train.std, a.train.name], [ds.mean, ds.std, ds.name]);

  assert.deepEqual(splitDataset(ds, { trainFraction: 0.8, seed: 3 }).trainIndices, a.trainIndices, 'same seed, same split');
  assert.notDeepEqual(splitDataset(ds, { trainFraction: 0.8, seed: 4 }).trainIndices, a.trainIndices);

  // uneven classes: quotas by largest remainder add up to trainCount exactly
  const u = toy([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2], 3);
  const s = splitDataset(u, { trainCount: 5, seed: 1 });
  assert.equal(s.train.count, 5);
  assert.deepEqual(classCounts(s.train), [3, 1, 1]);
  assert.deepEqual(Array.from(s.train.images.filter((_, k) => k % 4 === 0)), s.trainIndices);
});

test('splitDataset plain: random split of the requested size; option errors', () => {
  const u = toy([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2], 3);
  const p = splitDataset(u, { trainCount: 4, seed: 9, stratified: false });
  assert.equal(p.train.count, 4);
  assert.equal(p.valid.count, 7);
  assert.deepEqual(splitDataset(u, { trainCount: 4, seed: 9, stratified: false }).trainIndices, p.trainIndices);
  assert.equal(splitDataset(u, { trainFraction: 0, seed: 1 }).train.count, 0);
  assert.equal(splitDataset(u, { trainFraction: 1, seed: 1 }).valid.count, 0);
  throwsInput(() => splitDataset(u, { seed: 1 }), /exactly one of trainFraction and trainCount/);
  throwsInput(() => splitDataset(u, { trainFraction: 0.5, trainCount: 3, seed: 1 }), /exactly one/);
  throwsInput(() => splitDataset(u, { trainFraction: 1.5, seed: 1 }), /trainFraction must be in 0\.\.1/);
  throwsInput(() => splitDataset(u, { trainCount: 12, seed: 1 }), /trainCount must be an integer in 0\.\.11/);
  throwsInput(() => splitDataset(u, { trainCount: 2, seed: 0.5 }), /seed must be an integer/);
});

test('batchOf and subset copy the given images in order', () => {
  const u = toy([0, 1, 2, 0, 1], 3);
  const b = batchOf(u, [4, 0, 4]);
  assert.deepEqual([...b.images], [4, 4, 4, 4, 0, 0, 0, 0, 4, 4, 4, 4]);
  assert.deepEqual([...b.labels], [1, 0, 1]);
  const s = subset(u, [2]);
  assert.equal(s.count, 1);
  assert.deepEqual([...s.images], [2, 2, 2, 2]);
  assert.deepEqual([...batchOf(u, []).images], []);
  assert.throws(() => batchOf(u, [5]), RangeError);
  assert.throws(() => batchOf(u, [1.5]), RangeError);
});

test('loadDataset: unknown name and bad options are InputErrors', () => {
  throwsInput(() => loadDataset('svhn' as DatasetName), /unknown dataset 'svhn'; expected one of cifar10, cifar100, cifar10-1k/);
  throwsInput(() => loadDataset('mnist', { limit: 0 }), /limit must be a positive integer, got 0/);
  throwsInput(() => loadDataset('mnist', { limit: 2.5 }), /limit must be a positive integer/);
  throwsInput(() => loadDataset('mnist', { size: -1 }), /size must be an integer in 1\.\.4096/);
  throwsInput(() => loadDataset('mnist', { split: 'valid' as 'test' }), /split must be 'train' or 'test'/);
  throwsInput(() => loadDataset('mnist', { limit: 1, mean: [0.5] }), /give both mean and std/);
  throwsInput(() => loadDataset('cifar10-1k', { limit: 1, mean: [0.5], std: [0.5] }), /mean and std need 3 value\(s\) each/);
  throwsInput(() => loadDataset('mnist', { limit: 1, mean: [0.5], std: [0] }), /std positive/);
});
