import type { ActivationSite } from '../networks/layers.js';
import * as A from './activation.js';
import type { ADNode, Recorder } from './autodiff-types.js';
import type { Tensor } from './tensor.js';

/**
 * The operations of mobile networks as recorded by AdExec: pointwise activations other than ReLU and
 * squeeze-and-excitation's channel scale, each with its forward tangent (dual mode) and backward.
 */

/** y = f(x): ẏ = f'(x)·ẋ; x̄ = f'(x)·ȳ, x̄̇ = f'(x)·ȳ̇ + f''(x)·ẋ·ȳ. */
export function recordActivation(rec: Recorder, site: ActivationSite, x: ADNode): ADNode {
  const kind = site.kind;
  const xv = x.v;
  const y = A.activation(kind, xv);
  const t = rec.opts.dual && x.t ? A.activationGrad(kind, xv, x.t) : null;
  const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
  rec.record({
    kind: 'activation',
    output: out,
    saved: t ? [y, t] : [y],
    backward: (g, mode, ctx) => {
      if (!x.needsGrad) return;
      const gx = A.activationGrad(kind, xv, g.v);
      let gxt: Tensor | null = null;
      if (mode.dual && x.t) gxt = A.activationGradDual(kind, xv, g.t, x.t, g.v);
      else if (mode.dual && g.t) gxt = A.activationGrad(kind, xv, g.t);
      ctx.accumulate(x, { v: gx, t: gxt });
    },
  });
  return out;
}

/**
 * y = x·s, s one value per image and channel: ẏ = ẋ·s + x·ṡ; x̄ = ȳ·s, s̄ = Σ_positions ȳ·x;
 * x̄̇ = ȳ̇·s + ȳ·ṡ, s̄̇ = Σ_positions (ȳ̇·x + ȳ·ẋ).
 */
export function recordChannelScale(rec: Recorder, x: ADNode, s: ADNode): ADNode {
  const xv = x.v;
  const sv = s.v;
  const y = A.channelScale(xv, sv);
  let t: Tensor | null = null;
  if (rec.opts.dual && (x.t || s.t)) {
    if (x.t && s.t) t = A.channelScale(x.t, sv, xv, s.t);
    else t = x.t ? A.channelScale(x.t, sv) : A.channelScale(xv, s.t!);
  }
  const out: ADNode = { v: y, t, needsGrad: x.needsGrad || s.needsGrad };
  rec.record({
    kind: 'channelScale',
    output: out,
    saved: t ? [y, t] : [y],
    backward: (g, mode, ctx) => {
      const dual = mode.dual && (g.t !== null || x.t !== null || s.t !== null);
      if (x.needsGrad) {
        const gx = A.channelScale(g.v, sv);
        let gxt: Tensor | null = null;
        if (dual) {
          if (g.t && s.t) gxt = A.channelScale(g.t, sv, g.v, s.t);
          else if (g.t) gxt = A.channelScale(g.t, sv);
          else if (s.t) gxt = A.channelScale(g.v, s.t);
        }
        ctx.accumulate(x, { v: gx, t: gxt });
      }
      if (s.needsGrad) {
        const gs = A.channelScaleGrad([[xv, g.v]], sv.shape);
        let gst: Tensor | null = null;
        if (dual) {
          const pairs: [Tensor, Tensor][] = [];
          if (g.t) pairs.push([xv, g.t]);
          if (x.t) pairs.push([x.t, g.v]);
          if (pairs.length) gst = A.channelScaleGrad(pairs, sv.shape);
        }
        ctx.accumulate(s, { v: gs, t: gst });
      }
    },
  });
  return out;
}
