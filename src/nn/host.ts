import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Runs JavaScript loops directly on tensor memory. On the wasm backend tensors live in the module's heap:
 * outputs are allocated there (uninitialised) and both inputs and outputs are accessed as zero-copy
 * Float32Array views, so elementwise work costs one pass over memory instead of a chain of tfjs kernels.
 * On the cpu backend the stored arrays are used; other backends copy through host memory.
 */

interface WasmLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/**
 * fn reads `ins` and writes every element of `outs` (wasm outputs start uninitialised). Views are only valid
 * inside fn: the wasm heap may be re-allocated by any later tensor allocation.
 */
export function hostOp(inputs: readonly tf.Tensor[], outShapes: readonly number[][], fn: (ins: Float32Array[], outs: Float32Array[]) => void): tf.Tensor[] {
  for (const t of inputs) {
    if (t.dtype !== 'float32') throw new Error(`hostOp: float32 inputs only, got ${t.dtype}`);
  }
  if (tf.getBackend() === 'wasm') {
    const b = tf.backend() as unknown as WasmLike;
    const engine = tf.engine();
    const outs = outShapes.map((s) => engine.makeTensorFromTensorInfo(b.makeOutput([...s], 'float32')));
    // Views only after every allocation (a heap growth detaches earlier views).
    const inV = inputs.map((t) => b.typedArrayFromHeap(t));
    const outV = outs.map((t) => b.typedArrayFromHeap(t));
    fn(inV, outV);
    return outs;
  }
  const inV = inputs.map((t) => t.dataSync() as Float32Array);
  const outV = outShapes.map((s) => new Float32Array(sizeOf(s)));
  fn(inV, outV);
  return outV.map((v, i) => tf.tensor(v, [...outShapes[i]], 'float32'));
}

/** Reads a tensor's values (zero-copy on wasm: valid until the next tensor allocation). */
export function hostRead(t: tf.Tensor): Float32Array {
  if (tf.getBackend() === 'wasm') return (tf.backend() as unknown as WasmLike).typedArrayFromHeap(t);
  return t.dataSync() as Float32Array;
}

/**
 * Updates `target` in place from `inputs` when tensor memory is directly addressable (wasm); returns false
 * (and does nothing) elsewhere, so callers fall back to an out-of-place op. target must not be shared.
 */
export function hostInPlace(target: tf.Tensor, inputs: readonly tf.Tensor[], fn: (t: Float32Array, ins: Float32Array[]) => void): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  const b = tf.backend() as unknown as WasmLike;
  fn(b.typedArrayFromHeap(target), inputs.map((t) => b.typedArrayFromHeap(t)));
  return true;
}

/**
 * Runs fn in a tfjs scope that disposes every tensor it created. Unlike tf.tidy it does not walk the result
 * (which here holds large typed arrays, never tensors).
 */
export function scoped<T>(fn: () => T): T {
  const engine = tf.engine();
  engine.startScope();
  try {
    return fn();
  } finally {
    engine.endScope();
  }
}
