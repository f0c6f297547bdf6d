/**
 * The images a search or a training run uses: the dataset's training images split (seeded, class-stratified)
 * into train and validation parts — or its own validation part when it has one (a folder's `val/`, an npz's
 * `x_val`) —, optionally capped, plus the dataset's test images where it has them. Images are read from the image
 * cache (src/data/images.ts) as batches are needed; only labels and row numbers are held here. The split and a
 * content fingerprint are reported, so the query cache never mixes results of different data or preprocessing.
 */
import { DATASET_NAMES } from '../data/index.js';
import { balancedPick } from '../data/common.js';
import { datasetParts, openPart, type ImageOptions } from '../data/images.js';
import { fingerprintSets, StoredSet, type ImageSet } from '../data/imageset.js';
import { Histogram } from '../data/pixels.js';
import { splitLabels } from '../data/split.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { seedStreams } from '../util/seeds.js';
import type { TrainData } from './trainer.js';

export interface DataOptions {
  dataset: string;
  /** Dataset folder or file (the loaders' `data` option). */
  dir?: string;
  /** Share of the training images that go to validation (default 0.2; unused when the dataset has a val part). */
  validFraction?: number;
  /** Keep at most this many training / validation images (seeded, class-balanced subsets). */
  trainLimit?: number;
  validLimit?: number;
  /** Load the test images too (when the dataset has them). */
  withTest?: boolean;
  testLimit?: number;
  /** Seed of the split and of the subsets. */
  seed: number;
  /** Working image size (square) and channels; undefined: the images' own. */
  imageSize?: number;
  imageChannels?: 1 | 3;
  /** Folder of the image caches; undefined: decode into memory and keep nothing. */
  cacheDir?: string;
  /** Decoding threads (default: the number of cores). */
  threads?: number;
  onProgress?(phase: string, done: number, total: number): void;
  /** Cache folders of the parts, when known (see ImageOptions.folders). */
  folders?: Partial<Record<'train' | 'val' | 'test' | 'all', string>>;
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
  /** Class names by label, where the dataset has them. */
  classNames?: string[];
  /** Where the validation images come from, when not from the seeded split (e.g. a folder's val/ part). */
  validFrom?: string;
  /** What preprocessing did that the user should know (mixed sizes resized, classes missing from a part…). */
  notes?: string[];
}

export interface PreparedData extends TrainData {
  train: ImageSet;
  valid: ImageSet;
  test?: ImageSet;
  info: DataInfo;
  /** The image cache folders of the parts read (for jobs on other threads: they open them without listing). */
  folders: Partial<Record<'train' | 'val' | 'test' | 'all', string>>;
}

/** Datasets shipped only as one set of images: everything is split into train/validation, no test part. */
const SINGLE_SET: readonly string[] = ['cifar10-1k'];

/** A seeded, class-stratified subset of at most `limit` images (all of them, in order, when there are fewer). */
function capped(s: ImageSet, limit: number | undefined, seed: number, what: string): ImageSet {
  if (limit === undefined || limit >= s.count) return s;
  if (!(Number.isInteger(limit) && limit >= 2)) throw new InputError(`--${what}-limit must be an integer ≥ 2, got ${limit}`);
  return s.select(splitLabels(s.labels, s.classes, { trainCount: limit, seed }).trainIndices);
}

/**
 * Whether a dataset has its training images in a separate 'train' part (and so test images): false for a dataset
 * that is one set of images (the shared CIFAR-10 subset; a folder without train/; a CSV without a split column).
 */
export async function hasTrainPart(dataset: string, dir: string | undefined): Promise<boolean> {
  if (SINGLE_SET.includes(dataset)) return false;
  return (await datasetParts({ dataset, ...(dir !== undefined ? { data: dir } : {}) })).train === 'train';
}

/** Mean and std of a part's pixels (exact, from its byte histograms). */
function partStats(meta: { shape: number[]; histogram: number[]; levels: number[] | null }): { mean: number[]; std: number[] } {
  const h = new Histogram(meta.shape[0]!);
  h.add(meta.histogram);
  return h.stats(meta.levels ?? undefined);
}

