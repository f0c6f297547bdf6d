/**
 * The robustness study behind `npm run bench:robust`: every method over many seeds, summarised by what a user
 * risks rather than by mean ± std alone — the mean, the 10 % tail (10th percentile of the final metric, or the
 * 90th percentile of the rank), the worst run, and the failure rate: the share of runs whose answer is worse than
 * the best single metric's top-1 (`tf-best`, which needs no query at all). Pure: no I/O; the script runs the cells
 * and keeps their results.
 */
import type { BenchmarkId } from '../benchmarks/index.js';
import type { MethodId, RobotPlusVariant } from '../search/registry.js';
import { percentileSorted, type NormaliseKind } from '../search/normalise.js';
import { ROBOT_PLUS_VERSION } from '../search/robot-plus.js';

/** One row of the study: a method, or a RoBoT+ variant (an ablation). */
export interface RobustRow {
  /** Stable id (cache keys, --methods). */
  readonly id: string;
  readonly label: string;
  readonly method: MethodId;
  readonly plus?: RobotPlusVariant;
  readonly normalise?: NormaliseKind;
  /** Bumped whenever the method's numerics change, so cached runs of the old code are not reused. */
  readonly version: string;
  /** Only at these budgets (default: every budget of the study). */
  readonly budgets?: readonly number[];
}

export interface RobustStudy {
  readonly id: string;
  readonly benchmark: BenchmarkId;
  readonly tasks: readonly string[];
  readonly budgets: readonly number[];
  readonly seeds: readonly number[];
  /** 'final': the final metric (NB201 test accuracy, higher is better); 'rank': rank in the pool (1 = best). */
  readonly report: 'final' | 'rank';
  /** Run RoBoT+'s ablations too (at the study's last budget): on NAS-Bench-201 only, where they are cheap. */
  readonly ablations?: boolean;
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, k) => a + k);

const plusVersion = `rp${ROBOT_PLUS_VERSION}`;

/** The rows, in the order the tables print them. The ablations each take one change of RoBoT+ away. */
export function robustRows(studyBudgets: readonly number[], ablations = true): RobustRow[] {
  const last = [studyBudgets[studyBudgets.length - 1]];
  const rows: RobustRow[] = [
    { id: 'robot-plus', label: 'RoBoT+ (default)', method: 'robot-plus', version: plusVersion },
    { id: 'robot', label: 'RoBoT (paper)', method: 'robot', version: 'r1' },
    { id: 'plus-no-design', label: 'RoBoT+ without the initial design', method: 'robot-plus', plus: { design: false }, version: plusVersion, budgets: last },
    { id: 'plus-no-refit', label: 'RoBoT+ without refitting w', method: 'robot-plus', plus: { exploit: 'best' }, version: plusVersion, budgets: last },
    { id: 'plus-no-restart', label: 'RoBoT+ without restarts', method: 'robot-plus', plus: { restarts: false }, version: plusVersion, budgets: last },
    { id: 'plus-minmax', label: 'RoBoT+ with plain min-max', method: 'robot-plus', normalise: 'minmax', version: plusVersion, budgets: last },
    { id: 'rs', label: 'Random search', method: 'rs', version: 'b1' },
    { id: 'rea', label: 'REA', method: 'rea', version: 'b1' },
    { id: 'tf-best', label: 'Training-free best', method: 'tf-best', version: 'b1' },
    { id: 'tf-avg', label: 'Training-free avg. (over metrics)', method: 'tf-avg', version: 'b1' },
  ];
  return ablations ? rows : rows.filter((r) => !r.id.startsWith('plus-'));
}

export const ROBUST_STUDIES: readonly RobustStudy[] = [
  { id: 'nb201', benchmark: 'nb201', tasks: ['cifar10', 'imagenet16-120', 'cifar100'], budgets: [10, 20, 50], seeds: range(0, 99), report: 'final', ablations: true },
  {
    id: 'tnb101-micro',
    benchmark: 'tnb101-micro',
    tasks: ['class_scene', 'class_object', 'jigsaw', 'room_layout', 'segmentsemantic', 'normal', 'autoencoder'],
    budgets: [50, 100],
    seeds: range(0, 49),
    report: 'rank',
  },
  {
    id: 'tnb101-macro',
    benchmark: 'tnb101-macro',
    tasks: ['class_scene', 'class_object', 'jigsaw', 'room_layout', 'segmentsemantic', 'normal', 'autoencoder'],
    budgets: [50, 100],
    seeds: range(0, 49),
    report: 'rank',
  },
];

/** One run's outcome as the study keeps it (a line of a cell's cache). */
export interface RobustRun {
  /** The seed (tf-avg: the metric's position). */
  readonly seed: number;
  readonly final: number;
  readonly rank: number;
  readonly objective: number;
  readonly t0: number | null;
}

