/**
 * Public entry points: load a benchmark from a data folder (`loadBenchmark`) or from one file in
 * any supported format (`loadTable`), and check that requested metrics exist (`requireMetrics`).
 * Each format lives in its own module (csv-table, suitezero-table, pickle-table, folder); this one only
 * dispatches. All bad input surfaces as an InputError naming the file, the row or key, and what was expected.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { InputError, inputError } from '../util/errors.js';
import { loadCsvTable, loadNb201Csv } from './csv-table.js';
import { findNb201Files, resolveDataDir } from './datadir.js';
import { loadNb201Official, loadTnb101Folder } from './folder.js';
import { checkBenchmark, checkTask, type BenchmarkId } from './ids.js';
import { loadPickleTable } from './pickle-table.js';
import { loadSuiteZeroTable } from './suitezero-table.js';
import type { TableOptions } from './tables.js';
import type { Benchmark } from './types.js';

export { BENCHMARK_IDS, TASKS, checkTask, type BenchmarkId } from './ids.js';

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
export function loadTable(file: string, opts: TableOptions = {}): Benchmark {
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
