import { E, floats, PARALLEL_MIN, release, roundUp, words } from './kernel-args.js';
import { Tensor } from './tensor.js';

/**
 * The engine's 2-D convolutions (native/kernels/conv.c): forward, input gradient and filter gradient, NHWC activations
 * and HWIO filters [kh, kw, Ci, Co]. Each becomes rows of one kernel, `conv_rows`, that accumulates taps of a packed
 * filter; the filter gradient sums per-task partials in a fixed order, so no result depends on the thread count.
 */

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
function padCopy(x: Tensor, top: number, left: number, hp: number, wp: number, relu = false, cout?: number): Tensor {
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
