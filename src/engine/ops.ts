import { CHAN_ROWS, CHUNK, E, floats, PARALLEL_MIN, release, words } from './kernel-args.js';
import { convOutSize } from './conv.js';
import { Tensor } from './tensor.js';

/**
 * Tensor-level operations of the engine other than convolutions (conv.ts) and BatchNorm (batchnorm.ts): elementwise
 * passes, per-channel reductions and affine maps, pooling, the classifier. Each lays out the arguments of one kernel
 * (native/kernels/*.c) and runs it over the thread pool. Activations are NHWC, linear weights [out, in]. Reductions
 * are float64 sums of fixed runs added in a fixed order, so results do not depend on the thread count.
 */

function elementwise(kernel: 'ew_add' | 'ew_relu' | 'ew_mask', args: number[], n: number): void {
  E().run(kernel, [...args, n, CHUNK], Math.ceil(n / CHUNK), { grain: 1, parallel: n >= PARALLEL_MIN });
}

// ---- elementwise ----

export function add(a: Tensor, b: Tensor): Tensor {
  const o = Tensor.empty(a.shape);
  elementwise('ew_add', [a.ptr, b.ptr, o.ptr], a.size);
  return o;
}

/** target += src in place. */
export function addInto(target: Tensor, src: Tensor): void {
  elementwise('ew_add', [target.ptr, src.ptr, target.ptr], target.size);
}

/** Σ of same-shaped tensors (added left to right). */
export function sum(ts: readonly Tensor[]): Tensor {
  if (ts.length === 1) return copy(ts[0]);
  const o = Tensor.empty(ts[0].shape);
  const list = words(ts.map((t) => t.ptr));
  const n = o.size;
  E().run('ew_addn', [list, ts.length, o.ptr, n, CHUNK], Math.ceil(n / CHUNK), { grain: 1, parallel: n >= PARALLEL_MIN });
  release(list);
  return o;
}

export function copy(a: Tensor): Tensor {
  const o = Tensor.empty(a.shape);
  o.view().set(a.view());
  return o;
}

export function relu(x: Tensor): Tensor {
  const o = Tensor.empty(x.shape);
  elementwise('ew_relu', [x.ptr, o.ptr], x.size);
  return o;
}

/** x·s (s rounded to float32). */
export function scale(x: Tensor, s: number): Tensor {
  const o = Tensor.empty(x.shape);
  const n = x.size;
  E().run('ew_scale', [x.ptr, E().f32(s), o.ptr, n, CHUNK], Math.ceil(n / CHUNK), { grain: 1, parallel: n >= PARALLEL_MIN });
  return o;
}

/** Largest |value| (NaN if any value is NaN). */
export function maxAbs(x: Tensor): number {
  const v = x.view();
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (a > m) m = a;
    else if (a !== a) return NaN;
  }
  return m;
}

/** g where ref > 0, else 0. */
export function mask(ref: Tensor, g: Tensor): Tensor {
  const o = Tensor.empty(g.shape);
  elementwise('ew_mask', [ref.ptr, g.ptr, o.ptr], g.size);
  return o;
}

/** Σ a⊙b in float64. */
export function dot(a: Tensor, b: Tensor): number {
  const n = a.size;
  const tasks = Math.ceil(n / CHUNK);
  const part = E().heap.alloc(tasks * 8);
  E().run('dot_f64', [a.ptr, b.ptr, part, n, CHUNK], tasks, { grain: 1, parallel: n >= PARALLEL_MIN });
  const v = E().heap.F64;
  let s = 0;
  for (let t = 0; t < tasks; t++) s += v[(part >> 3) + t];
  release(part);
  return s;
}

// ---- per-channel passes ----

/** Per-channel sums over positions (float64 partials of CHAN_ROWS positions, added in order). */
function channelReduce(kernel: 'chan_sum' | 'chan_dot', x: Tensor, y: Tensor | null, c: number): { s: Float64Array; d: Float64Array | null } {
  const m = x.size / c;
  const tasks = Math.ceil(m / CHAN_ROWS);
  const width = kernel === 'chan_dot' ? 2 * c : c;
  const part = E().heap.alloc(tasks * width * 8);
  const args = kernel === 'chan_dot' ? [x.ptr, y!.ptr, part, m, c, CHAN_ROWS] : [x.ptr, part, m, c, CHAN_ROWS];
  E().run(kernel, args, tasks, { grain: 1, parallel: x.size >= PARALLEL_MIN });
  const v = E().heap.F64;
  const acc = new Float64Array(width);
  for (let t = 0; t < tasks; t++) {
    const o = (part >> 3) + t * width;
    for (let k = 0; k < width; k++) acc[k] += v[o + k];
  }
  release(part);
  return kernel === 'chan_dot' ? { s: acc.subarray(0, c), d: acc.subarray(c) } : { s: acc, d: null };
}

/** Σ over positions of g per channel (bias gradients). */
export function channelSum(g: Tensor, c: number): Float64Array {
  return channelReduce('chan_sum', g, null, c).s;
}

/** Per channel: Σ y and Σ x·y over positions. */
export function channelSumDot(x: Tensor, y: Tensor, c: number): { sum: Float64Array; dot: Float64Array } {
  const r = channelReduce('chan_dot', x, y, c);
  return { sum: r.s, dot: r.d! };
}

