/**
 * Test helper: an independent float64 reference of the network-level operations (NB201's and DARTS'), written with
 * naive loops and a closure tape, for small networks. Weights are read in PyTorch layout (OIHW / [out, in]). The
 * engine's metrics, training and SynFlow are checked against it.
 */
import type { ActivationKind, ActivationSite, BatchNormLayer, Conv2dLayer, Exec, LinearLayer, Network, ReluSite, WeightLayer } from '../../src/networks/layers.js';
import type { ParamValues } from '../../src/networks/params.js';
import { corrcoef, slogdet, symmetricEigenvalues } from '../../src/proxies/linalg.js';
import { fisherFromChannelGrads } from '../../src/proxies/metrics.js';
import type { Batch } from '../../src/proxies/types.js';

export interface T64 {
  data: Float64Array;
  /** NHWC, or [N, F]. */
  shape: number[];
}

export interface F64Options {
  /** SynFlow semantics: BatchNorm only where keepInSynflow. */
  synflow?: boolean;
  /** Called with every conv/linear output (Fisher reads their gradients after the backward). */
  onWeightOutput?: (layer: WeightLayer, out: T64) => void;
  /** Called with every ReLU input (NASWOT). */
  onReluInput?: (x: T64) => void;
}

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

export class F64Exec implements Exec<T64> {
  readonly tape: { out: T64; back: (g: Float64Array) => void }[] = [];
  readonly grads = new Map<T64, Float64Array>();
  /** ∂/∂(weight name), PyTorch layout. */
  readonly paramGrads = new Map<string, Float64Array>();
  readonly params: Map<string, Float64Array>;

  constructor(values: ParamValues, private readonly opts: F64Options = {}) {
    this.params = new Map([...values].map(([k, v]) => [k, Float64Array.from(v)]));
  }

  private acc(t: T64, g: Float64Array): void {
    const old = this.grads.get(t);
    if (!old) this.grads.set(t, Float64Array.from(g));
    else for (let i = 0; i < g.length; i++) old[i] += g[i];
  }

  private accParam(name: string, g: Float64Array): void {
    const old = this.paramGrads.get(name);
    if (!old) this.paramGrads.set(name, g);
    else for (let i = 0; i < g.length; i++) old[i] += g[i];
  }

