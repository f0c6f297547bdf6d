/**
 * The objective of a real search: a query trains the architecture (train/trainer.ts) on the prepared data and
 * returns its validation accuracy; the cost is the wall seconds of that training. Results go through the
 * on-disk QueryCache under a key covering space, architecture, network size, data fingerprint and split,
 * training settings, seed and the version of the training code — so a rerun, a resumed search or another method on the same pool never trains
 * the same thing twice, and nothing trained under other settings is ever reused.
 */
import { buildJobNetwork, deriveSeed } from '../proxies/job.js';
import type { PreparedData } from '../train/data.js';
import { trainNetwork, type TrainHooks, type TrainSettings } from '../train/trainer.js';
import { TRAINING_CODE_VERSION } from '../train/version.js';
import { CachedObjective, type QueryEvent } from './cached.js';
import { queryKey, type QueryCache } from './query-cache.js';

export interface TrainingQuerySettings {
  space: string;
  /** NB201: C of the first stage; DARTS: initial channels. */
  channels: number;
  /** NB201: cells per stage; DARTS: number of cells. */
  cells: number;
  train: TrainSettings;
  /** Run seed; each architecture trains from `deriveSeed(seed, 'train:' + arch)`. */
  seed: number;
}

/** Seed an architecture's training uses: a function of the run seed and the architecture only. */
export function trainingSeed(seed: number, arch: string): number {
  return deriveSeed(seed, `train:${arch}`);
}

/** Cache key of one training query. */
export function trainingKey(arch: string, data: PreparedData, s: TrainingQuerySettings): string {
  const { info } = data;
  return queryKey({
    kind: 'train',
    code: TRAINING_CODE_VERSION,
    space: s.space,
    arch,
    network: { channels: s.channels, cells: s.cells, classes: info.classes, shape: info.shape },
    data: { dataset: info.dataset, fingerprint: info.fingerprint, train: info.trainCount, valid: info.validCount, splitSeed: info.splitSeed },
    train: { ...s.train, augment: s.train.augment ?? null },
    seed: s.seed,
  });
}

/** Trains one architecture of the space with the query settings (no cache). */
export async function trainArchitecture(arch: string, data: PreparedData, s: TrainingQuerySettings, hooks?: TrainHooks) {
  const net = buildJobNetwork(s.space, arch, { channels: s.channels, cells: s.cells, batch: 1, classes: data.info.classes, metrics: [] }, data.info.shape);
  return trainNetwork(net, data, s.train, trainingSeed(s.seed, arch), hooks);
}

export interface TrainingObjectiveOptions {
  archs: readonly string[];
  data: PreparedData;
  settings: TrainingQuerySettings;
  cache: QueryCache;
  onQuery?: (e: QueryEvent) => void;
  /** Called before a fresh training starts (not for cache hits), e.g. to start a progress bar. */
  onTrainStart?: (arch: string, index: number) => void;
  hooks?: TrainHooks;
}

/** A CachedObjective whose queries train on the data and return validation accuracy (%). */
export function createTrainingObjective(o: TrainingObjectiveOptions): CachedObjective {
  return new CachedObjective({
    archs: o.archs,
    keyOf: (arch) => trainingKey(arch, o.data, o.settings),
    cache: o.cache,
    onQuery: o.onQuery,
    run: async (arch, index) => {
      o.onTrainStart?.(arch, index);
      const r = await trainArchitecture(arch, o.data, o.settings, o.hooks);
      return {
        value: r.validAccuracy,
        seconds: r.seconds,
        details: {
          trainAccuracy: Number.isFinite(r.trainAccuracy) ? r.trainAccuracy : null,
          trainLoss: Number.isFinite(r.trainLoss) ? r.trainLoss : null,
          diverged: r.diverged,
          ...(r.divergence !== undefined ? { divergence: r.divergence } : {}),
          epochs: r.epochs.length,
        },
      };
    },
  });
}
