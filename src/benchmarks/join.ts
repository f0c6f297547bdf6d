/**
 * Joins extra training-free metric columns (e.g. those `robot-nas proxies --out FILE.csv` computed) onto a
 * loaded benchmark by architecture, so a search can use the benchmark's objective with our own metrics.
 */
import type { SearchSpace } from '../spaces/types.js';
import { inputError } from '../util/errors.js';
import { numberColumns, readCsvFile, requireColumn, textColumn } from '../formats/csv.js';
import type { Benchmark } from './types.js';

/** Metric columns by architecture, as read from a file. */
export interface MetricTable {
  readonly file: string;
  /** Canonical architecture strings, unique. */
  readonly archs: readonly string[];
  /** Column name → values aligned with `archs`. */
  readonly columns: ReadonlyMap<string, Float64Array>;
}

/** Columns of a metrics CSV that are not metrics (`seconds` is the scoring time of a proxies run). */
const NOT_METRICS = new Set(['arch', 'index', 'id', 'seconds']);

/**
 * Reads a CSV with an `arch` column and numeric columns (any other columns but index/id/seconds become
 * metrics, named as in the header). Architectures are canonicalised with `space`; an unknown or repeated
 * architecture is an InputError naming its line.
 */
export function readMetricTable(file: string, space: SearchSpace): MetricTable {
  const t = readCsvFile(file);
  const archK = requireColumn(t, 'arch', ' (architecture strings)');
  const raw = textColumn(t, archK);
  const archs: string[] = [];
  const seen = new Map<string, number>();
  raw.forEach((text, i) => {
    let a: string;
    try {
      a = space.parse(text);
    } catch (e) {
      throw inputError(file, t.lines[i], `not a ${space.id} architecture: '${text}' (${(e as Error).message})`);
    }
    const prev = seen.get(a);
    if (prev !== undefined) throw inputError(file, t.lines[i], `architecture '${text}' repeats line ${t.lines[prev]}`);
    seen.set(a, i);
    archs.push(a);
  });
  const ks: number[] = [];
  t.header.forEach((h, k) => {
    if (!NOT_METRICS.has(h) && h !== '') ks.push(k);
  });
  if (ks.length === 0) throw inputError(file, undefined, `no metric columns besides arch (columns found: ${t.header.join(', ')})`);
  const cols = numberColumns(t, ks);
  return { file, archs, columns: new Map(ks.map((k, j) => [t.header[k]!, cols[j]!])) };
}

/**
 * The benchmark with the table's columns added as metrics (pure). Benchmark architectures missing from the
 * table get NaN; table architectures missing from the benchmark are ignored. A column named like an existing
 * metric, or a table sharing no architecture with the benchmark, is an InputError.
 */
export function joinMetrics(b: Benchmark, table: MetricTable): Benchmark {
  for (const name of table.columns.keys()) {
    if (b.metrics.has(name)) {
      throw inputError(table.file, undefined, `column '${name}' is already a metric of ${b.benchmark}/${b.task}; rename it to join both`);
    }
  }
  const row = new Map(b.archs.map((a, i) => [a, i]));
  const target = table.archs.map((a) => row.get(a));
  if (!target.some((i) => i !== undefined)) {
    throw inputError(table.file, undefined, `none of its ${table.archs.length} architectures is in ${b.benchmark}/${b.task}`);
  }
  const metrics = new Map(b.metrics);
  for (const [name, values] of table.columns) {
    const col = new Float64Array(b.archs.length).fill(NaN);
    target.forEach((i, j) => {
      if (i !== undefined) col[i] = values[j]!;
    });
    metrics.set(name, col);
  }
  return Object.freeze({ ...b, metrics, sources: [...b.sources, table.file] });
}

/** `bench --metrics-table FILE`: reads the file in the benchmark's space and joins it. */
export function withMetricsTable(b: Benchmark, file: string): Benchmark {
  return joinMetrics(b, readMetricTable(file, b.space));
}
