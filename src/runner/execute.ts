import { CancelledError, type Executor, type JobEvent } from './types.js';

/**
 * Runs one job in this thread as every runner does: not at all once cancelled, a 'start' event first, and a failure
 * after cancellation reported as the cancellation.
 */
export async function executeJob<J, R>(executor: Executor<J, R>, job: J, emit: (e: JobEvent) => void, signal?: AbortSignal): Promise<R> {
  try {
    signal?.throwIfAborted();
    emit({ type: 'start' });
    return await executor.run(job, { emit, ...(signal ? { signal } : {}) });
  } catch (e) {
    throw signal?.aborted ? new CancelledError() : e;
  }
}
