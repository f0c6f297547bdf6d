import * as tf from '@tensorflow/tfjs-core';
import { backend_util, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { dartsKernelConfigs, DARTS_KERNELS } from './dartsops.js';
import { hostOp } from './host.js';
import { simd } from './simd.js';

/**
 * Kernels and gradients the project adds to tfjs so that training-time derivatives — including the second
 * derivatives GraSP needs — run on the wasm backend at conv2d speed.
 *
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` (the weight gradient of every conv) and its
 * `Conv2DBackpropInput` is a plain loop ~10× slower than its XNNPACK `Conv2D`. Both are computed here by exact
 * re-arrangements (identities, not approximations):
 *   - filter gradient dW[a,b,i,o] = Σ_{n,y,x} xpad[n, y·s+a, x·s+b, i] · dy[n,y,x,o]: on wasm with SIMD, a
 *     hand-assembled WebAssembly kernel that walks x (laid out on a padded grid, split into stride phases) and dy
 *     in step, per tap, with the Ci × Co sums in registers ('direct'); elsewhere one convolution of xᵀ (channels
 *     as batch, batch as channels) with dyᵀ used as a filter dilated by the stride ('dilated');
 *   - input gradient: stride-1 convolutions of dy with the spatially flipped, in/out-swapped filter — one per
 *     stride phase of dx for strided convs ('phases'), else one ('conv').
 * Their gradients (needed for second derivatives) are in grads.ts. scripts/bench-train-kernels.ts times the
 * paths at training shapes; test/nn/filter-grad.test.ts checks them against float64 loops.
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
 * How `conv2dFilterGrad` computes: 'direct' (the SIMD kernel; falls back to 'dilated' where it is unavailable:
 * other backends, no wasm SIMD), 'dilated' (one dilated convolution of transposed operands), 'auto' (= 'direct':
 * 1.5–10× faster than 'dilated' at every measured training shape).
 */
export type FilterGradMethod = 'auto' | 'direct' | 'dilated';

/**
 * ∂L/∂W of `conv2d(x, W, strides, pad)` given dy (see FilterGradMethod).
 * x: [N,H,W,Ci], dy: [N,Ho,Wo,Co] → [kh,kw,Ci,Co].
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: Strides,
  pad: Pad,
  dimRoundingMode?: Rounding,
  method: FilterGradMethod = 'auto',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode);
    const k = method === 'dilated' || directDisabled ? null : wasmKernels();
    if (k !== null && x.dtype === 'float32' && dy.dtype === 'float32') return filterGradDirect(k, x, dy, info);
    return filterGradDilated(x, dy, info);
  });
}

// ---- direct filter gradient: a WebAssembly SIMD kernel on tfjs's memory ----

/*
 * Per tap (a, b), dW[a,b] = Σ over output cells of x[cell shifted by the tap] ⊗ dy[cell]: a product whose
 * reduction runs over N·Ho·Wo cells (tens of thousands) while its result is only Ci × Co. XNNPACK's GEMM
 * re-streams the long operand once per 4-row block of the result and is memory-bound here, so this kernel walks a
 * cache-sized chunk of cells once per (tap, block of ≤ 4–6 input channels, block of 8 or 4 output channels),
 * keeping the block's accumulators in registers: per cell, V vector loads of dy, R broadcast loads of x and R·V
 * multiply-adds.
 */

/** A tiny WebAssembly encoder: just what the kernel needs. */
const leb = (v: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>>= 7;
    if (v === 0) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
};
const wname = (t: string): number[] => [...leb(t.length), ...[...t].map((ch) => ch.charCodeAt(0))];
const wvec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
const wsection = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const op = {
  i32: 0x7f,
  v128: 0x7b,
  get: (i: number) => [0x20, ...leb(i)],
  set: (i: number) => [0x21, ...leb(i)],
  tee: (i: number) => [0x22, ...leb(i)],
  const: (v: number) => [0x41, ...leb(v)], // non-negative < 2^6 only (signed LEB of small values)
  add: [0x6a],
  sub: [0x6b],
  ltU: [0x49],
  loop: [0x03, 0x40],
  brIf: (d: number) => [0x0d, ...leb(d)],
  end: [0x0b],
  // SIMD (prefix 0xfd); memarg = alignment exponent, byte offset
  load: (off: number) => [0xfd, ...leb(0x00), 0x00, ...leb(off)],
  splat32: (off: number) => [0xfd, ...leb(0x09), 0x00, ...leb(off)],
  store: (off: number) => [0xfd, ...leb(0x0b), 0x00, ...leb(off)],
  fadd: [0xfd, ...leb(0xe4)],
  fmul: [0xfd, ...leb(0xe6)],
};

/** Variants: rows 1..MAX_ROWS (input channels) × vecs 1..2 (groups of 4 output channels). */
const MAX_ROWS = 6;
/** Rows per block with v vectors: 4 × 2 and 6 × 1 accumulators measured fastest (fewer register spills). */
const rowsFor = (vecs: number): number => (vecs === 2 ? 4 : 6);
const variant = (rows: number, vecs: number): number => (vecs - 1) * MAX_ROWS + (rows - 1);

/**
 * k(px, pd, ciBytes, coBytes, images, rows, rowBytes, rowSkip, imageSkip, out), all ≥ 1 counts:
 *   for each of `images`, each of `rows`, each cell of a row (rowBytes / coBytes cells):
 *     acc[r][v] += splat(f32 at px + 4r) · (f32x4 at pd + 16v);  px += ciBytes; pd += coBytes
 *   px += rowSkip after every row and imageSkip after every image; pd runs on (dy is dense);
 *   finally out[r·coBytes + 16v] += acc[r][v].
 */
function dwKernelBody(rows: number, vecs: number): number[] {
  const [px, pd, ci4, co4, images, nrows, rowBytes, rowSkip, imageSkip, out] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const rowsLeft = 10;
  const rowEnd = 11;
  const acc = (r: number, v: number): number => 12 + r * vecs + v;
  const dv = (v: number): number => 12 + rows * vecs + v;
  const xs = 12 + rows * vecs + vecs;
  const b: number[] = [];
  b.push(...op.loop); // images
  b.push(...op.get(nrows), ...op.set(rowsLeft));
  b.push(...op.loop); // rows
  b.push(...op.get(pd), ...op.get(rowBytes), ...op.add, ...op.set(rowEnd));
  b.push(...op.loop); // cells
  for (let v = 0; v < vecs; v++) b.push(...op.get(pd), ...op.load(16 * v), ...op.set(dv(v)));
  for (let r = 0; r < rows; r++) {
    b.push(...op.get(px), ...op.splat32(4 * r), ...op.set(xs));
    for (let v = 0; v < vecs; v++) b.push(...op.get(acc(r, v)), ...op.get(xs), ...op.get(dv(v)), ...op.fmul, ...op.fadd, ...op.set(acc(r, v)));
  }
  b.push(...op.get(px), ...op.get(ci4), ...op.add, ...op.set(px));
  b.push(...op.get(pd), ...op.get(co4), ...op.add, ...op.tee(pd), ...op.get(rowEnd), ...op.ltU, ...op.brIf(0), ...op.end);
  b.push(...op.get(px), ...op.get(rowSkip), ...op.add, ...op.set(px));
  b.push(...op.get(rowsLeft), ...op.const(1), ...op.sub, ...op.tee(rowsLeft), ...op.brIf(0), ...op.end);
  b.push(...op.get(px), ...op.get(imageSkip), ...op.add, ...op.set(px));
  b.push(...op.get(images), ...op.const(1), ...op.sub, ...op.tee(images), ...op.brIf(0), ...op.end);
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vecs; v++) b.push(...op.get(out), ...op.get(out), ...op.load(16 * v), ...op.get(acc(r, v)), ...op.fadd, ...op.store(16 * v));
    b.push(...op.get(out), ...op.get(co4), ...op.add, ...op.set(out));
  }
  const locals = wvec([
    [2, op.i32],
    [...leb(rows * vecs + vecs + 1), op.v128],
  ]);
  const code = [...locals, ...b, ...op.end];
  return [...leb(code.length), ...code];
}

