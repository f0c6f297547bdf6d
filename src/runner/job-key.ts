/**
 * A job's identity, used as its id in the distributed queue: equal jobs get equal ids, so a job submitted twice (two
 * searches, a resumed coordinator) is one queue entry that runs once and answers every submitter.
 */
import { getSpace } from '../spaces/index.js';
import { trainingJobKey } from '../train/job.js';
import { InputError } from '../util/errors.js';
import { queryKey } from '../util/key.js';
import type { Job } from './jobs.js';

/**
 * `train-<key>` (the training's cache key: its hash without the data's location, plus the training code version) or
 * `score-<hash of the scoring job>`. BullMQ ids must not be integers nor contain ':'.
 */
export function jobKeyOf(job: Job): string {
  if (job.kind === 'train') return `train-${trainingJobKey(job)}`;
  if (job.kind === 'score') return `score-${queryKey(job)}`;
  throw new InputError(`unknown job kind '${String((job as { kind?: unknown }).kind)}' (expected score or train)`);
}

/** A short, readable description of a job for logs: `train |nor_conv_3x3~0|+…` */
export function jobLabel(job: Job): string {
  return `${job.kind} ${job.arch}`;
}

/**
 * Checks, before a job runs, what makes it fail the same way anywhere: an unknown kind or space, an architecture that
 * is not one of the space's. Such a job is not worth retrying (InputError).
 */
export function checkJobShape(value: unknown): Job {
  const job = value as Partial<Job> | null;
  if (typeof job !== 'object' || job === null) throw new InputError('the job is not an object');
  if (job.kind !== 'train' && job.kind !== 'score') throw new InputError(`unknown job kind '${String(job.kind)}' (expected score or train)`);
  if (job.space !== 'nb201' && job.space !== 'darts') throw new InputError(`job space '${String(job.space)}' has no network builder (nb201, darts)`);
  if (typeof job.arch !== 'string') throw new InputError('the job names no architecture');
  try {
    getSpace(job.space).parse(job.arch);
  } catch (e) {
    throw new InputError(`bad architecture '${job.arch}' for space ${job.space}: ${(e as Error).message}`);
  }
  return job as Job;
}
