/**
 * Milliseconds per call of the conv backward kernels (src/nn/kernels.ts) at the shapes of a small NAS-Bench-201
 * training step (batch 64, MNIST/CIFAR-size inputs, C = 8/16/32, 3×3 and 1×1 convs, stride-2 reduction convs):
 *   - filter gradient: 'dilated' (one dilated convolution of transposed operands, the previous path) against
 *     'auto' (the SIMD kernel), and their largest difference relative to the largest |dW|;
 *   - input gradient: 'conv' (one convolution of the zero-dilated dy, the previous path) against 'auto'
 *     (per-phase convolutions for strided convs);
 *   - the forward conv for scale.
 * Every time is the fastest of --reps calls after warm-up (robust to other load on the machine).
 *
 *   npx tsx scripts/bench-train-kernels.ts [--reps 9] [--batch 64] [--backend wasm]
 */
import * as tf from '@tensorflow/tfjs-core';
import { Command, Option } from 'commander';
import { BACKEND_NAMES, initBackend, type BackendName } from '../src/nn/backend.js';
import { conv2dFilterGrad, conv2dInputGrad } from '../src/nn/kernels.js';
import { Rng } from '../src/util/rng.js';

const program = new Command()
  .option('--reps <n>', 'timed calls per case (fastest reported)', (v) => Number.parseInt(v, 10), 9)
  .option('--batch <n>', 'batch size', (v) => Number.parseInt(v, 10), 64)
  .addOption(new Option('--backend <name>', 'tfjs engine').choices(BACKEND_NAMES).default('wasm'))
  .parse();
const o = program.opts<{ reps: number; batch: number; backend: BackendName }>();

const info = await initBackend(o.backend);
process.stdout.write(`backend ${info.name} simd=${info.simd} threads=${info.threads}, batch ${o.batch}, fastest of ${o.reps} (ms)\n`);

interface Case {
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  p: number;
}
const CASES: Case[] = [
  { h: 28, w: 28, ci: 8, co: 8, k: 3, s: 1, p: 1 },
  { h: 28, w: 28, ci: 16, co: 16, k: 3, s: 1, p: 1 },
  { h: 14, w: 14, ci: 16, co: 16, k: 3, s: 1, p: 1 },
  { h: 7, w: 7, ci: 32, co: 32, k: 3, s: 1, p: 1 },
  { h: 28, w: 28, ci: 8, co: 16, k: 3, s: 2, p: 1 },
  { h: 14, w: 14, ci: 16, co: 32, k: 3, s: 2, p: 1 },
  { h: 32, w: 32, ci: 8, co: 8, k: 3, s: 1, p: 1 },
  { h: 32, w: 32, ci: 16, co: 16, k: 3, s: 1, p: 1 },
  { h: 16, w: 16, ci: 32, co: 32, k: 3, s: 1, p: 1 },
  { h: 8, w: 8, ci: 64, co: 64, k: 3, s: 1, p: 1 },
  { h: 28, w: 28, ci: 8, co: 8, k: 1, s: 1, p: 0 },
  { h: 28, w: 28, ci: 16, co: 16, k: 1, s: 1, p: 0 },
  { h: 14, w: 14, ci: 16, co: 32, k: 1, s: 1, p: 0 },
  { h: 32, w: 32, ci: 8, co: 8, k: 1, s: 1, p: 0 },
  { h: 16, w: 16, ci: 32, co: 32, k: 1, s: 1, p: 0 },
];

const rng = new Rng(1);
const rand = (shape: number[]): tf.Tensor => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1)), shape);

/** Fastest of `reps` calls after `warm` untimed ones; every result is read back (a sync point) and disposed. */
function time(fn: () => tf.Tensor, reps: number, warm = 2): number {
  let best = Infinity;
  for (let r = 0; r < reps + warm; r++) {
    const t0 = performance.now();
    const y = fn();
    y.dataSync();
    const dt = performance.now() - t0;
    y.dispose();
    if (r >= warm) best = Math.min(best, dt);
  }
  return best;
}

