/**
 * Pieces shared by the dataset loaders: option checks, file checks, pixel copying with optional
 * resizing, normalisation and class-balanced `limit` picking.
 *
 * Loaders fill one Float32Array, normalising and resizing as they copy, so a whole dataset never
 * exists twice in memory (a float32 copy of CIFAR-10's train split is 614 MB).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findDataFolder } from '../formats/data-folder.js';
import { InputError, inputError } from '../util/errors.js';
import type { ImageDataset, Split } from './types.js';

/** Options every loader accepts (see `loadDataset`). */
export interface LoadOptions {
  /** Folder holding the dataset's files (per loader: which files, and which subfolders are also tried). */
  data?: string;
  split?: Split;
  /** Load at most this many images (per loader: the first ones, or class-balanced when the source is sorted by class). */
  limit?: number;
  /** Output height = width in pixels; images are resized when it differs from theirs (folder default: 32). */
  size?: number;
  /** Per-channel mean/std (0..1 pixel units) to normalise with instead of the dataset's usual ones. */
  mean?: readonly number[];
  std?: readonly number[];
}

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

/** `limit` and `size` checked (they come from CLI flags, so bad values are InputErrors). */
export function checkOptions(opts: LoadOptions): { limit: number | undefined; size: number | undefined } {
  const { limit, size } = opts;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
    throw new InputError(`limit must be a positive integer, got ${String(limit)}`);
  }
  if (size !== undefined && !(Number.isInteger(size) && size >= 1 && size <= 4096)) {
    throw new InputError(`size must be an integer in 1..4096, got ${String(size)}`);
  }
  if (opts.split !== undefined && opts.split !== 'train' && opts.split !== 'test') {
    throw new InputError(`split must be 'train' or 'test', got '${String(opts.split)}'`);
  }
  return { limit, size };
}

