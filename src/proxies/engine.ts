import * as tf from '@tensorflow/tfjs-core';
import { AdExec } from '../nn/autodiff.js';
import type { Network } from '../nn/layers.js';
import { nchwToNhwc, toTensors, type ParamValues } from '../nn/params.js';
import { crossEntropySeed } from '../nn/loss.js';
import { addBinaryCodeKernel } from './passes.js';
import type { Batch } from './types.js';

/** Which results the batch pass must produce. */
export interface MainPassNeeds {
  /** ∂L/∂W (grad_norm, snip). */
  grads: boolean;
  /** Per-sample, per-channel Σ a⊙∂L/∂a (fisher). */
  fisher: boolean;
  /** H·W (grasp; also gives ∂L/∂W). */
  hvp: boolean;
  /** ∂(Σ logits)/∂x (jacob_cov). */
  jacobian: boolean;
  /** ReLU code kernel (naswot). */
  naswot: boolean;
}

export interface MainPassResult {
  /** Per weight layer (net.weightLayers order), tfjs layout. */
  weights: Float32Array[];
  grads?: Float32Array[];
  /** Σ_W ⟨∂L/∂W, H·W⟩ = Wᵀ·H·g over conv/linear weights (GraSP = −this). */
  gHw?: number;
  /** Per weight layer: [N, C]. */
  channelGrads?: Float64Array[];
  jacobian?: Float32Array;
  naswotK?: Float64Array;
  loss?: number;
  /** Milliseconds: forward, Jacobian backward, loss backward. */
  times: { forward: number; jacobian: number; loss: number };
}

/**
 * One forward pass over the batch shared by every batch metric, then up to two backward passes over it: the
 * input Jacobian of Σ logits (jacob_cov) and the loss backward (grad_norm, snip, fisher; in dual mode also
 * H·W for grasp). NASWOT's codes are read during the forward.
 */
export function mainPass(net: Network, values: ParamValues, batch: Batch, needs: MainPassNeeds): MainPassResult {
  const [n, c, h, w] = batch.shape;
  const k = net.numClasses;
  const lossNeeded = needs.grads || needs.fisher || needs.hvp;
  const naswotK = needs.naswot ? new Float64Array(n * n) : undefined;
  const engine = tf.engine();
  engine.startScope();
  let exec: AdExec | undefined;
  try {
    const t0 = performance.now();
    const params = toTensors(net, values);
    exec = new AdExec(params, {
      dual: needs.hvp,
      keepOutputs: needs.fisher,
      torchBnRounding: true,
      onReluInput: naswotK ? (_s, x, nn) => addBinaryCodeKernel(x, nn, naswotK) : undefined,
    });
    const x = tf.tensor4d(nchwToNhwc(batch.x, n, c, h, w), [n, h, w, c]);
    const input = exec.input(x, needs.jacobian);
    const logits = net.forward(exec, input);
    const result: MainPassResult = { weights: [], naswotK, times: { forward: performance.now() - t0, jacobian: 0, loss: 0 } };
    if (needs.jacobian) {
      const t1 = performance.now();
      const r = exec.backward(logits, { v: tf.ones([n, k]), t: null }, { dual: false, paramGrads: false, fisher: false, inputGrad: true, last: !lossNeeded }, input);
      result.jacobian = r.inputGrad;
      result.times.jacobian = performance.now() - t1;
    }
    if (lossNeeded) {
      const t2 = performance.now();
      const seed = crossEntropySeed(logits.v.dataSync() as Float32Array, logits.t ? (logits.t.dataSync() as Float32Array) : null, batch.targets, k);
      const r = exec.backward(
        logits,
        { v: tf.tensor2d(seed.g, [n, k]), t: seed.gt ? tf.tensor2d(seed.gt, [n, k]) : null },
        { dual: needs.hvp, paramGrads: true, fisher: needs.fisher, inputGrad: false, last: true },
        input,
      );
      result.loss = seed.loss;
      result.weights = net.weightLayers.map((l) => Float32Array.from(params.get(l.weight)!.dataSync()));
      result.grads = net.weightLayers.map((l, i) => r.paramGrads.get(l.weight) ?? new Float32Array(result.weights[i].length));
      if (needs.hvp) result.gHw = r.gHw;
      if (needs.fisher) result.channelGrads = net.weightLayers.map((l) => r.fisher.get(l.name) ?? new Float64Array(0));
      result.times.loss = performance.now() - t2;
    }
    return result;
  } finally {
    // Without a backward pass (naswot alone) nothing else frees the forward's tensors.
    exec?.dispose();
    engine.endScope();
  }
}
