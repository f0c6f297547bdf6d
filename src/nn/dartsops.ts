import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { hostOp } from './host.js';

/**
 * Operations the DARTS network adds to the engine: depthwise (optionally dilated) convolution and its two
 * gradients, 3×3 max pooling with PyTorch's tie rule, channel concatenation and the shifted crop of
 * FactorizedReduce. Activations are NHWC; depthwise filters are [kh, kw, C, 1] (tfjs's layout, the same memory
 * as the HWIO [kh, kw, 1, C] that `toTensors` makes of PyTorch's [C, 1, kh, kw]).
 *
 * The forward depthwise conv is tfjs's DepthwiseConv2dNative (XNNPACK on wasm), called as a kernel because the
 * public op refuses stride 2 together with dilation 2 (DARTS's dil_conv in reduction cells), which both
 * backends' kernels compute correctly. The gradients are JavaScript loops (channels innermost); tfjs-wasm has
 * no depthwise backprop kernels at all.
 */

export interface DwGeom {
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

export function dwGeom(xShape: readonly number[], k: number, stride: number, pad: number, dilation: number): DwGeom {
  const [n, h, w, c] = xShape;
  const eff = (k - 1) * dilation + 1;
  return { n, h, w, c, k, stride, pad, dilation, ho: Math.floor((h + 2 * pad - eff) / stride) + 1, wo: Math.floor((w + 2 * pad - eff) / stride) + 1 };
}

/** [kh, kw, 1, C] (HWIO of a depthwise PyTorch weight) → [kh, kw, C, 1]; same memory. */
export function depthwiseFilter(w: tf.Tensor): tf.Tensor4D {
  const [kh, kw, a, b] = w.shape;
  // Always a new tensor object, so callers may dispose it without touching the parameter.
  return tf.reshape(w, [kh, kw, a * b, 1]);
}

/** Depthwise conv, x [N,H,W,C], filter [k,k,C,1]. */
export function depthwiseForward(x: tf.Tensor, filter: tf.Tensor, stride: number, pad: number, dilation: number): tf.Tensor4D {
  if (stride > 1 && dilation > 1 && tf.getBackend() !== 'wasm') {
    // The cpu kernel refuses stride and dilation together: stride 1, then keep every stride-th row/column with
    // differentiable reshapes and slices.
    return tf.tidy(() => {
      const full = depthwiseForward(x, filter, 1, pad, dilation);
      const g = dwGeom(x.shape, filter.shape[0], stride, pad, dilation);
      const [n, hf, wf, c] = full.shape;
      const s = stride;
      const padded = tf.pad(full, [
        [0, 0],
        [0, Math.max(0, g.ho * s - hf)],
        [0, Math.max(0, g.wo * s - wf)],
        [0, 0],
      ]);
      const cut = tf.slice(padded, [0, 0, 0, 0], [n, g.ho * s, g.wo * s, c]);
      const picked = tf.slice(tf.reshape(cut, [n, g.ho, s, g.wo, s, c]), [0, 0, 0, 0, 0, 0], [n, g.ho, 1, g.wo, 1, c]);
      return tf.reshape(picked, [n, g.ho, g.wo, c]) as tf.Tensor4D;
    });
  }
  return tf.engine().runKernel(
    'DepthwiseConv2dNative',
    { x, filter },
    { strides: [stride, stride], pad, dilations: [dilation, dilation], dataFormat: 'NHWC' } as unknown as NamedAttrMap,
  ) as tf.Tensor4D;
}

/** Whether a conv layer is depthwise (the only grouped conv supported); throws for other groupings. */
export function isDepthwise(layer: { name: string; groups?: number; dilation?: number; inChannels: number; outChannels: number }): boolean {
  const g = layer.groups ?? 1;
  if (g === 1) {
    if ((layer.dilation ?? 1) !== 1) throw new Error(`conv ${layer.name}: dilation is only supported for depthwise convs`);
    return false;
  }
  if (g !== layer.inChannels || g !== layer.outChannels) throw new Error(`conv ${layer.name}: only depthwise grouped convs are supported`);
  return true;
}

/** Host loop: ∂/∂x of the depthwise conv (gx fully written). */
export function dwInputGradHost(dy: Float32Array, f: Float32Array, g: DwGeom, gx: Float32Array): void {
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

/** Host loop: ∂/∂filter of the depthwise conv, accumulated in float64, written as [k,k,C] (= [k,k,C,1]). */
export function dwFilterGradHost(x: Float32Array, dy: Float32Array, g: DwGeom, gf: Float32Array): void {
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

export function depthwiseInputGrad(xShape: readonly number[], dy: tf.Tensor, filter: tf.Tensor, stride: number, pad: number, dilation: number): tf.Tensor4D {
  const g = dwGeom(xShape, filter.shape[0], stride, pad, dilation);
  const padT = (g.k - 1) * dilation - pad;
  if (stride === 1 && padT >= 0 && tf.getBackend() === 'wasm') {
    // Stride 1: the adjoint is the same depthwise conv with the spatially flipped filter and padding
    // (k−1)·d − p (exact), so it runs on XNNPACK instead of the JavaScript loop (~5× faster).
    return tf.tidy(() => depthwiseForward(dy, tf.reverse(filter, [0, 1]), 1, padT, dilation));
  }
  return hostOp([dy, filter], [[...xShape]], ([d, f], [o]) => dwInputGradHost(d, f, g, o))[0] as tf.Tensor4D;
}

/** Returns [k,k,C,1]. */
export function depthwiseFilterGrad(x: tf.Tensor, dy: tf.Tensor, k: number, stride: number, pad: number, dilation: number): tf.Tensor4D {
  const g = dwGeom(x.shape, k, stride, pad, dilation);
  return hostOp([x, dy], [[k, k, g.c, 1]], ([a, d], [o]) => dwFilterGradHost(a, d, g, o))[0] as tf.Tensor4D;
}

// ---- max pooling ----

export interface PoolGeom2 {
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

export function maxPoolGeom(shape: readonly number[], k: number, stride: number, pad: number): PoolGeom2 {
  const [n, h, w, c] = shape;
  return { n, h, w, c, k, stride, pad, ho: Math.floor((h + 2 * pad - k) / stride) + 1, wo: Math.floor((w + 2 * pad - k) / stride) + 1 };
}

/**
 * Max pool writing, per output element, the flat input index of its maximum: the first one in row-major
 * window order (PyTorch's `val > maxval` scan), padding never selected.
 */
export function maxPoolHost(x: Float32Array, g: PoolGeom2, y: Float32Array, arg: Int32Array): void {
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
export function scatterArg(gy: Float32Array, arg: Int32Array, out: Float32Array): void {
  out.fill(0);
  for (let i = 0; i < gy.length; i++) out[arg[i]] += gy[i];
}

export function gatherArg(x: Float32Array, arg: Int32Array, out: Float32Array): void {
  for (let i = 0; i < arg.length; i++) out[i] = x[arg[i]];
}

export function maxPoolWithArg(x: tf.Tensor, k: number, stride: number, pad: number): { y: tf.Tensor; arg: Int32Array } {
  const g = maxPoolGeom(x.shape, k, stride, pad);
  const arg = new Int32Array(g.n * g.ho * g.wo * g.c);
  const y = hostOp([x], [[g.n, g.ho, g.wo, g.c]], ([a], [o]) => maxPoolHost(a, g, o, arg))[0];
  return { y, arg };
}

export function maxPoolScatter(gy: tf.Tensor, arg: Int32Array, xShape: readonly number[]): tf.Tensor {
  return hostOp([gy], [[...xShape]], ([a], [o]) => scatterArg(a, arg, o))[0];
}

export function maxPoolGather(x: tf.Tensor, arg: Int32Array, yShape: readonly number[]): tf.Tensor {
  return hostOp([x], [[...yShape]], ([a], [o]) => gatherArg(a, arg, o))[0];
}

// ---- concat / crop ----

/** Channel concatenation of NHWC tensors with equal N, H, W; null entries are zeros of `channels[i]` channels. */
export function concatChannels(xs: readonly (tf.Tensor | null)[], channels: readonly number[], nhw: readonly number[]): tf.Tensor {
  const total = channels.reduce((a, b) => a + b, 0);
  const present = xs.filter((x): x is tf.Tensor => x !== null);
  return hostOp(present, [[...nhw, total]], (ins, [o]) => {
    const p = o.length / total;
    let off = 0;
    let j = 0;
    xs.forEach((x, i) => {
      const c = channels[i];
      if (x === null) {
        for (let q = 0; q < p; q++) o.fill(0, q * total + off, q * total + off + c);
      } else {
        const a = ins[j++];
        for (let q = 0; q < p; q++) {
          const d = q * total + off;
          const s = q * c;
          for (let k = 0; k < c; k++) o[d + k] = a[s + k];
        }
      }
      off += c;
    });
  })[0];
}

/** Channels [from, from + c) of an NHWC tensor. */
export function sliceChannels(x: tf.Tensor, from: number, c: number): tf.Tensor {
  const total = x.shape[3]!;
  const [n, h, w] = x.shape;
  return hostOp([x], [[n, h, w, c]], ([a], [o]) => {
    const p = n * h * w;
    for (let q = 0; q < p; q++) {
      const s = q * total + from;
      const d = q * c;
      for (let k = 0; k < c; k++) o[d + k] = a[s + k];
    }
  })[0];
}

/** x[:, top:, left:, :]. */
export function cropTopLeft(x: tf.Tensor, top: number, left: number): tf.Tensor {
  const [n, h, w, c] = x.shape;
  const h2 = h - top;
  const w2 = w - left;
  return hostOp([x], [[n, h2, w2, c]], ([a], [o]) => {
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < h2; i++) {
        const s = ((b * h + i + top) * w + left) * c;
        o.set(a.subarray(s, s + w2 * c), ((b * h2 + i) * w2) * c);
      }
    }
  })[0];
}

/** Adjoint of cropTopLeft: zero rows/cols in front. */
export function uncropTopLeft(g: tf.Tensor, top: number, left: number): tf.Tensor {
  const [n, h2, w2, c] = g.shape;
  const h = h2 + top;
  const w = w2 + left;
  return hostOp([g], [[n, h, w, c]], ([a], [o]) => {
    o.fill(0);
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < h2; i++) {
        const d = ((b * h + i + top) * w + left) * c;
        o.set(a.subarray(((b * h2 + i) * w2) * c, ((b * h2 + i) * w2 + w2) * c), d);
      }
    }
  })[0];
}

// ---- kernels for the tape engine (tf.grads) ----

type Pad = number | 'valid' | 'same';
function numericPad(pad: unknown, name: string): number {
  if (typeof pad !== 'number') throw new Error(`${name} (project kernel): only numeric padding`);
  return pad;
}
function single(v: number | [number, number] | undefined): number {
  if (v === undefined) return 1;
  if (Array.isArray(v)) {
    if (v[0] !== v[1]) throw new Error('project depthwise kernels: only equal strides/dilations per axis');
    return v[0];
  }
  return v;
}
function asTensor(t: TensorInfo | undefined, name: string): tf.Tensor {
  if (!(t instanceof tf.Tensor)) throw new Error(`kernel input ${name} is not a Tensor`);
  return t;
}

interface DwAttrs {
  strides: number | [number, number];
  pad: Pad;
  dilations?: number | [number, number];
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
}

function dwBackpropInput(backendName: string): KernelConfig {
  return {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const a = attrs as unknown as DwAttrs;
      const filter = asTensor(inputs.filter, 'filter');
      if (filter.shape[3] !== 1) throw new Error('DepthwiseConv2dNativeBackpropInput (project kernel): channel multiplier 1 only');
      return depthwiseInputGrad(a.inputShape!, asTensor(inputs.dy, 'dy'), filter, single(a.strides), numericPad(a.pad, 'DepthwiseConv2dNativeBackpropInput'), single(a.dilations));
    },
  };
}

