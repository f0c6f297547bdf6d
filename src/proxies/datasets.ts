import { DATASET_NAMES, loadDataset, type DatasetName } from '../data/index.js';
import type { ImageDataset, Split } from '../data/types.js';
import { InputError } from '../util/errors.js';

/** Where a scoring's images come from: a dataset name, an optional folder and split (JSON-serialisable). */
export interface ScoringData {
  dataset: string;
  dir?: string;
  split?: Split;
}

/** Loads a scoring's dataset with src/data's `loadDataset` (`dir` is its `data` folder option). */
export async function loadScoringDataset(spec: ScoringData): Promise<ImageDataset> {
  if (!(DATASET_NAMES as readonly string[]).includes(spec.dataset)) {
    throw new InputError(`unknown dataset '${spec.dataset}'; expected one of ${DATASET_NAMES.join(', ')}`);
  }
  return loadDataset(spec.dataset as DatasetName, {
    ...(spec.dir !== undefined ? { data: spec.dir } : {}),
    ...(spec.split !== undefined ? { split: spec.split } : {}),
  });
}
