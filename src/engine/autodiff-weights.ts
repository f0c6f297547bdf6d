import { isDepthwise, type Conv2dLayer, type LinearLayer } from '../networks/layers.js';
import { timed, type ADNode, type Recorder } from './autodiff-types.js';
import * as C from './conv.js';
import * as DW from './depthwise.js';
import * as O from './ops.js';
import type { Tensor } from './tensor.js';

/**
 * The operations with weights — convolutions (full and depthwise) and the classifier — as recorded by AdExec. All are
 * bilinear in (input, weight), which dual mode exploits (see autodiff.ts): with the weights as tangent direction,
 * ẏ = f(x + ẋ, W) and x̄̇ = Bᵀ(ȳ + ȳ̇; W), and GraSP's ⟨g_W, (H W)_W⟩ = ⟨f(ẋ, g_W), ȳ⟩ + ⟨f(x, g_W), ȳ̇⟩.
 */

/** f(a + b), freeing the temporary sum. */
function ofSum(a: Tensor, b: Tensor, f: (s: Tensor) => Tensor): Tensor {
  const s = O.add(a, b);
  const r = f(s);
  s.dispose();
  return r;
}

/** ⟨f(x), y⟩, freeing the intermediate f(x). */
function dotThrough(f: (x: Tensor) => Tensor, x: Tensor, y: Tensor): number {
  const c = f(x);
  const r = O.dot(c, y);
  c.dispose();
  return r;
}

export function recordConv(rec: Recorder, layer: Conv2dLayer, x: ADNode): ADNode {
  if (isDepthwise(layer)) return recordDepthwise(rec, layer, x);
  const k = layer.kernel;
  const w = rec.param(layer.weight, [k, k, layer.inChannels, layer.outChannels]);
  const bias = layer.bias ? rec.param(layer.bias, [layer.outChannels]) : undefined;
  const geom = C.squareGeom(k, layer.stride, layer.pad);
  const xv = x.v;
  const y = timed('conv.forward', () => C.conv2d(xv, w, geom, bias));
  let t: Tensor | null = null;
  const saved: Tensor[] = [y];
  if (rec.opts.dual) {
    if (x.t) {
      t = ofSum(x.v, x.t, (sum) => timed('conv.forward', () => C.conv2d(sum, w, geom)));
    } else {
      // ẋ = 0: ẏ = conv(x, Ẇ) = conv(x, W) = y − b.
      t = bias ? O.subtractChannel(y, rec.hostParam(layer.bias!)) : y;
    }
    if (t !== y) saved.push(t);
  }
  const out: ADNode = { v: y, t, needsGrad: true };
  rec.record({
    kind: 'conv',
    output: out,
    saved,
    backward: (g, mode, ctx) => {
      if (mode.fisher) ctx.fisher.set(layer.name, O.sampleChannelDot(y, g.v, y.shape[0], layer.outChannels));
      if (mode.paramGrads) {
        const gw = timed('conv.filterGrad', () => C.conv2dFilterGrad(xv, g.v, geom));
        if (mode.dual) {
          // ⟨g_W, Ẇ̄⟩ with Ẇ̄ = F(ẋ; ȳ) + F(x; ȳ̇) (F = filter gradient) equals
          // ⟨conv(ẋ, g_W), ȳ⟩ + ⟨conv(x, g_W), ȳ̇⟩: two forward-speed convolutions instead of two filter gradients.
          timed('conv.graspDot', () => {
            if (x.t) ctx.addGrasp(dotThrough((v) => C.conv2d(v, gw, geom), x.t, g.v));
            if (g.t) ctx.addGrasp(dotThrough((v) => C.conv2d(v, gw, geom), xv, g.t));
          });
        }
        ctx.addParamGrad(layer.weight, gw);
        if (mode.allParams && layer.bias) ctx.addParamGrad(layer.bias, Float32Array.from(O.channelSum(g.v, layer.outChannels)));
      }
      if (x.needsGrad && (mode.inputGrad || x !== rec.inputNode)) {
        const back = (gy: Tensor): Tensor => timed('conv.inputGrad', () => C.conv2dInputGrad(xv.shape, gy, w, geom));
        const gx = back(g.v);
        let gxt: Tensor | null = null;
        if (mode.dual) gxt = g.t ? ofSum(g.v, g.t, back) : gx; // Bᵀ(ȳ; Ẇ) with Ẇ = W
        ctx.accumulate(x, { v: gx, t: gxt });
      }
    },
  });
  return out;
}