const DW_PARAMS = 10;

/**
 * copyRuns(src, dst, runs, runBytes, srcStride, dstStride): `runs` copies of runBytes (a multiple of 16, ≥ 16)
 * bytes, the run starts advancing by srcStride and dstStride (strided gathers/scatters of pixels).
 */
function copyRunsBody(): number[] {
  const [src, dst, runs, runBytes, srcStride, dstStride] = [0, 1, 2, 3, 4, 5];
  const [p, q, end] = [6, 7, 8];
  const b: number[] = [];
  b.push(...op.loop); // runs
  b.push(...op.get(src), ...op.tee(p), ...op.get(runBytes), ...op.add, ...op.set(end), ...op.get(dst), ...op.set(q));
  b.push(...op.loop); // vectors of a run
  b.push(...op.get(q), ...op.get(p), ...op.load(0), ...op.store(0));
  b.push(...op.get(q), ...op.const(16), ...op.add, ...op.set(q));
  b.push(...op.get(p), ...op.const(16), ...op.add, ...op.tee(p), ...op.get(end), ...op.ltU, ...op.brIf(0), ...op.end);
  b.push(...op.get(src), ...op.get(srcStride), ...op.add, ...op.set(src));
  b.push(...op.get(dst), ...op.get(dstStride), ...op.add, ...op.set(dst));
  b.push(...op.get(runs), ...op.const(1), ...op.sub, ...op.tee(runs), ...op.brIf(0), ...op.end);
  const code = [...wvec([[3, op.i32]]), ...b, ...op.end];
  return [...leb(code.length), ...code];
}

