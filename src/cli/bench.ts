import { DEFAULT_BO_STREAM, type BayesOptStream } from '../gp/bayesopt.js';
import { Command, Option } from 'commander';
import { loadBenchmark, loadTable, TASKS, type BenchmarkId } from '../benchmarks/index.js';
import { withMetricsTable } from '../benchmarks/join.js';
import type { Benchmark } from '../benchmarks/types.js';
import { DEFAULT_METHOD, METHOD_IDS, type MethodId } from '../search/registry.js';
import { runExperiment, type ExperimentResult } from '../experiments/run.js';
import { NORMALISE_KINDS, type NormaliseKind } from '../search/normalise.js';
import { InputError, SettingError } from '../util/errors.js';
import { choice, parseList, parsePositiveInt, parseSeeds } from './options.js';
import { progressBar } from './progress.js';

const BENCHMARKS = ['nb201', 'tnb101-micro', 'tnb101-macro'] as const;

interface BenchFlags {
  benchmark?: BenchmarkId;
  task?: string;
  method: MethodId;
  budget?: number;
  seeds: number[];
  metrics?: string[];
  normalise?: NormaliseKind;
  acquisition: 'ucb' | 'ei';
  stream: BayesOptStream;
  pool: 'complete' | 'zero';
  objective?: 'paper' | 'task';
  data?: string;
  table?: string;
  metricsTable?: string;
  parallel: number;
  async?: boolean;
  json?: boolean;
}

/** Load what the flags point at: a data folder benchmark, or one table file. */
export function loadFromFlags(f: { benchmark?: BenchmarkId; task?: string; data?: string; table?: string; objective?: 'paper' | 'task' }): Benchmark {
  if (f.objective !== undefined && (f.table !== undefined || f.benchmark !== 'nb201')) {
    const what = f.table !== undefined ? `a --table file's objective is its own validation column` : `${f.benchmark ?? 'this benchmark'} has one objective, the task's validation performance`;
    throw new SettingError('objective', `applies to nb201 only (paper or task); ${what}`);
  }
  if (f.table !== undefined) {
    if (f.data !== undefined) throw new InputError('give either --data DIR or --table FILE, not both');
    return loadTable(f.table, { benchmark: f.benchmark, task: f.task });
  }
  if (f.benchmark === undefined) throw new InputError(`--benchmark is required (one of ${BENCHMARKS.join(', ')}) unless --table FILE is given`);
  const tasks = TASKS[f.benchmark];
  const task = f.task ?? tasks[0];
  if (!tasks.includes(task)) throw new InputError(`unknown task '${task}' for ${f.benchmark}; expected one of ${tasks.join(', ')}`);
  return loadBenchmark({ benchmark: f.benchmark, task, data: f.data, objective: f.objective });
}

const fmt = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

/** Human-readable report of one experiment. */
export function formatExperiment(r: ExperimentResult, b: Benchmark): string {
  const lines = [
    `${r.benchmark} / ${r.task}: ${r.method}, T = ${r.budget}, seeds ${r.seeds[0]}..${r.seeds[r.seeds.length - 1]} (${r.seeds.length})`,
    `pool: ${r.poolSize} architectures; objective ${b.objectiveName}; final ${b.finalName}${b.finalNote !== undefined ? ` (${b.finalNote})` : ''}`,
    `metrics: ${r.metrics.join(', ')}${r.method.startsWith('robot') ? ` (normalise ${r.normalise})` : ''}`,
    '',
  ];
  const perRun = r.method === 'tf-avg' ? r.runs.map((run, k) => ({ key: r.metrics[k], run })) : r.runs.map((run) => ({ key: `seed ${run.seed}`, run }));
  for (const { key, run } of perRun) {
    lines.push(
      `  ${key.padEnd(14)} final ${fmt(run.final)}  rank ${String(run.rank).padStart(5)}  cost ${fmt(run.cost, 0).padStart(7)} s` +
        (run.t0 !== null ? `  T0 ${run.t0}` : '') +
        `  ${run.arch}`,
    );
  }
  lines.push('');
  lines.push(`final  ${fmt(r.final.mean)} ± ${fmt(r.final.std)}   (pool optimum ${fmt(r.optimum)})`);
  lines.push(`rank   ${fmt(r.rank.mean, 1)} ± ${fmt(r.rank.std, 1)}`);
  lines.push(`cost   ${fmt(r.cost.mean, 1)} s mean per run`);
  if (r.parallel > 1 || r.schedule === 'async') lines.push(`time   ${fmt(r.time.mean, 1)} s mean per run until the answer, ${r.parallel} simulated worker${r.parallel > 1 ? 's' : ''} (${r.schedule})`);
  if (r.t0) lines.push(`T0     ${fmt(r.t0.mean, 1)} mean`);
  return lines.join('\n');
}

