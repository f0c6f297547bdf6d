import type { Rng } from '../util/rng.js';
import type { Network, ParamSpec } from './layers.js';

/** Parameter values by PyTorch name, in PyTorch layout (conv OIHW, linear [out, in]). */
export type ParamValues = Map<string, Float32Array>;

export function paramSize(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Total number of scalar parameters. */
export function countParams(net: Network): number {
  return net.params.reduce((s, p) => s + paramSize(p.shape), 0);
}

/**
 * PyTorch-default initialisation, seeded: Conv/Linear weights kaiming_uniform_(a=√5) = U(±1/√fan_in), their
 * biases U(±1/√fan_in), BatchNorm weight 1 and bias 0. Parameters are drawn in state order, element by element.
 */
export function initParams(net: Network, rng: Rng): ParamValues {
  const out: ParamValues = new Map();
  for (const p of net.params) {
    const a = new Float32Array(paramSize(p.shape));
    const init = p.init;
    if (init.kind === 'const') {
      a.fill(init.value);
    } else {
      // gain(leaky_relu, √5)·√(3/fan_in) = √(1/3)·√(3/fan_in) = 1/√fan_in for the weights; biases use the same bound.
      const bound = 1 / Math.sqrt(init.fanIn);
      for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-bound, bound);
    }
    out.set(p.name, a);
  }
  return out;
}

/** Splits one float32 buffer laid out as the network's parameters in state order (a fixture's params.bin). */
export function paramsFromBuffer(net: Network, data: Float32Array): ParamValues {
  const total = countParams(net);
  if (data.length !== total) {
    throw new RangeError(`expected ${total} float32 parameters for this network, got ${data.length}`);
  }
  const out: ParamValues = new Map();
  let off = 0;
  for (const p of net.params) {
    const n = paramSize(p.shape);
    out.set(p.name, data.subarray(off, off + n));
    off += n;
  }
  return out;
}

/** Describes the first difference between a network's parameter list and another (name, shape) list; null if equal. */
export function diffParamSpecs(expected: readonly ParamSpec[], actual: readonly { name: string; shape: readonly number[] }[]): string | null {
  if (expected.length !== actual.length) {
    return `expected ${expected.length} parameter tensors, got ${actual.length}`;
  }
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (e.name !== a.name) return `parameter ${i}: expected "${e.name}", got "${a.name}"`;
    if (e.shape.length !== a.shape.length || e.shape.some((d, j) => d !== a.shape[j])) {
      return `parameter "${e.name}": expected shape [${e.shape.join(', ')}], got [${a.shape.join(', ')}]`;
    }
  }
  return null;
}

/**
 * The parameters in the layouts the executors use — conv weights HWIO [kh, kw, in, out] (a depthwise [C, 1, k, k]
 * becomes [k, k, 1, C], the same memory as [k, k, C]), everything else as stored — as host arrays the engine copies
 * in. `map` may transform values first (SynFlow's |θ|).
 */
export function execParams(net: Network, values: ParamValues, map?: (v: Float32Array) => Float32Array): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const p of net.params) {
    const raw = values.get(p.name);
    if (raw === undefined) throw new Error(`missing parameter ${p.name}`);
    const v = map ? map(raw) : raw;
    out.set(p.name, p.shape.length === 4 ? oihwToHwio(v, p.shape[0], p.shape[1], p.shape[2], p.shape[3]) : v);
  }
  return out;
}

export function oihwToHwio(v: Float32Array, o: number, i: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = v[((a * i + b) * kh + y) * kw + x];
      }
    }
  }
  return out;
}

/** HWIO (the engine's conv filters) → OIHW (PyTorch): the inverse of oihwToHwio (gradients back to parameter layout). */
export function hwioToOihw(v: Float32Array, o: number, i: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((a * i + b) * kh + y) * kw + x] = v[((y * kw + x) * i + b) * o + a];
      }
    }
  }
  return out;
}

/** NCHW float32 batch → NHWC. */
export function nchwToNhwc(v: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const src = (b * c + ch) * h * w;
      for (let p = 0; p < h * w; p++) out[(b * h * w + p) * c + ch] = v[src + p];
    }
  }
  return out;
}
