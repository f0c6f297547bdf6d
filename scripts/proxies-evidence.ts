/**
 * Evidence that the metrics (on the engine) compute what the published zero-cost metrics compute: scores a seeded sample
 * of NAS-Bench-201 architectures on the shared 1,000 CIFAR-10 images (C=16, N=5, batch 64 by default) through the
 * same job runner as `robot-nas proxies` (worker threads, resumable CSV), then prints per metric the Spearman
 * correlation of our values with
 *   - the shared NAS-Bench-Suite-Zero values `sz.*` and the public zero-cost values `zc.*` of the same
 *     architectures (both computed in PyTorch on their own CIFAR-10 batches and seeds, so agreement is in rank,
 *     not in value),
 *   - the architectures' test accuracy `test_acc`, next to the Suite-Zero metric's own correlation on the same
 *     architectures and the correlation the zero-cost-proxies paper reports over the whole space
 *     (Abdelfattah et al., ICLR 2021, NAS-Bench-201 CIFAR-10),
 * and writes the table as markdown to <out>/evidence.md. Rerunning continues an interrupted run.
 *
 *   node --import tsx scripts/proxies-evidence.ts [--archs 200] [--workers 2] [--seed 1] [--out robot-nas-results/evidence]
 *     [--data DIR (benchmark data folder)] [--images DIR (dataset folder)] [--channels 16] [--cells 5] [--batch 64]
 *     [--report-only]
 *
 * Long runs: `nohup node --import tsx scripts/proxies-evidence.ts > evidence.log 2>&1 &` (~5 s per architecture
 * per core at C=16, N=5, batch 64).
 */
import { Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { loadBenchmark } from '../src/benchmarks/index.js';
import { jobExecutor } from '../src/jobs/index.js';
import { parseArchSpec } from '../src/pipeline/archs.js';
import { runProxyBatch } from '../src/pipeline/score-batch.js';
import { localRunner } from '../src/runner/index.js';
import { readResults } from '../src/proxies/results.js';
import { REFERENCE_METRICS } from '../src/proxies/types.js';
import { nb201Space } from '../src/spaces/nb201.js';
import { spearman } from '../src/util/stats.js';

const int = (v: string): number => Number.parseInt(v, 10);
const o = new Command()
  .option('--archs <n>', 'seeded sample size', int, 200)
  .option('--workers <k>', 'worker threads', int, Math.min(2, availableParallelism()))
  .option('--seed <s>', 'run seed (sample, batch, weights)', int, 1)
  .option('--out <dir>', 'output folder', 'robot-nas-results/evidence')
  .option('--data <dir>', 'benchmark data folder (default: $ROBOT_NAS_DATA, then ../shared/data)')
  .option('--images <dir>', 'dataset folder for cifar10-1k (default: the loader default)')
  .option('--channels <C>', 'channels', int, 16)
  .option('--cells <N>', 'cells per stage', int, 5)
  .option('--batch <n>', 'batch size', int, 64)
  .option('--report-only', 'do not compute; report on the rows already in the CSV')
  .parse()
  .opts<{ archs: number; workers: number; seed: number; out: string; data?: string; images?: string; channels: number; cells: number; batch: number; reportOnly?: boolean }>();

const csv = join(o.out, 'proxies.csv');
mkdirSync(o.out, { recursive: true });
const metrics = [...REFERENCE_METRICS];

if (!o.reportOnly) {
  let last = 0;
  const runner = localRunner(o.workers, jobExecutor());
  const s = await runProxyBatch({
    space: 'nb201',
    archs: parseArchSpec(String(o.archs)),
    dataset: 'cifar10-1k',
    ...(o.images !== undefined ? { dir: o.images } : {}),
    metrics,
    channels: o.channels,
    cells: o.cells,
    batch: o.batch,
    seed: o.seed,
    runner,
    out: csv,
    onStart: (i) => process.stderr.write(`${i.total} archs: ${i.resumed} already done, ${i.todo} to compute on ${i.workers} worker(s)${i.repaired ? ` (${i.repaired})` : ''}\n`),
    onResult: (r, done, total) => {
      if (performance.now() - last > 30000 || done === total) {
        last = performance.now();
        process.stderr.write(`${new Date().toISOString()} ${done}/${total} (last ${r.seconds.toFixed(1)} s)\n`);
      }
    },
  }).finally(() => runner.close());
  process.stderr.write(
    `computed ${s.computed} in ${s.seconds.toFixed(0)} s on ${s.workers} worker(s)` +
      (s.computed > 0 ? ` = ${((60 * s.computed) / s.seconds).toFixed(2)} archs/min` : '') +
      '\n',
  );
}
if (!existsSync(csv)) throw new Error(`${csv}: no results yet`);

// ---- correlations
const { rows } = readResults(csv, nb201Space);
const bench = loadBenchmark({ benchmark: 'nb201', task: 'cifar10', ...(o.data !== undefined ? { data: o.data } : {}) });
const index = new Map(bench.archs.map((a, i) => [a, i]));
const archs = [...rows.keys()].filter((a) => index.has(a));

/** Suite-Zero / zero-cost column of each of our metrics (names differ between releases). */
const SZ: Record<string, string> = { grad_norm: 'grad_norm', snip: 'snip', grasp: 'grasp', fisher: 'fisher', synflow: 'synflow', jacob_cov: 'jacov', naswot: 'nwot' };
const ZC: Record<string, string> = { synflow: 'synflow', snip: 'snip', naswot: 'naswot' };
/** Abdelfattah et al. (ICLR 2021), NAS-Bench-201 CIFAR-10, Spearman ρ with accuracy over all architectures (as given in the brief; not re-verified from the paper text). */
const PAPER: Record<string, number> = { grad_norm: 0.58, snip: 0.58, grasp: 0.48, fisher: 0.36, synflow: 0.74, jacob_cov: 0.73 };

function ours(m: string): Float64Array {
  return Float64Array.from(archs, (a) => rows.get(a)![m] ?? NaN);
}
function column(name: string): Float64Array | undefined {
  const col = bench.metrics.get(name);
  return col && Float64Array.from(archs, (a) => col[index.get(a)!]);
}
function pairs(a: Float64Array, b: Float64Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) n++;
  return n;
}
const f2 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(2));
const withN = (a: Float64Array, b: Float64Array | undefined): string => (b === undefined ? '–' : `${f2(spearman(a, b))} (${pairs(a, b)})`);

