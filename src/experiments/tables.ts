import type { Benchmark } from '../benchmarks/types.js';
import type { NormaliseKind } from '../search/normalise.js';
import type { MethodId } from '../search/registry.js';
import { runExperiment, type ExperimentOptions, type ExperimentResult, type RunResult } from './run.js';

/** One row of a paper-style table: a method with its settings. */
export interface TableRow {
  readonly label: string;
  readonly method: MethodId;
  readonly normalise?: NormaliseKind;
  /** Rows beyond the paper are marked so readers can tell them apart. */
  readonly extension?: boolean;
}

export interface TableSpec {
  readonly id: 'nb201' | 'tnb101-micro' | 'tnb101-macro';
  readonly title: string;
  readonly tasks: readonly string[];
  readonly taskLabels: readonly string[];
  readonly budget: number;
  /** 'final': report the final metric (test accuracy); 'rank': validation ranking (1 = best). */
  readonly report: 'final' | 'rank';
  readonly rows: readonly TableRow[];
  /** The paper's numbers for the same cells, row label → per task (strings as printed). */
  readonly paper: Readonly<Record<string, readonly string[]>>;
}

const BASE_ROWS: readonly TableRow[] = [
  { label: 'REA', method: 'rea' },
  { label: 'RS', method: 'rs' },
  { label: 'REINFORCE', method: 'reinforce' },
  { label: 'Training-free avg.', method: 'tf-avg' },
  { label: 'Training-free best', method: 'tf-best' },
  { label: 'RoBoT', method: 'robot', normalise: 'minmax' },
  { label: 'RoBoT+', method: 'robot-plus', extension: true },
  { label: 'RoBoT, rank normalisation', method: 'robot', normalise: 'rank', extension: true },
  { label: 'RoBoT, clipped min-max', method: 'robot', normalise: 'clip', extension: true },
];

const TNB_TASKS = ['class_scene', 'class_object', 'jigsaw', 'room_layout', 'segmentsemantic', 'normal', 'autoencoder'];
const TNB_LABELS = ['Scene', 'Object', 'Jigsaw', 'Layout', 'Segment.', 'Normal', 'Autoenco.'];

export const TABLES: Readonly<Record<TableSpec['id'], TableSpec>> = {
  nb201: {
    id: 'nb201',
    title: 'NAS-Bench-201, test accuracy (%) of the returned architecture, T = 20',
    tasks: ['cifar10', 'cifar100', 'imagenet16-120'],
    taskLabels: ['C10', 'C100', 'IN-16'],
    budget: 20,
    report: 'final',
    rows: BASE_ROWS,
    paper: {
      REA: ['93.92±0.30', '71.84±0.99', '45.15±0.89'],
      RS: ['93.70±0.36', '71.04±1.07', '44.57±1.25'],
      REINFORCE: ['93.85±0.37', '71.71±1.09', '45.24±1.18'],
      'Training-free avg.': ['91.71±2.37', '66.48±4.94', '35.46±9.90'],
      'Training-free best': ['94.36', '73.51', '46.34'],
      RoBoT: ['94.36±0.00', '73.51±0.00', '46.34±0.00'],
      Optimal: ['94.37', '73.51', '47.31'],
    },
  },
  'tnb101-micro': {
    id: 'tnb101-micro',
    title: 'TransNAS-Bench-101 micro, validation ranking (1 = best) of the returned architecture, T = 100',
    tasks: TNB_TASKS,
    taskLabels: TNB_LABELS,
    budget: 100,
    report: 'rank',
    rows: BASE_ROWS,
    paper: {
      REA: ['26±22', '23±28', '24±22', '28±23', '22±28', '22±20', '18±16'],
      RS: ['40±35', '34±32', '57±67', '42±43', '41±40', '43±41', '49±51'],
      REINFORCE: ['35±28', '37±31', '40±37', '38±32', '34±35', '33±40', '34±32'],
      'Training-free avg.': ['75±145', '441±382', '260±244', '325±318', '718±1417', '802±1563', '1698±125'],
      'Training-free best': ['2', '1', '22', '18', '3', '14', '36'],
      RoBoT: ['2±0', '1±0', '17±5', '17±34', '4±1', '8±8', '66±70'],
    },
  },
  'tnb101-macro': {
    id: 'tnb101-macro',
    title: 'TransNAS-Bench-101 macro, validation ranking (1 = best) of the returned architecture, T = 100',
    tasks: TNB_TASKS,
    taskLabels: TNB_LABELS,
    budget: 100,
    report: 'rank',
    rows: BASE_ROWS,
    paper: {
      REA: ['23±24', '22±21', '21±16', '21±20', '17±20', '23±22', '19±17'],
      RS: ['35±32', '26±24', '33±39', '29±29', '33±38', '26±23', '31±26'],
      REINFORCE: ['49±45', '37±31', '20±22', '27±25', '51±43', '48±39', '32±17'],
      'Training-free avg.': ['346±248', '291±275', '110±77', '53±25', '32±23', '7±4', '24±22'],
      'Training-free best': ['1', '8', '5', '2', '2', '2', '5'],
      RoBoT: ['1±0', '6±3', '3±1', '6±6', '2±2', '2±0', '5±1'],
    },
  },
};

