/**
 * A distributed run equals a local one: `search --queue` with two worker processes returns the same answer, the same
 * queries in the same order with the same accuracies, and the same metrics as `search` on local worker threads with
 * the same seed and --parallel; `proxies --queue` writes the same metric values as `proxies`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirs } from '../helpers/tmp.js';
import { skipUnless, spawnCli, spawnWorker, testRedis, uniqueQueue } from './redis.js';

const redis = await testRedis();
const skip = skipUnless(redis);
const url = typeof redis === 'string' ? '' : redis.url;
const tmp = tempDirs('robot-nas-queue-search-');

const SMALL = ['--pool', '8', '--budget', '4', '--epochs', '1', '--channels', '4', '--train-limit', '192', '--valid-limit', '96', '--score-batch', '16', '--seed', '6', '--parallel', '2'];

interface Line { arch: string; validAccuracy: number; key: string; cached: boolean }
const lines = (file: string): Line[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
interface Result { best: { arch: string; validAccuracy: number }; t0: number; weights: Record<string, number>; queries: number; parallel: number }
const json = (file: string): Result => JSON.parse(readFileSync(file, 'utf8')) as Result;
/** CSV rows without the timing column. */
function metricRows(file: string): string[] {
  const [head, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  const drop = head.split(',').indexOf('seconds');
  return rows.map((r) => r.split(',').filter((_, i) => i !== drop).join(',')).sort();
}

test('search --queue with two workers returns what a local search returns', { skip }, async () => {
  const d = tmp();
  const queue = uniqueQueue('search');
  const workers = [spawnWorker(url, queue), spawnWorker(url, queue)];
  const local = spawnCli(['search', ...SMALL, '--out', join(d, 'local'), '--cache', join(d, 'local-cache', 'c.jsonl')]);
  const dist = spawnCli(['search', ...SMALL, '--out', join(d, 'dist'), '--cache', join(d, 'dist-cache', 'c.jsonl'), '--queue', url, '--queue-name', queue]);
  const [l, q] = await Promise.all([local.exited, dist.exited]);
  assert.equal(l.code, 0, local.text());
  assert.equal(q.code, 0, dist.text());
  assert.match(dist.text(), /to score \(the queue 't-search-[^']+' at redis:\/\/[^,]+, 2 in flight\)/);
  const [rl, rq] = [json(join(d, 'local', 'result.json')), json(join(d, 'dist', 'result.json'))];
  assert.deepEqual([rq.best, rq.t0, rq.weights, rq.queries, rq.parallel], [rl.best, rl.t0, rl.weights, rl.queries, rl.parallel]);
  const [ql, qq] = [lines(join(d, 'local', 'queries.jsonl')), lines(join(d, 'dist', 'queries.jsonl'))];
  assert.equal(qq.length, 4);
  assert.deepEqual(qq.map((x) => [x.arch, x.validAccuracy, x.key]), ql.map((x) => [x.arch, x.validAccuracy, x.key]));
  assert.ok(new Set(qq.map((x) => x.validAccuracy)).size > 1, 'the trainings learned something (not all at chance)');
  assert.deepEqual(metricRows(join(d, 'dist', 'metrics.csv')), metricRows(join(d, 'local', 'metrics.csv')));
  // both workers took part
  for (const w of workers) assert.ok(w.lines.some((x) => / done /.test(x)), `worker ran jobs:\n${w.text()}`);
  for (const w of workers) w.child.kill('SIGTERM');
  for (const w of workers) assert.equal((await w.exited).code, 0);
});

test('proxies --queue writes the metric values proxies computes locally', { skip }, async () => {
  const d = tmp();
  const queue = uniqueQueue('proxies');
  const worker = spawnWorker(url, queue, ['--concurrency', '2']);
  const common = ['proxies', '--space', 'nb201', '--dataset', 'mnist', '--archs', '6', '--channels', '4', '--cells', '1', '--batch', '16', '--seed', '2', '--workers', '2'];
  const local = spawnCli([...common, '--out', join(d, 'local.csv')]);
  const dist = spawnCli([...common, '--out', join(d, 'dist.csv'), '--queue', url, '--queue-name', queue]);
  const [l, q] = await Promise.all([local.exited, dist.exited]);
  assert.equal(l.code, 0, local.text());
  assert.equal(q.code, 0, dist.text());
  assert.match(dist.text(), /6 to compute on the queue/);
  assert.deepEqual(metricRows(join(d, 'dist.csv')), metricRows(join(d, 'local.csv')));
  assert.equal(metricRows(join(d, 'dist.csv')).length, 6);
  worker.child.kill('SIGTERM');
  assert.equal((await worker.exited).code, 0);
});
