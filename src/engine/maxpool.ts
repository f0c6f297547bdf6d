import { getEngine } from './kernels.js';
import { Tensor } from './tensor.js';

/**
 * Max pooling on engine tensors (native/kernels/maxpool.c) with PyTorch's rules: padding never wins, the first maximum
 * in row-major window order takes ties, NaN propagates. The forward also returns, per output element, the flat index
 * of the input it took (int32 values in the memory of an engine tensor — read them with `argIndices`), which the
 * backward pass and the forward tangent use.
 */

export interface MaxPool {
  y: Tensor;
  /** Int32 flat input indices, one per output element (not floats: use only with these functions). */
  arg: Tensor;
}

function outSize(size: number, k: number, s: number, p: number): number {
  return Math.floor((size + 2 * p - k) / s) + 1;
}

function check(shape: readonly number[], k: number, s: number, p: number): [number, number, number, number, number, number] {
  if (shape.length !== 4) throw new RangeError(`max pool: input must be NHWC, got [${shape.join(', ')}]`);
  if (!(k >= 1 && s >= 1 && p >= 0 && 2 * p < k + 1)) throw new RangeError(`max pool: kernel ${k}, stride ${s}, padding ${p} (padding must be at most k/2)`);
  const [n, h, w, c] = shape;
  const ho = outSize(h, k, s, p);
  const wo = outSize(w, k, s, p);
  if (ho < 1 || wo < 1) throw new RangeError(`max pool: ${h}×${w} input too small for kernel ${k}, padding ${p}`);
  if (n * h * w * c >= 2 ** 31) throw new RangeError('max pool: input too large for int32 indices');
  return [n, h, w, c, ho, wo];
}

/** y = max_pool(x) and the index of each maximum. */
export function maxPoolWithArg(x: Tensor, k: number, s: number, p: number): MaxPool {
  const [n, h, w, c, ho, wo] = check(x.shape, k, s, p);
  const y = Tensor.empty([n, ho, wo, c]);
  const arg = Tensor.empty([n, ho, wo, c]);
  getEngine().run('maxpool_fwd', [x.ptr, y.ptr, arg.ptr, h, w, c, ho, wo, k, s, p], n * ho, {});
  return { y, arg };
}

/** The adjoint of y = x[arg]: dx[i] = Σ of gy over the outputs that took input i (in output order). */
export function maxPoolBackward(gy: Tensor, arg: Tensor, xShape: readonly number[], k: number, s: number, p: number): Tensor {
  const [n, h, w, c, ho, wo] = check(xShape, k, s, p);
  const dx = Tensor.empty(xShape);
  getEngine().run('maxpool_bwd', [gy.ptr, arg.ptr, dx.ptr, h, w, c, ho, wo, k, s, p], n * h, {});
  return dx;
}

const CHUNK = 16384;

/** out = x[arg] (shaped like arg): the max pool's forward tangent. */
export function gatherArg(x: Tensor, arg: Tensor): Tensor {
  const out = Tensor.empty(arg.shape);
  const n = arg.size;
  getEngine().run('gather_idx', [x.ptr, arg.ptr, out.ptr, n, CHUNK], Math.ceil(n / CHUNK), { grain: 1, parallel: n >= 1 << 16 });
  return out;
}

/** The indices as numbers (tests, debugging). */
export function argIndices(arg: Tensor): Int32Array {
  return new Int32Array(getEngine().heap.memory.buffer, arg.ptr, arg.size).slice();
}
