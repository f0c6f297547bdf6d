/**
 * Training throughput of the autodiff engine: milliseconds per SGD step (forward, backward to every parameter,
 * clipping, update) and per inference batch, for NAS-Bench-201 networks of the sizes the search uses, on random
 * data of MNIST and CIFAR shape. Reports wall and CPU time (CPU time is less sensitive to other load).
 *
 *   npm run bench:train [-- --steps 10 --json]
 */
import { Command } from 'commander';
import { initBackend } from '../src/nn/backend.js';
import { buildNb201 } from '../src/nn/nb201.js';
import { initParams } from '../src/nn/params.js';
import { clipGradNorm, Sgd } from '../src/train/optim.js';
import { freshRunning, predict, trainStep } from '../src/train/step.js';
import { Rng } from '../src/util/rng.js';

const o = new Command()
  .option('--steps <n>', 'timed steps per configuration', (v) => Number.parseInt(v, 10), 8)
  .option('--json', 'print a JSON summary as the last line')
  .parse()
  .opts<{ steps: number; json?: boolean }>();

const ARCHS = {
  'all 3×3 conv': '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  'mixed (NB201 C10 best)': '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|',
  'light (pool/skip/1×1)': '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|',
};
const CONFIGS: { name: string; shape: [number, number, number]; channels: number; cells: number; batch: number }[] = [
  { name: 'MNIST 1×28×28, C=8, N=1, batch 32', shape: [1, 28, 28], channels: 8, cells: 1, batch: 32 },
  { name: 'CIFAR 3×32×32, C=8, N=1, batch 32', shape: [3, 32, 32], channels: 8, cells: 1, batch: 32 },
  { name: 'CIFAR 3×32×32, C=16, N=1, batch 64', shape: [3, 32, 32], channels: 16, cells: 1, batch: 64 },
];

await initBackend('wasm');
const rng = new Rng(1);
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const out: Record<string, unknown>[] = [];
for (const cfg of CONFIGS) {
  process.stdout.write(`\n${cfg.name}\n`);
  for (const [label, arch] of Object.entries(ARCHS)) {
    const net = buildNb201({ arch, channels: cfg.channels, cellsPerStage: cfg.cells, numClasses: 10, inputShape: cfg.shape });
    const params = initParams(net, rng);
    const sgd = new Sgd(params, { momentum: 0.9, weightDecay: 3e-4 });
    const per = cfg.shape[0] * cfg.shape[1] * cfg.shape[2];
    const images = Float32Array.from({ length: cfg.batch * per }, () => rng.normal());
    const labels = Int32Array.from({ length: cfg.batch }, () => rng.int(10));
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let s = 0; s <= o.steps; s++) {
      const w0 = performance.now();
      const c0 = process.cpuUsage();
      const r = trainStep(net, params, images, labels);
      clipGradNorm([...r.grads.values()], 5);
      sgd.step(r.grads, 0.01);
      const c = process.cpuUsage(c0);
      if (s > 0) {
        // the first step warms up kernels and caches
        wall.push(performance.now() - w0);
        cpu.push((c.user + c.system) / 1000);
      }
    }
    const running = freshRunning(net);
    const evalBatch = 256;
    const evalImages = Float32Array.from({ length: evalBatch * per }, () => rng.normal());
    predict(net, params, running, evalImages, evalBatch);
    const e0 = performance.now();
    predict(net, params, running, evalImages, evalBatch);
    const evalMs = performance.now() - e0;
    const stepMs = median(wall);
    const row = {
      config: cfg.name,
      arch: label,
      stepMs,
      stepCpuMs: median(cpu),
      trainImagesPerSecond: (1000 * cfg.batch) / stepMs,
      evalImagesPerSecond: (1000 * evalBatch) / evalMs,
    };
    out.push(row);
    process.stdout.write(
      `  ${label.padEnd(24)} step ${stepMs.toFixed(0).padStart(5)} ms (cpu ${row.stepCpuMs.toFixed(0).padStart(5)} ms)  ` +
        `train ${row.trainImagesPerSecond.toFixed(0).padStart(5)} img/s  inference ${row.evalImagesPerSecond.toFixed(0).padStart(5)} img/s\n`,
    );
  }
}
if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
