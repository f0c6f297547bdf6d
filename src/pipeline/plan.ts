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
import { checkLimits, hasLimits } from './limits.js';
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
  if (o.budget !== 'all') checkBudget(requested, o.budget, 'the requested pool');
  for (const key of ['channels', 'cells', 'scoreBatch', 'parallel'] as const) {
    const v = o[key];
    const min = key === 'parallel' ? 0 : 1;
    if (!(Number.isInteger(v) && v >= min)) throw new SettingError(key, `expected a ${min === 0 ? 'non-negative' : 'positive'} integer, got ${v}`);
  }
  if (o.schedule !== undefined && o.schedule !== 'sync' && o.schedule !== 'async') throw new SettingError('schedule', `expected sync or async, got ${String(o.schedule)}`);
  // The recipe without the data-derived augmentation: lr, epochs, batch size are checked before any data is read.
  checkTrainSettings({ ...DARTS_TRAINING, lr: o.lr, epochs: o.epochs, batchSize: o.batchSize, augment: null });
  checkLimits(o.limits);
  checkOutputDir(o.out, 'out');
  if (o.cache !== null) checkOutputFile(o.cache, 'cache');
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
  log(
    `data: ${info.dataset} ${info.shape.join('×')}, ${info.classes} classes — ${info.trainCount} train / ${info.validCount} validation images ` +
      `(${info.validFrom !== undefined ? `validation: ${info.validFrom}` : `split seed ${info.splitSeed}`}, fingerprint ${info.fingerprint})`,
  );
  for (const n of info.notes ?? []) log(`data: ${n}`);
  return data;
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

/** What the output folder's search depends on (settings.json). */
export function searchSettings(o: SearchOptions, train: TrainSettings): Record<string, unknown> {
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
  };
}