export interface RobustSummary {
  readonly runs: number;
  readonly mean: number;
  /** 10th percentile of the final metric ('final'), or 90th percentile of the rank ('rank'): the bad tail. */
  readonly tail: number;
  readonly worst: number;
  /** Share (0–1) of runs worse than the threshold (tf-best's value or rank). */
  readonly failRate: number;
  readonly failures: number;
  /**
   * Share of runs whose answer's *objective* (what the search maximises, e.g. NB201's 12-epoch CIFAR-10 validation
   * accuracy) is below tf-best's answer's objective: a failure of the search itself, as opposed to the objective
   * disagreeing with the final metric. Undefined when no objective threshold is given.
   */
  readonly objFailRate?: number;
  readonly t0: number | null;
}

/** The summary of a cell's runs against tf-best's final value / rank (`threshold`). */
export function summariseRuns(runs: readonly RobustRun[], report: RobustStudy['report'], threshold: number, objThreshold?: number): RobustSummary {
  const values = runs.map((r) => (report === 'final' ? r.final : r.rank));
  const sorted = Float64Array.from(values).sort();
  const n = values.length;
  let sum = 0;
  for (const v of values) sum += v;
  const failures = values.filter((v) => (report === 'final' ? v < threshold : v > threshold)).length;
  const t0s = runs.map((r) => r.t0).filter((t): t is number => t !== null);
  return {
    runs: n,
    mean: n > 0 ? sum / n : NaN,
    tail: percentileSorted(sorted, report === 'final' ? 10 : 90),
    worst: n > 0 ? (report === 'final' ? sorted[0] : sorted[n - 1]) : NaN,
    failRate: n > 0 ? failures / n : NaN,
    failures,
    ...(objThreshold !== undefined && n > 0 ? { objFailRate: runs.filter((r) => r.objective < objThreshold).length / n } : {}),
    t0: t0s.length > 0 ? t0s.reduce((a, b) => a + b, 0) / t0s.length : null,
  };
}

/** "mean · tail · worst · fail %" of one cell. */
export function cellText(s: RobustSummary, report: RobustStudy['report'], expectedRuns?: number): string {
  if (s.runs === 0) return '–';
  const short = expectedRuns !== undefined && s.runs < expectedRuns ? ` (${s.runs} runs)` : '';
  const d = report === 'final' ? 2 : 1;
  const w = report === 'final' ? s.worst.toFixed(2) : String(Math.round(s.worst));
  const obj = s.objFailRate !== undefined ? ` / ${(100 * s.objFailRate).toFixed(0)} %` : '';
  return `${s.mean.toFixed(d)} · ${s.tail.toFixed(d)} · ${w} · ${(100 * s.failRate).toFixed(0)} %${obj}${short}`;
}

export interface RobustTable {
  readonly study: RobustStudy;
  readonly budget: number;
  readonly metricsLabel: string;
  readonly tasks: readonly { task: string; label: string; threshold: number; objThreshold?: number; objOptimumFinal?: number; poolSize: number; metrics: readonly string[] }[];
  readonly rows: readonly { row: RobustRow; cells: (RobustSummary | undefined)[] }[];
}

/** A markdown table: rows = methods, one column per task. */
export function robustMarkdown(t: RobustTable): string {
  const { study } = t;
  const unit =
    study.report === 'final'
      ? "test accuracy (%) of the answer: mean · 10th percentile · worst · failure rate (test accuracy below tf-best's) / objective failure rate (the search's own objective below tf-best's answer's)"
      : 'validation ranking of the answer (1 = best): mean · 90th percentile · worst · failure rate (ranked below tf-best)';
  const head = ['Method', ...t.tasks.map((x) => `${x.label}`)];
  const lines = [
    `**${study.benchmark}, T = ${t.budget}**, seeds ${study.seeds[0]}–${study.seeds[study.seeds.length - 1]} (${study.seeds.length} runs per cell), metrics ${t.metricsLabel} — ${unit}`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  for (const { row, cells } of t.rows) {
    if (cells.every((c) => c === undefined)) continue;
    lines.push(`| ${row.label} | ${cells.map((c) => (c === undefined ? '–' : cellText(c, study.report, row.method === 'tf-avg' ? undefined : row.method === 'tf-best' ? 1 : study.seeds.length))).join(' | ')} |`);
  }
  const thr = t.tasks.map((x) => (study.report === 'final' ? x.threshold.toFixed(2) : String(x.threshold)));
  lines.push(`| *tf-best threshold* | ${thr.join(' | ')} |`);
  if (t.tasks.every((x) => x.objOptimumFinal !== undefined)) {
    // What a search that finds the pool's objective optimum scores: the ceiling of a search that maximises its objective.
    const f = t.tasks.map((x) => (study.report === 'final' ? x.objOptimumFinal!.toFixed(2) : String(x.objOptimumFinal)));
    lines.push(`| *the objective optimum's answer* | ${f.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