/**
 * The kernel module's bytes, importing env.memory: `k<variant>` per (rows, vecs) (see dwKernelBody), then
 * `copyRuns`.
 */
export function dwModuleBytes(): Uint8Array<ArrayBuffer> {
  const bodies: number[][] = [];
  for (let v = 1; v <= 2; v++) for (let r = 1; r <= MAX_ROWS; r++) bodies.push(dwKernelBody(r, v));
  const names = bodies.map((_, i) => `k${i}`);
  const types = bodies.map(() => 0);
  bodies.push(copyRunsBody());
  names.push('copyRuns');
  types.push(1);
  const sig = (params: number): number[] => [0x60, ...wvec(new Array(params).fill([op.i32])), 0x00];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...wsection(1, wvec([sig(DW_PARAMS), sig(6)])),
    ...wsection(2, wvec([[...wname('env'), ...wname('memory'), 0x02, 0x00, ...leb(1)]])),
    ...wsection(3, wvec(types.map((t) => leb(t)))),
    ...wsection(7, wvec(names.map((nm, i) => [...wname(nm), 0x00, ...leb(i)]))),
    ...wsection(10, wvec(bodies)),
  ]);
}

type DwFn = (...args: number[]) => void;
interface DwKernels {
  memory: WebAssembly.Memory;
  fns: DwFn[];
  copyRuns: (src: number, dst: number, runs: number, runBytes: number, srcStride: number, dstStride: number) => void;
  offset(t: tf.Tensor): number;
}
let dwCache: DwKernels | null | undefined;
let directDisabled = false;

/** Disables the SIMD filter-gradient kernel ('auto' then uses 'dilated'); for tests and benches. */
export function setDirectFilterGradEnabled(on: boolean): void {
  directDisabled = !on;
}