/** The stable --json object (last stdout line). */
export function jsonLine(r: ExperimentResult): string {
  return JSON.stringify({
    benchmark: r.benchmark,
    task: r.task,
    method: r.method,
    budget: r.budget,
    seeds: r.seeds,
    metrics: r.metrics,
    normalise: r.normalise,
    pool: r.poolSize,
    final: r.final,
    rank: r.rank,
    cost: r.cost,
    parallel: r.parallel,
    ...(r.schedule === 'async' ? { schedule: r.schedule } : {}),
    time: r.time,
    t0: r.t0,
    curve: r.curve,
    optimum: r.optimum,
    runs: r.runs.map((x) => ({ seed: Number.isNaN(x.seed) ? null : x.seed, arch: x.arch, final: x.final, rank: x.rank, cost: x.cost, t0: x.t0, weights: x.weights ?? null })),
  });
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('run one search method over seeds on a tabular benchmark and report mean ± std')
    .addOption(new Option('--benchmark <id>', 'benchmark').choices(BENCHMARKS))
    .option('--task <task>', 'task (nb201: cifar10|cifar100|imagenet16-120; tnb101: class_scene|class_object|room_layout|jigsaw|segmentsemantic|normal|autoencoder)')
    .option('--method <m>', `search method: ${METHOD_IDS.join('|')} (robot: the paper's algorithm; robot-plus: the robust variant)`, choice(METHOD_IDS), DEFAULT_METHOD)
    .option('--budget <T>', 'distinct architectures to query (default 20 for nb201, 100 for tnb101)', parsePositiveInt)
    .option('--seeds <list>', 'seeds, e.g. 10-19 or 1,2,3', parseSeeds, parseSeeds('10-19'))
    .option('--metrics <m1,m2,...>', 'training-free metric columns (default: the paper\'s set present in the data)', parseList)
    .option('--normalise <kind>', `metric normalisation for RoBoT: ${NORMALISE_KINDS.join('|')} (default: minmax for robot, log-minmax for robot-plus)`, choice(NORMALISE_KINDS))
    .option('--acquisition <a>', 'BO acquisition: ucb|ei', choice(['ucb', 'ei'] as const), 'ucb')
    .option('--stream <s>', "RoBoT's BO random stream: 'reference' (replays bayes_opt 1.2.0's numpy draws for the seed) or 'fast'", choice(['reference', 'fast'] as const), DEFAULT_BO_STREAM)
    .option('--pool <rule>', "candidate pool: 'complete' (archs with every metric) or 'zero' (all archs; a missing metric counts 0, as the reference)", choice(['complete', 'zero'] as const), 'complete')
    .option('--objective <o>', "nb201 objective: 'paper' (CIFAR-10 12-epoch validation accuracy, all tasks) or 'task' (the task's own 12-epoch); default paper", choice(['paper', 'task'] as const))
    .option('--data <dir>', 'benchmark data folder (default: $ROBOT_NAS_DATA, then ../shared/data next to the repository)')
    .option('--table <file>', 'load one benchmark table file (CSV, NAS-Bench-Suite-Zero json, or zero-cost pickle stream)')
    .option('--metrics-table <file>', 'CSV with an arch column and metric columns (e.g. from `proxies --out`) joined onto the benchmark by architecture')
    .option('--parallel <q>', 'simulated workers: queries run q at a time, each lasting its recorded cost (reported as time)', parsePositiveInt, 1)
    .option('--async', 'propose a new query as soon as a simulated worker frees (default: synchronous rounds of q)')
    .option('--json', 'print the result as one JSON object on the last stdout line')
    .action(async (f: BenchFlags) => {
      const b = f.metricsTable === undefined ? loadFromFlags(f) : withMetricsTable(loadFromFlags(f), f.metricsTable);
      const budget = f.budget ?? (b.benchmark.startsWith('tnb101') ? 100 : 20);
      const bar = progressBar(f.seeds.length, `${f.method} ${b.task}`);
      const r = await runExperiment(b, {
        method: f.method,
        budget,
        seeds: f.seeds,
        metrics: f.metrics,
        normalise: f.normalise,
        acquisition: f.acquisition,
        stream: f.stream,
        poolRule: f.pool,
        parallel: f.parallel,
        schedule: f.async ? 'async' : 'sync',
        onRun: (_run, done) => bar.update(done),
      });
      bar.stop();
      process.stdout.write(formatExperiment(r, b) + '\n');
      if (f.json) process.stdout.write(jsonLine(r) + '\n');
    });
}
