import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/nn/backend.js';
import { buildDarts } from '../../src/nn/darts.js';
import type { Conv2dLayer, Network } from '../../src/nn/layers.js';
import { countParams, initParams, type ParamValues } from '../../src/nn/params.js';
import { mainPass } from '../../src/proxies/engine.js';
import { computeProxies, type Batch } from '../../src/proxies/index.js';
import { DARTS_V2, formatGenotype, parseGenotype, sampleGenotype, type DartsGenotype } from '../../src/spaces/darts.js';
import { Rng } from '../../src/util/rng.js';
import { crossEntropy64, F64Exec, inputF64, toOihw, type T64 } from './f64.js';

/** The float64 reference executor extended with the DARTS ops (naive loops). */
class F64Darts extends F64Exec {
  private accum(t: T64, g: Float64Array): void {
    const old = this.grads.get(t);
    if (!old) this.grads.set(t, Float64Array.from(g));
    else for (let i = 0; i < g.length; i++) old[i] += g[i];
  }

  override conv(l: Conv2dLayer, x: T64): T64 {
    if ((l.groups ?? 1) === 1) return super.conv(l, x);
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
        this.accum(x, gx);
      },
    });
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
        this.accum(x, gx);
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
          this.accum(x, gx);
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
        this.accum(x, gx);
      },
    });
    return out;
  }
}

/** Every primitive (incl. none, and a node fed only by none), skip and dil_conv at stride 2 in the reduction cell. */
const ALL_OPS: DartsGenotype = parseGenotype(
  "Genotype(normal=[('sep_conv_3x3', 0), ('dil_conv_5x5', 1), ('max_pool_3x3', 2), ('avg_pool_3x3', 0), ('none', 1), ('none', 3), ('skip_connect', 4), ('sep_conv_5x5', 2)], normal_concat=range(2, 6), " +
    "reduce=[('dil_conv_3x3', 0), ('skip_connect', 1), ('max_pool_3x3', 1), ('avg_pool_3x3', 2), ('sep_conv_5x5', 0), ('dil_conv_5x5', 3), ('none', 0), ('sep_conv_3x3', 4)], reduce_concat=range(2, 6))",
);

function setup(geno: DartsGenotype, seed: number, n = 4, size = 16): { net: Network; params: ParamValues; batch: Batch } {
  const net = buildDarts({ genotype: geno, channels: 4, layers: 3, numClasses: 5, inputShape: [3, size, size] });
  const rng = new Rng(seed);
  const params = initParams(net, rng);
  const batch: Batch = {
    shape: [n, 3, size, size],
    x: Float32Array.from({ length: n * 3 * size * size }, () => rng.normal()),
    targets: Int32Array.from({ length: n }, () => rng.int(5)),
  };
  return { net, params, batch };
}

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let j = 0; j < want.length; j++) {
    d += (got[j] - want[j]) ** 2;
    s += want[j] ** 2;
  }
  return s === 0 ? Math.sqrt(d) : Math.sqrt(d / s);
}

/**
 * Parameters of NetworkCIFAR derived by hand from model.py/operations.py (no builder): per cell the two
 * preprocessors and the ops; BN affine = 2 per channel.
 */
function paramsByHand(g: DartsGenotype, C: number, layers: number, classes: number): number {
  const bn = (c: number) => 2 * c;
  const rcb = (ci: number, co: number) => ci * co + bn(co);
  const fr = (ci: number, co: number) => 2 * ci * (co / 2) + bn(co);
  const op = (name: string, c: number, stride: number): number => {
    switch (name) {
      case 'sep_conv_3x3':
        return 2 * (c * 9 + c * c + bn(c));
      case 'sep_conv_5x5':
        return 2 * (c * 25 + c * c + bn(c));
      case 'dil_conv_3x3':
        return c * 9 + c * c + bn(c);
      case 'dil_conv_5x5':
        return c * 25 + c * c + bn(c);
      case 'skip_connect':
        return stride === 2 ? fr(c, c) : 0;
      default:
        return 0;
    }
  };
  let total = 3 * 3 * 3 * (3 * C) + bn(3 * C);
  let [cpp, cp, cc] = [3 * C, 3 * C, C];
  let redPrev = false;
  for (let i = 0; i < layers; i++) {
    const red = i === Math.floor(layers / 3) || i === Math.floor((2 * layers) / 3);
    if (red) cc *= 2;
    total += (redPrev ? fr(cpp, cc) : rcb(cpp, cc)) + rcb(cp, cc);
    for (const [name, input] of red ? g.reduce : g.normal) total += op(name, cc, red && input < 2 ? 2 : 1);
    redPrev = red;
    [cpp, cp] = [cp, 4 * cc];
  }
  return total + cp * classes + classes;
}

