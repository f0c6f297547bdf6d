/**
 * Runners are interchangeable on the real jobs: the same scoring and training jobs give identical results in this
 * thread, on worker threads and through the queue (a real Redis: see test/queue/redis.ts), in any order, with
 * progress as events; a cancelled job stops. (contract.test.ts holds every runner to the Runner contract.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobExecutor, scoringJob, trainingJob } from '../../src/jobs/index.js';
import { METRICS_CODE_VERSION } from '../../src/proxies/types.js';
import { CancelledError, inProcessRunner, workerThreadRunner, type JobEvent } from '../../src/runner/index.js';
import { openQueueRunner } from '../../src/runner/queue.js';
import { parseQueueUrl } from '../../src/runner/queue-connection.js';
import { startQueueWorker } from '../../src/runner/queue-worker.js';
import { prepareData } from '../../src/train/data.js';
import { dataRefOf, type TrainingOutcome } from '../../src/train/spec.js';
import { DARTS_TRAINING } from '../../src/train/trainer.js';
import { skipUnless, testRedis, uniqueQueue } from '../queue/redis.js';

const ARCHS = ['|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|', '|nor_conv_1x1~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|nor_conv_1x1~1|avg_pool_3x3~2|'];
const data = await prepareData({ dataset: 'mnist', trainLimit: 48, validLimit: 24, seed: 2 });
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
    version: METRICS_CODE_VERSION,
  });

/** A result without its wall-clock seconds (the only field that depends on where and when it ran). */
const timeless = (r: unknown): unknown => JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'seconds' ? undefined : v)));

const jobs = [...ARCHS.map(trainJob), ...ARCHS.map(scoreJob)];
/** The in-process results, the reference the other runners must match. */
let reference: unknown[] | undefined;
async function inProcessResults(): Promise<unknown[]> {
  if (reference !== undefined) return reference;
  const here = inProcessRunner(executor);
  const events: JobEvent[] = [];
  const a: unknown[] = [];
  for (const j of jobs) a.push(await here.run(j, { onEvent: (e) => j.kind === 'train' && events.push(e) }));
  await here.close();
  assert.equal(events[0].type, 'start');
  assert.ok(events.some((e) => e.type === 'progress' && e.step === e.steps), 'progress events up to the last step');
  return (reference = a);
}

const redis = await testRedis();

test('in-process and worker-thread runners give identical results for the same jobs', async () => {
  const a = await inProcessResults();
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

test('the queue (a coordinator, a worker on two threads) gives the same results', { skip: skipUnless(redis) }, async () => {
  const a = await inProcessResults();
  const target = parseQueueUrl(typeof redis === 'string' ? '' : redis.url, uniqueQueue('parity'));
  const worker = await startQueueWorker({ target, concurrency: 2, executor, lockSeconds: 30 });
  const queue = await openQueueRunner({ target, capacity: 4, executor, attempts: 1 });
  try {
    const c = await Promise.all([...jobs].reverse().map((j) => queue.run(j)));
    assert.deepEqual(c.reverse().map(timeless), a.map(timeless));
  } finally {
    await queue.close();
    await worker.stop();
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
