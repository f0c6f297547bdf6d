/**
 * A runner executes jobs — plain serialisable values — and reports their progress as events. In-process, worker
 * threads, or a distributed queue: the same job gives the same result on any of them, so callers only choose how
 * many run at once and where. What a job is and how it runs is the runner's `Executor`, given to it (src/jobs/
 * provides robot-nas's); a runner knows no job kind and loads no engine.
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

/** What a job sees while it runs. */
export interface JobContext {
  emit(e: JobEvent): void;
  signal?: AbortSignal;
}

/** Where a worker thread finds an executor: `(await import(module))[name](options)` builds it there. */
export interface ThreadExecutor {
  /** URL of the module. */
  readonly module: string;
  /** Name of its export that builds the executor. */
  readonly name: string;
  /** Its argument (structured-cloneable: it crosses to the thread). */
  readonly options: unknown;
}

/** The jobs a runner runs: how one executes, and what the runners need to know about it. */
export interface Executor<J = unknown, R = unknown> {
  /** Runs one job in the calling thread. */
  run(job: J, ctx: JobContext): Promise<R>;
  /** The job's identity: equal jobs get equal keys (its queue id, so not an integer and without ':'). */
  key(job: J): string;
  /** The job's kind (the queue entry's name). */
  kind(job: J): string;
  /** A short description for logs: `train |nor_conv_3x3~0|+…`. */
  label(job: J): string;
  /** What the job is about (its architecture), put before its errors. */
  subject(job: J): string;
  /**
   * Checks that a value received from elsewhere (a queue) is such a job, before it runs. A job that fails here fails
   * the same way anywhere: an InputError.
   */
  check(value: unknown): J;
  /** The job reading its data from `dir` on this machine instead of the folder it names (a queue worker's --data). */
  relocate?(job: J, dir: string): J;
  /** A few words on a finished job's result for a worker's log (`val 97.50%`), or ''. */
  summary?(job: J, result: R): string;
  /** Loads what the jobs need ahead of the first one (a prestarted worker thread calls it). */
  warmUp?(): Promise<void>;
  /** How a worker thread builds the same executor. */
  readonly thread: ThreadExecutor;
}

/** A job cancelled through its signal. */
export class CancelledError extends Error {
  constructor(message = 'the job was cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}
