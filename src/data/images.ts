/**
 * Opening a dataset part as pixels: find its cache (keyed by the source's identity and the preprocessing) or
 * build it once, then read rows from it. Every dataset goes through here:
 *
 *   folder, csv     image files (files.ts): decoded on worker threads
 *   idx, npz        uint8 arrays (arrays.ts): streamed
 *   mnist           the `mnist` package's digits (levels keep its exact values)
 *   cifar10, cifar100, cifar10-1k, imagenet16   the release files, read by their loaders once
 *
 * Without a cache folder the part is built in memory (library calls, tests).
 */
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import { buildFromArrays, idxFiles, idxSource } from './arrays.js';
import { npzParts, npzSource } from './npz.js';
import { cacheFolder, cacheKey, CacheFile, folderWriter, memoryWriter, type CacheMeta, type PixelStore } from './cache.js';
import { CIFAR100_FORMAT, CIFAR10_FORMAT, loadCifarBinary } from './cifar.js';
import { loadCifar10Subset } from './cifar10-1k.js';
import { candidateDirs } from './common.js';
import { maxImagePixels } from './pixel-limit.js';
import { buildFromFiles, csvFiles, csvParts, folderFiles, folderParts, type BuildContext, type Part, type Prep } from './files.js';
import { IMAGENET16_MEAN, IMAGENET16_STD, loadImageNet16 } from './imagenet16.js';
import { mnistPart } from './mnist.js';
import { Histogram, putRow } from './pixels.js';
import type { ImageDataset } from './types.js';

export type { Part } from './files.js';

export interface ImageOptions {
  dataset: string;
  /** Folder or file the dataset is in. */
  data?: string;
  /** Working size (square); undefined: the images' own. */
  size?: number;
  /** Working channels; undefined: the images' own (grey stays 1). */
  channels?: 1 | 3;
  /** Folder of image caches; undefined: build in memory, keep nothing. */
  cacheDir?: string;
  /** Decoding threads (default: the number of cores). */
  threads?: number;
  maxPixels?: number;
  onProgress?(phase: string, done: number, total: number): void;
  /**
   * Cache folders already opened for these parts (by the process that started this job): opened directly, without
   * listing the dataset again. A hint: a folder that is missing or incomplete is ignored.
   */
  folders?: Partial<Record<Part, string>>;
}

export interface OpenedPart {
  store: PixelStore;
  meta: CacheMeta;
  /** Read from an existing cache (nothing decoded). */
  cached: boolean;
  /** The cache folder, when on disk. */
  folder: string | null;
}

const TABLES = ['cifar10', 'cifar100', 'cifar10-1k', 'imagenet16', 'imagenet16-120'];

/** The parts a dataset has: which part holds the training images ('all' = one set to split), val, test. */
export async function datasetParts(o: ImageOptions): Promise<{ train: 'train' | 'all'; val: boolean; test: boolean }> {
  const need = (): string => {
    if (o.data === undefined || o.data === '') throw new InputError(`${o.dataset} dataset: give its location (--data ${o.dataset === 'folder' ? 'DIR' : 'FILE or DIR'})`);
    return o.data;
  };
  switch (o.dataset) {
    case 'folder': {
      const p = folderParts(need());
      return p.all !== undefined ? { train: 'all', val: false, test: false } : { train: 'train', val: p.val !== undefined, test: p.test !== undefined };
    }
    case 'csv': {
      const p = csvParts(need());
      return p.all !== undefined ? { train: 'all', val: false, test: false } : { train: 'train', val: p.val !== undefined, test: p.test !== undefined };
    }
    case 'idx': {
      const p = idxFiles(need());
      return { train: 'train', val: false, test: p.test !== undefined };
    }
    case 'npz': {
      const { zip, parts } = await npzParts(need());
      zip.file.close();
      return { train: 'train', val: parts.val !== undefined, test: parts.test !== undefined };
    }
    case 'cifar10-1k':
      return { train: 'all', val: false, test: false };
    case 'mnist':
    case 'cifar10':
    case 'cifar100':
    case 'imagenet16':
    case 'imagenet16-120':
      return { train: 'train', val: false, test: true };
    default:
      throw new InputError(`unknown dataset '${o.dataset}'`);
  }
}

