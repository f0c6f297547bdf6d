/**
 * The shared 1,000-image CIFAR-10 subset (`<data>/cifar10/`, see the data README):
 * `images_1000x32x32x3_uint8.bin` raw uint8 NHWC RGB, `labels_1000_uint8.bin` one byte 0..9 per
 * image, 100 test images per class in label order. `data` is the data folder (default: the
 * project's, see formats/data-folder.ts) or its `cifar10/` subfolder. It is a single set of test images,
 * so `split` may only be omitted or 'test'; split it with `splitDataset`.
 * Being sorted by class, `limit` picks class-balanced (round-robin) rather than the first images.
 */
import { InputError, inputError } from '../util/errors.js';
import { CIFAR10_CLASSES, PixelSink, balancedPick, candidateDirs, checkOptions, fileSize, finishDataset, findFiles, hwc, pickNorm, readRange, type LoadOptions } from './common.js';
import { CIFAR10_FORMAT } from './cifar.js';
import type { ImageDataset } from './types.js';

export const CIFAR10_1K_FILES = ['images_1000x32x32x3_uint8.bin', 'labels_1000_uint8.bin'] as const;
const PIXELS = 32 * 32 * 3;

export function loadCifar10Subset(opts: LoadOptions = {}): ImageDataset {
  const { limit, size } = checkOptions(opts);
  const norm = pickNorm(opts, 3, CIFAR10_FORMAT);
  if (opts.split === 'train') {
    throw new InputError("cifar10-1k holds only CIFAR-10 test images (one split); omit split or use 'test', and split it with splitDataset");
  }
  const { files } = findFiles(candidateDirs(opts.data, ['cifar10'], 'cifar10-1k').reverse(), CIFAR10_1K_FILES, 'the shared CIFAR-10 subset');
  const [imageFile, labelFile] = files as [string, string];

  const n = fileSize(labelFile);
  if (n === 0) throw inputError(labelFile, undefined, 'empty file; expected one label byte per image');
  const labelBytes = readRange(labelFile, 0, n);
  for (let i = 0; i < n; i++) {
    if (labelBytes[i]! > 9) throw inputError(labelFile, undefined, `image ${i}: label ${labelBytes[i]}, expected 0..9`);
  }
  const imageBytes = fileSize(imageFile);
  if (imageBytes !== n * PIXELS) {
    const whole = imageBytes % PIXELS === 0 ? `${imageBytes / PIXELS} images` : `not a multiple of ${PIXELS}`;
    throw inputError(imageFile, undefined, `file size ${imageBytes} (${whole}); expected ${n} images of 32×32×3 bytes (${n * PIXELS} bytes) to match ${labelFile}`);
  }
  const pixels = readRange(imageFile, 0, imageBytes);

  const pick = balancedPick(labelBytes, 10, limit);
  const side = size ?? 32;
  const sink = new PixelSink(pick.length, 3, side, side, norm);
  const labels = new Int32Array(pick.length);
  pick.forEach((src, k) => {
    labels[k] = labelBytes[src]!;
    sink.put(k, pixels, hwc(src * PIXELS, 32, 32, 3), 1 / 255);
  });
  return finishDataset(
    sink,
    { name: 'cifar10-1k', labels, classes: 10, sources: [imageFile, labelFile], classNames: CIFAR10_CLASSES },
  );
}
