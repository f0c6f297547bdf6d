import { DATASET_NAMES } from '../data/index.js';
import { datasetParts, openPart } from '../data/images.js';
import { StoredSet, type ImageSet } from '../data/imageset.js';
import { Histogram } from '../data/pixels.js';
import type { Split } from '../data/types.js';
import { InputError } from '../util/errors.js';

/** Where a scoring's images come from: a dataset name, an optional folder and split, the preprocessing (JSON-serialisable). */
export interface ScoringData {
  dataset: string;
  dir?: string;
  split?: Split;
  /** Fingerprint of the scoring batch's images (proxies/spec.ts scoringFingerprint): a worker whose images differ refuses the job. */
  fingerprint?: string;
  /** Working image size and channels asked for (absent: the images' own). */
  imageSize?: number;
  imageChannels?: 1 | 3;
  /** Folder of the image caches (absent: decode into memory). */
  cache?: string;
  /** The parts' cache folders, when the submitting process knows them (opened without listing the dataset). */
  folders?: Partial<Record<'train' | 'val' | 'test' | 'all', string>>;
}

/**
 * A scoring's images (src/data/images.ts): the split asked for, else the dataset's training part; read from the image
 * cache, normalised with the dataset's usual statistics or the part's own.
 */
export async function loadScoringDataset(spec: ScoringData): Promise<ImageSet> {
  if (!(DATASET_NAMES as readonly string[]).includes(spec.dataset)) {
    throw new InputError(`unknown dataset '${spec.dataset}'; expected one of ${DATASET_NAMES.join(', ')}`);
  }
  const io = {
    dataset: spec.dataset,
    ...(spec.dir !== undefined ? { data: spec.dir } : {}),
    ...(spec.imageSize !== undefined ? { size: spec.imageSize } : {}),
    ...(spec.imageChannels !== undefined ? { channels: spec.imageChannels } : {}),
    ...(spec.cache !== undefined ? { cacheDir: spec.cache } : {}),
    ...(spec.folders !== undefined ? { folders: spec.folders } : {}),
    threads: 1,
  };
  const known = spec.folders ? (Object.keys(spec.folders) as ('train' | 'all')[]).find((k) => k === 'train' || k === 'all') : undefined;
  const part = spec.split ?? known ?? (await datasetParts(io)).train;
  let p = await openPart(io, part);
  let norm = p.meta.norm;
  if (part === 'test') {
    // the training part's statistics and classes, as a training normalises its test images
    const train = await openPart(io, 'train');
    norm = train.meta.norm ?? stats(train.meta);
    p = await openPart(io, 'test', train.meta);
  }
  norm ??= stats(p.meta);
  const name = spec.dataset === 'imagenet16-120' ? 'imagenet16' : spec.dataset;
  return new StoredSet(name, p.store, Int32Array.from({ length: p.meta.count }, (_, i) => i), p.meta.classes, norm.mean, norm.std, p.meta.sources, p.meta.classNames);
}

function stats(meta: { shape: number[]; histogram: number[]; levels: number[] | null }): { mean: number[]; std: number[] } {
  const h = new Histogram(meta.shape[0]!);
  h.add(meta.histogram);
  return h.stats(meta.levels ?? undefined);
}
