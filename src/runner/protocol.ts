import type { Job, JobResult } from './jobs.js';
import type { JobEvent } from './types.js';

/** Messages between the worker-thread runner and its threads. */
export type ToWorker<J = Job> = { type: 'run'; id: number; job: J } | { type: 'cancel'; id: number };

export type FromWorker<R = JobResult> =
  | { type: 'event'; id: number; event: JobEvent }
  | { type: 'done'; id: number; result: R }
  | { type: 'failed'; id: number; message: string; input: boolean; cancelled: boolean; stack?: string };
