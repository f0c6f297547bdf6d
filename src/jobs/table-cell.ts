/**
 * One cell of a paper table (a method on a task over the seeds) as a job, so that `robot-nas table` runs its cells on
 * every core: the thread loads the task's benchmark itself (cached per thread) and runs the experiment. A cell's
 * result does not depend on where it ran: each seed's run is seeded on its own.
 */
import type { Benchmark } from '../benchmarks/types.js';
import { BENCHMARK_IDS, checkTask, type BenchmarkId } from '../benchmarks/ids.js';
import type { ExperimentOptions, ExperimentResult } from '../experiments/run.js';
import { InputError } from '../util/errors.js';
import { queryKey } from '../util/key.js';
import type { JobKind } from './kind.js';

export interface TableCellJob {
  readonly kind: 'table-cell';
  readonly benchmark: BenchmarkId;
  readonly task: string;
  /** Benchmark data folder (default: as loadBenchmark finds it). */
  readonly data?: string;
  readonly experiment: Omit<ExperimentOptions, 'onRun'>;
}

export function tableCellJob(cell: Omit<TableCellJob, 'kind'>): TableCellJob {
  return { kind: 'table-cell', ...cell };
}

/** Benchmarks loaded in this thread. */
const loaded = new Map<string, Benchmark>();

export const TABLE_CELL: JobKind<TableCellJob, ExperimentResult> = {
  kind: 'table-cell',
  key: (job) => `table-cell-${queryKey(job)}`,
  subject: (job) => `${job.experiment.method} on ${job.benchmark} ${job.task}`,
  check(job) {
    if (!(BENCHMARK_IDS as readonly unknown[]).includes(job.benchmark)) throw new InputError(`unknown benchmark '${String(job.benchmark)}' (expected one of: ${BENCHMARK_IDS.join(', ')})`);
    checkTask(job.benchmark, String(job.task));
    if (typeof job.experiment !== 'object' || job.experiment === null) throw new InputError('the table cell names no experiment');
  },
  relocate: (job, dir) => ({ ...job, data: dir }),
  async run(job) {
    const [{ loadBenchmark }, { runExperiment }] = await Promise.all([import('../benchmarks/load.js'), import('../experiments/run.js')]);
    const key = JSON.stringify([job.benchmark, job.task, job.data ?? null]);
    let b = loaded.get(key);
    if (b === undefined) {
      b = loadBenchmark({ benchmark: job.benchmark, task: job.task, data: job.data });
      loaded.set(key, b);
    }
    return runExperiment(b, job.experiment);
  },
};
