import * as tf from '@tensorflow/tfjs-core';
import * as DX from './engine/darts.js';
import * as O from './engine/ops.js';
import { disposeArena, inArena, Tensor } from './engine/tensor.js';
import { isDepthwise } from './dartsops.js';
import type { BatchNormLayer, Conv2dLayer, Exec, LinearLayer, ReluSite } from './layers.js';

/**
 * Manual reverse-mode differentiation over the network-level operations of `Exec` (conv, BatchNorm, ReLU, pooling,
 * sums, linear), with optional forward-mode tangents ("dual" numbers) for Hessian-vector products. Tensors live in the
 * engine's shared memory (nn/engine) and every operation is a kernel of native/kernels, run over the engine's threads;
 * only what the backward pass needs is kept.
 *
 * Dual mode: the conv/linear weights carry the tangent Ẇ = W (every other parameter none). Running the backward
 * pass on (value, tangent) pairs then yields ∂L/∂W and its directional derivative H·W (Pearlmutter's R-op);
 * GraSP's Σ W⊙(H g) equals gᵀ(H W) because H is symmetric, so one pass gives both g and the product; H·W is
 * never formed: per layer ⟨g_W, (H W)_W⟩ = ⟨conv(ẋ, g_W), ȳ⟩ + ⟨conv(x, g_W), ȳ̇⟩.
 * Because the tangent direction is W itself and conv is bilinear, ẏ = conv(ẋ, W) + conv(x, W) = conv(x + ẋ, W)
 * and x̄̇ = Bᵀ(ȳ + ȳ̇; W): one extra convolution each way instead of two.
 *
 * Every tensor an executor makes belongs to its arena: the last backward pass (mode.last), or `dispose`, frees them.
 */

/** What a caller may hand in: an engine tensor, or a tfjs tensor (copied into engine memory). */
export type TensorIn = Tensor | tf.Tensor;

export interface ADNode {
  v: Tensor;
  /** Tangent; null means zero. */
  t: Tensor | null;
  /** Whether gradients must flow into this node. */
  needsGrad: boolean;
}

/** A gradient (and its tangent) flowing into a node. */
export interface Grad {
  v: Tensor;
  t: Tensor | null;
}

export interface GradIn {
  v: TensorIn;
  t: TensorIn | null;
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
  /** Per weight tensor name: ∂/∂W (conv HWIO, linear [out, in]), host copies. */
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
  saved: Tensor[];
}

interface BackwardContext {
  accumulate(node: ADNode, g: Grad): void;
  addParamGrad(name: string, v: Tensor | Float32Array): void;
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
  /** Kept for compatibility: BatchNorm statistics are float64 sums in every mode now. */
  fastBatchNorm?: boolean;
  /** Inference: normalise with these running statistics instead of the batch's (no backward through BN then). */
  bnRunning?: ReadonlyMap<string, BnRunningStats>;
  /**
   * Training-free metrics: a BatchNorm channel that is exactly constant over the batch outputs what PyTorch's CPU
   * kernel outputs, fma(x, α, β) with α = f32(invstd·γ), β = f32(bias − mean·α) — a rounding residue of about
   * 1e-7, not our exact 0. NAS-Bench-201 cells whose output does not depend on their input (every path through
   * `none`) feed such channels forward, and the next BatchNorm amplifies the residue 316-fold (1/√eps), so in
   * PyTorch — where every published metric value comes from — such networks carry a nonzero signal and fisher
   * sees large values on them (up to 1e4). Exact zeros made our fisher rank them last instead (issue 20).
   * Other channels are unchanged. Off for training (its numbers are fixed by the training code version).
   */
  torchBnRounding?: boolean;
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

/** An engine copy of a tfjs tensor (or the engine tensor itself). */
function toEngine(t: TensorIn): Tensor {
  if (t instanceof Tensor) return t;
  return Tensor.from(t.dataSync() as Float32Array, t.shape);
}

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

/** Parameters as the caller has them: tfjs tensors (HWIO conv weights), engine tensors or host arrays in that layout. */
export type ParamSource = ReadonlyMap<string, tf.Tensor | Tensor | Float32Array>;

export class AdExec implements Exec<ADNode> {
  private readonly tape: Entry[] = [];
  private readonly arena: Tensor[] = [];
  private readonly engineParams = new Map<string, Tensor>();
  private readonly hostParams = new Map<string, Float32Array>();

