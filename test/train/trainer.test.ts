import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageDataset } from '../../src/data/types.js';
import { buildNb201 } from '../../src/networks/nb201.js';
import { DARTS_TRAINING, trainNetwork, type TrainSettings } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { inputErr } from '../helpers/errors.js';

/** Two classes told apart by a bright square in the left or the right half, plus noise. */
function synthetic(n: number, seed: number): ImageDataset {
  const rng = new Rng(seed);
  const h = 8;
  const images = new Float32Array(n * h * h);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = rng.int(2);
    labels[i] = y;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < h; c++) {
        const lit = r >= 2 && r < 6 && (y === 0 ? c < 4 : c >= 4);
        images[i * h * h + r * h + c] = (lit ? 1.5 : -0.5) + 0.5 * rng.normal();
      }
    }
  }
  return { name: 'synthetic', images, labels, count: n, channels: 1, height: h, width: h, classes: 2, mean: [0], std: [1], sources: [] };
}

const ARCH = '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|avg_pool_3x3~2|';
const net = buildNb201({ arch: ARCH, channels: 4, cellsPerStage: 1, numClasses: 2, inputShape: [1, 8, 8] });
const settings: TrainSettings = { ...DARTS_TRAINING, lr: 0.1, epochs: 3, batchSize: 16, augment: null };

test('trainNetwork learns a separable task and is deterministic for a seed', async () => {
  const data = { train: synthetic(192, 1), valid: synthetic(64, 2), test: synthetic(64, 3) };
  const a = await trainNetwork(net, data, settings, 7);
  assert.equal(a.diverged, false);
  assert.equal(a.epochs.length, 3);
  assert.ok(a.epochs[2].trainLoss < a.epochs[0].trainLoss, `loss did not fall: ${a.epochs.map((e) => e.trainLoss).join(', ')}`);
  assert.ok(a.validAccuracy >= 90, `validation accuracy ${a.validAccuracy}`);
  assert.ok(a.testAccuracy! >= 90, `test accuracy ${a.testAccuracy}`);
  // Cosine schedule, annealed per step: the first epoch starts at lr, later epochs lower.
  assert.equal(a.epochs[0].lr, 0.1);
  assert.ok(a.epochs[1].lr < 0.1 && a.epochs[2].lr < a.epochs[1].lr);
  const b = await trainNetwork(net, data, settings, 7);
  assert.equal(b.validAccuracy, a.validAccuracy);
  assert.deepEqual(b.epochs.map((e) => e.trainLoss), a.epochs.map((e) => e.trainLoss));
});

test('trainNetwork: data that does not fit the network is an input error', async () => {
  const wrong = { ...synthetic(8, 1), channels: 3 };
  await assert.rejects(trainNetwork(net, { train: wrong, valid: synthetic(8, 2) }, settings, 1), inputErr(/training images are 3×8×8, the network expects 1×8×8/));
  await assert.rejects(trainNetwork(net, { train: synthetic(8, 1), valid: synthetic(8, 2) }, { ...settings, epochs: 0 }, 1), inputErr(/epochs: expected a positive integer, got 0/));
});

test('divergence rules: the loss bound is 10·ln K; chance means within 3 standard errors of 1/K', async () => {
  const { atChance, divergedLossBound } = await import('../../src/train/trainer.js');
  assert.equal(divergedLossBound(10), 10 * Math.log(10));
  // 4,000 images, 10 classes: 1/K = 10 %, 3 s.e. = 1.42 points
  assert.equal(atChance(11.4, 10, 4000), true);
  assert.equal(atChance(11.5, 10, 4000), false);
  assert.equal(atChance(60, 2, 100), true); // 50 % ± 15
  assert.equal(atChance(66, 2, 100), false);
});

test('a training whose weights blow up is flagged diverged, with the reason', async () => {
  const data = { train: synthetic(64, 1), valid: synthetic(32, 2) };
  const r = await trainNetwork(net, data, { ...settings, epochs: 1, lr: 1e4 }, 3);
  assert.equal(r.diverged, true);
  assert.ok(r.divergence === 'non-finite loss' || r.divergence === 'loss above bound', String(r.divergence));
  const ok = await trainNetwork(net, data, { ...settings, epochs: 1 }, 3);
  assert.equal(ok.diverged, false);
  assert.equal(ok.divergence, undefined);
});
