/**
 * Which metric set should RoBoT combine by default? Runs RoBoT (the paper's setting: min-max, UCB, reference stream)
 * with each candidate set on every pool with a ground truth this repository has, over many seeds, on one pool per
 * benchmark shared by all sets (the architectures with every candidate metric finite), and prints the answers'
 * final metric and rank next to today's six:
 *
 *   - the tabular benchmarks with their published NAS-Bench-Suite-Zero columns (NAS-Bench-201 CIFAR-10 and
 *     ImageNet16-120; TransNAS-Bench-101 micro and macro, every task): the six vs the six plus nwot, params, flops
 *     (and zen where present);
 *   - NAS-Bench-201 CIFAR-10 restricted to the architectures of the metric study, with OUR values of every metric
 *     (`npm run study:metrics` first): the six vs sets with the later metrics;
 *   - a real pool (`--pool-dir`: a `search --budget all` output folder whose every architecture was trained, e.g. 100
 *     MNIST cells): validation accuracy as ground truth, the same sets.
 *
 *   npm run study:sets [-- --seeds 50 --tnb-seeds 20 --study CSV --pool-dir DIR --only sz,study,pool,cost --out FILE.md]
 */
import { Command } from 'commander';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withMetricsTable } from '../src/benchmarks/join.js';
import { loadBenchmark, loadTable, TASKS } from '../src/benchmarks/load.js';
import type { Benchmark } from '../src/benchmarks/types.js';
import { runExperiment } from '../src/experiments/run.js';
import { csvField, readResults } from '../src/proxies/results.js';
import { nb201Space } from '../src/spaces/nb201.js';
import { mean, std } from '../src/util/stats.js';

const int = (v: string): number => Number.parseInt(v, 10);
const o = new Command()
  .option('--seeds <n>', 'RoBoT seeds per set on NAS-Bench-201 pools and the real pool', int, 50)
  .option('--tnb-seeds <n>', 'seeds per set on TransNAS-Bench-101 (T = 100 runs are slower)', int, 20)
  .option('--study <csv>', 'the metric study CSV', 'robot-nas-results/study-metrics/nb201-c16n5-b64-s0.csv')
  .option('--pool-dir <dir>', 'a search --budget all output folder (every pool architecture trained)', 'robot-nas-results/metric-sets/mnist-pool100')
  .option('--only <parts>', 'comma list of parts: sz, study, pool, cost', 'sz,study,pool,cost')
  .option('--out <file>', 'markdown report (its runs are kept in FILE.json)', 'robot-nas-results/metric-sets/report.md')
  .option('--report-only', 'print the report of the runs kept in --out\'s .json, computing nothing')
  .parse()
  .opts<{ seeds: number; tnbSeeds: number; study: string; poolDir: string; only: string; out: string; reportOnly?: boolean }>();
const parts = new Set(o.reportOnly ? [] : o.only.split(','));

type SetDef = { name: string; metrics: string[] };
interface Row {
  pool: string;
  n: number;
  budget: number;
  set: string;
  metrics: string[];
  final: number[];
  rank: number[];
  optimum: number;
}

/** The benchmark restricted to the architectures with a finite objective, final and value of every metric given. */
function restrict(b: Benchmark, metrics: readonly string[]): Benchmark {
  const cols = metrics.map((m) => {
    const c = b.metrics.get(m);
    if (c === undefined) throw new Error(`${b.benchmark}/${b.task} has no metric ${m}`);
    return c;
  });
  const keep: number[] = [];
  for (let i = 0; i < b.archs.length; i++) {
    if (Number.isFinite(b.objective[i]) && Number.isFinite(b.final[i]) && cols.every((c) => Number.isFinite(c[i]))) keep.push(i);
  }
  const pick = (a: Float64Array): Float64Array => Float64Array.from(keep, (i) => a[i]);
  return {
    ...b,
    archs: keep.map((i) => b.archs[i]),
    objective: pick(b.objective),
    cost: pick(b.cost),
    final: pick(b.final),
    metrics: new Map(metrics.map((m, k) => [m, pick(cols[k])])),
  };
}

const rows: Row[] = [];
async function compare(label: string, b: Benchmark, sets: SetDef[], budget: number, seeds: number): Promise<void> {
  const present = sets.filter((s) => s.metrics.every((m) => b.metrics.get(m)?.some((v) => Number.isFinite(v))));
  const union = [...new Set(present.flatMap((s) => s.metrics))];
  const pool = restrict(b, union);
  for (const s of present) {
    const r = await runExperiment(pool, { method: 'robot', budget, seeds: Array.from({ length: seeds }, (_, i) => i), metrics: s.metrics });
    rows.push({ pool: label, n: r.poolSize, budget, set: s.name, metrics: s.metrics, final: r.runs.map((x) => x.final), rank: r.runs.map((x) => x.rank), optimum: r.optimum });
    process.stderr.write(`${label} ${s.name}: final ${mean(r.final.values).toFixed(2)} rank ${r.rank.mean.toFixed(1)} (pool ${r.poolSize})\n`);
  }
}

