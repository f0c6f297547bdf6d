import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDarts } from '../../src/networks/darts.js';
import type { Network } from '../../src/networks/layers.js';
import { countParams, initParams, type ParamValues } from '../../src/networks/params.js';
import { mainPass } from '../../src/proxies/main-pass.js';
import { computeProxies, type Batch } from '../../src/proxies/index.js';
import { DARTS_V2, formatGenotype, parseGenotype, sampleGenotype, type DartsGenotype } from '../../src/spaces/darts.js';
import { Rng } from '../../src/util/rng.js';
import { batchMetrics64, crossEntropy64, F64Exec, graspByDifferences64, inputF64, synflow64, toOihw } from '../helpers/f64.js';

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

test('the engine\'s loss gradients of every weight match a float64 reference on a net with every op', () => {
  const { net, params, batch } = setup(ALL_OPS, 3);
  const r = mainPass(net, params, batch, { grads: true, fisher: false, hvp: false, jacobian: false, naswot: false });
  const [n, c, h, w] = batch.shape;
  const e = new F64Exec(params);
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

test('every metric is finite on a small DARTS net, agrees with its float64 reference, and a seed is deterministic', () => {
  const names = ['grad_norm', 'snip', 'grasp', 'fisher', 'synflow', 'jacob_cov', 'naswot', 'params', 'flops'];
  const { net, params, batch } = setup(ALL_OPS, 5);
  const a = computeProxies(net, params, batch, names.filter((m) => m !== 'flops'));
  for (const m of names.filter((x) => x !== 'flops')) assert.ok(Number.isFinite(a.values[m as keyof typeof a.values]), `${m} = ${a.values[m as keyof typeof a.values]}`);
  const again = computeProxies(net, initParams(net, new Rng(5)), batch, names.filter((m) => m !== 'flops'));
  assert.deepEqual(again.values, a.values);

  const s2 = setup(ALL_OPS, 6);
  const want = { ...batchMetrics64(s2.net, s2.params, s2.batch), grasp: graspByDifferences64(s2.net, s2.params, s2.batch) };
  const got = computeProxies(s2.net, s2.params, s2.batch, Object.keys(want)).values;
  for (const [m, t] of Object.entries(want)) {
    const v = got[m as keyof typeof got]!;
    const tol = m === 'grasp' ? 2e-2 : 2e-3;
    assert.ok(Math.abs(v - t) <= tol * Math.max(Math.abs(t), 1e-6), `${m}: engine ${v} vs float64 ${t}`);
  }
});

test('synflow (BN kept, see networks/darts.ts) matches a float64 reference; sampled genotypes build and run', () => {
  const { net, params, batch } = setup(ALL_OPS, 7);
  const want = synflow64(net, params);
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
