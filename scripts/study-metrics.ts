/**
 * The metric study of issue 20: every training-free metric, old and new, computed by our engine on a seeded sample
 * of NAS-Bench-201 architectures (C = 16, N = 5, batch 64 of the shared CIFAR-10 images, as `robot-nas proxies`
 * scores them), and each metric's Spearman ρ and Kendall τ with NAS-Bench-201's CIFAR-10 test accuracy next to the
 * figure its paper publishes; then the same rank agreement for the published NAS-Bench-Suite-Zero metric columns of
 * the TransNAS-Bench-101 tables (micro and macro, every task), and for the real-image pools of the search evidence
 * (see `realPools`). Scoring is resumable (one CSV row per architecture); `--report-only` reports on
 * the rows there are.
 *
 *   npm run study:metrics [-- --archs 1000 --workers 2 --seed 0 --out robot-nas-results/study-metrics --pools robot-nas-results/evidence --report-only]
 *
 * Writes <out>/study.md (the README's generated block, `npm run docs -- --only study-metrics`) and <out>/study.json.
 * Long: about 3 s of CPU per architecture on this machine's cores with every metric (SWAP's 32 re-initialised
 * forwards and ZiCo's two loss passes are the most), so the 1,000 architectures take about an hour on 2 idle cores;
 * run it as `nohup npm run study:metrics > study.log 2>&1 &`.
 */
import { Command } from 'commander';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { loadBenchmark, loadTable, TASKS } from '../src/benchmarks/load.js';
import { metricAgreement } from '../src/experiments/agreement.js';
import type { Benchmark } from '../src/benchmarks/types.js';
import { jobExecutor } from '../src/jobs/index.js';
import { parseArchSpec } from '../src/pipeline/archs.js';
import { runProxyBatch } from '../src/pipeline/score-batch.js';
import { readResults } from '../src/proxies/results.js';
import { METRIC_DATA, METRIC_NAMES } from '../src/proxies/types.js';
import { localRunner } from '../src/runner/index.js';
import { nb201Space } from '../src/spaces/nb201.js';
import { spearman } from '../src/util/stats.js';
import { writeAtomic } from '../src/util/atomic.js';

const int = (v: string): number => Number.parseInt(v, 10);
const o = new Command()
  .option('--archs <n>', 'seeded sample of NAS-Bench-201 architectures', int, 1000)
  .option('--workers <k>', 'worker threads', int, Math.min(2, availableParallelism()))
  .option('--seed <s>', 'run seed (sample, batch, weights)', int, 0)
  .option('--out <dir>', 'output folder', 'robot-nas-results/study-metrics')
  .option('--data <dir>', 'benchmark data folder (default: $ROBOT_NAS_DATA, then ../shared/data)')
  .option('--images <dir>', 'folder of the shared CIFAR-10 images (default: the loader default)')
  .option('--pools <dir>', 'folder of the real-image evidence pools (npm run evidence:search)', join('robot-nas-results', 'evidence'))
  .option('--report-only', 'do not compute; report on the rows already in the CSV')
  .parse()
  .opts<{ archs: number; workers: number; seed: number; out: string; pools: string; data?: string; images?: string; reportOnly?: boolean }>();

const C = 16;
const N = 5;
const BATCH = 64;
const metrics = [...METRIC_NAMES];
mkdirSync(o.out, { recursive: true });
const csv = join(o.out, `nb201-c${C}n${N}-b${BATCH}-s${o.seed}.csv`);

if (!o.reportOnly) {
  let last = 0;
  const runner = localRunner(o.workers, jobExecutor());
  const s = await runProxyBatch({
    space: 'nb201',
    archs: parseArchSpec(String(o.archs)),
    dataset: 'cifar10-1k',
    ...(o.images !== undefined ? { dir: o.images } : {}),
    metrics,
    channels: C,
    cells: N,
    batch: BATCH,
    seed: o.seed,
    runner,
    out: csv,
    onStart: (i) => process.stderr.write(`${i.total} archs: ${i.resumed} already in ${csv}, ${i.todo} to score on ${i.workers} worker(s)\n`),
    onResult: (r, done, total) => {
      if (performance.now() - last > 60000 || done === total) {
        last = performance.now();
        process.stderr.write(`${new Date().toISOString()} ${done}/${total} (last ${r.seconds.toFixed(1)} s)\n`);
      }
    },
  }).finally(() => runner.close());
  process.stderr.write(`scored ${s.computed} in ${s.seconds.toFixed(0)} s on ${s.workers} worker(s)\n`);
}
if (!existsSync(csv)) throw new Error(`${csv}: no results yet (run without --report-only)`);

