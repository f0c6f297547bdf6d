import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNb201 } from '../../src/networks/nb201.js';
import { initParams } from '../../src/networks/params.js';
import { countMacs, countParams } from '../../src/proxies/cost.js';
import { crossEntropySeed } from '../../src/networks/loss.js';
import { loadFixture } from '../../src/proxies/fixture.js';
import { computeProxies } from '../../src/proxies/index.js';
import { addBinaryCodeKernel } from '../../src/proxies/main-pass.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { FIXTURES } from '../helpers/shared.js';

const ALL_CONV = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';

test('flops = conv/linear multiply-accumulates per image: NAS-Bench-201 C=16 N=5 CIFAR-10 extremes', () => {
  // NAS-Bench-201 lists 220.11 MFLOPs and 7.78 MFLOPs for these two cells (it counts multiply-accumulates).
  const big = buildNb201({ arch: ALL_CONV, channels: 16, cellsPerStage: 5, numClasses: 10 });
  assert.equal(countMacs(big), 220119680);
  const empty = buildNb201({ arch: '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|', channels: 16, cellsPerStage: 5, numClasses: 10 });
  assert.equal(countMacs(empty), 7783040);
  // stem 432 + BN 32, three reduction blocks…: every tensor of the state dict counted once.
  assert.equal(countParams(empty), empty.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0));
  assert.equal(countParams(big), 1528186);
});

test('parameter names, order and PyTorch-default initialisation', () => {
  const net = buildNb201({ arch: ALL_CONV, channels: 8, cellsPerStage: 1, numClasses: 10 });
  assert.deepEqual(
    net.params.slice(0, 5).map((p) => p.name),
    ['stem_conv.weight', 'stem_bn.weight', 'stem_bn.bias', 'layers.0.ops.1_0.conv.weight', 'layers.0.ops.1_0.conv.bias'],
  );
  const v = initParams(net, new Rng(1));
  const w = v.get('layers.0.ops.1_0.conv.weight')!;
  const bound = 1 / Math.sqrt(8 * 9);
  assert.ok(w.every((x) => Math.abs(x) <= bound));
  const variance = w.reduce((s, x) => s + x * x, 0) / w.length;
  assert.ok(Math.abs(variance - bound ** 2 / 3) < 0.25 * (bound ** 2 / 3), 'U(±b) has variance b²/3');
  assert.ok(v.get('stem_bn.weight')!.every((x) => x === 1) && v.get('stem_bn.bias')!.every((x) => x === 0));
  assert.deepEqual(initParams(net, new Rng(1)).get('classifier.weight'), v.get('classifier.weight'), 'seeded');
});

test('NASWOT kernel by bit counting equals c cᵀ + (1−c)(1−c)ᵀ', () => {
  const rng = new Rng(4);
  const n = 5;
  const f = 77;
  const x = Float32Array.from({ length: n * f }, () => rng.normal());
  const k = new Float64Array(n * n);
  addBinaryCodeKernel(x, n, k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let want = 0;
      for (let q = 0; q < f; q++) {
        const a = x[i * f + q] > 0 ? 1 : 0;
        const b = x[j * f + q] > 0 ? 1 : 0;
        want += a * b + (1 - a) * (1 - b);
      }
      assert.equal(k[i * n + j], want);
    }
});

test('cross-entropy seed: gradient of the mean loss and its tangent match finite differences', () => {
  const z = Float32Array.from([0.5, -1, 2, 0.1, 0.3, -0.2]);
  const zt = Float32Array.from([1, 0.5, -0.3, 0.2, -1, 0.4]);
  const t = Int32Array.from([2, 0]);
  const loss = (zz: number[]): number => {
    let s = 0;
    for (let i = 0; i < 2; i++) {
      const row = zz.slice(i * 3, i * 3 + 3);
      s += Math.log(row.reduce((a, b) => a + Math.exp(b), 0)) - row[t[i]];
    }
    return s / 2;
  };
  const r = crossEntropySeed(z, zt, t, 3);
  assert.ok(Math.abs(r.loss - loss(Array.from(z))) < 1e-12);
  const h = 1e-6;
  for (let i = 0; i < 6; i++) {
    const p = Array.from(z);
    const m = Array.from(z);
    p[i] += h;
    m[i] -= h;
    assert.ok(Math.abs((loss(p) - loss(m)) / (2 * h) - r.g[i]) < 1e-6);
  }
  // Tangent: d/dε of the gradient at z + ε·ż.
  const at = (eps: number): Float32Array => crossEntropySeed(Float32Array.from(z, (v, i) => v + eps * zt[i]), null, t, 3).g;
  const gp = at(1e-3);
  const gm = at(-1e-3);
  r.gt!.forEach((v, i) => assert.ok(Math.abs(v - (gp[i] - gm[i]) / 2e-3) < 1e-4, `ġ[${i}]`));
});

test('computeProxies rejects unknown metric names', () => {
  const net = buildNb201({ arch: ALL_CONV, channels: 2, cellsPerStage: 1, numClasses: 2 });
  assert.throws(() => computeProxies(net, initParams(net, new Rng(1)), { shape: [1, 3, 32, 32], x: new Float32Array(3072), targets: new Int32Array(1) }, ['nope']), /unknown metric/);
});

test('loadFixture: missing folder/files and wrong sizes are InputErrors naming the file and the expectation', () => {
  const src = join(FIXTURES, 'nb201-c8n1-gauss-d');
  const dir = mkdtempSync(join(tmpdir(), 'robot-nas-fixture-'));
  try {
    assert.throws(() => loadFixture(join(dir, 'absent')), (e: unknown) => e instanceof InputError && /not a fixture folder/.test(e.message));
    assert.throws(() => loadFixture(dir), (e: unknown) => e instanceof InputError && /manifest\.json: missing/.test(e.message));
    for (const f of ['manifest.json', 'params.bin', 'input.bin', 'targets.bin']) copyFileSync(join(src, f), join(dir, f));
    assert.equal(loadFixture(dir).network.numClasses, 10);
    const input = readFileSync(join(src, 'input.bin'));
    writeFileSync(join(dir, 'input.bin'), input.subarray(0, input.length - 4));
    assert.throws(() => loadFixture(dir), (e: unknown) => e instanceof InputError && /input\.bin: expected 98304 bytes .*got 98300/.test(e.message));
    copyFileSync(join(src, 'input.bin'), join(dir, 'input.bin'));
    rmSync(join(dir, 'params.bin'));
    assert.throws(() => loadFixture(dir), (e: unknown) => e instanceof InputError && /params\.bin: missing/.test(e.message));
    copyFileSync(join(src, 'params.bin'), join(dir, 'params.bin'));
    const m = JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8'));
    m.params[3].shape = [8, 8, 1, 1];
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    assert.throws(() => loadFixture(dir), (e: unknown) => e instanceof InputError && /layers\.0\.ops\.3_0\.conv\.weight.*expected shape \[8, 8, 3, 3\]/.test(e.message));
    m.params[3].shape = [8, 8, 3, 3];
    m.input_shape = [8, 3, 32, 31];
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    assert.throws(() => loadFixture(dir), (e: unknown) => e instanceof InputError && /input\.bin: expected 95232 bytes/.test(e.message));
    writeFileSync(join(dir, 'manifest.json'), '{not json');
    assert.throws(() => loadFixture(dir), (e: unknown) => e instanceof InputError && /not valid JSON/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
