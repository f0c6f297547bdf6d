/**
 * Guards TRAINING_CODE_VERSION (part of every training's cache key): a fixture training — real MNIST digits,
 * the search's recipe with augmentation, every NB201 operation — must reproduce the recorded numbers exactly
 * while the version is the recorded one. A change to the kernels, the autodiff, the optimiser or the data
 * order moves them; then bump the version (so caches never serve results of the old numerics) and record the
 * new numbers: `UPDATE_TRAINING_FIXTURE=1 node --import tsx --test test/train/version.test.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildNetwork } from '../../src/networks/build.js';
import { augmentFor } from '../../src/train/augment.js';
import { prepareData } from '../../src/train/data.js';
import { trainingJob, trainingJobKey } from '../../src/jobs/train.js';
import { dataRefOf } from '../../src/train/spec.js';
import { DARTS_TRAINING, trainNetwork } from '../../src/train/trainer.js';
import { TRAINING_CODE_VERSION } from '../../src/train/version.js';
import { queryKey } from '../../src/util/key.js';
import { trainingSeed } from '../../src/util/seeds.js';
import { REPO } from '../helpers/shared.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'training-version.json');
const ARCH = '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|';

interface Fixture {
  version: number;
  arch: string;
  trainLosses: string[];
  validAccuracy: number;
  paramsSha256: string;
}

test('a fixture training reproduces its recorded numbers unless TRAINING_CODE_VERSION was bumped', async () => {
  const data = await prepareData({ dataset: 'mnist', trainLimit: 320, validLimit: 100, seed: 3 });
  const train = { ...DARTS_TRAINING, lr: 0.1, epochs: 3, batchSize: 16, augment: augmentFor('mnist', data.info.mean, data.info.std, data.info.shape[1]) };
  const net = buildNetwork('nb201', ARCH, { channels: 4, cells: 1, classes: data.info.classes }, data.info.shape);
  const r = await trainNetwork(net, data, train, trainingSeed(5, ARCH));
  const h = createHash('sha256');
  for (const [name, v] of [...r.params.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    h.update(name);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  const now: Fixture = {
    version: TRAINING_CODE_VERSION,
    arch: ARCH,
    trainLosses: r.epochs.map((e) => e.trainLoss.toPrecision(17)),
    validAccuracy: r.validAccuracy,
    paramsSha256: h.digest('hex'),
  };
  if (process.env.UPDATE_TRAINING_FIXTURE) {
    writeFileSync(FIXTURE, JSON.stringify(now, null, 2) + '\n');
    return;
  }
  const recorded = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
  assert.ok(
    TRAINING_CODE_VERSION >= recorded.version,
    `TRAINING_CODE_VERSION ${TRAINING_CODE_VERSION} is below the fixture's ${recorded.version}; versions only go up`,
  );
  if (TRAINING_CODE_VERSION === recorded.version) {
    assert.deepEqual(
      now,
      recorded,
      'the fixture training changed but TRAINING_CODE_VERSION did not: bump it in src/train/version.ts and record the new numbers ' +
        '(UPDATE_TRAINING_FIXTURE=1 node --import tsx --test test/train/version.test.ts)',
    );
  } else {
    assert.fail(`TRAINING_CODE_VERSION is ${TRAINING_CODE_VERSION}, the fixture records ${recorded.version}: record the new numbers (UPDATE_TRAINING_FIXTURE=1 …)`);
  }
});

test("a training's cache key is its job's hash with the code version: another version, another key", async () => {
  const data = await prepareData({ dataset: 'mnist', trainLimit: 32, validLimit: 16, seed: 3 });
  const job = trainingJob({
    space: 'nb201',
    arch: ARCH,
    network: { channels: 4, cells: 1 },
    data: dataRefOf(data, undefined, { trainLimit: 32, validLimit: 16 }),
    train: { ...DARTS_TRAINING, lr: 0.1, epochs: 1, batchSize: 16, augment: null },
    seed: 5,
  });
  const { dir: _dir, ...where } = job.data;
  const key = trainingJobKey(job);
  assert.equal(key, queryKey({ ...job, data: where, code: TRAINING_CODE_VERSION }));
  assert.notEqual(key, queryKey({ ...job, data: where, code: TRAINING_CODE_VERSION + 1 }));
  assert.notEqual(key, queryKey({ ...job, data: where }), 'the version is part of the key');
  // the data's location is not part of its identity (the fingerprint is)
  assert.equal(trainingJobKey({ ...job, data: { ...job.data, dir: '/elsewhere' } }), key);
  assert.notEqual(trainingJobKey({ ...job, data: { ...job.data, fingerprint: '0000000000000000' } }), key);
});
