/**
 * The images a search or a training run uses: the dataset's training images split (seeded, class-stratified)
 * into train and validation parts, optionally capped, plus the dataset's test images where it has them. The
 * split and a content fingerprint are reported, so the query cache never mixes results of different data.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATASET_NAMES, loadDataset, splitDataset, type DatasetName, type ImageDataset } from '../data/index.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { seedStreams } from '../util/seeds.js';
import type { TrainData } from './trainer.js';
import { fingerprint } from '../data/fingerprint.js';

export { datasetFingerprint } from '../data/fingerprint.js';

export interface DataOptions {
  dataset: string;
  /** Dataset folder (the loaders' `data` option). */
  dir?: string;
  /** Share of the training images that go to validation (default 0.2). */
  validFraction?: number;
  /** Keep at most this many training / validation images (seeded, class-balanced subsets). */
  trainLimit?: number;
  validLimit?: number;
  /** Load the test images too (when the dataset has them). */
  withTest?: boolean;
  testLimit?: number;
  /** Seed of the split and of the subsets. */
  seed: number;
  /** Folder datasets: label the training images by these class names (a model's), see data/folder.ts. */
  classNames?: readonly string[];
  classNamesFrom?: string;
}

export interface DataInfo {
  dataset: string;
  /** Files (or package) the images came from. */
  sources: string[];
  trainCount: number;
  validCount: number;
  testCount: number | null;
  validFraction: number;
  splitSeed: number;
  /** [channels, height, width]. */
  shape: [number, number, number];
  classes: number;
  /** SHA-256 (first 16 hex digits) over train and validation images and labels: what the cache keys on. */
  fingerprint: string;
  mean: number[];
  std: number[];
}

export interface PreparedData extends TrainData {
  info: DataInfo;
}

/** Datasets shipped only as one set of images: everything is split into train/validation, no test part. */
const SINGLE_SET: readonly string[] = ['cifar10-1k'];

/** A seeded, class-stratified subset of at most `limit` images (all of them, in order, when there are fewer). */
function capped(ds: ImageDataset, limit: number | undefined, seed: number, what: string): ImageDataset {
  if (limit === undefined || limit >= ds.count) return ds;
  if (!(Number.isInteger(limit) && limit >= 2)) throw new InputError(`--${what}-limit must be an integer ≥ 2, got ${limit}`);
  return splitDataset(ds, { trainCount: limit, seed }).train;
}

/**
 * The split holding a dataset's training images: 'train', or undefined for a dataset that is one set of images
 * (the shared CIFAR-10 subset; a folder without train/ and test/ subfolders).
 */
export function trainSplitOf(dataset: string, dir: string | undefined): 'train' | undefined {
  if (SINGLE_SET.includes(dataset)) return undefined;
  if (dataset === 'folder') return dir !== undefined && existsSync(join(dir, 'train')) && existsSync(join(dir, 'test')) ? 'train' : undefined;
  return 'train';
}

/** Loads and splits a dataset for training (see the module comment). */
export function prepareData(o: DataOptions): PreparedData {
  if (!(DATASET_NAMES as readonly string[]).includes(o.dataset)) {
    throw new InputError(`unknown dataset '${o.dataset}'; expected one of ${DATASET_NAMES.join(', ')}`);
  }
  const name = o.dataset as DatasetName;
  const validFraction = o.validFraction ?? 0.2;
  if (!(validFraction > 0 && validFraction < 1)) throw new InputError(`--valid-fraction must be between 0 and 1 (exclusive), got ${validFraction}`);
  // Datasets with a separate training split also have test images (see trainSplitOf).
  const trainSplit = trainSplitOf(name, o.dir);
  const hasTest = trainSplit !== undefined;
  const base = { ...(o.dir !== undefined ? { data: o.dir } : {}) };
  const named = o.classNames !== undefined ? { classNames: o.classNames, ...(o.classNamesFrom !== undefined ? { classNamesFrom: o.classNamesFrom } : {}) } : {};
  const all = loadDataset(name, { ...base, ...named, ...(trainSplit === undefined ? {} : { split: trainSplit }) });
  if (all.count < 4) throw new InputError(`${o.dataset}: ${all.count} image(s); at least 4 are needed to train and validate`);
  if (all.classes < 2) {
    throw new InputError(`${o.dataset}${o.dir !== undefined ? ` (${o.dir})` : ''}: the images have ${all.classes} class; a classifier needs at least 2 (one folder of images per class)`);
  }
  const split = splitDataset(all, { trainFraction: 1 - validFraction, seed: seedStreams.split(o.seed) });
  // the subset caps' stream (util/seeds.ts)
  const subRng = new Rng(o.seed);
  const train = capped(split.train, o.trainLimit, subRng.int(2 ** 31), 'train');
  const valid = capped(split.valid, o.validLimit, subRng.int(2 ** 31), 'valid');
  let test: ImageDataset | undefined;
  if (o.withTest && hasTest) {
    // The loaders' limit is class-balanced where files are sorted by class (MNIST).
    // Normalised with the training images' statistics (folder datasets compute their own otherwise).
    // Test folders are matched to the training classes by name (a class may be missing there, not added).
    const classes = all.classNames !== undefined ? { classNames: all.classNames, classNamesFrom: `the training images (${o.dir !== undefined ? join(o.dir, 'train') : 'train'})` } : {};
    test = loadDataset(name, { ...base, ...classes, split: 'test', mean: all.mean, std: all.std, ...(o.testLimit !== undefined ? { limit: o.testLimit } : {}) });
  }
  const info: DataInfo = {
    dataset: o.dataset,
    sources: [...all.sources],
    trainCount: train.count,
    validCount: valid.count,
    testCount: test ? test.count : null,
    validFraction,
    splitSeed: o.seed,
    shape: [all.channels, all.height, all.width],
    classes: all.classes,
    fingerprint: fingerprint([train, valid]),
    mean: [...all.mean],
    std: [...all.std],
  };
  return { train, valid, ...(test ? { test } : {}), info };
}