  constructor(
    private readonly params: ParamSource,
    private readonly opts: AdExecOptions,
  ) {
    // Every public operation runs inside the arena, so the tensors it makes are freed with the executor.
    const self = this as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const k of ['input', 'conv', 'linear', 'batchNorm', 'relu', 'avgPool', 'add', 'zerosLike', 'globalAvgPool', 'maxPool', 'concat', 'crop', 'backward']) {
      const f = self[k].bind(this);
      const inner = opTimes.enabled && k !== 'backward' && k !== 'input' ? (...a: unknown[]) => timed(`${k}.op`, () => f(...a)) : f;
      self[k] = (...a: unknown[]) => inArena(this.arena, () => inner(...a));
    }
  }

  /** Frees every tensor this executor made (the last backward does it too). */
  dispose(): void {
    disposeArena(this.arena);
    this.engineParams.clear();
  }

  /** Wraps an input batch (NHWC). */
  input(x: TensorIn, needsGrad: boolean): ADNode {
    return { v: toEngine(x), t: null, needsGrad };
  }

  private param(name: string, shape: readonly number[]): Tensor {
    let t = this.engineParams.get(name);
    if (t === undefined) {
      const src = this.params.get(name);
      if (src === undefined) throw new Error(`missing parameter tensor ${name}`);
      t = src instanceof Tensor ? src : src instanceof Float32Array ? Tensor.from(src, shape) : Tensor.from(src.dataSync() as Float32Array, shape);
      this.engineParams.set(name, t);
    }
    return t;
  }

  private hostParam(name: string): Float32Array {
    let a = this.hostParams.get(name);
    if (a === undefined) {
      const src = this.params.get(name);
      if (src === undefined) throw new Error(`missing parameter tensor ${name}`);
      a = src instanceof Float32Array ? src : src instanceof Tensor ? src.dataSync() : Float32Array.from(src.dataSync());
      this.hostParams.set(name, a);
    }
    return a;
  }

  conv(layer: Conv2dLayer, x: ADNode): ADNode {
    if (isDepthwise(layer)) return this.depthwise(layer, x);
    const k = layer.kernel;
    const w = this.param(layer.weight, [k, k, layer.inChannels, layer.outChannels]);
    const bias = layer.bias ? this.param(layer.bias, [layer.outChannels]) : undefined;
    const geom = O.squareGeom(k, layer.stride, layer.pad);
    const xv = x.v;
    const y = timed('conv.forward', () => O.conv2d(xv, w, geom, bias));
    let t: Tensor | null = null;
    const saved: Tensor[] = [y];
    if (this.opts.dual) {
      if (x.t) {
        t = ofSum(x.v, x.t, (sum) => timed('conv.forward', () => O.conv2d(sum, w, geom)));
      } else {
        // ẋ = 0: ẏ = conv(x, Ẇ) = conv(x, W) = y − b.
        t = bias ? O.subtractChannel(y, this.hostParam(layer.bias!)) : y;
      }
      if (t !== y) saved.push(t);
    }
    const out: ADNode = { v: y, t, needsGrad: true };
    this.tape.push({
      kind: 'conv',
      output: out,
      saved,
      backward: (g, mode, ctx) => {
        if (mode.fisher) ctx.fisher.set(layer.name, O.sampleChannelDot(y, g.v, y.shape[0], layer.outChannels));
        if (mode.paramGrads) {
          const gw = timed('conv.filterGrad', () => O.conv2dFilterGrad(xv, g.v, geom));
          if (mode.dual) {
            // ⟨g_W, Ẇ̄⟩ with Ẇ̄ = F(ẋ; ȳ) + F(x; ȳ̇) (F = filter gradient) equals
            // ⟨conv(ẋ, g_W), ȳ⟩ + ⟨conv(x, g_W), ȳ̇⟩: two forward-speed convolutions instead of two filter gradients.
            timed('conv.graspDot', () => {
              if (x.t) ctx.addGrasp(dotThrough((v) => O.conv2d(v, gw, geom), x.t, g.v));
              if (g.t) ctx.addGrasp(dotThrough((v) => O.conv2d(v, gw, geom), xv, g.t));
            });
          }
          ctx.addParamGrad(layer.weight, gw);
          if (mode.allParams && layer.bias) ctx.addParamGrad(layer.bias, Float32Array.from(O.channelSum(g.v, layer.outChannels)));
        }
        if (x.needsGrad && (mode.inputGrad || x !== this.inputNode)) {
          const back = (gy: Tensor): Tensor => timed('conv.inputGrad', () => O.conv2dInputGrad(xv.shape, gy, w, geom));
          const gx = back(g.v);
          let gxt: Tensor | null = null;
          if (mode.dual) gxt = g.t ? ofSum(g.v, g.t, back) : gx; // Bᵀ(ȳ; Ẇ) with Ẇ = W
          ctx.accumulate(x, { v: gx, t: gxt });
        }
      },
    });
    return out;
  }

