/**
 * A runner executes jobs — plain serialisable values (src/runner/jobs.ts lists the kinds) — and reports their
 * progress as events. In-process, worker threads, or a distributed queue: the same job gives the same result
 * on any of them, so callers only choose how many run at once and where.
 */

/** What a job reports while it runs (a training's steps; a scoring job only starts and ends). */
export type JobEvent = { type: 'start' } | { type: 'progress'; step: number; steps: number; loss: number };

export interface RunOptions {
  /** Events of this job, in order. */
  onEvent?: (e: JobEvent) => void;
  /** Cancels the job: a queued one never starts, a running one stops at its next step. */
  signal?: AbortSignal;
}

export interface Runner<J = unknown, R = unknown> {
  /** Jobs it runs at once. */
  readonly capacity: number;
  /** Where the jobs run, for messages: 'this thread', '2 worker threads', … */
  readonly label: string;
  run(job: J, opts?: RunOptions): Promise<R>;
  /** Stops its workers; jobs not finished are rejected. */
  close(): Promise<void>;
}

/** A job cancelled through its signal. */
export class CancelledError extends Error {
  constructor(message = 'the job was cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}