  conv(l: Conv2dLayer, x: T64): T64 {
    if ((l.groups ?? 1) !== 1) return this.depthwise(l, x);
    const [n, h, w, ci] = x.shape;
    const { kernel: k, stride: s, pad: p, outChannels: co } = l;
    const ho = Math.floor((h + 2 * p - k) / s) + 1;
    const wo = Math.floor((w + 2 * p - k) / s) + 1;
    const W = this.params.get(l.weight)!;
    const B = l.bias ? this.params.get(l.bias)! : undefined;
    const out: T64 = { data: new Float64Array(n * ho * wo * co), shape: [n, ho, wo, co] };
    const idx = (b: number, yy: number, xx: number): number => ((b * h + yy) * w + xx) * ci;
    for (let b = 0; b < n; b++)
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++)
          for (let o = 0; o < co; o++) {
            let acc = B ? B[o] : 0;
            for (let a = 0; a < k; a++) {
              const yy = oy * s + a - p;
              if (yy < 0 || yy >= h) continue;
              for (let c = 0; c < k; c++) {
                const xx = ox * s + c - p;
                if (xx < 0 || xx >= w) continue;
                const base = idx(b, yy, xx);
                for (let i = 0; i < ci; i++) acc += x.data[base + i] * W[((o * ci + i) * k + a) * k + c];
              }
            }
            out.data[((b * ho + oy) * wo + ox) * co + o] = acc;
          }
    this.tape.push({
      out,
      back: (g) => {
        const gx = new Float64Array(x.data.length);
        const gw = new Float64Array(W.length);
        for (let b = 0; b < n; b++)
          for (let oy = 0; oy < ho; oy++)
            for (let ox = 0; ox < wo; ox++)
              for (let o = 0; o < co; o++) {
                const gv = g[((b * ho + oy) * wo + ox) * co + o];
                if (gv === 0) continue;
                for (let a = 0; a < k; a++) {
                  const yy = oy * s + a - p;
                  if (yy < 0 || yy >= h) continue;
                  for (let c = 0; c < k; c++) {
                    const xx = ox * s + c - p;
                    if (xx < 0 || xx >= w) continue;
                    const base = idx(b, yy, xx);
                    for (let i = 0; i < ci; i++) {
                      const wi = ((o * ci + i) * k + a) * k + c;
                      gx[base + i] += gv * W[wi];
                      gw[wi] += gv * x.data[base + i];
                    }
                  }
                }
              }
        this.accParam(l.weight, gw);
        if (l.bias) {
          const gb = new Float64Array(co);
          for (let i = 0; i < g.length; i++) gb[i % co] += g[i];
          this.accParam(l.bias, gb);
        }
        this.acc(x, gx);
      },
    });
    this.opts.onWeightOutput?.(l, out);
    return out;
  }

  linear(l: LinearLayer, x: T64): T64 {
    const [n, f] = x.shape;
    const k = l.outFeatures;
    const W = this.params.get(l.weight)!;
    const B = l.bias ? this.params.get(l.bias)! : undefined;
    const out: T64 = { data: new Float64Array(n * k), shape: [n, k] };
    for (let b = 0; b < n; b++)
      for (let o = 0; o < k; o++) {
        let acc = B ? B[o] : 0;
        for (let i = 0; i < f; i++) acc += x.data[b * f + i] * W[o * f + i];
        out.data[b * k + o] = acc;
      }
    this.tape.push({
      out,
      back: (g) => {
        const gx = new Float64Array(n * f);
        const gw = new Float64Array(W.length);
        for (let b = 0; b < n; b++)
          for (let o = 0; o < k; o++)
            for (let i = 0; i < f; i++) {
              gx[b * f + i] += g[b * k + o] * W[o * f + i];
              gw[o * f + i] += g[b * k + o] * x.data[b * f + i];
            }
        this.accParam(l.weight, gw);
        if (l.bias) {
          const gb = new Float64Array(k);
          for (let i = 0; i < g.length; i++) gb[i % k] += g[i];
          this.accParam(l.bias, gb);
        }
        this.acc(x, gx);
      },
    });
    this.opts.onWeightOutput?.(l, out);
    return out;
  }

  batchNorm(l: BatchNormLayer, x: T64): T64 {
    if (this.opts.synflow && !l.keepInSynflow) return x;
    const c = l.channels;
    const m = x.data.length / c;
    const mean = new Float64Array(c);
    const v = new Float64Array(c);
    for (let i = 0; i < x.data.length; i++) mean[i % c] += x.data[i] / m;
    for (let i = 0; i < x.data.length; i++) v[i % c] += (x.data[i] - mean[i % c]) ** 2 / m;
    const r = Float64Array.from(v, (vv) => 1 / Math.sqrt(vv + l.eps));
    const gamma = l.weight ? this.params.get(l.weight)! : undefined;
    const beta = l.bias ? this.params.get(l.bias)! : undefined;
    const xhat = Float64Array.from(x.data, (xv, i) => (xv - mean[i % c]) * r[i % c]);
    const out: T64 = { data: Float64Array.from(xhat, (xh, i) => (gamma ? gamma[i % c] : 1) * xh + (beta ? beta[i % c] : 0)), shape: x.shape };
    this.tape.push({
      out,
      back: (g) => {
        if (l.weight && l.bias) {
          const gg = new Float64Array(c);
          const gb = new Float64Array(c);
          for (let i = 0; i < g.length; i++) {
            gg[i % c] += g[i] * xhat[i];
            gb[i % c] += g[i];
          }
          this.accParam(l.weight, gg);
          this.accParam(l.bias, gb);
        }
        const gh = Float64Array.from(g, (gv, i) => (gamma ? gamma[i % c] : 1) * gv);
        const a = new Float64Array(c);
        const bb = new Float64Array(c);
        for (let i = 0; i < gh.length; i++) {
          a[i % c] += gh[i] / m;
          bb[i % c] += (gh[i] * xhat[i]) / m;
        }
        this.acc(x, Float64Array.from(gh, (gv, i) => r[i % c] * (gv - a[i % c] - xhat[i] * bb[i % c])));
      },
    });
    return out;
  }

  relu(_s: ReluSite, x: T64): T64 {
    this.opts.onReluInput?.(x);
    const out: T64 = { data: Float64Array.from(x.data, (v) => (v > 0 ? v : 0)), shape: x.shape };
    this.tape.push({ out, back: (g) => this.acc(x, Float64Array.from(g, (gv, i) => (x.data[i] > 0 ? gv : 0))) });
    return out;
  }

  avgPool(x: T64, k: number, s: number, p: number): T64 {
    const [n, h, w, c] = x.shape;
    const ho = Math.floor((h + 2 * p - k) / s) + 1;
    const wo = Math.floor((w + 2 * p - k) / s) + 1;
    const out: T64 = { data: new Float64Array(n * ho * wo * c), shape: [n, ho, wo, c] };
    const windows: [number, number, number, number, number][] = [];
    for (let b = 0; b < n; b++)
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++) {
          const y0 = Math.max(0, oy * s - p);
          const y1 = Math.min(h, oy * s - p + k);
          const x0 = Math.max(0, ox * s - p);
          const x1 = Math.min(w, ox * s - p + k);
          windows.push([b, oy, ox, y0 * 100000 + y1, x0 * 100000 + x1]);
          const cnt = (y1 - y0) * (x1 - x0);
          for (let ch = 0; ch < c; ch++) {
            let acc = 0;
            for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) acc += x.data[((b * h + yy) * w + xx) * c + ch];
            out.data[((b * ho + oy) * wo + ox) * c + ch] = acc / cnt;
          }
        }
    this.tape.push({
      out,
      back: (g) => {
        const gx = new Float64Array(x.data.length);
        for (const [b, oy, ox, yy01, xx01] of windows) {
          const y0 = Math.floor(yy01 / 100000);
          const y1 = yy01 % 100000;
          const x0 = Math.floor(xx01 / 100000);
          const x1 = xx01 % 100000;
          const cnt = (y1 - y0) * (x1 - x0);
          for (let ch = 0; ch < c; ch++) {
            const gv = g[((b * ho + oy) * wo + ox) * c + ch] / cnt;
            for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) gx[((b * h + yy) * w + xx) * c + ch] += gv;
          }
        }
        this.acc(x, gx);
      },
    });
    return out;
  }

  add(xs: T64[]): T64 {
    const out: T64 = { data: new Float64Array(xs[0].data.length), shape: xs[0].shape };
    for (const x of xs) for (let i = 0; i < x.data.length; i++) out.data[i] += x.data[i];
    this.tape.push({ out, back: (g) => xs.forEach((x) => this.acc(x, g)) });
    return out;
  }

  zerosLike(x: T64): T64 {
    return { data: new Float64Array(x.data.length), shape: x.shape };
  }

  globalAvgPool(x: T64): T64 {
    const [n, h, w, c] = x.shape;
    const p = h * w;
    const out: T64 = { data: new Float64Array(n * c), shape: [n, c] };
    for (let i = 0; i < x.data.length; i++) out.data[Math.floor(i / (p * c)) * c + (i % c)] += x.data[i] / p;
    this.tape.push({ out, back: (g) => this.acc(x, Float64Array.from(x.data, (_v, i) => g[Math.floor(i / (p * c)) * c + (i % c)] / p)) });
    return out;
  }

  /** Depthwise (dilated) conv, weight [C, 1, k, k]. */
  private depthwise(l: Conv2dLayer, x: T64): T64 {
    const [n, h, w, c] = x.shape;
    const { kernel: k, stride: s, pad: p } = l;
    const d = l.dilation ?? 1;
    const ho = Math.floor((h + 2 * p - (k - 1) * d - 1) / s) + 1;
    const wo = Math.floor((w + 2 * p - (k - 1) * d - 1) / s) + 1;
    const W = this.params.get(l.weight)!; // [C, 1, k, k]
    const out: T64 = { data: new Float64Array(n * ho * wo * c), shape: [n, ho, wo, c] };
    const taps: [number, number, number, number][] = []; // (out index base, in index base, a, e)
    for (let b = 0; b < n; b++)
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++)
          for (let a = 0; a < k; a++)
            for (let e = 0; e < k; e++) {
              const yy = oy * s - p + a * d;
              const xx = ox * s - p + e * d;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              taps.push([((b * ho + oy) * wo + ox) * c, ((b * h + yy) * w + xx) * c, a, e]);
            }
    for (const [o, i, a, e] of taps) for (let ch = 0; ch < c; ch++) out.data[o + ch] += x.data[i + ch] * W[(ch * k + a) * k + e];
    this.tape.push({
      out,
      back: (g) => {
        const gx = new Float64Array(x.data.length);
        const gw = new Float64Array(W.length);
        for (const [o, i, a, e] of taps)
          for (let ch = 0; ch < c; ch++) {
            gx[i + ch] += g[o + ch] * W[(ch * k + a) * k + e];
            gw[(ch * k + a) * k + e] += g[o + ch] * x.data[i + ch];
          }
        const old = this.paramGrads.get(l.weight);
        if (old) for (let j = 0; j < gw.length; j++) old[j] += gw[j];
        else this.paramGrads.set(l.weight, gw);
        this.acc(x, gx);
      },
    });
    this.opts.onWeightOutput?.(l, out);
    return out;
  }

  maxPool(x: T64, k: number, s: number, p: number): T64 {
    const [n, h, w, c] = x.shape;
    const ho = Math.floor((h + 2 * p - k) / s) + 1;
    const wo = Math.floor((w + 2 * p - k) / s) + 1;
    const out: T64 = { data: new Float64Array(n * ho * wo * c), shape: [n, ho, wo, c] };
    const arg = new Int32Array(out.data.length);
    for (let b = 0; b < n; b++)
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++)
          for (let ch = 0; ch < c; ch++) {
            let best = -Infinity;
            let at = -1;
            for (let yy = Math.max(0, oy * s - p); yy < Math.min(h, oy * s - p + k); yy++)
              for (let xx = Math.max(0, ox * s - p); xx < Math.min(w, ox * s - p + k); xx++) {
                const i = ((b * h + yy) * w + xx) * c + ch;
                if (x.data[i] > best) {
                  best = x.data[i];
                  at = i;
                }
              }
            const o = ((b * ho + oy) * wo + ox) * c + ch;
            out.data[o] = best;
            arg[o] = at;
          }
    this.tape.push({
      out,
      back: (g) => {
        const gx = new Float64Array(x.data.length);
        for (let o = 0; o < g.length; o++) gx[arg[o]] += g[o];
        this.acc(x, gx);
      },
    });
    return out;
  }

  concat(xs: T64[]): T64 {
    const [n, h, w] = xs[0].shape;
    const cs = xs.map((x) => x.shape[3]);
    const total = cs.reduce((a, b) => a + b, 0);
    const p = n * h * w;
    const out: T64 = { data: new Float64Array(p * total), shape: [n, h, w, total] };
    let off = 0;
    xs.forEach((x, j) => {
      for (let q = 0; q < p; q++) for (let ch = 0; ch < cs[j]; ch++) out.data[q * total + off + ch] = x.data[q * cs[j] + ch];
      off += cs[j];
    });
    this.tape.push({
      out,
      back: (g) => {
        let o2 = 0;
        xs.forEach((x, j) => {
          const gx = new Float64Array(x.data.length);
          for (let q = 0; q < p; q++) for (let ch = 0; ch < cs[j]; ch++) gx[q * cs[j] + ch] = g[q * total + o2 + ch];
          o2 += cs[j];
          this.acc(x, gx);
        });
      },
    });
    return out;
  }

  crop(x: T64, top: number, left: number): T64 {
    const [n, h, w, c] = x.shape;
    const h2 = h - top;
    const w2 = w - left;
    const out: T64 = { data: new Float64Array(n * h2 * w2 * c), shape: [n, h2, w2, c] };
    const src = (b: number, i: number, j: number) => ((b * h + i + top) * w + j + left) * c;
    for (let b = 0; b < n; b++) for (let i = 0; i < h2; i++) for (let j = 0; j < w2; j++) for (let ch = 0; ch < c; ch++) out.data[((b * h2 + i) * w2 + j) * c + ch] = x.data[src(b, i, j) + ch];
    this.tape.push({
      out,
      back: (g) => {
        const gx = new Float64Array(x.data.length);
        for (let b = 0; b < n; b++) for (let i = 0; i < h2; i++) for (let j = 0; j < w2; j++) for (let ch = 0; ch < c; ch++) gx[src(b, i, j) + ch] = g[((b * h2 + i) * w2 + j) * c + ch];
        this.acc(x, gx);
      },
    });
    return out;
  }

  activation(site: ActivationSite, x: T64): T64 {
    const { f, d1 } = act64(site.kind);
    const out: T64 = { data: x.data.map(f), shape: x.shape };
    this.tape.push({ out, back: (g) => this.acc(x, Float64Array.from(g, (gv, i) => gv * d1(x.data[i]))) });
    return out;
  }

  channelScale(x: T64, s: T64): T64 {
    const n = x.shape[0];
    const c = x.shape[x.shape.length - 1];
    const per = x.data.length / (n * c);
    const si = (i: number): number => Math.floor(i / (per * c)) * c + (i % c);
    const out: T64 = { data: x.data.map((v, i) => v * s.data[si(i)]), shape: x.shape };
    this.tape.push({
      out,
      back: (g) => {
        this.acc(x, Float64Array.from(g, (gv, i) => gv * s.data[si(i)]));
        const gs = new Float64Array(s.data.length);
        g.forEach((gv, i) => (gs[si(i)] += gv * x.data[i]));
        this.acc(s, gs);
      },
    });
    return out;
  }

  backward(out: T64, seed: Float64Array): void {
    this.acc(out, seed);
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const e = this.tape[i];
      const g = this.grads.get(e.out);
      if (g) e.back(g);
    }
  }
}

