/**
 * The Redis behind the job queue: parsing `--queue redis://HOST:PORT`, checking the server before any work (reachable,
 * Redis ≥ 6.2, `maxmemory-policy noeviction`), and the connection settings of the long-lived BullMQ clients, which
 * retry forever so that a restarted Redis is rejoined instead of ending a search or a worker.
 */
import type { RedisOptions as BullConnection } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { InputError } from '../util/errors.js';

/** Oldest Redis the queue accepts (BullMQ's scripts and our tests target 6.2+, what Debian ships). */
export const MIN_REDIS_VERSION = '6.2.0';
/** Default of `--queue-timeout`: long enough to start workers on other machines after the search. */
export const DEFAULT_QUEUE_TIMEOUT_SECONDS = 600;
/** BullMQ queue name used when none is given. */
export const DEFAULT_QUEUE_NAME = 'robot-nas';

export interface QueueTarget {
  /** The URL as given (for messages; a password is masked). */
  shown: string;
  url: string;
  host: string;
  port: number;
  /** BullMQ queue name: several projects can share one Redis. */
  name: string;
}

function masked(u: URL): string {
  if (u.password === '') return u.href.replace(/\/$/, '');
  const copy = new URL(u.href);
  copy.password = '***';
  return copy.href.replace(/\/$/, '');
}

/** Checks the shape of a queue URL (redis:// or rediss://, a host, a port, an optional database number). */
export function parseQueueUrl(text: string, name: string = DEFAULT_QUEUE_NAME): QueueTarget {
  const expected = 'expected redis://HOST:PORT (or rediss:// for TLS, optionally redis://:PASSWORD@HOST:PORT/DB)';
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new InputError(`--queue: '${text}' is not a URL; ${expected}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new InputError(`--queue: '${text}' is a ${u.protocol.replace(/:$/, '')} URL; ${expected}`);
  }
  if (u.hostname === '') throw new InputError(`--queue: '${text}' names no host; ${expected}`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) throw new InputError(`--queue: '${text}': the path must be a database number (e.g. /0), got '/${db}'`);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw new InputError(`--queue-name: '${name}' must be 1–64 letters, digits, '.', '_' or '-'`);
  }
  return { shown: masked(u), url: u.href, host: u.hostname, port, name };
}

/** Compares dotted versions numerically. */
export function versionBelow(version: string, min: string): boolean {
  const a = version.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const b = min.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return false;
}

/** A field of an INFO reply (`redis_version:7.0.15`). */
export function infoField(info: string, field: string): string | undefined {
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return m?.[1].trim();
}

export interface ServerInfo {
  version: string;
  policy: string;
}

/** Why a connection attempt failed, in the words a user can act on. */
function connectionMessage(t: QueueTarget, err: Error & { code?: string }): string {
  const where = `--queue ${t.shown}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `${where}: connection refused — no Redis is listening on ${t.host}:${t.port} (start one, e.g. \`redis-server --port ${t.port}\`, or fix the URL)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${where}: unknown host '${t.host}'`;
    case 'ETIMEDOUT':
      return `${where}: no answer from ${t.host}:${t.port} within 5 s (a firewall, or not a Redis server)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where}: host ${t.host} is unreachable`;
  }
  if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(err.message)) {
    return `${where}: Redis refused the credentials (${err.message.trim()}); give them in the URL: redis://USER:PASSWORD@${t.host}:${t.port}`;
  }
  if (/Unknown RESP type|Protocol error|unexpected/i.test(err.message)) {
    return `${where}: the server at ${t.host}:${t.port} does not speak the Redis protocol (is the port right?)`;
  }
  return `${where}: cannot talk to Redis there (${err.message.trim()})`;
}

/**
 * Connects once (no retries), reads INFO and checks what BullMQ needs: Redis ≥ 6.2 and `noeviction` (an evicting
 * Redis silently drops queued jobs and locks under memory pressure). Every failure is an InputError naming the fix.
 */
export async function checkRedis(t: QueueTarget, timeoutMs = 5000): Promise<ServerInfo> {
  // loaded here, not at the top: the CLI imports this module for every command
  const { Redis } = await import('ioredis');
  const client = new Redis(t.url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    // ioredis keeps a 2 s timer after a disconnect (to force-close the socket), which would hold the CLI's exit
    disconnectTimeout: 100,
  });
  // connect() only says "Connection is closed"; the cause (ECONNREFUSED, ENOTFOUND…) comes as an 'error' event
  let cause: (Error & { code?: string }) | undefined;
  client.on('error', (e: Error) => {
    cause ??= e;
  });
  try {
    try {
      await client.connect();
    } catch (e) {
      throw new InputError(connectionMessage(t, cause ?? (e as Error & { code?: string })));
    }
    let server: string;
    let memory: string;
    try {
      server = await client.info('server');
      memory = await client.info('memory');
    } catch (e) {
      throw new InputError(connectionMessage(t, cause ?? (e as Error & { code?: string })));
    }
    const version = infoField(server, 'redis_version') ?? infoField(server, 'valkey_version');
    if (version === undefined) throw new InputError(`--queue ${t.shown}: the server's INFO names no redis_version; is it Redis?`);
    if (versionBelow(version, MIN_REDIS_VERSION)) {
      throw new InputError(
        `--queue ${t.shown}: Redis ${version} is too old; the job queue (BullMQ) needs Redis ≥ ${MIN_REDIS_VERSION} (Debian: apt-get install redis-server)`,
      );
    }
    const policy = infoField(memory, 'maxmemory_policy') ?? 'noeviction';
    if (policy !== 'noeviction') {
      throw new InputError(
        `--queue ${t.shown}: Redis evicts keys under memory pressure (maxmemory-policy ${policy}), which loses queued jobs; ` +
          `set it to noeviction: \`redis-cli -h ${t.host} -p ${t.port} CONFIG SET maxmemory-policy noeviction\` (and \`maxmemory-policy noeviction\` in redis.conf to keep it)`,
      );
    }
    return { version, policy };
  } finally {
    client.disconnect();
  }
}

/** Reconnection delay: quick at first (a restart takes a second or two), then every 3 s, forever. */
export function reconnectDelay(times: number): number {
  return Math.min(250 * times, 3000);
}

/**
 * Options of the long-lived clients (queue, events, worker): commands wait while Redis is away
 * (maxRetriesPerRequest null, offline queue on) and reconnect forever, so an outage pauses the work instead of
 * failing it. The preflight `checkRedis` has already turned a wrong URL into a clear error.
 */
export function connectionOptions(t: QueueTarget): BullConnection {
  return { url: t.url, maxRetriesPerRequest: null, enableOfflineQueue: true, retryStrategy: reconnectDelay, connectTimeout: 10_000, disconnectTimeout: 200 };
}

/** The same settings for a plain ioredis client (heartbeats, status). */
export function clientOptions(): RedisOptions & { retryStrategy: (times: number) => number } {
  return { maxRetriesPerRequest: null, enableOfflineQueue: true, retryStrategy: reconnectDelay, connectTimeout: 10_000, disconnectTimeout: 200 };
}
