/**
 * One cell of a paper table (a method on a task over the seeds) as a job, so that `robot-nas table` runs its cells on
 * every core: the thread loads the task's benchmark itself (cached per thread) and runs the experiment. A cell's
 * result does not depend on where it ran: each seed's run is seeded on its own.
 */
import { loadBenchmark, type BenchmarkId } from '../benchmarks/index.js';
import type { Benchmark } from '../benchmarks/types.js';
import { runExperiment, type ExperimentOptions, type ExperimentResult } from '../experiments/run.js';

export interface TableCellJob {
  readonly kind: 'table-cell';
  readonly benchmark: BenchmarkId;
  readonly task: string;
  /** Benchmark data folder (default: as loadBenchmark finds it). */
  readonly data?: string;
  readonly experiment: Omit<ExperimentOptions, 'onRun'>;
}

const loaded = new Map<string, Benchmark>();

/** Runs a cell in this thread (the worker-thread runner's executor interface; no events). */
export async function executeJob(job: TableCellJob): Promise<ExperimentResult> {
  const key = JSON.stringify([job.benchmark, job.task, job.data ?? null]);
  let b = loaded.get(key);
  if (b === undefined) {
    b = loadBenchmark({ benchmark: job.benchmark, task: job.task, data: job.data });
    loaded.set(key, b);
  }
  return runExperiment(b, job.experiment);
}
