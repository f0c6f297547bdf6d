import * as tf from '@tensorflow/tfjs-core';
import { broadcast_util, getGradient, registerGradient } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import { depthwiseForward } from './dartsops.js';

/**
 * Gradient functions for every kernel the networks and metrics differentiate.
 *
 * In Node, `@tensorflow/tfjs-core` resolves to its CommonJS bundle, which registers no gradients at all (the
 * `@tensorflow/tfjs` union package would, and is not a dependency), and tfjs never had gradients for
 * `Conv2DBackpropFilter` or `AvgPoolGrad`. Every gradient here is written with differentiable ops whose own
 * gradients are in this list, so the set is closed under differentiation: nested `tf.grads` (GraSP's
 * Hessian-vector product) works through conv, pooling, BatchNorm (composed of elementwise ops and means),
 * ReLU, the classifier and the loss.
 */

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Strides = number | [number, number];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** Sums a broadcast gradient back to an input's shape. */
function unbroadcast(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = broadcast_util.getReductionAxes(shape, dy.shape);
  const r = axes.length > 0 ? tf.sum(dy, axes) : dy;
  return tf.reshape(r, shape);
}

/** Reduction axes as non-negative indices. */
function reductionAxes(axis: number | number[] | undefined, rank: number): number[] {
  if (axis === undefined || axis === null) return [...Array(rank).keys()];
  const list = Array.isArray(axis) ? axis : [axis];
  return list.map((a) => (a < 0 ? a + rank : a));
}

/** dy of a reduction, reshaped with kept dims and broadcast to x's shape times `scale`. */
function spreadReduction(dy: tf.Tensor, x: tf.Tensor, axis: number | number[] | undefined, scale: number): tf.Tensor {
  const axes = reductionAxes(axis, x.rank);
  const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  // A multiplication by a filled constant broadcasts without a Tile/BroadcastTo kernel (wasm has no BroadcastTo).
  return tf.mul(tf.reshape(dy, keep), tf.fill(x.shape, scale));
}

function reductionSize(x: tf.Tensor, axis: number | number[] | undefined): number {
  return reductionAxes(axis, x.rank).reduce((p, a) => p * x.shape[a], 1);
}

function runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: object): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs as unknown as NamedAttrMap) as tf.Tensor;
}

