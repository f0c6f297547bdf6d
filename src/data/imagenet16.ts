/**
 * ImageNet16-120 (NAS-Bench-201's downsampled ImageNet task) from the official pickled batches of
 * the 16×16 downsampled ImageNet (Chrabaszcz et al., 2017): `train_data_batch_1` … `_10` (split
 * 'train') and `val_data` (split 'test'). Each file is a pickle (Python 2 or 3) of a dict with
 * 'data': numpy uint8 array N×768 (R, G, B planes of 16×16, row-major) and 'labels': list of
 * 1-based ImageNet classes 1..1000 (other keys, e.g. 'mean', are ignored).
 * As in NAS-Bench-201, only labels 1..120 are kept and become 0..119; mean/std are its
 * [122.68, 116.66, 104.01]/255 and [63.22, 61.26, 65.09]/255. File order is kept; `limit` takes the
 * first kept images and stops reading files once it has them.
 */
import { NumpyArray, pyNumber, pyTypeName } from '../formats/pickle.js';
import { inputError } from '../util/errors.js';
import { PixelSink, candidateDirs, checkOptions, chw, finishDataset, findFiles, pickNorm, type LoadOptions } from './common.js';
import { readPickleKeepingBytes, uint8Array } from './numpy.js';
import type { ImageDataset } from './types.js';

export const IMAGENET16_TRAIN_FILES = Array.from({ length: 10 }, (_, k) => `train_data_batch_${k + 1}`);
export const IMAGENET16_TEST_FILES = ['val_data'];
export const IMAGENET16_MEAN = [122.68 / 255, 116.66 / 255, 104.01 / 255];
export const IMAGENET16_STD = [63.22 / 255, 61.26 / 255, 65.09 / 255];

const PIXELS = 3 * 16 * 16;
/** ImageNet16-120 keeps the first 120 of the 1,000 classes. */
const KEEP_CLASSES = 120;

/** Labels as a list: a Python list, or a numpy integer array (uint8 ones come back as raw bytes). */
function labelList(v: unknown): readonly unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (v instanceof NumpyArray) {
    const u = uint8Array(v);
    return u === undefined ? v.data : Array.from(u.bytes);
  }
  return undefined;
}

/** One batch file's kept images (bytes, CHW) and labels (0-based). */
function readBatch(file: string, room: number): { bytes: Uint8Array; labels: Int32Array } {
  const v = readPickleKeepingBytes(file);
  const expected = "a pickled dict {'data': uint8 array N×768, 'labels': list of N ints 1..1000}";
  if (!(v instanceof Map)) throw inputError(file, undefined, `got a ${pyTypeName(v)}, expected ${expected}`);
  if (!v.has('data') || !v.has('labels')) {
    throw inputError(file, undefined, `dict has keys ${[...v.keys()].map(String).join(', ') || '(none)'}; expected ${expected}`);
  }
  const arr = uint8Array(v.get('data'));
  const n = arr?.shape[0] ?? 0;
  if (arr === undefined || arr.shape.length < 2 || n * PIXELS !== arr.bytes.length) {
    const got = arr === undefined ? pyTypeName(v.get('data')) : `uint8 array of shape (${arr.shape.join(', ')})`;
    throw inputError(file, undefined, `'data' is a ${got}; expected a numpy uint8 array N×768 (3×16×16 per image)`);
  }
  const rawLabels = v.get('labels');
  const list = labelList(rawLabels);
  if (list === undefined || list.length !== n) {
    const got = list === undefined ? pyTypeName(rawLabels) : `${list.length} labels`;
    throw inputError(file, undefined, `'labels' is ${got}; expected a list of ${n} ints (one per image)`);
  }
  const keep: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = pyNumber(list[i]);
    if (y === undefined || !Number.isInteger(y) || y < 1 || y > 1000) {
      throw inputError(file, undefined, `labels[${i}] is ${y ?? pyTypeName(list[i])}, expected an int 1..1000 (1-based ImageNet class)`);
    }
    if (y <= KEEP_CLASSES && keep.length < room) {
      keep.push(i);
      labels.push(y - 1);
    }
  }
  const bytes = new Uint8Array(keep.length * PIXELS);
  keep.forEach((src, k) => bytes.set(arr.bytes.subarray(src * PIXELS, (src + 1) * PIXELS), k * PIXELS));
  return { bytes, labels: Int32Array.from(labels) };
}

export function loadImageNet16(opts: LoadOptions = {}): ImageDataset {
  const { limit, size } = checkOptions(opts);
  const norm = pickNorm(opts, 3, { mean: IMAGENET16_MEAN, std: IMAGENET16_STD });
  const split = opts.split ?? 'train';
  const names = split === 'train' ? IMAGENET16_TRAIN_FILES : IMAGENET16_TEST_FILES;
  const { dir, files } = findFiles(candidateDirs(opts.data, ['ImageNet16'], 'imagenet16'), names, `the ImageNet16 ${split} files`);

  // kept images as bytes first (a quarter of the float output), since counts are known only after parsing
  const parts: { bytes: Uint8Array; labels: Int32Array }[] = [];
  const sources: string[] = [];
  let total = 0;
  for (const file of files) {
    if (limit !== undefined && total >= limit) break;
    const part = readBatch(file, (limit ?? Infinity) - total);
    parts.push(part);
    sources.push(file);
    total += part.labels.length;
  }
  if (total === 0) {
    throw inputError(sources.length === 1 ? sources[0] : dir, undefined, `no images with labels 1..${KEEP_CLASSES} (the ImageNet16-120 classes)`);
  }
  const side = size ?? 16;
  const sink = new PixelSink(total, 3, side, side, norm);
  const labels = new Int32Array(total);
  let n = 0;
  for (const part of parts) {
    labels.set(part.labels, n);
    for (let k = 0; k < part.labels.length; k++) sink.put(n + k, part.bytes, chw(k * PIXELS, 16, 16), 1 / 255);
    n += part.labels.length;
  }
  return finishDataset(sink, { name: 'imagenet16-120', labels, classes: KEEP_CLASSES, sources });
}
