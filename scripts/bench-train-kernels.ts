/**
 * Milliseconds per call and GFLOP/s of the engine's convolutions (native/kernels/conv.c through engine/conv.ts)
 * at the shapes of NAS-Bench-201 trainings (MNIST/CIFAR-size inputs, C = 8/16/32/64, 3×3 and 1×1 convs, stride-2
 * reduction convs): forward, input gradient, filter gradient. Then the depthwise convolutions (native/kernels/
 * depthwise.c through engine/depthwise.ts) at the shapes of MBConv blocks (expanded widths, k = 3/5/7, stride 1/2)
 * with float taps, and of DARTS' sep/dil convs with the 'double' taps DARTS uses. Every time is the fastest of --reps
 * calls after a warm-up (robust to other load on the machine).
 *
 *   npm run bench:kernels [-- --reps 9 --batch 64 --kernels wasm --threads 2]
 */
import { Command, Option } from 'commander';
import { initEngine } from '../src/engine/kernels.js';
import * as C from '../src/engine/conv.js';
import * as DW from '../src/engine/depthwise.js';
import { disposeArena, inArena, Tensor } from '../src/engine/tensor.js';
import { Rng } from '../src/util/rng.js';

const program = new Command()
  .option('--reps <n>', 'timed calls per case (fastest reported)', (v) => Number.parseInt(v, 10), 9)
  .option('--batch <n>', 'batch size', (v) => Number.parseInt(v, 10), 64)
  .addOption(new Option('--kernels <backend>', 'kernel backend: native, wasm or auto').choices(['native', 'wasm', 'auto']).default('auto'))
  .option('--threads <n>', 'threads per kernel', (v) => Number.parseInt(v, 10))
  .parse();
const o = program.opts<{ reps: number; batch: number; kernels: 'native' | 'wasm' | 'auto'; threads?: number }>();

const info = initEngine({ backend: o.kernels, threads: o.threads });
process.stdout.write(`${info.backend} kernels (vector width ${info.vectorWidth}), ${info.threads} thread(s), batch ${o.batch}, fastest of ${o.reps} calls\n`);

const CASES = [
  { h: 28, w: 28, ci: 8, co: 8, k: 3, s: 1, p: 1 },
  { h: 14, w: 14, ci: 16, co: 16, k: 3, s: 1, p: 1 },
  { h: 7, w: 7, ci: 32, co: 32, k: 3, s: 1, p: 1 },
  { h: 28, w: 28, ci: 8, co: 16, k: 3, s: 2, p: 1 },
  { h: 32, w: 32, ci: 16, co: 16, k: 3, s: 1, p: 1 },
  { h: 16, w: 16, ci: 32, co: 32, k: 3, s: 1, p: 1 },
  { h: 8, w: 8, ci: 64, co: 64, k: 3, s: 1, p: 1 },
  { h: 32, w: 32, ci: 16, co: 32, k: 3, s: 2, p: 1 },
  { h: 32, w: 32, ci: 16, co: 16, k: 1, s: 1, p: 0 },
  { h: 32, w: 32, ci: 3, co: 16, k: 3, s: 1, p: 1 },
];

