/**
 * ImageSet: the images a training or a scoring uses, read when they are used. A set is a list of rows of a pixel
 * store (the on-disk image cache, or memory) plus their labels and the normalisation; `batch` assembles normalised
 * float32 NCHW batches from the bytes of just the images asked for, and `select` makes a subset without copying
 * pixels. A set small enough (≤ 64 MB of bytes) reads its rows once and keeps them, so epochs do not hit the disk.
 */
import { createHash } from 'node:crypto';
import type { PixelStore } from './cache.js';
import type { ImageDataset } from './types.js';

export interface ImageSet {
  readonly name: string;
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly classes: number;
  /** count labels, 0..classes-1. */
  readonly labels: Int32Array;
  /** Per-channel mean and std (0..1 pixel units) the batches are normalised with. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly classNames?: readonly string[];
  readonly sources: readonly string[];
  /** Normalised float32 NCHW of the images at `indices` (positions in this set), in that order. */
  batch(indices: ArrayLike<number>, out?: Float32Array): Float32Array;
  /** Bytes (C×H×W per image) of the images at `indices`. */
  bytes(indices: ArrayLike<number>, out?: Uint8Array): Uint8Array;
  /** The images at `indices`, as a set (no pixels copied). */
  select(indices: ArrayLike<number>): ImageSet;
  /** The same images normalised with other statistics. */
  withNorm(mean: readonly number[], std: readonly number[]): ImageSet;
}

const RESIDENT_BYTES = 64 * 2 ** 20;

/**
 * Byte → normalised value per channel. Bytes scale by 1/255 unless the store has its own levels; the arithmetic is
 * the one the in-memory loaders used (x · (scale/std) + (−mean/std), in float64, rounded to float32), so the same
 * pixels give the same bits.
 */
function lookup(channels: number, mean: readonly number[], std: readonly number[], levels: readonly number[] | null): Float32Array {
  const lut = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    const scale = levels ? 1 : 1 / 255;
    const a = scale / std[c]!;
    const b = -mean[c]! / std[c]!;
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (levels ? levels[v]! : v) * a + b;
  }
  return lut;
}

export class StoredSet implements ImageSet {
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly labels: Int32Array;
  readonly classNames?: readonly string[];
  private readonly per: number;
  private readonly lut: Float32Array;
  private resident: Uint8Array | undefined;

  constructor(
    readonly name: string,
    readonly store: PixelStore,
    /** Rows of the store, in the set's order. */
    readonly rows: Int32Array,
    readonly classes: number,
    readonly mean: readonly number[],
    readonly std: readonly number[],
    readonly sources: readonly string[],
    classNames: readonly string[] | null,
    /** Labels of the rows (default: the store's). */
    labels?: Int32Array,
  ) {
    const [c, h, w] = store.meta.shape;
    this.channels = c;
    this.height = h;
    this.width = w;
    this.per = c * h * w;
    this.count = rows.length;
    this.labels = labels ?? Int32Array.from(rows, (r) => store.labels[r]!);
    if (classNames) this.classNames = classNames;
    this.lut = lookup(c, mean, std, store.meta.levels);
  }

  bytes(indices: ArrayLike<number>, out?: Uint8Array): Uint8Array {
    const per = this.per;
    const buf = out ?? new Uint8Array(indices.length * per);
    if (this.resident === undefined && this.count * per <= RESIDENT_BYTES && indices.length < this.count) {
      this.resident = new Uint8Array(this.count * per);
      this.store.read(this.rows, this.resident);
    }
    if (this.resident !== undefined) {
      for (let k = 0; k < indices.length; k++) {
        const i = indices[k]!;
        if (!(i >= 0 && i < this.count)) throw new RangeError(`index ${i} is not an image of ${this.name} (0..${this.count - 1})`);
        buf.set(this.resident.subarray(i * per, (i + 1) * per), k * per);
      }
      return buf;
    }
    const rows = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      if (!(i >= 0 && i < this.count)) throw new RangeError(`index ${i} is not an image of ${this.name} (0..${this.count - 1})`);
      rows[k] = this.rows[i]!;
    }
    this.store.read(rows, buf);
    return buf;
  }

  batch(indices: ArrayLike<number>, out?: Float32Array): Float32Array {
    const per = this.per;
    const plane = this.height * this.width;
    const x = out ?? new Float32Array(indices.length * per);
    const b = this.bytes(indices);
    const lut = this.lut;
    for (let k = 0; k < indices.length; k++) {
      for (let c = 0; c < this.channels; c++) {
        const o = k * per + c * plane;
        const base = c * 256;
        for (let p = 0; p < plane; p++) x[o + p] = lut[base + b[o + p]!]!;
      }
    }
    return x;
  }

  select(indices: ArrayLike<number>): ImageSet {
    const rows = new Int32Array(indices.length);
    const labels = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      if (!(Number.isInteger(i) && i >= 0 && i < this.count)) throw new RangeError(`index ${i} is not an image of ${this.name} (0..${this.count - 1})`);
      rows[k] = this.rows[i]!;
      labels[k] = this.labels[i]!;
    }
    return new StoredSet(this.name, this.store, rows, this.classes, this.mean, this.std, this.sources, this.classNames ?? null, labels);
  }

  withNorm(mean: readonly number[], std: readonly number[]): ImageSet {
    return new StoredSet(this.name, this.store, this.rows, this.classes, mean, std, this.sources, this.classNames ?? null, this.labels);
  }
}

