/**
 * Job guarantees on a real Redis with a real `robot-nas worker` process:
 * - a job's id is its key: two coordinators submitting the same training at once get one run and the same result,
 *   and a later submission is answered from the finished queue entry without running again;
 * - deterministic failures (data that differ from the job's fingerprint, a bad architecture) fail once with their
 *   message and reach the coordinator as input errors;
 * - a transient failure is retried with backoff and then succeeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { jobExecutor, trainingJob as makeTrainingJob, type Job, type JobResult, type TrainingJob } from '../../src/jobs/index.js';
import { inProcessRunner } from '../../src/runner/in-process.js';
import { openQueueRunner } from '../../src/runner/queue.js';
import { parseQueueUrl, type QueueTarget } from '../../src/runner/queue-connection.js';
import { startQueueWorker } from '../../src/runner/queue-worker.js';
import type { Runner } from '../../src/runner/types.js';
import { prepareData } from '../../src/train/data.js';
import { dataRefOf, type TrainingOutcome } from '../../src/train/spec.js';
import { DARTS_TRAINING } from '../../src/train/trainer.js';
import { InputError } from '../../src/util/errors.js';
import { skipUnless, spawnWorker, startedTrainings, testRedis, uniqueQueue } from './redis.js';

const executor = jobExecutor();
const redis = await testRedis();
const skip = skipUnless(redis);
const url = typeof redis === 'string' ? '' : redis.url;

const ARCH = '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|';

const limits = { trainLimit: 96, validLimit: 48 };
const data = await prepareData({ dataset: 'mnist', validFraction: 0.2, ...limits, seed: 3 });


function trainingJob(arch = ARCH): TrainingJob {
  return makeTrainingJob({
    space: 'nb201',
    arch,
    network: { channels: 4, cells: 1 },
    data: dataRefOf(data, undefined, limits),
    train: { ...DARTS_TRAINING, lr: 0.1, epochs: 1, batchSize: 32, augment: null },
    seed: 3,
  });
}

/** What Redis holds about a job: its state and counters. */
async function bullJob(t: QueueTarget, id: string) {
  const q = new Queue(t.name, { connection: { url: t.url } });
  try {
    const j = await q.getJob(id);
    assert.ok(j, `job ${id} is in the queue`);
    return { state: await j.getState(), attemptsMade: j.attemptsMade, attemptsStarted: j.attemptsStarted, attempts: j.opts.attempts, failedReason: j.failedReason };
  } finally {
    await q.close();
  }
}

test('the same job submitted by two coordinators runs once; both get the result; a later submission reuses it', { skip }, async () => {
  const t = parseQueueUrl(url, uniqueQueue('dedup'));
  const job = trainingJob();
  const a = await openQueueRunner({ target: t, capacity: 1, executor });
  const b = await openQueueRunner({ target: t, capacity: 1, executor });
  // both submit before any worker exists: the second finds the first's queue entry
  const [ra, rb] = [a.run(job), b.run(job)];
  const worker = spawnWorker(url, t.name);
  const [resA, resB] = (await Promise.all([ra, rb])) as TrainingOutcome[];
  assert.deepEqual(resA, resB);
  assert.ok(resA.validAccuracy >= 0 && resA.validAccuracy <= 100);
  const q = new Queue(t.name, { connection: { url: t.url } });
  const counts = await q.getJobCounts('wait', 'active', 'delayed', 'completed', 'failed');
  await q.close();
  assert.deepEqual(counts, { wait: 0, active: 0, delayed: 0, completed: 1, failed: 0 }, 'one queue entry, completed');
  const again = await openQueueRunner({ target: t, capacity: 1, executor });
  assert.deepEqual(await again.run(job), resA);
  assert.equal(again.stats.reused, 1, 'answered by the finished queue entry');
  const entry = await bullJob(t, executor.key(job));
  assert.equal(entry.attemptsStarted, 1, 'started once');
  assert.deepEqual(startedTrainings(worker), [ARCH], 'the worker trained it once');
  await Promise.all([a.close(), b.close(), again.close()]);
  worker.child.kill('SIGTERM');
  assert.equal((await worker.exited).code, 0);
});

test('deterministic failures fail once with their message: data mismatch, bad architecture', { skip }, async () => {
  const t = parseQueueUrl(url, uniqueQueue('fail'));
  const runner = await openQueueRunner({ target: t, capacity: 2, backoffMs: 200, executor });
  const worker = spawnWorker(url, t.name);
  const good = trainingJob();
  const mismatch: TrainingJob = { ...good, data: { ...good.data, fingerprint: '0123456789abcdef' } };
  const badArch: TrainingJob = { ...good, arch: '|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|' };
  await assert.rejects(runner.run(mismatch), (e: Error) => e instanceof InputError && /fingerprint 0123456789abcdef/.test(e.message) && /this machine holds other data/.test(e.message));
  await assert.rejects(runner.run(badArch), (e: Error) => e instanceof InputError && /bad architecture '\|conv_9x9~0\|/.test(e.message));
  for (const j of [mismatch, badArch]) {
    const entry = await bullJob(t, executor.key(j));
    assert.equal(entry.state, 'failed');
    assert.equal(entry.attemptsMade, 1, 'failed once, not `attempts` times');
    assert.equal(entry.attempts, 3);
  }
  await runner.close();
  worker.child.kill('SIGTERM');
  await worker.exited;
});

test('a transient failure is retried with backoff, then succeeds', { skip }, async () => {
  const t = parseQueueUrl(url, uniqueQueue('retry'));
  // a runner that loses its first run of every job (as a crashed thread would), then runs it for real
  const real = inProcessRunner(executor);
  const runs: number[] = [];
  const flaky: Runner<Job, JobResult> = {
    capacity: 1,
    label: 'flaky',
    async run(job, opts) {
      runs.push(Date.now());
      if (runs.length === 1) throw new Error('worker thread 1 exited unexpectedly (code 1)');
      return real.run(job, opts);
    },
    close: () => real.close(),
  };
  const worker = await startQueueWorker({ target: t, concurrency: 1, runner: flaky, lockSeconds: 30, executor });
  const coordinator = await openQueueRunner({ target: t, capacity: 1, backoffMs: 400, executor });
  const job = trainingJob('|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|');
  const res = (await coordinator.run(job)) as TrainingOutcome;
  assert.ok(Number.isFinite(res.validAccuracy));
  assert.equal(runs.length, 2);
  assert.ok(runs[1] - runs[0] >= 400, `retried after the backoff (${runs[1] - runs[0]} ms)`);
  const entry = await bullJob(t, executor.key(job));
  assert.equal(entry.state, 'completed');
  assert.equal(entry.attemptsMade, 2);
  await coordinator.close();
  await worker.stop();
});
