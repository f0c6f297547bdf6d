import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkBuilder } from '../../src/networks/builder.js';
import { samePad } from '../../src/engine/depthwise.js';
import { getEngine } from '../../src/engine/kernels.js';
import { execOp, type ActivationKind, type Exec, type Network } from '../../src/networks/layers.js';
import { initParams, type ParamValues } from '../../src/networks/params.js';
import { countMacs } from '../../src/proxies/cost.js';
import { mainPass } from '../../src/proxies/main-pass.js';
import type { Batch } from '../../src/proxies/types.js';
import { trainStep } from '../../src/train/step.js';
import { Rng } from '../../src/util/rng.js';
import { forEachBackend } from '../helpers/engines.js';
import { lossGrads64 } from '../helpers/f64.js';

/**
 * The autodiff over the ops of mobile networks — 1×1 expand, k×k depthwise (3/5/7, stride 1/2, float taps), ReLU6 /
 * hard-swish / SiLU, squeeze-and-excitation (global average pool → linear → ReLU → linear → sigmoid / hard-sigmoid →
 * channel scale), 1×1 project, residual add — on a small inverted-residual network built here: the loss gradient of
 * every parameter against a float64 reference, the same bits on every engine and thread count, and the dual mode
 * (GraSP's H·W) against float64 finite differences of gradients.
 */

interface BlockSpec {
  cout: number;
  expand: number;
  k: number;
  stride: number;
  act: ActivationKind;
  se: 'sigmoid' | 'hardsigmoid' | null;
}

const BLOCKS: BlockSpec[] = [
  { cout: 8, expand: 3, k: 3, stride: 1, act: 'relu6', se: 'sigmoid' }, // residual
  { cout: 12, expand: 6, k: 5, stride: 2, act: 'hardswish', se: 'hardsigmoid' },
  { cout: 12, expand: 1, k: 7, stride: 1, act: 'silu', se: null }, // no expansion conv, residual
];

/** A MobileNetV2/MnasNet-style network (PyTorch module names), small enough for the float64 reference. */
function buildMobile(inputShape: [number, number, number], classes: number): Network {
  const b = new NetworkBuilder();
  const stemC = 8;
  const stem = { conv: b.conv('stem.0', inputShape[0], stemC, 3, 1, 1, false), bn: b.batchNorm('stem.1', stemC, true, true) };
  let cin = stemC;
  const blocks = BLOCKS.map((s, i) => {
    const p = `blocks.${i}`;
    const ce = cin * s.expand;
    const expand = s.expand === 1 ? null : { conv: b.conv(`${p}.expand.0`, cin, ce, 1, 1, 0, false), bn: b.batchNorm(`${p}.expand.1`, ce, true, true) };
    const dw = b.depthwiseConv(`${p}.dw.0`, ce, s.k, s.stride, samePad(s.k), 1);
    const dwBn = b.batchNorm(`${p}.dw.1`, ce, true, true);
    const r = Math.max(2, Math.floor(ce / 4));
    const se = s.se ? { fc1: b.linear(`${p}.se.fc1`, ce, r, true), relu: b.relu(`${p}.se.relu`), fc2: b.linear(`${p}.se.fc2`, r, ce, true), gate: s.se } : null;
    const project = { conv: b.conv(`${p}.project.0`, ce, s.cout, 1, 1, 0, false), bn: b.batchNorm(`${p}.project.1`, s.cout, true, true) };
    const residual = s.stride === 1 && cin === s.cout;
    cin = s.cout;
    return { spec: s, name: p, expand, dw, dwBn, se, project, residual };
  });
  const head = b.linear('classifier', cin, classes, true);
  return {
    id: 'mobile-test',
    inputShape,
    numClasses: classes,
    params: b.params,
    weightLayers: b.weightLayers,
    batchNorms: b.batchNorms,
    relus: b.relus,
    forward<T>(exec: Exec<T>, x: T): T {
      const act = execOp(exec, 'activation');
      const scale = execOp(exec, 'channelScale');
      let h = act({ name: 'stem.2', kind: 'hardswish' }, exec.batchNorm(stem.bn, exec.conv(stem.conv, x)));
      for (const blk of blocks) {
        const a = (y: T, site: string): T => act({ name: `${blk.name}.${site}`, kind: blk.spec.act }, y);
        let y = blk.expand ? a(exec.batchNorm(blk.expand.bn, exec.conv(blk.expand.conv, h)), 'expand.2') : h;
        y = a(exec.batchNorm(blk.dwBn, exec.conv(blk.dw, y)), 'dw.2');
        if (blk.se) {
          const s = exec.linear(blk.se.fc2, exec.relu(blk.se.relu, exec.linear(blk.se.fc1, exec.globalAvgPool(y))));
          y = scale(y, act({ name: `${blk.name}.se.gate`, kind: blk.se.gate }, s));
        }
        y = exec.batchNorm(blk.project.bn, exec.conv(blk.project.conv, y));
        h = blk.residual ? exec.add([h, y]) : y;
      }
      return exec.linear(head, exec.globalAvgPool(h));
    },
  };
}

