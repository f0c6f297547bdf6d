import * as tf from '@tensorflow/tfjs-core';
import * as D from './dartsops.js';
import * as F from './fastops.js';
import { hostOp, hostRead } from './host.js';
import * as H from './hostops.js';
import { conv2dFilterGrad, conv2dInputGrad } from './kernels.js';
import type { BatchNormLayer, Conv2dLayer, Exec, LinearLayer, ReluSite } from './layers.js';

/**
 * Manual reverse-mode differentiation over the network-level operations of `Exec` (conv, BatchNorm, ReLU,
 * pooling, sums, linear), with optional forward-mode tangents ("dual" numbers) for Hessian-vector products.
 *
 * Why not tfjs's tape: it keeps a copy of every saved tensor and runs BatchNorm as a chain of small kernels,
 * which made one NB201 forward/backward at batch 64 take >10 s and run out of wasm memory; nested tf.grads for
 * GraSP needs several times more. Here convolutions go to tfjs (XNNPACK) and everything between them is a
 * SIMD or JavaScript pass over wasm memory (fastops.ts); only what the backward pass needs is kept.
 *
 * Dual mode: the conv/linear weights carry the tangent Ẇ = W (every other parameter none). Running the backward
 * pass on (value, tangent) pairs then yields ∂L/∂W and its directional derivative H·W (Pearlmutter's R-op);
 * GraSP's Σ W⊙(H g) equals gᵀ(H W) because H is symmetric, so one pass gives both g and the product; H·W is
 * never formed: per layer ⟨g_W, (H W)_W⟩ = ⟨conv(ẋ, g_W), ȳ⟩ + ⟨conv(x, g_W), ȳ̇⟩.
 * Because the tangent direction is W itself and conv is bilinear, ẏ = conv(ẋ, W) + conv(x, W) = conv(x + ẋ, W)
 * and x̄̇ = Bᵀ(ȳ̇; W) + Bᵀ(ȳ; W) = Bᵀ(ȳ + ȳ̇; W): one extra convolution each way instead of two.
 */

export interface ADNode {
  v: tf.Tensor;
  /** Tangent; null means zero. */
  t: tf.Tensor | null;
  /** Whether gradients must flow into this node. */
  needsGrad: boolean;
}

/** A gradient (and its tangent) flowing into a node. */
export interface Grad {
  v: tf.Tensor;
  t: tf.Tensor | null;
}

export interface BackwardMode {
  /** Propagate tangents (the forward must have run in dual mode). */
  dual: boolean;
  /** Compute conv/linear weight gradients. */
  paramGrads: boolean;
  /** Record Σ_positions a⊙∂/∂a per sample and channel of every conv/linear output. */
  fisher: boolean;
  /** Compute the gradient w.r.t. the network input. */
  inputGrad: boolean;
  /** Free forward tensors as soon as they are no longer needed (the last backward pass over this forward). */
  last: boolean;
  /** With paramGrads: also the biases' and BatchNorm γ/β gradients (training needs every parameter). */
  allParams?: boolean;
}

export interface BackwardResult {
  /** Per weight tensor name: ∂/∂W (tfjs layout), host copies. */
  paramGrads: Map<string, Float32Array>;
  /** Dual mode: Σ over conv/linear weights of ⟨∂L/∂W, H·W⟩ = Wᵀ·H·g (H symmetric), i.e. −GraSP. */
  gHw: number;
  inputGrad?: Float32Array;
  /** Per layer name: [N, C] of Σ_positions a⊙∂/∂a. */
  fisher: Map<string, Float64Array>;
}

interface Entry {
  /** Operation kind, for profiling. */
  kind: string;
  output: ADNode;
  backward(g: Grad, mode: BackwardMode, ctx: BackwardContext): void;
  /** Tensors private to this entry, freed after its last backward. */
  saved: tf.Tensor[];
}

interface BackwardContext {
  accumulate(node: ADNode, g: Grad): void;
  addParamGrad(name: string, v: tf.Tensor): void;
  /** Adds to Σ_W ⟨∂L/∂W, H·W⟩ (dual mode). */
  addGrasp(v: number): void;
  fisher: Map<string, Float64Array>;
}

