/**
 * One contract, every Runner: in this thread, on worker threads, and through the queue (a coordinator and a worker on
 * a real Redis: ROBOT_NAS_TEST_REDIS, or a private redis-server; skipped, saying why, without either). The jobs come
 * from a test executor (test/helpers/test-executor.ts), so what is tested is the runner: results, events, failures,
 * cancellation, capacity, closing. A new runner joins by adding itself to RUNNERS. (parity.test.ts runs the real
 * scoring and training jobs on the local runners.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inProcessRunner } from '../../src/runner/in-process.js';
import { openQueueRunner } from '../../src/runner/queue.js';
import { parseQueueUrl } from '../../src/runner/queue-connection.js';
import { startQueueWorker } from '../../src/runner/queue-worker.js';
import { CancelledError, type JobEvent, type Runner } from '../../src/runner/types.js';
import { workerThreadRunner } from '../../src/runner/worker-threads.js';
import { InputError } from '../../src/util/errors.js';
import { square, testExecutor, type SquareJob, type SquareResult } from '../helpers/test-executor.js';
import { skipUnless, testRedis, uniqueQueue } from '../queue/redis.js';

interface Subject {
  name: string;
  skip?: string | false;
  /** A fresh runner; `stop` also stops what it needs (the queue's worker). */
  start(): Promise<{ runner: Runner<SquareJob, SquareResult>; stop(): Promise<void> }>;
}

const redis = await testRedis();
let queues = 0;

const RUNNERS: Subject[] = [
  {
    name: 'in-process',
    async start() {
      const runner = inProcessRunner(testExecutor());
      return { runner, stop: () => runner.close() };
    },
  },
  {
    name: 'worker threads',
    async start() {
      const runner = workerThreadRunner(2, testExecutor());
      return { runner, stop: () => runner.close() };
    },
  },
  {
    name: 'queue (BullMQ on Redis)',
    skip: skipUnless(redis),
    async start() {
      const url = typeof redis === 'string' ? '' : redis.url;
      const target = parseQueueUrl(url, uniqueQueue(`contract-${++queues}`));
      // every queue its own keys, so jobs of one test never answer another's
      const executor = testExecutor({ tag: target.name });
      const worker = await startQueueWorker({ target, concurrency: 2, executor, lockSeconds: 30 });
      const runner = await openQueueRunner({ target, capacity: 2, executor, attempts: 1, watchMs: 250 });
      return {
        runner,
        async stop() {
          await runner.close();
          await worker.stop();
        },
      };
    },
  },
];

/** What the executor itself gives, without the times. */
const plain = (r: SquareResult) => ({ x: r.x, square: r.square });

for (const s of RUNNERS) {
  describe(`Runner contract: ${s.name}`, { skip: s.skip ?? false }, () => {
    test('jobs submitted at once give the executor\'s results, whatever order they finish in', async () => {
      const { runner, stop } = await s.start();
      try {
        assert.ok(Number.isInteger(runner.capacity) && runner.capacity >= 1);
        assert.equal(typeof runner.label, 'string');
        const jobs = [1, 2, 3, 4, 5].map((x) => square(x, { stepMs: 30 - 5 * x }));
        const results = await Promise.all([...jobs].reverse().map((j) => runner.run(j)));
        assert.deepEqual(results.reverse().map(plain), [1, 2, 3, 4, 5].map((x) => ({ x, square: x * x })));
      } finally {
        await stop();
      }
    });

    test('events come in order, to their own job: start first, progress up to the last step', async () => {
      const { runner, stop } = await s.start();
      try {
        const events = new Map<number, JobEvent[]>();
        await Promise.all(
          [7, 8].map((x) => {
            const list: JobEvent[] = [];
            events.set(x, list);
            return runner.run(square(x, { steps: 3, stepMs: 40 }), { onEvent: (e) => list.push(e) });
          }),
        );
        for (const [x, list] of events) {
          assert.equal(list[0]?.type, 'start', `job ${x}: ${JSON.stringify(list)}`);
          const progress = list.filter((e): e is Extract<JobEvent, { type: 'progress' }> => e.type === 'progress');
          assert.ok(progress.length >= 1, `job ${x} reported progress`);
          assert.ok(progress.every((e, i) => e.steps === 3 && e.loss === x && (i === 0 || e.step > progress[i - 1].step)));
          assert.equal(progress.at(-1)!.step, 3);
        }
      } finally {
        await stop();
      }
    });

    test('an input error reaches the caller as an InputError, another error as an Error; the runner goes on', async () => {
      const { runner, stop } = await s.start();
      try {
        await assert.rejects(runner.run(square(11, { fail: 'input' })), (e: Error) => e instanceof InputError && /x = 11 is refused/.test(e.message));
        await assert.rejects(runner.run(square(12, { fail: 'error' })), (e: Error) => !(e instanceof InputError) && /x = 12 broke/.test(e.message));
        assert.equal((await runner.run(square(13))).square, 169);
      } finally {
        await stop();
      }
    });

    test('a cancelled job rejects with CancelledError, before or while it runs; the runner goes on', async () => {
      const { runner, stop } = await s.start();
      try {
        const before = new AbortController();
        before.abort();
        await assert.rejects(runner.run(square(21), { signal: before.signal }), CancelledError);
        const ctl = new AbortController();
        const running = runner.run(square(22, { steps: 100, stepMs: 20 }), { signal: ctl.signal, onEvent: (e) => e.type === 'progress' && ctl.abort() });
        await assert.rejects(running, CancelledError);
        assert.equal((await runner.run(square(23))).square, 529);
      } finally {
        await stop();
      }
    });

    test('no more jobs run at once than its capacity, and as many as it can', async () => {
      const { runner, stop } = await s.start();
      try {
        const rs = await Promise.all([31, 32, 33, 34, 35, 36].map((x) => runner.run(square(x, { steps: 3, stepMs: 60 }))));
        // the most jobs running at one moment: a sweep over starts and ends (an end before a start at the same ms)
        const marks = rs.flatMap((r) => [[r.started, 1], [r.ended, -1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        let now = 0;
        let most = 0;
        for (const [, d] of marks) most = Math.max(most, (now += d));
        assert.ok(most <= runner.capacity, `${most} at once, capacity ${runner.capacity}`);
        if (runner.capacity > 1) assert.ok(most >= 2, 'jobs ran side by side');
      } finally {
        await stop();
      }
    });

    test('a closed runner takes no more jobs', async () => {
      const { runner, stop } = await s.start();
      await runner.run(square(41));
      await stop();
      await assert.rejects(runner.run(square(42)), /closed/);
    });
  });
}