/** Files (with sizes and times) in the folders a release loader looks in: the identity of a release dataset. */
function releaseIdentity(o: ImageOptions, subfolders: string[]): unknown {
  const dirs = candidateDirs(o.data, subfolders, o.dataset);
  const files: [string, number, number][] = [];
  for (const d of dirs) {
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      try {
        const s = statSync(join(d, n));
        if (s.isFile()) files.push([join(d, n), s.size, Math.round(s.mtimeMs)]);
      } catch {
        /* not a file */
      }
    }
  }
  return { format: o.dataset, files };
}

/** A release dataset (eager loader) → bytes: loaded with mean 0, std 1 so every value is byte/255 exactly. */
function releaseBuild(o: ImageOptions, part: Part, prep: Prep, ctx: BuildContext): PixelStore {
  const t0 = performance.now();
  const split = part === 'all' ? undefined : (part as 'train' | 'test');
  const base = { ...(o.data !== undefined ? { data: o.data } : {}), ...(split ? { split } : {}) };
  let ds: ImageDataset;
  let norm: { mean: number[]; std: number[] };
  const unit3 = { mean: [0, 0, 0], std: [1, 1, 1] };
  switch (o.dataset) {
    case 'cifar10':
      ds = loadCifarBinary(CIFAR10_FORMAT, { ...base, ...unit3 });
      norm = { mean: [...CIFAR10_FORMAT.mean], std: [...CIFAR10_FORMAT.std] };
      break;
    case 'cifar100':
      ds = loadCifarBinary(CIFAR100_FORMAT, { ...base, ...unit3 });
      norm = { mean: [...CIFAR100_FORMAT.mean], std: [...CIFAR100_FORMAT.std] };
      break;
    case 'cifar10-1k':
      ds = loadCifar10Subset({ ...base, ...unit3 });
      norm = { mean: [...CIFAR10_FORMAT.mean], std: [...CIFAR10_FORMAT.std] };
      break;
    default:
      ds = loadImageNet16({ ...base, ...unit3 });
      norm = { mean: [...IMAGENET16_MEAN], std: [...IMAGENET16_STD] };
  }
  const channels = prep.channels ?? 3;
  const shape: [number, number, number] = [channels, prep.height ?? ds.height, prep.width ?? ds.width];
  const [c, h, w] = shape;
  const per = c * h * w;
  const plane = ds.height * ds.width;
  const writer = ctx.writer(ds.count, shape);
  const hist = new Histogram(c);
  const pixel = new Uint8Array(plane * 3);
  const row = new Uint8Array(per);
  for (let i = 0; i < ds.count; i++) {
    const o3 = i * 3 * plane;
    for (let q = 0; q < plane; q++) for (let ch = 0; ch < 3; ch++) pixel[q * 3 + ch] = Math.round(ds.images[o3 + ch * plane + q]! * 255);
    putRow(pixel, ds.height, ds.width, 3, row, 0, c, h, w);
    hist.addRow(row, 0, h * w);
    writer.write(i, row);
  }
  // grey from a colour release: its channels' average statistics (an approximation of the luma's)
  if (channels === 1) norm = { mean: [norm.mean.reduce((a, b) => a + b, 0) / 3], std: [norm.std.reduce((a, b) => a + b, 0) / 3] };
  const meta: CacheMeta = {
    format: 'robot-nas-images',
    version: 1,
    key: '',
    what: `${o.dataset} ${part}`,
    count: ds.count,
    shape,
    classes: ds.classes,
    classNames: ds.classNames ? [...ds.classNames] : null,
    histogram: Array.from(hist.counts),
    levels: null,
    norm,
    notes: [],
    sources: [...ds.sources],
    seconds: (performance.now() - t0) / 1000,
  };
  return writer.finish(meta, ds.labels);
}