/** ∂/∂filter of conv2d as the Conv2DBackpropFilter kernel (tfjs exposes no public op for it). */
export function conv2dBackpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: Strides,
  pad: Pad,
  dimRoundingMode?: Rounding,
): tf.Tensor4D {
  return runKernel('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat: 'NHWC', dimRoundingMode, filterShape }) as tf.Tensor4D;
}

/** ∂/∂x of avgPool as the AvgPoolGrad kernel. */
export function avgPoolBackprop(dy: tf.Tensor4D, input: tf.Tensor4D, filterSize: Strides, strides: Strides, pad: Pad): tf.Tensor4D {
  return runKernel('AvgPoolGrad', { dy, input }, { filterSize, strides, pad }) as tf.Tensor4D;
}

const ratioCache = new Map<string, Float32Array | null>();

/**
 * Per-output-position ratio window size / number of in-bounds inputs (or its inverse) of a 2-D pool, as a
 * [1,Ho,Wo,1] tensor; null when no window touches padding.
 */
export function poolCountRatio(
  inShape: [number, number, number, number],
  a: { filterSize: Strides; strides: Strides; pad: Pad; dimRoundingMode?: Rounding },
  inverse: boolean,
): tf.Tensor4D | null {
  const info = tf.backend_util.computePool2DInfo(inShape, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const key = `${info.inHeight},${info.inWidth},${info.filterHeight},${info.filterWidth},${info.strideHeight},${info.strideWidth},${info.padInfo.top},${info.padInfo.left},${info.outHeight},${info.outWidth},${inverse}`;
  let values = ratioCache.get(key);
  if (values === undefined) {
    const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
    const out = new Float32Array(ho * wo);
    let padded = false;
    for (let i = 0; i < ho; i++) {
      const y0 = i * info.strideHeight - info.padInfo.top;
      const rows = Math.min(info.inHeight, y0 + kh) - Math.max(0, y0);
      for (let j = 0; j < wo; j++) {
        const x0 = j * info.strideWidth - info.padInfo.left;
        const cols = Math.min(info.inWidth, x0 + kw) - Math.max(0, x0);
        const count = rows * cols;
        if (count !== kh * kw) padded = true;
        out[i * wo + j] = inverse ? count / (kh * kw) : (kh * kw) / count;
      }
    }
    values = padded ? out : null;
    ratioCache.set(key, values);
  }
  return values === null ? null : tf.tensor4d(values, [1, info.outHeight, info.outWidth, 1]);
}

const GRADS: GradConfig[] = [
  {
    kernelName: 'Add',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      return { a: () => unbroadcast(dy as tf.Tensor, a.shape), b: () => unbroadcast(dy as tf.Tensor, b.shape) };
    },
  },
  {
    kernelName: 'Sub',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      return { a: () => unbroadcast(dy as tf.Tensor, a.shape), b: () => tf.neg(unbroadcast(dy as tf.Tensor, b.shape)) };
    },
  },
  {
    kernelName: 'Multiply',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const g = dy as tf.Tensor;
      return { a: () => unbroadcast(tf.mul(g, b), a.shape), b: () => unbroadcast(tf.mul(g, a), b.shape) };
    },
  },
  {
    kernelName: 'RealDiv',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const g = dy as tf.Tensor;
      return {
        a: () => unbroadcast(tf.div(g, b), a.shape),
        b: () => unbroadcast(tf.neg(tf.mul(g, tf.div(tf.div(a, b), b))), b.shape),
      };
    },
  },
  { kernelName: 'Neg', gradFunc: (dy) => ({ x: () => tf.neg(dy as tf.Tensor) }) },
  {
    kernelName: 'Square',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.mul(saved[0], 2)) }),
  },
  {
    // d x^{-1/2} = -½ x^{-3/2} = -½ rsqrt(x) / x
    kernelName: 'Rsqrt',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.mul(tf.div(tf.rsqrt(saved[0]), saved[0]), -0.5)) }),
  },
  {
    kernelName: 'Sqrt',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.div(dy as tf.Tensor, tf.mul(tf.sqrt(saved[0]), 2)) }),
  },
  {
    // Recomputes exp(x) rather than saving the output: tfjs records a saved output's clone on the tape before
    // the op that produced it, so a gradient built on it is cut off from x under a second differentiation.
    kernelName: 'Exp',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.exp(saved[0])) }),
  },
  {
    kernelName: 'Log',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.div(dy as tf.Tensor, saved[0]) }),
  },
  {
    kernelName: 'Abs',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.sign(saved[0])) }),
  },
  { kernelName: 'Sign', inputsToSave: ['x'], gradFunc: (_dy, saved) => ({ x: () => tf.zerosLike(saved[0]) }) },
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const { axis } = attrs as unknown as { axis: number | number[] };
      return { x: () => spreadReduction(dy as tf.Tensor, saved[0], axis, 1) };
    },
  },
  {
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const { axis } = attrs as unknown as { axis: number | number[] };
      const x = saved[0];
      return { x: () => spreadReduction(dy as tf.Tensor, x, axis, 1 / reductionSize(x, axis)) };
    },
  },
  {
    kernelName: 'Reshape',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.reshape(dy as tf.Tensor, saved[0].shape) }),
  },
  {
    kernelName: 'Transpose',
    gradFunc: (dy, _saved, attrs: NamedAttrMap) => {
      const { perm } = attrs as unknown as { perm: number[] };
      const inverse = new Array<number>(perm.length);
      perm.forEach((p, i) => (inverse[p] = i));
      return { x: () => tf.transpose(dy as tf.Tensor, inverse) };
    },
  },
  { kernelName: 'Identity', gradFunc: (dy) => ({ x: () => tf.clone(dy as tf.Tensor) }) },
  {
    kernelName: 'Cast',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const x = saved[0];
      // A cast from bool/int carries no gradient (and the tape insists on float32 gradients).
      return { x: () => (x.dtype === 'float32' ? tf.clone(dy as tf.Tensor) : tf.zeros(x.shape)) };
    },
  },
  {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.step(saved[0])) }),
  },
  // Piecewise-constant or shape-only ops: zero gradient.
  { kernelName: 'Step', inputsToSave: ['x'], gradFunc: (_dy, saved) => ({ x: () => tf.zerosLike(saved[0]) }) },
  { kernelName: 'ZerosLike', inputsToSave: ['x'], gradFunc: (_dy, saved) => ({ x: () => tf.zerosLike(saved[0]) }) },
  { kernelName: 'OnesLike', inputsToSave: ['x'], gradFunc: (_dy, saved) => ({ x: () => tf.zerosLike(saved[0]) }) },
  {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const g = dy as tf.Tensor;
      // C = op(A)·op(B): each case is the usual matrix-calculus identity, arranged to avoid explicit transposes.
      if (!transposeA && !transposeB) {
        return { a: () => tf.matMul(g, b, false, true), b: () => tf.matMul(a, g, true, false) };
      }
      if (!transposeA && transposeB) {
        return { a: () => tf.matMul(g, b, false, false), b: () => tf.matMul(g, a, true, false) };
      }
      if (transposeA && !transposeB) {
        return { a: () => tf.matMul(b, g, false, true), b: () => tf.matMul(a, g, false, false) };
      }
      return { a: () => tf.matMul(b, g, true, true), b: () => tf.matMul(g, a, true, true) };
    },
  },
  {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as { strides: Strides; pad: Pad; dilations: Strides; dimRoundingMode?: Rounding; dataFormat: string };
      const d = a.dilations;
      if (d !== undefined && d !== 1 && !(Array.isArray(d) && d[0] === 1 && d[1] === 1)) {
        throw new Error('Conv2D gradient: dilations > 1 are not supported');
      }
      if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') throw new Error('Conv2D gradient: only NHWC');
      const g = dy as tf.Tensor4D;
      return {
        x: () => tf.conv2dTranspose(g, filter, x.shape, a.strides, a.pad, a.dimRoundingMode),
        filter: () => conv2dBackpropFilter(x, g, filter.shape, a.strides, a.pad, a.dimRoundingMode),
      };
    },
  },
  {
    // dx = Bᵀ(dy; W) is bilinear in (dy, W).
    kernelName: 'Conv2DBackpropInput',
    inputsToSave: ['dy', 'filter'],
    gradFunc: (ddx, saved, attrs: NamedAttrMap) => {
      const [dy, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as { strides: Strides; pad: Pad; dimRoundingMode?: Rounding };
      const g = ddx as tf.Tensor4D;
      return {
        dy: () => tf.conv2d(g, filter, a.strides, a.pad, 'NHWC', 1, a.dimRoundingMode),
        filter: () => conv2dBackpropFilter(g, dy, filter.shape, a.strides, a.pad, a.dimRoundingMode),
      };
    },
  },
  {
    // dW = F(x; dy) is bilinear in (x, dy).
    kernelName: 'Conv2DBackpropFilter',
    inputsToSave: ['x', 'dy'],
    gradFunc: (ddw, saved, attrs: NamedAttrMap) => {
      const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as { strides: Strides; pad: Pad; dimRoundingMode?: Rounding };
      const g = ddw as tf.Tensor4D;
      return {
        x: () => tf.conv2dTranspose(dy, g, x.shape, a.strides, a.pad, a.dimRoundingMode),
        dy: () => tf.conv2d(x, g, a.strides, a.pad, 'NHWC', 1, a.dimRoundingMode),
      };
    },
  },
  {
    // tfjs's AvgPool excludes padding from each window's count but its AvgPoolGrad divides by the full window
    // size, so the pair is inconsistent at padded borders; scaling dy by (window size / valid count) first
    // makes the gradient exact.
    kernelName: 'AvgPool',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const a = attrs as unknown as { filterSize: Strides; strides: Strides; pad: Pad; dimRoundingMode?: Rounding };
      const x = saved[0] as tf.Tensor4D;
      return {
        x: () => {
          const ratio = poolCountRatio(x.shape, a, false);
          const g = ratio === null ? (dy as tf.Tensor4D) : (tf.mul(dy as tf.Tensor, ratio) as tf.Tensor4D);
          return avgPoolBackprop(g, x, a.filterSize, a.strides, a.pad);
        },
      };
    },
  },
  {
    // AvgPoolGrad (full-window divisor) is linear in dy; its adjoint is the full-window average pool, i.e. tfjs's
    // padding-excluding avgPool times (valid count / window size). It reads only x's shape.
    kernelName: 'AvgPoolGrad',
    inputsToSave: ['input'],
    gradFunc: (ddx, saved, attrs: NamedAttrMap) => {
      const a = attrs as unknown as { filterSize: Strides; strides: Strides; pad: Pad; dimRoundingMode?: Rounding };
      const input = saved[0] as tf.Tensor4D;
      return {
        dy: () => {
          const pooled = tf.avgPool(ddx as tf.Tensor4D, a.filterSize, a.strides, a.pad, a.dimRoundingMode);
          const ratio = poolCountRatio(input.shape, a, true);
          return ratio === null ? pooled : tf.mul(pooled, ratio);
        },
        input: () => tf.zerosLike(input),
      };
    },
  },
  // DARTS ops. Depthwise conv and its two gradients are bilinear, so the three close under differentiation.
  {
    kernelName: 'DepthwiseConv2dNative',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as DwGradAttrs;
      const g = dy as tf.Tensor4D;
      return {
        x: () => dwBackpropInput(g, filter, a, x.shape),
        filter: () => dwBackpropFilter(x, g, a, filter.shape),
      };
    },
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    inputsToSave: ['dy', 'filter'],
    gradFunc: (ddx, saved, attrs: NamedAttrMap) => {
      const [dy, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as DwGradAttrs;
      const g = ddx as tf.Tensor4D;
      return {
        dy: () => depthwiseForward(g, filter, dwSingle(a.strides), a.pad as number, dwSingle(a.dilations)),
        filter: () => dwBackpropFilter(g, dy, a, filter.shape),
      };
    },
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    inputsToSave: ['x', 'dy'],
    gradFunc: (ddw, saved, attrs: NamedAttrMap) => {
      const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as DwGradAttrs;
      const g = ddw as tf.Tensor4D;
      return {
        x: () => dwBackpropInput(dy, g, a, x.shape),
        dy: () => depthwiseForward(x, g, dwSingle(a.strides), a.pad as number, dwSingle(a.dilations)),
      };
    },
  },
  {
    // First-order only: MaxPoolGrad has no gradient here (the tape engine's GraSP on max-pool cells is unsupported;
    // the manual engine handles it).
    kernelName: 'MaxPool',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const a = attrs as unknown as { filterSize: Strides; strides: Strides; pad: Pad; dimRoundingMode?: Rounding };
      const x = saved[0];
      return { x: () => runKernel('MaxPoolGrad', { dy: dy as tf.Tensor, input: x, output: x }, a) };
    },
  },
  {
    kernelName: 'Concat',
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const { axis } = attrs as unknown as { axis: number };
      const rank = saved[0].rank;
      const ax = axis < 0 ? axis + rank : axis;
      const g = dy as tf.Tensor;
      let off = 0;
      // Keyed by input index, as the engine records an array of inputs.
      return saved.map((t) => {
        const begin = new Array<number>(rank).fill(0);
        begin[ax] = off;
        off += t.shape[ax];
        return () => tf.slice(g, begin, t.shape);
      }) as unknown as Record<string, () => tf.Tensor>;
    },
  },
  {
    kernelName: 'Slice',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const x = saved[0];
      const { begin, size } = attrs as unknown as { begin: number[]; size: number[] };
      const g = dy as tf.Tensor;
      const paddings = x.shape.map((d, i) => [begin[i], d - begin[i] - (size[i] < 0 ? d - begin[i] : size[i])] as [number, number]);
      return { x: () => tf.pad(g, paddings) };
    },
  },
  {
    kernelName: 'PadV2',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const x = saved[0];
      const { paddings } = attrs as unknown as { paddings: [number, number][] };
      return { x: () => tf.slice(dy as tf.Tensor, paddings.map((p) => p[0]), x.shape) };
    },
  },
];

