import { weightsPerChannel, type Network } from '../networks/layers.js';
import { countMacs, countParams } from './cost.js';
import { corrcoef, slogdet, symmetricEigenvalues } from './linalg.js';
import { mainPass, type MainPassResult } from './main-pass.js';
import { synflowPass, synflowValue, type SynflowPassResult } from './synflow.js';
import type { MetricName, Proxy, ProxyContext } from './types.js';

export { synflowLog } from './synflow.js';

/**
 * The metrics, each computed from shared passes run once per network and batch: the batch pass (main-pass.ts: one
 * forward, then the input Jacobian and the loss backward, with the Hessian-vector product in dual mode) and SynFlow's
 * pass (synflow.ts).
 */

/** The one batch pass, computing what every requested batch metric needs. */
function main(ctx: ProxyContext): MainPassResult {
  const r = ctx.requested;
  return ctx.shared('batch', () =>
    mainPass(ctx.network, ctx.params, ctx.batch, {
      grads: r.has('grad_norm') || r.has('snip'),
      fisher: r.has('fisher'),
      hvp: r.has('grasp'),
      jacobian: r.has('jacob_cov'),
      naswot: r.has('naswot'),
    }),
  );
}

function synflowResult(ctx: ProxyContext): SynflowPassResult {
  return ctx.shared('synflow', () => synflowPass(ctx.network, ctx.params));
}

export const gradNorm: Proxy = {
  name: 'grad_norm',
  description: 'Σ_layers ‖∂L/∂W‖₂ over conv and linear weights (L = mean cross-entropy)',
  compute(ctx) {
    return main(ctx).grads!.reduce((s, g) => {
      let q = 0;
      for (let i = 0; i < g.length; i++) q += g[i] * g[i];
      return s + Math.sqrt(q);
    }, 0);
  },
};

export const snip: Proxy = {
  name: 'snip',
  description: 'Σ |W ⊙ ∂L/∂W|',
  compute(ctx) {
    const r = main(ctx);
    let s = 0;
    r.grads!.forEach((g, l) => {
      const w = r.weights[l];
      for (let i = 0; i < g.length; i++) s += Math.abs(w[i] * g[i]);
    });
    return s;
  },
};

export const grasp: Proxy = {
  name: 'grasp',
  description: 'Σ −W ⊙ (H g), g = ∂L/∂W, H the Hessian of L w.r.t. the weights',
  compute(ctx) {
    // gᵀ(H W) = Wᵀ(H g): H is symmetric.
    const r = main(ctx);
    if (r.gHw === undefined) throw new Error('grasp: loss pass ran without the Hessian-vector product');
    return -r.gHw;
  },
};

export const fisher: Proxy = {
  name: 'fisher',
  description: 'Σ_layers Σ_k ½·mean_n(Σ_spatial a⊙∂L/∂a)² · (weights feeding channel k)',
  compute(ctx) {
    const r = main(ctx);
    if (!r.channelGrads) throw new Error('fisher: loss pass ran without channel masks');
    return fisherFromChannelGrads(ctx.network, r.channelGrads, ctx.batch.shape[0]);
  },
};

export const synflow: Proxy = {
  name: 'synflow',
  description: 'Σ |θ ⊙ ∂R/∂θ| on the |θ| network without BatchNorm (except reduction blocks), input of ones',
  compute(ctx) {
    return synflowValue(synflowResult(ctx));
  },
};

export const jacobCov: Proxy = {
  name: 'jacob_cov',
  description: '−Σ (log(λ+1e-5) + 1/(λ+1e-5)), λ eigenvalues of the correlation of per-image input Jacobians',
  compute(ctx) {
    const j = main(ctx).jacobian;
    // No input gradient: the output does not depend on the input (a cell cut off by `none`). The reference's
    // Jacobian is then zero, its correlation matrix NaN and its eigen-decomposition fails: it records nan.
    if (!j) return NaN;
    const n = ctx.batch.shape[0];
    const corr = corrcoef(j, n, j.length / n);
    if (corr.some(Number.isNaN)) return NaN; // a constant per-image Jacobian: the same failure in the reference
    const ev = symmetricEigenvalues(corr, n);
    let s = 0;
    for (const l of ev) s += Math.log(l + 1e-5) + 1 / (l + 1e-5);
    return -s;
  },
};

export const naswot: Proxy = {
  name: 'naswot',
  description: 'log|det K|, K = Σ_ReLUs (c cᵀ + (1−c)(1−c)ᵀ) of binary activation codes',
  compute(ctx) {
    const k = main(ctx).naswotK;
    if (!k) throw new Error('naswot: input pass ran without ReLU codes');
    return slogdet(k, ctx.batch.shape[0]).logAbsDet;
  },
};

export const params: Proxy = {
  name: 'params',
  description: 'number of parameters',
  compute: (ctx) => countParams(ctx.network),
};

export const flops: Proxy = {
  name: 'flops',
  description: 'multiply-accumulates of conv and linear layers for one input image',
  compute: (ctx) => countMacs(ctx.network),
};

export const PROXIES: Record<MetricName, Proxy> = {
  grad_norm: gradNorm,
  snip,
  grasp,
  fisher,
  synflow,
  jacob_cov: jacobCov,
  naswot,
  params,
  flops,
};

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
