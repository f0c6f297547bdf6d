/**
 * What a kind of job is made of: its key, its checks and how it runs. Each kind (score.ts, train.ts, table-cell.ts)
 * is one such object, and index.ts makes them one executor for every runner.
 */
import { resolve } from 'node:path';
import type { JobContext } from '../runner/types.js';
import { getSpace } from '../spaces/index.js';
import { InputError } from '../util/errors.js';

export interface JobKind<J extends { readonly kind: string }, R> {
  readonly kind: J['kind'];
  /** The job's identity, `<kind>-<hash>`: its queue id. */
  key(job: J): string;
  /** What the job is about, for logs and errors (an architecture). */
  subject(job: J): string;
  /** Checks what makes the job fail the same way anywhere, before it runs (InputError); it is of this kind. */
  check(job: J): void;
  /** The job reading its data from `dir` on this machine. */
  relocate?(job: J, dir: string): J;
  /** A few words on a result for a worker's log. */
  summary?(result: R): string;
  /** Loads the modules its jobs run on, ahead of the first one (a prestarted worker thread). */
  warmUp?(): Promise<void>;
  /** Runs the job in this thread, loading what it needs on first use (the engine only for the kinds that use it). */
  run(job: J, ctx: JobContext): Promise<R>;
}

/**
 * A job's data read from `dir` on this machine (a queue worker's --data): decoded into this machine's own image cache
 * (robot-nas-results/ here), not into the submitter's folders.
 */
export function relocatedData<D extends { dir?: string | null; cache?: string | null; folders?: unknown }>(data: D, dir: string): D {
  return { ...data, dir, cache: resolve('robot-nas-results'), folders: undefined };
}

/** Spaces whose architectures have a network builder (the scoring and training jobs'). */
export const NETWORK_SPACES = ['nb201', 'darts'] as const;

/** A job's space has a network builder and its architecture is one of the space's. */
export function checkArchitecture(job: { space?: unknown; arch?: unknown }): void {
  if (job.space !== 'nb201' && job.space !== 'darts') throw new InputError(`job space '${String(job.space)}' has no network builder (${NETWORK_SPACES.join(', ')})`);
  if (typeof job.arch !== 'string') throw new InputError('the job names no architecture');
  try {
    getSpace(job.space).parse(job.arch);
  } catch (e) {
    throw new InputError(`bad architecture '${job.arch}' for space ${job.space}: ${(e as Error).message}`);
  }
}
