/**
 * Cross-process exclusion with plain files (no daemon, works on any local filesystem): a lock is a file created
 * with O_EXCL holding its owner (host, pid, a random token). It is stale — and may be taken over — when its
 * owner is a dead process on this host, or when it has not been renewed (its mtime) within its lease.
 * Taking over renames the stale file away first, so two processes that both saw it stale cannot both win.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

interface Owner {
  host: string;
  pid: number;
  token: string;
}

/** Whether a process with this pid exists here (EPERM: it exists, under another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): { owner: Owner; mtimeMs: number } | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    const mtimeMs = statSync(file).mtimeMs;
    const owner = JSON.parse(text) as Owner;
    return { owner, mtimeMs };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // half-written by a crashed creator (or garbage): stale
    return { owner: { host: '', pid: 0, token: '' }, mtimeMs: 0 };
  }
}

function isLive(info: { owner: Owner; mtimeMs: number }, leaseMs: number): boolean {
  if (info.owner.token === '') return false;
  if (info.owner.host === hostname() && !processAlive(info.owner.pid)) return false;
  return Date.now() - info.mtimeMs <= leaseMs;
}

/** A held lock file. */
export interface FileLock {
  readonly file: string;
  renew(): void;
  release(): void;
}

/** Tries once (with take-over of a stale lock) to create `file` as this process's lock. */
export function tryLock(file: string, leaseMs: number): FileLock | undefined {
  const owner: Owner = { host: hostname(), pid: process.pid, token: randomBytes(8).toString('hex') };
  for (let attempt = 0; attempt < 4; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const seen = readOwner(file);
      if (seen === undefined) continue; // released meanwhile
      if (isLive(seen, leaseMs)) return undefined;
      const tomb = `${file}.stale-${owner.token}`;
      try {
        renameSync(file, tomb);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = readOwner(tomb);
      if (moved !== undefined && moved.owner.token !== seen.owner.token) {
        // Someone replaced the stale lock with a live one between our read and our rename: put it back.
        try {
          linkSync(tomb, file);
        } catch {
          // a third process created one meanwhile; it holds the lock
        }
        unlinkSync(tomb);
        return undefined;
      }
      unlinkSync(tomb);
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(owner));
    } finally {
      closeSync(fd);
    }
    return {
      file,
      renew() {
        const now = new Date();
        utimesSync(file, now, now);
      },
      release() {
        const cur = readOwner(file);
        if (cur?.owner.token === owner.token) unlinkSync(file);
      },
    };
  }
  return undefined;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Waits (synchronously, for short critical sections such as one append) until the lock is had. */
export function lockSync(file: string, leaseMs: number, timeoutMs = 60_000): FileLock {
  const start = Date.now();
  for (let wait = 1; ; wait = Math.min(2 * wait, 50)) {
    const lock = tryLock(file, leaseMs);
    if (lock) return lock;
    if (Date.now() - start > timeoutMs) throw new Error(`could not lock ${file} within ${timeoutMs / 1000} s (held by another process)`);
    Atomics.wait(sleeper, 0, 0, wait);
  }
}