function setup(seed: number): { net: Network; params: ParamValues; batch: Batch } {
  const net = buildMobile([3, 12, 12], 5);
  const rng = new Rng(seed);
  const params = initParams(net, rng);
  const n = 6;
  const batch: Batch = {
    shape: [n, 3, 12, 12],
    x: Float32Array.from({ length: n * 3 * 144 }, () => rng.normal()),
    targets: Int32Array.from({ length: n }, () => rng.int(5)),
  };
  return { net, params, batch };
}

/**
 * ‖got − want‖ / max(‖want‖, 1e-3): relative, except for gradients that are (nearly) zero in exact arithmetic — a
 * BatchNorm bias feeding only another BatchNorm (block 0's project.1) — where float noise is all there is.
 */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let j = 0; j < want.length; j++) {
    d += (got[j] - want[j]) ** 2;
    s += want[j] ** 2;
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(s), 1e-3);
}

test('mobile network: the loss gradient of every parameter matches float64, with the same bits on every engine and thread count', () => {
  const { net, params, batch } = setup(1);
  const ref = lossGrads64(net, params, batch.x, batch.targets);
  let first: ReturnType<typeof trainStep> | undefined;
  forEachBackend([1, 2, 3], (label) => {
    const r = trainStep(net, params, batch.x, batch.targets);
    assert.equal(getEngine().heap.liveBlocks, 0, `${label}: blocks left after the step`);
    assert.ok(Math.abs(r.loss - ref.loss) < 1e-5 * ref.loss, `${label}: loss ${r.loss} vs ${ref.loss}`);
    for (const p of net.params) {
      const want = ref.grads.get(p.name);
      assert.ok(want, `float64 reference has no gradient for ${p.name}`);
      const e = relErr(r.grads.get(p.name)!, want);
      assert.ok(e < 1e-4, `${label} ${p.name}: relative error ${e}`);
    }
    if (first === undefined) {
      first = r;
      return;
    }
    assert.equal(r.loss, first.loss, label);
    for (const [name, g] of first.grads) assert.deepEqual(r.grads.get(name), g, `${label}: ${name}`);
  });
});

test('mobile network, dual mode: GraSP from gᵀ(H·W) matches −Wᵀ(H·g) by float64 finite differences of gradients', () => {
  const { net, params, batch } = setup(2);
  forEachBackend([1, 2], (label) => {
    const r = mainPass(net, params, batch, { grads: true, fisher: true, hvp: true, jacobian: true, naswot: false });
    assert.equal(getEngine().heap.liveBlocks, 0, `${label}: blocks left after the pass`);
    const base = lossGrads64(net, params, batch.x, batch.targets).grads;
    const eps = 1e-7;
    const shifted = (sign: number): Map<string, Float64Array> => {
      const p = new Map<string, Float64Array>([...params].map(([k, v]) => [k, Float64Array.from(v)]));
      for (const l of net.weightLayers) {
        const w = params.get(l.weight)!;
        const g = base.get(l.weight)!;
        p.set(l.weight, Float64Array.from(w, (wi, i) => wi + sign * eps * g[i]));
      }
      return lossGrads64(net, p as unknown as ParamValues, batch.x, batch.targets).grads;
    };
    const gp = shifted(1);
    const gm = shifted(-1);
    let grasp64 = 0;
    for (const l of net.weightLayers) {
      const w = params.get(l.weight)!;
      const a = gp.get(l.weight)!;
      const b = gm.get(l.weight)!;
      for (let i = 0; i < w.length; i++) grasp64 -= (w[i] * (a[i] - b[i])) / (2 * eps);
    }
    assert.ok(Math.abs(-r.gHw! - grasp64) < 2e-3 * Math.abs(grasp64), `${label}: manual ${-r.gHw!} vs float64 FD ${grasp64}`);
    assert.equal(r.channelGrads!.length, net.weightLayers.length);
    assert.ok(r.jacobian!.every(Number.isFinite));
  });
});

test('mobile network: FLOPs (multiply-accumulates) of every conv, depthwise conv and linear, by the closed form', () => {
  const net = buildMobile([3, 12, 12], 5);
  let hw = 12 * 12;
  let macs = hw * 8 * 3 * 9; // stem
  let cin = 8;
  for (const s of BLOCKS) {
    const ce = cin * s.expand;
    if (s.expand !== 1) macs += hw * cin * ce;
    hw = Math.ceil(Math.sqrt(hw) / s.stride) ** 2;
    macs += hw * ce * s.k * s.k; // depthwise: k² per output
    if (s.se) {
      const r = Math.max(2, Math.floor(ce / 4));
      macs += 2 * ce * r;
    }
    macs += hw * ce * s.cout;
    cin = s.cout;
  }
  macs += cin * 5;
  assert.equal(countMacs(net), macs);
});
