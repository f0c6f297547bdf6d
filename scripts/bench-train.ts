/**
 * Training throughput of the engine next to PyTorch's on the same machine, in the same run: milliseconds per SGD step
 * (forward, cross-entropy, backward to every parameter, clipping at 5, SGD momentum 0.9 / weight decay 3e-4) and
 * inference images per second (batch 256), for NAS-Bench-201 networks of the sizes the search uses, on random data of
 * MNIST and CIFAR shape, with 1 and 2 threads. PyTorch's figures come from ../shared/tools/torch_train_bench.py
 * (Debian's python3-torch) when `import torch` works; the two sides alternate (ours 1 thread, PyTorch 1 thread,
 * ours 2 threads, PyTorch 2 threads) for --rounds rounds, and each side's best round is reported, so both see the
 * same machine. Medians of --steps steps after one warm-up step.
 *
 *   npm run bench:train [-- --steps 10 --rounds 3 --threads 1,2 --kernels auto --no-torch --json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { initEngine } from '../src/engine/kernels.js';
import { buildNb201 } from '../src/networks/nb201.js';
import { initParams } from '../src/networks/params.js';
import { clipGradNorm, Sgd } from '../src/train/optim.js';
import { freshRunning, predict, trainStep } from '../src/train/step.js';
import { Rng } from '../src/util/rng.js';

const o = new Command()
  .option('--steps <n>', 'timed steps per configuration', (v) => Number.parseInt(v, 10), 10)
  .option('--rounds <n>', 'rounds of (ours, PyTorch) per thread count; the best round of each side is reported', (v) => Number.parseInt(v, 10), 3)
  .option('--threads <list>', 'thread counts', (v) => v.split(',').map((s) => Number.parseInt(s, 10)), [1, 2])
  .addOption(new Option('--kernels <backend>', 'kernel backend: native, wasm or auto').choices(['native', 'wasm', 'auto']).default('auto'))
  .option('--no-torch', 'skip the PyTorch anchor')
  .option('--json', 'print a JSON summary as the last line')
  .parse()
  .opts<{ steps: number; rounds: number; threads: number[]; kernels: 'native' | 'wasm' | 'auto'; torch: boolean; json?: boolean }>();

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

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

function ours(threads: number): Row[] {
  initEngine({ threads });
  const rng = new Rng(1);
  const out: Row[] = [];
  for (const cfg of CONFIGS) {
    for (const [label, arch] of Object.entries(ARCHS)) {
      const net = buildNb201({ arch, channels: cfg.channels, cellsPerStage: cfg.cells, numClasses: 10, inputShape: cfg.shape });
      const params = initParams(net, rng);
      const sgd = new Sgd(params, { momentum: 0.9, weightDecay: 3e-4 });
      const per = cfg.shape[0] * cfg.shape[1] * cfg.shape[2];
      const images = Float32Array.from({ length: cfg.batch * per }, () => rng.normal());
      const labels = Int32Array.from({ length: cfg.batch }, () => rng.int(10));
      const wall: number[] = [];
      for (let s = 0; s <= o.steps; s++) {
        const t0 = performance.now();
        const r = trainStep(net, params, images, labels);
        clipGradNorm([...r.grads.values()], 5);
        sgd.step(r.grads, 0.01);
        if (s > 0) wall.push(performance.now() - t0); // the first step warms up
      }
      const running = freshRunning(net);
      const evalImages = Float32Array.from({ length: 256 * per }, () => rng.normal());
      predict(net, params, running, evalImages, 256);
      const e0 = performance.now();
      predict(net, params, running, evalImages, 256);
      out.push({ config: cfg.name, arch: label, stepMs: median(wall), evalImagesPerSecond: 256000 / (performance.now() - e0) });
    }
  }
  return out;
}

const TORCH_SCRIPT = join(fileURLToPath(new URL('..', import.meta.url)), '..', 'shared', 'tools', 'torch_train_bench.py');
const PYTHON = '/usr/bin/python3';

function torchAvailable(): string | null {
  if (!o.torch) return 'skipped (--no-torch)';
  if (!existsSync(TORCH_SCRIPT)) return `not found: ${TORCH_SCRIPT}`;
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? null : `${PYTHON} cannot import torch (apt-get install python3-torch)`;
}

function torch(threads: number): Row[] {
  const r = spawnSync(PYTHON, [TORCH_SCRIPT, String(threads), String(o.steps)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`torch_train_bench.py failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return (JSON.parse(lines[lines.length - 1]) as Row[]).map((x) => ({ config: x.config, arch: x.arch, stepMs: x.stepMs, evalImagesPerSecond: x.evalImagesPerSecond }));
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
process.stdout.write(`${info.backend} kernels (vector width ${info.vectorWidth}); PyTorch: ${noTorch ?? 'torch_train_bench.py, same run'}\n`);
process.stdout.write(`ms per SGD step (median of ${o.steps}, best of ${o.rounds} alternating rounds); ratio = PyTorch ms / ours (> 1: ours faster)\n`);
const head = o.threads.flatMap((t) => [`ours ${t}t`, ...(noTorch === null ? [`torch ${t}t`, 'ratio'] : [])]);
const speedup = o.threads.length > 1 ? [`ours ${o.threads[0]}t/${o.threads[o.threads.length - 1]}t`] : [];
const summary: Record<string, unknown>[] = [];
for (const cfg of CONFIGS) {
  process.stdout.write(`\n${cfg.name}\n  ${''.padEnd(24)}${[...head, ...speedup].map((h) => h.padStart(11)).join('')}\n`);
  for (const label of Object.keys(ARCHS)) {
    const cells: string[] = [];
    const rec: Record<string, unknown> = { config: cfg.name, arch: label };
    for (const t of o.threads) {
      const mine = best.get(`ours/${t}`)!.find((r) => r.config === cfg.name && r.arch === label)!;
      cells.push(mine.stepMs.toFixed(1));
      rec[`ours${t}`] = { stepMs: mine.stepMs, evalImagesPerSecond: mine.evalImagesPerSecond };
      if (noTorch === null) {
        const th = best.get(`torch/${t}`)!.find((r) => r.config === cfg.name && r.arch === label)!;
        cells.push(th.stepMs.toFixed(1), `${(th.stepMs / mine.stepMs).toFixed(2)}×`);
        rec[`torch${t}`] = { stepMs: th.stepMs, evalImagesPerSecond: th.evalImagesPerSecond };
      }
    }
    if (speedup.length) {
      const a = best.get(`ours/${o.threads[0]}`)!.find((r) => r.config === cfg.name && r.arch === label)!;
      const b = best.get(`ours/${o.threads[o.threads.length - 1]}`)!.find((r) => r.config === cfg.name && r.arch === label)!;
      cells.push(`${(a.stepMs / b.stepMs).toFixed(2)}×`);
    }
    summary.push(rec);
    process.stdout.write(`  ${label.padEnd(24)}${cells.map((c) => c.padStart(11)).join('')}\n`);
  }
}
process.stdout.write(`\ninference images/s (batch 256), ${o.threads.map((t) => `${t} thread(s)`).join(' / ')}: ours${noTorch === null ? ' vs PyTorch' : ''}\n`);
for (const cfg of CONFIGS) {
  for (const label of Object.keys(ARCHS)) {
    const parts = o.threads.map((t) => {
      const m = best.get(`ours/${t}`)!.find((r) => r.config === cfg.name && r.arch === label)!;
      const th = noTorch === null ? best.get(`torch/${t}`)!.find((r) => r.config === cfg.name && r.arch === label)! : null;
      return `${m.evalImagesPerSecond.toFixed(0)}${th ? ` vs ${th.evalImagesPerSecond.toFixed(0)}` : ''}`;
    });
    process.stdout.write(`  ${cfg.name.split(',')[0].padEnd(14)} ${cfg.name.split(', ').slice(1, 3).join(' ').padEnd(9)} ${label.padEnd(24)} ${parts.join(' / ')}\n`);
  }
}
if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