export interface AdExecOptions {
  dual: boolean;
  /** Keep conv/linear outputs for Fisher. */
  keepOutputs: boolean;
  /** Called with every ReLU input (host view valid only during the call) and the batch size. */
  onReluInput?: (site: ReluSite, x: Float32Array, n: number) => void;
  /** Training: the batch statistics every BatchNorm used, by layer name (for running-statistics updates). */
  bnBatchStats?: Map<string, BnBatchStats>;
  /** Training: BatchNorm statistics by the SIMD kernels (float32 squares; the metrics keep the exact path). */
  fastBatchNorm?: boolean;
  /** Inference: normalise with these running statistics instead of the batch's (no backward through BN then). */
  bnRunning?: ReadonlyMap<string, BnRunningStats>;
}

export interface BnBatchStats {
  mean: Float32Array;
  /** Biased variance. */
  variance: Float64Array;
  /** Values per channel the statistics were taken over (N·H·W). */
  count: number;
}

export interface BnRunningStats {
  mean: Float32Array;
  variance: Float32Array;
}

/** Accumulated milliseconds per operation kind while `opTimes.enabled` (bench/profiling only). */
export const opTimes = { enabled: false, ms: new Map<string, number>() };

function timed<T>(kind: string, f: () => T): T {
  if (!opTimes.enabled) return f();
  const t0 = performance.now();
  const r = f();
  opTimes.ms.set(kind, (opTimes.ms.get(kind) ?? 0) + performance.now() - t0);
  return r;
}

function hostUnary(x: tf.Tensor, fn: (a: Float32Array, out: Float32Array) => void, shape: number[] = x.shape): tf.Tensor {
  return hostOp([x], [shape], ([a], [o]) => fn(a, o))[0];
}


/** Σ a⊙b in float64 over two same-sized tensors. */
function dotTensors(a: tf.Tensor, b: tf.Tensor): number {
  let s = 0;
  hostOp([a, b], [], ([x, y]) => {
    for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  });
  return s;
}

/** ⟨f(x), y⟩, freeing the intermediate f(x). */
function dotThrough(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, y: tf.Tensor): number {
  const c = f(x);
  const r = dotTensors(c, y);
  c.dispose();
  return r;
}

/** ⟨conv(x, filter), y⟩ with the layer's stride and padding. */
function convDot(x: tf.Tensor4D, filter: tf.Tensor4D, layer: Conv2dLayer, y: tf.Tensor): number {
  return dotThrough((v) => tf.conv2d(v as tf.Tensor4D, filter, layer.stride, layer.pad), x, y);
}

function addTensors(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return F.add(a, b);
}

/** f(a + b), freeing the temporary sum. */
function ofSum(a: tf.Tensor, b: tf.Tensor, f: (s: tf.Tensor) => tf.Tensor): tf.Tensor {
  const s = addTensors(a, b);
  const r = f(s);
  s.dispose();
  return r;
}

/** Fisher term of a channels-last output: per-channel ⟨y, g⟩. */
function channelFisher(y: tf.Tensor, gv: tf.Tensor): Float64Array {
  const [n, , , c] = y.shape;
  return F.channelDot(y, gv, n, c);
}

export class AdExec implements Exec<ADNode> {
  private readonly tape: Entry[] = [];
  private readonly hostParams = new Map<string, Float32Array>();

  constructor(
    private readonly params: Map<string, tf.Tensor>,
    private readonly opts: AdExecOptions,
  ) {
    if (opTimes.enabled) {
      // Profiling: time every forward operation by kind.
      const self = this as unknown as Record<string, (...a: unknown[]) => unknown>;
      for (const k of ['conv', 'linear', 'batchNorm', 'relu', 'avgPool', 'add', 'globalAvgPool']) {
        const f = self[k].bind(this);
        self[k] = (...a: unknown[]) => timed(`${k}.op`, () => f(...a));
      }
    }
  }

  /** Wraps an input batch (NHWC). */
  input(x: tf.Tensor, needsGrad: boolean): ADNode {
    return { v: x, t: null, needsGrad };
  }

  private param(name: string): tf.Tensor {
    const t = this.params.get(name);
    if (t === undefined) throw new Error(`missing parameter tensor ${name}`);
    return t;
  }

  private hostParam(name: string): Float32Array {
    let a = this.hostParams.get(name);
    if (a === undefined) {
      a = Float32Array.from(this.param(name).dataSync());
      this.hostParams.set(name, a);
    }
    return a;
  }

