import type { BatchNormLayer, ReluSite } from '../networks/layers.js';
import type { ADNode, BnRunningStats, Recorder } from './autodiff-types.js';
import * as BN from './batchnorm.js';
import * as L from './layout.js';
import * as MP from './maxpool.js';
import * as O from './ops.js';
import { Tensor } from './tensor.js';

/**
 * The operations without weights as recorded by AdExec — BatchNorm, ReLU, pooling, sums, scaling by a constant,
 * and the DARTS-only max pooling, concatenation and crop — each with its forward tangent (dual mode) and backward.
 */

export function recordBatchNorm(rec: Recorder, layer: BatchNormLayer, x: ADNode): ADNode {
  const c = layer.channels;
  const gamma = layer.weight ? rec.hostParam(layer.weight) : undefined;
  const beta = layer.bias ? rec.hostParam(layer.bias) : undefined;
  const running = rec.opts.bnRunning;
  if (running) return batchNormInference(layer, x, running, gamma, beta);
  const fw = BN.bnForward(x.v, c, layer.eps, gamma, beta);
  const { xhat, r, mean, variance } = fw;
  const y = rec.opts.torchBnRounding ? torchConstantChannels(fw.y, c, layer.eps, mean, variance, gamma, beta) : fw.y;
  if (y !== fw.y && fw.y !== xhat) fw.y.dispose();
  rec.opts.bnBatchStats?.set(layer.name, { mean, variance, count: x.v.size / c });
  let xhatT: Tensor | null = null;
  let rho: Float64Array | null = null;
  let t: Tensor | null = null;
  if (rec.opts.dual && x.t) {
    ({ xhatT, rho } = BN.bnTangent(xhat, r, x.t, c));
    t = gamma ? O.affine(xhatT, c, gamma) : xhatT;
  }
  const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
  const saved = [xhat, ...(y !== xhat ? [y] : []), ...(xhatT ? [xhatT] : []), ...(t && t !== xhatT ? [t] : [])];
  rec.record({
    kind: 'batchNorm',
    output: out,
    saved,
    backward: (g, mode, ctx) => {
      const wantParams = mode.paramGrads && mode.allParams && (layer.weight || layer.bias);
      // Σȳ and Σx̂ȳ per channel: β's and γ's gradients, and the two means of the input gradient.
      const sums = wantParams || (x.needsGrad && !(mode.dual && (xhatT || g.t))) ? O.channelSumDot(xhat, g.v, c) : undefined;
      if (wantParams && sums) {
        if (layer.weight) ctx.addParamGrad(layer.weight, Float32Array.from(sums.dot));
        if (layer.bias) ctx.addParamGrad(layer.bias, Float32Array.from(sums.sum));
      }
      if (!x.needsGrad) return;
      if (mode.dual && (xhatT || g.t)) {
        const { gx, gxt } = BN.bnBackwardDual(xhat, xhatT, r, rho, g.v, g.t, c, gamma);
        ctx.accumulate(x, { v: gx, t: gxt });
      } else {
        ctx.accumulate(x, { v: BN.bnBackward(xhat, r, g.v, c, gamma, sums), t: null });
      }
    },
  });
  return out;
}

/**
 * PyTorch's forward value on channels whose batch variance is exactly 0 (see AdExecOptions.torchBnRounding): the
 * constant x = mean maps to f32(x·α + β) with one rounding (PyTorch's vectorised fma), α = f32(f32(invstd)·γ),
 * β = f32(bias − f32(mean)·α). Returns y itself when no channel is constant.
 */
function torchConstantChannels(y: Tensor, c: number, eps: number, mean: Float32Array, variance: Float64Array, gamma?: Float32Array, beta?: Float32Array): Tensor {
  let any = false;
  const s = new Float32Array(c).fill(1);
  const t = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    if (variance[k] !== 0) continue;
    any = true;
    const invstd = Math.fround(1 / Math.sqrt(variance[k] + eps));
    const alpha = Math.fround(invstd * (gamma ? gamma[k] : 1));
    const b = Math.fround((beta ? beta[k] : 0) - mean[k] * alpha);
    s[k] = 0;
    t[k] = Math.fround(mean[k] * alpha + b); // products of two float32 are exact in float64: one rounding, as fma
  }
  return any ? O.affine(y, c, s, t) : y; // y·1 + 0 is y bit for bit on the other channels
}

/** Eval-mode BatchNorm: one per-channel affine map from the running statistics; not differentiable here. */
function batchNormInference(layer: BatchNormLayer, x: ADNode, running: ReadonlyMap<string, BnRunningStats>, gamma?: Float32Array, beta?: Float32Array): ADNode {
  const st = running.get(layer.name);
  if (st === undefined) throw new Error(`AdExec: no running statistics for BatchNorm ${layer.name}`);
  const c = layer.channels;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const s = (gamma ? gamma[k] : 1) / Math.sqrt(st.variance[k] + layer.eps);
    scale[k] = s;
    shift[k] = (beta ? beta[k] : 0) - st.mean[k] * s;
  }
  return { v: O.affine(x.v, c, scale, shift), t: null, needsGrad: false };
}

