import * as tf from '@tensorflow/tfjs-core';
import { hostInPlace, hostOp, hostRead } from './host.js';
import * as H from './hostops.js';
import { simd } from './simd.js';

/**
 * Tensor-level elementwise and BatchNorm passes for the manual autodiff: the wasm SIMD kernels (simd.ts) when
 * available and the sizes allow (multiples of 4 elements and channels), else the JavaScript loops of hostops.ts.
 * Both paths compute the same float32 results up to rounding; BatchNorm statistics accumulate per channel in
 * position order in float32 either way (see hostops.bnStats).
 */

const S = () => simd();

/** Scratch channel vectors in wasm memory (slot i holds up to `cap` floats). */
let scratchPtr = 0;
let scratchCap = 0;
const SLOTS = 12;
function slots(c: number): number {
  const s = S()!;
  if (c > scratchCap) {
    if (scratchPtr) s.free(scratchPtr);
    scratchCap = Math.max(c, 256);
    scratchPtr = s.malloc(SLOTS * scratchCap * 4);
  }
  return scratchPtr;
}
function slot(i: number): number {
  return scratchPtr + i * scratchCap * 4;
}
function writeSlot(i: number, v: ArrayLike<number>): number {
  const s = S()!;
  const p = slot(i);
  new Float32Array(s.memory.buffer, p, v.length).set(v);
  return p;
}
function zeroSlot(i: number, c: number): number {
  const s = S()!;
  const p = slot(i);
  new Float32Array(s.memory.buffer, p, c).fill(0);
  return p;
}
function readSlot(i: number, c: number): Float32Array {
  return Float32Array.from(new Float32Array(S()!.memory.buffer, slot(i), c));
}

function alloc(shape: number[]): tf.Tensor {
  const b = tf.backend() as unknown as { makeOutput(s: number[], d: 'float32'): tf.TensorInfo };
  return tf.engine().makeTensorFromTensorInfo(b.makeOutput(shape, 'float32'));
}

const usable = (size: number, c = 4): boolean => S() !== null && size % 4 === 0 && c % 4 === 0;

export function add(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (usable(a.size)) {
    const s = S()!;
    const o = alloc(a.shape);
    s.fns.add(s.offset(a), s.offset(b), s.offset(o), a.size);
    return o;
  }
  return hostOp([a, b], [a.shape], ([x, y], [o]) => H.add(x, y, o))[0];
}

/** target += src in place when possible; false when the caller must fall back to `add`. */
export function addInto(target: tf.Tensor, src: tf.Tensor): boolean {
  if (usable(target.size)) {
    const s = S()!;
    s.fns.add(s.offset(target), s.offset(src), s.offset(target), target.size);
    return true;
  }
  return hostInPlace(target, [src], (t, [x]) => {
    for (let i = 0; i < t.length; i++) t[i] += x[i];
  });
}

/** Σ of several same-shaped tensors. */
export function sum(ts: tf.Tensor[]): tf.Tensor {
  if (ts.length === 1) return copy(ts[0]);
  if (usable(ts[0].size)) {
    const s = S()!;
    const o = alloc(ts[0].shape);
    s.fns.add(s.offset(ts[0]), s.offset(ts[1]), s.offset(o), o.size);
    for (let i = 2; i < ts.length; i++) s.fns.add(s.offset(o), s.offset(ts[i]), s.offset(o), o.size);
    return o;
  }
  return hostOp(ts, [ts[0].shape], (ins, [o]) => {
    o.set(ins[0]);
    for (let j = 1; j < ins.length; j++) {
      const a = ins[j];
      for (let i = 0; i < o.length; i++) o[i] += a[i];
    }
  })[0];
}

export function copy(a: tf.Tensor): tf.Tensor {
  return hostOp([a], [a.shape], ([x], [o]) => o.set(x))[0];
}