// ------------------------------------------------------------------ NAS-Bench-Suite-Zero columns

if (parts.has('sz')) {
  for (const task of ['cifar10', 'imagenet16-120']) {
    const six = ['sz.grad_norm', 'sz.snip', 'sz.grasp', 'sz.fisher', 'sz.synflow', 'sz.jacov'];
    await compare(`nb201 ${task} (Suite-Zero)`, loadBenchmark({ benchmark: 'nb201', task }), [
      { name: 'six', metrics: six },
      { name: 'six + nwot, params, flops', metrics: [...six, 'sz.nwot', 'sz.params', 'sz.flops'] },
      { name: 'six + nwot, zen, params, flops', metrics: [...six, 'sz.nwot', 'sz.zen', 'sz.params', 'sz.flops'] },
    ], 20, o.seeds);
  }
  for (const id of ['tnb101-micro', 'tnb101-macro'] as const) {
    for (const task of TASKS[id]) {
      const b = loadBenchmark({ benchmark: id, task });
      // the TransNAS samples lack synflow (the paper's six minus synflow, as the default)
      const six = ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacov'].filter((m) => b.metrics.get(m)?.some((v) => Number.isFinite(v)));
      await compare(`${id} ${task} (Suite-Zero)`, b, [
        { name: 'six', metrics: six },
        { name: 'six + nwot, params, flops', metrics: [...six, 'nwot', 'params', 'flops'] },
        { name: 'six + nwot, zen, params, flops', metrics: [...six, 'nwot', 'zen', 'params', 'flops'] },
      ], 100, o.tnbSeeds);
    }
  }
}

// ------------------------------------------------------------------ our metrics

const SIX = ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov'];
const NEW = ['zico', 'meco', 'swap', 'az_expressivity', 'az_progressivity', 'az_trainability'];
const AZ = ['az_expressivity', 'az_progressivity', 'az_trainability'];
const SIX_NO_GRASP = SIX.filter((m) => m !== 'grasp');
const OURS: SetDef[] = [
  { name: 'six', metrics: SIX },
  { name: 'six + naswot, params, flops', metrics: [...SIX, 'naswot', 'params', 'flops'] },
  { name: 'new (zico, meco, swap, az×3)', metrics: NEW },
  { name: 'six + new', metrics: [...SIX, ...NEW] },
  { name: 'all 15', metrics: [...SIX, 'naswot', 'params', 'flops', ...NEW] },
  { name: 'six + meco, az×3', metrics: [...SIX, 'meco', ...AZ] },
  { name: 'six − grasp + meco, az×3', metrics: [...SIX_NO_GRASP, 'meco', ...AZ] },
  { name: 'six − grasp + zico, meco, az×3', metrics: [...SIX_NO_GRASP, 'zico', 'meco', ...AZ] },
];

if (parts.has('study') && existsSync(o.study)) {
  const b = withMetricsTable(loadBenchmark({ benchmark: 'nb201', task: 'cifar10' }), o.study);
  const { rows: scored } = readResults(o.study, nb201Space);
  const studied = restrict(b, []);
  const inStudy = new Set(scored.keys());
  const keep = studied.archs.map((a, i) => [a, i] as const).filter(([a]) => inStudy.has(a)).map(([, i]) => i);
  const pick = (a: Float64Array): Float64Array => Float64Array.from(keep, (i) => a[i]);
  const sub: Benchmark = {
    ...studied,
    archs: keep.map((i) => studied.archs[i]),
    objective: pick(studied.objective),
    cost: pick(studied.cost),
    final: pick(studied.final),
    metrics: new Map([...b.metrics].map(([m, c]) => [m, pick(c)])),
  };
  await compare(`nb201 cifar10, ${keep.length} study archs (our metrics)`, sub, OURS, 20, o.seeds);
}

// ------------------------------------------------------------------ a real pool

