import { getEngine, type Engine } from './kernels.js';
import { Tensor } from './tensor.js';

/**
 * Depthwise (optionally dilated, strided) convolution on engine tensors, over native/kernels/depthwise.c: forward,
 * input gradient and filter gradient. Activations NHWC [N, H, W, C], filter [k, k, C] (the memory of HWIO
 * [k, k, 1, C], i.e. of PyTorch's [C, 1, k, k] weight converted by `oihwToHwio`). Padding is symmetric, as PyTorch's
 * Conv2d(padding=p); `samePad` gives PyTorch's padding='same' for odd k.
 *
 * `exact` selects the arithmetic (see native/kernels/depthwise.c): true reproduces the JavaScript loops DARTS' networks ran on bit for
 * bit (every tap rounded through double; the filter gradient summed in double in output-pixel order); false is plain
 * float arithmetic, several times faster. Results never depend on the engine kind or the threads.
 */

const E = (): Engine => getEngine();

export interface DepthwiseGeom {
  /** Filter size (k × k), 1..8. */
  k: number;
  stride: number;
  /** Zero padding on every side. */
  pad: number;
  dilation: number;
  /** JavaScript-exact arithmetic (DARTS) rather than plain float arithmetic. Default false. */
  exact?: boolean;
}

/** PyTorch's padding='same' for an odd filter size: d·(k − 1)/2 on every side. */
export function samePad(k: number, dilation = 1): number {
  if (k % 2 !== 1) throw new RangeError(`samePad: filter size ${k} is even; 'same' padding would be asymmetric`);
  return (dilation * (k - 1)) / 2;
}

/** Output size along one axis. */
export function depthwiseOutSize(size: number, g: DepthwiseGeom): number {
  return Math.floor((size + 2 * g.pad - (g.k - 1) * g.dilation - 1) / g.stride) + 1;
}

function check(xShape: readonly number[], g: DepthwiseGeom): { n: number; h: number; w: number; c: number; ho: number; wo: number } {
  const [n, h, w, c] = xShape;
  if (xShape.length !== 4) throw new RangeError(`depthwise conv: input must be NHWC, got [${xShape.join(', ')}]`);
  if (!(Number.isInteger(g.k) && g.k >= 1 && g.k <= 8)) throw new RangeError(`depthwise conv: filter size ${g.k} (1..8 supported)`);
  if (!(g.stride >= 1 && g.dilation >= 1 && g.pad >= 0)) throw new RangeError(`depthwise conv: stride ${g.stride}, dilation ${g.dilation}, pad ${g.pad}`);
  const ho = depthwiseOutSize(h, g);
  const wo = depthwiseOutSize(w, g);
  if (ho < 1 || wo < 1) throw new RangeError(`depthwise conv: ${h}×${w} input too small for k ${g.k}, dilation ${g.dilation}, pad ${g.pad}`);
  return { n, h, w, c, ho, wo };
}

const geomArgs = (s: { h: number; w: number; c: number; ho: number; wo: number }, g: DepthwiseGeom): number[] => [
  s.h,
  s.w,
  s.c,
  s.ho,
  s.wo,
  g.k,
  g.stride,
  g.pad,
  g.dilation,
];

/** y = depthwise_conv(x, filter), [N, Ho, Wo, C]. */
export function depthwiseConv(x: Tensor, filter: Tensor, g: DepthwiseGeom): Tensor {
  const s = check(x.shape, g);
  const y = Tensor.empty([s.n, s.ho, s.wo, s.c]);
  E().run('dw_fwd', [x.ptr, filter.ptr, y.ptr, ...geomArgs(s, g), g.exact ? 1 : 0], s.n * s.ho, {});
  return y;
}

/** ∂L/∂x given dy [N, Ho, Wo, C] → xShape. */
export function depthwiseInputGrad(xShape: readonly number[], dy: Tensor, filter: Tensor, g: DepthwiseGeom): Tensor {
  const s = check(xShape, g);
  const dx = Tensor.empty(xShape);
  E().run('dw_bwd_input', [dy.ptr, filter.ptr, dx.ptr, ...geomArgs(s, g), g.exact ? 1 : 0], s.n * s.h, {});
  return dx;
}

/** Channel groups of the filter-gradient kernel (its tasks): 4 lanes each, the last c mod 4 channels one each. */
function wgradGroups(c: number): number {
  return Math.floor(c / 4) + (c % 4);
}

/** Output rows per task of the float filter gradient: about 1,024 pixels (fixed by the geometry, never by the threads). */
function rowsPerTask(wo: number): number {
  return Math.max(1, Math.round(1024 / wo));
}

/**
 * ∂L/∂filter, [k, k, C]. Exact: every output pixel in order, summed in double (the JavaScript loop's sums). Float:
 * float sums over fixed runs of rows, the runs' partial sums added in double in order.
 */
export function depthwiseFilterGrad(x: Tensor, dy: Tensor, g: DepthwiseGeom): Tensor {
  const s = check(x.shape, g);
  const gf = Tensor.empty([g.k, g.k, s.c]);
  const e = E();
  if (g.exact) {
    const acc = e.heap.alloc(g.k * g.k * s.c * 8);
    const groups = wgradGroups(s.c);
    // One run of groups per thread: each run sweeps the tensors once (the split never changes a value).
    const grain = Math.max(1, Math.ceil(groups / e.info.threads));
    e.run('dw_wgrad', [x.ptr, dy.ptr, gf.ptr, acc, s.n, s.h, s.w, s.c, s.ho, s.wo, g.k, g.stride, g.pad, g.dilation], groups, { grain });
    e.heap.release(acc);
    return gf;
  }
  const rpt = rowsPerTask(s.wo);
  const tasks = Math.ceil((s.n * s.ho) / rpt);
  const taps = g.k * g.k;
  const part = e.heap.alloc(tasks * taps * s.c * 4);
  e.run('dw_wgrad_f32', [x.ptr, dy.ptr, part, s.n, s.h, s.w, s.c, s.ho, s.wo, g.k, g.stride, g.pad, g.dilation, rpt], tasks, { grain: 1 });
  e.run('reduce_partials', [part, tasks, gf.ptr, taps, s.c, s.c, 0], taps, { parallel: tasks * taps * s.c >= 1 << 16 });
  e.heap.release(part);
  return gf;
}
