/**
 * The kinds of job robot-nas runs, and how one is executed wherever a runner puts it: scoring an
 * architecture with the training-free metrics (src/proxies/job.ts) or training it (src/train/job.ts).
 */
import { runProxyJob, type ProxyJob, type ProxyJobResult } from '../proxies/job.js';
import { runTrainingJob, type TrainingJob, type TrainingOutcome } from '../train/job.js';
import { InputError } from '../util/errors.js';
import { CancelledError, type JobEvent } from './types.js';

export type Job = ProxyJob | TrainingJob;
export type ResultOf<J extends Job> = J extends TrainingJob ? TrainingOutcome : ProxyJobResult;
export type JobResult = ProxyJobResult | TrainingOutcome;

/** Runs one job in this thread (the thread's engine starts with its first job). */
export async function executeJob(job: Job, emit: (e: JobEvent) => void, signal?: AbortSignal): Promise<JobResult> {
  try {
    return await execute(job, emit, signal);
  } catch (e) {
    throw signal?.aborted ? new CancelledError() : e;
  }
}

async function execute(job: Job, emit: (e: JobEvent) => void, signal?: AbortSignal): Promise<JobResult> {
  signal?.throwIfAborted();
  emit({ type: 'start' });
  switch (job.kind) {
    case 'score':
      return runProxyJob(job);
    case 'train':
      return runTrainingJob(job, { onProgress: (step, steps, loss) => emit({ type: 'progress', step, steps, loss }), ...(signal ? { signal } : {}) });
    default:
      throw new InputError(`unknown job kind '${String((job as { kind?: unknown }).kind)}' (expected score or train)`);
  }
}
