/**
 * One training query described by a JSON-serialisable value: everything a worker (a thread here, or a machine
 * elsewhere) needs to train an architecture and report its validation accuracy (src/jobs/train.ts makes it a job).
 *
 *   { space, arch, network: { channels, cells }, data: DataRef, train: TrainSettings, seed }
 *     → { validAccuracy, seconds, trainLoss, trainAccuracy, diverged, divergence?, epochs }
 *
 * The data travel as a reference (dataset, folder, split settings) plus the fingerprint of the images the
 * search saw: a worker rebuilds the split itself and refuses the job when its images differ. Everything but
 * `seconds` is a function of the job (seed streams: util/seeds.ts), so the result does not depend on which
 * worker ran it or when; the job's key (jobs/train.ts) is its hash plus TRAINING_CODE_VERSION.
 */
import { buildNetwork } from '../networks/build.js';
import { DataMismatchError, InputError } from '../util/errors.js';
import { trainingSeed } from '../util/seeds.js';
import { prepareData, type PreparedData } from './data.js';
import { trainNetwork, type TrainSettings } from './trainer.js';

/** Where a training's images come from, and which images they must be. */
export interface DataRef {
  dataset: string;
  /** Dataset folder; null = the dataset's default location. A location, not part of the job's identity. */
  dir: string | null;
  validFraction: number;
  trainLimit: number | null;
  validLimit: number | null;
  /** Seed of the split and the subsets (the run seed). */
  seed: number;
  /** Fingerprint (SHA-256 prefix) of the train and validation images the job is about. */
  fingerprint: string;
  /** Working image size and channels asked for (absent: the images' own). */
  imageSize?: number;
  imageChannels?: 1 | 3;
  /** Folder of the image caches (absent: decode into memory). A location, not part of the job's identity. */
  cache?: string | null;
  /** The parts' cache folders, opened without listing the dataset again where they exist. A location too. */
  folders?: Partial<Record<'train' | 'val' | 'test' | 'all', string>>;
}

export interface TrainingSpec {
  space: string;
  /** Canonical architecture string. */
  arch: string;
  network: { channels: number; cells: number };
  data: DataRef;
  train: TrainSettings;
  /** Run seed; the training's streams derive from it and the architecture. */
  seed: number;
}

export interface TrainingOutcome {
  validAccuracy: number;
  /** Validation images per true class: seen and correctly classified. */
  validByClass?: { total: number[]; correct: number[] };
  /** Wall seconds of the training and its evaluation. */
  seconds: number;
  trainLoss: number | null;
  trainAccuracy: number | null;
  diverged: boolean;
  divergence?: string;
  epochs: number;
}

export interface TrainingSpecHooks {
  onProgress?(step: number, steps: number, loss: number): void;
  signal?: AbortSignal;
}

export { DataMismatchError } from '../util/errors.js';

/** The reference to prepared data (what a job carries instead of the images). */
export function dataRefOf(
  data: PreparedData,
  dir: string | undefined,
  limits: { trainLimit?: number; validLimit?: number },
  image: { imageSize?: number; imageChannels?: 1 | 3; cache?: string } = {},
): DataRef {
  const i = data.info;
  return {
    dataset: i.dataset,
    dir: dir ?? null,
    validFraction: i.validFraction,
    trainLimit: limits.trainLimit ?? null,
    validLimit: limits.validLimit ?? null,
    seed: i.splitSeed,
    fingerprint: i.fingerprint,
    ...(image.imageSize !== undefined ? { imageSize: image.imageSize } : {}),
    ...(image.imageChannels !== undefined ? { imageChannels: image.imageChannels } : {}),
    ...(image.cache !== undefined ? { cache: image.cache, folders: data.folders } : {}),
  };
}

/** Prepared data per reference, once per process (each worker thread has its own). */
const prepared = new Map<string, Promise<PreparedData>>();

/**
 * The data a job refers to, checked against its fingerprint. Data prepared earlier in this process (a long-lived
 * worker) are read again once when they do not match, so files fixed on disk meanwhile are seen.
 */
export async function referencedData(ref: DataRef, retry = true): Promise<PreparedData> {
  const { fingerprint, ...where } = ref;
  const cacheKey = JSON.stringify(where);
  let p = prepared.get(cacheKey);
  const fresh = p === undefined;
  if (p === undefined) {
    p = prepareData({
      dataset: ref.dataset,
      ...(ref.dir !== null ? { dir: ref.dir } : {}),
      validFraction: ref.validFraction,
      ...(ref.trainLimit !== null ? { trainLimit: ref.trainLimit } : {}),
      ...(ref.validLimit !== null ? { validLimit: ref.validLimit } : {}),
      seed: ref.seed,
      ...(ref.imageSize !== undefined ? { imageSize: ref.imageSize } : {}),
      ...(ref.imageChannels !== undefined ? { imageChannels: ref.imageChannels } : {}),
      ...(ref.cache !== undefined && ref.cache !== null ? { cacheDir: ref.cache } : {}),
      ...(ref.folders !== undefined ? { folders: ref.folders } : {}),
      // a job's thread decodes on its own (the search decoded before starting jobs, so this is a cache read)
      threads: 1,
    });
    prepared.set(cacheKey, p);
    p.catch(() => prepared.delete(cacheKey));
  }
  const data = await p;
  if (data.info.fingerprint !== fingerprint) {
    if (!fresh && retry) {
      prepared.delete(cacheKey);
      return referencedData(ref, false);
    }
    throw new DataMismatchError(
      `the job's ${ref.dataset} images have fingerprint ${fingerprint}, but ${ref.dir ?? 'the default location'} here gives ${data.info.fingerprint}: ` +
        'this machine holds other data (point it to the same dataset files)',
    );
  }
  return data;
}

/** Trains the spec's architecture; the backend must be initialised. */
export async function trainFromSpec(job: TrainingSpec, hooks: TrainingSpecHooks = {}): Promise<TrainingOutcome> {
  const data = await referencedData(job.data);
  const net = buildNetwork(job.space, job.arch, { ...job.network, classes: data.info.classes }, data.info.shape);
  const r = await trainNetwork(net, data, job.train, trainingSeed(job.seed, job.arch), {
    ...(hooks.onProgress ? { onStep: hooks.onProgress } : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
  });
  return {
    validAccuracy: r.validAccuracy,
    validByClass: r.validByClass,
    seconds: r.seconds,
    trainLoss: Number.isFinite(r.trainLoss) ? r.trainLoss : null,
    trainAccuracy: Number.isFinite(r.trainAccuracy) ? r.trainAccuracy : null,
    diverged: r.diverged,
    ...(r.divergence !== undefined ? { divergence: r.divergence } : {}),
    epochs: r.epochs.length,
  };
}
