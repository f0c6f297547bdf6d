import { inProcessRunner } from './in-process.js';
import type { Executor, Runner } from './types.js';
import { workerThreadRunner } from './worker-threads.js';

export { CancelledError, type Executor, type JobContext, type JobEvent, type RunOptions, type Runner, type ThreadExecutor } from './types.js';
export { inProcessRunner } from './in-process.js';
export { workerThreadRunner } from './worker-threads.js';

/**
 * `workers` worker threads, or (0) this thread: the local runners behind `--parallel` / `--workers`. `prestart`
 * starts the threads at once (see workerThreadRunner).
 */
export function localRunner<J, R>(workers: number, executor: Executor<J, R>, prestart = false): Runner<J, R> {
  return workers === 0 ? inProcessRunner(executor) : workerThreadRunner(workers, executor, { prestart });
}
