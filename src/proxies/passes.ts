import * as tf from '@tensorflow/tfjs-core';
import { SynflowExec, TrainExec, type Scaled } from '../nn/exec.js';
import { weightsPerChannel, type Network } from '../nn/layers.js';
import { scoped } from '../nn/host.js';
import { nchwToNhwc, toTensors, type ParamValues } from '../nn/params.js';
import type { Batch } from './types.js';

/**
 * Passes built on tfjs's own gradient tape: SynFlow (batch of one, log-rescaled; the default path), and the
 * `tape` engine of the batch metrics (loss pass with nested tf.grads for GraSP's H·g, input Jacobian pass),
 * kept as an independent cross-check of the manual engine (engine.ts) — it is several times slower and needs
 * several GB of wasm memory at batch 64. Also the host-side helpers both engines share (NASWOT codes, Fisher).
 */

export interface LossPassResult {
  /** Per weight layer (net.weightLayers order): ∂L/∂W in tfjs layout, flattened. */
  grads: Float32Array[];
  /** Per weight layer: W in the same layout. */
  weights: Float32Array[];
  /** Per weight layer: Σ_spatial a⊙∂L/∂a, [N, C] (Fisher), if requested. */
  channelGrads?: Float32Array[];
  /** Per weight layer: H·g, if requested. */
  hvp?: Float32Array[];
  loss: number;
}

function nhwcInput(batch: Batch): tf.Tensor4D {
  const [n, c, h, w] = batch.shape;
  return tf.tensor4d(nchwToNhwc(batch.x, n, c, h, w), [n, h, w, c]);
}

/** A copy through host memory: a constant to the tape, i.e. a stop-gradient. */
function stopGradient(t: tf.Tensor): tf.Tensor {
  return tf.tensor(t.dataSync() as Float32Array, t.shape, 'float32');
}

/** Mean softmax cross-entropy; the row max is a constant (it cancels analytically). */
export function crossEntropy(logits: tf.Tensor2D, onehot: tf.Tensor2D): tf.Scalar {
  const m = stopGradient(tf.max(logits, 1, true));
  const lse = tf.add(tf.log(tf.sum(tf.exp(tf.sub(logits, m)), 1)), tf.reshape(m, [-1]));
  const picked = tf.sum(tf.mul(logits, onehot), 1);
  return tf.mean(tf.sub(lse, picked)) as tf.Scalar;
}

/**
 * Gradients of f w.r.t. xs like tf.grads, but a tensor f does not depend on gets zeros (PyTorch's None, which
 * the metrics treat as zero) instead of an error.
 */
function gradsOrZeros(f: () => tf.Tensor, xs: tf.Tensor[]): tf.Tensor[] {
  const { grads } = tf.engine().gradients(f, xs, undefined, true);
  return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
}

function readAll(ts: tf.Tensor[]): Float32Array[] {
  return ts.map((t) => t.dataSync() as Float32Array);
}

export function lossPass(net: Network, values: ParamValues, batch: Batch, opts: { fisher: boolean; hvp: boolean }): LossPassResult {
  const [n] = batch.shape;
  return scoped(() => {
    const params = toTensors(net, values);
    const weights = net.weightLayers.map((l) => params.get(l.weight)!);
    const masks = opts.fisher
      ? net.weightLayers.map((l) => tf.ones(l.kind === 'conv' ? [n, 1, 1, l.outChannels] : [n, l.outFeatures]))
      : [];
    const maskOf = new Map(net.weightLayers.map((l, i) => [l, masks[i]]));
    const exec = new TrainExec(params, opts.fisher ? { outputMask: (l) => maskOf.get(l) } : {});
    const x = nhwcInput(batch);
    const onehot = tf.cast(tf.oneHot(tf.tensor1d(batch.targets, 'int32'), net.numClasses), 'float32') as tf.Tensor2D;
    let loss = NaN;
    const lossFn = (): tf.Scalar => {
      const l = crossEntropy(net.forward(exec, x) as tf.Tensor2D, onehot);
      loss = l.dataSync()[0];
      return l;
    };
    const wrt = [...weights, ...masks];
    if (!opts.hvp) {
      const g = gradsOrZeros(lossFn, wrt);
      return {
        grads: readAll(g.slice(0, weights.length)),
        weights: readAll(weights),
        channelGrads: opts.fisher ? readAll(g.slice(weights.length)) : undefined,
        loss,
      };
    }
    let grads: Float32Array[] = [];
    let channelGrads: Float32Array[] | undefined;
    const hvp = gradsOrZeros(() => {
      const g = gradsOrZeros(lossFn, wrt);
      const gw = g.slice(0, weights.length);
      grads = readAll(gw);
      if (opts.fisher) channelGrads = readAll(g.slice(weights.length));
      // ∂/∂W of Σ_l ⟨stop(g_l), g_l⟩ = H·g.
      return gw.map((gl) => tf.sum(tf.mul(stopGradient(gl), gl))).reduce((a, b) => tf.add(a, b)) as tf.Scalar;
    }, weights);
    return { grads, weights: readAll(weights), channelGrads, hvp: readAll(hvp), loss };
  });
}

