/**
 * Parallel RoBoT on real trainings: K = 2 trainings at once on worker threads gives the same answer as any
 * other run with K = 2 (synchronous rounds), two searches sharing one cache train each key once, and a search
 * killed (SIGKILL) in the middle of a round resumes with nothing lost and nothing recorded twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { REPO } from '../helpers/shared.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('robot-nas-parallel-');
const TINY = ['--pool', '8', '--budget', '6', '--epochs', '1', '--channels', '4', '--train-limit', '96', '--valid-limit', '48', '--score-batch', '16', '--seed', '6'];

interface Line { key: string; arch: string; validAccuracy: number }
const lines = (file: string): Line[] => readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
const cacheKeys = (file: string): string[] => lines(file).map((l) => l.key);
interface Result { best: { arch: string; validAccuracy: number }; t0: number; queries: number; parallel: number; freshTrainingSeconds: number; cacheHits: number }

function spawnCli(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'robot-nas.js'), ...args], { cwd: REPO });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

test('two searches sharing one cache, at the same time, train every key once', async () => {
  const d = tmp();
  const cache = join(d, 'shared-cache.jsonl');
  const a = spawnCli(['search', ...TINY, '--method', 'rs', '--search-seed', '1', '--parallel', '1', '--out', join(d, 'a'), '--cache', cache, '--json']);
  const b = spawnCli(['search', ...TINY, '--method', 'rs', '--search-seed', '2', '--parallel', '1', '--out', join(d, 'b'), '--cache', cache, '--json']);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  const keys = cacheKeys(cache);
  assert.equal(new Set(keys).size, keys.length, 'no key stored twice');
  const qa = lines(join(d, 'a', 'queries.jsonl'));
  const qb = lines(join(d, 'b', 'queries.jsonl'));
  const union = new Set([...qa, ...qb].map((l) => l.key));
  assert.equal(keys.length, union.size, 'the cache holds exactly the keys the two searches asked for');
  const resA = JSON.parse(ra.stdout) as Result;
  const resB = JSON.parse(rb.stdout) as Result;
  // every training happened in exactly one of the two processes
  assert.equal(qa.length + qb.length - union.size, resA.cacheHits + resB.cacheHits);
});

test('K = 2: killed mid-round, the rerun resumes with nothing lost or duplicated and the answer of an uninterrupted run', async () => {
  const d = tmp();
  const out = join(d, 'run');
  const cache = join(d, 'cache.jsonl');
  const args = ['search', ...TINY, '--parallel', '2', '--out', out, '--cache', cache];
  const run = spawnCli(args);
  // kill once the first training of the search is stored and more are running
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (existsSync(cache) && cacheKeys(cache).length >= 1) {
        clearInterval(t);
        run.child.kill('SIGKILL');
        resolve();
      }
    }, 50);
    void run.done.then((r) => {
      clearInterval(t);
      if (r.signal !== 'SIGKILL') reject(new Error(`search ended before it was killed: ${r.stderr}`));
    });
  });
  const killed = await run.done;
  assert.equal(killed.signal, 'SIGKILL');
  const before = cacheKeys(cache).length;
  assert.ok(before >= 1 && before < 6, `${before} trainings stored before the kill`);
  const resumed = runCli([...args, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const res = JSON.parse(resumed.stdout) as Result;
  assert.equal(res.parallel, 2);
  assert.equal(res.queries, 6);
  assert.ok(res.cacheHits >= before, 'finished trainings came from the cache');
  const keys = cacheKeys(cache);
  assert.equal(new Set(keys).size, keys.length, 'no training stored twice');
  const q = lines(join(out, 'queries.jsonl'));
  assert.equal(q.length, 6);
  assert.equal(new Set(q.map((l) => l.key)).size, 6, 'no query logged twice');
  // the same search uninterrupted (answered by the same cache) gives the same answer
  const again = runCli(['search', ...TINY, '--parallel', '2', '--out', join(d, 'again'), '--cache', cache, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const ref = JSON.parse(again.stdout) as Result;
  assert.deepEqual([ref.best, ref.t0], [res.best, res.t0]);
  assert.deepEqual(lines(join(d, 'again', 'queries.jsonl')).map((l) => l.arch), q.map((l) => l.arch), 'same queries in the same order');
});
