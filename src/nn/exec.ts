import * as tf from '@tensorflow/tfjs-core';
import { depthwiseFilter, depthwiseForward, isDepthwise } from './dartsops.js';
import type { BatchNormLayer, Conv2dLayer, Exec, LinearLayer, ReluSite, WeightLayer } from './layers.js';

function param(params: Map<string, tf.Tensor>, name: string): tf.Tensor {
  const t = params.get(name);
  if (t === undefined) throw new Error(`missing parameter tensor ${name}`);
  return t;
}

/** conv2d, or the depthwise (possibly dilated) conv of a grouped layer; both differentiable on the tape. */
function convOp(layer: Conv2dLayer, x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  if (isDepthwise(layer)) return depthwiseForward(x, depthwiseFilter(w), layer.stride, layer.pad, layer.dilation ?? 1);
  return tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, layer.stride, layer.pad);
}

function cropOp(x: tf.Tensor, top: number, left: number): tf.Tensor {
  const [n, h, w, c] = x.shape;
  return tf.slice(x, [0, top, left, 0], [n, h - top, w - left, c]);
}

/** Optional observation points of the training-mode executor. */
export interface TrainHooks {
  /**
   * A tensor (ones) the layer's output is multiplied by — [N,1,1,C] for convs, [N,K] for linear — so that
   * ∂L/∂mask = Σ_spatial a ⊙ ∂L/∂a per sample and channel (Fisher), at the cost of one multiply.
   */
  outputMask?(layer: WeightLayer): tf.Tensor | undefined;
  /** Called with every ReLU's input (NASWOT). */
  onReluInput?(site: ReluSite, x: tf.Tensor): void;
}

/**
 * PyTorch training-mode semantics in float32 tfjs ops: BatchNorm normalises with the batch mean and biased
 * variance (two-pass), conv weights are HWIO tensors, linear weights [out, in].
 */
export class TrainExec implements Exec<tf.Tensor> {
  constructor(
    private readonly params: Map<string, tf.Tensor>,
    private readonly hooks: TrainHooks = {},
  ) {}

  conv(layer: Conv2dLayer, x: tf.Tensor): tf.Tensor {
    let y: tf.Tensor = convOp(layer, x, param(this.params, layer.weight));
    if (layer.bias) y = tf.add(y, param(this.params, layer.bias));
    const m = this.hooks.outputMask?.(layer);
    return m ? tf.mul(y, m) : y;
  }

  linear(layer: LinearLayer, x: tf.Tensor): tf.Tensor {
    let y: tf.Tensor = tf.matMul(x as tf.Tensor2D, param(this.params, layer.weight) as tf.Tensor2D, false, true);
    if (layer.bias) y = tf.add(y, param(this.params, layer.bias));
    const m = this.hooks.outputMask?.(layer);
    return m ? tf.mul(y, m) : y;
  }

  batchNorm(layer: BatchNormLayer, x: tf.Tensor): tf.Tensor {
    return batchNormTrain(x, layer.eps, layer.weight ? param(this.params, layer.weight) : undefined, layer.bias ? param(this.params, layer.bias) : undefined);
  }

  relu(site: ReluSite, x: tf.Tensor): tf.Tensor {
    this.hooks.onReluInput?.(site, x);
    return tf.relu(x);
  }

  avgPool(x: tf.Tensor, kernel: number, stride: number, pad: number): tf.Tensor {
    return tf.avgPool(x as tf.Tensor4D, kernel, stride, pad);
  }

  add(xs: tf.Tensor[]): tf.Tensor {
    return xs.reduce((a, b) => tf.add(a, b));
  }

  zerosLike(x: tf.Tensor): tf.Tensor {
    return tf.zerosLike(x);
  }

  globalAvgPool(x: tf.Tensor): tf.Tensor {
    return tf.mean(x, [1, 2]);
  }

  maxPool(x: tf.Tensor, kernel: number, stride: number, pad: number): tf.Tensor {
    return tf.maxPool(x as tf.Tensor4D, kernel, stride, pad);
  }

  concat(xs: tf.Tensor[]): tf.Tensor {
    return xs.length === 1 ? xs[0] : tf.concat(xs, 3);
  }

  crop(x: tf.Tensor, top: number, left: number): tf.Tensor {
    return cropOp(x, top, left);
  }
}

/** Training-mode BatchNorm over all but the channel axis; eps may be a number or a scalar tensor. */
export function batchNormTrain(x: tf.Tensor, eps: number, gamma?: tf.Tensor, beta?: tf.Tensor): tf.Tensor {
  const axes = [...Array(x.rank - 1).keys()];
  const mean = tf.mean(x, axes);
  const xc = tf.sub(x, mean);
  const variance = tf.mean(tf.square(xc), axes);
  let y = tf.mul(xc, tf.rsqrt(tf.add(variance, eps)));
  if (gamma) y = tf.mul(y, gamma);
  if (beta) y = tf.add(y, beta);
  return y;
}

