import { Tensor } from '../engine/tensor.js';
import type { Network } from '../networks/layers.js';
import { crossEntropySeed } from '../networks/loss.js';
import type { ParamValues } from '../networks/params.js';
import { engineParams, withForward } from './forward.js';
import type { Batch } from './types.js';

/**
 * ZiCo (Li et al., ICLR 2023; SLDGroup/ZiCo `compute_zico.py`, and AZ-NAS's NB201 port of it):
 *
 *   zico = Σ_layers log Σ_{θ: σ_θ ≠ 0} mean_b |g_θ,b| / σ_θ
 *
 * over the weight tensors of every Conv2d and Linear layer, where g_θ,b = ∂L/∂θ on batch b (L = mean cross-entropy,
 * labels of the batch), σ_θ the population standard deviation over the batches (numpy's std). Choices, as in the
 * official code: the network's own (PyTorch-default) weights; BatchNorm in training mode; gradients zeroed before each
 * batch (the zero-cost-nas port that accumulates them across batches is not followed); a layer whose sum is 0 (every
 * gradient equal across batches, or no gradient) is left out; at least two batches — the official NB201 setting is two
 * batches of 64 training images, which is what scoring jobs hand in (the scoring batch and the next 64 images of the
 * same seeded shuffle).
 */
export function zicoFromGrads(perBatch: readonly (readonly Float32Array[])[]): number {
  const nb = perBatch.length;
  if (nb < 2) throw new RangeError(`zico needs at least two batches, got ${nb}`);
  let total = 0;
  const layers = perBatch[0].length;
  for (let l = 0; l < layers; l++) {
    const gs = perBatch.map((b) => b[l]);
    const size = gs[0].length;
    let s = 0;
    for (let i = 0; i < size; i++) {
      let mean = 0;
      let meanAbs = 0;
      for (let b = 0; b < nb; b++) {
        mean += gs[b][i];
        meanAbs += Math.abs(gs[b][i]);
      }
      mean /= nb;
      meanAbs /= nb;
      let v = 0;
      for (let b = 0; b < nb; b++) v += (gs[b][i] - mean) ** 2;
      const sd = Math.sqrt(v / nb);
      if (sd !== 0) s += meanAbs / sd;
    }
    if (s !== 0) total += Math.log(s);
  }
  return total;
}

/** ∂L/∂W of every conv/linear weight (net.weightLayers order; zeros where no gradient reaches) on one batch. */
export function weightGrads(net: Network, params: Map<string, Float32Array>, batch: Batch): Float32Array[] {
  const [n] = batch.shape;
  const k = net.numClasses;
  return withForward(net, params, batch.x, n, {}, ({ exec, input, logits }) => {
    const seed = crossEntropySeed(logits.v.dataSync(), null, batch.targets, k);
    const r = exec.backward(
      logits,
      { v: Tensor.from(seed.g, [n, k]), t: null },
      { dual: false, paramGrads: true, fisher: false, inputGrad: false, last: true },
      input,
    );
    return net.weightLayers.map((l) => r.paramGrads.get(l.weight) ?? new Float32Array(params.get(l.weight)!.length));
  });
}

/** ZiCo of a network with the given weights over the given batches (see zicoFromGrads). */
export function zico(net: Network, params: ParamValues, batches: readonly Batch[]): number {
  const p = engineParams(net, params);
  return zicoFromGrads(batches.map((b) => weightGrads(net, p, b)));
}