export interface TableCell {
  readonly task: string;
  readonly row: TableRow;
  readonly result: ExperimentResult;
}

export interface TableResult {
  readonly spec: TableSpec;
  readonly seeds: number[];
  readonly budget: number;
  readonly cells: TableCell[];
  /** Per task: pool size and optimum final value. */
  readonly tasks: { task: string; poolSize: number; optimum: number; metrics: string[] }[];
}

/**
 * Run every row of a table on every task. `load` supplies the benchmark of a task (I/O stays with the caller);
 * `onCell` reports progress. With `runCell`, cells are handed to it instead, all at once (a runner with several
 * threads runs them side by side; results are the same and keep the table's order) and `load` is not called.
 */
export async function runTable(
  spec: TableSpec,
  load: (task: string) => Benchmark,
  opts: {
    seeds: number[];
    budget?: number;
    metrics?: readonly string[];
    onCell?: (done: number, total: number, label: string) => void;
    runCell?: (task: string, experiment: ExperimentOptions) => Promise<ExperimentResult>;
  },
): Promise<TableResult> {
  const budget = opts.budget ?? spec.budget;
  const total = spec.tasks.length * spec.rows.length;
  const options = (row: TableRow): ExperimentOptions => ({ method: row.method, budget, seeds: opts.seeds, metrics: opts.metrics, normalise: row.normalise });
  let done = 0;
  const finished = (task: string, row: TableRow): void => opts.onCell?.(++done, total, `${task} ${row.label}`);
  const cells: TableCell[] = [];
  if (opts.runCell !== undefined) {
    const runCell = opts.runCell;
    const pending = spec.tasks.flatMap((task) =>
      spec.rows.map(async (row): Promise<TableCell> => {
        const result = await runCell(task, options(row));
        finished(task, row);
        return { task, row, result };
      }),
    );
    cells.push(...(await Promise.all(pending)));
  } else {
    for (const task of spec.tasks) {
      const b = load(task);
      for (const row of spec.rows) {
        cells.push({ task, row, result: await runExperiment(b, options(row)) });
        finished(task, row);
      }
    }
  }
  const tasks = spec.tasks.map((task) => {
    const any = cells.find((c) => c.task === task)!.result;
    return { task, poolSize: any.poolSize, optimum: any.optimum, metrics: any.metrics };
  });
  return { spec, seeds: opts.seeds, budget, cells, tasks };
}

function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

/** "mean±std" of a cell in the table's unit (test accuracy with 2 decimals, ranks with 1). */
export function cellText(spec: TableSpec, r: ExperimentResult): string {
  if (spec.report === 'rank') return `${fmt(r.rank.mean, 1)}±${fmt(r.rank.std, 1)}`;
  return `${fmt(r.final.mean, 2)}±${fmt(r.final.std, 2)}`;
}

/** Markdown table: ours next to the paper's, plus cost and T0 per task. */
export function tableMarkdown(t: TableResult): string {
  const { spec } = t;
  const head = ['Method', ...spec.taskLabels.map((l) => `${l} (ours)`), ...spec.taskLabels.map((l) => `${l} (paper)`), 'mean cost (s)', 'mean T0'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of spec.rows) {
    const cells = spec.tasks.map((task) => t.cells.find((c) => c.task === task && c.row === row)!);
    const ours = cells.map((c) => cellText(spec, c.result));
    const paper = spec.paper[row.label] ?? spec.taskLabels.map(() => '–');
    const cost = cells.map((c) => fmt(c.result.cost.mean, 0)).join(' / ');
    const t0 = cells.some((c) => c.result.t0) ? cells.map((c) => fmt(c.result.t0?.mean ?? NaN, 1)).join(' / ') : '–';
    lines.push(`| ${row.label}${row.extension ? ' *' : ''} | ${[...ours, ...paper, cost, t0].join(' | ')} |`);
  }
  if (spec.report === 'final') {
    const opt = t.tasks.map((x) => fmt(x.optimum, 2));
    const paper = spec.paper['Optimal'] ?? spec.taskLabels.map(() => '–');
    lines.push(`| Optimal (pool) | ${[...opt, ...paper, '–', '–'].join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Per-run best-so-far curves for a plot (final metric or rank). */
export function plotRuns(spec: TableSpec, runs: readonly RunResult[]): number[][] {
  return runs.map((r) => (spec.report === 'rank' ? r.rankCurve : r.curve));
}
