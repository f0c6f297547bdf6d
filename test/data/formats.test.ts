/**
 * Every dataset format round-trips through the image cache: the tests write small datasets (idx, gzipped idx, npz
 * stored and deflated, CSV of image files, class folders with train/val/test) and read back exactly their pixels
 * and labels; bad files stop with an InputError naming the file and what was wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { openPart, datasetParts } from '../../src/data/images.js';
import { prepareData } from '../../src/train/data.js';
import { InputError } from '../../src/util/errors.js';
import { idxBytes, int64, npyBytes, writeIdx, writeZip } from '../helpers/arrays-writer.js';
import { tempDir } from './util.js';

/** n images of h×w (×c interleaved) with distinct, known bytes; labels i mod k. */
function images(n: number, h: number, w: number, c = 1): Uint8Array {
  const b = new Uint8Array(n * h * w * c);
  for (let i = 0; i < b.length; i++) b[i] = (i * 7 + Math.floor(i / 13)) & 255;
  return b;
}

async function rejects(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

function writePng(file: string, w: number, h: number, grey: Uint8Array | ((x: number, y: number) => [number, number, number])): void {
  const png = new pngjs.PNG({ width: w, height: h });
  for (let p = 0; p < w * h; p++) {
    const [r, g, b] = typeof grey === 'function' ? grey(p % w, Math.floor(p / w)) : [grey[p]!, grey[p]!, grey[p]!];
    png.data.set([r, g, b, 255], 4 * p);
  }
  writeFileSync(file, pngjs.PNG.sync.write(png, { colorType: typeof grey === 'function' ? 2 : 0 }));
}

for (const gz of [false, true]) {
  test(`idx${gz ? ' (gzipped)' : ''}: pixels and labels read back exactly, train and t10k parts, cached once`, async () => {
    const dir = tempDir('idx');
    const ext = gz ? '.gz' : '';
    const x = images(30, 5, 4);
    const xt = images(7, 5, 4).map((v) => 255 - v);
    writeIdx(join(dir, `train-images-idx3-ubyte${ext}`), [30, 5, 4], x);
    writeIdx(join(dir, `train-labels-idx1-ubyte${ext}`), [30], Uint8Array.from({ length: 30 }, (_, i) => (i % 3) + 1));
    writeIdx(join(dir, `t10k-images-idx3-ubyte${ext}`), [7, 5, 4], xt);
    writeIdx(join(dir, `t10k-labels-idx1-ubyte${ext}`), [7], Uint8Array.from({ length: 7 }, (_, i) => (i % 3) + 1));
    const cacheDir = join(dir, 'cache');
    const io = { dataset: 'idx', data: dir, cacheDir };
    assert.deepEqual(await datasetParts(io), { train: 'train', val: false, test: true });
    const tr = await openPart(io, 'train');
    assert.equal(tr.cached, false);
    assert.deepEqual(tr.meta.shape, [1, 5, 4]);
    // labels 1..3 become classes 0..2, named by their values
    assert.deepEqual(tr.meta.classNames, ['1', '2', '3']);
    assert.deepEqual([...tr.store.labels.slice(0, 4)], [0, 1, 2, 0]);
    const all = new Uint8Array(x.length);
    tr.store.read(Array.from({ length: 30 }, (_, i) => i), all);
    assert.deepEqual(all, x);
    const te = await openPart(io, 'test', tr.meta);
    const t = new Uint8Array(xt.length);
    te.store.read([0, 1, 2, 3, 4, 5, 6], t);
    assert.deepEqual(t, xt);
    // a second open reads the cache
    assert.equal((await openPart(io, 'train')).cached, true);
    assert.equal(readdirSync(cacheDir).filter((n) => n.startsWith('images-')).length, 2);
    // a resized, 3-channel version is another cache
    const big = await openPart({ ...io, size: 8, channels: 3 }, 'train');
    assert.deepEqual(big.meta.shape, [3, 8, 8]);
    assert.equal(big.cached, false);
  });
}

test('idx: truncated files, label counts that differ, wrong types are named errors', async () => {
  const dir = tempDir('idx-bad');
  const x = images(10, 4, 4);
  const full = idxBytes([10, 4, 4], x);
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), full.subarray(0, full.length - 20));
  writeIdx(join(dir, 'train-labels-idx1-ubyte'), [10], new Uint8Array(10));
  await rejects(openPart({ dataset: 'idx', data: dir }, 'train'), /train-images-idx3-ubyte/, /truncated: its header says 10 images of 4×4, the file ends after 8/);
  writeIdx(join(dir, 'train-images-idx3-ubyte'), [10, 4, 4], x);
  writeIdx(join(dir, 'train-labels-idx1-ubyte'), [9], new Uint8Array(9));
  await rejects(openPart({ dataset: 'idx', data: dir }, 'train'), /train-labels-idx1-ubyte: 9 labels, but .*train-images-idx3-ubyte holds 10 images/);
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([10], new Uint8Array(10)).subarray(0, 12));
  await rejects(openPart({ dataset: 'idx', data: dir }, 'train'), /train-labels-idx1-ubyte: truncated: its header says 10 labels, the file holds 4/);
  const gz = tempDir('idx-gz');
  writeIdx(join(gz, 'train-images-idx3-ubyte.gz'), [10, 4, 4], x);
  writeIdx(join(gz, 'train-labels-idx1-ubyte.gz'), [10], new Uint8Array(10));
  const { gzipSync } = await import('node:zlib');
  const z = gzipSync(full);
  writeFileSync(join(gz, 'train-images-idx3-ubyte.gz'), z.subarray(0, z.length - 30));
  await rejects(openPart({ dataset: 'idx', data: gz }, 'train'), /train-images-idx3-ubyte\.gz: truncated/);
  await rejects(openPart({ dataset: 'idx', data: tempDir('idx-none') }, 'train'), /no train images idx file/);
});