const acc = Float64Array.from(archs, (a) => bench.final[index.get(a)!]);
/** `v` where `mask` is finite, else NaN: restricts a correlation to the architectures Suite-Zero scored. */
const where = (v: Float64Array, mask: Float64Array): Float64Array => v.map((x, i) => (Number.isFinite(mask[i]) ? x : NaN));
const header = [
  'metric',
  'ρ ours vs sz.* (n)',
  'ρ ours vs zc.* (n)',
  'ρ ours vs test_acc (n)',
  'ρ ours vs test_acc, sz archs',
  'ρ sz.* vs test_acc, sz archs',
  'paper ρ (all 15,625)',
];
const table: string[][] = metrics.map((m) => {
  const x = ours(m);
  const sz = column(`sz.${SZ[m]}`);
  const zc = ZC[m] ? column(`zc.${ZC[m]}`) : undefined;
  const onSz = sz ? f2(spearman(where(x, sz), acc)) : '–';
  return [m, withN(x, sz), withN(x, zc), withN(x, acc), onSz, sz ? f2(spearman(sz, acc)) : '–', f2(PAPER[m])];
});
const ln = ours('ln_synflow');
const secs = ours('seconds');
const meanSec = secs.reduce((s, v) => s + v, 0) / secs.length;

const md = [
  `# Training-free metrics vs published values — NAS-Bench-201, CIFAR-10`,
  '',
  `${archs.length} architectures (seeded sample, seed ${o.seed}), C=${o.channels}, N=${o.cells}, batch ${o.batch} of the shared 1,000 CIFAR-10 images; ` +
    `PyTorch-default init per architecture; ${meanSec.toFixed(2)} s per architecture per worker (mean). Results: \`${csv}\`.`,
  '',
  `| ${header.join(' | ')} |`,
  `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
  ...table.map((r) => `| ${r.join(' | ')} |`),
  '',
  `ln_synflow vs sz.synflow: ${withN(ln, column('sz.synflow'))}; vs zc.synflow: ${withN(ln, column('zc.synflow'))}.`,
  '',
  'ρ = Spearman rank correlation over the architectures where both values are finite (n). `sz.*`: NAS-Bench-Suite-Zero ' +
    '(empty for cells whose output is cut off by `none`, so "sz archs" columns compare ours and theirs on the same architectures); ' +
    '`zc.*`: the public zero-cost computation in the shared data. `test_acc`: the shared CIFAR-10 test accuracy. ' +
    'Both used other CIFAR-10 batches and weight seeds, so values differ and only ranks are compared. ' +
    'Paper column: Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021, NAS-Bench-201 CIFAR-10 ' +
    '(numbers as given in the task brief, not re-verified against the paper text).',
  '',
].join('\n');
writeFileSync(join(o.out, 'evidence.md'), md);
process.stdout.write(md);
