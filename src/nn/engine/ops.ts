import { getEngine, type Engine } from './kernels.js';
import { Tensor } from './tensor.js';

/**
 * Tensor-level operations of the engine: each lays out the arguments of one or more kernels (native/kernels/*.c) and
 * runs them over the thread pool. Activations are NHWC, conv filters HWIO [kh, kw, Ci, Co], linear weights [out, in].
 * Reductions are float64 sums of fixed runs added in a fixed order, so results do not depend on the thread count.
 */

const E = (): Engine => getEngine();
/** Elements per task of elementwise kernels, and the size below which a pass stays on one thread. */
const CHUNK = 16384;
const PARALLEL_MIN = 1 << 16;
/** Positions per task of per-channel reductions (fixed: the partial sums, hence the rounding, depend on it). */
const CHAN_ROWS = 512;

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/** A scratch block of int32 words in engine memory, freed by the caller. */
function words(values: readonly number[]): number {
  const e = E();
  const p = e.heap.alloc(values.length * 4);
  e.writeI32(p, values);
  return p;
}

/** A scratch block holding float32 values. */
function floats(values: ArrayLike<number>): number {
  const e = E();
  const p = e.heap.alloc(values.length * 4);
  e.heap.F32.set(values, p >> 2);
  return p;
}

function doubles(values: ArrayLike<number>): number {
  const e = E();
  const p = e.heap.alloc(values.length * 8);
  e.heap.F64.set(values, p >> 3);
  return p;
}

function release(...ps: number[]): void {
  const h = E().heap;
  for (const p of ps) if (p) h.release(p);
}

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

