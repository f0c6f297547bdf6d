import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unpickle } from '../../src/formats/pickle.js';
import { IMAGENET16_TRAIN_FILES, loadDataset } from '../../src/data/index.js';
import { readPickleKeepingBytes, uint8Array } from '../../src/data/numpy.js';
import { npArray, npUint8, pickle, type PickleOptions, type PyVal } from '../helpers/pickle-writer.js';
import { near, re, tempDir, throwsInput } from './util.js';

const MEAN = [122.68 / 255, 116.66 / 255, 104.01 / 255];
const STD = [63.22 / 255, 61.26 / 255, 65.09 / 255];

/** Pixel byte of image `id` at (c, y, x) of a 3×16×16 CHW row. */
const px = (id: number, c: number, y: number, x: number): number => (id * 29 + c * 70 + y * 7 + x * 2) & 255;

/** N×768 uint8 rows of images `ids`. */
function rows(ids: readonly number[]): Uint8Array {
  const b = new Uint8Array(ids.length * 768);
  ids.forEach((id, k) => {
    for (let c = 0; c < 3; c++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) b[k * 768 + c * 256 + y * 16 + x] = px(id, c, y, x);
  });
  return b;
}

/** A downsampled-ImageNet batch: {'data': uint8 N×768, 'labels': [1-based ints]} (+ 'mean' like the train batches). */
function batch(ids: readonly number[], labels: PyVal[], opts: PickleOptions): Buffer {
  return pickle({ data: npUint8([ids.length, 768], rows(ids)), labels, mean: npArray([768], 'f8', new Array(768).fill(120.5)) }, opts);
}

const at = (ds: { images: Float32Array }, i: number, c: number, y: number, x: number): number => ds.images[((i * 3 + c) * 16 + y) * 16 + x]!;

// pickle.dumps({'data': (np.arange(2*768) % 128).astype(np.uint8).reshape(2, 768), 'labels': [5, 130]},
// protocol=2).hex(), by Python 3.11.7 / numpy 2.4.6 (memo opcodes, numpy._core module path)
const PY3_VAL_DATA = [
  '80027d7100285804000000646174617101636e756d70792e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7102636e756d',
  '70790a6e6461727261790a71034b00857104635f636f646563730a656e636f64650a7105580100000062710658060000006c6174696e317107867108',
  '52710987710a52710b284b014b024d000386710c636e756d70790a64747970650a710d58020000007531710e898887710f527110284b035801000000',
  '7c71114e4e4e4affffffff4affffffff4b00747112628968055800060000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d',
  '1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f50515253545556575859',
  '5a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f000102030405060708090a0b0c0d0e0f101112131415',
  '161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f5051',
  '52535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f000102030405060708090a0b0c0d',
  '0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40414243444546474849',
  '4a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f000102030405',
  '060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041',
  '42434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d',
  '7e7f000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233343536373839',
  '3a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475',
  '767778797a7b7c7d7e7f000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031',
  '32333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d',
  '6e6f707172737475767778797a7b7c7d7e7f000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223242526272829',
  '2a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465',
  '666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021',
  '22232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d',
  '5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f000102030405060708090a0b0c0d0e0f10111213141516171819',
  '1a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455',
  '565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f000102030405060708090a0b0c0d0e0f1011',
  '12131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d',
  '4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f00010203040506070809',
  '0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445',
  '464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f0001',
  '02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d',
  '3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f70717273747576777879',
  '7a7b7c7d7e7f711368078671145271157471166258060000006c6162656c7371175d7118284b054b8265752e',
].join('');