for (const deflate of [false, true]) {
  test(`npz (${deflate ? 'np.savez_compressed' : 'np.savez'}): N×H×W×C uint8 and int64 labels read back, test part too`, async () => {
    const dir = tempDir('npz');
    const x = images(12, 3, 5, 3);
    const xt = images(4, 3, 5, 3).map((v) => v ^ 0x55);
    const file = join(dir, 'data.npz');
    writeZip(
      file,
      {
        'x_train.npy': npyBytes('|u1', [12, 3, 5, 3], x),
        'y_train.npy': npyBytes('<i8', [12], int64(Array.from({ length: 12 }, (_, i) => i % 2))),
        'x_test.npy': npyBytes('|u1', [4, 3, 5, 3], xt),
        'y_test.npy': npyBytes('<i8', [4, 1], int64([1, 0, 1, 0])),
      },
      deflate,
    );
    const io = { dataset: 'npz', data: file, cacheDir: join(dir, 'cache') };
    assert.deepEqual(await datasetParts(io), { train: 'train', val: false, test: true });
    const tr = await openPart(io, 'train');
    assert.deepEqual(tr.meta.shape, [3, 3, 5]);
    const got = new Uint8Array(12 * 45);
    tr.store.read(Array.from({ length: 12 }, (_, i) => i), got);
    // rows are CHW: channel c of pixel p of image i
    for (let i = 0; i < 12; i++) for (let p = 0; p < 15; p++) for (let c = 0; c < 3; c++) assert.equal(got[i * 45 + c * 15 + p], x[i * 45 + p * 3 + c]);
    assert.deepEqual([...tr.store.labels], Array.from({ length: 12 }, (_, i) => i % 2));
    const te = await openPart(io, 'test', tr.meta);
    assert.deepEqual([...te.store.labels], [1, 0, 1, 0]);
    // grey version
    const grey = await openPart({ ...io, channels: 1 }, 'train');
    assert.deepEqual(grey.meta.shape, [1, 3, 5]);
  });
}