/** mode 'scale': x·s + b; mode 'center': (x − b)·s; with g: also the second output x'·g + beta. */
function chanAffine(x: Tensor, c: number, mode: 0 | 1, s: ArrayLike<number>, b: ArrayLike<number>, g?: ArrayLike<number>, beta?: ArrayLike<number>): { out: Tensor; out2: Tensor | null } {
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

/** s[k]·(v − a[k] − x̂·b[k]). */
function bnOut(v: Tensor, xhat: Tensor, a: ArrayLike<number>, b: ArrayLike<number>, s: ArrayLike<number>, c: number): Tensor {
  const ap = floats(a);
  const bp = floats(b);
  const sp = floats(s);
  const out = Tensor.empty(v.shape);
  const m = v.size / c;
  E().run('bn_out', [v.ptr, xhat.ptr, ap, bp, sp, out.ptr, m, c, CHAN_ROWS], Math.ceil(m / CHAN_ROWS), { grain: 1, parallel: v.size >= PARALLEL_MIN });
  release(ap, bp, sp);
  return out;
}

export interface BnForward {
  xhat: Tensor;
  /** γ·x̂ + β, or x̂ itself without affine parameters. */
  y: Tensor;
  /** 1/√(σ² + ε) per channel. */
  r: Float64Array;
  /** Batch mean per channel (float32, as used). */
  mean: Float32Array;
  /** Biased batch variance per channel. */
  variance: Float64Array;
}

/**
 * Training-mode BatchNorm over all but the last axis, as PyTorch's CPU kernel: mean and Σ(x − μ)² in float64, then
 * x̂ = (x − μ)·r in float32 with μ and r rounded to float32.
 */
export function bnForward(x: Tensor, c: number, eps: number, gamma?: Float32Array, beta?: Float32Array): BnForward {
  const m = x.size / c;
  const sums = channelReduce('chan_sum', x, null, c).s;
  const meanD = Float64Array.from(sums, (v) => v / m);
  const mp = doubles(meanD);
  const tasks = Math.ceil(m / CHAN_ROWS);
  const part = E().heap.alloc(tasks * c * 8);
  E().run('chan_sqdev', [x.ptr, mp, part, m, c, CHAN_ROWS], tasks, { grain: 1, parallel: x.size >= PARALLEL_MIN });
  const v = E().heap.F64;
  const sq = new Float64Array(c);
  for (let t = 0; t < tasks; t++) for (let k = 0; k < c; k++) sq[k] += v[(part >> 3) + t * c + k];
  release(mp, part);
  const variance = Float64Array.from(sq, (s) => s / m);
  const r = Float64Array.from(variance, (vv) => 1 / Math.sqrt(vv + eps));
  const mean = Float32Array.from(meanD);
  const affineOut = gamma !== undefined || beta !== undefined;
  const { out: xhat, out2 } = chanAffine(x, c, 1, Float32Array.from(r), mean, affineOut ? (gamma ?? new Float32Array(c).fill(1)) : undefined, beta);
  return { xhat, y: out2 ?? xhat, r, mean, variance };
}

/** Per-channel means of v and of x̂·v. */
function channelMeans(xhat: Tensor, v: Tensor, c: number): { mv: Float64Array; mxv: Float64Array } {
  const m = v.size / c;
  const r = channelSumDot(xhat, v, c);
  return { mv: r.sum.map((a) => a / m), mxv: r.dot.map((a) => a / m) };
}

/** Forward tangent x̂̇ = r·(ẋ − mean ẋ − x̂·mean(x̂ẋ)) and ρ = −r·mean(x̂ẋ). */
export function bnTangent(xhat: Tensor, r: Float64Array, xt: Tensor, c: number): { xhatT: Tensor; rho: Float64Array } {
  const { mv, mxv } = channelMeans(xhat, xt, c);
  return { xhatT: bnOut(xt, xhat, mv, mxv, r, c), rho: Float64Array.from(mxv, (v, k) => -r[k] * v) };
}

/**
 * x̄ = r·γ·(ȳ − mean ȳ − x̂·mean(x̂ȳ)); `sums` may pass the per-channel Σȳ and Σx̂ȳ already computed (the γ/β gradients).
 */
export function bnBackward(xhat: Tensor, r: Float64Array, g: Tensor, c: number, gamma?: Float32Array, sums?: { sum: Float64Array; dot: Float64Array }): Tensor {
  const m = g.size / c;
  const s = sums ?? channelSumDot(xhat, g, c);
  return bnOut(
    g,
    xhat,
    s.sum.map((a) => a / m),
    s.dot.map((a) => a / m),
    Float64Array.from(r, (rk, k) => rk * (gamma ? gamma[k] : 1)),
    c,
  );
}

/**
 * Dual backward: x̄ and x̄̇ = ρ·x̄ + rγ·(ȳ̇ − mean ȳ̇ − x̂·(mean(x̂ȳ̇) + mean(x̂̇ȳ)) − x̂̇·mean(x̂ȳ)); xhatT/gt may be null (zero).
 */
export function bnBackwardDual(
  xhat: Tensor,
  xhatT: Tensor | null,
  r: Float64Array,
  rho: Float64Array | null,
  g: Tensor,
  gt: Tensor | null,
  c: number,
  gamma?: Float32Array,
): { gx: Tensor; gxt: Tensor } {
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
    const t = channelMeans(xhatT, g, c);
    e = Float64Array.from(e, (v, k) => v + t.mxv[k]);
  }
  let gxt: Tensor;
  if (gt) {
    gxt = bnOut(gt, xhat, at, e, rg, c);
  } else {
    gxt = chanAffine(xhat, c, 0, Float64Array.from(e, (v, k) => -rg[k] * v), new Float32Array(c)).out;
  }
  const acc = (x: Tensor, s: ArrayLike<number>): void => {
    const next = axpyChannel(x, s, gxt, c);
    gxt.dispose();
    gxt = next;
  };
  if (xhatT) acc(xhatT, Float64Array.from(b, (v, k) => -rg[k] * v));
  if (rho) acc(gx, rho);
  return { gx, gxt };
}

// ---- convolutions ----

/** Filter size, strides and padding (top, bottom, left, right) of a 2-D convolution. */
export interface ConvGeom {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pt: number;
  pb: number;
  pl: number;
  pr: number;
}

/** A square filter with equal strides and padding on every side (every conv of the networks). */
export function squareGeom(k: number, stride: number, pad: number): ConvGeom {
  return { kh: k, kw: k, sh: stride, sw: stride, pt: pad, pb: pad, pl: pad, pr: pad };
}

export function convOutSize(size: number, k: number, stride: number, padBefore: number, padAfter = padBefore): number {
  return Math.floor((size + padBefore + padAfter - k) / stride) + 1;
}

/** x zero-padded by `top/left` (and bottom/right to hp × wp), optionally ReLU'd, with cout ≥ C floats per pixel. */
export function padCopy(x: Tensor, top: number, left: number, hp: number, wp: number, relu = false, cout?: number): Tensor {
  const [n, h, w, c] = x.shape;
  const co = cout ?? c;
  const o = Tensor.empty([n, hp, wp, co]);
  E().run('pad_copy', [x.ptr, o.ptr, h, w, c, hp, wp, top, left, relu ? 1 : 0, co], n * hp, { parallel: o.size >= PARALLEL_MIN });
  return o;
}

/** The filter as the kernels read it: [taps][ci][ld] (transpose: [taps][co][ld]), zero lanes up to ld. */
function packFilter(w: Tensor, taps: number, ci: number, co: number, ld: number, transpose: boolean): Tensor {
  const o = Tensor.empty([taps * (transpose ? co : ci) * ld]);
  E().run('pack_filter', [w.ptr, o.ptr, taps, ci, co, ld, transpose ? 1 : 0], taps, { parallel: false });
  return o;
}