test('ImageNet16-120 from Python-2 pickles: keeps labels 1..120 as 0..119, CHW rows, NB201 normalisation', () => {
  const dir = tempDir('in16');
  // 10 train batches of 3 images; ids encode (file, row), labels mix kept (<= 120) and dropped ones
  const trainLabels = (f: number): number[] => [1 + f, 121 + f, 120 - f];
  IMAGENET16_TRAIN_FILES.forEach((name, f) => {
    writeFileSync(join(dir, name), batch([f * 10, f * 10 + 1, f * 10 + 2], trainLabels(f), { protocol: 2, python2: true }));
  });
  writeFileSync(join(dir, 'val_data'), batch([500, 501, 502, 503], [1000, 7, 120, 121], { protocol: 2, python2: true }));

  const ds = loadDataset('imagenet16', { data: dir });
  assert.equal(ds.name, 'imagenet16-120');
  assert.deepEqual([ds.count, ds.channels, ds.height, ds.width, ds.classes], [20, 3, 16, 16, 120]);
  assert.deepEqual([...ds.labels], IMAGENET16_TRAIN_FILES.flatMap((_, f) => [f, 119 - f]));
  assert.deepEqual(ds.mean, MEAN);
  assert.deepEqual(ds.std, STD);
  assert.equal(ds.sources.length, 10);
  // image 2 = file 1 row 0 (id 10), image 3 = file 1 row 2 (id 12), image 19 = file 9 row 2 (id 92)
  for (const [i, id, c, y, x] of [[0, 0, 0, 0, 0], [2, 10, 2, 15, 15], [3, 12, 0, 1, 9], [19, 92, 1, 4, 11]] as const) {
    near(at(ds, i, c, y, x), (px(id, c, y, x) / 255 - MEAN[c]!) / STD[c]!, 1e-5, `image ${i}`);
  }
  const val = loadDataset('imagenet16-120', { data: dir, split: 'test' });
  assert.deepEqual([...val.labels], [6, 119]);
  near(at(val, 1, 0, 8, 3), (px(502, 0, 8, 3) / 255 - MEAN[0]!) / STD[0]!);

  const few = loadDataset('imagenet16', { data: dir, limit: 5 });
  assert.deepEqual([...few.labels], [0, 119, 1, 118, 2]);
  assert.equal(few.sources.length, 3, 'stops reading once the limit is reached');
  const big = loadDataset('imagenet16', { data: dir, split: 'test', size: 32 });
  assert.deepEqual([big.height, big.width], [32, 32]);
});

test('ImageNet16: Python 3 pickles (protocols 2 and 4, and one written by Python/numpy); ImageNet16 subfolder', () => {
  for (const opts of [{ protocol: 2 }, { protocol: 4 }] as const) {
    const root = tempDir('in16p3');
    mkdirSync(join(root, 'ImageNet16'));
    writeFileSync(join(root, 'ImageNet16', 'val_data'), batch([1, 2, 3], [200, 3, 99], opts));
    const ds = loadDataset('imagenet16', { data: root, split: 'test' });
    assert.deepEqual([...ds.labels], [2, 98], `protocol ${opts.protocol}`);
    near(at(ds, 0, 1, 2, 3), (px(2, 1, 2, 3) / 255 - MEAN[1]!) / STD[1]!);
  }
  const dir = tempDir('in16py');
  writeFileSync(join(dir, 'val_data'), Buffer.from(PY3_VAL_DATA, 'hex'));
  const ds = loadDataset('imagenet16', { data: dir, split: 'test', mean: [0, 0, 0], std: [1, 1, 1] });
  assert.deepEqual([...ds.labels], [4]);
  for (const k of [0, 255, 256, 767]) near(ds.images[k]!, (k % 128) / 255, 1e-6, `byte ${k}`);
});