// ------------------------------------------------------------------ rank agreement

/** Kendall's τ-b over the pairs where both values are finite (scipy.stats.kendalltau's default); O(n²). */
function kendall(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i])) {
      xs.push(a[i]);
      ys.push(b[i]);
    }
  }
  let s = 0;
  let tx = 0;
  let ty = 0;
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const dx = Math.sign(xs[i] - xs[j]);
      const dy = Math.sign(ys[i] - ys[j]);
      if (dx === 0) tx++;
      if (dy === 0) ty++;
      s += dx * dy;
    }
  }
  const pairs = (xs.length * (xs.length - 1)) / 2;
  const d = Math.sqrt((pairs - tx) * (pairs - ty));
  return d > 0 ? s / d : NaN;
}

/**
 * Ranks for the correlations: −∞ (AZ-NAS's "no expressivity / an identity cell", naswot's singular kernel) is a value
 * below every finite one and is kept; NaN (undefined, e.g. jacob_cov of a cell cut off from its input) is left out.
 */
const rankable = (v: number): number => (v === -Infinity ? -Number.MAX_VALUE : v === Infinity ? Number.MAX_VALUE : v);

interface Agreement {
  n: number;
  rho: number;
  tau: number;
}
function agreement(x: ArrayLike<number>, truth: ArrayLike<number>): Agreement {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const v = rankable(x[i]);
    if (!Number.isNaN(v) && Number.isFinite(truth[i])) {
      a.push(v);
      b.push(truth[i]);
    }
  }
  return { n: a.length, rho: a.length > 2 ? spearman(a, b) : NaN, tau: a.length > 2 ? kendall(a, b) : NaN };
}

/** AZ-NAS's own ranking (its NB201 notebook): Σ log(rank/n) over expressivity, progressivity, trainability and FLOPs. */
function azNasAggregate(cols: ArrayLike<number>[]): Float64Array {
  const n = cols[0].length;
  const out = new Float64Array(n);
  for (const c of cols) {
    const r = averageRanks(Array.from(c, rankable));
    for (let i = 0; i < n; i++) out[i] += Math.log(r[i] / n);
  }
  return out;
}

