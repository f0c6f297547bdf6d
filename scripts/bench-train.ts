/**
 * Training throughput of the engine next to PyTorch's on the same machine, in the same run: milliseconds per SGD step
 * (forward, cross-entropy, backward to every parameter, clipping at 5, SGD momentum 0.9 / weight decay 3e-4) and
 * inference images per second (batch 256), on random data of MNIST and CIFAR shape, with 1 and 2 threads, for
 *   - NAS-Bench-201 networks of the sizes the search uses (PyTorch: ../shared/tools/torch_train_bench.py);
 *   - inverted-residual (MBConv) networks, MobileNetV2- and MnasNet-like (scripts/bench/mbconv.ts; PyTorch:
 *     scripts/anchors/torch_mbconv_bench.py, the same networks);
 *   - DARTS networks (no PyTorch anchor), for the last table: milliseconds per GFLOP of the forward pass (2 × the
 *     multiply-accumulates of proxies/cost.ts × batch), which compares the spaces' cost per unit of work.
 * PyTorch's figures need Debian's python3-torch (`import torch`); the two sides alternate (ours 1 thread, PyTorch 1
 * thread, ours 2 threads, PyTorch 2 threads) for --rounds rounds, and each side's best round is reported, so both see
 * the same machine. Medians of --steps steps after one warm-up step.
 *
 *   npm run bench:train [-- --steps 10 --rounds 3 --threads 1,2 --kernels auto --sections nb201,mbconv,darts --no-torch --json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { initEngine } from '../src/engine/kernels.js';
import { buildDarts } from '../src/networks/darts.js';
import type { Network } from '../src/networks/layers.js';
import { buildNb201 } from '../src/networks/nb201.js';
import { initParams } from '../src/networks/params.js';
import { countMacs } from '../src/proxies/cost.js';
import { DARTS_V2, formatGenotype, parseGenotype } from '../src/spaces/darts.js';
import { clipGradNorm, Sgd } from '../src/train/optim.js';
import { freshRunning, predict, trainStep } from '../src/train/step.js';
import { Rng } from '../src/util/rng.js';
import { buildMbNet, MB_ARCHS, MB_CONFIGS } from './bench/mbconv.js';

const SECTIONS = ['nb201', 'mbconv', 'darts'] as const;
type Section = (typeof SECTIONS)[number];

const o = new Command()
  .option('--steps <n>', 'timed steps per configuration', (v) => Number.parseInt(v, 10), 10)
  .option('--rounds <n>', 'rounds of (ours, PyTorch) per thread count; the best round of each side is reported', (v) => Number.parseInt(v, 10), 3)
  .option('--threads <list>', 'thread counts', (v) => v.split(',').map((s) => Number.parseInt(s, 10)), [1, 2])
  .addOption(new Option('--kernels <backend>', 'kernel backend: native, wasm or auto').choices(['native', 'wasm', 'auto']).default('auto'))
  .option('--sections <list>', `which networks: ${SECTIONS.join(', ')}`, (v) => v.split(','), [...SECTIONS])
  .option('--no-torch', 'skip the PyTorch anchor')
  .option('--json', 'print a JSON summary as the last line')
  .parse()
  .opts<{ steps: number; rounds: number; threads: number[]; kernels: 'native' | 'wasm' | 'auto'; sections: string[]; torch: boolean; json?: boolean }>();
for (const sct of o.sections) {
  if (!(SECTIONS as readonly string[]).includes(sct)) {
    process.stderr.write(`bench:train: --sections: unknown section '${sct}' (expected some of ${SECTIONS.join(', ')})\n`);
    process.exit(2);
  }
}
const want = (sct: Section): boolean => o.sections.includes(sct);

const ARCHS = {
  'all 3x3 conv': '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  'mixed (NB201 C10 best)': '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|',
  'light (pool/skip/1x1)': '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|',
};
// The same names and order as torch_train_bench.py, so rows pair up.
const CONFIGS: { name: string; shape: [number, number, number]; channels: number; cells: number; batch: number }[] = [
  { name: 'MNIST 1x28x28, C=8, N=1, batch 32', shape: [1, 28, 28], channels: 8, cells: 1, batch: 32 },
  { name: 'CIFAR 3x32x32, C=8, N=1, batch 32', shape: [3, 32, 32], channels: 8, cells: 1, batch: 32 },
  { name: 'CIFAR 3x32x32, C=16, N=1, batch 64', shape: [3, 32, 32], channels: 16, cells: 1, batch: 64 },
];

interface Row {
  config: string;
  arch: string;
  stepMs: number;
  evalImagesPerSecond: number;
}

/**
 * DARTS rows: the DARTS V2 genotype and one with every operation, at the widths of the NB201 rows; 'float taps' is the
 * same network with its depthwise convs in float arithmetic instead of the 'double' taps DARTS' numbers are kept with
 * (what switching would buy; see Conv2dLayer.depthwiseSum).
 */
