import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectureCost } from '../../src/model/cost.js';
import { measureLatency } from '../../src/model/latency.js';
import { buildSpecNetwork } from '../../src/model/network.js';
import { DARTS_V2, formatGenotype } from '../../src/spaces/darts.js';
import { InputError } from '../../src/util/errors.js';

const SKIPS = '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|';
const mnist = { classes: 10, inputShape: [1, 28, 28] as [number, number, number] };

test('architectureCost: NAS-Bench-201 parameters and FLOPs match the closed form', () => {
  // C = 4 on 1×28×28: stem 3×3 conv + BN; reductions 4→8 (14×14) and 8→16 (7×7); top BN; linear 16→10.
  const stem = { params: 1 * 4 * 9 + 2 * 4, macs: 28 * 28 * 4 * 9 };
  const red = (ci: number, co: number, hw: number) => ({
    params: ci * co * 9 + 2 * co + co * co * 9 + 2 * co + ci * co,
    macs: hw * hw * co * (ci * 9 + co * 9 + ci),
  });
  const r1 = red(4, 8, 14);
  const r2 = red(8, 16, 7);
  const head = { params: 2 * 16 + 16 * 10 + 10, macs: 16 * 10 };
  const skips = architectureCost({ space: 'nb201', arch: SKIPS, channels: 4, cells: 1, ...mnist });
  assert.deepEqual(skips, { params: stem.params + r1.params + r2.params + head.params, flops: stem.macs + r1.macs + r2.macs + head.macs });
  assert.deepEqual(skips, { params: 4822, flops: 379616 });
  // One 3×3 conv edge (with bias, BN without affine) per cell, at widths 4, 8, 16 on 28², 14², 7².
  const conv = architectureCost({ space: 'nb201', arch: SKIPS.replace('|skip_connect~0|+', '|nor_conv_3x3~0|+'), channels: 4, cells: 1, ...mnist });
  assert.equal(conv.params - skips.params, [4, 8, 16].reduce((s, w) => s + w * w * 9 + w, 0));
  assert.equal(conv.flops - skips.flops, 28 * 28 * 4 * 4 * 9 + 14 * 14 * 8 * 8 * 9 + 7 * 7 * 16 * 16 * 9);
});

test('architectureCost: DARTS_V2 at C = 36, 20 cells has the 3,349,342 parameters DARTS reports (3.349342 MB)', () => {
  const c = architectureCost({ space: 'darts', arch: formatGenotype(DARTS_V2), channels: 36, cells: 20, classes: 10, inputShape: [3, 32, 32] });
  assert.equal(c.params, 3349342);
  assert.ok(c.flops > 0);
});

test('architectureCost: a bad architecture or size is an InputError', () => {
  assert.throws(() => architectureCost({ space: 'nb201', arch: '|conv~0|', channels: 4, cells: 1, ...mnist }), InputError);
  assert.throws(() => architectureCost({ space: 'darts', arch: formatGenotype(DARTS_V2), channels: 4, cells: 5, classes: 10, inputShape: [3, 30, 30] }), /even spatial sizes/);
});

test('measureLatency: median of the timed batch-1 runs, with the samples it came from', async () => {
  const net = buildSpecNetwork({ space: 'nb201', arch: SKIPS, channels: 4, cells: 1, ...mnist });
  const l = measureLatency(net, { warmup: 1, repeats: 5 });
  assert.equal(l.samplesMs.length, 5);
  assert.ok(l.samplesMs.every((t) => Number.isFinite(t) && t > 0));
  const sorted = [...l.samplesMs].sort((a, b) => a - b);
  assert.equal(l.medianMs, sorted[2]);
  assert.equal(l.minMs, sorted[0]);
  assert.equal(measureLatency(net, { warmup: 0, repeats: 4 }).samplesMs.length, 4);
  assert.throws(() => measureLatency(net, { repeats: 0 }), RangeError);
});
