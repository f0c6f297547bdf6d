/**
 * One training step and batched inference of a `Network` on the engine's autodiff (engine/autodiff.ts):
 * forward in training mode (batch-statistics BatchNorm), mean cross-entropy, backward to every parameter.
 * Parameters stay in PyTorch layout on the host (the optimiser updates them in place); gradients are returned
 * in the same layout. Inference normalises with the running BatchNorm statistics, as `model.eval()` does.
 */
import { AdExec, type BnBatchStats, type BnRunningStats } from '../engine/autodiff.js';
import { disposeArena, inArena, Tensor } from '../engine/tensor.js';
import type { Network } from '../networks/layers.js';
import { execParams, hwioToOihw, nchwToNhwc, type ParamValues } from '../networks/params.js';
import { crossEntropySeed } from '../networks/loss.js';

export type BnRunning = Map<string, BnRunningStats>;

export interface StepResult {
  /** Mean cross-entropy of the batch. */
  loss: number;
  /** Images of the batch whose arg-max logit is the label. */
  correct: number;
  /** ∂loss/∂θ per parameter, PyTorch layout (a parameter the loss does not reach gets zeros). */
  grads: Map<string, Float32Array>;
  /** Batch statistics of every BatchNorm (for the running averages). */
  bnStats: Map<string, BnBatchStats>;
}

/** Number of rows of logits [n, k] whose first maximum is at the label. */
export function countCorrect(logits: Float32Array, labels: Int32Array, k: number): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[i * k + j] > logits[i * k + best]) best = j;
    if (best === labels[i]) correct++;
  }
  return correct;
}

/** Runs fn with an arena for the tensors it makes outside the executor (input, seed), freed afterwards. */
function withArena<T>(fn: () => T): T {
  const arena: Tensor[] = [];
  try {
    return inArena(arena, fn);
  } finally {
    disposeArena(arena);
  }
}

/** Forward + backward of one batch (NCHW images) in training mode. */
export function trainStep(net: Network, params: ParamValues, images: Float32Array, labels: Int32Array): StepResult {
  const [c, h, w] = net.inputShape;
  const n = labels.length;
  const k = net.numClasses;
  return withArena(() => {
    const bnStats = new Map<string, BnBatchStats>();
    const exec = new AdExec(execParams(net, params), { bnBatchStats: bnStats });
    const input = exec.input(Tensor.from(nchwToNhwc(images, n, c, h, w), [n, h, w, c]), false);
    const logits = net.forward(exec, input);
    const z = logits.v.dataSync();
    const seed = crossEntropySeed(z, null, labels, k);
    const r = exec.backward(
      logits,
      { v: seed.g, t: null },
      { dual: false, paramGrads: true, allParams: true, fisher: false, inputGrad: false, last: true },
      input,
    );
    const grads = new Map<string, Float32Array>();
    for (const p of net.params) {
      const g = r.paramGrads.get(p.name);
      if (g === undefined) {
        grads.set(p.name, new Float32Array(params.get(p.name)!.length));
      } else if (p.shape.length === 4) {
        const [o, i, kh, kw] = p.shape;
        grads.set(p.name, hwioToOihw(g, o, i, kh, kw));
      } else {
        grads.set(p.name, g);
      }
    }
    return { loss: seed.loss, correct: countCorrect(z, labels, k), grads, bnStats };
  });
}

/**
 * PyTorch's running-statistics update (momentum 0.1): mean ← (1−m)·mean + m·μ_B, var ← (1−m)·var + m·σ²_B·n/(n−1)
 * (the unbiased batch variance). Missing layers start at mean 0, variance 1 like a fresh BatchNorm.
 */
export function updateRunning(net: Network, running: BnRunning, batch: Map<string, BnBatchStats>, momentum = 0.1): void {
  for (const layer of net.batchNorms) {
    const b = batch.get(layer.name);
    if (b === undefined) continue;
    let r = running.get(layer.name);
    if (r === undefined) {
      r = { mean: new Float32Array(layer.channels), variance: new Float32Array(layer.channels).fill(1) };
      running.set(layer.name, r);
    }
    const unbias = b.count > 1 ? b.count / (b.count - 1) : 1;
    for (let k = 0; k < layer.channels; k++) {
      r.mean[k] = (1 - momentum) * r.mean[k] + momentum * b.mean[k];
      r.variance[k] = (1 - momentum) * r.variance[k] + momentum * b.variance[k] * unbias;
    }
  }
}

/** Fresh running statistics (mean 0, variance 1) for every BatchNorm of the network. */
export function freshRunning(net: Network): BnRunning {
  return new Map(net.batchNorms.map((l) => [l.name, { mean: new Float32Array(l.channels), variance: new Float32Array(l.channels).fill(1) }]));
}

/** Logits [n, classes] of a batch in inference mode (running BatchNorm statistics). */
export function predict(net: Network, params: ParamValues, running: BnRunning, images: Float32Array, n: number): Float32Array {
  const [c, h, w] = net.inputShape;
  return withArena(() => {
    const exec = new AdExec(execParams(net, params), { bnRunning: running });
    try {
      const input = exec.input(Tensor.from(nchwToNhwc(images, n, c, h, w), [n, h, w, c]), false);
      return net.forward(exec, input).v.dataSync();
    } finally {
      exec.dispose();
    }
  });
}