const ALL_OPS = parseGenotype(
  "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_5x5', 1), ('dil_conv_3x3', 0), ('dil_conv_5x5', 1), ('max_pool_3x3', 0), ('avg_pool_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 2)], normal_concat=range(2, 6), " +
    "reduce=[('sep_conv_3x3', 0), ('max_pool_3x3', 1), ('dil_conv_5x5', 0), ('avg_pool_3x3', 1), ('skip_connect', 2), ('sep_conv_5x5', 1), ('dil_conv_3x3', 2), ('max_pool_3x3', 0)], reduce_concat=range(2, 6))",
);
const DARTS_ARCHS: Record<string, { genotype: string; float: boolean }> = {
  'DARTS V2': { genotype: formatGenotype(DARTS_V2), float: false },
  'DARTS V2, float taps': { genotype: formatGenotype(DARTS_V2), float: true },
  'every DARTS op': { genotype: formatGenotype(ALL_OPS), float: false },
};
const DARTS_CONFIGS: { name: string; shape: [number, number, number]; channels: number; layers: number; batch: number }[] = [
  { name: 'CIFAR 3x32x32, C=8, 5 cells, batch 32', shape: [3, 32, 32], channels: 8, layers: 5, batch: 32 },
  { name: 'CIFAR 3x32x32, C=16, 5 cells, batch 64', shape: [3, 32, 32], channels: 16, layers: 5, batch: 64 },
];

function buildDartsRow(arch: { genotype: string; float: boolean }, cfg: (typeof DARTS_CONFIGS)[number]): Network {
  const net = buildDarts({ genotype: arch.genotype, channels: cfg.channels, layers: cfg.layers, numClasses: 10, inputShape: cfg.shape });
  if (arch.float) for (const l of net.weightLayers) if (l.kind === 'conv' && (l.groups ?? 1) > 1) l.depthwiseSum = 'float';
  return net;
}

/** Every row this run times: section, config, arch, the network, its batch, forward GFLOP per batch. */
interface Case {
  section: Section;
  config: string;
  arch: string;
  build: () => Network;
  shape: [number, number, number];
  batch: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  if (want('nb201'))
    for (const cfg of CONFIGS)
      for (const [label, arch] of Object.entries(ARCHS))
        out.push({
          section: 'nb201',
          config: cfg.name,
          arch: label,
          build: () => buildNb201({ arch, channels: cfg.channels, cellsPerStage: cfg.cells, numClasses: 10, inputShape: cfg.shape }),
          shape: cfg.shape,
          batch: cfg.batch,
        });
  if (want('mbconv'))
    for (const cfg of MB_CONFIGS)
      for (const [label, spec] of Object.entries(MB_ARCHS))
        out.push({ section: 'mbconv', config: cfg.name, arch: label, build: () => buildMbNet(spec, cfg.shape, 10), shape: cfg.shape, batch: cfg.batch });
  if (want('darts'))
    for (const cfg of DARTS_CONFIGS)
      for (const [label, arch] of Object.entries(DARTS_ARCHS))
        out.push({ section: 'darts', config: cfg.name, arch: label, build: () => buildDartsRow(arch, cfg), shape: cfg.shape, batch: cfg.batch });
  return out;
}
const CASES = cases();
const gflop = new Map(CASES.map((c) => [`${c.config}|${c.arch}`, (2 * countMacs(c.build()) * c.batch) / 1e9]));

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