  conv(layer: Conv2dLayer, x: ADNode): ADNode {
    if (D.isDepthwise(layer)) return this.depthwise(layer, x);
    const w = this.param(layer.weight) as tf.Tensor4D;
    const bias = layer.bias ? this.param(layer.bias) : undefined;
    const xv = x.v as tf.Tensor4D;
    const y = timed('conv.forward', () =>
      bias ? tf.fused.conv2d({ x: xv, filter: w, strides: layer.stride, pad: layer.pad, bias }) : tf.conv2d(xv, w, layer.stride, layer.pad),
    );
    let t: tf.Tensor | null = null;
    const saved: tf.Tensor[] = [y];
    if (this.opts.dual) {
      if (x.t) {
        t = ofSum(x.v, x.t, (sum) => timed('conv.forward', () => tf.conv2d(sum as tf.Tensor4D, w, layer.stride, layer.pad)));
      } else {
        // ẋ = 0: ẏ = conv(x, Ẇ) = conv(x, W) = y − b.
        t = bias ? F.subtractChannel(y, this.hostParam(layer.bias!)) : y;
      }
      saved.push(t);
    }
    const out: ADNode = { v: y, t, needsGrad: true };
    this.tape.push({
      kind: 'conv',
      output: out,
      saved,
      backward: (g, mode, ctx) => {
        if (mode.fisher) ctx.fisher.set(layer.name, channelFisher(y, g.v));
        if (mode.paramGrads) {
          const shape = w.shape;
          const gw = timed('conv.filterGrad', () => conv2dFilterGrad(xv, g.v as tf.Tensor4D, shape, layer.stride, layer.pad));
          if (mode.dual) {
            // ⟨g_W, Ẇ̄⟩ with Ẇ̄ = F(ẋ; ȳ) + F(x; ȳ̇) (F = filter gradient) equals
            // ⟨conv(ẋ, g_W), ȳ⟩ + ⟨conv(x, g_W), ȳ̇⟩: two forward-speed convolutions instead of two filter gradients.
            const gw4 = gw as tf.Tensor4D;
            timed('conv.graspDot', () => {
              if (x.t) ctx.addGrasp(convDot(x.t as tf.Tensor4D, gw4, layer, g.v));
              if (g.t) ctx.addGrasp(convDot(xv, gw4, layer, g.t));
            });
          }
          ctx.addParamGrad(layer.weight, gw);
          if (mode.allParams && layer.bias) ctx.addParamGrad(layer.bias, tf.tensor1d(Float32Array.from(F.channelSum(g.v, layer.outChannels))));
        }
        if (x.needsGrad && (mode.inputGrad || x !== this.inputNode)) {
          const gx = timed('conv.inputGrad', () => conv2dInputGrad(xv.shape, g.v as tf.Tensor4D, w, layer.stride, layer.pad));
          let gxt: tf.Tensor | null = null;
          if (mode.dual) {
            if (g.t) {
              gxt = ofSum(g.v, g.t, (s) => timed('conv.inputGrad', () => conv2dInputGrad(xv.shape, s as tf.Tensor4D, w, layer.stride, layer.pad)));
            } else {
              gxt = gx; // Bᵀ(ȳ; Ẇ) with Ẇ = W
            }
          }
          ctx.accumulate(x, { v: gx, t: gxt });
        }
      },
    });
    return out;
  }