interface RowsCall {
  input: Tensor;
  filter: number;
  bias: number;
  out: Tensor;
  taps: number[];
  K: number;
  ldw: number;
  co: number;
  images: number;
  rows: number;
  cols: number;
  inImg: number;
  inRow: number;
  inPx: number;
  inOff: number;
  outImg: number;
  outRow: number;
  outPx: number;
  outOff: number;
}

function convRows(c: RowsCall): void {
  const tp = words(c.taps);
  E().run(
    'conv_rows',
    [c.input.ptr, c.filter, c.bias, c.out.ptr, tp, c.taps.length / 2, c.K, c.ldw, c.co, c.rows, c.cols, c.inImg, c.inRow, c.inPx, c.inOff, c.outImg, c.outRow, c.outPx, c.outOff, 0],
    c.images * c.rows,
    {},
  );
  release(tp);
}

/** conv2d(x, w) (+ bias), x [N,H,W,Ci], w HWIO → [N,Ho,Wo,Co]. */
export function conv2d(x: Tensor, w: Tensor, g: ConvGeom, bias?: Tensor): Tensor {
  const [n, h, wd, ci] = x.shape;
  const { kh, kw, sh, sw, pt, pb, pl, pr } = g;
  const co = w.shape[w.shape.length - 1];
  const ho = convOutSize(h, kh, sh, pt, pb);
  const wo = convOutSize(wd, kw, sw, pl, pr);
  const vw = E().info.vectorWidth;
  const ldw = roundUp(co, vw);
  const hp = Math.max(h + pt, (ho - 1) * sh + kh);
  const wp = Math.max(wd + pl, (wo - 1) * sw + kw);
  const xp = pt > 0 || pl > 0 || hp !== h || wp !== wd ? padCopy(x, pt, pl, hp, wp) : x;
  const wk = ldw === co ? w : packFilter(w, kh * kw, ci, co, ldw, false);
  let bp = 0;
  if (bias) bp = ldw === co ? bias.ptr : floats([...bias.view(), ...new Array<number>(ldw - co).fill(0)]);
  const y = Tensor.empty([n, ho, wo, co]);
  const taps: number[] = [];
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) taps.push((a * wp + b) * ci, (a * kw + b) * ci * ldw);
  convRows({
    input: xp,
    filter: wk.ptr,
    bias: bp,
    out: y,
    taps,
    K: ci,
    ldw,
    co,
    images: n,
    rows: ho,
    cols: wo,
    inImg: hp * wp * ci,
    inRow: sh * wp * ci,
    inPx: sw * ci,
    inOff: 0,
    outImg: ho * wo * co,
    outRow: wo * co,
    outPx: co,
    outOff: 0,
  });
  if (xp !== x) xp.dispose();
  if (wk !== w) wk.dispose();
  if (bias && bp !== bias.ptr) release(bp);
  return y;
}

/**
 * ∂L/∂x of conv2d(x, w) given dy [N,Ho,Wo,Co] → [N,H,W,Ci] with H, W from inputShape. dx splits into sh × sw stride
 * phases (one for stride 1); phase (r, c) holds the padded rows s·P + r and columns s·Q + c, which only the taps
 * a = r + sh·a', b = c + sw·b' reach, from dy[P − a', Q − b']: a convolution of dy (padded in front) with those taps
 * of the transposed filter, and no multiplications by the zeros a dilated dy would have.
 */
