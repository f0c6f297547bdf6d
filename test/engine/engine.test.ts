import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getEngine, KERNEL_NAMES, NATIVE_PATH } from '../../src/engine/kernels.js';
import * as BN from '../../src/engine/batchnorm.js';
import * as O from '../../src/engine/ops.js';
import { disposeArena, inArena, Tensor } from '../../src/engine/tensor.js';
import { buildNb201 } from '../../src/networks/nb201.js';
import { initParams } from '../../src/networks/params.js';
import { trainStep } from '../../src/train/step.js';
import { Rng } from '../../src/util/rng.js';
import { forEachBackend } from '../helpers/engines.js';
import * as H from '../helpers/hostops.js';
import { REPO } from '../helpers/shared.js';
import { haveWasmToolchain } from '../../scripts/build-kernels.js';

/**
 * The engine around the kernels: the loader's kernel list matches native/kernels/kernels.h, the committed
 * native/kernels.wasm is what its source builds to, the per-channel and pooling passes match plain loops, a training
 * step gives the same bits on every kernel backend and thread count, and passes free every block they allocate.
 */

function run<T>(fn: () => T): T {
  const arena: Tensor[] = [];
  try {
    return inArena(arena, fn);
  } finally {
    disposeArena(arena);
  }
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

test('the loader lists the kernels of native/kernels/kernels.h, in order', () => {
  const header = readFileSync(join(REPO, 'native', 'kernels', 'kernels.h'), 'utf8');
  const list = [...header.slice(header.indexOf('#define KERNEL_LIST')).matchAll(/X\((\w+)\)/g)].map((m) => m[1]);
  assert.deepEqual(list, [...KERNEL_NAMES]);
});

test('native/kernels.wasm and native/gp.wasm are byte for byte the builds of their C sources', { skip: haveWasmToolchain() ? false : 'clang-14 and lld-14 are not installed (apt-get install clang-14 lld-14)' }, () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'scripts', 'build-kernels.ts'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
});

test('BatchNorm forward, backward, tangent and dual backward match the float64 host loops', () => {
  const rng = new Rng(1);
  const shape = [4, 6, 5, 24]; // 24 channels: one whole block of 16 and a partial one
  const c = 24;
  const len = shape.reduce((a, b) => a * b, 1);
  const rand = (): Float32Array => Float32Array.from({ length: len }, () => rng.normal());
  const [x, g, gt, xt] = [rand(), rand(), rand(), rand()];
  const gamma = Float32Array.from({ length: c }, () => rng.uniform(0.5, 2));
  const beta = Float32Array.from({ length: c }, () => rng.normal());
  // host reference (float64 loops)
  const st = H.bnStats(x, c, 1e-5);
  const xhat = new Float32Array(len);
  const y = new Float32Array(len);
  H.bnNormalize(x, st, xhat, y, gamma, beta);
  const gx = new Float32Array(len);
  H.bnJacobian(xhat, st.r, g, gx, gamma);
  const xhatT = new Float32Array(len);
  const rho = H.bnTangent(xhat, st.r, xt, xhatT);
  const dv = new Float32Array(len);
  const dt = new Float32Array(len);
  H.bnBackwardDual(xhat, xhatT, st.r, rho, g, gt, dv, dt, gamma);
  forEachBackend([1, 2], (label) => {
    const got = run(() => {
      const bn = BN.bnForward(Tensor.from(x, shape), c, 1e-5, gamma, beta);
      const back = BN.bnBackward(bn.xhat, bn.r, Tensor.from(g, shape), c, gamma);
      const tan = BN.bnTangent(bn.xhat, bn.r, Tensor.from(xt, shape), c);
      const dual = BN.bnBackwardDual(bn.xhat, tan.xhatT, bn.r, tan.rho, Tensor.from(g, shape), Tensor.from(gt, shape), c, gamma);
      return [bn.xhat, bn.y, back, tan.xhatT, dual.gx, dual.gxt].map((t) => t.dataSync());
    });
    const want = [xhat, y, gx, xhatT, dv, dt];
    got.forEach((v, i) => assert.ok(maxRel(v, want[i]) < 1e-4, `${label} output ${i}: ${maxRel(v, want[i])}`));
  });
});