/** max |a − b| / max |b| */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let d = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    s = Math.max(s, Math.abs(y[i]));
  }
  return d / s;
}

interface Row {
  fwd: number;
  dwOld: number;
  dwNew: number;
  dwDiff: number;
  dxOld: number;
  dxNew: number;
  dxDiff: number;
}

function runCase(c: Case, reps: number): Row {
  const n = o.batch;
  const x = rand([n, c.h, c.w, c.ci]) as tf.Tensor4D;
  const wt = rand([c.k, c.k, c.ci, c.co]) as tf.Tensor4D;
  const yShape = tf.backend_util.computeConv2DInfo(x.shape, wt.shape, c.s, 1, c.p).outShape;
  const dy = rand(yShape) as tf.Tensor4D;
  const fs = wt.shape;
  const dW = (m: 'dilated' | 'auto') => conv2dFilterGrad(x, dy, fs, c.s, c.p, undefined, m);
  const dX = (m: 'conv' | 'auto') => conv2dInputGrad(x.shape, dy, wt, c.s, c.p, undefined, m);
  const row: Row = {
    fwd: time(() => tf.conv2d(x, wt, c.s, c.p), reps),
    dwOld: time(() => dW('dilated'), reps),
    dwNew: time(() => dW('auto'), reps),
    dwDiff: 0,
    dxOld: time(() => dX('conv'), reps),
    dxNew: time(() => dX('auto'), reps),
    dxDiff: 0,
  };
  const r = [dW('dilated'), dW('auto'), dX('conv'), dX('auto')];
  row.dwDiff = relDiff(r[1], r[0]);
  row.dxDiff = relDiff(r[3], r[2]);
  tf.dispose([...r, x, wt, dy]);
  return row;
}

// Warm-up pass over every case (JIT tiers of the JavaScript loops and of the wasm kernels), untimed.
for (const c of CASES) runCase(c, 1);

const f = (v: number, w = 8): string => v.toFixed(2).padStart(w);
const e = (v: number): string => v.toExponential(1).padStart(9);
process.stdout.write(
  `${'case'.padEnd(34)}${'fwd'.padStart(8)} |${'dW old'.padStart(8)}${'dW new'.padStart(8)}${'×'.padStart(6)}${'rel diff'.padStart(9)} |${'dX old'.padStart(8)}${'dX new'.padStart(8)}${'×'.padStart(6)}${'rel diff'.padStart(9)}\n`,
);
const sum: Row = { fwd: 0, dwOld: 0, dwNew: 0, dwDiff: 0, dxOld: 0, dxNew: 0, dxDiff: 0 };
for (const c of CASES) {
  const r = runCase(c, o.reps);
  for (const k of ['fwd', 'dwOld', 'dwNew', 'dxOld', 'dxNew'] as const) sum[k] += r[k];
  const name = `[${o.batch},${c.h},${c.w},${c.ci}] ${c.k}x${c.k} s${c.s} p${c.p} Co${c.co}`;
  process.stdout.write(
    `${name.padEnd(34)}${f(r.fwd)} |${f(r.dwOld)}${f(r.dwNew)}${f(r.dwOld / r.dwNew, 6)}${e(r.dwDiff)} |${f(r.dxOld)}${f(r.dxNew)}${f(r.dxOld / r.dxNew, 6)}${e(r.dxDiff)}\n`,
  );
}
process.stdout.write(
  `${'total'.padEnd(34)}${f(sum.fwd)} |${f(sum.dwOld)}${f(sum.dwNew)}${f(sum.dwOld / sum.dwNew, 6)}${''.padStart(9)} |${f(sum.dxOld)}${f(sum.dxNew)}${f(sum.dxOld / sum.dxNew, 6)}\n`,
);
process.stdout.write(`tensors alive after the bench: ${tf.memory().numTensors}\n`);
