/**
 * A queue that cannot work is refused before any work, in one line with exit 2: a wrong URL, a refused connection,
 * a Redis older than 6.2, a Redis that evicts keys (BullMQ needs maxmemory-policy noeviction; the message says how to
 * set it). Redis servers here are real (a private redis-server per case), except the too-old one: no Redis < 6.2 is
 * installable here, so a minimal RESP server answers INFO as Redis 5.0.14 does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { runCli } from '../helpers/cli.js';
import { freePort, redisBinary, skipUnless, startRedis, testRedis, uniqueQueue } from './redis.js';

const redis = await testRedis();
const noBinary = redisBinary() === undefined ? 'redis-server is not installed (needed for a private instance)' : false;

function expectExit2(args: string[], pattern: RegExp): string {
  const r = runCli(args);
  assert.equal(r.code, 2, `exit code of ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  return r.stderr;
}

test('a wrong URL names the expected form', () => {
  expectExit2(['queue', 'status', '--queue', 'localhost:6379'], /--queue: 'localhost:6379' is a localhost URL; expected redis:\/\/HOST:PORT/);
  expectExit2(['queue', 'status', '--queue', 'redis//127.0.0.1'], /is not a URL; expected redis:\/\/HOST:PORT/);
  expectExit2(['worker', '--queue', 'http://127.0.0.1:6379'], /is a http URL/);
  expectExit2(['queue', 'status', '--queue', 'redis://127.0.0.1:6379/x'], /database number/);
  expectExit2(['queue', 'status', '--queue', 'redis://127.0.0.1:6379', '--queue-name', 'a:b'], /--queue-name/);
});

test('a refused connection says nothing listens there, before a search loads any data', async () => {
  const port = await freePort();
  expectExit2(['queue', 'status', '--queue', `redis://127.0.0.1:${port}`], new RegExp(`connection refused — no Redis is listening on 127\\.0\\.0\\.1:${port}`));
  const err = expectExit2(['search', '--pool', '4', '--budget', '2', '--queue', `redis://127.0.0.1:${port}`, '--no-cache'], /connection refused/);
  assert.doesNotMatch(err, /^data:/m);
  expectExit2(['proxies', '--space', 'nb201', '--dataset', 'mnist', '--archs', '2', '--out', '/tmp/never-written.csv', '--queue', `redis://127.0.0.1:${port}`], /connection refused/);
  expectExit2(['worker', '--queue', `redis://127.0.0.1:${port}`], /connection refused/);
});

test('a Redis older than 6.2 is refused with its version', async () => {
  // answers every command like a Redis 5.0.14 would (INFO → its server section, anything else → OK)
  const info = '# Server\r\nredis_version:5.0.14\r\nredis_mode:standalone\r\n# Memory\r\nmaxmemory_policy:noeviction\r\nloading:0\r\n';
  const server = createServer((sock) => {
    sock.on('data', (d) => {
      const cmds = d.toString().match(/\*\d+\r\n(?:\$\d+\r\n[^\r]*\r\n)+/g) ?? [];
      for (const c of cmds) {
        sock.write(/\r\ninfo\r\n/i.test(c) ? `$${Buffer.byteLength(info)}\r\n${info}\r\n` : '+OK\r\n');
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      // the CLI runs in a child process while this process serves it
      import('node:child_process').then(({ execFile }) =>
        execFile(process.execPath, ['bin/robot-nas.js', 'queue', 'status', '--queue', `redis://127.0.0.1:${port}`], { cwd: new URL('../..', import.meta.url).pathname }, (e, _o, stderr) =>
          resolve({ code: (e as { code?: number } | null)?.code ?? 0, stderr }),
        ),
      );
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Redis 5\.0\.14 is too old; the job queue \(BullMQ\) needs Redis ≥ 6\.2\.0/);
  } finally {
    server.close();
  }
});

test('a Redis that evicts keys is refused with the command that fixes it', { skip: noBinary }, async () => {
  const evicting = await startRedis(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
  const err = expectExit2(['worker', '--queue', evicting.url], /maxmemory-policy allkeys-lru/);
  assert.match(err, new RegExp(`redis-cli -h 127\\.0\\.0\\.1 -p ${evicting.port} CONFIG SET maxmemory-policy noeviction`));
  expectExit2(['queue', 'status', '--queue', evicting.url], /noeviction/);
  await evicting.stop();
});

test('queue status of a fresh queue: zero counts, no workers', { skip: skipUnless(redis) }, () => {
  const url = (redis as { url: string }).url;
  const r = runCli(['queue', 'status', '--queue', url, '--queue-name', uniqueQueue('status'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = r.json<{ counts: Record<string, number>; workers: unknown[] }>();
  assert.deepEqual(s.counts, { waiting: 0, active: 0, retrying: 0, completed: 0, failed: 0 });
  assert.deepEqual(s.workers, []);
});