test('DARTS_V2 at C=36, 20 layers, 10 classes (no auxiliary head): 3,349,342 parameters (DARTS: 3.3M)', () => {
  const net = buildDarts({ genotype: DARTS_V2, channels: 36, layers: 20, numClasses: 10 });
  assert.equal(paramsByHand(DARTS_V2, 36, 20, 10), 3_349_342);
  assert.equal(countParams(net), 3_349_342);
  // RoBoT's search setting.
  const small = buildDarts({ genotype: DARTS_V2, channels: 16, layers: 5, numClasses: 10 });
  assert.equal(countParams(small), paramsByHand(DARTS_V2, 16, 5, 10));
  assert.equal(countParams(buildDarts({ genotype: ALL_OPS, channels: 8, layers: 6, numClasses: 10 })), paramsByHand(ALL_OPS, 8, 6, 10));
  // State-dict names of one cell of each kind.
  const names = net.params.map((p) => p.name);
  assert.deepEqual(names.slice(0, 3), ['stem.0.weight', 'stem.1.weight', 'stem.1.bias']);
  assert.ok(names.includes('cells.0._ops.0.op.5.weight')); // sep_conv's second depthwise conv
  assert.ok(names.includes('cells.7.preprocess0.conv_2.weight')); // FactorizedReduce after the first reduction (cell 6)
  assert.ok(names.includes('cells.6._ops.2.conv_1.weight') === false); // skip from node 2 in a reduction cell: identity
  assert.deepEqual(net.params.find((p) => p.name === 'cells.0._ops.0.op.1.weight')!.shape, [36, 1, 3, 3]);
  assert.deepEqual(names.slice(-2), ['classifier.weight', 'classifier.bias']);
  assert.equal(net.id, formatGenotype(DARTS_V2));
});

test('manual engine: loss gradients of every weight match a float64 reference on a net with every op', async () => {
  await initBackend('wasm');
  const { net, params, batch } = setup(ALL_OPS, 3);
  const r = mainPass(net, params, batch, { grads: true, fisher: false, hvp: false, jacobian: false, naswot: false });
  const [n, c, h, w] = batch.shape;
  const e = new F64Darts(params);
  const z = net.forward(e, inputF64(batch.x, n, c, h, w));
  const ref = crossEntropy64(z, batch.targets);
  e.backward(z, ref.grad);
  assert.ok(Math.abs(r.loss! - ref.loss) < 1e-5 * ref.loss, `loss ${r.loss} vs ${ref.loss}`);
  net.weightLayers.forEach((l, i) => {
    const shape = net.params.find((p) => p.name === l.weight)!.shape;
    const got = toOihw(r.grads![i], shape);
    const want = e.paramGrads.get(l.weight);
    if (!want) {
      assert.ok(got.every((v) => v === 0), `${l.name} is unused but got a gradient`);
      return;
    }
    assert.ok(relErr(got, want) < 1e-3, `${l.name}: relative error ${relErr(got, want)}`);
  });
});

test('every metric is finite on a small DARTS net, manual and tape engines agree, and a seed is deterministic', async () => {
  await initBackend('wasm');
  const names = ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov', 'naswot', 'params', 'flops'];
  // Tape GraSP would need MaxPoolGrad's second derivative: compare the engines on a genotype without max pooling.
  const noMax = parseGenotype(formatGenotype(ALL_OPS).replace(/max_pool_3x3/g, 'avg_pool_3x3'));
  const { net, params, batch } = setup(ALL_OPS, 5);
  const a = computeProxies(net, params, batch, names.filter((m) => m !== 'flops'));
  for (const m of names.filter((x) => x !== 'flops')) assert.ok(Number.isFinite(a.values[m as keyof typeof a.values]), `${m} = ${a.values[m as keyof typeof a.values]}`);
  const again = computeProxies(net, initParams(net, new Rng(5)), batch, names.filter((m) => m !== 'flops'));
  assert.deepEqual(again.values, a.values);

  const s2 = setup(noMax, 6);
  const manual = computeProxies(s2.net, s2.params, s2.batch, ['grad_norm', 'snip', 'grasp', 'fisher', 'jacob_cov', 'naswot']);
  const tape = computeProxies(s2.net, s2.params, s2.batch, ['grad_norm', 'snip', 'grasp', 'fisher', 'jacob_cov', 'naswot'], { engine: 'tape' });
  for (const [m, v] of Object.entries(manual.values)) {
    const t = tape.values[m as keyof typeof tape.values]!;
    const tol = m === 'grasp' ? 2e-2 : 2e-3;
    assert.ok(Math.abs(v - t) <= tol * Math.max(Math.abs(t), 1e-6), `${m}: manual ${v} vs tape ${t}`);
  }
});

test('synflow (BN kept, see nn/darts.ts) matches a float64 reference; sampled genotypes build and run', async () => {
  await initBackend('wasm');
  const { net, params, batch } = setup(ALL_OPS, 7);
  const abs: ParamValues = new Map([...params].map(([k, v]) => [k, v.map(Math.abs)]));
  const [c, h, w] = net.inputShape;
  const e = new F64Darts(abs);
  const out = net.forward(e, { data: new Float64Array(h * w * c).fill(1), shape: [1, h, w, c] });
  e.backward(out, new Float64Array(out.data.length).fill(1));
  let want = 0;
  for (const l of net.weightLayers) {
    const g = e.paramGrads.get(l.weight);
    const wv = e.params.get(l.weight)!;
    if (g) for (let i = 0; i < g.length; i++) want += Math.abs(wv[i] * g[i]);
  }
  const got = computeProxies(net, params, batch, ['synflow']).values.synflow!;
  assert.ok(Math.abs(got - want) < 1e-3 * want, `synflow ${got} vs float64 ${want}`);

  const rng = new Rng(11, 'numpy');
  for (let i = 0; i < 2; i++) {
    const g = sampleGenotype(rng);
    const s = setup(g, 20 + i, 2, 16);
    const v = computeProxies(s.net, s.params, s.batch, ['grad_norm', 'grasp', 'synflow', 'jacob_cov']).values;
    for (const x of Object.values(v)) assert.ok(Number.isFinite(x));
  }
});