/** NCHW float32 batch → NHWC float64. */
export function inputF64(x: Float32Array, n: number, c: number, h: number, w: number): T64 {
  const out = new Float64Array(x.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[(b * h * w + p) * c + ch] = x[(b * c + ch) * h * w + p];
  return { data: out, shape: [n, h, w, c] };
}

/** Mean cross-entropy and its gradient w.r.t. the logits, float64. */
export function crossEntropy64(z: T64, targets: Int32Array): { loss: number; grad: Float64Array } {
  const [n, k] = z.shape;
  const grad = new Float64Array(n * k);
  let loss = 0;
  for (let b = 0; b < n; b++) {
    const row = z.data.subarray(b * k, (b + 1) * k);
    const m = Math.max(...row);
    const e = Array.from(row, (v) => Math.exp(v - m));
    const s = e.reduce((a, c) => a + c, 0);
    loss += m + Math.log(s) - row[targets[b]];
    for (let j = 0; j < k; j++) grad[b * k + j] = (e[j] / s - (j === targets[b] ? 1 : 0)) / n;
  }
  return { loss: loss / n, grad };
}

/** ∂L/∂W (PyTorch layout) of every weight layer, float64. */
export function lossGrads64(net: Network, values: ParamValues, x: Float32Array, targets: Int32Array): { loss: number; grads: Map<string, Float64Array> } {
  const [c, h, w] = net.inputShape;
  const e = new F64Exec(values);
  const z = net.forward(e, inputF64(x, targets.length, c, h, w));
  const { loss, grad } = crossEntropy64(z, targets);
  e.backward(z, grad);
  return { loss, grads: e.paramGrads };
}

/** SynFlow in float64 without any rescaling (for networks small enough not to overflow). */
export function synflow64(net: Network, values: ParamValues): number {
  const [c, h, w] = net.inputShape;
  const abs: ParamValues = new Map([...values].map(([k, v]) => [k, v.map(Math.abs)]));
  const e = new F64Exec(abs, { synflow: true });
  const out = net.forward(e, { data: new Float64Array(h * w * c).fill(1), shape: [1, h, w, c] });
  e.backward(out, new Float64Array(out.data.length).fill(1));
  let s = 0;
  for (const l of net.weightLayers) {
    const g = e.paramGrads.get(l.weight);
    const wv = e.params.get(l.weight)!;
    if (g) for (let i = 0; i < g.length; i++) s += Math.abs(wv[i] * g[i]);
  }
  return s;
}

/**
 * GraSP = −Wᵀ(H·g) in float64, H·g by central differences of gradients: (∇L(W + εg) − ∇L(W − εg)) / 2ε along the
 * conv/linear weights only. Weights stay float64 and the step is tiny so that no ReLU changes sign in between.
 */
export function graspByDifferences64(net: Network, params: ParamValues, batch: Batch): number {
  const base = lossGrads64(net, params, batch.x, batch.targets).grads;
  const eps = 1e-7;
  const shifted = (sign: number): Map<string, Float64Array> => {
    const p = new Map<string, Float64Array>([...params].map(([k, v]) => [k, Float64Array.from(v)]));
    for (const l of net.weightLayers) {
      const w = params.get(l.weight)!;
      const g = base.get(l.weight);
      if (g) p.set(l.weight, Float64Array.from(w, (wi, i) => wi + sign * eps * g[i]));
    }
    return lossGrads64(net, p as unknown as ParamValues, batch.x, batch.targets).grads;
  };
  const gp = shifted(1);
  const gm = shifted(-1);
  let grasp = 0;
  for (const l of net.weightLayers) {
    const w = params.get(l.weight)!;
    const a = gp.get(l.weight);
    const b = gm.get(l.weight);
    if (a && b) for (let i = 0; i < w.length; i++) grasp -= (w[i] * (a[i] - b[i])) / (2 * eps);
  }
  return grasp;
}

/**
 * grad_norm, snip, fisher, jacob_cov and naswot in float64 (GraSP has its own finite-difference check), the
 * metrics' final reductions being the project's (tested on their own against closed forms).
 */
export function batchMetrics64(net: Network, values: ParamValues, batch: Batch): Record<'grad_norm' | 'snip' | 'fisher' | 'jacob_cov' | 'naswot', number> {
  const [n, c, h, w] = batch.shape;
  const outputs = new Map<string, T64>();
  const kernel = new Float64Array(n * n);
  const e = new F64Exec(values, {
    onWeightOutput: (l, out) => outputs.set(l.name, out),
    onReluInput: (x) => {
      const f = x.data.length / n;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let agree = 0;
          for (let q = 0; q < f; q++) if (x.data[i * f + q] > 0 === x.data[j * f + q] > 0) agree++;
          kernel[i * n + j] += agree;
        }
    },
  });
  const z = net.forward(e, inputF64(batch.x, n, c, h, w));
  e.backward(z, crossEntropy64(z, batch.targets).grad);
  let gradNorm = 0;
  let snip = 0;
  for (const l of net.weightLayers) {
    const g = e.paramGrads.get(l.weight);
    const wv = e.params.get(l.weight)!;
    if (!g) continue;
    gradNorm += Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    g.forEach((v, i) => (snip += Math.abs(v * wv[i])));
  }
  const channelGrads = net.weightLayers.map((l) => {
    const out = outputs.get(l.name)!;
    const g = e.grads.get(out) ?? new Float64Array(out.data.length);
    const ch = out.shape[out.shape.length - 1];
    const per = out.data.length / (n * ch);
    const v = new Float64Array(n * ch);
    for (let i = 0; i < out.data.length; i++) v[Math.floor(i / (per * ch)) * ch + (i % ch)] += out.data[i] * g[i];
    return v;
  });
  // jacob_cov: ∂(Σ logits)/∂x per image, from a second float64 pass.
  const ej = new F64Exec(values);
  const x = inputF64(batch.x, n, c, h, w);
  const zj = net.forward(ej, x);
  ej.backward(zj, new Float64Array(zj.data.length).fill(1));
  const jac = ej.grads.get(x);
  let jacobCov = NaN;
  if (jac) {
    const corr = corrcoef(jac, n, jac.length / n);
    if (!corr.some(Number.isNaN)) jacobCov = -symmetricEigenvalues(corr, n).reduce((s, l) => s + Math.log(l + 1e-5) + 1 / (l + 1e-5), 0);
  }
  return { grad_norm: gradNorm, snip, fisher: fisherFromChannelGrads(net, channelGrads, n), jacob_cov: jacobCov, naswot: slogdet(kernel, n).logAbsDet };
}