export function relu(x: tf.Tensor): tf.Tensor {
  if (usable(x.size)) {
    const s = S()!;
    const o = alloc(x.shape);
    s.fns.relu(s.offset(x), s.offset(o), x.size);
    return o;
  }
  return hostOp([x], [x.shape], ([a], [o]) => H.reluForward(a, o))[0];
}

/** g where ref > 0, else 0. */
export function mask(ref: tf.Tensor, g: tf.Tensor): tf.Tensor {
  if (usable(ref.size)) {
    const s = S()!;
    const o = alloc(g.shape);
    s.fns.mask(s.offset(ref), s.offset(g), s.offset(o), g.size);
    return o;
  }
  return hostOp([ref, g], [g.shape], ([a, b], [o]) => H.maskPositive(a, b, o))[0];
}

/** y − b with b a per-channel vector (last axis). */
export function subtractChannel(y: tf.Tensor, b: Float32Array): tf.Tensor {
  const c = b.length;
  if (usable(y.size, c)) {
    const s = S()!;
    slots(c);
    const ones = writeSlot(0, new Float32Array(c).fill(1));
    const neg = writeSlot(1, b.map((v) => -v));
    const o = alloc(y.shape);
    s.fns.mulAdd(s.offset(y), ones, neg, s.offset(o), y.size, c);
    return o;
  }
  const bt = tf.tensor1d(b);
  const out = hostOp([y, bt], [y.shape], ([a, bb], [o]) => H.subtractChannel(a, bb, o))[0];
  bt.dispose();
  return out;
}

export interface BnForward {
  xhat: tf.Tensor;
  /** γ·x̂ + β, or x̂ itself without affine parameters. */
  y: tf.Tensor;
  r: Float64Array;
  /** Batch mean per channel (float32, as used). */
  mean: Float32Array;
  /** Biased batch variance per channel, recovered from r (training updates running statistics with it). */
  variance: Float64Array;
}

/**
 * Training-mode BatchNorm over all but the last axis. `fast` (training) runs the variance and normalisation as
 * SIMD kernels, rounding (x − μ)² to float32 first; the default keeps the exact variance the metric fixtures
 * need (see the comment inside).
 */
export function bnForward(x: tf.Tensor, c: number, eps: number, gamma?: Float32Array, beta?: Float32Array, fast = false): BnForward {
  const m = x.size / c;
  let xhat: tf.Tensor;
  let r: Float64Array;
  let mean: Float32Array;
  if (usable(x.size, c)) {
    const s = S()!;
    slots(c);
    s.fns.chanSum(s.offset(x), zeroSlot(0, c), x.size, c);
    mean = readSlot(0, c).map((v) => v / m); // float32, as PyTorch
    writeSlot(1, mean);
    if (fast) {
      s.fns.chanSqDev(s.offset(x), slot(1), zeroSlot(2, c), x.size, c);
      r = Float64Array.from(readSlot(2, c), (vv) => 1 / Math.sqrt(vv / m + eps));
      writeSlot(3, Float32Array.from(r));
      xhat = alloc(x.shape);
      s.fns.subMul(s.offset(x), slot(3), slot(1), s.offset(xhat), x.size, c);
    } else {
      // The variance sum stays a JS loop: (x − μ)² exact in float64, added to a float32 accumulator. Rounding
      // (x − μ)² to float32 first (the SIMD kernel) moves C=16, N=5 gradients by ~2e-4 (see hostops.bnStats).
      const v = new Float32Array(c);
      const xs = hostRead(x);
      const mu = mean;
      for (let i = 0; i < xs.length; i += c) {
        for (let k = 0; k < c; k++) {
          const d = xs[i + k] - mu[k];
          v[k] += d * d;
        }
      }
      r = Float64Array.from(v, (vv) => 1 / Math.sqrt(vv / m + eps));
      const rr = r;
      [xhat] = hostOp([x], [x.shape], ([a], [o]) => H.bnNormalize(a, { mean: mu, r: rr }, o));
    }
  } else {
    let st: H.BnStats | undefined;
    [xhat] = hostOp([x], [x.shape], ([a], [o]) => {
      st = H.bnStats(a, c, eps);
      H.bnNormalize(a, st, o);
    });
    r = st!.r;
    mean = st!.mean;
  }
  const variance = Float64Array.from(r, (v) => Math.max(0, 1 / (v * v) - eps));
  return { xhat, y: gamma || beta ? affine(xhat, c, gamma, beta) : xhat, r, mean, variance };
}