/** The kernels bound to the wasm backend's memory, or null (other backend, no SIMD). */
function wasmKernels(): DwKernels | null {
  const s = simd();
  if (s === null) return null;
  if (dwCache !== undefined && (dwCache === null || dwCache.memory === s.memory)) return dwCache;
  try {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(dwModuleBytes()), { env: { memory: s.memory } });
    const fns: DwFn[] = [];
    for (let i = 0; i < 2 * MAX_ROWS; i++) fns.push(inst.exports[`k${i}`] as unknown as DwFn);
    const copyRuns = inst.exports.copyRuns as unknown as DwKernels['copyRuns'];
    dwCache = { memory: s.memory, fns, copyRuns, offset: (t) => s.offset(t) };
  } catch {
    dwCache = null;
  }
  return dwCache;
}

const DEFAULT_LIMITS = {
  /** Bytes of x and dy rows a chunk of cells may touch: kept cache-resident across all taps and blocks. */
  chunkBytes: 64 * 1024,
  /** Cells summed in float32 before the partial sums are added to the float64 total. */
  flushCells: 4096,
  /** Floats of the padded, phase-split copy of x built at a time (16 MB): groups of images beyond it. */
  gridFloats: 1 << 22,
};
let limits = { ...DEFAULT_LIMITS };

/** Test hook: overrides the chunking limits of the direct filter gradient (no argument: the defaults). */
export function setDirectFilterGradLimits(l: Partial<typeof DEFAULT_LIMITS> = {}): void {
  limits = { ...DEFAULT_LIMITS, ...l };
}

/** Conv geometry of the direct filter gradient (see filterGradDirect). */
interface Grid {
  n: number;
  h: number;
  w: number;
  ci: number;
  ho: number;
  wo: number;
  top: number;
  left: number;
  sh: number;
  sw: number;
  /** stride phases actually read, per axis */
  ph: number;
  pw: number;
  /** grid cells per image: gh × gw */
  gh: number;
  gw: number;
}

/**
 * The filter gradient by the SIMD kernel.
 *
 * The padded input is split into stride phases xq[r][c][n, gy, gx, i] = xpad[n, s·gy + r, s·gx + c, i] (a single
 * phase for stride 1), each on a grid of Gh × Gw = (Ho + ⌊(kh−1)/sh⌋) × (Wo + ⌊(kw−1)/sw⌋) cells per image. Tap
 * (a, b) of output cell (y, x) reads phase (a mod sh, b mod sw) at cell (y + ⌊a/sh⌋, x + ⌊b/sw⌋), a constant
 * offset on the flattened grid, so the kernel walks the dense dy and the grid in step, skipping the grid's
 * extra columns and rows. Unpadded 1×1 stride-1 convs read x itself; otherwise the grid is built for groups of
 * images of at most limits.gridFloats floats. dy is read in place unless Co is not a multiple of 4 (then a copy with
 * zero channels up to one is). Float32 sums over ≤ limits.flushCells cells are accumulated in float64.
 */
