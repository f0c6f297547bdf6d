import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../src/data/index.js';
import { SHARED_DATA } from '../helpers/shared.js';
import { near, re, tempDir, throwsInput } from './util.js';

const MEAN = [0.4914, 0.4822, 0.4465];
const STD = [0.247, 0.2435, 0.2616];
const IMAGES = 'images_1000x32x32x3_uint8.bin';
const LABELS = 'labels_1000_uint8.bin';

test('shared cifar10-1k subset: 1,000 images, 100 per class in label order, NHWC → NCHW', () => {
  const ds = loadDataset('cifar10-1k', { data: SHARED_DATA });
  assert.equal(ds.name, 'cifar10-1k');
  assert.deepEqual([ds.count, ds.channels, ds.height, ds.width, ds.classes], [1000, 3, 32, 32, 10]);
  const perClass = new Array<number>(10).fill(0);
  ds.labels.forEach((l, i) => {
    perClass[l]!++;
    assert.equal(l, Math.floor(i / 100), `label order at ${i}`);
  });
  assert.deepEqual(perClass, new Array(10).fill(100));
  assert.deepEqual(ds.mean, MEAN);
  assert.deepEqual(ds.std, STD);
  assert.equal(ds.classNames?.[0], 'airplane');

  // spot-check pixels against the raw NHWC bytes
  const raw = readFileSync(join(SHARED_DATA, 'cifar10', IMAGES));
  for (const [i, c, y, x] of [[0, 0, 0, 0], [0, 2, 31, 31], [437, 1, 12, 20], [999, 0, 5, 29], [500, 2, 16, 16]] as const) {
    const byte = raw[((i * 32 + y) * 32 + x) * 3 + c]!;
    near(ds.images[((i * 3 + c) * 32 + y) * 32 + x]!, (byte / 255 - MEAN[c]!) / STD[c]!, 1e-5, `image ${i} (${c},${y},${x})`);
  }
  // real photos: each channel's normalised mean is near 0 (|·| well below one std)
  for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let i = 0; i < 1000; i++) for (let p = 0; p < 1024; p++) s += ds.images[(i * 3 + c) * 1024 + p]!;
    assert.ok(Math.abs(s / (1000 * 1024)) < 0.2, `channel ${c} mean ${s / (1000 * 1024)}`);
  }
});

test('cifar10-1k: default data folder, the cifar10 folder itself, class-balanced limit, size', () => {
  const viaDefault = loadDataset('cifar10-1k', { limit: 3 });
  assert.equal(viaDefault.count, 3);
  const viaFolder = loadDataset('cifar10-1k', { data: join(SHARED_DATA, 'cifar10'), split: 'test', limit: 20 });
  assert.deepEqual([...viaFolder.labels], [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
  const full = loadDataset('cifar10-1k', { data: SHARED_DATA });
  // picked images are the first ones of each class, unchanged
  const per = 3 * 32 * 32;
  assert.deepEqual(viaFolder.images.subarray(3 * per, 4 * per), full.images.subarray(101 * per, 102 * per));
  const small = loadDataset('cifar10-1k', { data: SHARED_DATA, limit: 10, size: 8 });
  assert.deepEqual([small.count, small.height, small.width], [10, 8, 8]);
});

test('cifar10-1k bad data: missing files, size mismatch, labels out of range, train split', () => {
  const root = tempDir('c1k');
  const dir = join(root, 'cifar10');
  mkdirSync(dir);
  throwsInput(() => loadDataset('cifar10-1k', { data: root }), /missing images_1000x32x32x3_uint8\.bin, labels_1000_uint8\.bin/);
  writeFileSync(join(dir, LABELS), Buffer.from([0, 1, 2]));
  throwsInput(() => loadDataset('cifar10-1k', { data: root }), re(dir), /missing images_1000x32x32x3_uint8\.bin/);
  writeFileSync(join(dir, IMAGES), Buffer.alloc(2 * 3072));
  throwsInput(() => loadDataset('cifar10-1k', { data: root }), re(join(dir, IMAGES)), /file size 6144 \(2 images\); expected 3 images/);
  writeFileSync(join(dir, IMAGES), Buffer.alloc(3 * 3072 + 5));
  throwsInput(() => loadDataset('cifar10-1k', { data: root }), /not a multiple of 3072/);
  writeFileSync(join(dir, IMAGES), Buffer.alloc(3 * 3072, 128));
  assert.equal(loadDataset('cifar10-1k', { data: root }).count, 3);
  writeFileSync(join(dir, LABELS), Buffer.from([0, 12, 2]));
  throwsInput(() => loadDataset('cifar10-1k', { data: root }), re(join(dir, LABELS)), /image 1: label 12, expected 0\.\.9/);
  throwsInput(() => loadDataset('cifar10-1k', { data: SHARED_DATA, split: 'train' }), /only CIFAR-10 test images/);
});