/** Per sample and channel: Σ_positions a⊙g, [N, C] (Fisher). */
export function sampleChannelDot(a: Tensor, g: Tensor, n: number, c: number): Float64Array {
  const out = E().heap.alloc(n * c * 8);
  E().run('sample_chan_dot', [a.ptr, g.ptr, out, a.size / (n * c), c], n, { grain: 1, parallel: a.size >= PARALLEL_MIN });
  const r = Float64Array.from(E().heap.F64.subarray(out >> 3, (out >> 3) + n * c));
  release(out);
  return r;
}

/** mode 0: x·s + b; mode 1: (x − b)·s; with g: also the second output x'·g + beta (BatchNorm's affine step). */
export function chanAffine(x: Tensor, c: number, mode: 0 | 1, s: ArrayLike<number>, b: ArrayLike<number>, g?: ArrayLike<number>, beta?: ArrayLike<number>): { out: Tensor; out2: Tensor | null } {
  const m = x.size / c;
  const sp = floats(s);
  const bp = floats(b);
  const gp = g ? floats(g) : 0;
  const betap = g ? floats(beta ?? new Float32Array(c)) : 0;
  const out = Tensor.empty(x.shape);
  const out2 = g ? Tensor.empty(x.shape) : null;
  E().run('chan_affine', [x.ptr, sp, bp, out.ptr, m, c, mode, gp, betap, out2 ? out2.ptr : 0, CHAN_ROWS], Math.ceil(m / CHAN_ROWS), {
    grain: 1,
    parallel: x.size >= PARALLEL_MIN,
  });
  release(sp, bp, gp, betap);
  return { out, out2 };
}

/** γ·x + β per channel (last axis). */
export function affine(x: Tensor, c: number, gamma?: ArrayLike<number>, beta?: ArrayLike<number>): Tensor {
  return chanAffine(x, c, 0, gamma ?? new Float32Array(c).fill(1), beta ?? new Float32Array(c)).out;
}

/** y − b per channel. */
export function subtractChannel(y: Tensor, b: ArrayLike<number>): Tensor {
  return chanAffine(y, b.length, 1, new Float32Array(b.length).fill(1), b).out;
}

/** x·s[k] + y. */
export function axpyChannel(x: Tensor, s: ArrayLike<number>, y: Tensor, c: number): Tensor {
  const sp = floats(s);
  const out = Tensor.empty(x.shape);
  const m = x.size / c;
  E().run('chan_affine2', [x.ptr, sp, y.ptr, out.ptr, m, c, CHAN_ROWS], Math.ceil(m / CHAN_ROWS), { grain: 1, parallel: x.size >= PARALLEL_MIN });
  release(sp);
  return out;
}

// ---- pooling, classifier ----

export function avgPool(x: Tensor, k: number, s: number, p: number): Tensor {
  const [n, h, w, c] = x.shape;
  const ho = convOutSize(h, k, s, p);
  const wo = convOutSize(w, k, s, p);
  const y = Tensor.empty([n, ho, wo, c]);
  E().run('avgpool_fwd', [x.ptr, y.ptr, h, w, c, ho, wo, k, s, p], n * ho, { parallel: x.size >= PARALLEL_MIN });
  return y;
}

/** The adjoint of avgPool (gradient to its input of shape xShape). */
export function avgPoolBackward(gy: Tensor, xShape: readonly number[], k: number, s: number, p: number): Tensor {
  const [n, h, w, c] = xShape;
  const [, ho, wo] = gy.shape;
  const dx = Tensor.empty(xShape);
  E().run('avgpool_bwd', [gy.ptr, dx.ptr, h, w, c, ho, wo, k, s, p], n * h, { parallel: dx.size >= PARALLEL_MIN });
  return dx;
}

/** [N,H,W,C] → [N,C]. */
export function globalAvgPool(x: Tensor): Tensor {
  const [n, h, w, c] = x.shape;
  const y = Tensor.empty([n, c]);
  E().run('gap_fwd', [x.ptr, y.ptr, h * w, c], n, { parallel: x.size >= PARALLEL_MIN });
  return y;
}

export function globalAvgPoolBackward(gy: Tensor, xShape: readonly number[]): Tensor {
  const [n, h, w, c] = xShape;
  const dx = Tensor.empty(xShape);
  E().run('gap_bwd', [gy.ptr, dx.ptr, h * w, c], n, { parallel: dx.size >= PARALLEL_MIN });
  return dx;
}

/** x [N,F] · wᵀ (w [O,F]) + b. */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const [n, f] = x.shape;
  const o = w.shape[0];
  const y = Tensor.empty([n, o]);
  E().run('linear_fwd', [x.ptr, w.ptr, b ? b.ptr : 0, y.ptr, f, o], n, { parallel: false });
  return y;
}

/** g [N,O] · w → [N,F]. */
export function linearInputGrad(g: Tensor, w: Tensor): Tensor {
  const [n, o] = g.shape;
  const f = w.shape[1];
  const gx = Tensor.empty([n, f]);
  E().run('linear_bwd_input', [g.ptr, w.ptr, gx.ptr, f, o], n, { parallel: false });
  return gx;
}

/** gᵀ·x → [O,F], and Σ_n g → [O] when `bias`. */
export function linearWeightGrad(g: Tensor, x: Tensor, bias: boolean): { gw: Tensor; gb: Tensor | null } {
  const [n, o] = g.shape;
  const f = x.shape[1];
  const gw = Tensor.empty([o, f]);
  const gb = bias ? Tensor.empty([o]) : null;
  E().run('linear_bwd_weight', [g.ptr, x.ptr, gw.ptr, gb ? gb.ptr : 0, n, f, o], o, { parallel: false });
  return { gw, gb };
}