/** Depthwise (dilated) conv: the same bilinear bookkeeping as `recordConv`, with the depthwise primitives. */
function recordDepthwise(rec: Recorder, layer: Conv2dLayer, x: ADNode): ADNode {
  if (layer.bias) throw new Error(`AdExec: depthwise conv ${layer.name} with bias is not supported`);
  const k = layer.kernel;
  const w = rec.param(layer.weight, [k, k, layer.inChannels]);
  const geom: DW.DepthwiseGeom = { k, stride: layer.stride, pad: layer.pad, dilation: layer.dilation ?? 1, exact: layer.depthwiseSum === 'double' };
  const fwd = (v: Tensor, f: Tensor): Tensor => timed('dwconv.forward', () => DW.depthwiseConv(v, f, geom));
  const y = fwd(x.v, w);
  let t: Tensor | null = null;
  const saved: Tensor[] = [y];
  if (rec.opts.dual) {
    if (x.t) {
      t = ofSum(x.v, x.t, (sum) => fwd(sum, w));
      saved.push(t);
    } else {
      t = y; // ẏ = conv(x, Ẇ) = conv(x, W)
    }
  }
  const out: ADNode = { v: y, t, needsGrad: true };
  rec.record({
    kind: 'dwconv',
    output: out,
    saved,
    backward: (g, mode, ctx) => {
      if (mode.fisher) ctx.fisher.set(layer.name, O.sampleChannelDot(y, g.v, y.shape[0], layer.outChannels));
      if (mode.paramGrads) {
        const gw = timed('dwconv.filterGrad', () => DW.depthwiseFilterGrad(x.v, g.v, geom));
        if (mode.dual) {
          const dot = (a: Tensor, b: Tensor): number => dotThrough((v) => fwd(v, gw), a, b);
          if (x.t) ctx.addGrasp(dot(x.t, g.v));
          if (g.t) ctx.addGrasp(dot(x.v, g.t));
        }
        ctx.addParamGrad(layer.weight, gw);
      }
      if (x.needsGrad && (mode.inputGrad || x !== rec.inputNode)) {
        const back = (gy: Tensor): Tensor => timed('dwconv.inputGrad', () => DW.depthwiseInputGrad(x.v.shape, gy, w, geom));
        const gx = back(g.v);
        let gxt: Tensor | null = null;
        if (mode.dual) gxt = g.t ? ofSum(g.v, g.t, back) : gx;
        ctx.accumulate(x, { v: gx, t: gxt });
      }
    },
  });
  return out;
}

export function recordLinear(rec: Recorder, layer: LinearLayer, x: ADNode): ADNode {
  const w = rec.param(layer.weight, [layer.outFeatures, layer.inFeatures]);
  const bias = layer.bias ? rec.param(layer.bias, [layer.outFeatures]) : undefined;
  const xv = x.v;
  const y = O.linear(xv, w, bias);
  let t: Tensor | null = null;
  if (rec.opts.dual) {
    if (x.t) t = ofSum(xv, x.t, (s) => O.linear(s, w));
    else t = bias ? O.subtractChannel(y, rec.hostParam(layer.bias!)) : y;
  }
  const out: ADNode = { v: y, t, needsGrad: true };
  rec.record({
    kind: 'linear',
    output: out,
    saved: t && t !== y ? [y, t] : [y],
    backward: (g, mode, ctx) => {
      if (mode.fisher) ctx.fisher.set(layer.name, O.sampleChannelDot(y, g.v, y.shape[0], layer.outFeatures));
      if (mode.paramGrads) {
        const { gw, gb } = O.linearWeightGrad(g.v, xv, Boolean(mode.allParams && layer.bias));
        if (mode.dual) {
          // ⟨g_W, ȳᵀẋ + ȳ̇ᵀx⟩ = ⟨ẋ·g_Wᵀ, ȳ⟩ + ⟨x·g_Wᵀ, ȳ̇⟩
          const dot = (a: Tensor, b: Tensor): number => dotThrough((v) => O.linear(v, gw), a, b);
          if (x.t) ctx.addGrasp(dot(x.t, g.v));
          if (g.t) ctx.addGrasp(dot(xv, g.t));
        }
        ctx.addParamGrad(layer.weight, gw);
        if (gb) ctx.addParamGrad(layer.bias!, gb);
      }
      if (x.needsGrad) {
        const gx = O.linearInputGrad(g.v, w);
        let gxt: Tensor | null = null;
        if (mode.dual) gxt = g.t ? ofSum(g.v, g.t, (s) => O.linearInputGrad(s, w)) : gx;
        ctx.accumulate(x, { v: gx, t: gxt });
      }
    },
  });
  return out;
}
