/**
 * Benchmark tables as CSV: our NAS-Bench-201 layout (`nb201/<task>.csv`), TransNAS-Bench-101's `micro.csv` /
 * `macro.csv` (one column per task), and any CSV with an `arch` column (see `loadTable` in load.ts).
 */
import { columnIndex, numberColumn, numberColumns, readCsvFile, requireColumn, requireFinite, textColumn, type CsvTable } from '../formats/csv.js';
import type { SearchSpace } from '../spaces/types.js';
import { inputError } from '../util/errors.js';
import { BENCHMARK_IDS, TNB_TASKS, TNB_TASK_SET, type BenchmarkId } from './ids.js';
import { detectSpace, lineLoc, makeBenchmark, parseArchs, selectTask, spaceFor, stem, taskFromFileName, type TableOptions } from './tables.js';
import type { Benchmark } from './types.js';

const OBJECTIVE_COLUMNS = ['hp12_valid_acc', 'valid_acc', 'val_accuracy', 'valacc', 'valid_acc_12ep'];
const COST_FOR: Record<string, string> = { hp12_valid_acc: 'hp12_cost', valid_acc_12ep: 'time_12ep' };
const COST_COLUMNS = ['cost', 'time', 'train_time'];
const FINAL_COLUMNS = ['test_acc', 'testacc', 'test_accuracy'];
/** Columns that are never training-free metrics. */
const NON_METRIC_COLUMNS = new Set([
  'index',
  'id',
  'arch',
  'api_arch',
  'hp12_valid_acc',
  'hp12_cost',
  'valid_acc_12ep',
  'time_12ep',
  'valid_acc_200ep',
  'test_acc_200ep',
  'test_acc',
  'valid_acc',
  'val_accuracy',
  'valacc',
  'testacc',
  'test_accuracy',
  'trainacc',
  'train_acc',
  'cost',
  'time',
  'train_time',
  ...TNB_TASKS,
]);

function metricColumns(t: CsvTable): Map<string, Float64Array> {
  const ks: number[] = [];
  t.header.forEach((h, k) => {
    if (!NON_METRIC_COLUMNS.has(h) && h !== '') ks.push(k);
  });
  const cols = numberColumns(t, ks);
  return new Map(ks.map((k, j) => [t.header[k]!, cols[j]!]));
}

function csvArchs(t: CsvTable, space: SearchSpace): string[] {
  const k = requireColumn(t, 'arch');
  return parseArchs(space, textColumn(t, k), t.file, lineLoc(t));
}

/** NAS-Bench-201 CSV in our layout (see the data README). */
export function loadNb201Csv(file: string, task: string, mode: 'paper' | 'task'): Benchmark {
  const t = readCsvFile(file);
  const space = spaceFor('nb201');
  const [objCol, costCol] = mode === 'paper' ? ['hp12_valid_acc', 'hp12_cost'] : ['valid_acc_12ep', 'time_12ep'];
  const why = mode === 'paper' ? " (the paper's objective)" : " (objective 'task')";
  const objK = requireColumn(t, objCol, why);
  const costK = requireColumn(t, costCol, why);
  const finalK = requireColumn(t, 'test_acc', ' (final test accuracy)');
  const archs = csvArchs(t, space);
  const metricKs: number[] = [];
  t.header.forEach((h, k) => {
    if (h.startsWith('zc.') || h.startsWith('sz.')) metricKs.push(k);
  });
  const [objective, rawCost, final, ...metricCols] = numberColumns(t, [objK, costK, finalK, ...metricKs]);
  // metrics may be ±inf or nan where they are undefined (the released naswot has -inf); what a search queries may not
  requireFinite(t, objK, objective!);
  requireFinite(t, costK, rawCost!);
  requireFinite(t, finalK, final!);
  const metrics = new Map<string, Float64Array>(metricKs.map((k, j) => [t.header[k]!, metricCols[j]!]));
  const cost = rawCost!.map((c) => (Number.isNaN(c) ? 0 : c));
  return makeBenchmark({
    benchmark: 'nb201',
    task,
    space,
    sources: [file],
    archs,
    objective: objective!,
    cost,
    final: final!,
    metrics,
    objectiveName: objCol,
    finalName: 'test_acc',
  });
}