test('pooling, elementwise (incl. scale, max |x|) and classifier passes match plain loops', () => {
  const rng = new Rng(2);
  const shape = [3, 7, 6, 8];
  const len = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: len }, () => rng.normal());
  const b = Float32Array.from({ length: len }, () => rng.normal());
  forEachBackend([1], (label) => {
    run(() => {
      const X = Tensor.from(x, shape);
      const B = Tensor.from(b, shape);
      for (const [k, s, p] of [
        [3, 1, 1],
        [2, 2, 0],
        [3, 2, 1],
      ]) {
        const geom = H.poolGeom(shape, k, s, p);
        const y = O.avgPool(X, k, s, p);
        const want = new Float32Array(y.size);
        H.avgPoolForward(x, geom, want);
        assert.ok(maxRel(y.view(), want) < 1e-6, `${label} avgPool ${k}/${s}/${p}`);
        const gy = Float32Array.from({ length: y.size }, () => rng.normal());
        const back = O.avgPoolBackward(Tensor.from(gy, y.shape), shape, k, s, p);
        const wantB = new Float32Array(len);
        H.avgPoolBackward(gy, geom, wantB);
        assert.ok(maxRel(back.view(), wantB) < 1e-6, `${label} avgPool backward ${k}/${s}/${p}`);
      }
      assert.deepEqual([...O.add(X, B).view()], [...x].map((v, i) => Math.fround(v + b[i])));
      assert.deepEqual([...O.relu(X).view()], [...x].map((v) => (v > 0 ? v : 0)));
      assert.deepEqual([...O.mask(X, B).view()], [...x].map((v, i) => (v > 0 ? b[i] : 0)));
      assert.ok(Math.abs(O.dot(X, B) - x.reduce((s, v, i) => s + v * b[i], 0)) < 1e-9);
      assert.deepEqual([...O.scale(X, 0.375).view()], [...x].map((v) => Math.fround(v * 0.375)));
      assert.equal(O.maxAbs(X), Math.max(...[...x].map(Math.abs)));
      const withNaN = Tensor.from([1, Number.NaN, -3], [3]);
      assert.ok(Number.isNaN(O.maxAbs(withNaN)), 'a NaN anywhere makes the maximum NaN');
      const gap = O.globalAvgPool(X).view();
      const wantGap = new Float32Array(shape[0] * shape[3]);
      H.globalAvgForward(x, shape[0], shape[3], wantGap);
      assert.ok(maxRel(gap, wantGap) < 1e-6, `${label} global average pool`);
      // linear: [3, 8] · [5, 8]ᵀ + b
      const W = Float32Array.from({ length: 40 }, () => rng.normal());
      const bias = Float32Array.from({ length: 5 }, () => rng.normal());
      const z = O.linear(Tensor.from(gap, [3, 8]), Tensor.from(W, [5, 8]), Tensor.from(bias, [5])).view();
      for (let i = 0; i < 3; i++)
        for (let o = 0; o < 5; o++) {
          let s = bias[o];
          for (let f = 0; f < 8; f++) s += gap[i * 8 + f] * W[o * 8 + f];
          assert.ok(Math.abs(z[i * 5 + o] - s) < 1e-5);
        }
    });
  });
});

test('a training step gives the same bits on every kernel backend and thread count, and frees every block', () => {
  const net = buildNb201({ arch: '|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|', channels: 4, cellsPerStage: 1, numClasses: 5, inputShape: [3, 12, 12] });
  const rng = new Rng(3);
  const params = initParams(net, rng);
  const images = Float32Array.from({ length: 6 * 3 * 144 }, () => rng.normal());
  const labels = Int32Array.from({ length: 6 }, () => rng.int(5));
  let first: { loss: number; grads: Map<string, Float32Array> } | undefined;
  // 3 threads: segments of unequal size, and kernels with fewer tasks than threads.
  forEachBackend([1, 2, 3], (label) => {
    const r = trainStep(net, params, images, labels);
    assert.equal(getEngine().heap.liveBlocks, 0, `${label}: blocks left after the step`);
    if (first === undefined) {
      first = r;
      return;
    }
    assert.equal(r.loss, first.loss, label);
    for (const [name, g] of first.grads) assert.deepEqual(r.grads.get(name), g, `${label}: ${name}`);
  });
});

test('the thread pools run every task exactly once: segments per thread, stealing, more threads than tasks', () => {
  // ew_add splits into tasks of 16,384 elements from 65,536 on: 4 to 65 tasks here, over 2 to 5 threads. In place
  // (target += src), so a task run twice shows as well as a task skipped.
  const rng = new Rng(11);
  for (const n of [65536, 65537, 100003, 250001, 1 << 20]) {
    const a = Float32Array.from({ length: n }, () => rng.normal());
    const b = Float32Array.from({ length: n }, () => rng.normal());
    const want = new Float32Array(n);
    for (let i = 0; i < n; i++) want[i] = a[i] + b[i];
    forEachBackend([2, 3, 5], (label) => {
      run(() => {
        const t = Tensor.from(a, [n]);
        O.addInto(t, Tensor.from(b, [n]));
        const out = t.view();
        for (let i = 0; i < n; i++) if (out[i] !== want[i]) assert.fail(`${label}, n = ${n}: element ${i} is ${out[i]}, want ${want[i]}`);
      });
    });
  }
});

test('a process that starts the native thread pool and exits at once ends: no deadlock at shutdown', { skip: existsSync(NATIVE_PATH) ? false : 'the native addon is not built' }, () => {
  // 16 threads on a small machine: some start only after the process began to exit (the pool's finalizer must still
  // be able to join them). The built module (npm test builds first) starts fast enough to exit inside that window.
  const kernels = join(REPO, 'dist', 'engine', 'kernels.js');
  const code = `const k = await import(${JSON.stringify(kernels)}); k.initEngine({ backend: 'native', threads: 16 });`;
  for (let i = 0; i < 5; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.signal, null, `run ${i + 1}: the process did not end (killed after 30 s)`);
    assert.equal(r.status, 0, r.stderr);
  }
});
