import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdExec, type ADNode } from '../../src/engine/autodiff.js';
import { Tensor } from '../../src/engine/tensor.js';
import type { BatchNormLayer, Exec } from '../../src/networks/layers.js';
import { buildNb201 } from '../../src/networks/nb201.js';
import { execParams, initParams } from '../../src/networks/params.js';
import { synflowLog, synflowPass, synflowValue } from '../../src/proxies/synflow.js';
import { Rng } from '../../src/util/rng.js';
import { synflow64 } from '../helpers/f64.js';

const ARCH = '|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|';

test('synflow: float32 with per-layer power-of-two rescaling equals a direct float64 computation', () => {
  const net = buildNb201({ arch: ARCH, channels: 4, cellsPerStage: 2, numClasses: 10, inputShape: [3, 16, 16] });
  const params = initParams(net, new Rng(1));
  const direct = synflow64(net, params);
  const r = synflowPass(net, params);
  const value = synflowValue(r);
  assert.ok(Math.abs(Math.log(value) - synflowLog(r)) < 1e-12);
  assert.ok(Number.isFinite(direct) && direct > 0);
  assert.ok(Math.abs(value - direct) < 1e-5 * direct, `${value} vs ${direct}`);
});

test('synflow: values beyond float32 range (weights ×1000) are exact, and ln(synflow) stays finite past float64', () => {
  const net = buildNb201({ arch: ARCH, channels: 4, cellsPerStage: 2, numClasses: 10, inputShape: [3, 16, 16] });
  const base = initParams(net, new Rng(2));
  const scaled = (f: number): Map<string, Float32Array> =>
    new Map([...base].map(([k, v]) => [k, net.weightLayers.some((l) => l.weight === k) ? v.map((x) => x * f) : v]));
  const big = scaled(1000);
  const direct = synflow64(net, big);
  assert.ok(direct > 1e40, `expected a value beyond float32's range, got ${direct}`);
  const logValue = synflowLog(synflowPass(net, big));
  assert.ok(Math.abs(logValue - Math.log(direct)) < 1e-5, `ln: ${logValue} vs ${Math.log(direct)}`);
  // Far beyond float64: the log is still computed (the value itself would be Infinity).
  const huge = synflowLog(synflowPass(net, scaled(1e25)));
  assert.ok(Number.isFinite(huge) && huge > Math.log(Number.MAX_VALUE), String(huge));
  assert.equal(synflowValue(synflowPass(net, scaled(1e25))), Infinity);
});

/** SynFlow's network on AdExec without any rescaling: BatchNorm removed except where keepInSynflow. */
function unscaledExec(ad: AdExec): Exec<ADNode> {
  const exec = Object.create(ad) as Exec<ADNode>;
  exec.batchNorm = (layer: BatchNormLayer, x: ADNode) => (layer.keepInSynflow ? ad.batchNorm(layer, x) : x);
  return exec;
}

test('synflow: the power-of-two rescaling is exact — the same bits as the plain float32 pass where that does not overflow', () => {
  const net = buildNb201({ arch: ARCH, channels: 4, cellsPerStage: 2, numClasses: 10, inputShape: [3, 16, 16] });
  const params = initParams(net, new Rng(3));
  const abs = execParams(net, params, (v) => v.map(Math.abs));
  const ad = new AdExec(abs);
  const [c, h, w] = net.inputShape;
  const x = Tensor.from(new Float32Array(h * w * c).fill(1), [1, h, w, c]);
  const out = net.forward(unscaledExec(ad), ad.input(x, false));
  const r = ad.backward(out, { v: new Float32Array(out.v.size).fill(1), t: null }, { dual: false, paramGrads: true, fisher: false, inputGrad: false, last: true });
  x.dispose();
  // The same float64 sums as synflowPass: per layer, then over the layers.
  const plain = net.weightLayers
    .map((l) => {
      const g = r.paramGrads.get(l.weight);
      const wl = abs.get(l.weight)!;
      let s = 0;
      if (g) for (let j = 0; j < g.length; j++) s += Math.abs(wl[j] * g[j]);
      return s;
    })
    .reduce((a, b) => a + b, 0);
  const scaled = synflowPass(net, params);
  assert.ok(scaled.scaleExp !== 0, 'the test network must actually be rescaled');
  assert.equal(synflowValue(scaled), plain);
});