  /** Depthwise (dilated) conv: the same bilinear bookkeeping as `conv`, with the depthwise primitives. */
  private depthwise(layer: Conv2dLayer, x: ADNode): ADNode {
    if (layer.bias) throw new Error(`AdExec: depthwise conv ${layer.name} with bias is not supported`);
    const w = D.depthwiseFilter(this.param(layer.weight));
    const { stride, pad } = layer;
    const dil = layer.dilation ?? 1;
    const k = layer.kernel;
    const fwd = (v: tf.Tensor, f: tf.Tensor): tf.Tensor => timed('dwconv.forward', () => D.depthwiseForward(v, f, stride, pad, dil));
    const y = fwd(x.v, w);
    let t: tf.Tensor | null = null;
    const saved: tf.Tensor[] = [y, w];
    if (this.opts.dual) {
      if (x.t) {
        t = ofSum(x.v, x.t, (sum) => fwd(sum, w));
        saved.push(t);
      } else {
        t = y; // ẏ = conv(x, Ẇ) = conv(x, W)
      }
    }
    const out: ADNode = { v: y, t, needsGrad: true };
    this.tape.push({
      kind: 'dwconv',
      output: out,
      saved,
      backward: (g, mode, ctx) => {
        if (mode.fisher) ctx.fisher.set(layer.name, channelFisher(y, g.v));
        if (mode.paramGrads) {
          const gw = timed('dwconv.filterGrad', () => D.depthwiseFilterGrad(x.v, g.v, k, stride, pad, dil));
          if (mode.dual) {
            const dot = (a: tf.Tensor, b: tf.Tensor): number => dotThrough((v) => fwd(v, gw), a, b);
            if (x.t) ctx.addGrasp(dot(x.t, g.v));
            if (g.t) ctx.addGrasp(dot(x.v, g.t));
          }
          // Stored gradients follow the parameter's own layout ([k,k,1,C], same memory).
          const pw = this.param(layer.weight);
          const gr = tf.reshape(gw, pw.shape);
          gw.dispose();
          ctx.addParamGrad(layer.weight, gr);
        }
        if (x.needsGrad && (mode.inputGrad || x !== this.inputNode)) {
          const back = (gy: tf.Tensor): tf.Tensor => timed('dwconv.inputGrad', () => D.depthwiseInputGrad(x.v.shape, gy, w, stride, pad, dil));
          const gx = back(g.v);
          let gxt: tf.Tensor | null = null;
          if (mode.dual) {
            if (g.t) {
              gxt = ofSum(g.v, g.t, back);
            } else {
              gxt = gx;
            }
          }
          ctx.accumulate(x, { v: gx, t: gxt });
        }
      },
    });
    return out;
  }

  maxPool(x: ADNode, kernel: number, stride: number, pad: number): ADNode {
    const { y, arg } = D.maxPoolWithArg(x.v, kernel, stride, pad);
    // The argmax is locally constant, so the tangent is the gathered input tangent.
    const t = this.opts.dual && x.t ? D.maxPoolGather(x.t, arg, y.shape) : null;
    const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
    this.tape.push({
      kind: 'maxPool',
      output: out,
      saved: t ? [y, t] : [y],
      backward: (g, mode, ctx) => {
        if (!x.needsGrad) return;
        const gx = D.maxPoolScatter(g.v, arg, x.v.shape);
        const gxt = mode.dual && g.t ? D.maxPoolScatter(g.t, arg, x.v.shape) : null;
        ctx.accumulate(x, { v: gx, t: gxt });
      },
    });
    return out;
  }

  concat(xs: ADNode[]): ADNode {
    if (xs.length === 1) return xs[0];
    const [n, h, w] = xs[0].v.shape;
    const chans = xs.map((x) => x.v.shape[3] as number);
    const y = D.concatChannels(
      xs.map((x) => x.v),
      chans,
      [n, h, w],
    );
    let t: tf.Tensor | null = null;
    if (this.opts.dual && xs.some((x) => x.t)) t = D.concatChannels(xs.map((x) => x.t), chans, [n, h, w]);
    const out: ADNode = { v: y, t, needsGrad: xs.some((x) => x.needsGrad) };
    this.tape.push({
      kind: 'concat',
      output: out,
      saved: t ? [y, t] : [y],
      backward: (g, mode, ctx) => {
        let off = 0;
        xs.forEach((x, i) => {
          if (x.needsGrad) {
            const gv = D.sliceChannels(g.v, off, chans[i]);
            const gt = mode.dual && g.t ? D.sliceChannels(g.t, off, chans[i]) : null;
            ctx.accumulate(x, { v: gv, t: gt });
          }
          off += chans[i];
        });
      },
    });
    return out;
  }

  crop(x: ADNode, top: number, left: number): ADNode {
    const y = D.cropTopLeft(x.v, top, left);
    const t = this.opts.dual && x.t ? D.cropTopLeft(x.t, top, left) : null;
    const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
    this.tape.push({
      kind: 'crop',
      output: out,
      saved: t ? [y, t] : [y],
      backward: (g, mode, ctx) => {
        if (!x.needsGrad) return;
        ctx.accumulate(x, { v: D.uncropTopLeft(g.v, top, left), t: mode.dual && g.t ? D.uncropTopLeft(g.t, top, left) : null });
      },
    });
    return out;
  }

  /** Set by the pass driver so the input gradient can be skipped when not requested. */
  inputNode: ADNode | undefined;