function filterGradDirect(k: DwKernels, x: tf.Tensor4D, dy: tf.Tensor4D, info: backend_util.Conv2DInfo): tf.Tensor4D {
  const [n, h, w, ci] = x.shape;
  const [, ho, wo, co] = dy.shape;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const { top, left } = info.padInfo;
  const g: Grid = { n, h, w, ci, ho, wo, top, left, sh, sw, ph: Math.min(sh, kh), pw: Math.min(sw, kw), gh: ho + Math.floor((kh - 1) / sh), gw: wo + Math.floor((kw - 1) / sw) };
  const cells = g.gh * g.gw;
  const cop = Math.ceil(co / 4) * 4; // output channels as the kernel sees them
  const xIsGrid = g.ph === 1 && g.pw === 1 && g.gh === h && g.gw === w && top === 0 && left === 0;
  const dp =
    cop === co
      ? dy
      : hostOp([dy], [[n * ho * wo, cop]], ([da], [o]) => {
          o.fill(0);
          for (let q = 0, s0 = 0; q < n * ho * wo; q++) for (let j = 0; j < co; j++) o[q * cop + j] = da[s0++];
        })[0];
  const blocks: [number, number, number, number][] = []; // [o0, vecs, i0, rows]
  for (let o0 = 0; o0 < cop; o0 += 8) {
    const vecs = Math.min(2, (cop - o0) / 4);
    const maxRows = rowsFor(vecs);
    const nb = Math.ceil(ci / maxRows);
    for (let bi = 0, i0 = 0; bi < nb; bi++) {
      const rows = Math.floor(ci / nb) + (bi < ci % nb ? 1 : 0);
      blocks.push([o0, vecs, i0, rows]);
      i0 += rows;
    }
  }
  const perChunk = Math.max(wo, Math.floor(limits.chunkBytes / ((ci * g.ph * g.pw + cop) * 4))); // cells per chunk
  const groupSize = xIsGrid ? n : Math.max(1, Math.floor(limits.gridFloats / (g.ph * g.pw * cells * ci)));
  const size = kh * kw * ci * cop;
  const acc = new Float64Array(size);
  const part = hostOp([], [[size]], (_, [o]) => o.fill(0))[0]; // float32 sums of the cells since the last flush
  const ci4 = ci * 4;
  const co4 = cop * 4;
  const rowBytes = wo * co4;
  const rowSkip = (g.gw - wo) * ci4;
  const imageSkip = (g.gh - ho) * g.gw * ci4;
  let since = 0;
  for (let g0 = 0; g0 < n; g0 += groupSize) {
    const gn = Math.min(groupSize, n - g0);
    const lq = gn * cells; // cells per phase plane of this group
    const xq = xIsGrid ? null : buildGrid(k, x, g, g0, gn);
    const taps: number[] = []; // first grid cell read by each tap (a, b), row-major: phase plane + offset
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) taps.push(((a % sh) * g.pw + (b % sw)) * lq + Math.floor(a / sh) * g.gw + Math.floor(b / sw));
    }
    // Chunks: whole images when an image is small, else runs of rows of one image.
    const chunks: [number, number, number, number][] = []; // [first image in the group, images, y0, rows]
    if (ho * wo <= perChunk) {
      const imgs = Math.floor(perChunk / (ho * wo));
      for (let n0 = 0; n0 < gn; n0 += imgs) chunks.push([n0, Math.min(imgs, gn - n0), 0, ho]);
    } else {
      const rowsPer = Math.floor(perChunk / wo);
      for (let n0 = 0; n0 < gn; n0++) for (let y0 = 0; y0 < ho; y0 += rowsPer) chunks.push([n0, 1, y0, Math.min(rowsPer, ho - y0)]);
    }
    // Offsets only now: every allocation of this group is done.
    const xBase = k.offset(xq ?? x);
    const dBase = k.offset(dp);
    const pBase = k.offset(part);
    for (const [n0, images, y0, rows] of chunks) {
      const cell0 = n0 * cells + y0 * g.gw;
      const pd = dBase + ((g0 + n0) * ho + y0) * rowBytes;
      for (let t = 0; t < taps.length; t++) {
        const px = xBase + (taps[t] + cell0) * ci4;
        const pOut = pBase + t * ci * co4;
        for (const [o0, vecs, i0, nr] of blocks) {
          k.fns[variant(nr, vecs)](px + i0 * 4, pd + o0 * 4, ci4, co4, images, rows, rowBytes, rowSkip, imageSkip, pOut + i0 * co4 + o0 * 4);
        }
      }
      since += images * rows * wo;
      if (since >= limits.flushCells) {
        flush(k, pBase, acc);
        since = 0;
      }
    }
    xq?.dispose();
  }
  if (since > 0) flush(k, k.offset(part), acc);
  tf.dispose(dp === dy ? [part] : [part, dp]);
  return hostOp([], [[kh, kw, ci, co]], (_, [o]) => {
    if (cop === co) for (let i = 0; i < size; i++) o[i] = acc[i];
    else for (let q = 0, i = 0; q < kh * kw * ci; q++) for (let j = 0; j < co; j++) o[i++] = acc[q * cop + j];
  })[0] as tf.Tensor4D;
}