/** A float32 tensor standing for t·e^ls (SynFlow values overflow float32 otherwise). */
export interface Scaled {
  t: tf.Tensor;
  ls: number;
}

/** Largest |value|, read synchronously (a constant, outside the differentiated graph). */
function maxAbs(t: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]);
}

/**
 * SynFlow's network: every parameter is |θ| (the caller passes abs-valued tensors), BatchNorm is removed except
 * where `keepInSynflow`, training mode, input of ones. Values grow by orders of magnitude per layer, so each
 * activation is kept as t·e^ls: every conv/linear output is divided by its max |value| and the log of that
 * factor carried in float64. With the factors held constant the scaled graph computes exactly R·e^(−ls_out) as a
 * function of the weights (biases are divided by the current scale, BatchNorm's eps by the scale squared,
 * sums align scales), so ∂R/∂θ = e^(ls_out)·∂R̂/∂θ.
 */
export class SynflowExec implements Exec<Scaled> {
  constructor(private readonly params: Map<string, tf.Tensor>) {}

  private renormalise(t: tf.Tensor, ls: number): Scaled {
    const m = maxAbs(t);
    if (!(m > 0) || !Number.isFinite(m)) {
      if (!Number.isFinite(m)) throw new Error('synflow: non-finite activation despite rescaling');
      return { t, ls };
    }
    return { t: tf.mul(t, 1 / m), ls: ls + Math.log(m) };
  }

  private bias(name: string, ls: number): tf.Tensor {
    // b / e^ls in float32; below float32's range the bias is negligible next to the activation anyway.
    return tf.mul(param(this.params, name), Math.exp(-ls));
  }

  conv(layer: Conv2dLayer, x: Scaled): Scaled {
    let y: tf.Tensor = convOp(layer, x.t, param(this.params, layer.weight));
    if (layer.bias) y = tf.add(y, this.bias(layer.bias, x.ls));
    return this.renormalise(y, x.ls);
  }

  linear(layer: LinearLayer, x: Scaled): Scaled {
    let y: tf.Tensor = tf.matMul(x.t as tf.Tensor2D, param(this.params, layer.weight) as tf.Tensor2D, false, true);
    if (layer.bias) y = tf.add(y, this.bias(layer.bias, x.ls));
    return this.renormalise(y, x.ls);
  }

  batchNorm(layer: BatchNormLayer, x: Scaled): Scaled {
    if (!layer.keepInSynflow) return x;
    // BN(t·e^ls; eps) = BN(t; eps·e^(−2ls)); the output is unscaled. The floor keeps a zero variance finite.
    const eps = Math.max(layer.eps * Math.exp(-2 * x.ls), 1e-35);
    const y = batchNormTrain(
      x.t,
      eps,
      layer.weight ? param(this.params, layer.weight) : undefined,
      layer.bias ? param(this.params, layer.bias) : undefined,
    );
    return { t: y, ls: 0 };
  }

  relu(_site: ReluSite, x: Scaled): Scaled {
    return { t: tf.relu(x.t), ls: x.ls };
  }

  avgPool(x: Scaled, kernel: number, stride: number, pad: number): Scaled {
    return { t: tf.avgPool(x.t as tf.Tensor4D, kernel, stride, pad), ls: x.ls };
  }

  add(xs: Scaled[]): Scaled {
    const ls = Math.max(...xs.map((x) => x.ls));
    const t = xs.map((x) => (x.ls === ls ? x.t : tf.mul(x.t, Math.exp(x.ls - ls)))).reduce((a, b) => tf.add(a, b));
    return { t, ls };
  }

  zerosLike(x: Scaled): Scaled {
    return { t: tf.zerosLike(x.t), ls: x.ls };
  }

  globalAvgPool(x: Scaled): Scaled {
    return { t: tf.mean(x.t, [1, 2]), ls: x.ls };
  }

  maxPool(x: Scaled, kernel: number, stride: number, pad: number): Scaled {
    return { t: tf.maxPool(x.t as tf.Tensor4D, kernel, stride, pad), ls: x.ls };
  }

  concat(xs: Scaled[]): Scaled {
    if (xs.length === 1) return xs[0];
    // Parts align to the largest scale, as in add.
    const ls = Math.max(...xs.map((x) => x.ls));
    return { t: tf.concat(xs.map((x) => (x.ls === ls ? x.t : tf.mul(x.t, Math.exp(x.ls - ls)))), 3), ls };
  }

  crop(x: Scaled, top: number, left: number): Scaled {
    return { t: cropOp(x.t, top, left), ls: x.ls };
  }
}
