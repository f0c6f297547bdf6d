import { Tensor } from './tensor.js';

/**
 * The operations only DARTS networks use, on engine tensors: depthwise (dilated) convolution and its gradients, max
 * pooling with PyTorch's tie rule, channel concatenation and slicing, FactorizedReduce's shifted crop. JavaScript loops
 * over the tensors' memory (channels innermost); the NAS-Bench-201 path never uses them. Depthwise filters are
 * [k, k, C] (the HWIO memory of PyTorch's [C, 1, k, k]).
 */

interface DwGeom {
  n: number;
  h: number;
  w: number;
  c: number;
  k: number;
  stride: number;
  pad: number;
  dilation: number;
  ho: number;
  wo: number;
}

function dwGeom(xShape: readonly number[], k: number, stride: number, pad: number, dilation: number): DwGeom {
  const [n, h, w, c] = xShape;
  const eff = (k - 1) * dilation + 1;
  return { n, h, w, c, k, stride, pad, dilation, ho: Math.floor((h + 2 * pad - eff) / stride) + 1, wo: Math.floor((w + 2 * pad - eff) / stride) + 1 };
}

export interface DwGeomIn {
  k: number;
  stride: number;
  pad: number;
  dilation: number;
}

function geom(xShape: readonly number[], g: DwGeomIn): DwGeom {
  return dwGeom(xShape, g.k, g.stride, g.pad, g.dilation);
}

/** Host loop: the depthwise conv, filter [k, k, C]. */
function dwForwardHost(x: Float32Array, f: Float32Array, g: DwGeom, y: Float32Array): void {
  const { n, h, w, c, k, stride, pad, dilation, ho, wo } = g;
  y.fill(0);
  for (let b = 0; b < n; b++) {
    for (let yy = 0; yy < ho; yy++) {
      for (let xx = 0; xx < wo; xx++) {
        const o = ((b * ho + yy) * wo + xx) * c;
        for (let a = 0; a < k; a++) {
          const iy = yy * stride - pad + a * dilation;
          if (iy < 0 || iy >= h) continue;
          for (let e = 0; e < k; e++) {
            const ix = xx * stride - pad + e * dilation;
            if (ix < 0 || ix >= w) continue;
            const i = ((b * h + iy) * w + ix) * c;
            const fo = (a * k + e) * c;
            for (let q = 0; q < c; q++) y[o + q] += f[fo + q] * x[i + q];
          }
        }
      }
    }
  }
}

/** Host loop: ∂/∂x of the depthwise conv (gx fully written). */
function dwInputGradHost(dy: Float32Array, f: Float32Array, g: DwGeom, gx: Float32Array): void {
  const { n, h, w, c, k, stride, pad, dilation, ho, wo } = g;
  gx.fill(0);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < ho; y++) {
      for (let x = 0; x < wo; x++) {
        const o = ((b * ho + y) * wo + x) * c;
        for (let a = 0; a < k; a++) {
          const iy = y * stride - pad + a * dilation;
          if (iy < 0 || iy >= h) continue;
          for (let e = 0; e < k; e++) {
            const ix = x * stride - pad + e * dilation;
            if (ix < 0 || ix >= w) continue;
            const i = ((b * h + iy) * w + ix) * c;
            const fo = (a * k + e) * c;
            for (let q = 0; q < c; q++) gx[i + q] += f[fo + q] * dy[o + q];
          }
        }
      }
    }
  }
}

/** Host loop: ∂/∂filter of the depthwise conv, accumulated in float64, written as [k,k,C]. */
function dwFilterGradHost(x: Float32Array, dy: Float32Array, g: DwGeom, gf: Float32Array): void {
  const { n, h, w, c, k, stride, pad, dilation, ho, wo } = g;
  const acc = new Float64Array(k * k * c);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < ho; y++) {
      for (let xx = 0; xx < wo; xx++) {
        const o = ((b * ho + y) * wo + xx) * c;
        for (let a = 0; a < k; a++) {
          const iy = y * stride - pad + a * dilation;
          if (iy < 0 || iy >= h) continue;
          for (let e = 0; e < k; e++) {
            const ix = xx * stride - pad + e * dilation;
            if (ix < 0 || ix >= w) continue;
            const i = ((b * h + iy) * w + ix) * c;
            const fo = (a * k + e) * c;
            for (let q = 0; q < c; q++) acc[fo + q] += x[i + q] * dy[o + q];
          }
        }
      }
    }
  }
  for (let i = 0; i < acc.length; i++) gf[i] = acc[i];
}

interface PoolGeom {
  n: number;
  h: number;
  w: number;
  c: number;
  k: number;
  stride: number;
  pad: number;
  ho: number;
  wo: number;
}

function maxPoolGeom(shape: readonly number[], k: number, stride: number, pad: number): PoolGeom {
  const [n, h, w, c] = shape;
  return { n, h, w, c, k, stride, pad, ho: Math.floor((h + 2 * pad - k) / stride) + 1, wo: Math.floor((w + 2 * pad - k) / stride) + 1 };
}

/**
 * Max pool writing, per output element, the flat input index of its maximum: the first one in row-major
 * window order (PyTorch's `val > maxval` scan), padding never selected.
 */
