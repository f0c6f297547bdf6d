import { weightsPerChannel, type Network } from '../networks/layers.js';
import { countMacs, countParams } from './cost.js';
import { azNas, type AzScores } from './aznas.js';
import { corrcoef, slogdet, symmetricEigenvalues } from './linalg.js';
import { mainPass, type MainPassResult } from './main-pass.js';
import { meco } from './meco.js';
import { swap } from './swap.js';
import { synflowPass, synflowValue, type SynflowPassResult } from './synflow.js';
import type { Batch, MetricName, Proxy, ProxyContext } from './types.js';
import { zico } from './zico.js';

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
  description: 'number of trainable parameters (every conv, linear and BatchNorm weight and bias)',
  compute: (ctx) => countParams(ctx.network),
};

export const flops: Proxy = {
  name: 'flops',
  description: 'multiply-accumulates of conv and linear layers for one input image',
  compute: (ctx) => countMacs(ctx.network),
};

function halves(b: Batch): Batch[] {
  const [n, c, h, w] = b.shape;
  if (n < 2) throw new RangeError('zico: needs two batches, or a batch of at least two images to split');
  const k = Math.floor(n / 2);
  const per = c * h * w;
  const part = (from: number, to: number): Batch => ({ shape: [to - from, c, h, w], x: b.x.subarray(from * per, to * per), targets: b.targets.subarray(from, to) });
  return [part(0, k), part(k, 2 * k)];
}

function azResult(ctx: ProxyContext): AzScores {
  return ctx.shared('aznas', () => azNas(ctx.network, ctx.batch.shape[0], ctx.seed));
}

export const zicoProxy: Proxy = {
  name: 'zico',
  description: 'Σ_layers log Σ mean_b|∂L/∂W| / std_b(∂L/∂W) over two batches (ZiCo)',
  compute(ctx) {
    // Without a second batch (a fixture's single batch), the two halves of the one given, as zero-cost-nas's port of
    // ZiCo splits its batch (split_data=2); scoring jobs always hand in two full batches.
    const batches = ctx.extraBatches.length > 0 ? [ctx.batch, ...ctx.extraBatches] : halves(ctx.batch);
    return zico(ctx.network, ctx.params, batches);
  },
};

export const mecoProxy: Proxy = {
  name: 'meco',
  description: 'Σ_modules λ_min of the channel correlation matrix of one image\'s feature maps (MeCo)',
  compute: (ctx) => meco(ctx.network, ctx.params, ctx.batch),
};

export const swapProxy: Proxy = {
  name: 'swap',
  description: 'distinct ReLU activation patterns over 16 images, mean over 32 N(0,1) weight draws (SWAP)',
  compute: (ctx) => swap(ctx.network, ctx.batch, ctx.seed),
};

export const azExpressivity: Proxy = {
  name: 'az_expressivity',
  description: 'Σ_cells entropy of the channel-covariance spectrum of each cell\'s output, noise input (AZ-NAS)',
  compute: (ctx) => azResult(ctx).expressivity,
};

export const azProgressivity: Proxy = {
  name: 'az_progressivity',
  description: 'min over consecutive cells of the gain in that entropy (AZ-NAS)',
  compute: (ctx) => azResult(ctx).progressivity,
};

export const azTrainability: Proxy = {
  name: 'az_trainability',
  description: 'mean over cells of −σ − 1/σ + 2, σ the top singular value of a cell\'s Jacobian sketch (AZ-NAS)',
  compute: (ctx) => azResult(ctx).trainability,
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
  zico: zicoProxy,
  meco: mecoProxy,
  swap: swapProxy,
  az_expressivity: azExpressivity,
  az_progressivity: azProgressivity,
  az_trainability: azTrainability,
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