/** γ·x + β per channel. */
export function affine(x: tf.Tensor, c: number, gamma?: Float32Array, beta?: Float32Array): tf.Tensor {
  if (usable(x.size, c)) {
    const s = S()!;
    slots(c);
    const g = writeSlot(4, gamma ?? new Float32Array(c).fill(1));
    const b = writeSlot(5, beta ?? new Float32Array(c));
    const o = alloc(x.shape);
    s.fns.mulAdd(s.offset(x), g, b, s.offset(o), x.size, c);
    return o;
  }
  return hostOp([x], [x.shape], ([a], [o]) => H.affine(a, o, gamma, beta))[0];
}

/** Per-channel means of v and of x̂·v (float64 results of float32 sums). */
function channelMeans(xhat: tf.Tensor, v: tf.Tensor, c: number): { mv: Float64Array; mxv: Float64Array } {
  const s = S()!;
  const m = v.size / c;
  slots(c);
  s.fns.chanSum(s.offset(v), zeroSlot(6, c), v.size, c);
  s.fns.chanDot(s.offset(xhat), s.offset(v), zeroSlot(7, c), v.size, c);
  return { mv: Float64Array.from(readSlot(6, c), (a) => a / m), mxv: Float64Array.from(readSlot(7, c), (a) => a / m) };
}

/** out = s·(v − a − x̂·b) per channel. */
function bnOut(v: tf.Tensor, xhat: tf.Tensor, a: ArrayLike<number>, b: ArrayLike<number>, scale: ArrayLike<number>, c: number): tf.Tensor {
  const s = S()!;
  slots(c);
  writeSlot(8, a);
  writeSlot(9, b);
  writeSlot(10, scale);
  const o = alloc(v.shape);
  s.fns.bnOut(s.offset(v), s.offset(xhat), slot(8), slot(9), slot(10), s.offset(o), v.size, c);
  return o;
}

/** Forward tangent x̂̇ = J·ẋ = r·(ẋ − mean ẋ − x̂·mean(x̂ẋ)) and ρ = ṙ/r = −r·mean(x̂ẋ). */
export function bnTangent(xhat: tf.Tensor, r: Float64Array, xt: tf.Tensor, c: number): { xhatT: tf.Tensor; rho: Float64Array } {
  if (usable(xt.size, c)) {
    const { mv, mxv } = channelMeans(xhat, xt, c);
    return { xhatT: bnOut(xt, xhat, mv, mxv, r, c), rho: Float64Array.from(mxv, (v, k) => -r[k] * v) };
  }
  let rho: Float64Array | undefined;
  const [xhatT] = hostOp([xhat, xt], [xt.shape], ([xh, t], [o]) => {
    rho = H.bnTangent(xh, r, t, o);
  });
  return { xhatT, rho: rho! };
}

/** x̄ = J·(γȳ) = r·γ·(ȳ − mean ȳ − x̂·mean(x̂ȳ)). */
export function bnBackward(xhat: tf.Tensor, r: Float64Array, g: tf.Tensor, c: number, gamma?: Float32Array): tf.Tensor {
  if (usable(g.size, c)) {
    const { mv, mxv } = channelMeans(xhat, g, c);
    return bnOut(g, xhat, mv, mxv, Float64Array.from(r, (rk, k) => rk * (gamma ? gamma[k] : 1)), c);
  }
  return hostOp([xhat, g], [g.shape], ([xh, gv], [o]) => {
    H.bnJacobian(xh, r, gv, o, gamma);
  })[0];
}

