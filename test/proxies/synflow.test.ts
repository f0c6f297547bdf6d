import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/nn/backend.js';
import { buildNb201 } from '../../src/nn/nb201.js';
import { initParams } from '../../src/nn/params.js';
import { synflowLog } from '../../src/proxies/metrics.js';
import { synflowPass } from '../../src/proxies/passes.js';
import { Rng } from '../../src/util/rng.js';
import { synflow64 } from '../nn/f64.js';

const ARCH = '|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|';

test('synflow: float32 with per-layer log-space rescaling equals a direct float64 computation', async () => {
  await initBackend('wasm');
  const net = buildNb201({ arch: ARCH, channels: 4, cellsPerStage: 2, numClasses: 10, inputShape: [3, 16, 16] });
  const params = initParams(net, new Rng(1));
  const direct = synflow64(net, params);
  const r = synflowPass(net, params);
  const value = Math.exp(synflowLog(r));
  assert.ok(Number.isFinite(direct) && direct > 0);
  assert.ok(Math.abs(value - direct) < 1e-5 * direct, `${value} vs ${direct}`);
});

test('synflow: values beyond float32 range (weights ×1000) are exact, and ln(synflow) stays finite past float64', async () => {
  await initBackend('wasm');
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
});
