/**
 * Image datasets for scoring and training networks: `loadDataset(name, opts)` returns an
 * ImageDataset (NCHW float32, normalised). Formats and folder layouts are described in each
 * loader's module; `splitDataset`, `subset` and `batchOf` work on any of them.
 */
import { InputError } from '../util/errors.js';
import { CIFAR100_FORMAT, CIFAR10_FORMAT, loadCifarBinary } from './cifar.js';
import { loadCifar10Subset } from './cifar10-1k.js';
import type { LoadOptions } from './common.js';
import { loadImageFolder } from './folder.js';
import { loadImageNet16 } from './imagenet16.js';
import { loadMnist } from './mnist.js';
import type { ImageDataset } from './types.js';

export type { ImageDataset, Split } from './types.js';
export type { LoadOptions } from './common.js';
export { CIFAR10_CLASSES } from './common.js';
export { CIFAR100_FORMAT, CIFAR10_FORMAT, loadCifarBinary } from './cifar.js';
export { CIFAR10_1K_FILES, loadCifar10Subset } from './cifar10-1k.js';
export { IMAGENET16_MEAN, IMAGENET16_STD, IMAGENET16_TEST_FILES, IMAGENET16_TRAIN_FILES, loadImageNet16 } from './imagenet16.js';
export { MNIST_MEAN, MNIST_STD, MNIST_TRAIN_FRACTION, loadMnist } from './mnist.js';
export { decodeImage, loadImageFolder } from './folder.js';
export { batchOf, splitDataset, splitLabels, subset, type DatasetSplit, type SplitOptions } from './split.js';
export { datasetParts, openPart, type ImageOptions, type OpenedPart, type Part } from './images.js';
export { StoredSet, asImageSet, fingerprintSets, type ImageSet } from './imageset.js';

export const DATASET_NAMES = ['cifar10', 'cifar100', 'cifar10-1k', 'imagenet16', 'imagenet16-120', 'mnist', 'folder', 'csv', 'idx', 'npz'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/**
 * Loads a dataset (synchronously; the whole selection is read into memory).
 * - `cifar10`, `cifar100`: binary releases in `data` or `data/cifar-10-batches-bin` /
 *   `data/cifar-100-binary`; split 'train' (default) or 'test'.
 * - `cifar10-1k`: the shared 1,000-image subset in `data/cifar10/` (or `data`); `data` defaults to
 *   the project's data folder (formats/data-folder.ts). Test images only: split omitted or 'test'.
 * - `imagenet16` (= `imagenet16-120`): the pickled batches in `data` or `data/ImageNet16`.
 * - `mnist`: the `mnist` package's 10,000 digits (7,996 train / 2,004 test); `data` unused.
 * - `folder`: `data/<class>/*.png|jpg|jpeg` (with split: `data/<split>/<class>/…`), size default 32.
 * Without `data`, the CIFAR and ImageNet16 loaders also try the project's data folder.
 * Errors in the files or options are InputErrors naming the file and what was expected.
 */
export function loadDataset(name: DatasetName, opts: LoadOptions = {}): ImageDataset {
  switch (name) {
    case 'cifar10':
      return loadCifarBinary(CIFAR10_FORMAT, opts);
    case 'cifar100':
      return loadCifarBinary(CIFAR100_FORMAT, opts);
    case 'cifar10-1k':
      return loadCifar10Subset(opts);
    case 'imagenet16':
    case 'imagenet16-120':
      return loadImageNet16(opts);
    case 'mnist':
      return loadMnist(opts);
    case 'folder':
      return loadImageFolder(opts);
    case 'csv':
    case 'idx':
    case 'npz':
      throw new InputError(`${name}: this format is read through the image cache (prepareData, or openPart in src/data/images.ts), not loadDataset`);
    default:
      throw new InputError(`unknown dataset '${String(name)}'; expected one of ${DATASET_NAMES.join(', ')}`);
  }
}
