import type { Job, JobResult } from './jobs.js';
import type { JobEvent } from './types.js';

/** Messages between the worker-thread runner and its threads. */
export type ToWorker = { type: 'run'; id: number; job: Job } | { type: 'cancel'; id: number };

export type FromWorker =
  | { type: 'event'; id: number; event: JobEvent }
  | { type: 'done'; id: number; result: JobResult }
  | { type: 'failed'; id: number; message: string; input: boolean; cancelled: boolean; stack?: string };