/** `cache` maps an input node to its ReLU output: ReLU modules reading one node share one output and one backward. */
export function recordRelu(rec: Recorder, cache: Map<ADNode, ADNode>, site: ReluSite, x: ADNode): ADNode {
  if (rec.opts.onReluInput) rec.opts.onReluInput(site, x.v.view(), x.v.shape[0]);
  const cached = cache.get(x);
  if (cached) return cached; // gradients of all its consumers then sum before one shared backward
  const y = O.relu(x.v);
  const t = rec.opts.dual && x.t ? O.mask(x.v, x.t) : null;
  const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
  cache.set(x, out);
  rec.record({
    kind: 'relu',
    output: out,
    saved: t ? [y, t] : [y],
    backward: (g, mode, ctx) => {
      if (!x.needsGrad) return;
      const gx = O.mask(y, g.v);
      const gxt = mode.dual && g.t ? O.mask(y, g.t) : null;
      ctx.accumulate(x, { v: gx, t: gxt });
    },
  });
  return out;
}

/**
 * A linear map applied alike to values, tangents and (as its adjoint `back`) gradients: pooling, scaling, crops.
 * `back` must return a new tensor.
 */
function recordLinearMap(rec: Recorder, kind: string, x: ADNode, fwd: (v: Tensor) => Tensor, back: (g: Tensor) => Tensor): ADNode {
  const y = fwd(x.v);
  const t = rec.opts.dual && x.t ? fwd(x.t) : null;
  const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
  rec.record({
    kind,
    output: out,
    saved: t ? [y, t] : [y],
    backward: (g, mode, ctx) => {
      if (!x.needsGrad) return;
      ctx.accumulate(x, { v: back(g.v), t: mode.dual && g.t ? back(g.t) : null });
    },
  });
  return out;
}

export function recordAvgPool(rec: Recorder, x: ADNode, kernel: number, stride: number, pad: number): ADNode {
  return recordLinearMap(
    rec,
    'avgPool',
    x,
    (v) => O.avgPool(v, kernel, stride, pad),
    (g) => O.avgPoolBackward(g, x.v.shape, kernel, stride, pad),
  );
}

export function recordGlobalAvgPool(rec: Recorder, x: ADNode): ADNode {
  return recordLinearMap(rec, 'globalAvgPool', x, O.globalAvgPool, (g) => O.globalAvgPoolBackward(g, x.v.shape));
}

export function recordScale(rec: Recorder, x: ADNode, s: number): ADNode {
  return recordLinearMap(
    rec,
    'scale',
    x,
    (v) => O.scale(v, s),
    (g) => O.scale(g, s),
  );
}

export function recordCrop(rec: Recorder, x: ADNode, top: number, left: number): ADNode {
  return recordLinearMap(
    rec,
    'crop',
    x,
    (v) => L.cropTopLeft(v, top, left),
    (g) => L.uncropTopLeft(g, top, left),
  );
}

export function recordAdd(rec: Recorder, xs: ADNode[]): ADNode {
  if (xs.length === 1) return xs[0];
  const y = O.sum(xs.map((x) => x.v));
  let t: Tensor | null = null;
  if (rec.opts.dual) {
    const ts = xs.map((x) => x.t).filter((v): v is Tensor => v !== null);
    t = ts.length === 0 ? null : O.sum(ts);
  }
  const out: ADNode = { v: y, t, needsGrad: xs.some((x) => x.needsGrad) };
  rec.record({
    kind: 'add',
    output: out,
    saved: t ? [y, t] : [y],
    backward: (g, _mode, ctx) => {
      for (const x of xs) if (x.needsGrad) ctx.accumulate(x, g);
    },
  });
  return out;
}

export function recordMaxPool(rec: Recorder, x: ADNode, kernel: number, stride: number, pad: number): ADNode {
  const { y, arg } = MP.maxPoolWithArg(x.v, kernel, stride, pad);
  // The argmax is locally constant, so the tangent is the gathered input tangent.
  const t = rec.opts.dual && x.t ? MP.gatherArg(x.t, arg) : null;
  const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
  rec.record({
    kind: 'maxPool',
    output: out,
    saved: t ? [y, arg, t] : [y, arg],
    backward: (g, mode, ctx) => {
      if (!x.needsGrad) return;
      const back = (gy: Tensor): Tensor => MP.maxPoolBackward(gy, arg, x.v.shape, kernel, stride, pad);
      const gx = back(g.v);
      const gxt = mode.dual && g.t ? back(g.t) : null;
      ctx.accumulate(x, { v: gx, t: gxt });
    },
  });
  return out;
}

export function recordConcat(rec: Recorder, xs: ADNode[]): ADNode {
  if (xs.length === 1) return xs[0];
  const chans = xs.map((x) => x.v.shape[3]);
  const y = L.concatChannels(
    xs.map((x) => x.v),
    chans,
  );
  let t: Tensor | null = null;
  if (rec.opts.dual && xs.some((x) => x.t)) {
    t = L.concatChannels(
      xs.map((x) => x.t),
      chans,
      xs[0].v.shape.slice(0, 3),
    );
  }
  const out: ADNode = { v: y, t, needsGrad: xs.some((x) => x.needsGrad) };
  rec.record({
    kind: 'concat',
    output: out,
    saved: t ? [y, t] : [y],
    backward: (g, mode, ctx) => {
      let off = 0;
      xs.forEach((x, i) => {
        if (x.needsGrad) {
          const gv = L.sliceChannels(g.v, off, chans[i]);
          const gt = mode.dual && g.t ? L.sliceChannels(g.t, off, chans[i]) : null;
          ctx.accumulate(x, { v: gv, t: gt });
        }
        off += chans[i];
      });
    },
  });
  return out;
}

export function zerosLike(x: ADNode): ADNode {
  return { v: Tensor.zeros(x.v.shape), t: null, needsGrad: false };
}