function dwBackpropFilter(backendName: string): KernelConfig {
  return {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const a = attrs as unknown as DwAttrs;
      const fs = a.filterShape!;
      if (fs[3] !== 1) throw new Error('DepthwiseConv2dNativeBackpropFilter (project kernel): channel multiplier 1 only');
      return depthwiseFilterGrad(asTensor(inputs.x, 'x'), asTensor(inputs.dy, 'dy'), fs[0], single(a.strides), numericPad(a.pad, 'DepthwiseConv2dNativeBackpropFilter'), single(a.dilations));
    },
  };
}

/** MaxPoolGrad with PyTorch's first-maximum tie rule (SynFlow's all-ones input makes ties the rule, not the exception). */
function maxPoolGradKernel(backendName: string): KernelConfig {
  return {
    kernelName: 'MaxPoolGrad',
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const a = attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: Pad };
      const x = asTensor(inputs.input, 'input');
      const dy = asTensor(inputs.dy, 'dy');
      const { arg } = (() => {
        const r = maxPoolWithArg(x, single(a.filterSize), single(a.strides), numericPad(a.pad, 'MaxPoolGrad'));
        r.y.dispose();
        return r;
      })();
      return maxPoolScatter(dy, arg, x.shape);
    },
  };
}

/** Kernel configs this module registers (replacing any existing ones) on wasm and cpu. */
export function dartsKernelConfigs(): KernelConfig[] {
  return ['wasm', 'cpu'].flatMap((b) => [dwBackpropInput(b), dwBackpropFilter(b), maxPoolGradKernel(b)]);
}

export const DARTS_KERNELS = ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'MaxPoolGrad'] as const;
