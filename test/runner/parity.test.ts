/**
 * Runners are interchangeable: the same jobs give identical results in this thread and on worker threads, in
 * any order, with progress as events; a cancelled job stops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/nn/backend.js';
import { jobExecutor, scoringJob, trainingJob } from '../../src/jobs/index.js';
import { CancelledError, inProcessRunner, workerThreadRunner, type JobEvent } from '../../src/runner/index.js';
import { prepareData } from '../../src/train/data.js';
import { dataRefOf, type TrainingOutcome } from '../../src/train/spec.js';
import { DARTS_TRAINING } from '../../src/train/trainer.js';

const ARCHS = ['|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|', '|nor_conv_1x1~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|nor_conv_1x1~1|avg_pool_3x3~2|'];
const data = prepareData({ dataset: 'mnist', trainLimit: 48, validLimit: 24, seed: 2 });
const executor = jobExecutor();
const trainJob = (arch: string) =>
  trainingJob({
    space: 'nb201',
    arch,
    network: { channels: 4, cells: 1 },
    data: dataRefOf(data, undefined, { trainLimit: 48, validLimit: 24 }),
    train: { ...DARTS_TRAINING, lr: 0.1, epochs: 1, batchSize: 16, augment: null },
    seed: 2,
  });
const scoreJob = (arch: string) =>
  scoringJob({
    space: 'nb201',
    arch,
    config: { channels: 4, cells: 1, batch: 8, classes: 10, metrics: ['grad_norm', 'snip', 'synflow', 'naswot'] },
    data: { dataset: 'mnist', split: 'train' },
    seed: 2,
  });

/** A result without its wall-clock seconds (the only field that depends on where and when it ran). */
const timeless = (r: unknown): unknown => JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'seconds' ? undefined : v)));

test('in-process and worker-thread runners give identical results for the same jobs', async () => {
  await initBackend('wasm');
  const jobs = [...ARCHS.map(trainJob), ...ARCHS.map(scoreJob)];
  const here = inProcessRunner(executor);
  const events: JobEvent[] = [];
  const a = [];
  for (const j of jobs) a.push(await here.run(j, { onEvent: (e) => j.kind === 'train' && events.push(e) }));
  await here.close();
  assert.equal(events[0].type, 'start');
  assert.ok(events.some((e) => e.type === 'progress' && e.step === e.steps), 'progress events up to the last step');
  const threads = workerThreadRunner(2, executor);
  try {
    // all at once, in reverse order: the order of finishing must not matter
    const b = await Promise.all([...jobs].reverse().map((j) => threads.run(j)));
    b.reverse();
    assert.deepEqual(b.map(timeless), a.map(timeless));
    assert.ok((a[0] as TrainingOutcome).validAccuracy >= 0);
  } finally {
    await threads.close();
  }
});

test('a cancelled job rejects with CancelledError, on either runner', async () => {
  const threads = workerThreadRunner(1, executor);
  try {
    const ctl = new AbortController();
    const p = threads.run({ ...trainJob(ARCHS[0]), train: { ...trainJob(ARCHS[0]).train, epochs: 50 } }, {
      signal: ctl.signal,
      onEvent: (e) => e.type === 'progress' && e.step === 2 && ctl.abort(),
    });
    await assert.rejects(p, CancelledError);
    // the thread is free again
    const r = (await threads.run(trainJob(ARCHS[1]))) as TrainingOutcome;
    assert.ok(Number.isFinite(r.validAccuracy));
  } finally {
    await threads.close();
  }
  const here = inProcessRunner(executor);
  const ctl = new AbortController();
  ctl.abort();
  await assert.rejects(here.run(trainJob(ARCHS[0]), { signal: ctl.signal }), CancelledError);
});
