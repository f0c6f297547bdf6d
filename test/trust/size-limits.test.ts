/**
 * Issue 18, class 5 — no work before the error, no internal errors: every size flag is bounded by what the engine can
 * hold (model/fits.ts), checked before any scoring or training, and an image above the pixel limit (`--max-pixels`,
 * default 50 megapixels) is refused from its header, naming the file, before it is decoded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import jpeg from 'jpeg-js';
import { runCli } from '../helpers/cli.js';
import { tempDirs } from '../helpers/tmp.js';
import { pngBytes, writeClassFolders } from '../helpers/images.js';
import { decodeImage } from '../../src/data/folder.js';
import { parseHeader } from '../../src/data/decode.js';
import { checkFits, ENGINE_BYTES, footprint, minimumBytes, SMALLEST_ARCH } from '../../src/model/fits.js';
import { SettingError } from '../../src/util/errors.js';

const tmp = tempDirs('robot-nas-trust-size-');
const ARCH = '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';

/** Asserts exit 2 with the flag named, and that nothing was scored or trained before. */
function refusedBeforeWork(args: string[], flag: string): string {
  const r = runCli(args);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`^robot-nas: ${flag}: .*needs at least [\\d.]+ [GT]B to (train on|score the metrics on) a batch of \\d+, but the engine holds`, 'm'));
  assert.doesNotMatch(r.stderr, /internal error|to score \(|epoch 1/, 'refused before any scoring or training');
  return r.stderr;
}

test('search --channels 100000 and --cells 10000: exit 2 naming the flag before scoring (not an internal error after a minute)', () => {
  const out = join(tmp(), 'run');
  refusedBeforeWork(['search', '--channels', '100000', '--out', out], '--channels');
  refusedBeforeWork(['search', '--cells', '10000', '--out', out], '--cells');
  refusedBeforeWork(['search', '--space', 'darts', '--pool', '4', '--budget', '2', '--channels', '20000', '--out', out], '--channels');
});

test('batch sizes no network of the pool can hold are refused before scoring: --batch-size and --score-batch', () => {
  const out = join(tmp(), 'run');
  refusedBeforeWork(['search', '--batch-size', '100000000', '--train-limit', 'all', '--pool', '3', '--budget', '2', '--out', out], '--batch-size');
  refusedBeforeWork(['search', '--score-batch', '5000', '--train-limit', 'all', '--pool', '3', '--budget', '2', '--out', out], '--score-batch');
});

test('train and proxies refuse sizes the engine cannot hold before any work', () => {
  refusedBeforeWork(['train', '--arch', ARCH, '--channels', '100000'], '--channels');
  refusedBeforeWork(['train', '--arch', ARCH, '--cells', '10000'], '--cells');
  refusedBeforeWork(['train', '--arch', ARCH, '--batch-size', '6000', '--train-limit', 'all'], '--batch-size');
  refusedBeforeWork(['proxies', '--space', 'nb201', '--dataset', 'cifar10-1k', '--channels', '100000', '--out', join(tmp(), 'p.csv')], '--channels');
});

test('pool sizes and thread counts beyond what a machine holds are refused before the data is scored', () => {
  const pool = runCli(['search', '--space', 'darts', '--pool', '2000000', '--out', join(tmp(), 'run')]);
  assert.equal(pool.code, 2);
  assert.match(pool.stderr, /--pool: 2000000 architectures: at most 1,000,000/);
  const threads = runCli(['search', '--pool', 'all', '--parallel', '100000', '--out', join(tmp(), 'run')]);
  assert.equal(threads.code, 2);
  assert.match(threads.stderr, /--parallel: 100000 worker threads \(15625 for this pool\) need at least [\d.]+ GB, more than this machine's [\d.]+ GB of memory/);
});

test('the memory bound is a lower bound: sizes that train today pass it, with room', () => {
  for (const [space, arch, c, n, shape, batch] of [
    ['nb201', ARCH, 8, 1, [1, 28, 28], 256],
    ['nb201', ARCH, 16, 5, [3, 32, 32], 96],
    ['darts', SMALLEST_ARCH.darts, 36, 20, [3, 32, 32], 64],
  ] as const) {
    const spec = { space, arch, channels: c, cells: n, classes: 10, inputShape: [...shape] as [number, number, number] };
    checkFits(spec, [{ setting: 'batchSize', batch, doing: 'train on' }], 'the network');
    assert.ok(minimumBytes(footprint(spec), batch) < ENGINE_BYTES);
  }
  assert.throws(
    () => checkFits({ space: 'nb201', arch: ARCH, channels: 8, cells: 1, classes: 10, inputShape: [1, 28, 28] }, [{ setting: 'batchSize', batch: 6000, doing: 'train on' }], 'the network'),
    (e: unknown) => e instanceof SettingError && e.setting === 'batchSize',
  );
});

/** A PNG whose header says width × height (the rest is not a real image: it must never be decoded). */
function hugePngHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.alloc(64)), chunk('IEND', Buffer.alloc(0))]);
}

test('a 20000×20000 PNG is refused from its header, naming the file, in a dataset and in predict; --max-pixels sets the limit', () => {
  const base = tmp();
  const data = join(base, 'images');
  writeClassFolders(data, ['ant', 'bee'], 6, 8);
  writeFileSync(join(data, 'bee', 'huge.png'), hugePngHeader(20000, 20000));
  const s = runCli(['search', '--dataset', 'folder', '--data', data, '--pool', '3', '--budget', '2', '--parallel', '0', '--out', join(base, 'run')]);
  assert.equal(s.code, 2, s.stderr);
  assert.match(s.stderr, /bee\/huge\.png: 20000×20000 PNG image: 400\.0 megapixels, above the limit of 50\.0 megapixels; shrink it, or raise the limit with --max-pixels N/);
  // a real image of 4.2 megapixels: refused under --max-pixels 4M, accepted by default
  const big = join(base, 'big.png');
  writeFileSync(big, pngBytes(2050, [100, 50, 200], 1));
  const m = join(base, 'model');
  assert.equal(runCli(['train', '--arch', ARCH, '--channels', '4', '--epochs', '1', '--train-limit', '64', '--valid-limit', '32', '--test-limit', '20', '--save', m]).code, 0);
  const small = runCli(['predict', '--model', m, big, '--max-pixels', '4M']);
  assert.equal(small.code, 2);
  assert.match(small.stderr, /big\.png: 2050×2050 PNG image: 4\.2 megapixels, above the limit of 4\.0 megapixels/);
  assert.equal(runCli(['predict', '--model', m, big]).code, 0);
  assert.throws(() => decodeImage(big, 1_000_000), /big\.png: 2050×2050 PNG image/);
});

test('image dimensions are read from PNG and JPEG headers without decoding', () => {
  const png = pngBytes(37, [1, 2, 3], 0);
  assert.deepEqual(parseHeader(png, 'x.png'), { format: 'PNG', width: 37, height: 37, channels: 3 });
  const j = jpeg.encode({ width: 48, height: 20, data: Buffer.alloc(48 * 20 * 4, 90) }, 80).data;
  assert.deepEqual(parseHeader(j, 'x.jpg'), { format: 'JPEG', width: 48, height: 20, channels: 3 });
});
