/**
 * The image cache and ImageSet: MNIST read through the cache is bit for bit what the in-memory loader gives (so
 * trainings keep their numbers and keys), the fingerprint is the one the query cache always used, subsets copy no
 * pixels, a cache is reused (and rebuilt when a file changes), and byte statistics are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { loadMnist } from '../../src/data/mnist.js';
import { openPart } from '../../src/data/images.js';
import { fingerprintSets, StoredSet } from '../../src/data/imageset.js';
import { Histogram } from '../../src/data/pixels.js';
import { splitDataset } from '../../src/data/split.js';
import type { ImageDataset } from '../../src/data/types.js';
import { prepareData } from '../../src/train/data.js';
import { seedStreams } from '../../src/util/seeds.js';
import { tempDir } from './util.js';

/** The fingerprint as train/data.ts computed it from in-memory datasets before the image cache. */
function legacyFingerprint(parts: ImageDataset[]): string {
  const h = createHash('sha256');
  for (const ds of parts) {
    h.update(`${ds.count}:${ds.channels}:${ds.height}:${ds.width}:${ds.classes};`);
    h.update(new Uint8Array(ds.images.buffer, ds.images.byteOffset, ds.images.byteLength));
    h.update(new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

test('MNIST through the image cache: the same float32 bits, split and fingerprint as the in-memory loader', async () => {
  const cacheDir = tempDir('mnist-cache');
  const data = await prepareData({ dataset: 'mnist', seed: 0, cacheDir });
  const eager = loadMnist();
  const split = splitDataset(eager, { trainFraction: 0.8, seed: seedStreams.split(0) });
  assert.equal(data.train.count, split.train.count);
  const idx = [0, 1, 17, 1234, split.train.count - 1];
  const got = data.train.batch(idx);
  const per = 784;
  idx.forEach((i, k) => assert.deepEqual(got.subarray(k * per, (k + 1) * per), split.train.images.subarray(i * per, (i + 1) * per), `image ${i}`));
  assert.deepEqual(data.train.labels, split.train.labels);
  assert.equal(data.info.fingerprint, legacyFingerprint([split.train, split.valid]));
  assert.deepEqual(data.info.shape, [1, 28, 28]);
  // the second open reads the cache (one folder per part)
  await prepareData({ dataset: 'mnist', seed: 0, cacheDir });
  assert.equal(readdirSync(cacheDir).filter((n) => n.startsWith('images-')).length, 1);
});

test('select and withNorm copy no pixels and keep labels; fingerprints change with the preprocessing', async () => {
  const part = await openPart({ dataset: 'mnist' }, 'train');
  const s = new StoredSet('mnist', part.store, Int32Array.from({ length: 100 }, (_, i) => i * 3), 10, [0.1307], [0.3081], [], null);
  const sub = s.select([5, 2]);
  assert.deepEqual(sub.batch([0, 1]), s.batch([5, 2]));
  assert.deepEqual([...sub.labels], [s.labels[5], s.labels[2]]);
  const other = s.withNorm([0.5], [0.25]);
  assert.notEqual(fingerprintSets([other]), fingerprintSets([s]));
  const bytes = s.bytes([7]);
  // the package's value of the byte (its levels table), normalised as x · (1/std) + (−mean/std)
  assert.equal(other.batch([7])[100], Math.fround(part.meta.levels![bytes[100]!]! * 4 + -2));
  const big = await openPart({ dataset: 'mnist', size: 32, channels: 3 }, 'train');
  assert.deepEqual(big.meta.shape, [3, 32, 32]);
});

test('a folder cache is reused, and rebuilt under another key when a file changes', async () => {
  const dir = tempDir('cache-key');
  const cacheDir = join(dir, 'cache');
  for (const c of ['a', 'b']) mkdirSync(join(dir, 'data', c), { recursive: true });
  const write = (f: string, v: number): void => {
    const png = new pngjs.PNG({ width: 4, height: 4 });
    for (let p = 0; p < 16; p++) png.data.set([v, v, v, 255], 4 * p);
    writeFileSync(f, pngjs.PNG.sync.write(png, { colorType: 0 }));
  };
  write(join(dir, 'data', 'a', '1.png'), 10);
  write(join(dir, 'data', 'b', '1.png'), 200);
  const io = { dataset: 'folder', data: join(dir, 'data'), cacheDir };
  const first = await openPart(io, 'all');
  assert.equal(first.cached, false);
  assert.equal((await openPart(io, 'all')).cached, true);
  write(join(dir, 'data', 'b', '1.png'), 201);
  utimesSync(join(dir, 'data', 'b', '1.png'), new Date(2020, 1, 1), new Date(2020, 1, 1));
  const changed = await openPart(io, 'all');
  assert.equal(changed.cached, false);
  assert.notEqual(changed.folder, first.folder);
  const b = new Uint8Array(16);
  changed.store.read([1], b);
  assert.ok(b.every((v) => v === 201));
});

test('byte histograms give exact per-channel mean and std', () => {
  const h = new Histogram(2);
  const row = Uint8Array.from([0, 255, 255, 0, 51, 51, 51, 51]);
  h.addRow(row, 0, 4);
  const { mean, std } = h.stats();
  assert.equal(mean[0], 0.5);
  assert.equal(std[0], 0.5);
  assert.equal(mean[1], 0.2);
  assert.equal(std[1], 1, 'a constant channel keeps std 1');
});
