import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { augmentBatch, augmentFor } from '../../src/train/augment.js';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';

/** A batch whose every value is distinct and positive, so padding (negative) and positions are recognisable. */
function batch(n: number, c: number, h: number, w: number): Float32Array {
  return Float32Array.from({ length: n * c * h * w }, (_, i) => i + 1);
}

/** Whether image `img` of `out` is `inp` shifted by (oy, ox), optionally mirrored after the shift, padded with `pv`. */
function matches(out: Float32Array, inp: Float32Array, img: number, c: number, h: number, w: number, oy: number, ox: number, mirror: boolean, pv: readonly number[]): boolean {
  for (let ch = 0; ch < c; ch++) {
    const base = (img * c + ch) * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const sy = y + oy;
        const sx = (mirror ? w - 1 - x : x) + ox;
        const want = sy < 0 || sy >= h || sx < 0 || sx >= w ? Math.fround(pv[ch]) : inp[base + sy * w + sx];
        if (out[base + y * w + x] !== want) return false;
      }
    }
  }
  return true;
}

const dims = fc.record({
  n: fc.integer({ min: 1, max: 4 }),
  c: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 7 }),
  w: fc.integer({ min: 1, max: 7 }),
  pad: fc.integer({ min: 0, max: 4 }),
  flip: fc.boolean(),
  seed: fc.integer(),
});

test('pad 0 and no flip: an exact copy in a new array', () => {
  const x = batch(2, 3, 4, 5);
  const y = augmentBatch(x, 2, 3, 4, 5, { pad: 0, flip: false, padValue: [0, 0, 0] }, new Rng(1));
  assert.notEqual(y, x);
  assert.deepEqual(y, x);
});

test('reference: pad, crop at the drawn offsets, flip — draws are dy, dx, flip per image', () => {
  const [n, c, h, w, pad] = [3, 2, 4, 5, 2];
  const x = batch(n, c, h, w);
  const pv = [-1.5, -2.5];
  const out = augmentBatch(x, n, c, h, w, { pad, flip: true, padValue: pv }, new Rng(42));
  const rng = new Rng(42);
  for (let img = 0; img < n; img++) {
    const dy = rng.int(2 * pad + 1);
    const dx = rng.int(2 * pad + 1);
    const mirror = rng.next() < 0.5;
    // Explicitly padded image, then the crop, then the flip.
    const H = h + 2 * pad;
    const W = w + 2 * pad;
    for (let ch = 0; ch < c; ch++) {
      const padded = new Float32Array(H * W).fill(pv[ch]);
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) padded[(y + pad) * W + xx + pad] = x[((img * c + ch) * h + y) * w + xx];
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < w; xx++) {
          const cx = mirror ? w - 1 - xx : xx;
          assert.equal(out[((img * c + ch) * h + y) * w + xx], padded[(y + dy) * W + cx + dx], `image ${img} (${ch},${y},${xx})`);
        }
      }
    }
  }
});

test('property: each image is the input shifted within ±pad (and maybe mirrored), padded with padValue', () => {
  fc.assert(
    fc.property(dims, ({ n, c, h, w, pad, flip, seed }) => {
      const x = batch(n, c, h, w);
      const pv = Array.from({ length: c }, (_, i) => -(i + 1) / 4);
      const out = augmentBatch(x, n, c, h, w, { pad, flip, padValue: pv }, new Rng(seed));
      assert.equal(out.length, x.length);
      for (let img = 0; img < n; img++) {
        let found = false;
        for (let oy = -pad; oy <= pad && !found; oy++) {
          for (let ox = -pad; ox <= pad && !found; ox++) {
            found = matches(out, x, img, c, h, w, oy, ox, false, pv) || (flip && matches(out, x, img, c, h, w, oy, ox, true, pv));
          }
        }
        assert.ok(found, `image ${img} is not a padded crop of its input`);
        // Each output pixel is the padding or an input pixel of the same image and channel.
        for (let ch = 0; ch < c; ch++) {
          const base = (img * c + ch) * h * w;
          const allowed = new Set([Math.fround(pv[ch]), ...x.subarray(base, base + h * w)]);
          for (const v of out.subarray(base, base + h * w)) assert.ok(allowed.has(v));
        }
      }
    }),
  );
});

