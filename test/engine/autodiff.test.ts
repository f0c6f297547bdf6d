import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNb201 } from '../../src/networks/nb201.js';
import { initParams, type ParamValues } from '../../src/networks/params.js';
import { mainPass } from '../../src/proxies/main-pass.js';
import { computeProxies, type Batch } from '../../src/proxies/index.js';
import { Rng } from '../../src/util/rng.js';
import { batchMetrics64, graspByDifferences64, lossGrads64, toOihw } from '../helpers/f64.js';
import * as H from '../helpers/hostops.js';

const ARCH = '|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|';

function setup(seed: number): { net: ReturnType<typeof buildNb201>; params: ParamValues; batch: Batch } {
  const net = buildNb201({ arch: ARCH, channels: 4, cellsPerStage: 1, numClasses: 5, inputShape: [3, 16, 16] });
  const rng = new Rng(seed);
  const params = initParams(net, rng);
  const n = 6;
  const batch: Batch = {
    shape: [n, 3, 16, 16],
    x: Float32Array.from({ length: n * 3 * 256 }, () => rng.normal()),
    targets: Int32Array.from({ length: n }, () => rng.int(5)),
  };
  return { net, params, batch };
}

test('autodiff: loss gradients of every conv/linear weight match a float64 reference', () => {
  const { net, params, batch } = setup(1);
  const r = mainPass(net, params, batch, { grads: true, fisher: false, hvp: false, jacobian: false, naswot: false });
  const ref = lossGrads64(net, params, batch.x, batch.targets);
  assert.ok(Math.abs(r.loss! - ref.loss) < 1e-5 * ref.loss);
  net.weightLayers.forEach((l, i) => {
    const shape = net.params.find((p) => p.name === l.weight)!.shape;
    const got = toOihw(r.grads![i], shape);
    // A layer feeding only a `none` edge gets no gradient (PyTorch: None, or zeros).
    const want = ref.grads.get(l.weight) ?? new Float64Array(got.length);
    if (!ref.grads.has(l.weight)) {
      assert.ok(got.every((v) => v === 0), `${l.name} is unused but got a gradient`);
      return;
    }
    let d = 0;
    let s = 0;
    for (let j = 0; j < want.length; j++) {
      d += (got[j] - want[j]) ** 2;
      s += want[j] ** 2;
    }
    assert.ok(Math.sqrt(d / s) < 1e-4, `${l.name}: relative error ${Math.sqrt(d / s)}`);
  });
});

test('dual mode: GraSP from gᵀ(H·W) matches −Wᵀ(H·g) by float64 finite differences of gradients', () => {
  const { net, params, batch } = setup(2);
  const r = mainPass(net, params, batch, { grads: true, fisher: false, hvp: true, jacobian: false, naswot: false });
  const graspEngine = -r.gHw!;
  const grasp64 = graspByDifferences64(net, params, batch);
  assert.ok(Math.abs(graspEngine - grasp64) < 2e-3 * Math.abs(grasp64), `engine ${graspEngine} vs float64 FD ${grasp64}`);
});

test('every batch metric agrees with its float64 reference on a small network', () => {
  const { net, params, batch } = setup(3);
  const want = batchMetrics64(net, params, batch);
  const got = computeProxies(net, params, batch, Object.keys(want)).values;
  for (const [m, y] of Object.entries(want)) {
    const x = got[m as keyof typeof got]!;
    assert.ok(Number.isFinite(y), `${m}: float64 reference ${y}`);
    assert.ok(Math.abs(x - y) <= 1e-4 * Math.abs(y), `${m}: engine ${x} vs float64 ${y}`);
  }
});

test('BatchNorm tangent and dual backward match finite differences', () => {
  const rng = new Rng(4);
  const c = 3;
  const m = 40;
  const x = Float32Array.from({ length: m * c }, () => rng.normal() * 2 + 1);
  const xt = Float32Array.from({ length: m * c }, () => rng.normal());
  const g = Float32Array.from({ length: m * c }, () => rng.normal());
  const gt = Float32Array.from({ length: m * c }, () => rng.normal());
  const gamma = Float32Array.from([0.5, 2, -1.5]);
  const eps = 1e-5;
  // x̂(x) and x̄(x, ȳ) in float64 for finite differences.
  const normalise = (xs: Float64Array): Float64Array => {
    const mean = new Float64Array(c);
    const v = new Float64Array(c);
    xs.forEach((xi, i) => (mean[i % c] += xi / m));
    xs.forEach((xi, i) => (v[i % c] += (xi - mean[i % c]) ** 2 / m));
    return xs.map((xi, i) => (xi - mean[i % c]) / Math.sqrt(v[i % c] + eps));
  };
  const backward = (xs: Float64Array, gs: Float64Array): Float64Array => {
    const xh = normalise(xs);
    const r = new Float64Array(c);
    const mean = new Float64Array(c);
    const v = new Float64Array(c);
    xs.forEach((xi, i) => (mean[i % c] += xi / m));
    xs.forEach((xi, i) => (v[i % c] += (xi - mean[i % c]) ** 2 / m));
    for (let k = 0; k < c; k++) r[k] = 1 / Math.sqrt(v[k] + eps);
    const gh = gs.map((gi, i) => gamma[i % c] * gi);
    const a = new Float64Array(c);
    const b = new Float64Array(c);
    gh.forEach((gi, i) => {
      a[i % c] += gi / m;
      b[i % c] += (gi * xh[i]) / m;
    });
    return gh.map((gi, i) => r[i % c] * (gi - a[i % c] - xh[i] * b[i % c]));
  };
  const h = 1e-6;
  const x64 = Float64Array.from(x);
  const plus = x64.map((xi, i) => xi + h * xt[i]);
  const minus = x64.map((xi, i) => xi - h * xt[i]);
  const s = H.bnStats(x, c, eps);
  const xhat = new Float32Array(x.length);
  H.bnNormalize(x, s, xhat);
  const xhatT = new Float32Array(x.length);
  const rho = H.bnTangent(xhat, s.r, xt, xhatT);
  const fdTangent = normalise(plus).map((v, i) => (v - normalise(minus)[i]) / (2 * h));
  xhatT.forEach((v, i) => assert.ok(Math.abs(v - fdTangent[i]) < 1e-4, `x̂̇[${i}] ${v} vs ${fdTangent[i]}`));
  const outV = new Float32Array(x.length);
  const outT = new Float32Array(x.length);
  H.bnBackwardDual(xhat, xhatT, s.r, rho, g, gt, outV, outT, gamma);
  const g64 = Float64Array.from(g);
  const gPlus = g64.map((gi, i) => gi + h * gt[i]);
  const gMinus = g64.map((gi, i) => gi - h * gt[i]);
  const fd = backward(plus, gPlus).map((v, i) => (v - backward(minus, gMinus)[i]) / (2 * h));
  const ref = backward(x64, g64);
  outV.forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 1e-4, `x̄[${i}]`));
  outT.forEach((v, i) => assert.ok(Math.abs(v - fd[i]) < 1e-3 * Math.max(1, Math.abs(fd[i])), `x̄̇[${i}] ${v} vs ${fd[i]}`));
});
