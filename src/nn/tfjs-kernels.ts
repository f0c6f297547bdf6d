import * as tf from '@tensorflow/tfjs-core';
import { backend_util, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { dartsKernelConfigs, DARTS_KERNELS } from './dartsops.js';
import * as O from './engine/ops.js';
import { disposeArena, inArena, Tensor } from './engine/tensor.js';

/**
 * Kernels the project adds to tfjs for its tape engine (tf.grads: SynFlow and the cross-check `tape` metrics engine).
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` (the weight gradient of every conv) and its
 * `Conv2DBackpropInput` is a plain loop; both are computed by the engine's kernels (nn/engine/ops.ts), with the
 * operands copied into engine memory and the result copied back. Their gradients (second derivatives) are in
 * grads.ts.
 */

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
type Strides = number | [number, number];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

function asTensor(t: TensorInfo | undefined, name: string): tf.Tensor {
  // The engine hands kernels the op's own Tensor objects; anything else would be a tfjs internals change.
  if (!(t instanceof tf.Tensor)) throw new Error(`kernel input ${name} is not a Tensor`);
  return t;
}

function geomOf(info: backend_util.Conv2DInfo): O.ConvGeom {
  const p = info.padInfo;
  return { kh: info.filterHeight, kw: info.filterWidth, sh: info.strideHeight, sw: info.strideWidth, pt: p.top, pb: p.bottom, pl: p.left, pr: p.right };
}

/** Runs fn on engine copies of tfjs tensors and returns its result as a tfjs tensor. */
function viaEngine(inputs: tf.Tensor[], fn: (ts: Tensor[]) => Tensor): tf.Tensor {
  const arena: Tensor[] = [];
  try {
    return inArena(arena, () => {
      const r = fn(inputs.map((t) => Tensor.from(t.dataSync() as Float32Array, t.shape)));
      return tf.tensor(r.view(), r.shape, 'float32');
    });
  } finally {
    disposeArena(arena);
  }
}

/** ∂L/∂W of conv2d(x, W) given dy, x [N,H,W,Ci], dy [N,Ho,Wo,Co] → [kh,kw,Ci,Co] (tfjs tensors). */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], strides: Strides, pad: Pad, dimRoundingMode?: Rounding): tf.Tensor4D {
  const info = backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode);
  return viaEngine([x, dy], ([a, d]) => O.conv2dFilterGrad(a, d, geomOf(info))) as tf.Tensor4D;
}

/** ∂L/∂x of conv2d(x, W) given dy; dy [N,Ho,Wo,Co], filter [kh,kw,Ci,Co] → inputShape (tfjs tensors). */
export function conv2dInputGrad(inputShape: [number, number, number, number], dy: tf.Tensor4D, filter: tf.Tensor4D, strides: Strides, pad: Pad, dimRoundingMode?: Rounding): tf.Tensor4D {
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape, strides, 1, pad, dimRoundingMode);
  return viaEngine([dy, filter], ([d, w]) => O.conv2dInputGrad(inputShape, d, w, geomOf(info))) as tf.Tensor4D;
}

const conv2dBackpropFilterWasm: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs }) => {
    const a = attrs as unknown as { strides: Strides; pad: Pad; dimRoundingMode?: Rounding; filterShape: [number, number, number, number]; dataFormat: string };
    if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter (project kernel): only NHWC');
    return conv2dFilterGrad(asTensor(inputs.x, 'x') as tf.Tensor4D, asTensor(inputs.dy, 'dy') as tf.Tensor4D, a.filterShape, a.strides, a.pad, a.dimRoundingMode);
  },
};

const conv2dBackpropInputWasm: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs }) => {
    const a = attrs as unknown as { strides: Strides; pad: Pad; dimRoundingMode?: Rounding; inputShape: [number, number, number, number]; dataFormat: string };
    if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropInput (project kernel): only NHWC');
    return conv2dInputGrad(a.inputShape, asTensor(inputs.dy, 'dy') as tf.Tensor4D, asTensor(inputs.filter, 'filter') as tf.Tensor4D, a.strides, a.pad, a.dimRoundingMode);
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
