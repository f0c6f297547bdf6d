/**
 * Steps 1 and 2 of a search: every option checked before any work, then the data and what can only be checked
 * against it. Impossible requests fail here, naming their setting (the CLI turns it into the flag).
 */
import { dirname, resolve } from 'node:path';
import { searchMethod } from '../search/registry.js';
import { checkBudget, type SearchMethod } from '../search/types.js';
import { getSpace } from '../spaces/index.js';
import { augmentFor } from '../train/augment.js';
import { prepareData, type DataInfo, type PreparedData } from '../train/data.js';
import { checkTrainSettings, DARTS_TRAINING, type TrainSettings } from '../train/trainer.js';
import { SettingError } from '../util/errors.js';
import { checkOutputDir, checkOutputFile } from '../util/output-paths.js';
import { checkReplaceable } from '../util/owned-folder.js';
import { notAStore } from '../store/jsonl.js';
import { searchFolder } from './files.js';
import { checkLimits, hasLimits } from './limits.js';
import { checkFits, footprint, minimumBytes, SMALLEST_ARCH } from '../model/fits.js';
import type { NetworkSpec } from '../model/network.js';
import { totalmem } from 'node:os';
import type { SearchOptions, SearchPlan } from './types.js';

/** The method of a search: one named in the registry, or a SearchMethod given as it is. */
function methodOf(o: SearchOptions): SearchMethod {
  if (typeof o.method === 'string') return searchMethod(o.method, o.metrics);
  const m = o.method as Partial<SearchMethod> | null;
  if (typeof m !== 'object' || m === null || typeof m.name !== 'string' || m.name === '' || typeof m.run !== 'function') {
    throw new SettingError('method', 'expected a method name or a SearchMethod object ({ name, run(ctx) })');
  }
  return o.method;
}

/** What a worker thread holds before any job: the engine's initial 16 MB heap and its JavaScript heap. */
const THREAD_BASE_BYTES = 24 * 2 ** 20;

/** The candidates a search starts from (before limits). */
export function poolSize(p: SearchPlan): number {
  return p.o.pool === 'all' ? p.space.size : p.o.pool;
}

/** The largest pool a search holds (NB201 has 15,625 cells; DARTS pools are samples). */
export const MAX_POOL = 1_000_000;

export function planSearch(o: SearchOptions): SearchPlan {
  if (o.space !== 'nb201' && o.space !== 'darts') throw new SettingError('space', `expected nb201 or darts, got ${String(o.space)}`);
  if (o.metrics.length === 0) throw new SettingError('metrics', 'at least one metric is needed');
  const method = methodOf(o);
  const space = getSpace(o.space);
  if (o.pool !== 'all' && !(Number.isInteger(o.pool) && o.pool >= 1)) throw new SettingError('pool', `expected a positive integer or all, got ${o.pool}`);
  // DARTS (~1e20 genotypes) can only be sampled.
  if (o.pool === 'all' && space.id === 'darts') throw new SettingError('pool', `all: the darts space has ~${space.size.toExponential(1)} architectures and cannot be enumerated; give a sample size`);
  const requested = o.pool === 'all' ? space.size : o.pool;
  if (requested > space.size) throw new SettingError('pool', `${requested} architectures requested, but the ${space.id} space has only ${space.size}`);
  // a pool is held in memory (and scored one by one): far beyond what a machine holds or scores in a lifetime
  if (requested > MAX_POOL) throw new SettingError('pool', `${requested} architectures: at most ${MAX_POOL.toLocaleString('en-US')} can be held and scored (each is a metric row and a network to build)`);
  if (o.budget !== 'all') checkBudget(requested, o.budget, 'the requested pool');
  for (const key of ['channels', 'cells', 'scoreBatch', 'parallel'] as const) {
    const v = o[key];
    const min = key === 'parallel' ? 0 : 1;
    if (!(Number.isInteger(v) && v >= min)) throw new SettingError(key, `expected a ${min === 0 ? 'non-negative' : 'positive'} integer, got ${v}`);
  }
  // every worker thread holds at least the engine's initial memory: refuse, before any starts, more than fit
  const threads = Math.min(o.parallel, requested);
  if (threads * THREAD_BASE_BYTES > totalmem()) {
    throw new SettingError('parallel', `${o.parallel} worker threads (${threads} for this pool) need at least ${((threads * THREAD_BASE_BYTES) / 1e9).toFixed(1)} GB, more than this machine's ${(totalmem() / 1e9).toFixed(1)} GB of memory; use fewer (the number of cores is usually best), or --queue to spread the jobs over machines`);
  }
  if (o.schedule !== undefined && o.schedule !== 'sync' && o.schedule !== 'async') throw new SettingError('schedule', `expected sync or async, got ${String(o.schedule)}`);
  // The recipe without the data-derived augmentation: lr, epochs, batch size are checked before any data is read.
  checkTrainSettings({ ...DARTS_TRAINING, lr: o.lr, epochs: o.epochs, batchSize: o.batchSize, augment: null });
  checkLimits(o.limits);
  if (o.outIsDefault) checkOutputDir(o.out, 'out');
  else checkReplaceable(o.out, 'out', searchFolder(o.cache, o.out));
  if (o.cache !== null) {
    checkOutputFile(o.cache, 'cache');
    const foreign = notAStore(o.cache);
    if (foreign !== undefined) throw new SettingError('cache', `${o.cache} ${foreign.message}; give another file`);
  }
  if (o.imageSize !== undefined && !(Number.isInteger(o.imageSize) && o.imageSize >= 1 && o.imageSize <= 4096)) throw new SettingError('imageSize', `expected an integer in 1..4096, got ${o.imageSize}`);
  if (o.imageChannels !== undefined && o.imageChannels !== 1 && o.imageChannels !== 3) throw new SettingError('imageChannels', `expected 1 or 3, got ${String(o.imageChannels)}`);
  const out = resolve(o.out);
  const cache = o.cache === null ? null : resolve(o.cache);
  return { o, method, space, out, cache, imageCache: cache === null ? out : dirname(cache) };
}

