/**
 * The training job: one query of a real search, an architecture trained on a data reference (src/train/spec.ts
 * describes and runs it).
 *
 *   { kind: 'train', space, arch, network: { channels, cells }, data: DataRef, train: TrainSettings, seed }
 *     → { validAccuracy, seconds, trainLoss, trainAccuracy, diverged, divergence?, epochs }
 *
 * Its key is its hash without the data's locations, plus TRAINING_CODE_VERSION: the key of the query cache.
 */
import type { TrainingOutcome, TrainingSpec } from '../train/spec.js';
import { TRAINING_CODE_VERSION } from '../train/version.js';
import { queryKey } from '../util/key.js';
import { checkArchitecture, relocatedData, type JobKind } from './kind.js';

export interface TrainingJob extends TrainingSpec {
  kind: 'train';
}

export function trainingJob(spec: TrainingSpec): TrainingJob {
  return { kind: 'train', ...spec };
}

/** The job's key: its hash without the data's locations, plus the training code version (the query cache's key). */
export function trainingJobKey(job: TrainingJob): string {
  const { dir: _location, cache: _cache, folders: _folders, ...data } = job.data;
  return queryKey({ ...job, data, code: TRAINING_CODE_VERSION });
}

export const TRAINING: JobKind<TrainingJob, TrainingOutcome> = {
  kind: 'train',
  key: (job) => `train-${trainingJobKey(job)}`,
  subject: (job) => job.arch,
  check: checkArchitecture,
  relocate: (job, dir) => ({ ...job, data: relocatedData(job.data, dir) }),
  summary: (r) => `val ${r.validAccuracy.toFixed(2)}%`,
  async warmUp() {
    await import('../train/spec.js');
  },
  async run(job, ctx) {
    // The thread's engine starts with its first training (src/engine/kernels.ts: ROBOT_NAS_KERNELS, ROBOT_NAS_THREADS).
    const { trainFromSpec } = await import('../train/spec.js');
    return trainFromSpec(job, {
      onProgress: (step, steps, loss) => ctx.emit({ type: 'progress', step, steps, loss }),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  },
};
