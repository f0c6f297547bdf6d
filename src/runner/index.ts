import { inProcessRunner } from './in-process.js';
import type { Job, JobResult } from './jobs.js';
import type { Runner } from './types.js';
import { workerThreadRunner } from './worker-threads.js';

export type { Job, JobResult, ResultOf } from './jobs.js';
export { CancelledError, type JobEvent, type RunOptions, type Runner } from './types.js';
export { inProcessRunner } from './in-process.js';
export { workerThreadRunner } from './worker-threads.js';

/**
 * `workers` worker threads, or (0) this thread: the local runners behind `--parallel` / `--workers`. `prestart`
 * starts the threads at once (see workerThreadRunner).
 */
export function localRunner(workers: number, prestart = false): Runner<Job, JobResult> {
  return workers === 0 ? inProcessRunner() : workerThreadRunner(workers, undefined, prestart);
}