/** The normalisation to use: `opts.mean/std` if given (checked), else the defaults. */
export function pickNorm(
  opts: LoadOptions,
  channels: number,
  defaults: { mean: readonly number[]; std: readonly number[] } | undefined,
): { mean: number[]; std: number[] } | undefined {
  if ((opts.mean === undefined) !== (opts.std === undefined)) throw new InputError('give both mean and std, or neither');
  if (opts.mean !== undefined && opts.std !== undefined) {
    if (opts.mean.length !== channels || opts.std.length !== channels) {
      throw new InputError(`mean and std need ${channels} value(s) each (one per channel), got ${opts.mean.length} and ${opts.std.length}`);
    }
    if (!opts.mean.every(Number.isFinite) || !opts.std.every((s) => Number.isFinite(s) && s > 0)) {
      throw new InputError('mean must be finite and std positive');
    }
    return { mean: [...opts.mean], std: [...opts.std] };
  }
  return defaults && { mean: [...defaults.mean], std: [...defaults.std] };
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The first of `dirs` holding all of `names`; otherwise an InputError listing, for the folder that
 * had the most of them (the first folder on a tie), which files are missing.
 */
export function findFiles(dirs: readonly string[], names: readonly string[], what: string): { dir: string; files: string[] } {
  let best: { dir: string; missing: string[] } | undefined;
  for (const dir of dirs) {
    const missing = names.filter((n) => !isFile(join(dir, n)));
    if (missing.length === 0) return { dir, files: names.map((n) => join(dir, n)) };
    if (best === undefined || missing.length < best.missing.length) best = { dir, missing };
  }
  const b = best!;
  const also = dirs.length > 1 ? ` (also looked in ${dirs.filter((d) => d !== b.dir).join(', ')})` : '';
  throw inputError(b.dir, undefined, `missing ${b.missing.join(', ')}; expected ${what}: ${names.join(', ')}${also}`);
}

/**
 * Folders to look in: `data` and `data/<release folder>`; without `data`, the project's data
 * folder (formats/data-folder.ts) and its `<release folder>`.
 */
export function candidateDirs(data: string | undefined, subfolders: readonly string[], what: string): string[] {
  let root: string;
  if (data === undefined || data === '') {
    try {
      root = findDataFolder(undefined, process.env, undefined, '');
    } catch {
      throw new InputError(`no data folder given for ${what}; pass the folder holding its files (--data DIR)`);
    }
  } else {
    if (!isDir(data)) throw inputError(data, undefined, `not a directory (expected the folder holding the ${what} files)`);
    root = data;
  }
  return [root, ...subfolders.map((s) => join(root, s))];
}

/** Size of a file in bytes, as an InputError naming the file when it cannot be read. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch (e) {
    throw inputError(path, undefined, `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** Bytes [start, start + length) of a file (reads only those, so `limit` does not read whole batches). */
export function readRange(path: string, start: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, start + done);
      if (n === 0) throw new Error('file shorter than its size');
      done += n;
    }
  } catch (e) {
    throw inputError(path, undefined, `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return buf;
}

/** Number of whole records in a file of fixed-size records; InputError if the size does not fit. */
export function recordCount(path: string, recordSize: number, layout: string): number {
  const size = fileSize(path);
  if (size === 0) throw inputError(path, undefined, `empty file; expected records of ${recordSize} bytes (${layout})`);
  if (size % recordSize !== 0) {
    throw inputError(path, undefined, `file size ${size} is not a multiple of the ${recordSize}-byte record size (${layout})`);
  }
  return size / recordSize;
}

// ---------------------------------------------------------------------------------------------
// resizing

/** Source taps of each output position along one axis: indices and weights (weights sum to 1). */
export interface AxisTaps {
  start: Int32Array;
  len: Int32Array;
  idx: Int32Array;
  w: Float32Array;
}

/**
 * Area averaging when shrinking (each output pixel = coverage-weighted mean of the source pixels
 * under it, so no aliasing), bilinear with half-pixel centres when enlarging (like PyTorch's
 * `align_corners=False`), identity when equal.
 */
function axisTaps(src: number, dst: number): AxisTaps {
  const start = new Int32Array(dst);
  const len = new Int32Array(dst);
  const idx: number[] = [];
  const w: number[] = [];
  const scale = src / dst;
  for (let i = 0; i < dst; i++) {
    start[i] = idx.length;
    if (src === dst) {
      idx.push(i);
      w.push(1);
    } else if (dst < src) {
      const a = i * scale;
      const b = (i + 1) * scale;
      for (let j = Math.floor(a); j < Math.min(src, Math.ceil(b)); j++) {
        const cover = Math.min(b, j + 1) - Math.max(a, j);
        if (cover > 1e-9) {
          idx.push(j);
          w.push(cover / scale);
        }
      }
    } else {
      const x = Math.min(src - 1, Math.max(0, (i + 0.5) * scale - 0.5));
      const j = Math.floor(x);
      const f = x - j;
      idx.push(j);
      w.push(1 - f);
      if (f > 0 && j + 1 < src) {
        idx.push(j + 1);
        w.push(f);
      }
    }
    len[i] = idx.length - start[i]!;
  }
  return { start, len, idx: Int32Array.from(idx), w: Float32Array.from(w) };
}

const tapCache = new Map<string, AxisTaps>();
export function cachedTaps(src: number, dst: number): AxisTaps {
  const key = `${src}>${dst}`;
  let t = tapCache.get(key);
  if (t === undefined) {
    t = axisTaps(src, dst);
    tapCache.set(key, t);
  }
  return t;
}

/** Resizes one plane (h×w, row-major) into `dst` at `dstOffset` (oh×ow). Separable: rows, then columns. */
export function resizePlane(src: Float32Array, h: number, w: number, dst: Float32Array, dstOffset: number, oh: number, ow: number): void {
  const tx = cachedTaps(w, ow);
  const ty = cachedTaps(h, oh);
  const tmp = new Float32Array(h * ow);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = tx.start[x]!, e = k + tx.len[x]!; k < e; k++) s += src[y * w + tx.idx[k]!]! * tx.w[k]!;
      tmp[y * ow + x] = s;
    }
  }
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = ty.start[y]!, e = k + ty.len[y]!; k < e; k++) s += tmp[ty.idx[k]! * ow + x]! * ty.w[k]!;
      dst[dstOffset + y * ow + x] = s;
    }
  }
}

/** Where one image's pixels are in a source array: value(c, y, x) = src[offset + c*cStride + y*rowStride + x*pixelStride]. */
export interface PixelLayout {
  offset: number;
  height: number;
  width: number;
  cStride: number;
  rowStride: number;
  pixelStride: number;
}

/** CHW layout of an image starting at `offset`. */
export const chw = (offset: number, h: number, w: number): PixelLayout => ({ offset, height: h, width: w, cStride: h * w, rowStride: w, pixelStride: 1 });
/** Interleaved HWC layout (NHWC data, RGBA from decoders) with `stride` values per pixel. */
export const hwc = (offset: number, h: number, w: number, stride: number): PixelLayout => ({
  offset,
  height: h,
  width: w,
  cStride: 1,
  rowStride: w * stride,
  pixelStride: stride,
});

/**
 * The output tensor being filled: `count` images of `channels`×`height`×`width`. With `norm`, pixels
 * are normalised as they are copied (one pass over the data); without, they stay in 0..1 until
 * `finishDataset` normalises them with their own statistics.
 */
export class PixelSink {
  readonly images: Float32Array;
  readonly plane: number;
  private scratch = new Float32Array(0);

  constructor(
    readonly count: number,
    readonly channels: number,
    readonly height: number,
    readonly width: number,
    readonly norm?: { mean: readonly number[]; std: readonly number[] },
  ) {
    this.plane = height * width;
    this.images = new Float32Array(count * channels * this.plane);
  }

  /**
   * Copies image `i` from `src` (channel values × `scale` give 0..1, e.g. 1/255 for bytes), resizing
   * if its size differs. Normalising before resizing is the same as after: resize weights sum to 1.
   */
  put(i: number, src: ArrayLike<number>, at: PixelLayout, scale: number): void {
    const { height: h, width: w, cStride, rowStride, pixelStride } = at;
    const out = this.images;
    for (let c = 0; c < this.channels; c++) {
      const a = this.norm ? scale / this.norm.std[c]! : scale;
      const b = this.norm ? -this.norm.mean[c]! / this.norm.std[c]! : 0;
      const base = at.offset + c * cStride;
      const o = (i * this.channels + c) * this.plane;
      if (h === this.height && w === this.width && pixelStride === 1 && rowStride === w) {
        // contiguous plane (CHW sources): the common case, kept a simple loop
        for (let p = 0; p < this.plane; p++) out[o + p] = src[base + p]! * a + b;
      } else if (h === this.height && w === this.width) {
        for (let y = 0; y < h; y++) {
          const row = base + y * rowStride;
          for (let x = 0; x < w; x++) out[o + y * w + x] = src[row + x * pixelStride]! * a + b;
        }
      } else {
        if (this.scratch.length < h * w) this.scratch = new Float32Array(h * w);
        const s = this.scratch;
        for (let y = 0; y < h; y++) {
          const row = base + y * rowStride;
          for (let x = 0; x < w; x++) s[y * w + x] = src[row + x * pixelStride]! * a + b;
        }
        resizePlane(s, h, w, out, o, this.height, this.width);
      }
    }
  }
}

/** Per-channel mean and (population) std of NCHW data in 0..1. */
export function channelStats(images: Float32Array, count: number, channels: number, plane: number): { mean: number[]; std: number[] } {
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let i = 0; i < count; i++) {
      const o = (i * channels + c) * plane;
      for (let p = 0; p < plane; p++) s += images[o + p]!;
    }
    const m = s / (count * plane);
    let v = 0;
    for (let i = 0; i < count; i++) {
      const o = (i * channels + c) * plane;
      for (let p = 0; p < plane; p++) v += (images[o + p]! - m) ** 2;
    }
    const sd = Math.sqrt(v / (count * plane));
    mean.push(m);
    // a constant channel would divide by zero: leave its spread as is
    std.push(sd > 1e-12 ? sd : 1);
  }
  return { mean, std };
}

/** (x − mean[c]) / std[c] in place. */
export function normaliseInPlace(images: Float32Array, count: number, channels: number, plane: number, mean: readonly number[], std: readonly number[]): void {
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < channels; c++) {
      const o = (i * channels + c) * plane;
      const m = mean[c]!;
      const inv = 1 / std[c]!;
      for (let p = 0; p < plane; p++) images[o + p] = (images[o + p]! - m) * inv;
    }
  }
}

/**
 * Indices (ascending) of at most `limit` items, taken round-robin across classes in each class's
 * source order, so that a small limit on a class-sorted source still covers every class.
 */
export function balancedPick(labels: ArrayLike<number>, classes: number, limit: number | undefined): number[] {
  const n = labels.length;
  if (limit === undefined || limit >= n) return Array.from({ length: n }, (_, i) => i);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < n; i++) byClass[labels[i]!]!.push(i);
  const out: number[] = [];
  for (let round = 0; out.length < limit; round++) {
    for (const members of byClass) {
      if (round < members.length && out.length < limit) out.push(members[round]!);
    }
  }
  return out.sort((a, b) => a - b);
}

/** Wraps the sink's pixels as an ImageDataset, first normalising them with their own statistics if the sink had no `norm`. */
export function finishDataset(
  sink: PixelSink,
  fields: { name: string; labels: Int32Array; classes: number; sources: readonly string[]; classNames?: readonly string[] },
): ImageDataset {
  const { count, channels, height, width, plane, images } = sink;
  let norm = sink.norm;
  if (norm === undefined) {
    norm = channelStats(images, count, channels, plane);
    normaliseInPlace(images, count, channels, plane, norm.mean, norm.std);
  }
  const { mean, std } = norm;
  return {
    name: fields.name,
    images,
    labels: fields.labels,
    count,
    channels,
    height,
    width,
    classes: fields.classes,
    mean: [...mean],
    std: [...std],
    sources: [...fields.sources],
    ...(fields.classNames ? { classNames: [...fields.classNames] } : {}),
  };
}
