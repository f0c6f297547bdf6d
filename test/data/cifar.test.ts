import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR10_CLASSES, loadDataset } from '../../src/data/index.js';
import { near, re, tempDir, throwsInput } from './util.js';

const C10_MEAN = [0.4914, 0.4822, 0.4465];
const C10_STD = [0.247, 0.2435, 0.2616];
const C100_MEAN = [0.5071, 0.4865, 0.4409];
const C100_STD = [0.2673, 0.2564, 0.2762];

/** Pixel byte of record `id` at (c, y, x): varies with everything, so layout mistakes show. */
const px = (id: number, c: number, y: number, x: number): number => (id * 37 + c * 80 + y * 5 + x * 3) & 255;

/** One binary CIFAR record: label bytes, then R, G, B planes of 32×32, row-major. */
function record(labelBytes: number[], id: number): Buffer {
  const b = Buffer.alloc(labelBytes.length + 3072);
  labelBytes.forEach((l, k) => (b[k] = l));
  for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) b[labelBytes.length + c * 1024 + y * 32 + x] = px(id, c, y, x);
  return b;
}

/** CIFAR-10 release: data_batch_k.bin with 3 records each (ids 0..14), test_batch.bin with 4 (ids 100..103). */
function writeCifar10(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (let f = 0; f < 5; f++) {
    writeFileSync(join(dir, `data_batch_${f + 1}.bin`), Buffer.concat([0, 1, 2].map((r) => record([(f * 3 + r) % 10], f * 3 + r))));
  }
  writeFileSync(join(dir, 'test_batch.bin'), Buffer.concat([0, 1, 2, 3].map((r) => record([9 - r], 100 + r))));
}

function at(ds: { channels: number; height: number; width: number; images: Float32Array }, i: number, c: number, y: number, x: number): number {
  return ds.images[((i * ds.channels + c) * ds.height + y) * ds.width + x]!;
}

