/**
 * A small description of a network, independent of what computes it: parameter specs in PyTorch's state order, the
 * conv/linear layers the metrics sum over, BatchNorm and ReLU sites, and a forward written once against an `Exec` —
 * the executor decides what a conv, a BatchNorm or an addition means (the engine's differentiable executor, AdExec,
 * SynFlow's log-rescaled variant on top of it, the export tracer, the tests' float64 reference), so every metric,
 * training and export reuse one network definition.
 */

/** How a parameter is initialised by PyTorch's defaults. */
export type InitSpec =
  | { kind: 'kaiming_uniform'; fanIn: number } // Conv/Linear weight: kaiming_uniform_(a=√5) → U(±1/√fan_in)
  | { kind: 'uniform_fan_in'; fanIn: number } // Conv/Linear bias: U(±1/√fan_in)
  | { kind: 'const'; value: number }; // BatchNorm weight 1, bias 0

export interface ParamSpec {
  /** PyTorch state_dict name, e.g. `layers.0.ops.1_0.conv.weight`. */
  name: string;
  /** PyTorch layout: conv [out, in, kh, kw], linear [out, in], vectors [n]. */
  shape: number[];
  init: InitSpec;
}

export interface Conv2dLayer {
  kind: 'conv';
  /** Module path, e.g. `layers.0.ops.1_0.conv`. */
  name: string;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: number;
  weight: string;
  bias?: string;
  /** Grouped conv (PyTorch `groups`); only depthwise (groups = in = out channels) is supported. Default 1. */
  groups?: number;
  /** Kernel dilation (depthwise convs only). Default 1. */
  dilation?: number;
  /**
   * Depthwise convs only: how a tap is added into an output. 'double': through double and back to float at every tap,
   * the arithmetic DARTS' networks have always used (their numbers stay bit for bit); 'float': float multiply and add,
   * about 4× faster. Default 'float'.
   */
  depthwiseSum?: 'double' | 'float';
}

export interface LinearLayer {
  kind: 'linear';
  name: string;
  inFeatures: number;
  outFeatures: number;
  weight: string;
  bias?: string;
}

/** Conv and linear layers: the tensors every weight-based metric sums over. */
export type WeightLayer = Conv2dLayer | LinearLayer;

export interface BatchNormLayer {
  name: string;
  channels: number;
  /** Affine BN has `weight`/`bias` parameters; cell ops use BN without them. */
  weight?: string;
  bias?: string;
  eps: number;
  /** SynFlow removes BatchNorm except where this is true (NB201's reduction blocks). */
  keepInSynflow: boolean;
}

/** A ReLU module (NASWOT hooks every one of them). */
export interface ReluSite {
  name: string;
}

/** Pointwise activations other than ReLU (mobile networks; squeeze-and-excitation gates). */
export type ActivationKind = 'relu6' | 'hardswish' | 'hardsigmoid' | 'sigmoid' | 'silu';

/** An activation module other than ReLU (PyTorch ReLU6, Hardswish, Hardsigmoid, Sigmoid, SiLU). */
export interface ActivationSite {
  name: string;
  kind: ActivationKind;
}

/**
 * Executor of the elementary operations; `T` is whatever the executor carries (a tensor, or a tensor with
 * a log-scale). Activations are NHWC.
 */
