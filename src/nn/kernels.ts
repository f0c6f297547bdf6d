import * as tf from '@tensorflow/tfjs-core';
import { backend_util, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { dartsKernelConfigs, DARTS_KERNELS } from './dartsops.js';
import { hostOp } from './host.js';

/**
 * Kernels and gradients the project adds to tfjs so that training-time derivatives — including the second
 * derivatives GraSP needs — run on the wasm backend at conv2d speed.
 *
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` (the weight gradient of every conv) and its
 * `Conv2DBackpropInput` is a plain loop ~10× slower than its XNNPACK `Conv2D`. Both are re-expressed here as
 * one forward `Conv2D` on rearranged operands (exact identities, not approximations):
 *   - filter gradient: dW[a,b,i,o] = Σ_{n,y,x} xpad[n, y·s+a, x·s+b, i] · dy[n,y,x,o] is a convolution of
 *     xᵀ (channels as batch, batch as channels) with dyᵀ used as a filter dilated by the stride;
 *   - input gradient: a stride-1 convolution of dy (zero-dilated by the stride) with the spatially flipped,
 *     in/out-swapped filter.
 * Their gradients (needed for second derivatives) are in grads.ts.
 */

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
type Strides = number | [number, number];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** Crops (negative) or zero-pads (positive) rows/cols of an NHWC tensor by per-side amounts. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  let y = x;
  const cropT = Math.max(0, -top);
  const cropB = Math.max(0, -bottom);
  const cropL = Math.max(0, -left);
  const cropR = Math.max(0, -right);
  if (cropT + cropB + cropL + cropR > 0) {
    const [n, h, w, c] = y.shape;
    y = tf.slice(y, [0, cropT, cropL, 0], [n, h - cropT - cropB, w - cropL - cropR, c]);
  }
  return y;
}

/** Explicit non-negative padding for tf.conv2d (negative sides must already be cropped by padOrCrop). */
function explicitPad(top: number, bottom: number, left: number, right: number): backend_util.ExplicitPadding {
  return [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ];
}

/**
 * [N, P, C] → [C, P, N] (channels to the batch axis, batch to the channel axis). A plain loop over wasm memory
 * is ~3× faster than tfjs's Transpose kernel here; the loop order reads sequentially.
 */
function swapBatchAndChannels(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const p = h * w;
  return hostOp([x], [[c, h, w, n]], ([a], [o]) => {
    const pn = p * n;
    let s = 0;
    for (let b = 0; b < n; b++) {
      for (let q = 0; q < p; q++) {
        const d = q * n + b;
        for (let k = 0; k < c; k++) o[k * pn + d] = a[s++];
      }
    }
  })[0] as tf.Tensor4D;
}

/** [N·H·W, C] → [C, N·H·W]. */
function channelsFirst(x: tf.Tensor4D): tf.Tensor2D {
  const [n, h, w, c] = x.shape;
  const m = n * h * w;
  return hostOp([x], [[c, m]], ([a], [o]) => {
    let s = 0;
    for (let q = 0; q < m; q++) {
      for (let k = 0; k < c; k++) o[k * m + q] = a[s++];
    }
  })[0] as tf.Tensor2D;
}

/** [N, H, W, C] → [H, W, N, C]. */
function batchInside(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const p = h * w;
  return hostOp([x], [[h, w, n, c]], ([a], [o]) => {
    let s = 0;
    for (let b = 0; b < n; b++) {
      for (let q = 0; q < p; q++) {
        const d = (q * n + b) * c;
        for (let k = 0; k < c; k++) o[d + k] = a[s++];
      }
    }
  })[0] as tf.Tensor4D;
}

/**
 * ∂L/∂W of `conv2d(x, W, strides, pad)` given dy, as one dilated convolution (see the file comment); a 1×1
 * stride-1 unpadded conv is a plain matrix product xᵀ·dy.
 * x: [N,H,W,Ci], dy: [N,Ho,Wo,Co] → [kh,kw,Ci,Co].
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: Strides,
  pad: Pad,
  dimRoundingMode?: Rounding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode);
    const [kh, kw, , co] = filterShape;
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    const [n, h, w] = x.shape;
    const [ho, wo] = [dy.shape[1], dy.shape[2]];
    const { top, left } = info.padInfo;
    if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && ho === h && wo === w && top === 0 && left === 0) {
      return tf.reshape(tf.matMul(channelsFirst(x), tf.reshape(dy, [n * h * w, co]) as tf.Tensor2D), filterShape);
    }
    const xt = swapBatchAndChannels(x); // [Ci, H, W, N]
    // Rows of x the forward conv never reached (stride not dividing the extent) are cropped, missing ones padded,
    // so that the "output" of the dilated convolution is exactly kh × kw.
    const bottom = kh + (ho - 1) * sh - h - top;
    const right = kw + (wo - 1) * sw - w - left;
    const xc = padOrCrop(xt, top, bottom, left, right);
    const dyt = batchInside(dy); // [Ho, Wo, N, Co] used as a filter
    const out = tf.conv2d(xc, dyt, 1, explicitPad(top, bottom, left, right), 'NHWC', [sh, sw]);
    return tf.transpose(out, [1, 2, 0, 3]); // [kh, kw, Ci, Co]
  });
}

/**
 * ∂L/∂x of `conv2d(x, W, strides, pad)` given dy, as a stride-1 convolution with the flipped filter.
 * dy: [N,Ho,Wo,Co], filter: [kh,kw,Ci,Co] → [N,H,W,Ci] with H, W from inputShape.
 */