function averageRanks(v: number[]): Float64Array {
  const idx = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Float64Array(v.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

// ------------------------------------------------------------------ NAS-Bench-201

const { rows } = readResults(csv, nb201Space);
const bench = loadBenchmark({ benchmark: 'nb201', task: 'cifar10', ...(o.data !== undefined ? { data: o.data } : {}) });
const index = new Map(bench.archs.map((a, i) => [a, i]));
const archs = [...rows.keys()].filter((a) => index.has(a));
const acc = Float64Array.from(archs, (a) => bench.final[index.get(a)!]);
const col = (m: string): Float64Array => Float64Array.from(archs, (a) => rows.get(a)![m] ?? NaN);

/**
 * Published figures on NAS-Bench-201 CIFAR-10 (all architectures or the paper's sample), as quoted in issue 20 and
 * in the zero-cost-proxies paper (Abdelfattah et al., ICLR 2021) for the six: ρ Spearman, τ Kendall; the source of
 * each is in the README. Not re-verified against every paper's text.
 */
const PAPER: Record<string, { rho?: number; tau?: number; note?: string }> = {
  grad_norm: { rho: 0.58 },
  snip: { rho: 0.58 },
  grasp: { rho: 0.48, tau: 0.318 },
  fisher: { rho: 0.36 },
  synflow: { rho: 0.74, tau: 0.571 },
  jacob_cov: { rho: 0.73 },
  params: { tau: 0.578 },
  zico: { tau: 0.589 },
  meco: { rho: 0.89 },
  swap: { rho: 0.9, note: 'regularised SWAP, CIFAR-100' },
  az_nas: { rho: 0.91, tau: 0.741, note: 'the aggregate' },
};

/**
 * The published values of the same metric in the benchmark data (NAS-Bench-Suite-Zero `sz.*`, else the public
 * zero-cost `zc.*`): their ρ on the same architectures and on every architecture that has them tells whether a gap to
 * the paper comes from our computation or from the figure (another accuracy column, another sample).
 */
const PUBLISHED: Record<string, string> = {
  grad_norm: 'sz.grad_norm',
  snip: 'zc.snip',
  grasp: 'sz.grasp',
  fisher: 'sz.fisher',
  synflow: 'zc.synflow',
  jacob_cov: 'sz.jacov',
  naswot: 'zc.naswot',
  params: 'sz.params',
  flops: 'sz.flops',
};
const published = (m: string): { same: Agreement; all: Agreement } | undefined => {
  const c = PUBLISHED[m] ? bench.metrics.get(PUBLISHED[m]) : undefined;
  if (c === undefined) return undefined;
  return { same: agreement(Float64Array.from(archs, (a) => c[index.get(a)!]), acc), all: agreement(c, bench.final) };
};

const table: { metric: string; data: string; a: Agreement; paper?: (typeof PAPER)[string]; pub?: { same: Agreement; all: Agreement } }[] = [];
for (const m of metrics) table.push({ metric: m, data: METRIC_DATA[m], a: agreement(col(m), acc), paper: PAPER[m], pub: published(m) });
const az = azNasAggregate([col('az_expressivity'), col('az_progressivity'), col('az_trainability'), col('flops')]);
table.push({ metric: 'az_nas', data: 'none', a: agreement(az, acc), paper: PAPER.az_nas });

const f3 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3));
const secs = col('seconds');
const meanSec = secs.reduce((s, v) => s + v, 0) / Math.max(1, secs.length);
const lines: string[] = [];
lines.push(
  `NAS-Bench-201: ${archs.length} architectures (seeded sample, seed ${o.seed}), C=${C} N=${N}, batch ${BATCH} of the shared CIFAR-10 images; ` +
    `truth: CIFAR-10 test accuracy (test_acc); ${meanSec.toFixed(1)} s per architecture per worker for all ${metrics.length} metrics`,
);
lines.push('');
const head = ['metric', 'data', 'n', 'ρ ours', 'τ ours', 'ρ paper', 'τ paper', 'ρ gap', 'pub.', 'ρ pub.', 'ρ pub.', 'n pub.'];
lines.push(''.padEnd(17 + 1 + 18 + 8 * 7) + ' same arch all archs');
lines.push(head.map((h, i) => (i < 2 ? h.padEnd(i === 0 ? 17 : 18) : h.padStart(7))).join(' '));
for (const r of table) {
  const gap = r.paper?.rho !== undefined && Number.isFinite(r.a.rho) ? r.a.rho - r.paper.rho : undefined;
  const cells = [
    r.metric.padEnd(17),
    (r.metric === 'az_nas' ? 'none (+ flops)' : r.data).padEnd(18),
    String(r.a.n).padStart(7),
    f3(r.a.rho).padStart(7),
    f3(r.a.tau).padStart(7),
    f3(r.paper?.rho).padStart(7),
    f3(r.paper?.tau).padStart(7),
    (gap === undefined ? '–' : (gap >= 0 ? '+' : '') + gap.toFixed(3)).padStart(7),
    (PUBLISHED[r.metric]?.slice(0, 2) ?? '–').padStart(7),
    f3(r.pub?.same.rho).padStart(7),
    f3(r.pub?.all.rho).padStart(7),
    (r.pub ? String(r.pub.all.n) : '–').padStart(7),
  ];
  lines.push(cells.join(' ') + (r.paper?.note ? `  (paper: ${r.paper.note})` : ''));
}
lines.push('');
lines.push('ρ/τ: Spearman/Kendall τ-b with test accuracy over the architectures with a value (n; −∞ ranks lowest, NaN is left out).');
lines.push('ρ pub.: the published value of the same metric — zc: the public zero-cost computation (all 15,625 cells), sz: NAS-Bench-Suite-Zero');
lines.push('(9,445 cells: none cut off by `none`) — on the same architectures (those it covers) and on all it covers.');
lines.push('az_nas: AZ-NAS\'s own ranking, Σ log(rank/n) of its three scores and the FLOPs.');

// ------------------------------------------------------------------ TransNAS-Bench-101 (published Suite-Zero columns)