export interface InputPassResult {
  /** ∂(Σ logits)/∂x per image, [N, H·W·C] (NHWC feature order; correlations do not depend on it). */
  jacobian?: Float32Array;
  /** NASWOT kernel Σ_ReLUs (c cᵀ + (1−c)(1−c)ᵀ), N × N, float64. */
  naswotK?: Float64Array;
}

/**
 * Agreement counts of binary codes c_i = (x_i > 0) over F features for every pair of the N rows:
 * (c cᵀ + (1−c)(1−c)ᵀ)_ij = F − popcount(c_i xor c_j), added into k (row-major N × N).
 */
export function addBinaryCodeKernel(x: Float32Array, n: number, k: Float64Array): void {
  const f = x.length / n;
  const words = Math.ceil(f / 32);
  const bits = new Uint32Array(n * words);
  for (let i = 0; i < n; i++) {
    const base = i * f;
    const wbase = i * words;
    for (let j = 0; j < f; j++) {
      if (x[base + j] > 0) bits[wbase + (j >>> 5)] |= 1 << (j & 31);
    }
  }
  for (let i = 0; i < n; i++) {
    k[i * n + i] += f;
    for (let j = i + 1; j < n; j++) {
      let diff = 0;
      for (let w = 0; w < words; w++) diff += popcount32(bits[i * words + w] ^ bits[j * words + w]);
      const agree = f - diff;
      k[i * n + j] += agree;
      k[j * n + i] += agree;
    }
  }
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function inputPass(net: Network, values: ParamValues, batch: Batch, opts: { jacobian: boolean; naswot: boolean }): InputPassResult {
  const [n] = batch.shape;
  const k = opts.naswot ? new Float64Array(n * n) : undefined;
  return scoped(() => {
    const params = toTensors(net, values);
    const exec = new TrainExec(params, k ? { onReluInput: (_s, x) => addBinaryCodeKernel(x.dataSync() as Float32Array, n, k) } : {});
    const x = nhwcInput(batch);
    if (!opts.jacobian) {
      net.forward(exec, x);
      return { naswotK: k };
    }
    const g = tf.grad((xx: tf.Tensor) => tf.sum(net.forward(exec, xx)))(x);
    return { jacobian: g.dataSync() as Float32Array, naswotK: k };
  });
}

export interface SynflowPassResult {
  /** Per weight layer: Σ |θ ⊙ ∂R̂/∂θ| in float64 (R̂ = R·e^(−logScale)). */
  layerSums: number[];
  /** Natural log of the scale factor: synflow = e^logScale · Σ layerSums. */
  logScale: number;
}

export function synflowPass(net: Network, values: ParamValues): SynflowPassResult {
  const [c, h, w] = net.inputShape;
  return scoped(() => {
    const params = toTensors(net, values, (v) => v.map(Math.abs));
    const weights = net.weightLayers.map((l) => params.get(l.weight)!);
    const exec = new SynflowExec(params);
    const x: Scaled = { t: tf.ones([1, h, w, c]), ls: 0 };
    let logScale = 0;
    const g = gradsOrZeros(() => {
      const out = net.forward(exec, x);
      logScale = out.ls;
      return tf.sum(out.t) as tf.Scalar;
    }, weights);
    const gs = readAll(g);
    const ws = readAll(weights);
    const layerSums = gs.map((gl, i) => {
      const wl = ws[i];
      let s = 0;
      for (let j = 0; j < gl.length; j++) s += Math.abs(wl[j] * gl[j]);
      return s;
    });
    return { layerSums, logScale };
  });
}

/** Fisher from per-sample channel values v [N, C] of each layer (see README): Σ_k ½·mean_n v² · weights per channel. */
export function fisherFromChannelGrads(net: Network, channelGrads: ArrayLike<number>[], n: number): number {
  let total = 0;
  net.weightLayers.forEach((layer, li) => {
    const v = channelGrads[li];
    const ch = v.length / n;
    const per = weightsPerChannel(layer);
    for (let k = 0; k < ch; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += v[i * ch + k] * v[i * ch + k];
      total += 0.5 * (s / n) * per;
    }
  });
  return total;
}