test('numpy uint8 arrays: raw bytes kept, same values as the plain adapter, Fortran order reordered', () => {
  const dir = tempDir('np');
  const data = rows([4, 5]);
  const file = join(dir, 'x.p');
  writeFileSync(file, pickle({ a: npUint8([2, 768], data), f: npArray([2], 'f8', [1.5, -2]) }, { protocol: 2, python2: true }));
  const fast = readPickleKeepingBytes(file) as Map<string, unknown>;
  const plain = unpickle(Buffer.from(pickle({ a: npUint8([2, 768], data) }, { protocol: 4 }))) as Map<string, unknown>;
  assert.deepEqual(uint8Array(fast.get('a')), { shape: [2, 768], bytes: Buffer.from(data) });
  assert.deepEqual([...uint8Array(plain.get('a'))!.bytes], [...data]);
  assert.deepEqual((fast.get('f') as { data: unknown[] }).data, [1.5, -2], 'other dtypes decoded as usual');
  assert.equal(uint8Array(fast.get('f')), undefined);
  // np.asfortranarray([[1, 2, 3], [4, 5, 6]], dtype=np.uint8), protocol 2, by Python/numpy
  const fortran = Buffer.from(
    '8002636e756d70792e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7100636e756d70790a6e6461727261790a71014b00857102635f636f646563730a656e636f64650a7103580100000062710458060000006c6174696e317105867106527107877108527109284b014b024b0386710a636e756d70790a64747970650a710b58020000007531710c898887710d52710e284b0358010000007c710f4e4e4e4affffffff4affffffff4b0074711062886803580600000001040205030671116805867112527113747114622e',
    'hex',
  );
  writeFileSync(file, fortran);
  assert.deepEqual([...uint8Array(readPickleKeepingBytes(file))!.bytes], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...uint8Array(unpickle(fortran))!.bytes], [1, 2, 3, 4, 5, 6]);
});

test('ImageNet16 bad data: missing files, wrong structure, labels out of range, truncated pickle', () => {
  const dir = tempDir('in16bad');
  writeFileSync(join(dir, 'train_data_batch_1'), batch([1], [1], { protocol: 2 }));
  writeFileSync(join(dir, 'train_data_batch_7'), batch([1], [1], { protocol: 2 }));
  throwsInput(() => loadDataset('imagenet16', { data: dir }), re(dir), /missing train_data_batch_2, train_data_batch_3, train_data_batch_4, train_data_batch_5, train_data_batch_6, train_data_batch_8, train_data_batch_9, train_data_batch_10/);
  throwsInput(() => loadDataset('imagenet16', { data: dir, split: 'test' }), /missing val_data/);

  const val = join(dir, 'val_data');
  const bad = (value: PyVal | Buffer, ...patterns: RegExp[]): void => {
    writeFileSync(val, Buffer.isBuffer(value) ? value : pickle(value, { protocol: 2 }));
    throwsInput(() => loadDataset('imagenet16', { data: dir, split: 'test' }), re(val), ...patterns);
  };
  bad([1, 2], /got a list, expected a pickled dict/);
  bad({ data: npUint8([1, 768], rows([1])) }, /dict has keys data; expected a pickled dict/);
  bad({ data: npArray([1, 768], 'f8', new Array(768).fill(0)), labels: [1] }, /'data' is a numpy array of shape \(1, 768\); expected a numpy uint8 array N×768/);
  bad({ data: npUint8([2, 700], new Uint8Array(1400)), labels: [1, 2] }, /'data' is a uint8 array of shape \(2, 700\)/);
  bad({ data: npUint8([2, 768], rows([1, 2])), labels: [1] }, /'labels' is 1 labels; expected a list of 2 ints/);
  bad({ data: npUint8([2, 768], rows([1, 2])), labels: [1, 0] }, /labels\[1\] is 0, expected an int 1\.\.1000/);
  bad({ data: npUint8([2, 768], rows([1, 2])), labels: [1001, 1] }, /labels\[0\] is 1001/);
  bad({ data: npUint8([2, 768], rows([1, 2])), labels: [1, 'x'] }, /labels\[1\] is str/);
  bad({ data: npUint8([2, 768], rows([1, 2])), labels: [300, 121] }, /no images with labels 1\.\.120/);
  bad(batch([1, 2], [1, 2], { protocol: 2 }).subarray(0, 900), /truncated/);
  bad(Buffer.from('not a pickle'), /not a Python pickle/);
});
