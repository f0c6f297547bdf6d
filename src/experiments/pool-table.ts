/**
 * A pool of real trainings as a benchmark table: `arch,valid_acc,cost,<metric…>`, one row per architecture in the
 * search's pool order, which `robot-nas bench --table` (src/benchmarks/load.ts) reads with objective = final =
 * valid_acc, cost = the training's seconds and every other column a metric. Numbers are written as the shortest
 * text that reads back to the same double, so a replay sees exactly the values the search saw.
 */
import { csvField } from '../proxies/results.js';

export interface PoolTableRow {
  readonly arch: string;
  /** Validation accuracy (%) of the architecture's training. */
  readonly value: number;
  /** Seconds the training took. */
  readonly cost: number;
  /** Metric name → value (NaN or missing: not finite for this architecture). */
  readonly metrics: Readonly<Record<string, number | undefined>>;
}

function cell(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v);
}

export function poolTableCsv(rows: readonly PoolTableRow[], metrics: readonly string[]): string {
  const reserved = metrics.filter((m) => m === 'arch' || m === 'valid_acc' || m === 'cost');
  if (reserved.length > 0) throw new RangeError(`poolTableCsv: metric name(s) ${reserved.join(', ')} clash with the table's own columns`);
  const header = ['arch', 'valid_acc', 'cost', ...metrics].join(',');
  const lines = rows.map((r) => [csvField(r.arch), cell(r.value), cell(r.cost), ...metrics.map((m) => cell(r.metrics[m]))].join(','));
  return [header, ...lines].join('\n') + '\n';
}
