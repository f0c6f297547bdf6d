/**
 * The pieces of the issue-20 metrics against closed forms and invariants; their values on whole networks are
 * checked against the PyTorch anchor in anchors.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Tensor } from '../../src/engine/tensor.js';
import { initEngine } from '../../src/engine/kernels.js';
import { buildNb201 } from '../../src/networks/nb201.js';
import { buildDarts } from '../../src/networks/darts.js';
import { initParams } from '../../src/networks/params.js';
import { weightsPerChannel } from '../../src/networks/layers.js';
import { azNas, entropy, kaimingNormalInit } from '../../src/proxies/aznas.js';
import { fixtureWeights } from '../../src/proxies/fixture-weights.js';
import { fnv1a, mix32, normalsAt, streamKey } from '../../src/proxies/hash.js';
import { meco, minCorrEigenvalue } from '../../src/proxies/meco.js';
import { gaussianInit, positiveBit, swapCount } from '../../src/proxies/swap.js';
import { zicoFromGrads } from '../../src/proxies/zico.js';
import { computeProxies, METRIC_DATA, METRIC_NAMES, type Batch } from '../../src/proxies/index.js';
import { Rng } from '../../src/util/rng.js';

function randomBatch(n: number, seed: number, classes = 10): Batch {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 3 * 32 * 32);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return { shape: [n, 3, 32, 32], x, targets: Int32Array.from({ length: n }, () => rng.int(classes)) };
}

test('the counter-based stream is the anchor\'s (values computed by anchors/metrics_anchor.py)', () => {
  assert.deepEqual([1, 2, 12345, 0xdeadbeef].map(mix32), [1753845952, 3507691905, 2435775735, 3861431939]);
  assert.equal(fnv1a('stem_conv.weight'), 1279533159);
  assert.equal(streamKey(7, fnv1a('stem_conv.weight')), 2006968584);
});

test('counter-based normals have mean 0 and variance 1', () => {
  const z = normalsAt(streamKey(3, 4), 200001);
  let m = 0;
  let v = 0;
  for (const x of z) m += x;
  m /= z.length;
  for (const x of z) v += (x - m) ** 2;
  v /= z.length;
  assert.ok(Math.abs(m) < 0.01, `mean ${m}`);
  assert.ok(Math.abs(v - 1) < 0.01, `variance ${v}`);
});

test('zico: Σ_layers log Σ mean|g| / std over the batches, entries without spread left out (closed form)', () => {
  const a = [Float32Array.of(1, -2, 3, 0.5), Float32Array.of(4, 4)];
  const b = [Float32Array.of(3, -2, -1, 0.25), Float32Array.of(4, 4)];
  // layer 0: entries 0, 2, 3 differ: (|1|+|3|)/|1−3| + (3+1)/4 + (0.75)/0.25 = 2 + 1 + 3; entry 1 has std 0.
  // layer 1: every entry equal across batches → its sum is 0 → left out.
  assert.ok(Math.abs(zicoFromGrads([a, b]) - Math.log(6)) < 1e-12);
  // three batches: population std, as numpy's
  const g = [[Float32Array.of(1)], [Float32Array.of(2)], [Float32Array.of(6)]];
  const mean = 3;
  const sd = Math.sqrt(((1 - mean) ** 2 + (2 - mean) ** 2 + (6 - mean) ** 2) / 3);
  assert.ok(Math.abs(zicoFromGrads(g) - Math.log(mean / sd)) < 1e-12);
  assert.throws(() => zicoFromGrads([a]), /at least two batches/);
});

test('meco: λ_min of a channel correlation matrix (closed forms)', () => {
  // Two channels over 4 positions (NHWC rows = positions): correlation r → eigenvalues 1 ± r.
  const map = (c0: number[], c1: number[]): Float32Array => Float32Array.from(c0.flatMap((v, i) => [v, c1[i]]));
  const x = [1, 2, 3, 4];
  assert.ok(Math.abs(minCorrEigenvalue(map(x, [2, 4, 6, 8]), 4, 2)) < 1e-12); // r = 1
  assert.ok(Math.abs(minCorrEigenvalue(map(x, [1, -1, -1, 1]), 4, 2) - 1) < 1e-12); // r = 0
  const y = [1, 3, 2, 5];
  const mx = 2.5;
  const my = 2.75;
  const r = x.reduce((s, v, i) => s + (v - mx) * (y[i] - my), 0) / Math.sqrt(x.reduce((s, v) => s + (v - mx) ** 2, 0) * y.reduce((s, v) => s + (v - my) ** 2, 0));
  assert.ok(Math.abs(minCorrEigenvalue(map(x, y), 4, 2) - (1 - Math.abs(r))) < 1e-12);
  // a constant channel: its NaN row and column count as 0, so 0 is an eigenvalue
  assert.equal(minCorrEigenvalue(map(x, [5, 5, 5, 5]), 4, 2), 0);
  // as many channels as positions: centred rank < channels, λ_min = 0
  assert.equal(minCorrEigenvalue(Float32Array.from({ length: 16 }, (_, i) => Math.sin(i * 1.7)), 4, 4), 0);
});

test('AZ-NAS entropy: channels with identity covariance give log C, two copied pairs log 2', async () => {
  initEngine();
  // 4 channels over 16 positions: ±1 Walsh patterns, mean 0, pairwise orthogonal → covariance = I.
  const walsh = (k: number, p: number): number => ((popcount(k & p) & 1) === 0 ? 1 : -1);
  const c = 4;
  const data = new Float32Array(16 * c);
  for (let p = 0; p < 16; p++) for (let k = 0; k < c; k++) data[p * c + k] = walsh(k + 1, p);
  const t = Tensor.from(data, [1, 4, 4, c]);
  const h = entropy(t);
  const expected = -c * (1 / c) * Math.log(1 / c + 1e-8);
  assert.ok(Math.abs(h - expected) < 1e-6, `${h} vs ${expected}`);
  // two identical channel pairs: eigenvalues (2, 2, 0, 0)/4 → entropy log 2
  for (let p = 0; p < 16; p++) {
    data[p * c + 2] = data[p * c];
    data[p * c + 3] = data[p * c + 1];
  }
  const t2 = Tensor.from(data, [1, 4, 4, c]);
  assert.ok(Math.abs(entropy(t2) - -2 * 0.5 * Math.log(0.5 + 1e-8)) < 1e-6);
  t.dispose();
  t2.dispose();
});

function popcount(v: number): number {
  let n = 0;
  for (; v; v &= v - 1) n++;
  return n;
}

test('SWAP and AZ-NAS initialisations: N(0, 1) and N(0, 2/fan_in) weights, zero biases, BatchNorm 1 and 0', () => {
  const net = buildNb201({ arch: '|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|', channels: 16, cellsPerStage: 2, numClasses: 10 });
  for (const [init, std] of [
    [gaussianInit(net, 5), () => 1],
    [kaimingNormalInit(net, 5), (f: number) => Math.sqrt(2 / f)],
  ] as const) {
    for (const l of net.weightLayers) {
      const w = init.get(l.weight)!;
      if (w.length < 5000) continue;
      let s2 = 0;
      for (const v of w) s2 += v * v;
      const sd = Math.sqrt(s2 / w.length);
      assert.ok(Math.abs(sd / std(weightsPerChannel(l)) - 1) < 0.05, `${l.weight}: sd ${sd}`);
      if (l.bias) assert.ok(init.get(l.bias)!.every((v) => v === 0), `${l.bias} is zero`);
    }
    for (const bn of net.batchNorms) {
      if (bn.weight) assert.ok(init.get(bn.weight)!.every((v) => v === 1));
      if (bn.bias) assert.ok(init.get(bn.bias)!.every((v) => v === 0));
    }
  }
});

test('SWAP count: at most 2^samples, at least 1, and independent of the order of the samples (property)', async () => {
  const net = buildNb201({ arch: '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|', channels: 4, cellsPerStage: 1, numClasses: 10 });
  const params = fixtureWeights(net, 9);
  const base = randomBatch(6, 11);
  const count = swapCount(net, params, base);
  assert.ok(count >= 1 && count <= 64, `count ${count}`);
  await fc.assert(
    fc.asyncProperty(fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: 6, maxLength: 6 }), async (perm) => {
      const per = 3 * 32 * 32;
      const x = new Float32Array(base.x.length);
      perm.forEach((src, k) => x.set(base.x.subarray(src * per, (src + 1) * per), k * per));
      assert.equal(swapCount(net, params, { ...base, x }), count);
    }),
    { numRuns: 8 },
  );
});

test('every metric runs on a DARTS network and on NB201 with a non-CIFAR input (finite or the official −∞)', async () => {
  const darts = buildDarts({
    genotype: "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_3x3', 0), ('max_pool_3x3', 2), ('avg_pool_3x3', 1), ('sep_conv_5x5', 3), ('dil_conv_5x5', 2), ('skip_connect', 0)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 2), ('avg_pool_3x3', 0), ('dil_conv_3x3', 1), ('skip_connect', 2), ('sep_conv_5x5', 0), ('max_pool_3x3', 3)], reduce_concat=[2, 3, 4, 5])",
    channels: 4,
    layers: 3,
    numClasses: 10,
  });
  const r = computeProxies(darts, initParams(darts, new Rng(1)), randomBatch(8, 2), [...METRIC_NAMES], { seed: 3 });
  for (const m of METRIC_NAMES) assert.ok(Number.isFinite(r.values[m]), `darts ${m}: ${r.values[m]}`);
  const mnist = buildNb201({ arch: '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', channels: 4, cellsPerStage: 1, numClasses: 10, inputShape: [1, 28, 28] });
  const rng = new Rng(4);
  const x = Float32Array.from({ length: 8 * 28 * 28 }, () => rng.normal());
  const r2 = computeProxies(mnist, initParams(mnist, new Rng(1)), { shape: [8, 1, 28, 28], x, targets: new Int32Array(8).map((_, i) => i) }, [...METRIC_NAMES], { seed: 3 });
  for (const m of METRIC_NAMES) assert.ok(Number.isFinite(r2.values[m]), `mnist ${m}: ${r2.values[m]}`);
});

test('meco and the AZ-NAS protocol are deterministic given their inputs and seed, and the seed matters', async () => {
  const net = buildNb201({ arch: '|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|', channels: 4, cellsPerStage: 1, numClasses: 10 });
  const b = randomBatch(8, 5);
  const p = fixtureWeights(net, 1);
  assert.equal(meco(net, p, b), meco(net, p, b));
  const a1 = azNas(net, 8, 7);
  assert.deepEqual(azNas(net, 8, 7), a1);
  assert.notEqual(azNas(net, 8, 8).expressivity, a1.expressivity);
});

test('every metric says what data it reads', () => {
  for (const m of METRIC_NAMES) assert.ok(['none', 'images', 'labels'].includes(METRIC_DATA[m]), m);
  assert.equal(METRIC_DATA.params, 'none');
  assert.equal(METRIC_DATA.flops, 'none');
  assert.equal(METRIC_DATA.zico, 'labels');
  assert.equal(METRIC_DATA.swap, 'images');
});

test('every metric, alone or with all the others, frees every engine block it allocates', async () => {
  const { getEngine } = await import('../../src/engine/kernels.js');
  const net = buildNb201({ arch: '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', channels: 4, cellsPerStage: 1, numClasses: 10 });
  const p = initParams(net, new Rng(0));
  const [b1, b2] = [randomBatch(8, 1), randomBatch(8, 2)];
  const before = getEngine().heap.liveBlocks;
  for (const ms of [...METRIC_NAMES.map((m) => [m]), [...METRIC_NAMES]]) {
    computeProxies(net, p, b1, ms, { extraBatches: [b2], seed: 1 });
    assert.equal(getEngine().heap.liveBlocks, before, `${ms.join(',')} left engine blocks alive`);
  }
});

test('positiveBit reads x > 0 from a float32\'s bits, for every bit pattern (±0, subnormals, ±∞, NaNs of both signs)', () => {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const edges = [0, 1, 0x007fffff, 0x00800000, 0x7f7fffff, 0x7f800000, 0x7f800001, 0x7fc00000, 0x7fffffff, 0x80000000, 0x80000001, 0xff800000, 0xff800001, 0xffc00000, 0xffffffff];
  const check = (bits: number): void => {
    u[0] = bits;
    assert.equal(positiveBit(u[0]), f[0] > 0 ? 1 : 0, `bits 0x${bits.toString(16)}`);
  };
  edges.forEach(check);
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => check(bits)), { numRuns: 20000 });
});