  linear(layer: LinearLayer, x: ADNode): ADNode {
    const w = this.param(layer.weight) as tf.Tensor2D;
    const bias = layer.bias ? this.param(layer.bias) : undefined;
    const xv = x.v as tf.Tensor2D;
    const prod = tf.matMul(xv, w, false, true);
    const y = bias ? tf.add(prod, bias) : prod;
    if (bias) prod.dispose();
    let t: tf.Tensor | null = null;
    if (this.opts.dual) {
      if (x.t) {
        const s = tf.add(xv, x.t);
        t = tf.matMul(s as tf.Tensor2D, w, false, true);
        s.dispose();
      } else {
        t = bias ? tf.sub(y, bias) : y;
      }
    }
    const out: ADNode = { v: y, t, needsGrad: true };
    this.tape.push({
      kind: 'linear',
      output: out,
      saved: t && t !== y ? [y, t] : [y],
      backward: (g, mode, ctx) => {
        const gv = g.v as tf.Tensor2D;
        if (mode.fisher) ctx.fisher.set(layer.name, H.channelDot(hostRead(y), hostRead(g.v), y.shape[0], y.shape[1] as number));
        if (mode.paramGrads) {
          const gw = tf.matMul(gv, xv, true, false);
          if (mode.dual) {
            // ⟨g_W, ȳᵀẋ + ȳ̇ᵀx⟩ = ⟨ẋ·g_Wᵀ, ȳ⟩ + ⟨x·g_Wᵀ, ȳ̇⟩
            const dot = (a: tf.Tensor, b: tf.Tensor): number => dotThrough((v) => tf.matMul(v as tf.Tensor2D, gw, false, true), a, b);
            if (x.t) ctx.addGrasp(dot(x.t, g.v));
            if (g.t) ctx.addGrasp(dot(xv, g.t));
          }
          ctx.addParamGrad(layer.weight, gw);
          if (mode.allParams && layer.bias) ctx.addParamGrad(layer.bias, tf.sum(gv, 0));
        }
        if (x.needsGrad) {
          const gx = tf.matMul(gv, w);
          let gxt: tf.Tensor | null = null;
          if (mode.dual) {
            if (g.t) {
              const s = tf.add(gv, g.t);
              gxt = tf.matMul(s as tf.Tensor2D, w);
              s.dispose();
            } else {
              gxt = gx;
            }
          }
          ctx.accumulate(x, { v: gx, t: gxt });
        }
      },
    });
    return out;
  }

  batchNorm(layer: BatchNormLayer, x: ADNode): ADNode {
    const c = layer.channels;
    const gamma = layer.weight ? this.hostParam(layer.weight) : undefined;
    const beta = layer.bias ? this.hostParam(layer.bias) : undefined;
    const running = this.opts.bnRunning;
    if (running) return this.batchNormInference(layer, x, running, gamma, beta);
    const { xhat, y, r, mean, variance } = F.bnForward(x.v, c, layer.eps, gamma, beta, this.opts.fastBatchNorm ?? false);
    this.opts.bnBatchStats?.set(layer.name, { mean, variance, count: x.v.size / c });
    let xhatT: tf.Tensor | null = null;
    let rho: Float64Array | null = null;
    let t: tf.Tensor | null = null;
    if (this.opts.dual && x.t) {
      ({ xhatT, rho } = F.bnTangent(xhat, r, x.t, c));
      t = gamma ? F.affine(xhatT, c, gamma) : xhatT;
    }
    const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
    const saved = [xhat, y, ...(xhatT ? [xhatT] : []), ...(t && t !== xhatT ? [t] : [])];
    this.tape.push({
      kind: 'batchNorm',
      output: out,
      saved,
      backward: (g, mode, ctx) => {
        if (mode.paramGrads && mode.allParams) {
          if (layer.weight) ctx.addParamGrad(layer.weight, tf.tensor1d(Float32Array.from(F.channelDot(xhat, g.v, 1, c))));
          if (layer.bias) ctx.addParamGrad(layer.bias, tf.tensor1d(Float32Array.from(F.channelSum(g.v, c))));
        }
        if (!x.needsGrad) return;
        if (mode.dual && (xhatT || g.t)) {
          const { gx, gxt } = F.bnBackwardDual(xhat, xhatT, r, rho, g.v, g.t, c, gamma);
          ctx.accumulate(x, { v: gx, t: gxt });
        } else {
          ctx.accumulate(x, { v: F.bnBackward(xhat, r, g.v, c, gamma), t: null });
        }
      },
    });
    return out;
  }

