/** Benchmark tables from NAS-Bench-Suite-Zero json files (suitezero.ts reads the file): one task as a table, or its metrics merged into another table. */
import { basename } from 'node:path';
import type { SearchSpace } from '../spaces/types.js';
import { inputError } from '../util/errors.js';
import { BENCHMARK_IDS, TASKS, TNB_TASK_SET, type BenchmarkId } from './ids.js';
import { readSuiteZeroFile, szMetricNames, type SzFile, type SzTask } from './suitezero.js';
import { detectSpace, makeBenchmark, nanArray, parseArchs, selectTask, spaceFor, type TableOptions } from './tables.js';
import type { Benchmark } from './types.js';

const SZ_SPACE_KEYS: Record<string, BenchmarkId> = {
  nasbench201: 'nb201',
  transbench101_micro: 'tnb101-micro',
  transbench101_macro: 'tnb101-macro',
};

/** Task name in a Suite-Zero file → our task name (e.g. ImageNet16-120 → imagenet16-120). */
function normTask(name: string): string {
  const l = name.toLowerCase();
  for (const ts of Object.values(TASKS)) for (const t of ts) if (t === l) return t;
  return name;
}

export function szTaskFor(sz: SzFile, task: string): SzTask | undefined {
  return sz.tasks.find((t) => normTask(t.name) === task);
}

function szLoc(task: SzTask): (i: number) => string {
  return (i) => `task "${task.name}", key "${task.entries[i]!.key}"`;
}

function szBenchmarkId(sz: SzFile, file: string, task: SzTask, given: BenchmarkId | undefined): BenchmarkId {
  if (given !== undefined) return given;
  if (sz.spaceKey !== undefined && SZ_SPACE_KEYS[sz.spaceKey] !== undefined) return SZ_SPACE_KEYS[sz.spaceKey]!;
  const t = normTask(task.name);
  let candidates: BenchmarkId[] = [...BENCHMARK_IDS];
  if (TASKS.nb201.includes(t)) candidates = ['nb201'];
  else if (TNB_TASK_SET.has(t)) {
    const name = basename(file).toLowerCase();
    candidates = name.includes('macro') ? ['tnb101-macro'] : name.includes('micro') ? ['tnb101-micro'] : ['tnb101-micro', 'tnb101-macro'];
  }
  if (candidates.length === 1) return candidates[0]!;
  return detectSpace(
    task.entries.map((e) => e.key),
    file,
    szLoc(task),
    candidates,
  );
}

export function loadSuiteZeroTable(file: string, opts: TableOptions): Benchmark {
  const sz = readSuiteZeroFile(file);
  if (sz.tasks.length === 0) throw inputError(file, undefined, 'the file holds no tasks');
  const name = selectTask(
    file,
    sz.tasks.map((t) => t.name),
    opts.task,
  );
  const szTask = sz.tasks.find((t) => t.name === name)!;
  const id = szBenchmarkId(sz, file, szTask, opts.benchmark);
  const space = spaceFor(id);
  const archs = parseArchs(
    space,
    szTask.entries.map((e) => e.key),
    file,
    szLoc(szTask),
  );
  const n = archs.length;
  const objective = Float64Array.from(szTask.entries, (e) => e.valAcc);
  const metrics = new Map<string, Float64Array>();
  for (const m of szMetricNames(szTask)) {
    const col = nanArray(n);
    szTask.entries.forEach((e, i) => {
      const v = e.metrics.get(m);
      if (v !== undefined) col[i] = v;
    });
    metrics.set(m, col);
  }
  return makeBenchmark({
    benchmark: id,
    task: normTask(name),
    space,
    sources: [file],
    archs,
    objective,
    cost: new Float64Array(n),
    final: objective,
    metrics,
    objectiveName: 'val_accuracy',
    finalName: 'val_accuracy',
  });
}

/** Adds a Suite-Zero task's metrics to columns aligned with `index`; returns how many entries matched. */
export function mergeSuiteZero(
  szTask: SzTask,
  file: string,
  space: SearchSpace,
  index: ReadonlyMap<string, number>,
  metrics: Map<string, Float64Array>,
  prefix: string,
): number {
  const n = index.size;
  const archs = parseArchs(
    space,
    szTask.entries.map((e) => e.key),
    file,
    szLoc(szTask),
  );
  const cols = new Map<string, Float64Array>();
  for (const m of szMetricNames(szTask)) {
    const col = metrics.get(prefix + m) ?? nanArray(n);
    cols.set(m, col);
    metrics.set(prefix + m, col);
  }
  let matched = 0;
  szTask.entries.forEach((e, j) => {
    const i = index.get(archs[j]!);
    if (i === undefined) return; // an architecture the table does not have
    matched++;
    for (const [m, v] of e.metrics) cols.get(m)![i] = v;
  });
  return matched;
}