/**
 * Dual backward (see hostops.bnBackwardDual): x̄ and
 * x̄̇ = ρ·x̄ + rγ·(ȳ̇ − mean ȳ̇ − x̂·(mean(x̂ȳ̇) + mean(x̂̇ȳ)) − x̂̇·mean(x̂ȳ)); xhatT/gt may be null (zero).
 */
export function bnBackwardDual(
  xhat: tf.Tensor,
  xhatT: tf.Tensor | null,
  r: Float64Array,
  rho: Float64Array | null,
  g: tf.Tensor,
  gt: tf.Tensor | null,
  c: number,
  gamma?: Float32Array,
): { gx: tf.Tensor; gxt: tf.Tensor } {
  if (usable(g.size, c)) {
    const s = S()!;
    const rg = Float64Array.from(r, (rk, k) => rk * (gamma ? gamma[k] : 1));
    const { mv: a, mxv: b } = channelMeans(xhat, g, c);
    const gx = bnOut(g, xhat, a, b, rg, c);
    let e: Float64Array = new Float64Array(c);
    let at: Float64Array = new Float64Array(c);
    if (gt) {
      const t = channelMeans(xhat, gt, c);
      at = t.mv;
      e = t.mxv;
    }
    if (xhatT) {
      const t = channelMeans(xhatT, g, c); // mean(x̂̇ȳ) in mxv
      e = Float64Array.from(e, (v, k) => v + t.mxv[k]);
    }
    // rγ·(ȳ̇ − mean ȳ̇ − x̂·e), or just −rγ·e·x̂ when ȳ̇ = 0.
    let gxt: tf.Tensor;
    if (gt) {
      gxt = bnOut(gt, xhat, at, e, rg, c);
    } else {
      slots(c);
      writeSlot(11, Float64Array.from(e, (v, k) => -rg[k] * v));
      writeSlot(5, new Float32Array(c));
      gxt = alloc(g.shape);
      s.fns.mulAdd(s.offset(xhat), slot(11), slot(5), s.offset(gxt), g.size, c);
    }
    if (xhatT) {
      slots(c);
      writeSlot(11, Float64Array.from(b, (v, k) => -rg[k] * v));
      s.fns.axpy(s.offset(xhatT), s.offset(gxt), slot(11), s.offset(gxt), g.size, c);
    }
    if (rho) {
      slots(c);
      writeSlot(11, rho);
      s.fns.axpy(s.offset(gx), s.offset(gxt), slot(11), s.offset(gxt), g.size, c);
    }
    return { gx, gxt };
  }
  const ins = [xhat, g, ...(xhatT ? [xhatT] : []), ...(gt ? [gt] : [])];
  const [gx, gxt] = hostOp(ins, [g.shape, g.shape], (arr, [ov, ot]) => {
    const xt = xhatT ? arr[2] : new Float32Array(arr[0].length);
    const gtv = gt ? arr[xhatT ? 3 : 2] : null;
    H.bnBackwardDual(arr[0], xt, r, rho ?? new Float64Array(c), arr[1], gtv, ov, ot, gamma);
  });
  return { gx, gxt };
}

/** Σ over all positions and samples of g per channel (bias gradients), float64 of a float32 tensor. */
export function channelSum(g: tf.Tensor, c: number): Float64Array {
  const out = new Float64Array(c);
  hostOp([g], [], ([a]) => {
    for (let i = 0; i < a.length; i += c) for (let k = 0; k < c; k++) out[k] += a[i + k];
  });
  return out;
}

/** Σ_positions a⊙g per sample and channel, [N, C] in float64 (of float32 per-channel sums). */
export function channelDot(a: tf.Tensor, g: tf.Tensor, n: number, c: number): Float64Array {
  const per = a.size / n;
  if (usable(per, c)) {
    const s = S()!;
    slots(c);
    const out = new Float64Array(n * c);
    for (let b = 0; b < n; b++) {
      s.fns.chanDot(s.offset(a) + b * per * 4, s.offset(g) + b * per * 4, zeroSlot(0, c), per, c);
      const v = readSlot(0, c);
      for (let k = 0; k < c; k++) out[b * c + k] = v[k];
    }
    return out;
  }
  let out: Float64Array = new Float64Array(0);
  hostOp([a, g], [], ([x, y]) => {
    out = H.channelDot(x, y, n, c);
  });
  return out;
}