export interface Exec<T> {
  conv(layer: Conv2dLayer, x: T): T;
  /** x: [N, features]. */
  linear(layer: LinearLayer, x: T): T;
  batchNorm(layer: BatchNormLayer, x: T): T;
  relu(site: ReluSite, x: T): T;
  /** Average pooling that does not count padding (PyTorch count_include_pad=False). */
  avgPool(x: T, kernel: number, stride: number, pad: number): T;
  /** Elementwise sum of one or more same-shaped activations. */
  add(xs: T[]): T;
  /** Zeros shaped like x (NB201's `none` op, kept so downstream ops see what PyTorch sees). */
  zerosLike(x: T): T;
  /** [N,H,W,C] → [N,C]. */
  globalAvgPool(x: T): T;
  // Ops only the DARTS network uses; optional so that executors written for NB201 keep compiling.
  /** Max pooling; padded positions are never selected; ties go to the first maximum in row-major window order (PyTorch). */
  maxPool?(x: T, kernel: number, stride: number, pad: number): T;
  /** Concatenation along the channel axis. */
  concat?(xs: T[]): T;
  /** x[:, top:, left:, :] (FactorizedReduce's shifted branch). */
  crop?(x: T, top: number, left: number): T;
  // Ops of mobile networks (inverted residual blocks, squeeze-and-excitation).
  /** A pointwise activation other than ReLU, any shape. */
  activation?(site: ActivationSite, x: T): T;
  /** x [N, H, W, C] times s (one value per image and channel: [N, C] or [N, 1, 1, C]), broadcast over positions. */
  channelScale?(x: T, s: T): T;
  /**
   * Marks x as the output of a module of the network's official PyTorch definition that is not itself one of the
   * operations above (a Sequential or wrapper returning its last op's output, an Identity, a cell): `feature` for
   * the stem and each cell or reduction block (AZ-NAS's cell features), `wrap` for the others. MeCo hooks every
   * module, so a tensor several nested modules return counts once per module. Executors that do not care omit it.
   */
  module?(name: string, role: ModuleRole, x: T): void;
}

/** See Exec.module. */
export type ModuleRole = 'feature' | 'wrap';

/** Ops that only some executors implement, and the networks that need them. */
const OPTIONAL_OPS = { maxPool: 'DARTS networks', concat: 'DARTS networks', crop: 'DARTS networks', activation: 'mobile networks', channelScale: 'mobile networks' };

/** An optional Exec method, or a clear error naming the executor that lacks it. */
export function execOp<T, K extends keyof typeof OPTIONAL_OPS>(exec: Exec<T>, name: K): NonNullable<Exec<T>[K]> {
  const f = exec[name];
  if (typeof f !== 'function') throw new Error(`${exec.constructor.name} does not implement ${name} (needed by ${OPTIONAL_OPS[name]})`);
  return f.bind(exec) as NonNullable<Exec<T>[K]>;
}

/** A network definition usable by every metric. */
export interface Network {
  /** Free-form id, e.g. the NB201 arch string. */
  readonly id: string;
  /** [C, H, W] of one input image. */
  readonly inputShape: [number, number, number];
  readonly numClasses: number;
  /** Every parameter in PyTorch state_dict order (the fixtures' params.bin order). */
  readonly params: readonly ParamSpec[];
  /** Conv/linear layers in module order. */
  readonly weightLayers: readonly WeightLayer[];
  readonly batchNorms: readonly BatchNormLayer[];
  readonly relus: readonly ReluSite[];
  /** x: NHWC input batch → logits [N, classes]. */
  forward<T>(exec: Exec<T>, x: T): T;
}

/** Output spatial size of a conv/pool along one axis. */
export function convOut(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** Number of weights feeding one output channel (fan-in), i.e. per-channel count used by Fisher. */
export function weightsPerChannel(layer: WeightLayer): number {
  return layer.kind === 'conv' ? (layer.inChannels / (layer.groups ?? 1)) * layer.kernel * layer.kernel : layer.inFeatures;
}

/** Whether a conv layer is depthwise (the only grouped conv supported); throws for other groupings. */
export function isDepthwise(layer: Conv2dLayer): boolean {
  const g = layer.groups ?? 1;
  if (g === 1) {
    if ((layer.dilation ?? 1) !== 1) throw new Error(`conv ${layer.name}: dilation is only supported for depthwise convs`);
    return false;
  }
  if (g !== layer.inChannels || g !== layer.outChannels) throw new Error(`conv ${layer.name}: only depthwise grouped convs are supported`);
  return true;
}