function maxPoolHost(x: Float32Array, g: PoolGeom, y: Float32Array, arg: Int32Array): void {
  const { n, h, w, c, k, stride, pad, ho, wo } = g;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      const y0 = Math.max(0, i * stride - pad);
      const y1 = Math.min(h, i * stride - pad + k);
      for (let j = 0; j < wo; j++) {
        const x0 = Math.max(0, j * stride - pad);
        const x1 = Math.min(w, j * stride - pad + k);
        const o = ((b * ho + i) * wo + j) * c;
        for (let q = 0; q < c; q++) {
          let best = -Infinity;
          let at = -1;
          for (let yy = y0; yy < y1; yy++) {
            for (let xx = x0; xx < x1; xx++) {
              const s = ((b * h + yy) * w + xx) * c + q;
              const v = x[s];
              // NaN propagates as in PyTorch.
              if (v > best || (v !== v && best === best) || at < 0) {
                best = v;
                at = s;
              }
            }
          }
          y[o + q] = best;
          arg[o + q] = at;
        }
      }
    }
  }
}

/** out = scatter-add of gy into the argmax positions (the adjoint of the gather y = x[arg]). */
function scatterArg(gy: Float32Array, arg: Int32Array, out: Float32Array): void {
  out.fill(0);
  for (let i = 0; i < gy.length; i++) out[arg[i]] += gy[i];
}

function gatherArg(x: Float32Array, arg: Int32Array, out: Float32Array): void {
  for (let i = 0; i < arg.length; i++) out[i] = x[arg[i]];
}

export function depthwiseForward(x: Tensor, filter: Tensor, gi: DwGeomIn): Tensor {
  const g = geom(x.shape, gi);
  const y = Tensor.empty([g.n, g.ho, g.wo, g.c]);
  dwForwardHost(x.view(), filter.view(), g, y.view());
  return y;
}

export function depthwiseInputGrad(xShape: readonly number[], dy: Tensor, filter: Tensor, gi: DwGeomIn): Tensor {
  const g = geom(xShape, gi);
  const gx = Tensor.empty(xShape);
  dwInputGradHost(dy.view(), filter.view(), g, gx.view());
  return gx;
}

/** ∂/∂filter, [k, k, C]. */
export function depthwiseFilterGrad(x: Tensor, dy: Tensor, gi: DwGeomIn): Tensor {
  const g = geom(x.shape, gi);
  const gf = Tensor.empty([g.k, g.k, g.c]);
  dwFilterGradHost(x.view(), dy.view(), g, gf.view());
  return gf;
}

export function maxPoolWithArg(x: Tensor, k: number, stride: number, pad: number): { y: Tensor; arg: Int32Array } {
  const g = maxPoolGeom(x.shape, k, stride, pad);
  const arg = new Int32Array(g.n * g.ho * g.wo * g.c);
  const y = Tensor.empty([g.n, g.ho, g.wo, g.c]);
  maxPoolHost(x.view(), g, y.view(), arg);
  return { y, arg };
}

/** The adjoint of the gather y = x[arg]. */
export function scatter(gy: Tensor, arg: Int32Array, xShape: readonly number[]): Tensor {
  const o = Tensor.empty(xShape);
  scatterArg(gy.view(), arg, o.view());
  return o;
}

export function gather(x: Tensor, arg: Int32Array, yShape: readonly number[]): Tensor {
  const o = Tensor.empty(yShape);
  gatherArg(x.view(), arg, o.view());
  return o;
}

/** Channel concatenation of NHWC tensors with equal N, H, W; null entries are zeros of `channels[i]` channels. */
export function concatChannels(xs: readonly (Tensor | null)[], channels: readonly number[], nhw?: readonly number[]): Tensor {
  const total = channels.reduce((a, b) => a + b, 0);
  const shape = nhw ?? xs.find((x) => x !== null)!.shape.slice(0, 3);
  const out = Tensor.empty([...shape, total]);
  const o = out.view();
  const p = o.length / total;
  let off = 0;
  xs.forEach((x, i) => {
    const c = channels[i];
    if (x === null) {
      for (let q = 0; q < p; q++) o.fill(0, q * total + off, q * total + off + c);
    } else {
      const a = x.view();
      for (let q = 0; q < p; q++) o.set(a.subarray(q * c, q * c + c), q * total + off);
    }
    off += c;
  });
  return out;
}

/** Channels [from, from + c) of an NHWC tensor. */
export function sliceChannels(x: Tensor, from: number, c: number): Tensor {
  const [n, h, w, total] = x.shape;
  const out = Tensor.empty([n, h, w, c]);
  const a = x.view();
  const o = out.view();
  for (let q = 0; q < n * h * w; q++) o.set(a.subarray(q * total + from, q * total + from + c), q * c);
  return out;
}

/** x[:, top:, left:, :]. */
export function cropTopLeft(x: Tensor, top: number, left: number): Tensor {
  const [n, h, w, c] = x.shape;
  const h2 = h - top;
  const w2 = w - left;
  const out = Tensor.empty([n, h2, w2, c]);
  const a = x.view();
  const o = out.view();
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h2; i++) {
      const s = ((b * h + i + top) * w + left) * c;
      o.set(a.subarray(s, s + w2 * c), (b * h2 + i) * w2 * c);
    }
  }
  return out;
}

/** Adjoint of cropTopLeft: zero rows/cols in front. */
export function uncropTopLeft(g: Tensor, top: number, left: number): Tensor {
  const [n, h2, w2, c] = g.shape;
  const h = h2 + top;
  const w = w2 + left;
  const out = Tensor.zeros([n, h, w, c]);
  const a = g.view();
  const o = out.view();
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h2; i++) {
      const d = ((b * h + i + top) * w + left) * c;
      o.set(a.subarray((b * h2 + i) * w2 * c, ((b * h2 + i) * w2 + w2) * c), d);
    }
  }
  return out;
}