const invCounts = new Map<string, number>();

/** 1/(valid rows · valid cols) of a 3×3/1/1 pool for every [H, W, C] position, cached in wasm memory. */
function invCountMap(h: number, w: number, c: number): number {
  const key = `${h},${w},${c}`;
  let p = invCounts.get(key);
  if (p === undefined) {
    const s = S()!;
    p = s.malloc(h * w * c * 4);
    const v = new Float32Array(s.memory.buffer, p, h * w * c);
    for (let i = 0; i < h; i++) {
      const rows = (i > 0 ? 1 : 0) + 1 + (i < h - 1 ? 1 : 0);
      for (let j = 0; j < w; j++) {
        const cols = (j > 0 ? 1 : 0) + 1 + (j < w - 1 ? 1 : 0);
        v.fill(1 / (rows * cols), (i * w + j) * c, (i * w + j + 1) * c);
      }
    }
    invCounts.set(key, p);
  }
  return p;
}

/**
 * NAS-Bench-201's 3×3, stride-1, pad-1 average pool (padding not counted) and its adjoint on [N,H,W,C]:
 * window sums as shifted whole-row additions (±C along a row, ±W·C along an image), then 1/count.
 * The adjoint scales first and sums the same way (the sum operator is symmetric).
 */
export function avgPool3x3(x: tf.Tensor, adjoint: boolean): tf.Tensor {
  const [n, h, w, c] = x.shape;
  if (!usable(x.size, c) || h < 2 || w < 2) {
    const geom = H.poolGeom(x.shape, 3, 1, 1);
    return hostOp([x], [x.shape], ([a], [o]) => (adjoint ? H.avgPoolBackward(a, geom, o) : H.avgPoolForward(a, geom, o)))[0];
  }
  const s = S()!;
  const F4 = 4;
  const rowLen = w * c;
  const img = h * rowLen;
  const inv = invCountMap(h, w, c);
  const t = alloc(x.shape);
  const y = alloc(x.shape);
  let src = x;
  let scaled: tf.Tensor | null = null;
  if (adjoint) {
    scaled = alloc(x.shape);
    for (let b = 0; b < n; b++) s.fns.mul(s.offset(x) + b * img * F4, inv, s.offset(scaled) + b * img * F4, img);
    src = scaled;
  }
  const xs = s.offset(src);
  const ts = s.offset(t);
  const ys = s.offset(y);
  const heap = new Float32Array(s.memory.buffer);
  // Along the width: t[q] = x[q−C] + x[q] + x[q+C] within each row.
  for (let r = 0; r < n * h; r++) {
    const base = r * rowLen;
    s.fns.add(xs + base * F4, xs + (base + c) * F4, ts + base * F4, rowLen - c);
    const tail = (base + rowLen - c) * 1;
    heap.copyWithin(ts / F4 + tail, xs / F4 + tail, xs / F4 + tail + c);
    s.fns.add(ts + (base + c) * F4, xs + base * F4, ts + (base + c) * F4, rowLen - c);
  }
  // Along the height: y[row] = t[row−1] + t[row] + t[row+1] within each image, then 1/count.
  for (let b = 0; b < n; b++) {
    const base = b * img;
    s.fns.add(ts + base * F4, ts + (base + rowLen) * F4, ys + base * F4, img - rowLen);
    const last = base + img - rowLen;
    heap.copyWithin(ys / F4 + last, ts / F4 + last, ts / F4 + last + rowLen);
    s.fns.add(ys + (base + rowLen) * F4, ts + base * F4, ys + (base + rowLen) * F4, img - rowLen);
    if (!adjoint) s.fns.mul(ys + base * F4, inv, ys + base * F4, img);
  }
  t.dispose();
  scaled?.dispose();
  return y;
}
