import type { JobEvent } from './types.js';

/** Messages between the worker-thread runner and its threads. */
export type ToWorker<J = unknown> = { type: 'run'; id: number; job: J } | { type: 'cancel'; id: number };

export type FromWorker<R = unknown> =
  | { type: 'event'; id: number; event: JobEvent }
  | { type: 'done'; id: number; result: R }
  | { type: 'failed'; id: number; message: string; input: boolean; cancelled: boolean; stack?: string };
