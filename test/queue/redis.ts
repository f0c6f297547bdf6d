/**
 * Real Redis servers and real worker processes for the queue tests.
 *
 * The Redis of a test file is the one `.ci/run` starts and exports as ROBOT_NAS_TEST_REDIS; without it, a private
 * `redis-server` from PATH or /usr/bin is started for the file (its own port and temp dir, no persistence) and stopped
 * at the end. With neither, the tests skip and say why — unless ROBOT_NAS_REQUIRE_REDIS=1 (set by .ci/run), where a
 * missing Redis fails them. Every test uses its own queue name, so files sharing one Redis never see each other's jobs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { REPO } from '../helpers/shared.js';

/** redis-server on PATH, else /usr/bin/redis-server, else undefined. */
export function redisBinary(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const onPath = which.status === 0 ? which.stdout.trim() : '';
  if (onPath !== '') return onPath;
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface PrivateRedis {
  url: string;
  port: number;
  /** Kills the server (SIGKILL: nothing saved) and starts a fresh one on the same port; resolves when it answers. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const { Socket } = await import('node:net');
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => {
        s.write('PING\r\n');
      });
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** A private redis-server (loopback, its own temp dir, no persistence); stopped when the test file ends. */
export async function startRedis(extra: string[] = []): Promise<PrivateRedis> {
  const bin = redisBinary();
  if (bin === undefined) throw new Error('redis-server is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'robot-nas-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', ...extra];
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn(bin, args, { stdio: 'ignore' });
    await waitForPort(port, child);
  };
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
  await launch();
  let stopped = false;
  const r: PrivateRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart(downMs = 500) {
      await kill();
      await sleep(downMs);
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  after(() => r.stop());
  return r;
}

/** The Redis of this test file, or the reason there is none (a skip message). */
export async function testRedis(): Promise<{ url: string } | string> {
  const env = process.env.ROBOT_NAS_TEST_REDIS;
  if (env !== undefined && env !== '') return { url: env };
  if (redisBinary() === undefined) {
    const why = 'no Redis for the queue tests: set ROBOT_NAS_TEST_REDIS=redis://HOST:PORT or install redis-server (.ci/run does both)';
    if (process.env.ROBOT_NAS_REQUIRE_REDIS === '1') throw new Error(why);
    return why;
  }
  return startRedis();
}

/** The skip option of a test: false when a Redis is there, else the reason. */
export function skipUnless(r: { url: string } | string): false | string {
  return typeof r === 'string' ? r : false;
}

let counter = 0;
/** A queue name no other test (or earlier run) uses. */
export function uniqueQueue(tag: string): string {
  return `t-${tag}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

export interface Proc {
  child: ChildProcess;
  /** stdout + stderr lines so far. */
  lines: string[];
  /** When each line arrived (Date.now()). */
  at: number[];
  /** Resolves with the first line (already seen or coming) matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  text(): string;
}

/** Spawns the built CLI (`npm test` builds first). */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'robot-nas.js'), ...args], { cwd: REPO, env: { ...process.env, ...env } });
  const lines: string[] = [];
  const at: number[] = [];
  const watchers: { re: RegExp; resolve: (l: string) => void }[] = [];
  const feed = (chunk: Buffer, carry: { s: string }): void => {
    carry.s += chunk.toString();
    const parts = carry.s.split('\n');
    carry.s = parts.pop() ?? '';
    for (const l of parts) {
      lines.push(l);
      at.push(Date.now());
      for (const w of watchers.splice(0)) {
        if (w.re.test(l)) w.resolve(l);
        else watchers.push(w);
      }
    }
  };
  const out = { s: '' };
  const err = { s: '' };
  child.stdout!.on('data', (d: Buffer) => feed(d, out));
  child.stderr!.on('data', (d: Buffer) => feed(d, err));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    lines,
    at,
    exited,
    text: () => lines.join('\n'),
    waitFor(re, timeoutMs = 60_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${lines.join('\n')}`)), timeoutMs);
        watchers.push({
          re,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
        void exited.then(() => {
          clearTimeout(t);
          setTimeout(() => reject(new Error(`process exited before ${re}:\n${lines.join('\n')}`)), 50);
        });
      });
    },
  };
}

/** A `robot-nas worker` on a queue (lock timeout short, so a killed worker's job moves on in seconds). */
export function spawnWorker(url: string, queue: string, extra: string[] = []): Proc {
  return spawnCli(['worker', '--queue', url, '--queue-name', queue, '--concurrency', '1', '--lock-timeout', '2', ...extra]);
}

/** Lines `start train <arch>` of worker logs, as architectures. */
export function startedTrainings(p: Proc): string[] {
  return p.lines.map((l) => / start train (\S+)/.exec(l)?.[1]).filter((a): a is string => a !== undefined);
}

/** The architecture a worker has been training for at least `ms` (started, not yet done), if any. */
export function trainingFor(p: Proc, ms: number, now = Date.now()): string | undefined {
  const open = new Map<string, number>();
  p.lines.forEach((l, i) => {
    const s = / start train (\S+)/.exec(l);
    if (s) open.set(s[1], p.at[i]);
    const d = / done {1,2}train (\S+)/.exec(l) ?? / (?:handed back|failed) train (\S+)/.exec(l);
    if (d) open.delete(d[1]);
  });
  for (const [arch, t] of open) if (now - t >= ms) return arch;
  return undefined;
}

/** Polls `fn` every 50 ms until it returns a value (or fails after `timeoutMs`). */
export async function until<T>(fn: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
