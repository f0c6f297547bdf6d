/**
 * Inference latency of a network on this machine's engine: the median wall time of batch-1 forward passes in
 * inference mode (running BatchNorm statistics), after warm-up runs (first-use costs: the engine's start, memory growth,
 * caches). Weights do not change the work done, so a network without trained weights is timed with a seeded
 * PyTorch-default initialisation. Timing only: no files, no console.
 */
import type { Network } from '../networks/layers.js';
import { initParams, type ParamValues } from '../networks/params.js';
import { freshRunning, predict, type BnRunning } from '../train/step.js';
import { Rng } from '../util/rng.js';

export interface LatencyOptions {
  /** Untimed runs first (default 3). */
  warmup?: number;
  /** Timed runs (default 15). */
  repeats?: number;
  params?: ParamValues;
  running?: BnRunning;
  /** Seed of the stand-in weights when `params` is not given (default 0). */
  seed?: number;
}

export interface Latency {
  /** Median of the timed runs, milliseconds. */
  medianMs: number;
  minMs: number;
  samplesMs: number[];
}

export function measureLatency(net: Network, opts: LatencyOptions = {}): Latency {
  const warmup = opts.warmup ?? 3;
  const repeats = opts.repeats ?? 15;
  if (!(Number.isInteger(warmup) && warmup >= 0 && Number.isInteger(repeats) && repeats >= 1)) {
    throw new RangeError(`measureLatency: warmup must be an integer ≥ 0 and repeats ≥ 1, got ${warmup}, ${repeats}`);
  }
  const params = opts.params ?? initParams(net, new Rng(opts.seed ?? 0));
  const running = opts.running ?? freshRunning(net);
  const [c, h, w] = net.inputShape;
  // A fixed, non-trivial image (values in the normalised range); zeros could hit special-cased fast paths.
  const image = new Float32Array(c * h * w);
  const rng = new Rng(1);
  for (let i = 0; i < image.length; i++) image[i] = rng.uniform(-2, 2);
  for (let i = 0; i < warmup; i++) predict(net, params, running, image, 1);
  const samplesMs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    predict(net, params, running, image, 1);
    samplesMs.push(performance.now() - t0);
  }
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianMs, minMs: sorted[0], samplesMs };
}