/** acc += the float32 partial sums at byte offset p (acc.length floats), which are then zeroed. */
function flush(k: DwKernels, p: number, acc: Float64Array): void {
  const v = new Float32Array(k.memory.buffer, p, acc.length);
  for (let i = 0; i < acc.length; i++) acc[i] += v[i];
  v.fill(0);
}

/** The phase grids xq [ph·pw·gn·Gh·Gw, Ci] of images g0 … g0+gn−1 (zeros where no input pixel lands). */
function buildGrid(k: DwKernels, x: tf.Tensor4D, g: Grid, g0: number, gn: number): tf.Tensor {
  const { h, w, ci, top, left, sh, sw, ph, pw, gh, gw } = g;
  const cells = gh * gw;
  const lq = gn * cells;
  const vectorRuns = ci % 4 === 0;
  const xq = hostOp([x], [[ph * pw * lq, ci]], ([xa], [q]) => {
    q.fill(0);
    if (sw > 1 && vectorRuns) return; // strided columns: copied below by the wasm kernel
    for (let iy = 0; iy < h; iy++) {
      const py = iy + top;
      const r = py % sh;
      const gy = (py - r) / sh;
      if (r >= ph || gy >= gh) continue; // a row no tap reads
      for (let bn = 0; bn < gn; bn++) {
        const src = ((g0 + bn) * h + iy) * w * ci;
        const cellRow = bn * cells + gy * gw;
        if (sw === 1) {
          const cnt = Math.min(w, gw - left); // columns past the grid are never read
          if (cnt > 0) q.set(xa.subarray(src, src + cnt * ci), (r * lq + cellRow + left) * ci);
        } else {
          scatterColumns(xa, q, src, r * pw * lq * ci + cellRow * ci, w, ci, left, sw, pw, gw, lq * ci);
        }
      }
    }
  })[0];
  if (sw > 1 && vectorRuns) {
    // Phase column c takes input columns ix ≡ c − left (mod sw), which land on consecutive grid cells.
    const xAddr = k.offset(x);
    const qAddr = k.offset(xq);
    const ci4 = ci * 4;
    for (let iy = 0; iy < h; iy++) {
      const py = iy + top;
      const r = py % sh;
      const gy = (py - r) / sh;
      if (r >= ph || gy >= gh) continue;
      for (let c = 0; c < pw; c++) {
        const ix0 = (((c - left) % sw) + sw) % sw;
        const gx0 = (ix0 + left - c) / sw;
        const cnt = Math.min(Math.ceil((w - ix0) / sw), gw - gx0);
        if (cnt <= 0) continue;
        for (let bn = 0; bn < gn; bn++) {
          const src = xAddr + (((g0 + bn) * h + iy) * w + ix0) * ci4;
          const dst = qAddr + ((r * pw + c) * lq + bn * cells + gy * gw + gx0) * ci4;
          k.copyRuns(src, dst, cnt, ci4, sw * ci4, ci4);
        }
      }
    }
  }
  return xq;
}

/** One input row (w pixels of ci floats at src) into its stride-phase grid rows (phase planes planeStride apart). */
function scatterColumns(xa: Float32Array, q: Float32Array, src: number, rowDst: number, w: number, ci: number, left: number, sw: number, pw: number, gw: number, planeStride: number): void {
  for (let ix = 0; ix < w; ix++, src += ci) {
    const px = ix + left;
    const c = px % sw;
    const gx = (px - c) / sw;
    if (c >= pw || gx >= gw) continue;
    let dst = rowDst + c * planeStride + gx * ci;
    for (let i = 0; i < ci; i++) q[dst++] = xa[src + i];
  }
}

