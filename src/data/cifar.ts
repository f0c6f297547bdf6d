/**
 * CIFAR-10 and CIFAR-100, binary releases (https://www.cs.toronto.edu/~kriz/cifar.html):
 * - cifar-10-batches-bin/: data_batch_1.bin … data_batch_5.bin (train, 10,000 records each) and
 *   test_batch.bin; a record is 1 label byte (0..9) + 3,072 pixel bytes (R plane, G plane, B plane,
 *   32×32 each, row-major) = 3,073 bytes;
 * - cifar-100-binary/: train.bin (50,000) and test.bin (10,000); a record is 2 label bytes (coarse
 *   0..19, fine 0..99) + 3,072 pixel bytes = 3,074 bytes. The fine label is used.
 * Records are kept in file order (the releases are already shuffled), so `limit` takes the first
 * ones and reads only those.
 */
import { inputError } from '../util/errors.js';
import { CIFAR10_CLASSES, PixelSink, candidateDirs, checkOptions, chw, finishDataset, findFiles, pickNorm, readRange, recordCount, type LoadOptions } from './common.js';
import type { ImageDataset } from './types.js';

interface CifarFormat {
  name: 'cifar10' | 'cifar100';
  classes: number;
  /** Label bytes before the pixels; the label used is the last of them. */
  labelBytes: number;
  train: string[];
  test: string[];
  /** Release folder name, also looked for inside `data`. */
  folder: string;
  mean: readonly number[];
  std: readonly number[];
  layout: string;
}

const PIXELS = 3 * 32 * 32;

export const CIFAR10_FORMAT: CifarFormat = {
  name: 'cifar10',
  classes: 10,
  labelBytes: 1,
  train: [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`),
  test: ['test_batch.bin'],
  folder: 'cifar-10-batches-bin',
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.247, 0.2435, 0.2616],
  layout: 'CIFAR-10 binary: 1 label byte + 3072 pixel bytes',
};

export const CIFAR100_FORMAT: CifarFormat = {
  name: 'cifar100',
  classes: 100,
  labelBytes: 2,
  train: ['train.bin'],
  test: ['test.bin'],
  folder: 'cifar-100-binary',
  mean: [0.5071, 0.4865, 0.4409],
  std: [0.2673, 0.2564, 0.2762],
  layout: 'CIFAR-100 binary: coarse and fine label bytes + 3072 pixel bytes',
};

export function loadCifarBinary(format: CifarFormat, opts: LoadOptions = {}): ImageDataset {
  const { limit, size } = checkOptions(opts);
  const norm = pickNorm(opts, 3, format);
  const split = opts.split ?? 'train';
  const names = split === 'train' ? format.train : format.test;
  const { files } = findFiles(candidateDirs(opts.data, [format.folder], format.name), names, `the ${format.name} ${split} files of the binary release (${format.folder}/)`);
  const rec = format.labelBytes + PIXELS;

  // counts first (sizes only), so the output is allocated once
  const counts = files.map((f) => recordCount(f, rec, format.layout));
  const total = Math.min(limit ?? Infinity, counts.reduce((a, b) => a + b, 0));
  const side = size ?? 32;
  const sink = new PixelSink(total, 3, side, side, norm);
  const labels = new Int32Array(total);
  const sources: string[] = [];
  let n = 0;
  for (let f = 0; f < files.length && n < total; f++) {
    const take = Math.min(counts[f]!, total - n);
    const buf = readRange(files[f]!, 0, take * rec);
    sources.push(files[f]!);
    for (let r = 0; r < take; r++) {
      const at = r * rec;
      if (format.labelBytes === 2 && buf[at]! >= 20) {
        throw inputError(files[f], undefined, `record ${r} (byte ${at}): coarse label ${buf[at]}, expected 0..19 (${format.layout})`);
      }
      const label = buf[at + format.labelBytes - 1]!;
      if (label >= format.classes) {
        throw inputError(files[f], undefined, `record ${r} (byte ${at}): label ${label}, expected 0..${format.classes - 1} (${format.layout})`);
      }
      labels[n] = label;
      sink.put(n, buf, chw(at + format.labelBytes, 32, 32), 1 / 255);
      n++;
    }
  }
  return finishDataset(
    sink,
    {
      name: format.name,
      labels,
      classes: format.classes,
      sources,
      ...(format.name === 'cifar10' ? { classNames: CIFAR10_CLASSES } : {}),
    },
  );
}
