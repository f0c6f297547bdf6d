/**
 * Crashes during a distributed search, with real processes on a real Redis:
 * - kill -9 of a worker in the middle of a training: its job stalls (no lock renewal), goes back to the queue and is
 *   trained by the other worker; the search finishes with every query, none twice;
 * - SIGTERM of a worker in the middle of a training: it hands the job back at once and exits 0;
 * - kill -9 of the coordinator: the workers finish what they hold; rerunning the same command collects those results
 *   from the queue and the rest from its cache, trains nothing twice, and returns the answer of an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { tempDirs } from '../helpers/tmp.js';
import { skipUnless, spawnCli, spawnWorker, startedTrainings, testRedis, trainingFor, uniqueQueue, until, type Proc } from './redis.js';

const redis = await testRedis();
const skip = skipUnless(redis);
const url = typeof redis === 'string' ? '' : redis.url;
const tmp = tempDirs('robot-nas-queue-crash-');

// trainings of 0.5–3 s: long enough to be killed in the middle
const ARGS = ['search', '--pool', '8', '--budget', '4', '--epochs', '1', '--channels', '4', '--train-limit', '480', '--valid-limit', '96', '--score-batch', '16', '--seed', '6', '--parallel', '2', '--json'];

interface Line { arch: string; validAccuracy: number; key: string }
const lines = (file: string): Line[] => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line) : []);
interface Result { best: { arch: string; validAccuracy: number }; t0: number; queries: number }

function search(d: string, queue: string): Proc {
  return spawnCli([...ARGS, '--out', join(d, 'out'), '--cache', join(d, 'cache.jsonl'), '--queue', url, '--queue-name', queue]);
}

/** The outcome both crash runs must share with an undisturbed run: answer, T0, queries in order with their values. */
function outcome(d: string, stdout: string): unknown {
  const r = JSON.parse(stdout.slice(stdout.indexOf('{\n'))) as Result;
  return { best: r.best, t0: r.t0, queries: r.queries, lines: lines(join(d, 'out', 'queries.jsonl')).map((l) => [l.arch, l.validAccuracy]) };
}

function checkComplete(d: string): void {
  const q = lines(join(d, 'out', 'queries.jsonl'));
  assert.equal(q.length, 4, 'every query logged');
  assert.equal(new Set(q.map((l) => l.key)).size, 4, 'no query logged twice');
  const keys = lines(join(d, 'cache.jsonl')).map((l) => l.key);
  assert.equal(new Set(keys).size, keys.length, 'no key recorded twice in the cache');
  assert.equal(keys.length, 4);
}

const stdoutOf = (p: Proc): string => p.lines.filter((l) => !/^\d\d:\d\d:\d\d /.test(l)).join('\n');
let reference: unknown;

test('kill -9 of a worker mid-training: the job stalls, another worker trains it, nothing is lost', { skip }, async () => {
  const d = tmp();
  const queue = uniqueQueue('kill-worker');
  const a = spawnWorker(url, queue);
  const b = spawnWorker(url, queue);
  const run = search(d, queue);
  const [victim, survivor, arch] = await until(() => {
    for (const [w, other] of [[a, b], [b, a]] as const) {
      const x = trainingFor(w, 300);
      if (x !== undefined) return [w, other, x] as const;
    }
    return undefined;
  }, 'a training running for 300 ms');
  victim.child.kill('SIGKILL');
  assert.equal((await victim.exited).signal, 'SIGKILL');
  const res = await run.exited;
  assert.equal(res.code, 0, run.text());
  checkComplete(d);
  assert.ok(startedTrainings(survivor).includes(arch), `the survivor trained the killed worker's job ${arch}:\n${survivor.text()}`);
  assert.match(survivor.text(), /lost its worker \(stalled\); it is back in the queue|start train \S+ \(run 2\)/);
  reference = outcome(d, stdoutOf(run));
  survivor.child.kill('SIGTERM');
  assert.equal((await survivor.exited).code, 0);
});

test('SIGTERM of a worker mid-training hands the job back and exits 0; the search completes', { skip }, async () => {
  const d = tmp();
  const queue = uniqueQueue('term-worker');
  const a = spawnWorker(url, queue);
  const b = spawnWorker(url, queue);
  const run = search(d, queue);
  const [leaving, staying, arch] = await until(() => {
    for (const [w, other] of [[a, b], [b, a]] as const) {
      const x = trainingFor(w, 300);
      if (x !== undefined) return [w, other, x] as const;
    }
    return undefined;
  }, 'a training running for 300 ms');
  const t0 = Date.now();
  leaving.child.kill('SIGTERM');
  const gone = await leaving.exited;
  assert.equal(gone.code, 0, leaving.text());
  assert.ok(Date.now() - t0 < 10_000, 'exits promptly');
  assert.ok(leaving.lines.some((l) => l.includes(`handed back train ${arch}`)), leaving.text());
  assert.equal((await run.exited).code, 0, run.text());
  checkComplete(d);
  assert.ok(startedTrainings(staying).includes(arch), 'the other worker trained the handed-back job');
  if (reference !== undefined) assert.deepEqual(outcome(d, stdoutOf(run)), reference);
  staying.child.kill('SIGTERM');
  await staying.exited;
});

test('kill -9 of the coordinator: the rerun collects finished jobs from the queue and trains nothing twice', { skip }, async () => {
  const d = tmp();
  const queue = uniqueQueue('kill-coord');
  const workers = [spawnWorker(url, queue), spawnWorker(url, queue)];
  const first = search(d, queue);
  // killed once one query is delivered and another training is under way
  await until(() => (lines(join(d, 'out', 'queries.jsonl')).length >= 1 && workers.some((w) => trainingFor(w, 100) !== undefined) ? true : undefined), 'a delivered query and a running training');
  first.child.kill('SIGKILL');
  await first.exited;
  const delivered = lines(join(d, 'cache.jsonl')).length;
  // the workers finish what they hold, with nobody listening
  const q = new Queue(queue, { connection: { url } });
  const counts = await until(async () => {
    const c = await q.getJobCounts('wait', 'active', 'completed');
    return c.wait === 0 && c.active === 0 ? c : undefined;
  }, 'the workers to finish the jobs in flight');
  const trainedBefore = workers.flatMap(startedTrainings);
  assert.ok(trainedBefore.length > delivered, `a training finished after the kill (${trainedBefore.length} trained, ${delivered} delivered)`);
  const rerun = search(d, queue);
  assert.equal((await rerun.exited).code, 0, rerun.text());
  checkComplete(d);
  const trained = workers.flatMap(startedTrainings);
  assert.equal(new Set(trained).size, trained.length, `no architecture trained twice: ${trained.join(' ')}`);
  assert.ok(trained.length <= 4);
  const after = await q.getJobCounts('completed');
  assert.ok(after.completed >= counts.completed);
  await q.close();
  if (reference !== undefined) assert.deepEqual(outcome(d, stdoutOf(rerun)), reference);
  for (const w of workers) w.child.kill('SIGTERM');
  for (const w of workers) await w.exited;
});
