/**
 * Throughput of the training-free metrics on random NAS-Bench-201 networks (C=16, N=5, CIFAR-10 shape, batch 64,
 * random normal input): architectures per minute for the six RoBoT metrics computed together (shared passes),
 * the time of each metric computed alone, and the forward/backward split of the batch pass.
 *
 *   node --import tsx scripts/bench-proxies.ts [--archs 6] [--seed 1] [--batch 64] [--kernels auto] [--no-single] [--json]
 */
import { Command, Option } from 'commander';
import { opTimes } from '../src/engine/autodiff.js';
import { initEngine, type KernelBackend } from '../src/engine/kernels.js';
import { buildNb201 } from '../src/networks/nb201.js';
import { initParams } from '../src/networks/params.js';
import { countMacs } from '../src/proxies/cost.js';
import { computeProxies, PAPER_METRICS, type Batch, type MetricName } from '../src/proxies/index.js';
import { NB201_OPS, nb201FromOps } from '../src/spaces/nb201.js';
import { Rng } from '../src/util/rng.js';

const program = new Command()
  .option('--archs <n>', 'random architectures', (v) => Number.parseInt(v, 10), 6)
  .option('--seed <n>', 'seed of architectures, weights and data', (v) => Number.parseInt(v, 10), 1)
  .option('--batch <n>', 'batch size', (v) => Number.parseInt(v, 10), 64)
  .option('--channels <n>', 'C', (v) => Number.parseInt(v, 10), 16)
  .option('--cells <n>', 'N', (v) => Number.parseInt(v, 10), 5)
  .addOption(new Option('--kernels <backend>', 'kernel backend: native, wasm or auto').choices(['native', 'wasm', 'auto']).default('auto'))
  .option('--no-single', 'skip timing each metric alone')
  .option('--json', 'print a JSON summary as the last line')
  .parse();
const o = program.opts<{ archs: number; seed: number; batch: number; channels: number; cells: number; kernels: KernelBackend | 'auto'; single: boolean; json?: boolean }>();

const info = initEngine({ backend: o.kernels });
const rng = new Rng(o.seed);
const metrics: MetricName[] = [...PAPER_METRICS];
const perMetric = new Map<string, number[]>();
const combined: number[] = [];
/** CPU seconds of this process per architecture: less sensitive than wall time to other load on the machine. */
const cpu: number[] = [];
const passSplit = new Map<string, number[]>();
const rows: string[] = [];

function push(map: Map<string, number[]>, key: string, v: number): void {
  map.set(key, [...(map.get(key) ?? []), v]);
}

for (let a = 0; a < o.archs; a++) {
  const arch = nb201FromOps(Array.from({ length: 6 }, () => rng.int(NB201_OPS.length)));
  const net = buildNb201({ arch, channels: o.channels, cellsPerStage: o.cells, numClasses: 10 });
  const params = initParams(net, rng);
  const n = o.batch;
  const batch: Batch = {
    shape: [n, 3, 32, 32],
    x: Float32Array.from({ length: n * 3 * 32 * 32 }, () => rng.normal()),
    targets: Int32Array.from({ length: n }, () => rng.int(10)),
  };
  opTimes.enabled = true;
  opTimes.ms.clear();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = computeProxies(net, params, batch, metrics);
  const ms = performance.now() - t0;
  const cu = process.cpuUsage(c0);
  cpu.push((cu.user + cu.system) / 1e6);
  opTimes.enabled = false;
  combined.push(ms);
  for (const [k, v] of Object.entries(r.timings.passes)) push(passSplit, `pass.${k}`, v);
  for (const [k, v] of opTimes.ms) push(passSplit, k, v);
  const single: string[] = [];
  if (o.single) {
    for (const m of metrics) {
      const t1 = performance.now();
      computeProxies(net, params, batch, [m]);
      const dt = performance.now() - t1;
      push(perMetric, m, dt);
      single.push(`${m} ${(dt / 1000).toFixed(2)}s`);
    }
  }
  rows.push(`${String(a + 1).padStart(2)} ${arch}  ${(countMacs(net) / 1e6).toFixed(1).padStart(6)} MMAC  all six ${(ms / 1000).toFixed(2)} s (cpu ${cpu[cpu.length - 1].toFixed(2)} s)${single.length ? `  (${single.join(', ')})` : ''}`);
  process.stdout.write(rows[rows.length - 1] + '\n');
}

const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
const total = combined.reduce((s, x) => s + x, 0);
const summary = {
  engine: info,
  batch: o.batch,
  archs: o.archs,
  secondsPerArch: mean(combined) / 1000,
  cpuSecondsPerArch: mean(cpu),
  archsPerMinute: (60000 * o.archs) / total,
  msPerMetricAlone: Object.fromEntries([...perMetric].map(([k, v]) => [k, Math.round(mean(v))])),
  msBreakdown: Object.fromEntries([...passSplit].map(([k, v]) => [k, Math.round(mean(v))])),
};
process.stdout.write(
  [
    '',
    `${info.backend} kernels (${info.threads} thread(s), vector width ${info.vectorWidth}); batch ${o.batch}; C=${o.channels} N=${o.cells}`,
    `six metrics together: ${summary.secondsPerArch.toFixed(2)} s per architecture = ${summary.archsPerMinute.toFixed(2)} architectures/min (CPU time ${summary.cpuSecondsPerArch.toFixed(2)} s per architecture)`,
    o.single ? `each metric alone (mean ms): ${JSON.stringify(summary.msPerMetricAlone)}` : '',
    `breakdown of the combined run (mean ms): ${JSON.stringify(summary.msBreakdown)}`,
  ]
    .filter(Boolean)
    .join('\n') + '\n',
);
if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