test('property: pad 0 with flip gives each image identical or exactly mirrored', () => {
  fc.assert(
    fc.property(dims, ({ n, c, h, w, seed }) => {
      const x = batch(n, c, h, w);
      const out = augmentBatch(x, n, c, h, w, { pad: 0, flip: true, padValue: new Array(c).fill(0) }, new Rng(seed));
      for (let img = 0; img < n; img++) {
        const same = matches(out, x, img, c, h, w, 0, 0, false, []);
        const mirrored = matches(out, x, img, c, h, w, 0, 0, true, []);
        assert.ok(same || mirrored);
      }
    }),
  );
});

test('flips happen about half the time; crop offsets cover 0..2·pad', () => {
  const [n, h, w] = [2000, 1, 2];
  const x = batch(n, 1, h, w);
  const out = augmentBatch(x, n, 1, h, w, { pad: 0, flip: true, padValue: [0] }, new Rng(7));
  let flipped = 0;
  for (let i = 0; i < n; i++) if (out[2 * i] === x[2 * i + 1]) flipped++;
  assert.ok(Math.abs(flipped / n - 0.5) < 0.05, `flip rate ${flipped / n}`);
  // 1×1 images with pad 1: the pixel survives only at offset (1, 1), i.e. 1 in 9.
  const m = 9000;
  const one = augmentBatch(batch(m, 1, 1, 1), m, 1, 1, 1, { pad: 1, flip: false, padValue: [-1] }, new Rng(8));
  const kept = one.filter((v) => v !== -1).length;
  assert.ok(Math.abs(kept / m - 1 / 9) < 0.02, `kept ${kept / m}`);
});

test('deterministic for a seed, different across seeds', () => {
  const x = batch(8, 3, 6, 6);
  const opts = { pad: 2, flip: true, padValue: [-1, -2, -3] };
  const a = augmentBatch(x, 8, 3, 6, 6, opts, new Rng(5));
  const b = augmentBatch(x, 8, 3, 6, 6, opts, new Rng(5));
  const d = augmentBatch(x, 8, 3, 6, 6, opts, new Rng(6));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, d);
});

test('bad inputs', () => {
  const x = batch(1, 1, 2, 2);
  assert.throws(() => augmentBatch(x, 1, 1, 2, 3, { pad: 0, flip: false, padValue: [0] }, new Rng(1)), /4 values for a 1×1×2×3 batch/);
  assert.throws(() => augmentBatch(x, 1, 1, 2, 2, { pad: -1, flip: false, padValue: [0] }, new Rng(1)), InputError);
  assert.throws(() => augmentBatch(x, 1, 1, 2, 2, { pad: 1.5, flip: false, padValue: [0] }, new Rng(1)), InputError);
  assert.throws(() => augmentBatch(x, 1, 1, 2, 2, { pad: 1, flip: false, padValue: [0, 0] }, new Rng(1)), InputError);
});

test('augmentFor: the usual settings per dataset, padValue = −mean/std', () => {
  const mean = [0.4914, 0.4822, 0.4465];
  const std = [0.247, 0.2435, 0.2616];
  const c10 = augmentFor('cifar10', mean, std, 32);
  assert.equal(c10.pad, 4);
  assert.equal(c10.flip, true);
  c10.padValue.forEach((v, i) => assert.equal(v, -mean[i] / std[i]));
  for (const ds of ['cifar100', 'cifar10-1k', 'folder']) {
    assert.deepEqual([augmentFor(ds, mean, std, 32).pad, augmentFor(ds, mean, std, 32).flip], [4, true]);
    assert.equal(augmentFor(ds, mean, std, 16).pad, 2);
  }
  for (const ds of ['imagenet16', 'imagenet16-120']) assert.deepEqual([augmentFor(ds, mean, std, 16).pad, augmentFor(ds, mean, std, 16).flip], [2, true]);
  const mn = augmentFor('mnist', [0.1307], [0.3081], 28);
  assert.deepEqual(mn, { pad: 2, flip: false, padValue: [-0.1307 / 0.3081] });
  assert.throws(() => augmentFor('svhn', mean, std, 32), InputError);
  assert.throws(() => augmentFor('cifar10', mean, [1, 1], 32), InputError);
  assert.throws(() => augmentFor('cifar10', mean, [1, 0, 1], 32), InputError);
});
