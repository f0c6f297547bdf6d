/**
 * Public entry points: load a benchmark from a data folder (`loadBenchmark`) or from one file in
 * any supported format (`loadTable`), and check that requested metrics exist (`requireMetrics`).
 * All bad input surfaces as an InputError naming the file, the row or key, and what was expected.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { getSpace } from '../spaces/index.js';
import type { SearchSpace } from '../spaces/types.js';
import { InputError, inputError } from '../util/errors.js';
import { columnIndex, numberColumn, numberColumns, readCsvFile, requireColumn, requireFinite, textColumn, type CsvTable } from '../formats/csv.js';
import {
  LAYOUT_HELP,
  NB201_FILE_TASK,
  findNb201Files,
  nb201OfficialDirs,
  resolveDataDir,
  tnb101CsvPath,
  tnb101SuiteZeroCandidates,
} from './datadir.js';
import { isDict, readPickleStreamFile } from '../formats/pickle.js';
import { hp12FromValue, readHp12Info, readTestAccuracy, readZeroCostStream, zeroCostFromValues, type ZeroCostStream } from './robot-pickles.js';
import { readSuiteZeroFile, szMetricNames, type SzFile, type SzTask } from './suitezero.js';
import type { Benchmark } from './types.js';

export type BenchmarkId = 'nb201' | 'tnb101-micro' | 'tnb101-macro';

export const BENCHMARK_IDS: readonly BenchmarkId[] = ['nb201', 'tnb101-micro', 'tnb101-macro'];

const TNB_TASKS = ['class_scene', 'class_object', 'room_layout', 'jigsaw', 'segmentsemantic', 'normal', 'autoencoder'] as const;

export const TASKS: Record<BenchmarkId, readonly string[]> = {
  nb201: ['cifar10', 'cifar100', 'imagenet16-120'],
  'tnb101-micro': TNB_TASKS,
  'tnb101-macro': TNB_TASKS,
};

export interface LoadOptions {
  benchmark: BenchmarkId;
  task: string;
  /** `--data DIR`. */
  data?: string;
  /** NAS-Bench-201 only: 'paper' (default) = CIFAR-10 12-epoch accuracy and cost for every task; 'task' = the task's own. */
  objective?: 'paper' | 'task';
  /** Environment to read ROBOT_NAS_DATA from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Repository root whose `../shared/data` is the last-resort data folder (default: the package root). */
  cwdRepo?: string;
}

// ---------------------------------------------------------------------------------------------
// shared helpers

