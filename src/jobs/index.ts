/**
 * The kinds of job robot-nas runs, in one place: scoring an architecture with the training-free metrics (score.ts),
 * training it (train.ts), and a paper table's cell (table-cell.ts). Each kind is one `JobKind` (kind.ts) — its
 * constructor, key, checks and how it runs — and `jobExecutor` makes them the executor every runner is given.
 * Adding a kind is a change in this folder: a module like score.ts and its entry in JOB_KINDS.
 *
 * Importing this folder loads no engine: a kind loads what it runs on its first job (or on `warmUp`).
 *
 * Pieces of one computation run in parallel inside a layer (the image decoder's probe and decode work on worker
 * threads, src/data/decode-work.ts) are not jobs: they have no key and are never queued or stored.
 */
import type { ExperimentResult } from '../experiments/run.js';
import type { ScoringResult } from '../proxies/spec.js';
import type { Executor } from '../runner/types.js';
import type { TrainingOutcome } from '../train/spec.js';
import { InputError } from '../util/errors.js';
import type { JobKind } from './kind.js';
import { SCORING, type ScoringJob } from './score.js';
import { TABLE_CELL, type TableCellJob } from './table-cell.js';
import { TRAINING, type TrainingJob } from './train.js';

export type { JobKind } from './kind.js';
export { scoringJob, type ScoringJob } from './score.js';
export { trainingJob, trainingJobKey, type TrainingJob } from './train.js';
export { tableCellJob, type TableCellJob } from './table-cell.js';

export type Job = ScoringJob | TrainingJob | TableCellJob;
export type JobResult = ScoringResult | TrainingOutcome | ExperimentResult;
export type ResultOf<J extends Job> = J extends TrainingJob ? TrainingOutcome : J extends ScoringJob ? ScoringResult : ExperimentResult;

/** Every kind, by its name. */
export const JOB_KINDS = { score: SCORING, train: TRAINING, 'table-cell': TABLE_CELL } as const;
export type JobKindName = keyof typeof JOB_KINDS;

const KIND_NAMES = Object.keys(JOB_KINDS) as JobKindName[];

function kindOf(job: { kind?: unknown }): JobKind<Job, JobResult> {
  const kind = JOB_KINDS[job.kind as JobKindName] as JobKind<Job, JobResult> | undefined;
  if (kind === undefined || !Object.hasOwn(JOB_KINDS, String(job.kind))) {
    throw new InputError(`unknown job kind '${String(job.kind)}' (expected ${KIND_NAMES.join(', ')})`);
  }
  return kind;
}

/** The executor of robot-nas's jobs, for any runner (worker threads build it again from `thread`). */
export function jobExecutor(): Executor<Job, JobResult> {
  return {
    run: (job, ctx) => kindOf(job).run(job, ctx),
    key: (job) => kindOf(job).key(job),
    kind: (job) => kindOf(job).kind,
    label: (job) => `${job.kind} ${kindOf(job).subject(job)}`,
    subject: (job) => kindOf(job).subject(job),
    check(value) {
      if (typeof value !== 'object' || value === null) throw new InputError('the job is not an object');
      const job = value as Job;
      kindOf(job).check(job);
      return job;
    },
    relocate: (job, dir) => kindOf(job).relocate?.(job, dir) ?? job,
    summary: (job, result) => kindOf(job).summary?.(result) ?? '',
    async warmUp() {
      await Promise.all(Object.values(JOB_KINDS).map((k: JobKind<Job, JobResult>) => k.warmUp?.()));
    },
    thread: { module: import.meta.url, name: 'jobExecutor', options: {} },
  };
}