/** The data, and what can only be checked against it (classes, the scoring batch). */
export async function loadData(p: SearchPlan, log: (m: string) => void, onProgress?: (phase: string, done: number, total: number) => void): Promise<PreparedData> {
  const { o } = p;
  const data = await prepareData({
    dataset: o.dataset,
    ...(o.dir !== undefined ? { dir: o.dir } : {}),
    validFraction: o.validFraction,
    ...(o.trainLimit !== undefined ? { trainLimit: o.trainLimit } : {}),
    ...(o.validLimit !== undefined ? { validLimit: o.validLimit } : {}),
    seed: o.seed,
    ...(o.imageSize !== undefined ? { imageSize: o.imageSize } : {}),
    ...(o.imageChannels !== undefined ? { imageChannels: o.imageChannels } : {}),
    cacheDir: p.imageCache,
    ...(onProgress ? { onProgress } : {}),
  });
  const info = data.info;
  if (o.scoreBatch > info.trainCount) {
    throw new SettingError('scoreBatch', `${o.scoreBatch} images per scoring batch, but the training split has only ${info.trainCount}`);
  }
  // Sizes the engine cannot hold are refused now, not deep inside the first scoring (model/fits.ts): even the pool's
  // smallest network must fit for the scoring batch and the training batch.
  const smallest: NetworkSpec = { space: o.space, arch: SMALLEST_ARCH[o.space], channels: o.channels, cells: o.cells, classes: info.classes, inputShape: info.shape };
  checkFits(
    smallest,
    [
      { setting: 'scoreBatch', batch: o.scoreBatch, doing: 'score the metrics on' },
      { setting: 'batchSize', batch: Math.min(o.batchSize, info.trainCount), doing: 'train on' },
    ],
    `even the smallest ${o.space} network`,
  );
  checkThreadMemory(p, data, smallest);
  log(
    `data: ${info.dataset} ${info.shape.join('×')}, ${info.classes} classes — ${info.trainCount} train / ${info.validCount} validation images ` +
      `(${info.validFrom !== undefined ? `validation: ${info.validFrom}` : `split seed ${info.splitSeed}`}, fingerprint ${info.fingerprint})`,
  );
  for (const n of info.notes ?? []) log(`data: ${n}`);
  return data;
}

/**
 * Worker threads each hold their own engine memory and their own resident copy of small image sets (data/imageset.ts:
 * up to 64 MB): more threads than the machine's memory can hold that for is refused (threads start on demand, one
 * per job at most). A lower bound, as the size checks are.
 */
function checkThreadMemory(p: SearchPlan, data: PreparedData, smallest: NetworkSpec): void {
  const { o } = p;
  const threads = Math.min(o.parallel, poolSize(p));
  const [c, h, w] = data.info.shape;
  const images = Math.min((data.info.trainCount + data.info.validCount) * c * h * w, 64 * 2 ** 20);
  const each = images + minimumBytes(footprint(smallest), Math.min(o.scoreBatch, o.batchSize));
  if (threads > 1 && threads * each > totalmem()) {
    throw new SettingError(
      'parallel',
      `${o.parallel} worker threads would each hold at least ${(each / 1e6).toFixed(0)} MB (images and engine memory): ${((threads * each) / 1e9).toFixed(1)} GB, more than this machine's ${(totalmem() / 1e9).toFixed(1)} GB of memory; use fewer (the number of cores is usually best), or --queue to spread the jobs over machines`,
    );
  }
}

/** The query's training recipe (RoBoT's DARTS settings with the user's epochs, batch size, rate). */
export function trainSettings(o: SearchOptions, info: DataInfo): TrainSettings {
  return {
    ...DARTS_TRAINING,
    lr: o.lr,
    epochs: o.epochs,
    batchSize: o.batchSize,
    augment: augmentFor(o.dataset, info.mean, info.std, info.shape[1]),
  };
}

/** The jobs at once a search runs with (`parallel` 0 runs one at a time in this thread). */
export function queriesAtOnce(o: SearchOptions): number {
  return Math.max(1, o.parallel);
}

/** What the output folder's search depends on (settings.json), the images included. */
export function searchSettings(o: SearchOptions, train: TrainSettings, info: DataInfo): Record<string, unknown> {
  return {
    space: o.space,
    dataset: o.dataset,
    dir: o.dir ?? null,
    // only when given, so that folders of searches without them resume as before
    ...(o.imageSize !== undefined ? { imageSize: o.imageSize } : {}),
    ...(o.imageChannels !== undefined ? { imageChannels: o.imageChannels } : {}),
    pool: o.pool,
    budget: o.budget,
    method: typeof o.method === 'string' ? o.method : o.method.name,
    metrics: o.metrics,
    channels: o.channels,
    cells: o.cells,
    scoreBatch: o.scoreBatch,
    validFraction: o.validFraction,
    trainLimit: o.trainLimit ?? null,
    validLimit: o.validLimit ?? null,
    seed: o.seed,
    searchSeed: o.searchSeed ?? o.seed,
    // a batch search's answer depends on how many queries a round holds
    parallel: queriesAtOnce(o),
    schedule: o.schedule ?? 'sync',
    training: train,
    // only when given, so that folders of searches without limits resume as before
    ...(hasLimits(o.limits) ? { limits: o.limits } : {}),
    // the train and validation images the queries train on (folders written before it was recorded resume as before)
    fingerprint: info.fingerprint,
  };
}
