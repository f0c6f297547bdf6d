import { executeJob, type Job, type JobResult } from './jobs.js';
import type { RunOptions, Runner } from './types.js';

/**
 * Runs jobs one at a time in the calling thread (the engine is synchronous; trainings yield between steps, so
 * progress and Ctrl-C still get through). The reference the other runners must match.
 */
export function inProcessRunner(): Runner<Job, JobResult> {
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  return {
    capacity: 1,
    label: 'this thread',
    run(job: Job, opts: RunOptions = {}) {
      if (closed) return Promise.reject(new Error('the runner is closed'));
      const p = chain.then(() => executeJob(job, (e) => opts.onEvent?.(e), opts.signal));
      chain = p.catch(() => undefined);
      return p;
    },
    async close() {
      closed = true;
    },
  };
}
