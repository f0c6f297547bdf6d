/**
 * `npm run bench:robust`: the robustness study (src/experiments/robust.ts). Every method of the study, every task,
 * every budget, many seeds; per cell the mean, the bad tail, the worst run and the failure rate against the best
 * single metric (tf-best). Prints markdown tables (stdout; progress on stderr) and writes them with a JSON summary to
 * robot-nas-results/robust/.
 *
 *   npm run bench:robust                                   every study (hours of CPU the first time; resumable)
 *   npm run bench:robust -- --studies nb201 --budgets 20   one study, one budget
 *   npm run bench:robust -- --rows robot-plus,robot,tf-best --seeds 0-19
 *   npm run bench:robust -- --cached-only                  the tables from the stored runs only (a cell lists its run count when short)
 *
 * Work is data: each (task, method, budget, block of 25 seeds) is a table-cell job run on worker threads; its runs are
 * stored in robot-nas-results/robust/runs.jsonl under a key of everything they depend on (benchmark files' content
 * hash, task, method and its variant, metrics, budget, seeds, the method's code version), so a rerun after a crash
 * or with more seeds computes only what is missing, and a changed data file or method is never read from the cache.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadBenchmark, type BenchmarkId } from '../src/benchmarks/index.js';
import type { Benchmark } from '../src/benchmarks/types.js';
import { parseSeeds } from '../src/cli/options.js';
import { buildPool, defaultMetrics, finalRank } from '../src/experiments/pool.js';
import { robustMarkdown, robustRows, ROBUST_STUDIES, summariseRuns, type RobustRow, type RobustRun, type RobustStudy, type RobustTable } from '../src/experiments/robust.js';
import { runExperiment, type ExperimentOptions, type ExperimentResult } from '../src/experiments/run.js';
import { jobExecutor, tableCellJob } from '../src/jobs/index.js';
import { workerThreadRunner } from '../src/runner/worker-threads.js';
import { topByMetric } from '../src/search/training-free.js';

const { values: args } = parseArgs({
  options: {
    studies: { type: 'string', default: ROBUST_STUDIES.map((s) => s.id).join(',') },
    rows: { type: 'string' },
    budgets: { type: 'string' },
    seeds: { type: 'string' },
    tasks: { type: 'string' },
    parallel: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string', default: join('robot-nas-results', 'robust') },
    'cached-only': { type: 'boolean', default: false },
  },
});

function fail(msg: string): never {
  process.stderr.write(`bench:robust: ${msg}\n`);
  process.exit(2);
}

const studies = args.studies!.split(',').map((id) => ROBUST_STUDIES.find((s) => s.id === id) ?? fail(`--studies: unknown study '${id}'; known: ${ROBUST_STUDIES.map((s) => s.id).join(', ')}`));
const parallel = args.parallel !== undefined ? Number(args.parallel) : availableParallelism();
if (!(Number.isInteger(parallel) && parallel >= 1)) fail(`--parallel: expected a positive integer, got ${args.parallel}`);
let seedsOverride: number[] | undefined;
try {
  seedsOverride = args.seeds !== undefined ? parseSeeds(args.seeds) : undefined;
} catch (e) {
  fail(`--seeds: ${(e as Error).message}`);
}
const budgetsOverride = args.budgets?.split(',').map((t) => {
  const n = Number(t);
  return Number.isInteger(n) && n >= 1 ? n : fail(`--budgets: expected positive integers, got '${t}'`);
});
const rowFilter = args.rows?.split(',');
const taskFilter = args.tasks?.split(',');

const out = args.out!;
mkdirSync(out, { recursive: true });
const storeFile = join(out, 'runs.jsonl');
/** key → runs, from earlier invocations; a torn last line (a kill mid-write) is skipped. */
const store = new Map<string, RobustRun[]>();
if (existsSync(storeFile)) {
  for (const line of readFileSync(storeFile, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as { key: string; runs: RobustRun[] };
      store.set(r.key, r.runs);
    } catch {
      /* torn line */
    }
  }
}

const fileHash = new Map<string, string>();
function dataHash(b: Benchmark): string {
  const h = createHash('sha256');
  for (const f of b.sources) {
    let v = fileHash.get(f);
    if (v === undefined) {
      v = createHash('sha256').update(readFileSync(f)).digest('hex');
      fileHash.set(f, v);
    }
    h.update(v);
  }
  return h.digest('hex').slice(0, 16);
}

const SEED_BLOCK = 25;
const runner = workerThreadRunner(parallel, jobExecutor());
const toRuns = (r: ExperimentResult): RobustRun[] => r.runs.map((x) => ({ seed: x.seed, final: x.final, rank: x.rank, objective: x.objective, t0: x.t0 }));

interface Cell {
  study: RobustStudy;
  task: string;
  budget: number;
  row: RobustRow;
  /** The runs of each block of seeds, in seed order. */
  parts: RobustRun[][];
}