if (parts.has('pool') && existsSync(join(o.poolDir, 'queries.jsonl'))) {
  const queries = readFileSync(join(o.poolDir, 'queries.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { arch: string; validAccuracy: number; seconds: number });
  const metricsCsv = join(o.poolDir, 'metrics.csv');
  const { rows: m, header } = readResults(metricsCsv, nb201Space);
  const names = header.filter((h) => h !== 'arch' && h !== 'seconds' && h !== 'ln_synflow');
  const lines = [['arch', 'valid_acc', 'cost', ...names].join(',')];
  for (const q of queries) {
    const r = m.get(q.arch);
    if (r) lines.push([csvField(q.arch), q.validAccuracy, q.seconds, ...names.map((n) => String(r[n]))].join(','));
  }
  const dir = mkdtempSync(join(tmpdir(), 'robot-nas-sets-'));
  try {
    const file = join(dir, 'pool.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    const b = loadTable(file, { benchmark: 'nb201' });
    await compare(`real pool ${o.poolDir} (${queries.length} trained)`, b, OURS, 10, o.seeds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ cost of scoring one candidate with each set

/**
 * Seconds to score one NB201 C16 N5 architecture (batch 64 of the shared CIFAR-10 images, as `search` scores at that
 * size) with each set, relative to the six: the sets run alternately on the same architectures, best of two rounds,
 * so machine load moves both sides alike.
 */
const costs = new Map<string, number>();
if (parts.has('cost')) {
  const { buildNb201 } = await import('../src/networks/nb201.js');
  const { initParams } = await import('../src/networks/params.js');
  const { computeProxies } = await import('../src/proxies/index.js');
  const { anchorBatch } = await import('../src/proxies/anchor-fixtures.js');
  const { resolveDataDir } = await import('../src/benchmarks/datadir.js');
  const { Rng } = await import('../src/util/rng.js');
  const cifar = join(resolveDataDir(), 'cifar10');
  const images = new Uint8Array(readFileSync(join(cifar, 'images_1000x32x32x3_uint8.bin')));
  const labels = new Uint8Array(readFileSync(join(cifar, 'labels_1000_uint8.bin')));
  const b1 = anchorBatch(images, labels, Array.from({ length: 64 }, (_, i) => i * 15), 10);
  const b2 = anchorBatch(images, labels, Array.from({ length: 64 }, (_, i) => i * 15 + 7), 10);
  const archs = ['|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', '|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|', '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|none~1|nor_conv_1x1~2|'];
  const nets = archs.map((arch, k) => {
    const net = buildNb201({ arch, channels: 16, cellsPerStage: 5, numClasses: 10 });
    return { net, params: initParams(net, new Rng(k)) };
  });
  const best = new Map<string, number>();
  for (let round = 0; round < 2; round++) {
    for (const set of OURS) {
      const t0 = performance.now();
      for (const { net, params } of nets) computeProxies(net, params, b1, set.metrics, { extraBatches: [b2], seed: 1 });
      const sec = (performance.now() - t0) / 1000 / nets.length;
      best.set(set.name, Math.min(best.get(set.name) ?? Infinity, sec));
      process.stderr.write(`cost round ${round + 1}: ${set.name} ${sec.toFixed(2)} s/arch\n`);
    }
  }
  for (const [k, v] of best) costs.set(k, v / best.get('six')!);
}

// ------------------------------------------------------------------ report

const kept = `${o.out}.json`;
if (o.reportOnly) {
  if (!existsSync(kept)) throw new Error(`${kept}: no runs kept yet (run without --report-only)`);
  const j = JSON.parse(readFileSync(kept, 'utf8')) as { rows: Row[]; costs: [string, number][] };
  rows.push(...j.rows);
  for (const [k, v] of j.costs) costs.set(k, v);
} else {
  // runs of earlier invocations of other parts are kept: a part rerun replaces its own pools' rows
  if (existsSync(kept)) {
    const j = JSON.parse(readFileSync(kept, 'utf8')) as { rows: Row[]; costs: [string, number][] };
    const fresh = new Set(rows.map((r) => r.pool));
    rows.unshift(...j.rows.filter((r) => !fresh.has(r.pool)));
    if (costs.size === 0) for (const [k, v] of j.costs) costs.set(k, v);
  }
  writeFileSync(kept, JSON.stringify({ rows, costs: [...costs] }) + '\n');
}

const se = (v: number[]): number => std(v) / Math.sqrt(v.length);
const out: string[] = [];
if (costs.size > 0) {
  out.push('| metric set | scoring cost vs the six |', '|---|---|');
  for (const [k, v] of costs) out.push(`| ${k} | ${v.toFixed(2)}× |`);
  out.push('');
}
out.push('| pool (n, T) | metric set | final (mean ± SE) | Δ vs six (paired, ± SE) | rank (mean) | found the optimum |', '|---|---|---|---|---|---|');
for (const r of rows) {
  const six = rows.find((x) => x.pool === r.pool && x.set === 'six');
  const d = six ? r.final.map((v, i) => v - six.final[i]) : undefined;
  const found = r.final.filter((v) => v === r.optimum).length;
  out.push(
    `| ${r.pool} (${r.n}, ${r.budget}) | ${r.set} | ${mean(r.final).toFixed(2)} ± ${se(r.final).toFixed(2)} | ${d && r.set !== 'six' ? `${mean(d) >= 0 ? '+' : ''}${mean(d).toFixed(2)} ± ${se(d).toFixed(2)}` : '–'} | ${mean(r.rank).toFixed(1)} | ${found}/${r.final.length} |`,
  );
}
const text = out.join('\n') + '\n';
if (!o.reportOnly) writeFileSync(o.out, text);
process.stdout.write(text);
