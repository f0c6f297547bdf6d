/** Subsets, seeded train/validation splits and batches of an ImageDataset. */
import { Rng } from '../util/rng.js';
import { InputError } from '../util/errors.js';
import type { ImageDataset } from './types.js';

function checkIndices(ds: ImageDataset, indices: ArrayLike<number>): void {
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!(Number.isInteger(i) && i >= 0 && i < ds.count)) throw new RangeError(`index ${i} is not an image of ${ds.name} (0..${ds.count - 1})`);
  }
}

/** Images (k×C×H×W, copied) and labels of the given images, in the given order. */
export function batchOf(ds: ImageDataset, indices: ArrayLike<number>): { images: Float32Array; labels: Int32Array } {
  checkIndices(ds, indices);
  const per = ds.channels * ds.height * ds.width;
  const images = new Float32Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    images.set(ds.images.subarray(i * per, (i + 1) * per), k * per);
    labels[k] = ds.labels[i]!;
  }
  return { images, labels };
}

/**
 * A dataset of the given images (copied, in the given order), with the same normalisation and classes; sources that
 * name one file per image (folder datasets) follow their images.
 */
export function subset(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const { images, labels } = batchOf(ds, indices);
  const sources = ds.sources.length === ds.count && ds.count > 0 ? Array.from(indices, (i) => ds.sources[i]!) : ds.sources;
  return { ...ds, images, labels, count: labels.length, sources };
}

export interface SplitOptions {
  /** Share of images for `train` (0..1); the count is rounded. Give this or `trainCount`. */
  trainFraction?: number;
  trainCount?: number;
  seed: number;
  /** Keep each class's share in both parts (default true); false: a plain random split. */
  stratified?: boolean;
}

export interface DatasetSplit {
  train: ImageDataset;
  valid: ImageDataset;
  /** Indices into the original dataset, ascending. */
  trainIndices: number[];
  validIndices: number[];
}

/**
 * Seeded split into train and validation parts. Stratified: each class's images are shuffled and
 * its quota of train images (trainCount × class share, rounded by largest remainder so the quotas
 * add up to trainCount exactly) taken first. Both parts keep the original order of the images.
 */
export function splitDataset(ds: ImageDataset, opts: SplitOptions): DatasetSplit {
  const { trainIndices, validIndices } = splitLabels(ds.labels, ds.classes, opts);
  return { train: subset(ds, trainIndices), valid: subset(ds, validIndices), trainIndices, validIndices };
}

/** `splitDataset` on labels alone: the indices of the two parts (ascending). */
export function splitLabels(labels: ArrayLike<number>, classes: number, opts: SplitOptions): { trainIndices: number[]; validIndices: number[] } {
  const n = labels.length;
  let trainCount: number;
  if ((opts.trainFraction === undefined) === (opts.trainCount === undefined)) throw new InputError('splitDataset: give exactly one of trainFraction and trainCount');
  if (opts.trainFraction !== undefined) {
    if (!(opts.trainFraction >= 0 && opts.trainFraction <= 1)) throw new InputError(`trainFraction must be in 0..1, got ${opts.trainFraction}`);
    trainCount = Math.round(opts.trainFraction * n);
  } else {
    trainCount = opts.trainCount!;
    if (!(Number.isInteger(trainCount) && trainCount >= 0 && trainCount <= n)) {
      throw new InputError(`trainCount must be an integer in 0..${n} (the dataset's image count), got ${trainCount}`);
    }
  }
  if (!Number.isInteger(opts.seed)) throw new InputError(`seed must be an integer, got ${opts.seed}`);
  const rng = new Rng(opts.seed);
  const isTrain = new Uint8Array(n);
  if (opts.stratified === false) {
    const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    for (let k = 0; k < trainCount; k++) isTrain[order[k]!] = 1;
  } else {
    const byClass: number[][] = Array.from({ length: classes }, () => []);
    for (let i = 0; i < n; i++) byClass[labels[i]!]!.push(i);
    const quota = largestRemainder(
      byClass.map((m) => m.length),
      trainCount,
    );
    byClass.forEach((members, c) => {
      rng.shuffle(members);
      for (let k = 0; k < quota[c]!; k++) isTrain[members[k]!] = 1;
    });
  }
  const trainIndices: number[] = [];
  const validIndices: number[] = [];
  for (let i = 0; i < n; i++) (isTrain[i] ? trainIndices : validIndices).push(i);
  return { trainIndices, validIndices };
}

/** Integer shares of `total` proportional to `sizes` (each ≤ its size), summing to `total`. */
function largestRemainder(sizes: readonly number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  if (n === 0) return sizes.map(() => 0);
  const exact = sizes.map((s) => (s * total) / n);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  // ties go to the lower class index, for determinism
  const order = exact.map((e, c) => ({ c, r: e - out[c]! })).sort((a, b) => b.r - a.r || a.c - b.c);
  for (const { c } of order) {
    if (left === 0) break;
    if (out[c]! < sizes[c]!) {
      out[c]++;
      left--;
    }
  }
  return out;
}