function checkPrep(o: ImageOptions): void {
  if (o.size !== undefined && !(Number.isInteger(o.size) && o.size >= 1 && o.size <= 4096)) throw new InputError(`image size must be an integer in 1..4096, got ${o.size}`);
  if (o.channels !== undefined && o.channels !== 1 && o.channels !== 3) throw new InputError(`image channels must be 1 or 3, got ${String(o.channels)}`);
}

/**
 * Opens one part. `train`: the training part's meta, for the val and test parts, which take its working shape and
 * are matched to its classes.
 */
export async function openPart(o: ImageOptions, part: Part, train?: CacheMeta): Promise<OpenedPart> {
  checkPrep(o);
  const hinted = o.folders?.[part];
  if (hinted !== undefined) {
    const c = CacheFile.open(hinted);
    if (c) return { store: c, meta: c.meta, cached: true, folder: hinted };
  }
  const prep: Prep = train
    ? { channels: train.shape[0] as 1 | 3, height: train.shape[1], width: train.shape[2] }
    : { ...(o.channels !== undefined ? { channels: o.channels } : {}), ...(o.size !== undefined ? { height: o.size, width: o.size } : {}) };
  const known = train?.classNames ?? undefined;
  const data = o.data;
  // what the part is (cheap: listings and stats), then its key
  let identity: unknown;
  let build: (ctx: BuildContext) => Promise<PixelStore>;
  switch (o.dataset) {
    case 'folder': {
      const parts = folderParts(data!);
      const dir = parts[part];
      if (dir === undefined) throw new InputError(`${data}: no ${part} part`);
      const list = folderFiles(dir, resolve(data!), `folder ${part}`, known);
      identity = { format: 'folder', ...list.identity };
      build = (ctx) => buildFromFiles(list, prep, ctx);
      break;
    }
    case 'csv': {
      const list = csvFiles(data!, part, known);
      identity = { format: 'csv', ...list.identity };
      build = (ctx) => buildFromFiles(list, prep, ctx);
      break;
    }
    case 'idx': {
      const files = idxFiles(data!)[part];
      if (files === undefined) throw new InputError(`${data}: no ${part} idx files`);
      const src = idxSource(files, part);
      identity = src.identity;
      build = (ctx) => buildFromArrays(src, prep, ctx, known);
      break;
    }
    case 'npz': {
      const src = await npzSource(data!, part);
      identity = src.identity;
      build = async (ctx) => buildFromArrays(src, prep, ctx, known);
      break;
    }
    case 'mnist': {
      identity = { format: 'mnist-package', part };
      build = async (ctx) => mnistPart(part === 'test' ? 'test' : 'train', prep, ctx);
      break;
    }
    default: {
      if (!TABLES.includes(o.dataset)) throw new InputError(`unknown dataset '${o.dataset}'`);
      const sub = o.dataset.startsWith('cifar10-') ? ['cifar10'] : o.dataset === 'cifar10' ? ['cifar-10-batches-bin'] : o.dataset === 'cifar100' ? ['cifar-100-binary'] : ['ImageNet16'];
      identity = { ...(releaseIdentity(o, sub) as object), part };
      build = async (ctx) => releaseBuild(o, part, prep, ctx);
    }
  }
  const key = cacheKey(identity, { prep, known: known ?? null });
  const ctxFor = (writer: BuildContext['writer']): BuildContext => ({
    writer,
    threads: o.threads ?? availableParallelism(),
    maxPixels: o.maxPixels ?? maxImagePixels(),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  if (o.cacheDir === undefined) {
    const store = await build(ctxFor((count, shape) => memoryWriter(count, shape[0] * shape[1] * shape[2])));
    return { store, meta: store.meta, cached: false, folder: null };
  }
  const folder = cacheFolder(o.cacheDir, key);
  const hit = CacheFile.open(folder);
  if (hit) return { store: hit, meta: hit.meta, cached: true, folder };
  const store = await build(ctxFor((count, shape) => folderWriter(folder, count, shape[0] * shape[1] * shape[2])));
  return { store, meta: store.meta, cached: false, folder };
}

