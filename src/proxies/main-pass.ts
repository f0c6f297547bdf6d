import { AdExec } from '../engine/autodiff.js';
import { disposeArena, inArena, Tensor } from '../engine/tensor.js';
import type { Network } from '../networks/layers.js';
import { crossEntropySeed } from '../networks/loss.js';
import { execParams, nchwToNhwc, type ParamValues } from '../networks/params.js';
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
  /** Per weight layer (net.weightLayers order), in the engine's layout (conv HWIO). */
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
  const t0 = performance.now();
  const params = execParams(net, values);
  const exec = new AdExec(params, {
    dual: needs.hvp,
    torchBnRounding: true,
    onReluInput: naswotK ? (_s, x, nn) => addBinaryCodeKernel(x, nn, naswotK) : undefined,
  });
  const arena: Tensor[] = [];
  try {
    return inArena(arena, () => {
      const input = exec.input(Tensor.from(nchwToNhwc(batch.x, n, c, h, w), [n, h, w, c]), needs.jacobian);
      const logits = net.forward(exec, input);
      const result: MainPassResult = { weights: [], naswotK, times: { forward: performance.now() - t0, jacobian: 0, loss: 0 } };
      if (needs.jacobian) {
        const t1 = performance.now();
        const ones = new Float32Array(n * k).fill(1);
        const r = exec.backward(logits, { v: ones, t: null }, { dual: false, paramGrads: false, fisher: false, inputGrad: true, last: !lossNeeded }, input);
        result.jacobian = r.inputGrad;
        result.times.jacobian = performance.now() - t1;
      }
      if (lossNeeded) {
        const t2 = performance.now();
        const seed = crossEntropySeed(logits.v.dataSync(), logits.t ? logits.t.dataSync() : null, batch.targets, k);
        const r = exec.backward(
          logits,
          { v: seed.g, t: seed.gt },
          { dual: needs.hvp, paramGrads: true, fisher: needs.fisher, inputGrad: false, last: true },
          input,
        );
        result.loss = seed.loss;
        result.weights = net.weightLayers.map((l) => params.get(l.weight)!);
        result.grads = net.weightLayers.map((l, i) => r.paramGrads.get(l.weight) ?? new Float32Array(result.weights[i].length));
        if (needs.hvp) result.gHw = r.gHw;
        if (needs.fisher) result.channelGrads = net.weightLayers.map((l) => r.fisher.get(l.name) ?? new Float64Array(0));
        result.times.loss = performance.now() - t2;
      }
      return result;
    });
  } finally {
    exec.dispose(); // what the last backward has not freed (nothing, unless it never ran)
    disposeArena(arena);
  }
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