const rng = new Rng(1);
const best = (f: () => void): number => {
  f();
  let t = Infinity;
  for (let i = 0; i < o.reps; i++) {
    const t0 = performance.now();
    f();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
};
process.stdout.write(`${'case'.padEnd(34)} ${'forward'.padStart(16)} ${'input grad'.padStart(16)} ${'filter grad'.padStart(16)}\n`);
const totals = [0, 0, 0];
for (const c of CASES) {
  const arena: Tensor[] = [];
  inArena(arena, () => {
    const n = o.batch;
    const g = C.squareGeom(c.k, c.s, c.p);
    const ho = C.convOutSize(c.h, c.k, c.s, c.p);
    const wo = C.convOutSize(c.w, c.k, c.s, c.p);
    const rand = (len: number): Float32Array => Float32Array.from({ length: len }, () => rng.uniform(-1, 1));
    const x = Tensor.from(rand(n * c.h * c.w * c.ci), [n, c.h, c.w, c.ci]);
    const w = Tensor.from(rand(c.k * c.k * c.ci * c.co), [c.k, c.k, c.ci, c.co]);
    const dy = Tensor.from(rand(n * ho * wo * c.co), [n, ho, wo, c.co]);
    const times = [
      best(() => C.conv2d(x, w, g).dispose()),
      best(() => C.conv2dInputGrad(x.shape, dy, w, g).dispose()),
      best(() => C.conv2dFilterGrad(x, dy, g).dispose()),
    ];
    const gflop = (2 * n * ho * wo * c.co * c.ci * c.k * c.k) / 1e9;
    times.forEach((t, i) => (totals[i] += t));
    const cell = (t: number): string => `${t.toFixed(2).padStart(6)} ms ${(gflop / (t / 1000)).toFixed(0).padStart(4)} GF/s`;
    process.stdout.write(`${`[${n},${c.h},${c.w},${c.ci}] ${c.k}x${c.k} s${c.s} → ${c.co}`.padEnd(34)} ${times.map(cell).join(' ')}\n`);
  });
  disposeArena(arena);
}
process.stdout.write(`${'total'.padEnd(34)} ${totals.map((t) => `${t.toFixed(1).padStart(6)} ms`.padStart(16)).join(' ')}\n`);

// Depthwise convolutions: MBConv shapes (float taps) and DARTS' (double taps), batch --batch.
const DW_CASES: { what: string; h: number; c: number; k: number; s: number; d: number; exact: boolean }[] = [
  { what: 'MBConv', h: 32, c: 96, k: 3, s: 1, d: 1, exact: false },
  { what: 'MBConv', h: 32, c: 96, k: 3, s: 2, d: 1, exact: false },
  { what: 'MBConv', h: 16, c: 144, k: 5, s: 1, d: 1, exact: false },
  { what: 'MBConv', h: 16, c: 144, k: 5, s: 2, d: 1, exact: false },
  { what: 'MBConv', h: 8, c: 192, k: 7, s: 1, d: 1, exact: false },
  { what: 'MBConv', h: 28, c: 96, k: 3, s: 1, d: 1, exact: false },
  { what: 'DARTS sep', h: 32, c: 16, k: 3, s: 1, d: 1, exact: true },
  { what: 'DARTS sep', h: 32, c: 16, k: 5, s: 1, d: 1, exact: true },
  { what: 'DARTS dil', h: 32, c: 16, k: 3, s: 1, d: 2, exact: true },
  { what: 'DARTS dil', h: 16, c: 32, k: 5, s: 2, d: 2, exact: true },
  { what: 'DARTS sep', h: 32, c: 16, k: 3, s: 1, d: 1, exact: false },
];
process.stdout.write(`\ndepthwise convolutions (GF/s: 2 × k² × outputs; taps 'float' or 'double', see engine/depthwise.ts)\n`);
process.stdout.write(`${'case'.padEnd(44)} ${'forward'.padStart(16)} ${'input grad'.padStart(16)} ${'filter grad'.padStart(16)}\n`);
const dwTotals = [0, 0, 0];
for (const c of DW_CASES) {
  const arena: Tensor[] = [];
  inArena(arena, () => {
    const n = o.batch;
    const g: DW.DepthwiseGeom = { k: c.k, stride: c.s, pad: DW.samePad(c.k, c.d), dilation: c.d, exact: c.exact };
    const ho = DW.depthwiseOutSize(c.h, g);
    const rand = (len: number): Float32Array => Float32Array.from({ length: len }, () => rng.uniform(-1, 1));
    const x = Tensor.from(rand(n * c.h * c.h * c.c), [n, c.h, c.h, c.c]);
    const f = Tensor.from(rand(c.k * c.k * c.c), [c.k, c.k, c.c]);
    const dy = Tensor.from(rand(n * ho * ho * c.c), [n, ho, ho, c.c]);
    const times = [
      best(() => DW.depthwiseConv(x, f, g).dispose()),
      best(() => DW.depthwiseInputGrad(x.shape, dy, f, g).dispose()),
      best(() => DW.depthwiseFilterGrad(x, dy, g).dispose()),
    ];
    const gflop = (2 * n * ho * ho * c.c * c.k * c.k) / 1e9;
    times.forEach((t, i) => (dwTotals[i] += t));
    const cell = (t: number): string => `${t.toFixed(2).padStart(6)} ms ${(gflop / (t / 1000)).toFixed(0).padStart(4)} GF/s`;
    const label = `${c.what} [${n},${c.h},${c.h},${c.c}] ${c.k}x${c.k}${c.d > 1 ? ` d${c.d}` : ''} s${c.s} ${c.exact ? 'double' : 'float'}`;
    process.stdout.write(`${label.padEnd(44)} ${times.map(cell).join(' ')}\n`);
  });
  disposeArena(arena);
}
process.stdout.write(`${'total'.padEnd(44)} ${dwTotals.map((t) => `${t.toFixed(1).padStart(6)} ms`.padStart(16)).join(' ')}\n`);