export { size };

/** HWIO (the engine's layout) → OIHW (PyTorch); a depthwise [k,k,1,C] is the HWIO of [C,1,k,k] too. Used to compare the engine's gradients with the float64 reference. */
export function toOihw(v: Float32Array, shape: number[]): Float32Array {
  if (shape.length !== 4) return v;
  const [o, i, kh, kw] = shape;
  const out = new Float32Array(v.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((a * i + b) * kh + y) * kw + x] = v[((y * kw + x) * i + b) * o + a];
  return out;
}

/** An activation and its first two derivatives in float64 (PyTorch's conventions at the kinks). */
export function act64(kind: ActivationKind): { f: (x: number) => number; d1: (x: number) => number; d2: (x: number) => number } {
  const sig = (x: number): number => 1 / (1 + Math.exp(-x));
  const relu6 = (x: number): number => Math.min(Math.max(x, 0), 6);
  switch (kind) {
    case 'relu6':
      return { f: relu6, d1: (x) => (x > 0 && x < 6 ? 1 : 0), d2: () => 0 };
    case 'hardswish':
      return { f: (x) => (x * relu6(x + 3)) / 6, d1: (x) => (x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1), d2: (x) => (x > -3 && x < 3 ? 1 / 3 : 0) };
    case 'hardsigmoid':
      return { f: (x) => relu6(x + 3) / 6, d1: (x) => (x > -3 && x < 3 ? 1 / 6 : 0), d2: () => 0 };
    case 'sigmoid':
      return { f: sig, d1: (x) => sig(x) * (1 - sig(x)), d2: (x) => sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)) };
    case 'silu':
      return {
        f: (x) => x * sig(x),
        d1: (x) => sig(x) * (1 + x * (1 - sig(x))),
        d2: (x) => sig(x) * (1 - sig(x)) * (2 + x * (1 - 2 * sig(x))),
      };
  }
}
