import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { loadDataset } from '../../src/data/index.js';
import { near, re, tempDir, throwsInput } from './util.js';

const RAW = { mean: [0, 0, 0], std: [1, 1, 1] };

/** RGBA bytes of a w×h image from a pixel function. */
function rgba(w: number, h: number, f: (x: number, y: number) => [number, number, number, number?]): Buffer {
  const b = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, bl, a] = f(x, y);
      b.set([r, g, bl, a ?? 255], (y * w + x) * 4);
    }
  }
  return b;
}

function writePng(file: string, w: number, h: number, f: (x: number, y: number) => [number, number, number, number?], colorType: 0 | 2 | 6 = 6): void {
  const png = new pngjs.PNG({ width: w, height: h });
  png.data = rgba(w, h, f);
  writeFileSync(file, pngjs.PNG.sync.write(png, { colorType }));
}

function writeJpeg(file: string, w: number, h: number, f: (x: number, y: number) => [number, number, number]): void {
  writeFileSync(file, jpeg.encode({ width: w, height: h, data: rgba(w, h, f) }, 100).data);
}

const at = (ds: { images: Float32Array; height: number; width: number }, i: number, c: number, y: number, x: number): number =>
  ds.images[((i * 3 + c) * ds.height + y) * ds.width + x]!;

/** Block pattern: value of a 64×64 image at (x, y) for channel c. */
const block = (x: number, y: number, c: number): number => (x * 3 + y * 5 + c * 40) & 255;

test('image folder: sorted classes, PNG and JPEG, area downscale, computed normalisation', () => {
  const dir = tempDir('folder');
  for (const cls of ['dog', 'bird', 'cat']) mkdirSync(join(dir, cls));
  mkdirSync(join(dir, '.hidden'));
  writePng(join(dir, '.hidden', 'x.png'), 4, 4, () => [0, 0, 0]);
  writePng(join(dir, 'bird', 'b2.png'), 64, 64, (x, y) => [block(x, y, 0), block(x, y, 1), block(x, y, 2)]);
  writePng(join(dir, 'bird', 'b1.PNG'), 32, 32, () => [10, 20, 30]);
  writeFileSync(join(dir, 'bird', 'notes.txt'), 'not an image');
  writeFileSync(join(dir, 'bird', '.DS_Store'), 'x');
  writeJpeg(join(dir, 'cat', 'c.jpg'), 16, 16, () => [200, 100, 50]);
  writePng(join(dir, 'dog', 'grey.png'), 40, 20, (x) => [x * 6, x * 6, x * 6], 0);
  writePng(join(dir, 'dog', 'alpha.jpeg.png'), 32, 32, () => [90, 91, 92, 0]);

  const raw = loadDataset('folder', { data: dir, ...RAW });
  assert.equal(raw.name, 'folder');
  assert.deepEqual(raw.classNames, ['bird', 'cat', 'dog']);
  assert.deepEqual([raw.count, raw.channels, raw.height, raw.width, raw.classes], [5, 3, 32, 32, 3]);
  assert.deepEqual([...raw.labels], [0, 0, 1, 2, 2]);
  assert.deepEqual(
    raw.sources.map((s) => s.slice(dir.length + 1)),
    ['bird/b1.PNG', 'bird/b2.png', 'cat/c.jpg', 'dog/alpha.jpeg.png', 'dog/grey.png'].map((s) => join(...s.split('/'))),
  );
  near(at(raw, 0, 2, 5, 5), 30 / 255);
  // 64 → 32: each output pixel is the mean of a 2×2 block
  for (const [c, y, x] of [[0, 0, 0], [1, 10, 21], [2, 31, 31]] as const) {
    const m = (block(2 * x, 2 * y, c) + block(2 * x + 1, 2 * y, c) + block(2 * x, 2 * y + 1, c) + block(2 * x + 1, 2 * y + 1, c)) / 4;
    near(at(raw, 1, c, y, x), m / 255, 1e-5, `block (${c},${y},${x})`);
  }
  // JPEG (16 → 32, constant): colour survives within JPEG error
  for (const [c, v] of [[0, 200], [1, 100], [2, 50]] as const) near(at(raw, 2, c, 20, 7), v / 255, 3 / 255, `jpeg channel ${c}`);
  // alpha dropped; grey expanded to RGB; 40×20 squashed to 32×32 (a horizontal ramp stays monotone)
  near(at(raw, 3, 1, 0, 0), 91 / 255);
  assert.equal(at(raw, 4, 0, 3, 9), at(raw, 4, 2, 3, 9));
  assert.equal(at(raw, 4, 1, 0, 9), at(raw, 4, 1, 31, 9));
  assert.ok(at(raw, 4, 0, 0, 10) > at(raw, 4, 0, 0, 9));

  // default: the dataset's own per-channel mean/std, so every channel ends up with mean 0, std 1
  const ds = loadDataset('folder', { data: dir });
  for (let c = 0; c < 3; c++) {
    let s = 0;
    let s2 = 0;
    let rs = 0;
    for (let i = 0; i < 5; i++) {
      for (let p = 0; p < 1024; p++) {
        const v = ds.images[(i * 3 + c) * 1024 + p]!;
        s += v;
        s2 += v * v;
        rs += raw.images[(i * 3 + c) * 1024 + p]!;
      }
    }
    near(s / 5120, 0, 1e-4, `mean of channel ${c}`);
    near(Math.sqrt(s2 / 5120), 1, 1e-3, `std of channel ${c}`);
    near(ds.mean[c]!, rs / 5120, 1e-5, `recorded mean of channel ${c}`);
  }
});