function ours(threads: number): Row[] {
  initEngine({ threads });
  const rng = new Rng(1);
  const out: Row[] = [];
  for (const c of CASES) {
    const net = c.build();
    const params = initParams(net, rng);
    const sgd = new Sgd(params, { momentum: 0.9, weightDecay: 3e-4 });
    const per = c.shape[0] * c.shape[1] * c.shape[2];
    const images = Float32Array.from({ length: c.batch * per }, () => rng.normal());
    const labels = Int32Array.from({ length: c.batch }, () => rng.int(10));
    const wall: number[] = [];
    for (let s = 0; s <= o.steps; s++) {
      const t0 = performance.now();
      const r = trainStep(net, params, images, labels);
      clipGradNorm([...r.grads.values()], 5);
      sgd.step(r.grads, 0.01);
      if (s > 0) wall.push(performance.now() - t0); // the first step warms up
    }
    let evalImagesPerSecond = NaN;
    if (c.section !== 'darts') {
      const running = freshRunning(net);
      const evalImages = Float32Array.from({ length: 256 * per }, () => rng.normal());
      predict(net, params, running, evalImages, 256);
      const e0 = performance.now();
      predict(net, params, running, evalImages, 256);
      evalImagesPerSecond = 256000 / (performance.now() - e0);
    }
    out.push({ config: c.config, arch: c.arch, stepMs: median(wall), evalImagesPerSecond });
  }
  return out;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TORCH_SCRIPT = join(ROOT, '..', 'shared', 'tools', 'torch_train_bench.py');
const TORCH_MB_SCRIPT = join(ROOT, 'scripts', 'anchors', 'torch_mbconv_bench.py');
const PYTHON = '/usr/bin/python3';

function torchAvailable(): string | null {
  if (!o.torch) return 'skipped (--no-torch)';
  if (want('nb201') && !existsSync(TORCH_SCRIPT)) return `not found: ${TORCH_SCRIPT}`;
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? null : `${PYTHON} cannot import torch (apt-get install python3-torch)`;
}

function torchScript(script: string, threads: number): Row[] {
  const r = spawnSync(PYTHON, [script, String(threads), String(o.steps)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return (JSON.parse(lines[lines.length - 1]) as Row[]).map((x) => ({ config: x.config, arch: x.arch, stepMs: x.stepMs, evalImagesPerSecond: x.evalImagesPerSecond }));
}

/** PyTorch's rows for the sections that have an anchor. */
function torch(threads: number): Row[] {
  return [...(want('nb201') ? torchScript(TORCH_SCRIPT, threads) : []), ...(want('mbconv') ? torchScript(TORCH_MB_SCRIPT, threads) : [])];
}

initEngine({ backend: o.kernels });
const noTorch = torchAvailable();
const best = new Map<string, Row[]>(); // side/threads → rows (best step per row over rounds)
const keep = (key: string, rows: Row[]): void => {
  const prev = best.get(key);
  best.set(key, prev === undefined ? rows : rows.map((r, i) => (r.stepMs < prev[i].stepMs ? r : prev[i])));
};
for (let round = 0; round < o.rounds; round++) {
  for (const t of o.threads) {
    process.stderr.write(`round ${round + 1}/${o.rounds}: ours, ${t} thread(s)\n`);
    keep(`ours/${t}`, ours(t));
    if (noTorch === null) {
      process.stderr.write(`round ${round + 1}/${o.rounds}: PyTorch, ${t} thread(s)\n`);
      keep(`torch/${t}`, torch(t));
    }
  }
}

const info = initEngine();
const find = (key: string, c: { config: string; arch: string }): Row | undefined => best.get(key)?.find((r) => r.config === c.config && r.arch === c.arch);
const hasTorch = (c: Case): boolean => noTorch === null && c.section !== 'darts';
process.stdout.write(`${info.backend} kernels (vector width ${info.vectorWidth}); PyTorch: ${noTorch ?? 'torch_train_bench.py and torch_mbconv_bench.py, same run'}\n`);
process.stdout.write(`ms per SGD step (median of ${o.steps}, best of ${o.rounds} alternating rounds); ratio = PyTorch ms / ours (> 1: ours faster)\n`);
const summary: Record<string, unknown>[] = [];
for (const config of [...new Set(CASES.map((c) => c.config))]) {
  const rows = CASES.filter((c) => c.config === config);
  const torchCols = hasTorch(rows[0]);
  const head = o.threads.flatMap((t) => [`ours ${t}t`, ...(torchCols ? [`torch ${t}t`, 'ratio'] : [])]);
  const speedup = o.threads.length > 1 ? [`ours ${o.threads[0]}t/${o.threads[o.threads.length - 1]}t`] : [];
  const width = Math.max(24, ...rows.map((c) => c.arch.length + 2));
  process.stdout.write(`\n${config}\n  ${''.padEnd(width)}${[...head, ...speedup].map((h) => h.padStart(11)).join('')}\n`);
  for (const c of rows) {
    const cells: string[] = [];
    const rec: Record<string, unknown> = { config, arch: c.arch };
    for (const t of o.threads) {
      const mine = find(`ours/${t}`, c)!;
      cells.push(mine.stepMs.toFixed(1));
      rec[`ours${t}`] = c.section === 'darts' ? { stepMs: mine.stepMs } : { stepMs: mine.stepMs, evalImagesPerSecond: mine.evalImagesPerSecond };
      if (torchCols) {
        const th = find(`torch/${t}`, c)!;
        cells.push(th.stepMs.toFixed(1), `${(th.stepMs / mine.stepMs).toFixed(2)}×`);
        rec[`torch${t}`] = { stepMs: th.stepMs, evalImagesPerSecond: th.evalImagesPerSecond };
      }
    }
    if (speedup.length) cells.push(`${(find(`ours/${o.threads[0]}`, c)!.stepMs / find(`ours/${o.threads[o.threads.length - 1]}`, c)!.stepMs).toFixed(2)}×`);
    if (c.section !== 'nb201') rec.forwardGflop = gflop.get(`${c.config}|${c.arch}`);
    summary.push(rec);
    process.stdout.write(`  ${c.arch.padEnd(width)}${cells.map((x) => x.padStart(11)).join('')}\n`);
  }
}
const withEval = CASES.filter((c) => c.section !== 'darts');
if (withEval.length > 0) {
  process.stdout.write(`\ninference images/s (batch 256), ${o.threads.map((t) => `${t} thread(s)`).join(' / ')}: ours${noTorch === null ? ' vs PyTorch' : ''}\n`);
  const width = Math.max(24, ...withEval.map((c) => c.arch.length + 1));
  for (const c of withEval) {
    const parts = o.threads.map((t) => {
      const m = find(`ours/${t}`, c)!;
      const th = hasTorch(c) ? find(`torch/${t}`, c)! : null;
      return `${m.evalImagesPerSecond.toFixed(0)}${th ? ` vs ${th.evalImagesPerSecond.toFixed(0)}` : ''}`;
    });
    const shape = c.config.split(',')[0];
    const rest = c.config.split(', ').slice(1).filter((x) => !x.startsWith('batch')).join(' ');
    process.stdout.write(`  ${shape.padEnd(14)} ${rest.padEnd(9)} ${c.arch.padEnd(width)} ${parts.join(' / ')}\n`);
  }
}
process.stdout.write(`\nms per GFLOP of the forward pass (2 × multiply-accumulates × batch), training step, ${o.threads.map((t) => `${t} thread(s)`).join(' / ')}\n`);
for (const c of CASES) {
  const g = gflop.get(`${c.config}|${c.arch}`)!;
  const parts = o.threads.map((t) => {
    const th = hasTorch(c) ? find(`torch/${t}`, c) : undefined;
    return `${(find(`ours/${t}`, c)!.stepMs / g).toFixed(0).padStart(5)}${th ? ` (PyTorch ${(th.stepMs / g).toFixed(0)})` : ''}`;
  });
  process.stdout.write(`  ${c.section.padEnd(7)} ${c.config.padEnd(40)} ${c.arch.padEnd(36)} ${g.toFixed(3).padStart(6)} GFLOP  ${parts.join(' / ')}\n`);
}
if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