test('npz: a float x_train, missing arrays and mismatched counts are named errors', async () => {
  const dir = tempDir('npz-bad');
  const file = join(dir, 'bad.npz');
  writeZip(file, { 'x_train.npy': npyBytes('<f4', [2, 2, 2], new Uint8Array(32)), 'y_train.npy': npyBytes('|u1', [2], new Uint8Array(2)) }, false);
  await rejects(openPart({ dataset: 'npz', data: file }, 'train'), /bad\.npz: x_train has dtype <f4; expected uint8 pixels/);
  writeZip(file, { 'images.npy': npyBytes('|u1', [2, 2, 2], new Uint8Array(8)) }, false);
  await rejects(datasetParts({ dataset: 'npz', data: file }), /bad\.npz: no x_train and y_train arrays \(it holds images\)/);
  writeZip(file, { 'x_train.npy': npyBytes('|u1', [3, 2, 2], new Uint8Array(12)), 'y_train.npy': npyBytes('|u1', [2], new Uint8Array(2)) }, true);
  await rejects(openPart({ dataset: 'npz', data: file }, 'train'), /y_train holds 2 labels, but x_train holds 3 images/);
  writeFileSync(file, 'not a zip');
  await rejects(datasetParts({ dataset: 'npz', data: file }), /bad\.npz: not a readable \.npz/);
});

test('csv of path,label[,split]: files relative to the CSV, classes by name, splits', async () => {
  const dir = tempDir('csv');
  mkdirSync(join(dir, 'img'));
  const rows = ['path,label,split'];
  const px: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) {
    const g = Uint8Array.from({ length: 6 * 6 }, (_, p) => (p * 5 + i * 17) & 255);
    px.push(g);
    writePng(join(dir, 'img', `${i}.png`), 6, 6, g);
    rows.push(`img/${i}.png,${i % 2 ? 'cat' : 'dog'},${i < 8 ? 'train' : i < 10 ? 'val' : 'test'}`);
  }
  const csv = join(dir, 'list.csv');
  writeFileSync(csv, rows.join('\n') + '\n');
  const io = { dataset: 'csv', data: csv, cacheDir: join(dir, 'cache') };
  assert.deepEqual(await datasetParts(io), { train: 'train', val: true, test: true });
  const tr = await openPart(io, 'train');
  assert.deepEqual(tr.meta.classNames, ['cat', 'dog']);
  assert.deepEqual(tr.meta.shape, [1, 6, 6]);
  assert.deepEqual([...tr.store.labels], [1, 0, 1, 0, 1, 0, 1, 0]);
  const got = new Uint8Array(36);
  tr.store.read([3], got);
  assert.deepEqual(got, px[3]);
  const data = await prepareData({ dataset: 'csv', dir: csv, seed: 0, withTest: true, cacheDir: join(dir, 'cache') });
  assert.equal(data.info.trainCount, 8);
  assert.equal(data.info.validCount, 2);
  assert.equal(data.test?.count, 2);
  assert.match(data.info.validFrom ?? '', /csv val/);
  writeFileSync(csv, 'path,label\nimg/0.png,dog\nimg/missing.png,cat\n');
  await rejects(openPart({ dataset: 'csv', data: csv }, 'all'), /list\.csv:3: img\/missing\.png: cannot read file \(ENOENT\)/);
  writeFileSync(csv, 'path,label\nimg/0.png\n');
  await rejects(openPart({ dataset: 'csv', data: csv }, 'all'), /list\.csv:2: expected path,label/);
});