/**
 * The filter gradient as one dilated convolution (see the file comment); a 1×1 stride-1 unpadded conv is a plain
 * matrix product xᵀ·dy.
 */
function filterGradDilated(x: tf.Tensor4D, dy: tf.Tensor4D, info: backend_util.Conv2DInfo): tf.Tensor4D {
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const co = dy.shape[3];
  const filterShape: [number, number, number, number] = [kh, kw, x.shape[3], co];
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
}

/**
 * How `conv2dInputGrad` computes: 'conv' (one stride-1 convolution of the zero-dilated dy), 'phases' (one
 * convolution per stride phase of dx, no multiplications by the dilation zeros), 'auto' ('phases' for strided
 * convs, where it is several times faster, else 'conv').
 */
export type InputGradMethod = 'auto' | 'conv' | 'phases';

/**
 * ∂L/∂x of `conv2d(x, W, strides, pad)` given dy, as stride-1 convolutions with the flipped filter (see
 * InputGradMethod). dy: [N,Ho,Wo,Co], filter: [kh,kw,Ci,Co] → [N,H,W,Ci] with H, W from inputShape.
 */
export function conv2dInputGrad(
  inputShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  strides: Strides,
  pad: Pad,
  dimRoundingMode?: Rounding,
  method: InputGradMethod = 'auto',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = backend_util.computeConv2DInfo(inputShape, filter.shape, strides, 1, pad, dimRoundingMode);
    const strided = info.strideHeight > 1 || info.strideWidth > 1;
    if (method === 'phases' || (method === 'auto' && strided)) return inputGradPhases(inputShape, dy, filter, info);
    return inputGradDilated(inputShape, dy, filter, info);
  });
}

/** The input gradient as one stride-1 convolution of the zero-dilated, padded dy with the flipped filter. */
function inputGradDilated(inputShape: [number, number, number, number], dy: tf.Tensor4D, filter: tf.Tensor4D, info: backend_util.Conv2DInfo): tf.Tensor4D {
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
  return tf.conv2d(d, flipped, 1, explicitPad(top, bottom, left, right));
}

/**
 * The input gradient phase by phase. In padded coordinates py = s·Py + r, only taps a = r + s·a' reach row py,
 * from dy row Py − a'; so phase (r, c) of dx is the "full" stride-1 convolution of dy with the sub-filter
 * W[r + s·a', c + s·b'] flipped and in/out-swapped, and the phases are interleaved into dx. Same multiplications
 * as the forward conv, against s_h·s_w times as many for the zero-dilated form.
 */
