/**
 * Redis restarted in the middle of a distributed search — killed, with no persistence, so the queue, the running
 * job and its lock are gone: the coordinator and the workers reconnect, the coordinator submits the vanished jobs
 * again, and the search completes with the answer of a local run; the queries delivered before the restart stay in
 * the search's own files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirs } from '../helpers/tmp.js';
import { redisBinary, spawnCli, spawnWorker, startRedis, trainingFor, uniqueQueue, until } from './redis.js';

const tmp = tempDirs('robot-nas-queue-restart-');
const skip = redisBinary() === undefined ? 'redis-server is not installed (this test restarts a private instance)' : false;
if (skip && process.env.ROBOT_NAS_REQUIRE_REDIS === '1') throw new Error(skip);

const ARGS = ['search', '--pool', '8', '--budget', '4', '--epochs', '1', '--channels', '4', '--train-limit', '480', '--valid-limit', '96', '--score-batch', '16', '--seed', '6', '--parallel', '2'];

interface Line { arch: string; validAccuracy: number; key: string }
const lines = (file: string): Line[] => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line) : []);

test('Redis restarted (data lost) mid-search: both sides reconnect and the search completes with the local answer', { skip }, async () => {
  const redis = await startRedis();
  const d = tmp();
  const queue = uniqueQueue('restart');
  const workers = [spawnWorker(redis.url, queue), spawnWorker(redis.url, queue)];
  const local = spawnCli([...ARGS, '--out', join(d, 'local'), '--cache', join(d, 'local-cache', 'c.jsonl')]);
  const dist = spawnCli([...ARGS, '--out', join(d, 'dist'), '--cache', join(d, 'dist-cache', 'c.jsonl'), '--queue', redis.url, '--queue-name', queue]);
  const distQueries = join(d, 'dist', 'queries.jsonl');
  await until(() => (lines(distQueries).length >= 1 && workers.some((w) => trainingFor(w, 200) !== undefined) ? true : undefined), 'a delivered query and a running training');
  const before = lines(distQueries);
  await redis.restart(1000);
  const [l, q] = await Promise.all([local.exited, dist.exited]);
  assert.equal(l.code, 0, local.text());
  assert.equal(q.code, 0, dist.text());
  assert.match(dist.text(), /lost the connection to Redis/);
  assert.match(dist.text(), /is no longer in the queue \(Redis restarted without its data\?\): submitting it again/);
  for (const w of workers) assert.match(w.text(), /lost the connection to Redis/);
  const after = lines(distQueries);
  assert.deepEqual(after.slice(0, before.length), before, 'queries delivered before the restart are kept');
  assert.equal(after.length, 4);
  assert.equal(new Set(after.map((x) => x.key)).size, 4, 'no query twice');
  const cacheKeys = lines(join(d, 'dist-cache', 'c.jsonl')).map((x) => x.key);
  assert.equal(new Set(cacheKeys).size, cacheKeys.length, 'no key recorded twice');
  const ref = lines(join(d, 'local', 'queries.jsonl'));
  assert.deepEqual(after.map((x) => [x.arch, x.validAccuracy]), ref.map((x) => [x.arch, x.validAccuracy]));
  const [rd, rl] = ['dist', 'local'].map((k) => JSON.parse(readFileSync(join(d, k, 'result.json'), 'utf8')) as { best: unknown; t0: number });
  assert.deepEqual([rd.best, rd.t0], [rl.best, rl.t0]);
  for (const w of workers) w.child.kill('SIGTERM');
  for (const w of workers) assert.equal((await w.exited).code, 0, w.text());
});
