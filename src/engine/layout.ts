import { getEngine } from './kernels.js';
import { Tensor } from './tensor.js';

/**
 * Copies between NHWC layouts on engine tensors (native/kernels/copy.c): channel concatenation and slicing (DARTS'
 * cell outputs, FactorizedReduce), and the shifted crop of FactorizedReduce with its adjoint. Pure copies: no value
 * changes.
 */

/** Positions (N·H·W rows) per task of the channel copies. */
const ROWS = 256;

function chanCopy(src: number, dst: number, rows: number, c: number, srcStride: number, dstStride: number): void {
  getEngine().run('chan_copy', [src, dst, rows, c, srcStride, dstStride, ROWS], Math.ceil(rows / ROWS), { grain: 1, parallel: rows * c >= 1 << 16 });
}

/** Channel concatenation of NHWC tensors with equal N, H, W; null entries are zeros of `channels[i]` channels. */
export function concatChannels(xs: readonly (Tensor | null)[], channels: readonly number[], nhw?: readonly number[]): Tensor {
  const total = channels.reduce((a, b) => a + b, 0);
  const shape = nhw ?? xs.find((x) => x !== null)!.shape.slice(0, 3);
  const out = Tensor.empty([...shape, total]);
  const rows = out.size / total;
  let off = 0;
  xs.forEach((x, i) => {
    chanCopy(x === null ? 0 : x.ptr, out.ptr + off * 4, rows, channels[i], channels[i], total);
    off += channels[i];
  });
  return out;
}

/** Channels [from, from + c) of an NHWC tensor. */
export function sliceChannels(x: Tensor, from: number, c: number): Tensor {
  const [n, h, w, total] = x.shape;
  const out = Tensor.empty([n, h, w, c]);
  chanCopy(x.ptr + from * 4, out.ptr, n * h * w, c, total, c);
  return out;
}

/** x[:, top:, left:, :]. */
export function cropTopLeft(x: Tensor, top: number, left: number): Tensor {
  const [n, h, w, c] = x.shape;
  const out = Tensor.empty([n, h - top, w - left, c]);
  getEngine().run('crop', [x.ptr, out.ptr, n, h, w, c, top, left, 0], n * (h - top), { parallel: out.size >= 1 << 16 });
  return out;
}

/** Adjoint of cropTopLeft: zero rows/columns in front. */
export function uncropTopLeft(g: Tensor, top: number, left: number): Tensor {
  const [n, h2, w2, c] = g.shape;
  const h = h2 + top;
  const w = w2 + left;
  const out = Tensor.empty([n, h, w, c]);
  getEngine().run('crop', [g.ptr, out.ptr, n, h, w, c, top, left, 1], n * h, { parallel: out.size >= 1 << 16 });
  return out;
}