function checkBenchmark(id: string): BenchmarkId {
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

function spaceFor(id: BenchmarkId): SearchSpace {
  return getSpace(id);
}

/**
 * Parses every architecture once into its canonical string; an unparsable string or a duplicate
 * (after canonicalisation) is an InputError naming where it is (`loc(i)`, e.g. "line 5").
 */
function parseArchs(space: SearchSpace, raw: readonly string[], file: string, loc: (i: number) => string): string[] {
  const out = new Array<string>(raw.length);
  const seen = new Map<string, number>();
  for (let i = 0; i < raw.length; i++) {
    let arch: string;
    try {
      arch = space.parse(raw[i]!);
    } catch (e) {
      throw inputError(file, undefined, `${loc(i)}: unknown architecture '${raw[i]}': ${spaceWhy(space.id, e)}`);
    }
    const prev = seen.get(arch);
    if (prev !== undefined) {
      const as = raw[prev] === raw[i] ? '' : ` as '${raw[prev]}'`;
      throw inputError(file, undefined, `${loc(i)}: duplicate architecture '${raw[i]}' (already on ${loc(prev)}${as})`);
    }
    seen.set(arch, i);
    out[i] = arch;
  }
  return out;
}

/** A SpaceError's explanation, prefixed with the space id unless it already is. */
function spaceWhy(id: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.startsWith(`${id}:`) ? msg : `${id}: ${msg}`;
}

function indexOf(archs: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  archs.forEach((a, i) => m.set(a, i));
  return m;
}

function nanArray(n: number): Float64Array {
  return new Float64Array(n).fill(NaN);
}

function makeBenchmark(b: Benchmark): Benchmark {
  const n = b.archs.length;
  for (const [name, col] of [['objective', b.objective], ['cost', b.cost], ['final', b.final]] as const) {
    if (col.length !== n) throw new Error(`internal: ${name} has ${col.length} values for ${n} architectures`);
  }
  return Object.freeze({ ...b });
}

/** Tries the spaces in order on the strings; returns the one space that accepts them all. */
function detectSpace(
  raw: readonly string[],
  file: string,
  loc: (i: number) => string,
  candidates: readonly BenchmarkId[] = BENCHMARK_IDS,
): BenchmarkId {
  let alive = candidates.map((id) => ({ id, space: spaceFor(id), error: '' }));
  if (raw.length === 0) throw inputError(file, undefined, 'no architectures in the file');
  for (let i = 0; i < raw.length && alive.length > 1; i++) {
    const next = alive.filter((c) => {
      try {
        c.space.parse(raw[i]!);
        return true;
      } catch (e) {
        c.error = spaceWhy(c.id, e);
        return false;
      }
    });
    if (next.length === 0) {
      const whys = alive.map((c) => c.error).join('; ');
      throw inputError(file, undefined, `${loc(i)}: unknown architecture '${raw[i]}' (not in any supported space — ${whys})`);
    }
    alive = next;
  }
  if (alive.length > 1) {
    throw inputError(
      file,
      undefined,
      `the architectures fit several search spaces (${alive.map((c) => c.id).join(', ')}); say which benchmark the file belongs to (--benchmark)`,
    );
  }
  return alive[0]!.id;
}

function lineLoc(t: CsvTable): (i: number) => string {
  return (i) => `line ${t.lines[i]}`;
}

// ---------------------------------------------------------------------------------------------
// CSV tables

const TNB_TASK_SET = new Set<string>(TNB_TASKS);
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
function loadNb201Csv(file: string, task: string, mode: 'paper' | 'task'): Benchmark {
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
function loadTnb101Csv(t: CsvTable, id: 'tnb101-micro' | 'tnb101-macro', task: string): Benchmark {
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

function taskFromFileName(file: string): string | undefined {
  const name = basename(file).toLowerCase();
  for (const t of TASKS.nb201) if (name === `${t}.csv`) return t;
  for (const [t, short] of Object.entries(NB201_FILE_TASK)) if (name.startsWith(`nb2_${short}_`)) return t;
  return undefined;
}

function stem(file: string): string {
  return basename(file).replace(/\.[^.]*$/, '');
}

/** Any CSV with an `arch` column: see `loadTable`. */
function loadCsvTable(file: string, opts: { benchmark?: BenchmarkId; task?: string }): Benchmark {
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

/** Picks `wanted` among the tasks a file holds (case-insensitive), or the only one. */
function selectTask(file: string, available: readonly string[], wanted: string | undefined): string {
  if (wanted === undefined) {
    if (available.length === 1) return available[0]!;
    throw inputError(file, undefined, `the file holds several tasks; choose one (--task): ${available.join(', ')}`);
  }
  const found = available.find((t) => t.toLowerCase() === wanted.toLowerCase());
  if (found === undefined) throw inputError(file, undefined, `unknown task '${wanted}': the file holds ${available.join(', ')}`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// NAS-Bench-Suite-Zero json

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

function szTaskFor(sz: SzFile, task: string): SzTask | undefined {
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

function loadSuiteZeroTable(file: string, opts: { benchmark?: BenchmarkId; task?: string }): Benchmark {
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
function mergeSuiteZero(
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

// ---------------------------------------------------------------------------------------------
// pickles

function zeroCostMetrics(zc: ZeroCostStream, space: SearchSpace, index: ReadonlyMap<string, number>, metrics: Map<string, Float64Array>): void {
  const n = index.size;
  const archs = parseArchs(
    space,
    zc.records.map((r) => r.arch),
    zc.file,
    (i) => `record ${i + 1}`,
  );
  zc.records.forEach((r, j) => {
    const i = index.get(archs[j]!);
    if (i === undefined) return;
    for (const [m, v] of r.metrics) {
      let col = metrics.get(m);
      if (col === undefined) {
        col = nanArray(n);
        metrics.set(m, col);
      }
      col[i] = v;
    }
  });
}

function loadPickleTable(file: string, opts: { benchmark?: BenchmarkId; task?: string }): Benchmark {
  const items = readPickleStreamFile(file);
  const task = opts.task ?? taskFromFileName(file) ?? stem(file);
  const first = items[0];
  if (items.length === 1 && Array.isArray(first)) {
    if (first.length > 0 && !isDict(first[0])) {
      throw inputError(
        file,
        undefined,
        'this pickle is a plain list of values by NAS-Bench-201 index (e.g. RoBoT\'s test accuracies) with no architectures; ' +
          'load it from a data folder instead (--data DIR):\n' +
          LAYOUT_HELP,
      );
    }
    // RoBoT's hp12 info: objective = final = valacc, cost = cost
    const info = hp12FromValue(first, file);
    const id = opts.benchmark ?? detectSpace(info.archs, file, (i) => `entry ${i}`);
    const space = spaceFor(id);
    const archs = parseArchs(space, info.archs, file, (i) => `entry ${i}`);
    return makeBenchmark({
      benchmark: id,
      task,
      space,
      sources: [file],
      archs,
      objective: info.valacc,
      cost: info.cost.map((c) => (Number.isNaN(c) ? 0 : c)),
      final: info.valacc,
      metrics: new Map(),
      objectiveName: 'valacc',
      finalName: 'valacc',
    });
  }
  const zc = zeroCostFromValues(items, file);
  const raw = zc.records.map((r) => r.arch);
  const id = opts.benchmark ?? detectSpace(raw, file, (i) => `record ${i + 1}`);
  const space = spaceFor(id);
  const archs = parseArchs(space, raw, file, (i) => `record ${i + 1}`);
  const metrics = new Map<string, Float64Array>();
  zeroCostMetrics(zc, space, indexOf(archs), metrics);
  return makeBenchmark({
    benchmark: id,
    task,
    space,
    sources: [file],
    archs,
    objective: Float64Array.from(zc.records, (r) => r.valacc),
    cost: new Float64Array(archs.length),
    final: Float64Array.from(zc.records, (r) => r.testacc),
    metrics,
    objectiveName: 'valacc',
    finalName: 'testacc',
  });
}

// ---------------------------------------------------------------------------------------------
// data folder

function loadNb201Official(dataDir: string, task: string, objective: 'paper' | 'task', files: ReturnType<typeof findNb201Files>): Benchmark {
  const t = NB201_FILE_TASK[task]!;
  const where = nb201OfficialDirs(dataDir).join(', ');
  if (files.hp12Info === undefined || files.testAccuracy === undefined) {
    const missing = [files.hp12Info ? undefined : 'nb2_cf10_hp12_info.p', files.testAccuracy ? undefined : `nb2_${t}_test_accuracy.p`].filter(
      (x) => x !== undefined,
    );
    throw new InputError(
      `no NAS-Bench-201 data for ${task} in ${dataDir}: expected ${dataDir}/nb201/${task}.csv, or the official files ` +
        `nb2_cf10_hp12_info.p and nb2_${t}_test_accuracy.p in one of ${where} (missing: ${missing.join(', ')}).\n${LAYOUT_HELP}`,
    );
  }
  if (objective === 'task') {
    throw new InputError(
      `objective 'task' (the task's own 12-epoch accuracy and time) needs ${dataDir}/nb201/${task}.csv; ` +
        `the official files (${files.hp12Info}) only hold the paper's CIFAR-10 12-epoch values (objective 'paper')`,
    );
  }
  const space = spaceFor('nb201');
  const info = readHp12Info(files.hp12Info);
  const archs = parseArchs(space, info.archs, files.hp12Info, (i) => `entry ${i}`);
  const test = readTestAccuracy(files.testAccuracy);
  if (test.length !== archs.length) {
    throw inputError(
      files.testAccuracy,
      undefined,
      `has ${test.length} test accuracies, but ${files.hp12Info} has ${archs.length} architectures (both are indexed by NAS-Bench-201 index)`,
    );
  }
  const sources = [files.hp12Info, files.testAccuracy];
  const index = indexOf(archs);
  const metrics = new Map<string, Float64Array>();
  if (files.zeroCost !== undefined) {
    zeroCostMetrics(readZeroCostStream(files.zeroCost), space, index, metrics);
    sources.push(files.zeroCost);
  }
  if (files.suiteZero !== undefined) {
    const sz = readSuiteZeroFile(files.suiteZero);
    const szTask = szTaskFor(sz, task);
    if (szTask !== undefined) {
      mergeSuiteZero(szTask, files.suiteZero, space, index, metrics, 'sz.');
      sources.push(files.suiteZero);
    }
  }
  return makeBenchmark({
    benchmark: 'nb201',
    task,
    space,
    sources,
    archs,
    objective: info.valacc,
    cost: info.cost.map((c) => (Number.isNaN(c) ? 0 : c)),
    final: test,
    metrics,
    objectiveName: 'hp12_valid_acc',
    finalName: 'test_acc',
  });
}

function loadTnb101Folder(dataDir: string, id: 'tnb101-micro' | 'tnb101-macro', task: string): Benchmark {
  const kind = id === 'tnb101-micro' ? 'micro' : 'macro';
  const csv = tnb101CsvPath(dataDir, kind);
  if (csv === undefined) {
    // No converted table: a NAS-Bench-Suite-Zero release alone is a complete benchmark
    // (objective = final = val_accuracy), which is what the RoBoT reference reads.
    for (const file of tnb101SuiteZeroCandidates(dataDir, kind, task)) {
      const sz = readSuiteZeroFile(file);
      if (szTaskFor(sz, task) !== undefined) return loadSuiteZeroTable(file, { benchmark: id, task });
    }
    throw new InputError(
      `no TransNAS-Bench-101 ${kind} data for task '${task}' in ${dataDir}: expected ${dataDir}/tnb101/${kind}.csv or zc_transbench101_${kind}.json.\n${LAYOUT_HELP}`,
    );
  }
  const base = loadTnb101Csv(readCsvFile(csv), id, task);
  const metrics = new Map<string, Float64Array>();
  const sources = [csv];
  for (const file of tnb101SuiteZeroCandidates(dataDir, kind, task)) {
    const sz = readSuiteZeroFile(file);
    const szTask = szTaskFor(sz, task);
    if (szTask === undefined) continue;
    mergeSuiteZero(szTask, file, base.space, indexOf(base.archs), metrics, '');
    sources.push(file);
    break;
  }
  return makeBenchmark({ ...base, sources, metrics });
}

/** Loads a benchmark task from the data folder (see datadir.ts for the layout). */
export function loadBenchmark(opts: LoadOptions): Benchmark {
  const id = checkBenchmark(opts.benchmark);
  const task = checkTask(id, opts.task);
  const objective = opts.objective ?? 'paper';
  if (objective !== 'paper' && objective !== 'task') throw new InputError(`unknown objective '${String(objective)}' (expected paper or task)`);
  const dataDir = resolveDataDir(opts.data, opts.env ?? process.env, opts.cwdRepo);
  if (id === 'nb201') {
    const files = findNb201Files(dataDir, task);
    if (files.csv !== undefined) return loadNb201Csv(files.csv, task, objective);
    return loadNb201Official(dataDir, task, objective, files);
  }
  return loadTnb101Folder(dataDir, id, task);
}

/**
 * Loads one file (`--table FILE`) in any supported format, detected from its content (and name):
 *
 * - NAS-Bench-Suite-Zero json: objective = final = `val_accuracy`, cost 0 (the files hold no
 *   training times; metric `.time`s are not costs), metrics = the json's metric keys;
 * - CSV with an `arch` column: objective = the first of `hp12_valid_acc`, `valid_acc`,
 *   `val_accuracy`, `valacc`, `valid_acc_12ep`, or for TransNAS-Bench-101 tables (columns named
 *   after tasks) the task's column; cost = `hp12_cost` / `time_12ep` paired with the objective,
 *   else a `cost`/`time`/`train_time` column, else 0; final = `test_acc` (or `testacc`,
 *   `test_accuracy`), else the objective; metrics = every other column except index/id/api_arch
 *   and known accuracy/cost columns (in our NAS-Bench-201 layout: the zc.* and sz.* columns);
 * - Python pickle: a zero-cost-proxies release stream (objective = valacc, final = testacc,
 *   metrics = logmeasures, cost 0) or RoBoT's hp12 info list (objective = final = valacc,
 *   cost = cost).
 *
 * The search space is `opts.benchmark` or detected from the architecture strings. When the file
 * holds several tasks, `opts.task` selects one; otherwise it only labels the result.
 */
export function loadTable(file: string, opts: { benchmark?: BenchmarkId; task?: string } = {}): Benchmark {
  const o = { ...opts, benchmark: opts.benchmark === undefined ? undefined : checkBenchmark(opts.benchmark) };
  const head = readHead(file);
  const lower = file.toLowerCase();
  if (head[0] === 0x80 || /\.(p|pkl|pickle)$/.test(lower)) return loadPickleTable(file, o);
  const text = Buffer.from(head).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('{') || lower.endsWith('.json')) return loadSuiteZeroTable(file, o);
  return loadCsvTable(file, o);
}

function readHead(file: string): Uint8Array {
  try {
    // read the first bytes only, to sniff the format
    const fd = openSync(file, 'r');
    try {
      const buf = new Uint8Array(64);
      const n = readSync(fd, buf, 0, 64, 0);
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(file, undefined, code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, expected a file' : `cannot read file (${code ?? String(e)})`);
  }
}

/** Metric names of a benchmark that have at least one value. */
export function availableMetrics(b: Benchmark): string[] {
  const out: string[] = [];
  for (const [name, col] of b.metrics) if (col.some((v) => !Number.isNaN(v))) out.push(name);
  return out;
}

/** Throws an InputError unless every named metric exists with at least one value, listing those available. */
export function requireMetrics(b: Benchmark, names: readonly string[]): void {
  const avail = new Set(availableMetrics(b));
  const missing = names.filter((n) => !avail.has(n));
  if (missing.length === 0) return;
  const empty = missing.filter((n) => b.metrics.has(n));
  const list = avail.size ? [...avail].join(', ') : 'none';
  const emptyNote = empty.length ? ` (${empty.map((n) => `'${n}'`).join(', ')} present but without any value)` : '';
  throw new InputError(
    `${b.benchmark} ${b.task}: metric${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')} not available${emptyNote} ` +
      `in ${b.sources.join(', ') || 'the data'}; available metrics: ${list}`,
  );
}
