/**
 * The six paper metrics of random NAS-Bench-201 networks (C=16, N=5, batch 64 of the shared CIFAR-10 images), ours next
 * to PyTorch's (../shared/tools/torch_metric_bench.py, Debian's python3-torch) on the same architectures, in the same
 * run, with 1 and 2 threads: seconds per architecture. The sides alternate (ours 1 thread, PyTorch 1 thread, ours 2
 * threads, PyTorch 2 threads) for --rounds rounds and each side's best round is reported, so both see the same machine.
 * Ours computes the six with shared passes (one loss pass feeds grad_norm, snip, grasp and fisher); PyTorch's anchor
 * computes each on a fresh copy of the network, as zero-cost-nas does — the same numbers either way (the fixtures).
 *
 * Then the metrics of issue 20, each under its official protocol (ZiCo: two batches of 64; MeCo: one image; SWAP: 16
 * images, 32 Gaussian re-initialisations; AZ-NAS: 64 noise images, Kaiming-normal weights — its three scores are one
 * computation), ours next to anchors/metrics_anchor.py `bench` on the same architectures, same rounds.
 *
 *   npm run bench:metrics [-- --archs 6 --new-archs 2 --rounds 2 --threads 1,2 --no-torch --json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { resolveDataDir } from '../src/benchmarks/datadir.js';
import { initEngine } from '../src/engine/kernels.js';
import { buildNb201 } from '../src/networks/nb201.js';
import { initParams } from '../src/networks/params.js';
import { computeProxies, PAPER_METRICS, type Batch } from '../src/proxies/index.js';
import { NB201_OPS, nb201FromOps } from '../src/spaces/nb201.js';
import { Rng } from '../src/util/rng.js';

const o = new Command()
  .option('--archs <n>', 'random architectures (the same for both sides)', (v) => Number.parseInt(v, 10), 6)
  .option('--rounds <n>', 'rounds of (ours, PyTorch) per thread count; the best round of each side is reported', (v) => Number.parseInt(v, 10), 2)
  .option('--threads <list>', 'thread counts', (v) => v.split(',').map((s) => Number.parseInt(s, 10)), [1, 2])
  .option('--new-archs <n>', 'architectures (the first of --archs) on which the issue-20 metrics are timed (PyTorch\'s SWAP takes minutes each)', (v) => Number.parseInt(v, 10), 2)
  .option('--no-torch', 'skip the PyTorch anchor')
  .option('--json', 'print a JSON summary as the last line')
  .parse()
  .opts<{ archs: number; newArchs: number; rounds: number; threads: number[]; torch: boolean; json?: boolean }>();

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TORCH_SCRIPT = join(ROOT, '..', 'shared', 'tools', 'torch_metric_bench.py');
const ANCHOR = join(ROOT, 'anchors', 'metrics_anchor.py');
/** The new metrics as timed: AZ-NAS's three scores share one computation. */
const NEW: { key: string; metrics: string[] }[] = [
  { key: 'six', metrics: [...PAPER_METRICS] },
  { key: 'zico', metrics: ['zico'] },
  { key: 'meco', metrics: ['meco'] },
  { key: 'swap', metrics: ['swap'] },
  { key: 'aznas', metrics: ['az_expressivity', 'az_progressivity', 'az_trainability'] },
];
const PYTHON = '/usr/bin/python3';
const cifar = join(resolveDataDir(), 'cifar10');
const IMAGES = join(cifar, 'images_1000x32x32x3_uint8.bin');
const LABELS = join(cifar, 'labels_1000_uint8.bin');

const rng = new Rng(1);
const archs = Array.from({ length: o.archs }, () => nb201FromOps(Array.from({ length: 6 }, () => rng.int(NB201_OPS.length))));

// 64 images normalised as the anchor does (its batch is another random 64 of the same file; timing does not depend on it).
const raw = readFileSync(IMAGES);
const labels = readFileSync(LABELS);
const MEAN = [0.4914, 0.4822, 0.4465];
const STD = [0.247, 0.2435, 0.2616];
const n = 64;
const x = new Float32Array(n * 3 * 32 * 32);
for (let b = 0; b < n; b++) {
  for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) x[(b * 3 + c) * 1024 + p] = (raw[(b * 1024 + p) * 3 + c] / 255 - MEAN[c]) / STD[c];
}
const batch: Batch = { shape: [n, 3, 32, 32], x, targets: Int32Array.from(labels.subarray(0, n)) };
const x2 = new Float32Array(n * 3 * 32 * 32);
for (let b = 0; b < n; b++) {
  for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) x2[(b * 3 + c) * 1024 + p] = (raw[((n + b) * 1024 + p) * 3 + c] / 255 - MEAN[c]) / STD[c];
}
const batch2: Batch = { shape: [n, 3, 32, 32], x: x2, targets: Int32Array.from(labels.subarray(n, 2 * n)) };

/** Seconds per architecture of each new metric (mean over the architectures). */
function oursNew(threads: number): Record<string, number> {
  initEngine({ threads });
  const out: Record<string, number> = {};
  for (const g of NEW) {
    let total = 0;
    const some = archs.slice(0, o.newArchs);
    some.forEach((arch, k) => {
      const net = buildNb201({ arch, channels: 16, cellsPerStage: 5, numClasses: 10 });
      const params = initParams(net, new Rng(k));
      const t0 = performance.now();
      computeProxies(net, params, batch, g.metrics, { extraBatches: [batch2], seed: k });
      total += (performance.now() - t0) / 1000;
    });
    out[g.key] = total / some.length;
  }
  return out;
}