export function conv2dInputGrad(
  inputShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  strides: Strides,
  pad: Pad,
  dimRoundingMode?: Rounding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = backend_util.computeConv2DInfo(inputShape, filter.shape, strides, 1, pad, dimRoundingMode);
    const [kh, kw, , co] = filter.shape;
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    const [n, ho, wo] = dy.shape;
    const [h, w] = [inputShape[1], inputShape[2]];
    let d: tf.Tensor4D = dy;
    if (sh > 1 || sw > 1) {
      // Zero-dilate: every dy value followed by (s-1) zeros along each spatial axis.
      const six = tf.reshape(dy, [n, ho, 1, wo, 1, co]);
      const padded = tf.pad(six, [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ]);
      d = tf.reshape(padded, [n, ho * sh, wo * sw, co]);
    }
    const [hd, wd] = [d.shape[1], d.shape[2]];
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = h + kh - 1 - hd - top;
    const right = w + kw - 1 - wd - left;
    d = padOrCrop(d, top, bottom, left, right);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D; // [kh,kw,Co,Ci]
    const out = tf.conv2d(d, flipped, 1, explicitPad(top, bottom, left, right));
    return out;
  });
}

function asTensor<R extends tf.Rank>(t: TensorInfo | undefined, name: string): tf.Tensor<R> {
  // The engine hands kernels the op's own Tensor objects; anything else would be a tfjs internals change.
  if (!(t instanceof tf.Tensor)) throw new Error(`kernel input ${name} is not a Tensor`);
  return t as tf.Tensor<R>;
}

const conv2dBackpropFilterWasm: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs }) => {
    const a = attrs as unknown as { strides: Strides; pad: Pad; dimRoundingMode?: Rounding; filterShape: [number, number, number, number]; dataFormat: string };
    if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter (project kernel): only NHWC');
    return conv2dFilterGrad(asTensor(inputs.x, 'x'), asTensor(inputs.dy, 'dy'), a.filterShape, a.strides, a.pad, a.dimRoundingMode);
  },
};

const conv2dBackpropInputWasm: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs }) => {
    const a = attrs as unknown as { strides: Strides; pad: Pad; dimRoundingMode?: Rounding; inputShape: [number, number, number, number]; dataFormat: string };
    if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropInput (project kernel): only NHWC');
    return conv2dInputGrad(a.inputShape, asTensor(inputs.dy, 'dy'), asTensor(inputs.filter, 'filter'), a.strides, a.pad, a.dimRoundingMode);
  },
};

let wasmDone = false;

/** Registers (and for Conv2DBackpropInput replaces) the wasm kernels; idempotent, call before setBackend('wasm'). */
export function registerWasmKernels(): void {
  if (wasmDone) return;
  for (const k of [conv2dBackpropFilterWasm, conv2dBackpropInputWasm]) {
    if (getKernel(k.kernelName, 'wasm') != null) unregisterKernel(k.kernelName, 'wasm');
    registerKernel(k);
  }
  wasmDone = true;
  registerDartsKernels();
}

const dartsConfigs = dartsKernelConfigs();

/**
 * Registers the DARTS kernels (dartsops.ts) on wasm and cpu, replacing tfjs's own. Call after the backend
 * package is imported: importing tfjs-backend-cpu re-registers (overwrites) its kernels.
 */
export function registerDartsKernels(): void {
  for (const k of dartsConfigs) {
    const cur = getKernel(k.kernelName, k.backendName);
    if (cur?.kernelFunc === k.kernelFunc) continue;
    if (cur != null) unregisterKernel(k.kernelName, k.backendName);
    registerKernel(k);
  }
}

/** Names of the kernels this module registers for wasm (for reports). */
export const PROJECT_WASM_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', ...DARTS_KERNELS] as const;