test('image folder: size, bilinear upscale, class-balanced limit, split subfolders', () => {
  const dir = tempDir('folder2');
  for (const split of ['train', 'val']) {
    for (const cls of ['a', 'b']) {
      mkdirSync(join(dir, split, cls), { recursive: true });
      for (let k = 0; k < 3; k++) writePng(join(dir, split, cls, `${k}.png`), 2, 2, (x) => [x * 255, cls === 'a' ? 0 : 255, k * 100]);
    }
  }
  const up = loadDataset('folder', { data: dir, split: 'train', size: 4, ...RAW });
  assert.deepEqual([up.count, up.height, up.width], [6, 4, 4]);
  // half-pixel bilinear: source x = (i + 0.5) / 2 − 0.5, clamped → 0, 0.25, 0.75, 1
  assert.deepEqual(Array.from({ length: 4 }, (_, x) => Math.round(at(up, 0, 0, 1, x) * 1000) / 1000), [0, 0.25, 0.75, 1]);
  const few = loadDataset('folder', { data: dir, split: 'test', limit: 3 });
  assert.deepEqual([...few.labels], [0, 0, 1]);
  assert.ok(few.sources.every((s) => s.includes(join(dir, 'val'))));
  assert.deepEqual(few.sources.map((s) => s.slice(-5)), ['0.png', '1.png', '0.png']);
  throwsInput(() => loadDataset('folder', { data: join(dir, 'train', 'a'), split: 'train' }), /no train subfolder for split 'train'/);
});

test('image folder bad data: empty class folder, no classes, undecodable images, missing folder', () => {
  const dir = tempDir('folderbad');
  throwsInput(() => loadDataset('folder', {}), /give the folder/);
  throwsInput(() => loadDataset('folder', { data: join(dir, 'missing') }), /not a directory/);
  throwsInput(() => loadDataset('folder', { data: dir }), re(dir), /no class folders/);
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  writePng(join(dir, 'a', 'ok.png'), 8, 8, () => [1, 2, 3]);
  writeFileSync(join(dir, 'b', 'readme.txt'), 'no images here');
  throwsInput(() => loadDataset('folder', { data: dir }), re(join(dir, 'b')), /empty class folder: no \.png, \.jpg or \.jpeg files \(class 'b'\)/);

  const bad = join(dir, 'b', 'x.png');
  writeFileSync(bad, 'hello, not a png');
  throwsInput(() => loadDataset('folder', { data: dir }), re(bad), /not a PNG or JPEG file/);
  const png = readFileSync(join(dir, 'a', 'ok.png'));
  writeFileSync(bad, png.subarray(0, png.length - 20));
  // a truncated file is said to be truncated (issue 18), not left to the decoder's words
  throwsInput(() => loadDataset('folder', { data: dir }), re(bad), /the PNG file is truncated or incomplete/);
  const corrupt = Buffer.from(png);
  corrupt.fill(7, 40, 60); // inside the compressed pixel data: fails zlib or the CRC
  writeFileSync(bad, corrupt);
  throwsInput(() => loadDataset('folder', { data: dir }), re(bad), /cannot decode PNG image/);
  const jpg = join(dir, 'b', 'y.jpg');
  writeFileSync(bad, png);
  writeFileSync(jpg, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(30, 1)]));
  // a JPEG that ends after its first segment is truncated, and said so (issue 18)
  throwsInput(() => loadDataset('folder', { data: dir }), re(jpg), /the JPEG file is truncated or incomplete/);
});