  /** Eval-mode BatchNorm: one per-channel affine map from the running statistics; not differentiable here. */
  private batchNormInference(layer: BatchNormLayer, x: ADNode, running: ReadonlyMap<string, BnRunningStats>, gamma?: Float32Array, beta?: Float32Array): ADNode {
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
    return { v: F.affine(x.v, c, scale, shift), t: null, needsGrad: false };
  }

  /** ReLU outputs by input node: several ReLU modules reading one node (NB201's node 0 feeds up to three conv ops) compute it once. */
  private readonly reluOf = new Map<ADNode, ADNode>();

  relu(site: ReluSite, x: ADNode): ADNode {
    if (this.opts.onReluInput) this.opts.onReluInput(site, hostRead(x.v), x.v.shape[0]);
    const cached = this.reluOf.get(x);
    if (cached) return cached; // gradients of all its consumers then sum before one shared backward
    const y = F.relu(x.v);
    const t = this.opts.dual && x.t ? F.mask(x.v, x.t) : null;
    const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
    this.reluOf.set(x, out);
    this.tape.push({
      kind: 'relu',
      output: out,
      saved: t ? [y, t] : [y],
      backward: (g, mode, ctx) => {
        if (!x.needsGrad) return;
        const gx = F.mask(y, g.v);
        const gxt = mode.dual && g.t ? F.mask(y, g.t) : null;
        ctx.accumulate(x, { v: gx, t: gxt });
      },
    });
    return out;
  }

  avgPool(x: ADNode, kernel: number, stride: number, pad: number): ADNode {
    const geom = H.poolGeom(x.v.shape, kernel, stride, pad);
    const outShape = [geom.n, geom.ho, geom.wo, geom.c];
    const is3x3 = kernel === 3 && stride === 1 && pad === 1;
    const fwd = (v: tf.Tensor): tf.Tensor => (is3x3 ? F.avgPool3x3(v, false) : hostUnary(v, (a, o) => H.avgPoolForward(a, geom, o), outShape));
    const y = fwd(x.v);
    const t = this.opts.dual && x.t ? fwd(x.t) : null;
    const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
    this.tape.push({
      kind: 'avgPool',
      output: out,
      saved: t ? [y, t] : [y],
      backward: (g, mode, ctx) => {
        if (!x.needsGrad) return;
        const back = (gy: tf.Tensor): tf.Tensor =>
          is3x3 ? F.avgPool3x3(gy, true) : hostUnary(gy, (a, o) => H.avgPoolBackward(a, geom, o), x.v.shape);
        ctx.accumulate(x, { v: back(g.v), t: mode.dual && g.t ? back(g.t) : null });
      },
    });
    return out;
  }

  add(xs: ADNode[]): ADNode {
    if (xs.length === 1) return xs[0];
    const y = F.sum(xs.map((x) => x.v));
    let t: tf.Tensor | null = null;
    if (this.opts.dual) {
      const ts = xs.map((x) => x.t).filter((v): v is tf.Tensor => v !== null);
      t = ts.length === 0 ? null : F.sum(ts);
    }
    const out: ADNode = { v: y, t, needsGrad: xs.some((x) => x.needsGrad) };
    this.tape.push({
      kind: 'add',
      output: out,
      saved: t ? [y, t] : [y],
      backward: (g, _mode, ctx) => {
        for (const x of xs) if (x.needsGrad) ctx.accumulate(x, g);
      },
    });
    return out;
  }

  zerosLike(x: ADNode): ADNode {
    return { v: tf.zerosLike(x.v), t: null, needsGrad: false };
  }

  globalAvgPool(x: ADNode): ADNode {
    const [n, , , c] = x.v.shape;
    const y = hostUnary(x.v, (a, o) => H.globalAvgForward(a, n, c, o), [n, c]);
    const t = this.opts.dual && x.t ? hostUnary(x.t, (a, o) => H.globalAvgForward(a, n, c, o), [n, c]) : null;
    const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
    this.tape.push({
      kind: 'globalAvgPool',
      output: out,
      saved: t ? [y, t] : [y],
      backward: (g, mode, ctx) => {
        if (!x.needsGrad) return;
        const back = (gy: tf.Tensor): tf.Tensor => hostUnary(gy, (a, o) => H.globalAvgBackward(a, n, c, o), x.v.shape);
        ctx.accumulate(x, { v: back(g.v), t: mode.dual && g.t ? back(g.t) : null });
      },
    });
    return out;
  }

