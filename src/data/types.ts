/**
 * An in-memory image classification dataset: N images, NCHW float32, already normalised with
 * the dataset's per-channel mean/std (so a network can consume `images` directly).
 */
export interface ImageDataset {
  /** Dataset name, e.g. `cifar10`, `mnist`. */
  readonly name: string;
  /** N × C × H × W, float32, normalised. */
  readonly images: Float32Array;
  /** N labels, 0..classes-1. */
  readonly labels: Int32Array;
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly classes: number;
  /** Per-channel mean and std used to normalise (in 0..1 pixel units). */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Files read, for reports. */
  readonly sources: readonly string[];
  /** Class names by label, when the format provides them (folder names, CIFAR-10's classes, …). */
  readonly classNames?: readonly string[];
}

/** Which split of a dataset to load. */
export type Split = 'train' | 'test';
