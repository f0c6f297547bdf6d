/**
 * `npm run bench:parallel`: what parallelism costs RoBoT in quality and buys in time, on the tabular benchmarks.
 * For q = 1, 2, 4, 8, 16 simulated workers (synchronous rounds, then asynchronous), RoBoT with the paper's T and
 * seeds 10–19: the final metric / rank at equal T, and the simulated wall time until the answer (the makespan of
 * the schedule, each query lasting its recorded cost) relative to q = 1. Prints markdown tables (the README's).
 * TransNAS-Bench-101 records no query costs (all 0), so there every query is given the same unit duration.
 */
import { loadBenchmark, TASKS, type Benchmark, type BenchmarkId } from '../src/benchmarks/index.js';
import { runExperiment, type ExperimentResult } from '../src/experiments/run.js';
import type { Schedule } from '../src/search/types.js';

const QS = [1, 2, 4, 8, 16];
const SEEDS = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
const SHORT: Record<string, string> = {
  cifar10: 'C10', cifar100: 'C100', 'imagenet16-120': 'IN16', class_scene: 'Scene', class_object: 'Object', jigsaw: 'Jigsaw',
  room_layout: 'Layout', segmentsemantic: 'Segm.', normal: 'Normal', autoencoder: 'Autoenc.',
};

/** A benchmark whose costs are all zero gets unit costs, so the schedule still has durations to count. */
function withDurations(b: Benchmark): Benchmark {
  if (b.cost.some((c) => c > 0)) return b;
  return { ...b, cost: new Float64Array(b.cost.length).fill(1) };
}

async function table(id: BenchmarkId): Promise<string> {
  const tasks = TASKS[id];
  const benches = tasks.map((task) => withDurations(loadBenchmark({ benchmark: id, task })));
  const budget = id === 'nb201' ? 20 : 100;
  const rows: string[] = [];
  const reportFinal = id === 'nb201';
  const head = ['q', 'schedule', ...tasks.flatMap((t) => (reportFinal ? [`${SHORT[t]} final`, `${SHORT[t]} time`] : [`${SHORT[t]} rank`, `${SHORT[t]} time`]))];
  rows.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  const base: ExperimentResult[] = [];
  for (const schedule of ['sync', 'async'] as Schedule[]) {
    for (const q of QS) {
      if (schedule === 'async' && q === 1) continue; // one worker: the same search
      const cells: string[] = [String(q), q === 1 ? '–' : schedule];
      for (const [k, b] of benches.entries()) {
        const r = await runExperiment(b, { method: 'robot', budget, seeds: SEEDS, parallel: q, schedule });
        if (q === 1) base[k] = r;
        const rel = base[k].time.mean > 0 ? `${((100 * r.time.mean) / base[k].time.mean).toFixed(0)} %` : '–';
        cells.push(reportFinal ? `${r.final.mean.toFixed(2)}±${r.final.std.toFixed(2)}` : `${r.rank.mean.toFixed(1)}±${r.rank.std.toFixed(1)}`);
        cells.push(q === 1 ? (reportFinal ? `${r.time.mean.toFixed(0)} s` : `${r.time.mean.toFixed(0)}`) : rel);
        process.stderr.write(`${id} ${b.task} q=${q} ${schedule}\n`);
      }
      rows.push(`| ${cells.join(' | ')} |`);
    }
  }
  const unit = reportFinal ? 'simulated seconds until the answer (recorded 12-epoch training costs), then % of q = 1' : 'queries until the answer (unit durations), then % of q = 1';
  return [`**${id}**, RoBoT, T = ${budget}, seeds 10–19 — ${reportFinal ? 'test accuracy (%)' : 'validation ranking (1 = best)'} of the answer; time: ${unit}`, '', ...rows, ''].join('\n');
}

const which = process.argv.slice(2);
const ids: BenchmarkId[] = which.length > 0 ? (which as BenchmarkId[]) : ['nb201', 'tnb101-micro'];
for (const id of ids) process.stdout.write((await table(id)) + '\n');