const tnb: { benchmark: string; task: string; n: number; rows: { metric: string; a: Agreement }[] }[] = [];
for (const id of ['tnb101-micro', 'tnb101-macro'] as const) {
  for (const task of TASKS[id]) {
    let b: Benchmark;
    try {
      b = loadBenchmark({ benchmark: id, task, ...(o.data !== undefined ? { data: o.data } : {}) });
    } catch (e) {
      lines.push(`${id} ${task}: not loaded (${(e as Error).message})`);
      continue;
    }
    const names = [...b.metrics.keys()].sort(); // the Suite-Zero keys of the TransNAS tables (unprefixed)
    const rs = names.map((m) => ({ metric: m, a: agreement(b.metrics.get(m)!, b.final) }));
    tnb.push({ benchmark: id, task, n: rs.reduce((s, r) => Math.max(s, r.a.n), 0), rows: rs });
  }
}
if (tnb.length > 0) {
  const metricsTnb = [...new Set(tnb.flatMap((t) => t.rows.map((r) => r.metric)))].sort();
  lines.push('');
  lines.push('TransNAS-Bench-101, published NAS-Bench-Suite-Zero metric columns: Spearman ρ with each task\'s validation performance (n architectures)');
  lines.push(['benchmark / task'.padEnd(30), 'n'.padStart(5), ...metricsTnb.map((m) => m.padStart(9))].join(' '));
  for (const t of tnb) {
    const by = new Map(t.rows.map((r) => [r.metric, r.a.rho]));
    lines.push([`${t.benchmark} ${t.task}`.padEnd(30), String(t.n).padStart(5), ...metricsTnb.map((m) => f3(by.get(m)).padStart(9))].join(' '));
  }
}

// ------------------------------------------------------------------ real-image pools

/**
 * The real-image pools of the search evidence (scripts/evidence/pools.ts, `npm run evidence:search -- --build-only`):
 * every `<pools>/<id>-<key>/` with a `pool-p<P>.json` and its benchmark table `table-p<P>.csv` (validation accuracy
 * of each architecture trained as `search` trains it, and every metric the pool was scored with). The metric code
 * version of the table is that of its all-metrics scoring file (absent: 1, the code before issue 20).
 */
function realPools(): { title: string; n: number; code: number; rows: { metric: string; a: Agreement }[] }[] {
  if (!existsSync(o.pools)) return [];
  const out: { title: string; n: number; code: number; rows: { metric: string; a: Agreement }[] }[] = [];
  for (const sub of readdirSync(o.pools).sort()) {
    const dir = join(o.pools, sub);
    const info = existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir).find((f) => /^pool-p\d+\.json$/.test(f)) : undefined;
    if (info === undefined) continue;
    const pool = JSON.parse(readFileSync(join(dir, info), 'utf8')) as { spec: { title: string }; metricsFiles?: Record<string, string> };
    const table = join(dir, info.replace(/^pool-(p\d+)\.json$/, 'table-$1.csv'));
    if (!existsSync(table)) continue;
    const b = loadTable(table, { benchmark: 'nb201' });
    const allFile = Object.entries(pool.metricsFiles ?? {}).sort((x, y) => y[0].split(',').length - x[0].split(',').length)[0]?.[1];
    const meta = allFile !== undefined ? join(dir, basename(allFile) + '.meta.json') : undefined;
    const code = meta !== undefined && existsSync(meta) ? ((JSON.parse(readFileSync(meta, 'utf8')) as { metricsCode?: number }).metricsCode ?? 1) : 1;
    const cols = new Map([...b.metrics].map(([m, v]) => [m, Float64Array.from(v, rankable)]));
    const rows = metricAgreement(b.final, cols).map((r) => ({ metric: r.metric, a: { n: r.n, rho: r.spearman, tau: r.kendall } }));
    out.push({ title: `${pool.spec.title} (${sub})`, n: b.archs.length, code, rows });
  }
  return out;
}
const pools = realPools();
lines.push('');
if (pools.length === 0) lines.push(`Real-image pools: none in ${o.pools} (build them with \`npm run evidence:search -- --build-only\`).`);
else {
  const names = [...new Set(pools.flatMap((p) => p.rows.map((r) => r.metric)))];
  lines.push(`Real-image pools of the search evidence (${o.pools}): Spearman ρ / Kendall τ of each metric with the validation accuracy of every pool architecture trained as \`search\` trains it`);
  lines.push(['metric'.padEnd(17), ...pools.map((_, i) => `pool ${i + 1} ρ`.padStart(10) + `τ`.padStart(7))].join(' '));
  for (const m of names) {
    lines.push([m.padEnd(17), ...pools.map((p) => {
      const r = p.rows.find((x) => x.metric === m);
      return f3(r?.a.rho).padStart(10) + f3(r?.a.tau).padStart(7);
    })].join(' '));
  }
  pools.forEach((p, i) => lines.push(`pool ${i + 1}: ${p.title}, ${p.n} architectures, metric code version ${p.code}`));
}

const text = lines.join('\n') + '\n';
writeFileSync(join(o.out, 'study.md'), text);
writeAtomic(join(o.out, 'study.json'), JSON.stringify({ csv, archs: archs.length, seed: o.seed, nb201: table, tnb101: tnb }, null, 1) + '\n');
process.stdout.write(text);