/** TransNAS-Bench-101 CSV (`micro.csv` / `macro.csv`): objective = final = the task column. */
export function loadTnb101Csv(t: CsvTable, id: 'tnb101-micro' | 'tnb101-macro', task: string): Benchmark {
  const space = spaceFor(id);
  const k = requireColumn(t, task, ` (the task's performance column)`);
  const archs = csvArchs(t, space);
  const perf = requireFinite(t, k, numberColumn(t, k));
  return makeBenchmark({
    benchmark: id,
    task,
    space,
    sources: [t.file],
    archs,
    objective: perf,
    cost: new Float64Array(archs.length),
    final: perf,
    metrics: new Map(),
    objectiveName: task,
    finalName: task,
  });
}

/** Any CSV with an `arch` column: see `loadTable`. */
export function loadCsvTable(file: string, opts: TableOptions): Benchmark {
  const t = readCsvFile(file);
  const archK = requireColumn(t, 'arch', ' (architecture strings)');
  const rawArchs = textColumn(t, archK);
  const taskCols = t.header.filter((h) => TNB_TASK_SET.has(h));
  let id = opts.benchmark;
  if (id === undefined) {
    const apiK = columnIndex(t, 'api_arch');
    const candidates: BenchmarkId[] = taskCols.length > 0 ? ['tnb101-micro', 'tnb101-macro'] : [...BENCHMARK_IDS];
    id = apiK >= 0 ? detectSpace(textColumn(t, apiK), file, lineLoc(t), candidates) : detectSpace(rawArchs, file, lineLoc(t), candidates);
  }
  if (taskCols.length > 0 && id !== 'nb201') {
    // one column per task: the task selects the objective
    const task = selectTask(file, taskCols, opts.task);
    return loadTnb101Csv(t, id, task);
  }
  const space = spaceFor(id);
  const objCol = OBJECTIVE_COLUMNS.find((c) => t.header.includes(c));
  if (objCol === undefined) {
    throw inputError(
      file,
      undefined,
      `missing an objective column: expected one of ${OBJECTIVE_COLUMNS.join(', ')}${taskCols.length ? ' or a task column' : ''} (columns found: ${t.header.join(', ')})`,
    );
  }
  const costCol = COST_FOR[objCol] !== undefined && t.header.includes(COST_FOR[objCol]!) ? COST_FOR[objCol] : COST_COLUMNS.find((c) => t.header.includes(c));
  const finalCol = FINAL_COLUMNS.find((c) => t.header.includes(c)) ?? objCol;
  const finalNote = finalCol === objCol ? `${file} has no final-metric column (${FINAL_COLUMNS.join(', ')}): the objective ${objCol} is reported instead` : undefined;
  const archs = parseArchs(space, rawArchs, file, lineLoc(t));
  const strict = (col: string): Float64Array => requireFinite(t, columnIndex(t, col), numberColumn(t, columnIndex(t, col)));
  const objective = strict(objCol);
  const cost = costCol === undefined ? new Float64Array(archs.length) : strict(costCol).map((c) => (Number.isNaN(c) ? 0 : c));
  return makeBenchmark({
    benchmark: id,
    task: opts.task ?? taskFromFileName(file) ?? stem(file),
    space,
    sources: [file],
    archs,
    objective,
    cost,
    final: finalCol === objCol ? objective : strict(finalCol),
    metrics: metricColumns(t),
    objectiveName: objCol,
    finalName: finalCol,
    ...(finalNote !== undefined ? { finalNote } : {}),
  });
}
