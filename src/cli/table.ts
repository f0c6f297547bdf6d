import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Argument } from 'commander';
import { loadBenchmark } from '../benchmarks/index.js';
import { plotRuns, runTable, TABLES, tableMarkdown, type TableResult } from '../experiments/tables.js';
import { renderCurvesSvg } from '../plot/curves.js';
import { parseList, parsePositiveInt, parseSeeds } from './options.js';
import { progressBar } from './progress.js';
import { writeAtomic } from '../util/atomic.js';
import { jobExecutor, tableCellJob } from '../jobs/index.js';
import { workerThreadRunner } from '../runner/worker-threads.js';
import type { ExperimentResult } from '../experiments/run.js';
import { checkOutputDir } from '../util/output-paths.js';
import { checkReplaceableFile, jsonWithKeys } from '../util/owned-folder.js';


/** Figure-2-style plots, one per task: every searching method's best-so-far curve, T0 marked. */
async function writePlots(t: TableResult, outDir: string): Promise<string[]> {
  const files: string[] = [];
  for (const task of t.spec.tasks) {
    const cells = t.cells.filter((c) => c.task === task && !c.row.method.startsWith('tf-'));
    const svg = await renderCurvesSvg({
      title: `${t.spec.id} ${task}`,
      yTitle: t.spec.report === 'rank' ? 'validation ranking of best so far' : 'test accuracy of best so far (%)',
      yReverse: t.spec.report === 'rank',
      series: cells.map((c) => ({ label: c.row.label, runs: plotRuns(t.spec, c.result.runs), t0: c.result.t0?.mean })),
    });
    const file = join(outDir, `${t.spec.id}-${task}.svg`);
    writeAtomic(file, svg);
    files.push(file);
  }
  return files;
}

export function register(program: Command): void {
  program
    .command('table')
    .description("reproduce a paper table: every method on every task (mean ± std over seeds, mean cost, mean T0) and Figure-2-style SVG plots")
    .addArgument(new Argument('<benchmark>', 'which table').choices(Object.keys(TABLES)))
    .option('--seeds <list>', 'seeds', parseSeeds, parseSeeds('10-19'))
    .option('--budget <T>', 'distinct queries per run (default: the paper\'s, 20 for nb201, 100 for tnb101)', parsePositiveInt)
    .option('--metrics <m1,m2,...>', 'metric columns for every task (default: the paper\'s set present per task)', parseList)
    .option('--data <dir>', 'benchmark data folder')
    .option('--out <dir>', 'where to write the markdown table, the JSON results and the SVG plots', 'robot-nas-results')
    .option('--workers <n>', 'worker threads running cells side by side (default: one per core; 1 runs them in this thread); the results do not depend on it', parsePositiveInt)
    .option('--json', 'print all results as one JSON object on the last stdout line')
    .action(async (id: keyof typeof TABLES, f: { seeds: number[]; budget?: number; metrics?: string[]; data?: string; out: string; workers?: number; json?: boolean }) => {
      const spec = TABLES[id];
      checkOutputDir(f.out, 'out');
      const outDir = resolve(f.out);
      // The files a rerun overwrites must be a previous run's (a table, its results, its plots), never a file of the user's.
      checkReplaceableFile(join(outDir, `${id}-table.md`), 'out', 'a table', (t) => t.startsWith(`### ${spec.title}\n`));
      checkReplaceableFile(join(outDir, `${id}-results.json`), 'out', 'a table\'s results', (t) => jsonWithKeys(t, ['table', 'seeds', 'budget', 'cells']));
      for (const task of spec.tasks) checkReplaceableFile(join(outDir, `${id}-${task}.svg`), 'out', 'a table\'s plot', (t) => t.trimStart().startsWith('<svg') && t.includes(`${spec.id} ${task}`));
      mkdirSync(outDir, { recursive: true });
      const bar = progressBar(spec.tasks.length * spec.rows.length, id);
      const started = Date.now();
      const workers = Math.min(f.workers ?? availableParallelism(), spec.tasks.length * spec.rows.length);
      const load = (task: string) => loadBenchmark({ benchmark: spec.id, task, data: f.data });
      // Every task loads here first, so a missing or broken data file is reported before any thread starts.
      if (workers > 1) for (const task of spec.tasks) load(task);
      const runner = workers > 1 ? workerThreadRunner(workers, jobExecutor()) : undefined;
      let t;
      try {
        t = await runTable(spec, load, {
          seeds: f.seeds,
          budget: f.budget,
          metrics: f.metrics,
          onCell: (done, _total, label) => bar.update(done, label),
          ...(runner ? { runCell: (task: string, experiment) => runner.run(tableCellJob({ benchmark: spec.id, task, data: f.data, experiment })) as Promise<ExperimentResult> } : {}),
        });
      } finally {
        await runner?.close();
      }
      bar.stop();
      const seconds = (Date.now() - started) / 1000;
      const md = [
        `### ${spec.title}`,
        '',
        `Seeds ${f.seeds[0]}..${f.seeds[f.seeds.length - 1]} (${f.seeds.length}), T = ${t.budget}. Rows marked * go beyond the paper.`,
        ...t.tasks.map((x) => `- ${x.task}: pool ${x.poolSize} architectures, metrics ${x.metrics.join(', ')}`),
        '',
        tableMarkdown(t),
        '',
      ].join('\n');
      writeAtomic(join(outDir, `${id}-table.md`), md);
      writeAtomic(
        join(outDir, `${id}-results.json`),
        JSON.stringify({ table: id, seeds: t.seeds, budget: t.budget, tasks: t.tasks, cells: t.cells.map((c) => ({ row: c.row.label, ...c.result })) }, null, 1),
      );
      const plots = await writePlots(t, outDir);
      process.stdout.write(md + '\n');
      process.stdout.write(`wrote ${join(outDir, `${id}-table.md`)}, ${id}-results.json and ${plots.length} plots (${seconds.toFixed(1)} s)\n`);
      if (f.json) {
        process.stdout.write(
          JSON.stringify({
            table: id,
            seconds,
            cells: t.cells.map((c) => ({ task: c.task, row: c.row.label, method: c.row.method, final: c.result.final, rank: c.result.rank, cost: c.result.cost, t0: c.result.t0 })),
          }) + '\n',
        );
      }
    });
}