function inputGradPhases(inputShape: [number, number, number, number], dy: tf.Tensor4D, filter: tf.Tensor4D, info: backend_util.Conv2DInfo): tf.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const [n, h, w] = inputShape;
  const [, ho, wo] = dy.shape;
  const { top, left } = info.padInfo;
  interface Phase {
    r: number;
    c: number;
    /** Phase output [n, rows, cols, ci] holding padded rows s·P + r for P = 0..rows−1 (null: no tap, zeros). */
    out: tf.Tensor4D | null;
  }
  const phases: Phase[] = [];
  for (let r = 0; r < sh; r++) {
    for (let c = 0; c < sw; c++) {
      const ta = r < kh ? Math.ceil((kh - r) / sh) : 0; // taps a' of this phase
      const tb = c < kw ? Math.ceil((kw - c) / sw) : 0;
      // Last phase row / column dx needs: padded index < top + h.
      const rows = Math.floor((top + h - 1 - r) / sh) + 1;
      const cols = Math.floor((left + w - 1 - c) / sw) + 1;
      if (ta === 0 || tb === 0 || rows <= 0 || cols <= 0) {
        phases.push({ r, c, out: null });
        continue;
      }
      // F[u, v, o, i] = W[r + s·(ta−1−u), c + s·(tb−1−v), i, o]
      const sub = hostOp([filter], [[ta, tb, co, ci]], ([wa], [f]) => {
        let dst = 0;
        for (let u = 0; u < ta; u++) {
          const a = r + sh * (ta - 1 - u);
          for (let v = 0; v < tb; v++) {
            const b = c + sw * (tb - 1 - v);
            const base = (a * kw + b) * ci * co;
            for (let o = 0; o < co; o++) for (let i = 0; i < ci; i++) f[dst++] = wa[base + i * co + o];
          }
        }
      })[0] as tf.Tensor4D;
      // out[P] = Σ_u dypad[P + u]·F[u] with ta−1 zero rows on top: dy rows P − a'. Output rows = rows exactly.
      const bottom = rows - ho;
      const right = cols - wo;
      const d = padOrCrop(dy, 0, bottom, 0, right);
      const out = tf.conv2d(d, sub, 1, explicitPad(ta - 1, bottom, tb - 1, right));
      phases.push({ r, c, out });
    }
  }
  const live = phases.filter((p) => p.out !== null).map((p) => p.out!);
  const outIndex = phases.map((p) => (p.out === null ? -1 : live.indexOf(p.out)));
  const k = wasmKernels();
  if (k !== null && ci % 4 === 0) {
    // Strided copies by the wasm kernel: per dx row and phase column, pixels sw apart from consecutive cells.
    const dx = hostOp([], [[n, h, w, ci]], (_, [o]) => {
      if (live.length < phases.length) o.fill(0);
    })[0] as tf.Tensor4D;
    const dxAddr = k.offset(dx);
    const srcAddr = live.map((t) => k.offset(t));
    const ci4 = ci * 4;
    for (let iy = 0; iy < h; iy++) {
      const py = iy + top;
      const r = py % sh;
      const prow = (py - r) / sh;
      for (let c = 0; c < sw; c++) {
        const src = outIndex[r * sw + c];
        const ix0 = (((c - left) % sw) + sw) % sw;
        if (src < 0 || ix0 >= w) continue;
        const [, rows, cols] = live[src].shape;
        const cnt = Math.ceil((w - ix0) / sw);
        const col0 = (ix0 + left - c) / sw;
        for (let bn = 0; bn < n; bn++) {
          k.copyRuns(srcAddr[src] + ((bn * rows + prow) * cols + col0) * ci4, dxAddr + ((bn * h + iy) * w + ix0) * ci4, cnt, ci4, ci4, sw * ci4);
        }
      }
    }
    return dx;
  }
  return hostOp(live, [[n, h, w, ci]], (ins, [dx]) => {
    const rowLen = w * ci;
    const step = sw * ci;
    for (let bn = 0; bn < n; bn++) {
      for (let iy = 0; iy < h; iy++) {
        const py = iy + top;
        const r = py % sh;
        const prow = (py - r) / sh;
        const rowStart = (bn * h + iy) * rowLen;
        for (let c = 0; c < sw; c++) {
          const ix0 = (((c - left) % sw) + sw) % sw; // first column of this phase
          if (ix0 >= w) continue;
          const src = outIndex[r * sw + c];
          if (src < 0) {
            for (let dst = rowStart + ix0 * ci; dst < rowStart + rowLen; dst += step) dx.fill(0, dst, dst + ci);
            continue;
          }
          const a = ins[src];
          const [, rows, cols] = live[src].shape;
          let s0 = ((bn * rows + prow) * cols + (ix0 + left - c) / sw) * ci;
          for (let dst = rowStart + ix0 * ci; dst < rowStart + rowLen; dst += step - ci) {
            for (let i = 0; i < ci; i++) dx[dst++] = a[s0++];
          }
        }
      }
    }
  })[0] as tf.Tensor4D;
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
