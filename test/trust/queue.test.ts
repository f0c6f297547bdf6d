/**
 * Issue 18, class 4 — never wait for ever: a queued search says what it waits for (no live worker; Redis unreachable),
 * repeats it, and gives up after --queue-timeout with exit 2; a worker asked to stop while Redis is down exits within
 * its lock timeout on one signal. And class 3's queue case: a worker whose --data holds other images refuses the
 * scoring jobs (one clear failure, not a retry loop), and a later correct run scores them on the right images.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirs } from '../helpers/tmp.js';
import { writeClassFolders } from '../helpers/images.js';
import { redisBinary, spawnCli, spawnWorker, startRedis, uniqueQueue } from '../queue/redis.js';
import { openQueueRunner, QueueTimeoutError } from '../../src/runner/queue.js';
import { parseQueueUrl } from '../../src/runner/queue-connection.js';
import { jobExecutor, type Job } from '../../src/jobs/index.js';

const tmp = tempDirs('robot-nas-trust-queue-');
const skip = redisBinary() === undefined ? 'redis-server is not installed (these tests start and kill private instances)' : false;
if (skip && process.env.ROBOT_NAS_REQUIRE_REDIS === '1') throw new Error(skip);
const SMALL = ['search', '--pool', '4', '--budget', '2', '--channels', '4', '--epochs', '1', '--train-limit', '64', '--valid-limit', '32', '--score-batch', '8', '--parallel', '2'];

test('a queued search with no worker says what it waits for and gives up after --queue-timeout with exit 2', { skip }, async () => {
  const redis = await startRedis();
  const queue = uniqueQueue('nowork');
  const s = spawnCli([...SMALL, '--out', join(tmp(), 'run'), '--queue', redis.url, '--queue-name', queue, '--queue-timeout', '8']);
  const said = await s.waitFor(/^queue: waiting \d+ s for a worker on the queue/);
  assert.match(said, new RegExp(`none is alive; start one: npx robot-nas worker --queue ${redis.url.replace(/[.]/g, '\\.')} --queue-name ${queue}\\); giving up after 8 s \\(--queue-timeout\\)`));
  const { code } = await s.exited;
  assert.equal(code, 2, s.text());
  assert.match(s.text(), /robot-nas: --queue-timeout: gave up after waiting \d+ s for a worker on the queue/);
  assert.doesNotMatch(s.text(), /internal error|scoring \|/);
});

test('the wait is reported periodically, and every job in flight fails with the reason when the runner gives up', { skip }, async () => {
  const redis = await startRedis();
  const lines: string[] = [];
  const runner = await openQueueRunner({ target: parseQueueUrl(redis.url, uniqueQueue('report')), capacity: 2, timeoutSeconds: 8, reportMs: 1000, log: (m) => lines.push(m), executor: jobExecutor() });
  try {
    const job = (arch: string): Job => ({ kind: 'score', space: 'nb201', arch, config: { channels: 4, cells: 1, batch: 8, classes: 10, metrics: ['snip'] }, data: { dataset: 'mnist' }, seed: 0 });
    const runs = ['|none~0|+|none~0|none~1|+|none~0|none~1|none~2|', '|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|', '|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|none~2|'].map((a) => runner.run(job(a)));
    for (const r of runs) await assert.rejects(r, (e: unknown) => e instanceof QueueTimeoutError && /gave up after waiting \d+ s for a worker/.test(e.message));
  } finally {
    await runner.close();
  }
  assert.ok(lines.filter((l) => /^queue: waiting \d+ s for a worker/.test(l)).length >= 2, `repeated:\n${lines.join('\n')}`);
});

test('Redis killed and not restarted: the search says it waits for Redis, then gives up with exit 2', { skip }, async () => {
  const redis = await startRedis();
  const queue = uniqueQueue('gone');
  const s = spawnCli([...SMALL, '--out', join(tmp(), 'run'), '--queue', redis.url, '--queue-name', queue, '--queue-timeout', '8']);
  await s.waitFor(/^pool: /);
  await redis.stop();
  const said = await s.waitFor(/^queue: waiting \d+ s for Redis at /);
  assert.match(said, /to be reachable again; giving up after 8 s/);
  const { code } = await s.exited;
  assert.equal(code, 2, s.text());
  assert.match(s.text(), /--queue-timeout: gave up after waiting \d+ s for Redis at redis:\/\/127\.0\.0\.1:\d+ to be reachable again/);
});

test('a worker asked to stop while Redis is down exits on one SIGTERM, within its lock timeout', { skip }, async () => {
  const redis = await startRedis();
  const w = spawnWorker(redis.url, uniqueQueue('stop'));
  await w.waitFor(/taking jobs from/);
  await redis.stop();
  await w.waitFor(/lost the connection to Redis/);
  w.child.kill('SIGTERM');
  const { code, signal } = await w.exited;
  assert.equal(signal, null);
  assert.equal(code, 0, w.text());
  assert.match(w.text(), /could not reach Redis at .* within the lock timeout \(2 s\): stopping without handing jobs back/);
  assert.doesNotMatch(w.text(), /again: exiting now/, 'one signal was enough');
});

/** CSV rows without the timing column, sorted. */
function metricRows(file: string): string[] {
  const [head, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  const drop = head!.split(',').indexOf('seconds');
  return rows.map((r) => r.split(',').filter((_, i) => i !== drop).join(',')).sort();
}

test('a worker started with another --data refuses the scoring jobs with both fingerprints; a correct run then scores the right images', { skip }, async () => {
  const redis = await startRedis();
  const base = tmp();
  const right = join(base, 'right');
  const wrong = join(base, 'wrong');
  writeClassFolders(right, ['ant', 'bee'], 8, 8);
  writeClassFolders(wrong, ['ant', 'bee'], 8, 8, (n) => (n === 'ant' ? 3 : 4));
  const queue = uniqueQueue('data');
  const args = [...SMALL, '--dataset', 'folder', '--data', right, '--cache', join(base, 'cache', 'c.jsonl')];
  const bad = spawnWorker(redis.url, queue, ['--data', wrong]);
  const s = spawnCli([...args, '--out', join(base, 'run'), '--queue', redis.url, '--queue-name', queue]);
  const { code } = await s.exited;
  assert.equal(code, 2, s.text());
  assert.match(s.text(), /the job's folder images have fingerprint [0-9a-f]{16}, but .*wrong here gives [0-9a-f]{16}: this machine holds other data/);
  assert.match(bad.text(), /failed score .*not retried/);
  assert.doesNotMatch(bad.text(), /done +score/, 'no job was scored on the wrong images');
  bad.child.kill('SIGTERM');
  await bad.exited;
  const good = spawnWorker(redis.url, queue, ['--data', right]);
  const again = spawnCli([...args, '--out', join(base, 'run'), '--queue', redis.url, '--queue-name', queue]);
  assert.equal((await again.exited).code, 0, again.text());
  const local = spawnCli([...SMALL, '--dataset', 'folder', '--data', right, '--out', join(base, 'local'), '--cache', join(base, 'local-cache', 'c.jsonl')]);
  assert.equal((await local.exited).code, 0, local.text());
  assert.deepEqual(metricRows(join(base, 'run', 'metrics.csv')), metricRows(join(base, 'local', 'metrics.csv')));
  good.child.kill('SIGTERM');
  await good.exited;
});