const t0 = performance.now();
const tables: RobustTable[] = [];
const summary: unknown[] = [];
try {
  for (const study0 of studies) {
    const seeds = seedsOverride ?? [...study0.seeds];
    const budgets = budgetsOverride ?? [...study0.budgets];
    const study: RobustStudy = { ...study0, seeds, budgets };
    const rows = robustRows(budgets, study.ablations ?? false).filter((r) => rowFilter === undefined || rowFilter.includes(r.id));
    const tasks = study.tasks.filter((t) => taskFilter === undefined || taskFilter.includes(t));
    const loaded = tasks.map((task) => {
      const b = loadBenchmark({ benchmark: study.benchmark as BenchmarkId, task, data: args.data });
      const metrics = defaultMetrics(b);
      const bp = buildPool(b, metrics);
      // tf-best's answer: the best single metric's top-1, the threshold a failure falls below.
      const tops = metrics.map((m) => topByMetric(bp.pool, m));
      const best = tops.reduce((a, i) => (bp.final[i] > bp.final[a] ? i : a));
      const threshold = study.report === 'final' ? bp.final[best] : finalRank(bp.final, best);
      let opt = 0;
      for (let i = 1; i < bp.objective.length; i++) if (bp.objective[i] > bp.objective[opt]) opt = i;
      const objOptimumFinal = study.report === 'final' ? bp.final[opt] : finalRank(bp.final, opt);
      return { task, b, metrics, poolSize: bp.pool.archs.length, threshold, objThreshold: bp.objective[best], objOptimumFinal, hash: dataHash(b) };
    });
    const cells: Cell[] = [];
    const jobs: Promise<void>[] = [];
    let done = 0;
    let total = 0;
    for (const budget of budgets) {
      for (const row of rows) {
        if (row.budgets !== undefined && !row.budgets.includes(budget)) continue;
        for (const L of loaded) {
          // tf-best / tf-avg need no query and no seed: one cheap in-process run.
          const blocks = row.method.startsWith('tf-') ? [[0]] : Array.from({ length: Math.ceil(seeds.length / SEED_BLOCK) }, (_, k) => seeds.slice(k * SEED_BLOCK, (k + 1) * SEED_BLOCK));
          const parts: RobustRun[][] = blocks.map(() => []);
          cells.push({ study, task: L.task, budget, row, parts });
          blocks.forEach((block, k) => {
            const experiment: Omit<ExperimentOptions, 'onRun'> = {
              method: row.method,
              budget,
              seeds: block,
              metrics: L.metrics,
              ...(row.normalise !== undefined ? { normalise: row.normalise } : {}),
              ...(row.plus !== undefined ? { plus: row.plus } : {}),
            };
            const key = createHash('sha256')
              .update(JSON.stringify({ benchmark: study.benchmark, task: L.task, data: L.hash, version: row.version, experiment }))
              .digest('hex')
              .slice(0, 24);
            const cached = store.get(key);
            if (cached !== undefined) {
              parts[k] = cached;
              return;
            }
            if (args['cached-only'] && !row.method.startsWith('tf-')) return;
            total++;
            const job = tableCellJob({ benchmark: study.benchmark as BenchmarkId, task: L.task, ...(args.data !== undefined ? { data: args.data } : {}), experiment });
            const run = row.method.startsWith('tf-') ? runExperiment(L.b, experiment) : (runner.run(job) as Promise<ExperimentResult>);
            jobs.push(
              run.then((r) => {
                parts[k] = toRuns(r);
                store.set(key, parts[k]);
                appendFileSync(storeFile, JSON.stringify({ key, study: study.id, task: L.task, budget, row: row.id, seeds: block, runs: parts[k] }) + '\n');
                done++;
                const el = (performance.now() - t0) / 1000;
                process.stderr.write(`${study.id}: ${done}/${total} jobs (${L.task}, T = ${budget}, ${row.id}, seeds ${block[0]}–${block[block.length - 1]}) ${el.toFixed(0)} s\n`);
              }),
            );
          });
        }
      }
    }
    process.stderr.write(`${study.id}: ${total} jobs to run (${store.size} cached blocks in ${storeFile}), ${parallel} worker threads\n`);
    await Promise.all(jobs);
    for (const budget of budgets) {
      const table: RobustTable = {
        study,
        budget,
        metricsLabel: [...new Set(loaded.map((L) => L.metrics.join(', ')))].map((s) => `{${s}}`).join(' / '),
        tasks: loaded.map((L) => ({ task: L.task, label: L.task, threshold: L.threshold, objThreshold: L.objThreshold, objOptimumFinal: L.objOptimumFinal, poolSize: L.poolSize, metrics: L.metrics })),
        rows: rows
          .filter((row) => row.budgets === undefined || row.budgets.includes(budget))
          .map((row) => ({
            row,
            cells: loaded.map((L) => {
              const c = cells.find((x) => x.budget === budget && x.row === row && x.task === L.task);
              return c === undefined ? undefined : summariseRuns(c.parts.flat(), study.report, L.threshold, study.report === 'final' ? L.objThreshold : undefined);
            }),
          })),
      };
      tables.push(table);
      for (const r of table.rows) summary.push({ study: study.id, budget, row: r.row.id, cells: r.cells.map((c, k) => ({ task: loaded[k].task, ...c })) });
    }
  }
} finally {
  await runner.close();
}

// a table with no searched run yet (only the query-free tf rows) says nothing: left out (--cached-only)
const shown = tables.filter((t) => t.rows.some((r) => !r.row.method.startsWith('tf-') && r.cells.some((c) => c !== undefined && c.runs > 0)));
const md = shown.map((t) => robustMarkdown(t)).join('\n');
const tmp = join(out, `.report.md.${process.pid}`);
writeFileSync(tmp, md);
renameSync(tmp, join(out, 'report.md'));
const tmpJ = join(out, `.summary.json.${process.pid}`);
writeFileSync(tmpJ, JSON.stringify(summary, null, 1));
renameSync(tmpJ, join(out, 'summary.json'));
process.stdout.write(md);
process.stderr.write(`bench:robust: ${((performance.now() - t0) / 1000).toFixed(0)} s; wrote ${join(out, 'report.md')} and summary.json\n`);