  /**
   * Runs the recorded operations backwards from `output` seeded with `seed`. May be called several times
   * (e.g. the input Jacobian, then the loss) before a final call with `mode.last`.
   */
  backward(output: ADNode, seed: Grad, mode: BackwardMode, input?: ADNode): BackwardResult {
    if (mode.dual && !this.opts.dual) throw new Error('AdExec: dual backward needs a dual forward');
    const refs = new Map<tf.Tensor, number>();
    const retain = (t: tf.Tensor | null): void => {
      if (t) refs.set(t, (refs.get(t) ?? 0) + 1);
    };
    const release = (t: tf.Tensor | null): void => {
      if (!t) return;
      const n = (refs.get(t) ?? 1) - 1;
      if (n <= 0) {
        refs.delete(t);
        t.dispose();
      } else {
        refs.set(t, n);
      }
    };
    const grads = new Map<ADNode, Grad>();
    const paramAcc = new Map<string, tf.Tensor>();
    let gHw = 0;
    const sumGrad = (a: Grad, b: Grad): Grad => {
      const v = addTensors(a.v, b.v);
      let t: tf.Tensor | null = null;
      if (a.t && b.t) t = addTensors(a.t, b.t);
      else if (a.t || b.t) t = F.copy((a.t ?? b.t)!);
      return { v, t };
    };
    const ctx: BackwardContext = {
      accumulate(node, g) {
        const old = grads.get(node);
        if (old === undefined) {
          retain(g.v);
          retain(g.t);
          grads.set(node, g);
          return;
        }
        // In place when the accumulator is ours alone (no other node holds it, v and t distinct).
        const own = (t: tf.Tensor | null): boolean => t !== null && refs.get(t) === 1 && t !== g.v && t !== g.t;
        const addInto = F.addInto;
        if (own(old.v) && old.v !== old.t && (g.t === null || own(old.t)) && addInto(old.v, g.v) && (g.t === null || addInto(old.t!, g.t))) {
          if (!refs.has(g.v)) g.v.dispose();
          if (g.t && g.t !== g.v && !refs.has(g.t)) g.t.dispose();
          return;
        }
        const s = sumGrad(old, g);
        retain(s.v);
        retain(s.t);
        grads.set(node, s);
        release(old.v);
        release(old.t);
        // g's tensors were created by the caller for this call only, unless shared (already retained elsewhere).
        if (!refs.has(g.v)) g.v.dispose();
        if (g.t && g.t !== g.v && !refs.has(g.t)) g.t.dispose();
      },
      addParamGrad(name, v) {
        // The dual-mode GraSP product needs each weight's complete gradient where it is used: one use per weight.
        if (paramAcc.has(name)) throw new Error(`AdExec: weight ${name} is used twice; shared weights are not supported`);
        paramAcc.set(name, v);
      },
      addGrasp(v) {
        gHw += v;
      },
      fisher: new Map(),
    };
    this.inputNode = input;
    const seedCopy: Grad = { v: tf.clone(seed.v), t: seed.t ? tf.clone(seed.t) : null };
    ctx.accumulate(output, seedCopy);
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const e = this.tape[i];
      const g = grads.get(e.output);
      if (g !== undefined) {
        grads.delete(e.output);
        timed(`${e.kind}.backward`, () => e.backward(g, mode, ctx));
        release(g.v);
        release(g.t);
      }
      if (mode.last) for (const t of e.saved) t.dispose();
    }
    const result: BackwardResult = { paramGrads: new Map(), gHw, fisher: ctx.fisher };
    for (const [name, g] of paramAcc) {
      result.paramGrads.set(name, Float32Array.from(g.dataSync()));
      g.dispose();
    }
    if (input) {
      const gi = grads.get(input);
      if (gi) {
        result.inputGrad = Float32Array.from(gi.v.dataSync());
        release(gi.v);
        release(gi.t);
      }
    }
    for (const [, g] of grads) {
      release(g.v);
      release(g.t);
    }
    return result;
  }
}
