import type { ReluSite } from '../networks/layers.js';
import type { Tensor } from './tensor.js';

/** The executor's values, gradients and options (autodiff.ts), and what its operations share while recording. */

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

/** The seed of a backward pass: engine tensors, or host values in the output's shape (copied in). */
export interface GradIn {
  v: Tensor | Float32Array;
  t: Tensor | Float32Array | null;
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

export interface AdExecOptions {
  /** Carry forward tangents with the weights as direction (GraSP's Hessian-vector product); default false. */
  dual?: boolean;
  /** Called with every ReLU input (host view valid only during the call) and the batch size. */
  onReluInput?: (site: ReluSite, x: Float32Array, n: number) => void;
  /** Training: the batch statistics every BatchNorm used, by layer name (for running-statistics updates). */
  bnBatchStats?: Map<string, BnBatchStats>;
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

/** Parameters as the caller has them, in the executors' layouts (conv HWIO): engine tensors or host arrays. */
export type ParamSource = ReadonlyMap<string, Tensor | Float32Array>;

/** One recorded operation. */
export interface Entry {
  /** Operation kind, for profiling. */
  kind: string;
  output: ADNode;
  backward(g: Grad, mode: BackwardMode, ctx: BackwardContext): void;
  /** Tensors private to this entry, freed after its last backward. */
  saved: Tensor[];
}

export interface BackwardContext {
  accumulate(node: ADNode, g: Grad): void;
  addParamGrad(name: string, v: Tensor | Float32Array): void;
  /** Adds to Σ_W ⟨∂L/∂W, H·W⟩ (dual mode). */
  addGrasp(v: number): void;
  fisher: Map<string, Float64Array>;
}

/** What an operation needs from the executor while it records itself. */
export interface Recorder {
  readonly opts: AdExecOptions;
  /** Appends an operation to the tape. */
  record(e: Entry): void;
  /** A parameter as an engine tensor of the given shape (copied in once, freed with the executor). */
  param(name: string, shape: readonly number[]): Tensor;
  /** A parameter's values on the host (BatchNorm's γ/β, conv biases). */
  hostParam(name: string): Float32Array;
  /** The network input while a backward pass runs: its gradient is computed only when the mode asks for it. */
  readonly inputNode: ADNode | undefined;
}

/** Accumulated milliseconds per operation kind while `opTimes.enabled` (bench/profiling only). */
export const opTimes = { enabled: false, ms: new Map<string, number>() };

export function timed<T>(kind: string, f: () => T): T {
  if (!opTimes.enabled) return f();
  const t0 = performance.now();
  const r = f();
  opTimes.ms.set(kind, (opTimes.ms.get(kind) ?? 0) + performance.now() - t0);
  return r;
}