/** An in-memory ImageDataset (already normalised float32) seen as an ImageSet. */
export class DatasetSet implements ImageSet {
  readonly name: string;
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly classes: number;
  readonly labels: Int32Array;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly classNames?: readonly string[];
  readonly sources: readonly string[];
  private readonly per: number;

  constructor(readonly ds: ImageDataset) {
    this.name = ds.name;
    this.count = ds.count;
    this.channels = ds.channels;
    this.height = ds.height;
    this.width = ds.width;
    this.classes = ds.classes;
    this.labels = ds.labels;
    this.mean = ds.mean;
    this.std = ds.std;
    if (ds.classNames) this.classNames = ds.classNames;
    this.sources = ds.sources;
    this.per = ds.channels * ds.height * ds.width;
  }

  batch(indices: ArrayLike<number>, out?: Float32Array): Float32Array {
    const per = this.per;
    const x = out ?? new Float32Array(indices.length * per);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      if (!(Number.isInteger(i) && i >= 0 && i < this.count)) throw new RangeError(`index ${i} is not an image of ${this.name} (0..${this.count - 1})`);
      x.set(this.ds.images.subarray(i * per, (i + 1) * per), k * per);
    }
    return x;
  }

  bytes(indices: ArrayLike<number>, out?: Uint8Array): Uint8Array {
    // Back to bytes through the normalisation (exact for images that came from bytes).
    const x = this.batch(indices);
    const buf = out ?? new Uint8Array(x.length);
    const plane = this.height * this.width;
    for (let j = 0; j < x.length; j++) {
      const c = Math.floor(j / plane) % this.channels;
      buf[j] = Math.max(0, Math.min(255, Math.round((x[j]! * this.std[c]! + this.mean[c]!) * 255)));
    }
    return buf;
  }

  select(indices: ArrayLike<number>): ImageSet {
    const images = this.batch(indices);
    const labels = Int32Array.from(indices, (i) => this.labels[i]!);
    return new DatasetSet({ ...this.ds, images, labels, count: labels.length });
  }

  withNorm(mean: readonly number[], std: readonly number[]): ImageSet {
    const images = new Float32Array(this.ds.images.length);
    const plane = this.height * this.width;
    for (let j = 0; j < images.length; j++) {
      const c = Math.floor(j / plane) % this.channels;
      images[j] = ((this.ds.images[j]! * this.std[c]! + this.mean[c]!) - mean[c]!) / std[c]!;
    }
    return new DatasetSet({ ...this.ds, images, mean: [...mean], std: [...std] });
  }
}

/** An ImageSet for either kind (eager datasets built by tests and library callers are wrapped). */
export function asImageSet(x: ImageSet | ImageDataset): ImageSet {
  return 'batch' in x ? x : new DatasetSet(x);
}

/** All images of a set as one normalised float32 array (for small sets: samples, tests). */
export function allImages(s: ImageSet): Float32Array {
  return s.batch(Array.from({ length: s.count }, (_, i) => i));
}

/**
 * SHA-256 (first 16 hex digits) over parts of normalised images and labels, as the query cache keys trainings:
 * per part `count:C:H:W:classes;`, the float32 images, the int32 labels. Read in chunks, so any size fits in memory.
 */
export function fingerprintSets(parts: readonly ImageSet[]): string {
  const h = createHash('sha256');
  const chunk = 1024;
  for (const s of parts) {
    h.update(`${s.count}:${s.channels}:${s.height}:${s.width}:${s.classes};`);
    for (let start = 0; start < s.count; start += chunk) {
      const idx = Array.from({ length: Math.min(chunk, s.count - start) }, (_, k) => start + k);
      const x = s.batch(idx);
      h.update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    }
    h.update(new Uint8Array(s.labels.buffer, s.labels.byteOffset, s.labels.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}