  /** Depthwise (dilated) conv: the same bilinear bookkeeping as `conv`, with the depthwise primitives. */
  private depthwise(layer: Conv2dLayer, x: ADNode): ADNode {
    if (layer.bias) throw new Error(`AdExec: depthwise conv ${layer.name} with bias is not supported`);
    const k = layer.kernel;
    const w = this.param(layer.weight, [k, k, layer.inChannels]);
    const geom: DX.DwGeomIn = { k, stride: layer.stride, pad: layer.pad, dilation: layer.dilation ?? 1 };
    const fwd = (v: Tensor, f: Tensor): Tensor => timed('dwconv.forward', () => DX.depthwiseForward(v, f, geom));
    const y = fwd(x.v, w);
    let t: Tensor | null = null;
    const saved: Tensor[] = [y];
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
        if (mode.fisher) ctx.fisher.set(layer.name, O.sampleChannelDot(y, g.v, y.shape[0], layer.outChannels));
        if (mode.paramGrads) {
          const gw = timed('dwconv.filterGrad', () => DX.depthwiseFilterGrad(x.v, g.v, geom));
          if (mode.dual) {
            const dot = (a: Tensor, b: Tensor): number => dotThrough((v) => fwd(v, gw), a, b);
            if (x.t) ctx.addGrasp(dot(x.t, g.v));
            if (g.t) ctx.addGrasp(dot(x.v, g.t));
          }
          ctx.addParamGrad(layer.weight, gw);
        }
        if (x.needsGrad && (mode.inputGrad || x !== this.inputNode)) {
          const back = (gy: Tensor): Tensor => timed('dwconv.inputGrad', () => DX.depthwiseInputGrad(x.v.shape, gy, w, geom));
          const gx = back(g.v);
          let gxt: Tensor | null = null;
          if (mode.dual) gxt = g.t ? ofSum(g.v, g.t, back) : gx;
          ctx.accumulate(x, { v: gx, t: gxt });
        }
      },
    });
    return out;
  }

  maxPool(x: ADNode, kernel: number, stride: number, pad: number): ADNode {
    const { y, arg } = DX.maxPoolWithArg(x.v, kernel, stride, pad);
    // The argmax is locally constant, so the tangent is the gathered input tangent.
    const t = this.opts.dual && x.t ? DX.gather(x.t, arg, y.shape) : null;
    const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
    this.tape.push({
      kind: 'maxPool',
      output: out,
      saved: t ? [y, t] : [y],
      backward: (g, mode, ctx) => {
        if (!x.needsGrad) return;
        const gx = DX.scatter(g.v, arg, x.v.shape);
        const gxt = mode.dual && g.t ? DX.scatter(g.t, arg, x.v.shape) : null;
        ctx.accumulate(x, { v: gx, t: gxt });
      },
    });
    return out;
  }

  concat(xs: ADNode[]): ADNode {
    if (xs.length === 1) return xs[0];
    const chans = xs.map((x) => x.v.shape[3]);
    const y = DX.concatChannels(
      xs.map((x) => x.v),
      chans,
    );
    let t: Tensor | null = null;
    if (this.opts.dual && xs.some((x) => x.t)) {
      t = DX.concatChannels(
        xs.map((x) => x.t),
        chans,
        xs[0].v.shape.slice(0, 3),
      );
    }
    const out: ADNode = { v: y, t, needsGrad: xs.some((x) => x.needsGrad) };
    this.tape.push({
      kind: 'concat',
      output: out,
      saved: t ? [y, t] : [y],
      backward: (g, mode, ctx) => {
        let off = 0;
        xs.forEach((x, i) => {
          if (x.needsGrad) {
            const gv = DX.sliceChannels(g.v, off, chans[i]);
            const gt = mode.dual && g.t ? DX.sliceChannels(g.t, off, chans[i]) : null;
            ctx.accumulate(x, { v: gv, t: gt });
          }
          off += chans[i];
        });
      },
    });
    return out;
  }

  crop(x: ADNode, top: number, left: number): ADNode {
    const y = DX.cropTopLeft(x.v, top, left);
    const t = this.opts.dual && x.t ? DX.cropTopLeft(x.t, top, left) : null;
    const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
    this.tape.push({
      kind: 'crop',
      output: out,
      saved: t ? [y, t] : [y],
      backward: (g, mode, ctx) => {
        if (!x.needsGrad) return;
        ctx.accumulate(x, { v: DX.uncropTopLeft(g.v, top, left), t: mode.dual && g.t ? DX.uncropTopLeft(g.t, top, left) : null });
      },
    });
    return out;
  }

  /** Set by the pass driver so the input gradient can be skipped when not requested. */
  inputNode: ADNode | undefined;

  linear(layer: LinearLayer, x: ADNode): ADNode {
    const w = this.param(layer.weight, [layer.outFeatures, layer.inFeatures]);
    const bias = layer.bias ? this.param(layer.bias, [layer.outFeatures]) : undefined;
    const xv = x.v;
    const y = O.linear(xv, w, bias);
    let t: Tensor | null = null;
    if (this.opts.dual) {
      if (x.t) t = ofSum(xv, x.t, (s) => O.linear(s, w));
      else t = bias ? O.subtractChannel(y, this.hostParam(layer.bias!)) : y;
    }
    const out: ADNode = { v: y, t, needsGrad: true };
    this.tape.push({
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

  batchNorm(layer: BatchNormLayer, x: ADNode): ADNode {
    const c = layer.channels;
    const gamma = layer.weight ? this.hostParam(layer.weight) : undefined;
    const beta = layer.bias ? this.hostParam(layer.bias) : undefined;
    const running = this.opts.bnRunning;
    if (running) return this.batchNormInference(layer, x, running, gamma, beta);
    const fw = O.bnForward(x.v, c, layer.eps, gamma, beta);
    const { xhat, r, mean, variance } = fw;
    const y = this.opts.torchBnRounding ? torchConstantChannels(fw.y, c, layer.eps, mean, variance, gamma, beta) : fw.y;
    if (y !== fw.y && fw.y !== xhat) fw.y.dispose();
    this.opts.bnBatchStats?.set(layer.name, { mean, variance, count: x.v.size / c });
    let xhatT: Tensor | null = null;
    let rho: Float64Array | null = null;
    let t: Tensor | null = null;
    if (this.opts.dual && x.t) {
      ({ xhatT, rho } = O.bnTangent(xhat, r, x.t, c));
      t = gamma ? O.affine(xhatT, c, gamma) : xhatT;
    }
    const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
    const saved = [xhat, ...(y !== xhat ? [y] : []), ...(xhatT ? [xhatT] : []), ...(t && t !== xhatT ? [t] : [])];
    this.tape.push({
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
          const { gx, gxt } = O.bnBackwardDual(xhat, xhatT, r, rho, g.v, g.t, c, gamma);
          ctx.accumulate(x, { v: gx, t: gxt });
        } else {
          ctx.accumulate(x, { v: O.bnBackward(xhat, r, g.v, c, gamma, sums), t: null });
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
    return { v: O.affine(x.v, c, scale, shift), t: null, needsGrad: false };
  }

  /** ReLU outputs by input node: several ReLU modules reading one node (NB201's node 0 feeds up to three conv ops) compute it once. */
  private readonly reluOf = new Map<ADNode, ADNode>();

  relu(site: ReluSite, x: ADNode): ADNode {
    if (this.opts.onReluInput) this.opts.onReluInput(site, x.v.view(), x.v.shape[0]);
    const cached = this.reluOf.get(x);
    if (cached) return cached; // gradients of all its consumers then sum before one shared backward
    const y = O.relu(x.v);
    const t = this.opts.dual && x.t ? O.mask(x.v, x.t) : null;
    const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
    this.reluOf.set(x, out);
    this.tape.push({
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

  avgPool(x: ADNode, kernel: number, stride: number, pad: number): ADNode {
    const fwd = (v: Tensor): Tensor => O.avgPool(v, kernel, stride, pad);
    const y = fwd(x.v);
    const t = this.opts.dual && x.t ? fwd(x.t) : null;
    const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
    this.tape.push({
      kind: 'avgPool',
      output: out,
      saved: t ? [y, t] : [y],
      backward: (g, mode, ctx) => {
        if (!x.needsGrad) return;
        const back = (gy: Tensor): Tensor => O.avgPoolBackward(gy, x.v.shape, kernel, stride, pad);
        ctx.accumulate(x, { v: back(g.v), t: mode.dual && g.t ? back(g.t) : null });
      },
    });
    return out;
  }

  add(xs: ADNode[]): ADNode {
    if (xs.length === 1) return xs[0];
    const y = O.sum(xs.map((x) => x.v));
    let t: Tensor | null = null;
    if (this.opts.dual) {
      const ts = xs.map((x) => x.t).filter((v): v is Tensor => v !== null);
      t = ts.length === 0 ? null : O.sum(ts);
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
    return { v: Tensor.zeros(x.v.shape), t: null, needsGrad: false };
  }

  globalAvgPool(x: ADNode): ADNode {
    const y = O.globalAvgPool(x.v);
    const t = this.opts.dual && x.t ? O.globalAvgPool(x.t) : null;
    const out: ADNode = { v: y, t, needsGrad: x.needsGrad };
    this.tape.push({
      kind: 'globalAvgPool',
      output: out,
      saved: t ? [y, t] : [y],
      backward: (g, mode, ctx) => {
        if (!x.needsGrad) return;
        const back = (gy: Tensor): Tensor => O.globalAvgPoolBackward(gy, x.v.shape);
        ctx.accumulate(x, { v: back(g.v), t: mode.dual && g.t ? back(g.t) : null });
      },
    });
    return out;
  }

  /**
   * Runs the recorded operations backwards from `output` seeded with `seed`, down to `input` (the network input,
   * or any node recorded before `output`, whose gradient is then `inputGrad`). May be called several times
   * (e.g. the input Jacobian, then the loss) before a final call with `mode.last`, which frees every tensor.
   */
  backward(output: ADNode, seed: GradIn, mode: BackwardMode, input?: ADNode): BackwardResult {
    if (mode.dual && !this.opts.dual) throw new Error('AdExec: dual backward needs a dual forward');
    const refs = new Map<Tensor, number>();
    const retain = (t: Tensor | null): void => {
      if (t) refs.set(t, (refs.get(t) ?? 0) + 1);
    };
    const release = (t: Tensor | null): void => {
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
    const paramAcc = new Map<string, Tensor | Float32Array>();
    let gHw = 0;
    const sumGrad = (a: Grad, b: Grad): Grad => {
      const v = O.add(a.v, b.v);
      let t: Tensor | null = null;
      if (a.t && b.t) t = O.add(a.t, b.t);
      else if (a.t || b.t) t = O.copy((a.t ?? b.t)!);
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
        const own = (t: Tensor | null): boolean => t !== null && refs.get(t) === 1 && t !== g.v && t !== g.t;
        if (own(old.v) && old.v !== old.t && (g.t === null || own(old.t))) {
          O.addInto(old.v, g.v);
          if (g.t) O.addInto(old.t!, g.t);
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
    const seedCopy: Grad = { v: O.copy(toEngine(seed.v)), t: seed.t ? O.copy(toEngine(seed.t)) : null };
    ctx.accumulate(output, seedCopy);
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const e = this.tape[i];
      // `input` may be an intermediate node (AZ-NAS: one cell's vector-Jacobian product): its gradient is complete
      // here, since everything that depends on it was recorded after it.
      if (e.output === input) break;
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
      if (g instanceof Float32Array) {
        result.paramGrads.set(name, g);
      } else {
        result.paramGrads.set(name, g.dataSync());
        g.dispose();
      }
    }
    if (input) {
      const gi = grads.get(input);
      if (gi) {
        result.inputGrad = gi.v.dataSync();
        release(gi.v);
        release(gi.t);
      }
    }
    for (const [, g] of grads) {
      release(g.v);
      release(g.t);
    }
    if (mode.last) this.dispose();
    return result;
  }
}
