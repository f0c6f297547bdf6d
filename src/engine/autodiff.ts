import type { ActivationSite, BatchNormLayer, Conv2dLayer, Exec, LinearLayer, ReluSite } from '../networks/layers.js';
import { recordActivation, recordChannelScale } from './autodiff-mobile.js';
import * as A from './autodiff-ops.js';
import { opTimes, timed, type ADNode, type AdExecOptions, type BackwardContext, type BackwardMode, type BackwardResult, type Entry, type Grad, type GradIn, type ParamSource, type Recorder } from './autodiff-types.js';
import { recordConv, recordLinear } from './autodiff-weights.js';
import * as O from './ops.js';
import { disposeArena, inArena, Tensor } from './tensor.js';

export { opTimes, type ADNode, type AdExecOptions, type BackwardMode, type BackwardResult, type BnBatchStats, type BnRunningStats, type Grad, type GradIn, type ParamSource } from './autodiff-types.js';

/**
 * AdExec: reverse-mode differentiation over the network-level operations of `Exec` (conv, BatchNorm, ReLU, pooling,
 * sums, linear, DARTS' depthwise conv, max pooling, concatenation and crop, mobile networks' activations and channel
 * scale), with optional forward-mode tangents
 * ("dual" numbers) for Hessian-vector products. It is the one gradient path of the project: every metric, training
 * and inference run on it. Tensors live in the engine's shared memory and every operation is a kernel of
 * native/kernels run over the engine's threads (ops.ts, conv.ts, batchnorm.ts, depthwise.ts, maxpool.ts, layout.ts, activation.ts); only
 * what the backward pass needs is kept. The operations record themselves in autodiff-weights.ts (conv, linear) and
 * autodiff-ops.ts and autodiff-mobile.ts (the rest); this file holds the executor and the backward driver.
 *
 * Dual mode: the conv/linear weights carry the tangent Ẇ = W (every other parameter none). Running the backward
 * pass on (value, tangent) pairs then yields ∂L/∂W and its directional derivative H·W (Pearlmutter's R-op);
 * GraSP's Σ W⊙(H g) equals gᵀ(H W) because H is symmetric, so one pass gives both g and the product; H·W is
 * never formed: per layer ⟨g_W, (H W)_W⟩ = ⟨conv(ẋ, g_W), ȳ⟩ + ⟨conv(x, g_W), ȳ̇⟩.
 * Because the tangent direction is W itself and conv is bilinear, ẏ = conv(ẋ, W) + conv(x, W) = conv(x + ẋ, W)
 * and x̄̇ = Bᵀ(ȳ + ȳ̇; W): one extra convolution each way instead of two.
 *
 * Beyond `Exec`, `scale` multiplies by a constant (SynFlow's rescaled network is built on it). Every tensor an executor makes belongs to its arena: the last backward pass (mode.last), or `dispose`,
 * frees them.
 */

/** A seed value as an engine tensor of `shape` (a host array is copied in). */
function seedTensor(v: Tensor | Float32Array, shape: readonly number[]): Tensor {
  return v instanceof Tensor ? O.copy(v) : Tensor.from(v, shape);
}

export class AdExec implements Exec<ADNode>, Recorder {
  private readonly tape: Entry[] = [];
  private readonly arena: Tensor[] = [];
  private readonly engineParams = new Map<string, Tensor>();
  private readonly hostParams = new Map<string, Float32Array>();
  /** ReLU outputs by input node: several ReLU modules reading one node (NB201's node 0 feeds up to three conv ops) compute it once. */
  private readonly reluOf = new Map<ADNode, ADNode>();
  /** The network input during a backward pass (its gradient is computed only when the mode asks for it). */
  inputNode: ADNode | undefined;

  constructor(
    private readonly params: ParamSource,
    readonly opts: AdExecOptions = {},
  ) {
    // Every public operation runs inside the arena, so the tensors it makes are freed with the executor.
    const self = this as unknown as Record<string, (...a: unknown[]) => unknown>;
    const ops = ['input', 'conv', 'linear', 'batchNorm', 'relu', 'avgPool', 'add', 'zerosLike', 'globalAvgPool', 'maxPool', 'concat', 'crop', 'activation', 'channelScale', 'scale', 'backward'];
    for (const k of ops) {
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

  /** Wraps an input batch (NHWC). The caller keeps ownership of x, which must live until the last backward. */
  input(x: Tensor, needsGrad: boolean): ADNode {
    return { v: x, t: null, needsGrad };
  }

  record(e: Entry): void {
    this.tape.push(e);
  }

  param(name: string, shape: readonly number[]): Tensor {
    let t = this.engineParams.get(name);
    if (t === undefined) {
      const src = this.params.get(name);
      if (src === undefined) throw new Error(`missing parameter tensor ${name}`);
      t = src instanceof Tensor ? src : Tensor.from(src, shape);
      this.engineParams.set(name, t);
    }
    return t;
  }

  hostParam(name: string): Float32Array {
    let a = this.hostParams.get(name);
    if (a === undefined) {
      const src = this.params.get(name);
      if (src === undefined) throw new Error(`missing parameter tensor ${name}`);
      a = src instanceof Tensor ? src.dataSync() : src;
      this.hostParams.set(name, a);
    }
    return a;
  }

  conv(layer: Conv2dLayer, x: ADNode): ADNode {
    return recordConv(this, layer, x);
  }

  linear(layer: LinearLayer, x: ADNode): ADNode {
    return recordLinear(this, layer, x);
  }

  batchNorm(layer: BatchNormLayer, x: ADNode): ADNode {
    return A.recordBatchNorm(this, layer, x);
  }

  relu(site: ReluSite, x: ADNode): ADNode {
    return A.recordRelu(this, this.reluOf, site, x);
  }

  avgPool(x: ADNode, kernel: number, stride: number, pad: number): ADNode {
    return A.recordAvgPool(this, x, kernel, stride, pad);
  }

  add(xs: ADNode[]): ADNode {
    return A.recordAdd(this, xs);
  }

  zerosLike(x: ADNode): ADNode {
    return A.zerosLike(x);
  }

  globalAvgPool(x: ADNode): ADNode {
    return A.recordGlobalAvgPool(this, x);
  }

  activation(site: ActivationSite, x: ADNode): ADNode {
    return recordActivation(this, site, x);
  }

  channelScale(x: ADNode, s: ADNode): ADNode {
    return recordChannelScale(this, x, s);
  }

  maxPool(x: ADNode, kernel: number, stride: number, pad: number): ADNode {
    return A.recordMaxPool(this, x, kernel, stride, pad);
  }

  concat(xs: ADNode[]): ADNode {
    return A.recordConcat(this, xs);
  }

  crop(x: ADNode, top: number, left: number): ADNode {
    return A.recordCrop(this, x, top, left);
  }

  /** x·s for a constant s (rounded to float32; exact for powers of two). */
  scale(x: ADNode, s: number): ADNode {
    return A.recordScale(this, x, s);
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
    const seedCopy: Grad = { v: seedTensor(seed.v, output.v.shape), t: seed.t ? seedTensor(seed.t, output.v.shape) : null };
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