test('CIFAR-10 binary: train batches in order, CHW layout, usual normalisation', () => {
  const dir = tempDir('c10');
  writeCifar10(dir);
  const ds = loadDataset('cifar10', { data: dir });
  assert.equal(ds.name, 'cifar10');
  assert.deepEqual([ds.count, ds.channels, ds.height, ds.width, ds.classes], [15, 3, 32, 32, 10]);
  assert.equal(ds.images.length, 15 * 3072);
  assert.deepEqual([...ds.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);
  assert.deepEqual(ds.mean, C10_MEAN);
  assert.deepEqual(ds.std, C10_STD);
  assert.deepEqual(ds.classNames, [...CIFAR10_CLASSES]);
  assert.equal(ds.sources.length, 5);
  for (const [i, c, y, x] of [[0, 0, 0, 0], [4, 1, 7, 30], [14, 2, 31, 31], [9, 2, 0, 17]] as const) {
    near(at(ds, i, c, y, x), (px(i, c, y, x) / 255 - C10_MEAN[c]!) / C10_STD[c]!, 1e-5, `image ${i} (${c},${y},${x})`);
  }
  const t = loadDataset('cifar10', { data: dir, split: 'test' });
  assert.equal(t.count, 4);
  assert.deepEqual([...t.labels], [9, 8, 7, 6]);
  near(at(t, 2, 1, 3, 4), (px(102, 1, 3, 4) / 255 - C10_MEAN[1]!) / C10_STD[1]!);
});

test('CIFAR-10: limit reads only the first records; release subfolder; size resizes by area', () => {
  const root = tempDir('c10sub');
  writeCifar10(join(root, 'cifar-10-batches-bin'));
  const ds = loadDataset('cifar10', { data: root, limit: 4 });
  assert.equal(ds.count, 4);
  assert.deepEqual([...ds.labels], [0, 1, 2, 3]);
  assert.equal(ds.sources.length, 2, 'stops after the second batch');
  const small = loadDataset('cifar10', { data: root, limit: 2, size: 16 });
  assert.deepEqual([small.height, small.width], [16, 16]);
  const c = 1;
  const avg = (px(1, c, 6, 10) + px(1, c, 6, 11) + px(1, c, 7, 10) + px(1, c, 7, 11)) / 4;
  near(at(small, 1, c, 3, 5), (avg / 255 - C10_MEAN[c]!) / C10_STD[c]!, 1e-5, 'mean of a 2×2 block');
  const custom = loadDataset('cifar10', { data: root, limit: 1, mean: [0, 0, 0], std: [1, 1, 1] });
  near(at(custom, 0, 2, 5, 5), px(0, 2, 5, 5) / 255);
});

test('CIFAR-100 binary: fine label of the two label bytes, CIFAR-100 normalisation', () => {
  const dir = tempDir('c100');
  writeFileSync(join(dir, 'train.bin'), Buffer.concat([record([3, 42], 0), record([19, 99], 1), record([0, 0], 2)]));
  writeFileSync(join(dir, 'test.bin'), record([7, 71], 5));
  const ds = loadDataset('cifar100', { data: dir });
  assert.equal(ds.name, 'cifar100');
  assert.deepEqual([ds.count, ds.classes], [3, 100]);
  assert.deepEqual([...ds.labels], [42, 99, 0]);
  assert.deepEqual(ds.mean, C100_MEAN);
  assert.deepEqual(ds.std, C100_STD);
  near(at(ds, 1, 2, 9, 4), (px(1, 2, 9, 4) / 255 - C100_MEAN[2]!) / C100_STD[2]!);
  const t = loadDataset('cifar100', { data: dir, split: 'test' });
  assert.deepEqual([...t.labels], [71]);
  near(at(t, 0, 0, 31, 0), (px(5, 0, 31, 0) / 255 - C100_MEAN[0]!) / C100_STD[0]!);
});

test('CIFAR bad data: missing files listed, wrong size, labels out of range', () => {
  const dir = tempDir('c10bad');
  writeCifar10(dir);
  rmSync(join(dir, 'data_batch_3.bin'));
  rmSync(join(dir, 'data_batch_5.bin'));
  throwsInput(() => loadDataset('cifar10', { data: dir }), re(dir), /missing data_batch_3\.bin, data_batch_5\.bin/, /data_batch_1\.bin/);
  assert.equal(loadDataset('cifar10', { data: dir, split: 'test' }).count, 4, 'the test split needs only test_batch.bin');
  throwsInput(() => loadDataset('cifar100', { data: dir }), /missing train\.bin/);
  throwsInput(() => loadDataset('cifar10', { data: join(dir, 'nope') }), /not a directory/);

  writeCifar10(dir);
  appendFileSync(join(dir, 'data_batch_2.bin'), Buffer.from([1]));
  throwsInput(() => loadDataset('cifar10', { data: dir }), re(join(dir, 'data_batch_2.bin')), /file size 9220 is not a multiple of the 3073-byte record size/);
  writeFileSync(join(dir, 'data_batch_2.bin'), Buffer.alloc(0));
  throwsInput(() => loadDataset('cifar10', { data: dir }), re(join(dir, 'data_batch_2.bin')), /empty file/);

  writeCifar10(dir);
  writeFileSync(join(dir, 'data_batch_4.bin'), Buffer.concat([record([1], 0), record([10], 1)]));
  throwsInput(() => loadDataset('cifar10', { data: dir }), re(join(dir, 'data_batch_4.bin')), /record 1 \(byte 3073\): label 10, expected 0\.\.9/);

  const d100 = tempDir('c100bad');
  writeFileSync(join(d100, 'train.bin'), Buffer.concat([record([1, 5], 0), record([2, 100], 1)]));
  writeFileSync(join(d100, 'test.bin'), record([25, 5], 0));
  throwsInput(() => loadDataset('cifar100', { data: d100 }), re(join(d100, 'train.bin')), /label 100, expected 0\.\.99/);
  throwsInput(() => loadDataset('cifar100', { data: d100, split: 'test' }), /coarse label 25, expected 0\.\.19/);
  // CIFAR-10 records (3,073 bytes) are not CIFAR-100 records (3,074 bytes)
  writeFileSync(join(d100, 'test.bin'), Buffer.concat([record([1], 0), record([2], 1)]));
  throwsInput(() => loadDataset('cifar100', { data: d100, split: 'test' }), /not a multiple of the 3074-byte record size/);
});