/** The image options of data options. */
function imageOptions(o: DataOptions): ImageOptions {
  return {
    dataset: o.dataset,
    ...(o.dir !== undefined ? { data: o.dir } : {}),
    ...(o.imageSize !== undefined ? { size: o.imageSize } : {}),
    ...(o.imageChannels !== undefined ? { channels: o.imageChannels } : {}),
    ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.folders ? { folders: o.folders } : {}),
  };
}

/** Loads and splits a dataset for training (see the module comment). */
export async function prepareData(o: DataOptions): Promise<PreparedData> {
  if (!(DATASET_NAMES as readonly string[]).includes(o.dataset)) {
    throw new InputError(`unknown dataset '${o.dataset}'; expected one of ${DATASET_NAMES.join(', ')}`);
  }
  const validFraction = o.validFraction ?? 0.2;
  if (!(validFraction > 0 && validFraction < 1)) throw new InputError(`--valid-fraction must be between 0 and 1 (exclusive), got ${validFraction}`);
  const io = imageOptions(o);
  const parts = await datasetParts(io);
  const trainPart = await openPart(io, parts.train);
  const meta = trainPart.meta;
  const name = o.dataset === 'imagenet16-120' ? 'imagenet16' : o.dataset;
  if (meta.count < 4) throw new InputError(`${o.dataset}: ${meta.count} image(s); at least 4 are needed to train and validate`);
  if (meta.classes < 2) {
    throw new InputError(`${o.dataset}${o.dir !== undefined ? ` (${o.dir})` : ''}: the images have ${meta.classes} class; a classifier needs at least 2 (one folder of images per class)`);
  }
  const norm = meta.norm ?? partStats(meta);
  const notes = [...meta.notes];
  const folders: PreparedData['folders'] = {};
  if (trainPart.folder !== null) folders[parts.train] = trainPart.folder;
  const all = new StoredSet(name, trainPart.store, Int32Array.from({ length: meta.count }, (_, i) => i), meta.classes, norm.mean, norm.std, meta.sources, meta.classNames);
  const subRng = new Rng(o.seed);
  let trainAll: ImageSet;
  let validAll: ImageSet;
  let validFrom: string | undefined;
  if (parts.val) {
    const v = await openPart(io, 'val', meta);
    notes.push(...v.meta.notes);
    if (v.folder !== null) folders.val = v.folder;
    trainAll = all;
    validAll = new StoredSet(name, v.store, Int32Array.from({ length: v.meta.count }, (_, i) => i), meta.classes, norm.mean, norm.std, v.meta.sources, meta.classNames);
    validFrom = `${v.meta.what} (${v.meta.sources.join(', ')})`;
  } else {
    const split = splitLabels(all.labels, all.classes, { trainFraction: 1 - validFraction, seed: seedStreams.split(o.seed) });
    trainAll = all.select(split.trainIndices);
    validAll = all.select(split.validIndices);
  }
  // the subset caps' stream (util/seeds.ts)
  const train = capped(trainAll, o.trainLimit, subRng.int(2 ** 31), 'train');
  const valid = capped(validAll, o.validLimit, subRng.int(2 ** 31), 'valid');
  let test: ImageSet | undefined;
  if (o.withTest && parts.test) {
    // Normalised with the training images' statistics; the limit is class-balanced (round-robin).
    const t = await openPart(io, 'test', meta);
    notes.push(...t.meta.notes);
    if (t.folder !== null) folders.test = t.folder;
    const rows = balancedPick(t.store.labels, meta.classes, o.testLimit);
    test = new StoredSet(name, t.store, Int32Array.from(rows), meta.classes, norm.mean, norm.std, t.meta.sources, meta.classNames);
  }
  const info: DataInfo = {
    dataset: o.dataset,
    sources: [...meta.sources],
    trainCount: train.count,
    validCount: valid.count,
    testCount: test ? test.count : null,
    validFraction,
    splitSeed: o.seed,
    shape: [...meta.shape],
    classes: meta.classes,
    fingerprint: fingerprintSets([train, valid]),
    mean: [...norm.mean],
    std: [...norm.std],
    ...(meta.classNames ? { classNames: [...meta.classNames] } : {}),
    ...(validFrom !== undefined ? { validFrom } : {}),
    ...(notes.length > 0 ? { notes } : {}),
  };
  return { train, valid, ...(test ? { test } : {}), info, folders };
}
