import type { ADNode } from '../engine/autodiff.js';
import { weightsPerChannel, type Network } from '../networks/layers.js';
import type { ParamValues } from '../networks/params.js';
import { deriveSeed } from '../util/seeds.js';
import { engineParams, withForward } from './forward.js';
import { fnv1a, normalsAt, streamKey } from './hash.js';
import type { Batch } from './types.js';

/**
 * SWAP (Peng et al., ICLR 2024; pym1024/SWAP `src/metrics/swap.py`, `correlation.py`): the number of distinct
 * sample-wise activation patterns. For every neuron of every ReLU module's output (4-D feature maps), its pattern is
 * the vector sign(ReLU output) over the input samples; SWAP is the number of distinct patterns (`torch.unique` over
 * the rows of the neurons × samples matrix). Choices, as in the official code: 16 input images (the first 16 of the
 * scoring batch; `--input_samples 16`); no labels; training mode (BatchNorm on the batch); weights re-drawn by
 * `network_weight_gaussian_init` — conv and linear weights N(0, 1), their biases 0, BatchNorm γ = 1, β = 0 — and the
 * score averaged over 32 such draws (`--repeats 32`), each from the counter-based normals of the scoring seed. The
 * paper's best NAS-Bench-201 figure (ρ 0.90 on CIFAR-100) is the *regularised* score, SWAP × exp(−(params − μ)²/σ)
 * with a size prior μ, σ the authors tune; that is a product with `params`, which RoBoT can weigh itself, so the
 * metric here is the plain score (the official `regular=False`).
 */
export const SWAP_SAMPLES = 16;
export const SWAP_REPEATS = 32;

/** Distinct ReLU activation patterns over the first `samples` images of the batch, with the weights given. */
export function swapCount(net: Network, params: ParamValues, batch: Batch, samples = SWAP_SAMPLES): number {
  const [n, c, h, w] = batch.shape;
  const m = Math.min(samples, n);
  if (m > 31) throw new RangeError(`swap: at most 31 samples (patterns are kept as bit masks), got ${m}`);
  // 2^m flags when that is small (16 samples: 64 KiB), a set otherwise.
  const flags = m <= 20 ? new Uint8Array(1 << m) : null;
  const set = new Set<number>();
  let distinct = 0;
  const read = new Set<ADNode>();
  let masks = new Uint32Array(0);
  withForward(
    net,
    engineParams(net, params),
    batch.x.subarray(0, m * c * h * w),
    m,
    {
      observer: {
        op(kind, out) {
          // ReLU modules reading one node share its output (AdExec): its neurons are already counted.
          if (kind !== 'relu' || out.v.shape.length !== 4 || read.has(out)) return;
          read.add(out);
          // sign(ReLU(x)) is 1 where the output is > 0, else 0: a neuron's pattern is the bit mask of those samples,
          // built one sample row at a time. x > 0 is read branch-free from the float's bits (see positiveBit): the
          // signs of a random network are coin flips, which a branch mispredicts half the time (2x the counting cost).
          const x = out.v.view();
          const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
          const f = x.length / m;
          if (masks.length < f) masks = new Uint32Array(f);
          masks.fill(0, 0, f);
          for (let b = 0; b < m; b++) {
            const base = b * f;
            for (let j = 0; j < f; j++) masks[j] |= positiveBit(u[base + j]) << b;
          }
          for (let j = 0; j < f; j++) {
            const bits = masks[j];
            if (flags) {
              if (flags[bits] === 0) {
                flags[bits] = 1;
                distinct++;
              }
            } else {
              set.add(bits);
            }
          }
        },
      },
    },
    () => undefined,
  );
  return flags ? distinct : set.size;
}

/**
 * 1 if the float32 with bits `v` is > 0, else 0 (also for ±0, −x and NaN of either sign): t = v − 1 (mod 2³²) is
 * below 0x7f800000 exactly for v in [1, 0x7f800000], the positive floats up to +∞; t ≥ 2³¹ (v = 0 or v negative) is
 * excluded by its top bit, the rest by the sign of t − 0x7f800000.
 */
export function positiveBit(v: number): number {
  const t = (v - 1) >>> 0;
  return ((t - 0x7f800000) >>> 31) & ((t >>> 31) ^ 1);
}

/**
 * network_weight_gaussian_init: conv/linear weights N(0, 1), biases 0, BatchNorm γ 1 and β 0. The draws of a weight
 * tensor are the counter-based normals (hash.ts `normalsAt`) of stream (seed, fnv1a(name)): fast, and reproducible
 * by an anchor.
 */
export function gaussianInit(net: Network, seed: number, std: (fanIn: number) => number = () => 1): ParamValues {
  const out: ParamValues = new Map();
  const fanIn = new Map(net.weightLayers.map((l) => [l.weight, weightsPerChannel(l)]));
  for (const p of net.params) {
    const size = p.shape.reduce((s, d) => s * d, 1);
    const f = fanIn.get(p.name);
    let a: Float32Array;
    if (f !== undefined) {
      a = normalsAt(streamKey(seed, fnv1a(p.name)), size, std(f));
    } else {
      a = new Float32Array(size);
      if (p.init.kind === 'const') a.fill(p.init.value);
      // every other parameter is a conv/linear bias: zero
    }
    out.set(p.name, a);
  }
  return out;
}

/** The SWAP score: the mean of `swapCount` over `repeats` Gaussian re-initialisations (see the module comment). */
export function swap(net: Network, batch: Batch, seed: number, repeats = SWAP_REPEATS): number {
  let total = 0;
  for (let r = 0; r < repeats; r++) total += swapCount(net, gaussianInit(net, deriveSeed(seed, `swap:${r}`)), batch);
  return total / repeats;
}