export function conv2dInputGrad(inputShape: readonly number[], dy: Tensor, w: Tensor, g: ConvGeom): Tensor {
  const [n, h, wd, ci] = inputShape;
  const [, ho, wo, co] = dy.shape;
  const { kh, kw, sh, sw, pt, pl } = g;
  const vw = E().info.vectorWidth;
  const ld = roundUp(ci, vw);
  const wt = packFilter(w, kh * kw, ci, co, ld, true); // [tap][o][i]
  const dx = Tensor.empty([n, h, wd, ci]);
  const T = Math.ceil(kh / sh) - 1;
  const U = Math.ceil(kw / sw) - 1;
  interface Phase {
    r: number;
    c: number;
    p0: number;
    p1: number;
    q0: number;
    q1: number;
    taps: [number, number][]; // (a', b')
  }
  const phases: Phase[] = [];
  let zeros = false;
  let pmax = 0;
  let qmax = 0;
  for (let r = 0; r < sh; r++) {
    for (let c = 0; c < sw; c++) {
      // Phase rows P with 0 ≤ sh·P + r − pt < h.
      const p0 = Math.max(0, Math.ceil((pt - r) / sh));
      const p1 = Math.floor((h - 1 + pt - r) / sh);
      const q0 = Math.max(0, Math.ceil((pl - c) / sw));
      const q1 = Math.floor((wd - 1 + pl - c) / sw);
      if (p1 < p0 || q1 < q0) continue;
      const taps: [number, number][] = [];
      for (let a2 = 0; r + sh * a2 < kh; a2++) for (let b2 = 0; c + sw * b2 < kw; b2++) taps.push([a2, b2]);
      if (taps.length === 0) {
        zeros = true;
        continue;
      }
      phases.push({ r, c, p0, p1, q0, q1, taps });
      pmax = Math.max(pmax, p1);
      qmax = Math.max(qmax, q1);
    }
  }
  if (zeros) dx.view().fill(0);
  // dy padded by T rows / U columns in front (and zeros behind as far as phases read): row P reads padded P + T − a'.
  const hd = Math.max(ho + T, pmax + T + 1);
  const wdd = Math.max(wo + U, qmax + U + 1);
  const dyp = padCopy(dy, T, U, hd, wdd);
  for (const ph of phases) {
    const taps: number[] = [];
    for (const [a2, b2] of ph.taps) taps.push(((T - a2) * wdd + (U - b2)) * co, ((ph.r + sh * a2) * kw + (ph.c + sw * b2)) * co * ld);
    convRows({
      input: dyp,
      filter: wt.ptr,
      bias: 0,
      out: dx,
      taps,
      K: co,
      ldw: ld,
      co: ci,
      images: n,
      rows: ph.p1 - ph.p0 + 1,
      cols: ph.q1 - ph.q0 + 1,
      inImg: hd * wdd * co,
      inRow: wdd * co,
      inPx: co,
      inOff: (ph.p0 * wdd + ph.q0) * co,
      outImg: h * wd * ci,
      outRow: sh * wd * ci,
      outPx: sw * ci,
      outOff: ((sh * ph.p0 + ph.r - pt) * wd + (sw * ph.q0 + ph.c - pl)) * ci,
    });
  }
  dyp.dispose();
  wt.dispose();
  return dx;
}

/** Output rows of one filter-gradient task: about 1,024 cells (fixed by the geometry, never by the thread count). */
function rowsPerTask(wo: number): number {
  return Math.max(1, Math.round(1024 / wo));
}

/** ∂L/∂w of conv2d(x, w) given dy: x [N,H,W,Ci], dy [N,Ho,Wo,Co] → HWIO [kh,kw,Ci,Co]. */
export function conv2dFilterGrad(x: Tensor, dy: Tensor, g: ConvGeom): Tensor {
  const [n, h, wd, ci] = x.shape;
  const [, ho, wo, co] = dy.shape;
  const { kh, kw, sh, sw, pt, pl } = g;
  const vw = E().info.vectorWidth;
  const dcs = roundUp(co, vw);
  // Rows/columns the convolution read: padding in front, and behind only as far as the last tap reaches.
  const hp = Math.max(h + pt, (ho - 1) * sh + kh);
  const wp = Math.max(wd + pl, (wo - 1) * sw + kw);
  const xp = pt > 0 || pl > 0 || hp !== h || wp !== wd ? padCopy(x, pt, pl, hp, wp) : x;
  const dyp = dcs === co ? dy : padCopy(dy, 0, 0, ho, wo, false, dcs);
  const taps: number[] = [];
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) taps.push((a * wp + b) * ci, 0);
  const tp = words(taps);
  const rpt = rowsPerTask(wo);
  const total = n * ho;
  const tasks = Math.ceil(total / rpt);
  const ntaps = kh * kw;
  const psize = ntaps * ci * dcs;
  const part = E().heap.alloc(tasks * psize * 4);
  // One unit per (task, tap): a 7×7 stage has only two row tasks, so taps give the threads something to share.
  const units = tasks * ntaps;
  E().run('conv_wgrad', [xp.ptr, dyp.ptr, part, tp, ntaps, ci, dcs, ho, wo, hp * wp * ci, sh * wp * ci, sw * ci, rpt, total], units, {});
  const out = Tensor.empty([kh, kw, ci, co]);
  E().run('reduce_partials', [part, tasks, out.ptr, ntaps * ci, dcs, co, 0], ntaps * ci, { parallel: tasks * psize >= PARALLEL_MIN });
  release(part, tp);
  if (xp !== x) xp.dispose();
  if (dyp !== dy) dyp.dispose();
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
