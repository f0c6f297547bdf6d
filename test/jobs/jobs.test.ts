/**
 * The job kinds: keys stay what they were (the query cache and the queue are keyed by them), a job from elsewhere is
 * checked before it runs, and the executor describes every kind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JOB_KINDS, jobExecutor, scoringJob, tableCellJob, trainingJob, trainingJobKey } from '../../src/jobs/index.js';
import { DARTS_TRAINING } from '../../src/train/trainer.js';
import { InputError } from '../../src/util/errors.js';

const ARCH = '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|';
const train = trainingJob({
  space: 'nb201',
  arch: ARCH,
  network: { channels: 4, cells: 1 },
  data: { dataset: 'mnist', dir: null, validFraction: 0.2, trainLimit: 48, validLimit: 24, seed: 2, fingerprint: '0123456789abcdef' },
  train: { ...DARTS_TRAINING, lr: 0.1, epochs: 1, batchSize: 16, augment: null },
  seed: 2,
});
const score = scoringJob({
  space: 'nb201',
  arch: ARCH,
  config: { channels: 4, cells: 1, batch: 8, classes: 10, metrics: ['grad_norm', 'snip'] },
  data: { dataset: 'mnist', split: 'train' },
  seed: 2,
});
const ex = jobExecutor();

test('keys are those of earlier versions: the query cache and queued jobs stay valid', () => {
  // recorded with the code before src/jobs/ existed (runner/job-key.ts, train/job.ts)
  assert.equal(trainingJobKey(train), 'cd296db0bcafa20a6b5272175b5d18eb43ad90b13ad37bf609ed4358621a79eb');
  assert.equal(ex.key(train), `train-${trainingJobKey(train)}`);
  assert.equal(ex.key(score), 'score-8b82f7747eab4fd14118ec1d8d7797045499b2d90c7ca41b3dea8405d49ee236');
  // the data's location is not part of a training's identity
  assert.equal(ex.key({ ...train, data: { ...train.data, dir: '/elsewhere' } }), ex.key(train));
  assert.notEqual(ex.key({ ...score, seed: 3 }), ex.key(score));
});

test('every kind is registered under its own name, and keys start with it (BullMQ: no ":", not an integer)', () => {
  for (const [name, kind] of Object.entries(JOB_KINDS)) assert.equal(kind.kind, name);
  const cell = tableCellJob({ benchmark: 'nb201', task: 'cifar10', experiment: { method: 'rs', budget: 5, seeds: [1] } });
  for (const job of [train, score, cell]) {
    const key = ex.key(job);
    assert.ok(key.startsWith(`${job.kind}-`) && !key.includes(':'), key);
    assert.equal(ex.kind(job), job.kind);
  }
  assert.equal(ex.label(train), `train ${ARCH}`);
  assert.equal(ex.subject(cell), 'rs on nb201 cifar10');
});

test('a job from elsewhere is checked before it runs: unknown kinds, spaces, architectures are input errors', () => {
  assert.deepEqual(ex.check(JSON.parse(JSON.stringify(train))), train);
  const refused = (v: unknown, re: RegExp): void => assert.throws(() => ex.check(v), (e: Error) => e instanceof InputError && re.test(e.message));
  refused(null, /not an object/);
  refused({ ...train, kind: 'bake' }, /unknown job kind 'bake' \(expected score, train, table-cell\)/);
  refused({ ...train, kind: 'constructor' }, /unknown job kind 'constructor'/);
  refused({ ...score, space: 'nb101' }, /job space 'nb101' has no network builder/);
  refused({ ...train, arch: '|conv_9x9~0|' }, /bad architecture '\|conv_9x9~0\|' for space nb201/);
  refused(tableCellJob({ benchmark: 'nb201', task: 'mnist', experiment: { method: 'rs', budget: 5, seeds: [1] } }), /unknown task 'mnist'/);
});

test("a worker's data folder replaces the one a job names; results are summarised per kind", () => {
  assert.equal((ex.relocate!(train, '/data') as typeof train).data.dir, '/data');
  assert.equal((ex.relocate!(score, '/data') as typeof score).data.dir, '/data');
  assert.equal(ex.summary!(train, { validAccuracy: 97.5, seconds: 1, trainLoss: 0.1, trainAccuracy: 99, diverged: false, epochs: 1 }), 'val 97.50%');
  assert.equal(ex.summary!(score, { arch: ARCH, values: {}, seconds: 1 }), '');
});

test('worker threads rebuild the same executor from its module and options', async () => {
  const t = jobExecutor().thread;
  assert.deepEqual(structuredClone(t), t);
  const m = (await import(t.module)) as Record<string, (o: unknown) => typeof ex>;
  assert.equal(m[t.name](t.options).key(score), ex.key(score));
});