test('class folders: train/val/test parts, classes matched by name, native size and grey kept, mixed sizes said', async () => {
  const dir = tempDir('folders');
  for (const part of ['train', 'val', 'test']) for (const c of ['a', 'b']) mkdirSync(join(dir, part, c), { recursive: true });
  const g = (i: number): Uint8Array => Uint8Array.from({ length: 10 * 10 }, (_, p) => (p + i * 31) & 255);
  for (let i = 0; i < 6; i++) writePng(join(dir, 'train', i % 2 ? 'b' : 'a', `${i}.png`), 10, 10, g(i));
  writePng(join(dir, 'train', 'a', 'odd.png'), 20, 20, g(9).length === 100 ? Uint8Array.from({ length: 400 }, () => 7) : g(9));
  for (let i = 0; i < 2; i++) writePng(join(dir, 'val', i % 2 ? 'b' : 'a', `${i}.png`), 10, 10, g(i + 10));
  writePng(join(dir, 'test', 'a', '0.png'), 10, 10, g(20));
  writePng(join(dir, 'test', 'b', '0.png'), 10, 10, g(21));
  const cacheDir = join(dir, 'cache');
  const data = await prepareData({ dataset: 'folder', dir, seed: 1, withTest: true, cacheDir });
  assert.deepEqual(data.info.shape, [1, 10, 10]);
  assert.equal(data.info.trainCount, 7);
  assert.equal(data.info.validCount, 2);
  assert.equal(data.test?.count, 2);
  assert.match((data.info.notes ?? []).join('\n'), /mixed image sizes \(10×10 ×6, 20×20 ×1\): 1 of 7 images resized to 10×10/);
  // the 20×20 constant image shrinks to the same constant
  const odd = data.train.bytes([0]);
  assert.ok(odd.every((v) => v === 7) || data.train.bytes([3]).every((v) => v === 7));
  // an unknown class in test is an error naming it; a missing one is said
  mkdirSync(join(dir, 'test', 'zebra'));
  writePng(join(dir, 'test', 'zebra', 'z.png'), 10, 10, g(1));
  await rejects(prepareData({ dataset: 'folder', dir, seed: 1, withTest: true, cacheDir }), /test: class 'zebra' not among the training classes \(a, b\)/);
  // an empty class folder, an unreadable image
  const d2 = tempDir('folders2');
  mkdirSync(join(d2, 'a'));
  mkdirSync(join(d2, 'b'));
  writePng(join(d2, 'a', '0.png'), 4, 4, g(0).subarray(0, 16));
  await rejects(prepareData({ dataset: 'folder', dir: d2, seed: 0 }), /b: empty class folder: no \.png, \.jpg or \.jpeg files \(class 'b'\)/);
  writeFileSync(join(d2, 'b', 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
  await rejects(prepareData({ dataset: 'folder', dir: d2, seed: 0 }), /broken\.png: cannot decode PNG image: the file ends inside its header \(truncated\)/);
  assert.ok(!existsSync(join(d2, 'cache')));
});

test('colour folders stay RGB; --image-channels 1 makes grey (BT.601 luma), --image-size resizes', async () => {
  const dir = tempDir('rgb');
  for (const c of ['x', 'y']) mkdirSync(join(dir, c));
  for (let i = 0; i < 4; i++) writePng(join(dir, i % 2 ? 'y' : 'x', `${i}.png`), 8, 8, () => [200, 100, 50]);
  const rgb = await openPart({ dataset: 'folder', data: dir }, 'all');
  assert.deepEqual(rgb.meta.shape, [3, 8, 8]);
  const grey = await openPart({ dataset: 'folder', data: dir, channels: 1, size: 4 }, 'all');
  assert.deepEqual(grey.meta.shape, [1, 4, 4]);
  const b = new Uint8Array(16);
  grey.store.read([0], b);
  assert.ok(b.every((v) => v === Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)));
});

test("Debian's Fashion-MNIST idx files, when installed: 60,000 + 10,000 images of 1×28×28, 10 classes", { skip: !existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz') && 'dataset-fashion-mnist is not installed' }, async () => {
  const io = { dataset: 'idx', data: '/usr/share/datasets/fashion-mnist', cacheDir: tempDir('fmnist') };
  const tr = await openPart(io, 'train');
  assert.deepEqual([tr.meta.count, ...tr.meta.shape, tr.meta.classes], [60000, 1, 28, 28, 10]);
  const te = await openPart(io, 'test', tr.meta);
  assert.equal(te.meta.count, 10000);
  const counts = new Array(10).fill(0);
  for (const l of tr.store.labels) counts[l]++;
  assert.deepEqual(counts, new Array(10).fill(6000));
});
