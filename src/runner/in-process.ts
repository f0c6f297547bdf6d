import { executeJob } from './execute.js';
import type { Executor, RunOptions, Runner } from './types.js';

/**
 * Runs jobs one at a time in the calling thread (the engine is synchronous; trainings yield between steps, so
 * progress and Ctrl-C still get through). The reference the other runners must match.
 */
export function inProcessRunner<J, R>(executor: Executor<J, R>): Runner<J, R> {
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  return {
    capacity: 1,
    label: 'this thread',
    run(job: J, opts: RunOptions = {}) {
      if (closed) return Promise.reject(new Error('the runner is closed'));
      const p = chain.then(() => executeJob(executor, job, (e) => opts.onEvent?.(e), opts.signal));
      chain = p.catch(() => undefined);
      return p;
    },
    async close() {
      closed = true;
    },
  };
}