function torchNew(threads: number, archFile: string): Record<string, number> {
  const r = spawnSync(PYTHON, [ANCHOR, 'bench', archFile, String(Math.min(o.newArchs, archs.length)), String(threads), IMAGES, LABELS], { encoding: 'utf8' });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`metrics_anchor.py bench failed: ${r.stderr || r.stdout}`);
  return JSON.parse(last) as Record<string, number>;
}

function ours(threads: number): number {
  initEngine({ threads });
  const times: number[] = [];
  archs.forEach((arch, k) => {
    const net = buildNb201({ arch, channels: 16, cellsPerStage: 5, numClasses: 10 });
    const t0 = performance.now();
    computeProxies(net, initParams(net, new Rng(k)), batch, PAPER_METRICS);
    times.push((performance.now() - t0) / 1000);
  });
  return times.reduce((s, v) => s + v, 0) / times.length;
}

function torchProblem(): string | null {
  if (!o.torch) return 'skipped (--no-torch)';
  if (!existsSync(TORCH_SCRIPT)) return `not found: ${TORCH_SCRIPT}`;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0 ? null : `${PYTHON} cannot import torch (apt-get install python3-torch)`;
}

function torch(threads: number, archFile: string): number {
  const r = spawnSync(PYTHON, [TORCH_SCRIPT, archFile, String(archs.length), String(threads), IMAGES, LABELS], { encoding: 'utf8' });
  const m = /mean ([\d.]+) s\/arch/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`torch_metric_bench.py failed: ${r.stderr || r.stdout}`);
  return Number(m[1]);
}

ours(1); // warm-up: compile the kernels, fill the caches
const noTorch = torchProblem();
const dir = mkdtempSync(join(tmpdir(), 'robot-nas-bench-metrics-'));
const archFile = join(dir, 'archs.txt');
writeFileSync(archFile, archs.join('\n') + '\n');
const best = new Map<string, number>();
const keep = (key: string, v: number): void => {
  best.set(key, Math.min(best.get(key) ?? Infinity, v));
};
try {
  for (let round = 0; round < o.rounds; round++) {
    for (const t of o.threads) {
      process.stderr.write(`round ${round + 1}/${o.rounds}: ours, ${t} thread(s)\n`);
      keep(`ours/${t}`, ours(t));
      for (const [k, v] of Object.entries(oursNew(t))) keep(`ours/${t}/${k}`, v);
      if (noTorch === null) {
        process.stderr.write(`round ${round + 1}/${o.rounds}: PyTorch, ${t} thread(s)\n`);
        keep(`torch/${t}`, torch(t, archFile));
        for (const [k, v] of Object.entries(torchNew(t, archFile))) keep(`torch/${t}/${k}`, v);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const info = initEngine();
process.stdout.write(`six paper metrics, NB201 C=16 N=5, batch 64 CIFAR-10, ${archs.length} random architectures; ${info.backend} kernels; PyTorch: ${noTorch ?? 'torch_metric_bench.py, same run'}\n`);
process.stdout.write(`seconds per architecture (mean over the architectures, best of ${o.rounds} alternating rounds); ratio = PyTorch s / ours (> 1: ours faster)\n\n`);
const head = ['threads', 'ours s', ...(noTorch === null ? ['torch s', 'ratio'] : []), 'ours speed-up'];
process.stdout.write(head.map((h) => h.padStart(14)).join('') + '\n');
const summary: Record<string, unknown>[] = [];
for (const t of o.threads) {
  const mine = best.get(`ours/${t}`)!;
  const th = best.get(`torch/${t}`);
  const cells = [String(t), mine.toFixed(2), ...(th !== undefined ? [th.toFixed(2), `${(th / mine).toFixed(2)}×`] : []), `${(best.get(`ours/${o.threads[0]}`)! / mine).toFixed(2)}×`];
  process.stdout.write(cells.map((c) => c.padStart(14)).join('') + '\n');
  summary.push({ threads: t, oursSeconds: mine, torchSeconds: th ?? null });
}
process.stdout.write(`\nthe metrics of issue 20 on the first ${Math.min(o.newArchs, archs.length)} architectures, each under its official protocol (anchor: anchors/metrics_anchor.py bench, same run)\n`);
process.stdout.write(['metric', 'threads', 'ours s', ...(noTorch === null ? ['torch s', 'ratio'] : []), 'vs six'].map((h) => h.padStart(14)).join('') + '\n');
for (const g of NEW.filter((x) => x.key !== 'six')) {
  for (const t of o.threads) {
    const mine = best.get(`ours/${t}/${g.key}`)!;
    const th = best.get(`torch/${t}/${g.key}`);
    const six = best.get(`ours/${t}/six`)!;
    const name = g.key === 'aznas' ? 'az_* (all 3)' : g.key;
    const cells = [name, String(t), mine.toFixed(2), ...(th !== undefined ? [th.toFixed(2), `${(th / mine).toFixed(2)}×`] : []), `${(mine / six).toFixed(2)}×`];
    process.stdout.write(cells.map((c) => c.padStart(14)).join('') + '\n');
    summary.push({ metric: g.key, threads: t, oursSeconds: mine, torchSeconds: th ?? null });
  }
}
process.stdout.write('vs six: the metric\'s seconds over our six paper metrics\' seconds on the same architectures and threads\n');
if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
