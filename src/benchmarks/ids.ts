/** The tabular benchmarks robot-nas loads, and their tasks. */
import { InputError } from '../util/errors.js';

export type BenchmarkId = 'nb201' | 'tnb101-micro' | 'tnb101-macro';

export const BENCHMARK_IDS: readonly BenchmarkId[] = ['nb201', 'tnb101-micro', 'tnb101-macro'];

export const TNB_TASKS = ['class_scene', 'class_object', 'room_layout', 'jigsaw', 'segmentsemantic', 'normal', 'autoencoder'] as const;

/** The TransNAS-Bench-101 tasks, as a set (column names of its tables). */
export const TNB_TASK_SET: ReadonlySet<string> = new Set<string>(TNB_TASKS);

export const TASKS: Record<BenchmarkId, readonly string[]> = {
  nb201: ['cifar10', 'cifar100', 'imagenet16-120'],
  'tnb101-micro': TNB_TASKS,
  'tnb101-macro': TNB_TASKS,
};

export function checkBenchmark(id: string): BenchmarkId {
  if (!(BENCHMARK_IDS as readonly string[]).includes(id)) {
    throw new InputError(`unknown benchmark '${id}' (expected one of: ${BENCHMARK_IDS.join(', ')})`);
  }
  return id as BenchmarkId;
}

/** Validates and normalises a task name (case-insensitive). */
export function checkTask(benchmark: BenchmarkId, task: string): string {
  const valid = TASKS[benchmark];
  const found = valid.find((t) => t.toLowerCase() === task.toLowerCase());
  if (found === undefined) {
    throw new InputError(`unknown task '${task}' for ${benchmark} (valid tasks: ${valid.join(', ')})`);
  }
  return found;
}