interface DwGradAttrs {
  strides: Strides;
  pad: Pad;
  dilations?: Strides;
  dimRoundingMode?: Rounding;
}

function dwSingle(v: Strides | undefined): number {
  return v === undefined ? 1 : Array.isArray(v) ? v[0] : v;
}

function dwBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, a: DwGradAttrs, inputShape: number[]): tf.Tensor4D {
  return runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { strides: a.strides, pad: a.pad, dilations: a.dilations, dimRoundingMode: a.dimRoundingMode, inputShape }) as tf.Tensor4D;
}

function dwBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, a: DwGradAttrs, filterShape: number[]): tf.Tensor4D {
  return runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: a.strides, pad: a.pad, dilations: a.dilations, dimRoundingMode: a.dimRoundingMode, filterShape }) as tf.Tensor4D;
}

let registered = false;

/**
 * Registers the gradients above for kernels that have none (all of them when only tfjs-core is loaded);
 * idempotent.
 */
export function registerProjectGradients(): void {
  if (registered) return;
  for (const g of GRADS) {
    if (getGradient(g.kernelName) == null) registerGradient(g);
  }
  registered = true;
}

/** Kernel names this module provides gradients for. */
export const PROJECT_GRADIENTS: readonly string[] = GRADS.map((g) => g.kernelName);
