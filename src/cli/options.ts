import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_MAX_PIXELS } from '../data/pixel-limit.js';
import { isMetricName, METRIC_NAMES, type MetricName } from '../proxies/types.js';

/** `10-19`, `1,2,5`, `7`, or a mix (`1-3,9`) → seed list. */
export function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new InvalidArgumentError(`expected seeds like 10-19 or 1,2,3 (each in 0..4294967295); got '${text}'`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new InvalidArgumentError(`seed range '${part}' is empty (end before start)`);
    if (b - a > 100000) throw new InvalidArgumentError(`seed range '${part}' is too large`);
    if (b > 0xffffffff) throw new InvalidArgumentError(`seed ${b} is out of range (seeds are 0..4294967295)`);
    for (let s = a; s <= b; s++) seeds.push(s);
  }
  if (seeds.length === 0) throw new InvalidArgumentError('expected at least one seed');
  return seeds;
}

export function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got '${text}'`);
  }
  return n;
}

/** Comma-separated list (empty items dropped); an empty list is a usage error. */
export function parseList(text: string): string[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError(`expected a comma-separated list, got '${text}'`);
  return items;
}

/** A choice among fixed values, with the list in the error. */
export function choice<T extends string>(values: readonly T[]) {
  return (text: string): T => {
    if (!(values as readonly string[]).includes(text)) {
      throw new InvalidArgumentError(`expected one of ${values.join(', ')}; got '${text}'`);
    }
    return text as T;
  };
}

export function parseNumber(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got '${text}'`);
  return n;
}

/** A seed usable by every RNG of the project (numpy's RandomState needs 0..2^32−1). */
export function parseSeed(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new InvalidArgumentError(`expected a seed in 0..4294967295, got '${text}'`);
  return n;
}

/** A positive size such as 100000, 1e5, 100k or 1.5M (k = 10^3, M = 10^6, G = 10^9). */
export function parseSize(text: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([kKMG]?)\s*$/.exec(text);
  const n = m ? Number(m[1]) * ({ '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 } as Record<string, number>)[m[2]] : NaN;
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`expected a positive number such as 100000, 1e5, 100k or 1.5M, got '${text}'`);
  return n;
}

/** A positive number (e.g. milliseconds). */
export function parsePositive(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`expected a positive number, got '${text}'`);
  return n;
}

/** A positive count, or `all`. */
export function parseLimit(text: string): number | 'all' {
  return text.trim() === 'all' ? 'all' : parsePositiveInt(text);
}

/** Datasets a real-data search or training can use. */
export const TRAIN_DATASETS = ['mnist', 'cifar10', 'cifar100', 'cifar10-1k', 'imagenet16', 'folder', 'csv', 'idx', 'npz'] as const;

/** What `--data` is for each dataset (help texts). */
export const DATA_HELP =
  'dataset location: folder DIR (DIR/<class>/*.png|jpg, or DIR/train|val|test/<class>/…); csv FILE (path,label[,split]); ' +
  'idx DIR or train-images file (MNIST-style, .gz or not); npz FILE (x_train, y_train[, x_test, y_test]); cifar10/cifar100/imagenet16: the release folder';

/** Image channels: 1 (grey) or 3 (RGB). */
export function parseImageChannels(text: string): 1 | 3 {
  if (text.trim() !== '1' && text.trim() !== '3') throw new InvalidArgumentError(`expected 1 (grey) or 3 (RGB), got '${text}'`);
  return Number(text) as 1 | 3;
}

/** A count that may be 0 (e.g. worker threads, 0 = in this thread). */
export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`expected a non-negative integer, got '${text}'`);
  return Number(text);
}

/**
 * `--max-pixels N`: the largest image (width × height) a command decodes. Set in the environment
 * (ROBOT_NAS_MAX_PIXELS, data/folder.ts), so that the worker threads the command starts see the same limit.
 */
export function addMaxPixels(cmd: Command): Command {
  return cmd.option('--max-pixels <n>', `refuse images above n pixels (e.g. 100M; default ${DEFAULT_MAX_PIXELS / 1e6}M, or ROBOT_NAS_MAX_PIXELS), naming the file`, (t: string) => Math.round(parseSize(t)));
}

export function applyMaxPixels(f: { maxPixels?: number }): void {
  if (f.maxPixels !== undefined) process.env.ROBOT_NAS_MAX_PIXELS = String(f.maxPixels);
}

/** A comma-separated list of training-free metric names. */
export function parseMetrics(text: string): MetricName[] {
  const names = parseList(text);
  for (const n of names) {
    if (!isMetricName(n)) throw new InvalidArgumentError(`unknown metric '${n}'; expected some of ${METRIC_NAMES.join(', ')}`);
  }
  return names as MetricName[];
}
