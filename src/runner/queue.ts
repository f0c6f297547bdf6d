/**
 * The coordinator's side of the distributed queue: a Runner that submits jobs to a BullMQ queue on Redis instead of
 * running them, and hands back their results as workers on any machine finish them (`robot-nas worker`,
 * queue-worker.ts).
 *
 * - A job's queue id is its key (the executor's `key`): a job already in the queue — waiting, running, or finished by an
 *   earlier coordinator that was killed — is joined, not added again, so it runs once and answers every submitter.
 *   A job found failed is retried: a new submission after a failure is a request to try again.
 * - At most `capacity` jobs are in flight (the search's --parallel); the rest wait here, so the queue holds what the
 *   search has asked for and nothing it might never need.
 * - Results and progress arrive as QueueEvents; a watch loop also asks Redis for the state of every job in flight,
 *   which catches events lost while disconnected and jobs that vanished because Redis restarted without its data
 *   (they are submitted again).
 */
import { Queue, QueueEvents } from 'bullmq';
import { InputError } from '../util/errors.js';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientOptions, connectionOptions, DEFAULT_QUEUE_TIMEOUT_SECONDS, type QueueTarget } from './queue-connection.js';
import { HEARTBEAT_MS, workersKey, type WorkerRecord } from './queue-worker.js';
import { shellCommand } from '../util/shell.js';
import { CancelledError, type Executor, type JobEvent, type RunOptions, type Runner } from './types.js';

export interface QueueRunnerOptions<J = unknown, R = unknown> {
  target: QueueTarget;
  /** The jobs' executor: the coordinator only reads their keys, kinds and labels (the workers run them). */
  executor: Executor<J, R>;
  /** Jobs kept in flight at once. */
  capacity: number;
  /** Runs of a job before a transient failure is final (deterministic failures fail at once). Default 3. */
  attempts?: number;
  /** Delay before the first retry; doubled for each further one (ms, default 5000). */
  backoffMs?: number;
  /** How often jobs in flight are checked against the queue (ms, default 2000). */
  watchMs?: number;
  /** Messages about the connection, resubmitted jobs and what a wait is for. */
  log?: (m: string) => void;
  /**
   * Seconds the runner waits with nothing able to move — no live worker on the queue, or Redis unreachable — before
   * it gives up: every job in flight fails with a QueueTimeoutError (an input error: exit 2). Default 600.
   */
  timeoutSeconds?: number;
  /** How often a waiting runner says what it waits for (ms, default 30000; the first time after 5 s). */
  reportMs?: number;
}

/** The runner gave up waiting (no live worker, or Redis away for `--queue-timeout`): the jobs stay queued. */
export class QueueTimeoutError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'QueueTimeoutError';
  }
}

export interface QueueRunnerStats {
  /** Jobs this runner added to the queue (two runners adding the same new job at once both count it; the queue holds one). */
  submitted: number;
  /** Jobs found already finished in the queue (by an earlier or another coordinator's submission). */
  reused: number;
  /** Jobs found waiting or running, and joined. */
  joined: number;
  /** Jobs found failed and retried. */
  retried: number;
  /** Jobs added again because they had vanished from Redis. */
  resubmitted: number;
}

export interface QueueRunner<J = unknown, R = unknown> extends Runner<J, R> {
  readonly target: QueueTarget;
  readonly stats: QueueRunnerStats;
}

/** Finished jobs stay in Redis this long, so a coordinator rerun within it reuses results it never received. */
export const KEEP_FINISHED_SECONDS = 7 * 24 * 3600;

interface Waiter<R> {
  onEvent?: (e: JobEvent) => void;
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

interface Watch<J, R> {
  id: string;
  job: J;
  waiters: Waiter<R>[];
  /** Set once the job is known to be in the queue. */
  submitted: boolean;
  settled: boolean;
}

/** Error classes a worker marks as deterministic (queue-worker.ts prefixes the failure with the class name). */
const INPUT_FAILURE = /^(InputError|DataMismatchError|SettingError|SpaceError): /;

/** The error a failed job's reason stands for: an InputError for a deterministic failure (exit 2 in the CLI). */
export function failureError(reason: string, subject: string): Error {
  const m = INPUT_FAILURE.exec(reason);
  return m ? new InputError(`${subject}: ${reason.slice(m[0].length)}`) : new Error(`${subject}: the job failed on its workers: ${reason}`);
}

function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/.test(err.code ?? '') || /Connection is closed|connect ECONN|Socket closed/i.test(err.message ?? '');
}

export async function openQueueRunner<J, R>(o: QueueRunnerOptions<J, R>): Promise<QueueRunner<J, R>> {
  if (!(Number.isInteger(o.capacity) && o.capacity >= 1)) throw new RangeError(`queue runner capacity must be a positive integer, got ${o.capacity}`);
  const { target, executor } = o;
  const log = o.log ?? (() => undefined);
  const connection = connectionOptions(target);
  const queue = new Queue(target.name, {
    connection,
    defaultJobOptions: {
      attempts: o.attempts ?? 3,
      backoff: { type: 'exponential', delay: o.backoffMs ?? 5000 },
      removeOnComplete: { age: KEEP_FINISHED_SECONDS },
      removeOnFail: { age: KEEP_FINISHED_SECONDS },
    },
  });
  const events = new QueueEvents(target.name, { connection });
  const stats: QueueRunnerStats = { submitted: 0, reused: 0, joined: 0, retried: 0, resubmitted: 0 };
  const watches = new Map<string, Watch<J, R>>();
  let offline = false;
  let closed = false;
  let gaveUp: QueueTimeoutError | undefined;

  const onError = (e: Error): void => {
    if (closed) return;
    if (isConnectionError(e)) {
      if (!offline) log(`lost the connection to Redis at ${target.shown} (${(e as { code?: string }).code ?? e.message}); waiting for it to come back`);
      offline = true;
    } else log(`queue: ${e.message}`);
  };
  queue.on('error', onError);
  events.on('error', onError);
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);

  const settle = (w: Watch<J, R>, r: { ok: R } | { err: Error }): void => {
    if (w.settled) return;
    w.settled = true;
    watches.delete(w.id);
    for (const x of w.waiters) 'ok' in r ? x.resolve(r.ok) : x.reject(r.err);
  };
  const emit = (id: string, e: JobEvent): void => {
    for (const x of watches.get(id)?.waiters ?? []) x.onEvent?.(e);
  };

  events.on('active', ({ jobId }) => emit(jobId, { type: 'start' }));
  events.on('progress', ({ jobId, data }) => {
    const d = data as { step?: unknown; steps?: unknown; loss?: unknown };
    if (typeof d === 'object' && d !== null && typeof d.step === 'number' && typeof d.steps === 'number') {
      emit(jobId, { type: 'progress', step: d.step, steps: d.steps, loss: typeof d.loss === 'number' ? d.loss : NaN });
    }
  });
  events.on('completed', ({ jobId, returnvalue }) => {
    const w = watches.get(jobId);
    if (w) settle(w, { ok: returnvalue as R });
  });
  events.on('failed', ({ jobId, failedReason }) => {
    const w = watches.get(jobId);
    if (w) settle(w, { err: failureError(failedReason, executor.subject(w.job)) });
  });

  /** Adds the job, or joins the queue entry that already has its id. */
  const submit = async (w: Watch<J, R>): Promise<void> => {
    const existing = await queue.getJob(w.id);
    if (existing !== undefined) {
      const state = await existing.getState();
      if (state === 'completed') {
        stats.reused++;
        settle(w, { ok: existing.returnvalue as R });
        return;
      }
      if (state === 'failed') {
        // another submitter may retry it at the same moment: then it is no longer failed, which is what we want
        await existing.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }).catch(() => undefined);
        stats.retried++;
      } else if (state !== 'unknown') stats.joined++;
      if (state !== 'unknown') {
        w.submitted = true;
        return;
      }
    }
    await queue.add(executor.kind(w.job), w.job, { jobId: w.id });
    stats.submitted++;
    w.submitted = true;
  };

  /** Asks Redis where a job in flight stands; settles it when finished, adds it again when it has vanished. */
  const check = async (w: Watch<J, R>): Promise<boolean> => {
    if (w.settled || !w.submitted) return false;
    const state = await queue.getJobState(w.id);
    if (w.settled) return true;
    if (state === 'completed' || state === 'failed') {
      const j = await queue.getJob(w.id);
      if (j === undefined) return true;
      settle(w, state === 'completed' ? { ok: j.returnvalue as R } : { err: failureError(j.failedReason, executor.subject(w.job)) });
    } else if (state === 'unknown') {
      log(`job ${w.id.slice(0, 14)}… (${executor.label(w.job)}) is no longer in the queue (Redis restarted without its data?): submitting it again`);
      await queue.add(executor.kind(w.job), w.job, { jobId: w.id });
      stats.resubmitted++;
    }
    return true;
  };

  // What a wait is for: the runner says it (after 5 s, then every reportMs) and gives up after the timeout, instead
  // of waiting silently for ever when no worker runs or Redis is gone.
  const limitMs = (o.timeoutSeconds ?? DEFAULT_QUEUE_TIMEOUT_SECONDS) * 1000;
  const reportMs = o.reportMs ?? 30_000;
  const startWorker = shellCommand(['npx', 'robot-nas', 'worker', '--queue', target.shown, ...(target.name !== 'robot-nas' ? ['--queue-name', target.name] : [])]);
  let liveWorkers: number | undefined;
  let reachable = true;
  let checkingLive = false;
  let lastLiveCheck = 0;
  let waitingSince: number | undefined;
  let lastReport = 0;
  /** Workers that recorded themselves on this queue within three heartbeats (as `queue status` counts them). */
  // its own client, failing fast while Redis is away (the runner knows then from its connection errors)
  const probe = new Redis(target.url, { ...clientOptions(), enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  probe.on('error', () => undefined);
  const countLive = async (): Promise<number> => {
    const raw = await probe.hgetall(workersKey(target.name));
    const now = Date.now();
    return Object.values(raw).filter((v) => {
      try {
        const w = JSON.parse(v) as WorkerRecord;
        return w.state === 'running' && now - Date.parse(w.seen) < 3 * HEARTBEAT_MS;
      } catch {
        return false;
      }
    }).length;
  };
  const waitTimer = setInterval(() => {
    if (closed || gaveUp !== undefined) return;
    const now = Date.now();
    if (![...watches.values()].some((w) => !w.settled)) {
      waitingSince = undefined;
      return;
    }
    if (!checkingLive && now - lastLiveCheck >= 2000) {
      checkingLive = true;
      // the probe fails at once while Redis is away; bounded, so that a reply that never comes stops nothing
      void Promise.race([countLive(), sleep(5000, undefined, { ref: false })])
        .then((n) => {
          reachable = n !== undefined;
          if (n !== undefined) liveWorkers = n;
        })
        .catch(() => {
          reachable = false;
        })
        .finally(() => {
          checkingLive = false;
          lastLiveCheck = Date.now();
        });
    }
    const why = !reachable ? `Redis at ${target.shown} to be reachable again` : liveWorkers === 0 ? `a worker on the queue '${target.name}' at ${target.shown} (none is alive; start one: ${startWorker})` : undefined;
    if (why === undefined) {
      if (waitingSince !== undefined && lastReport >= waitingSince) log('queue: the jobs are moving again');
      waitingSince = undefined;
      return;
    }
    waitingSince ??= now;
    const waited = now - waitingSince;
    if (waited >= limitMs) {
      gaveUp = new QueueTimeoutError(
        `--queue-timeout: gave up after waiting ${Math.round(waited / 1000)} s for ${why}. The jobs already submitted stay in the queue: ` +
          'run the same command again once it can proceed (nothing finished is lost), or raise --queue-timeout',
      );
      for (const w of [...watches.values()]) settle(w, { err: new QueueTimeoutError(gaveUp.message) });
      for (const next of slots.splice(0)) next();
      return;
    }
    if (waited >= 5000 && now - lastReport >= reportMs) {
      lastReport = now;
      log(`queue: waiting ${Math.round(waited / 1000)} s for ${why}; giving up after ${Math.round(limitMs / 1000)} s (--queue-timeout)`);
    }
  }, 1000);
  waitTimer.unref();

  let watching = false;
  const watchTimer = setInterval(() => {
    if (watching || closed || watches.size === 0) return;
    watching = true;
    // while Redis is away these calls wait for it (they are queued by the client), so one round runs at a time
    void Promise.all([...watches.values()].map((w) => check(w)))
      .then((asked) => {
        // back only when Redis answered (jobs not submitted yet ask nothing)
        if (!asked.some(Boolean)) return;
        if (offline) log(`reconnected to Redis at ${target.shown}`);
        offline = false;
      })
      .catch((e: unknown) => onError(e as Error))
      .finally(() => {
        watching = false;
      });
  }, o.watchMs ?? 2000);
  watchTimer.unref();

  // capacity: jobs in flight, the rest wait here in submission order
  let inFlight = 0;
  const slots: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (inFlight < o.capacity) {
      inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) => slots.push(resolve));
  };
  const release = (): void => {
    const next = slots.shift();
    if (next) next();
    else inFlight--;
  };

  const runOne = (job: J, opts: RunOptions): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const id = executor.key(job);
      const waiter: Waiter<R> = { ...(opts.onEvent ? { onEvent: opts.onEvent } : {}), resolve, reject };
      let w = watches.get(id);
      const fresh = w === undefined;
      if (w === undefined) {
        w = { id, job, waiters: [], submitted: false, settled: false };
        watches.set(id, w);
      }
      w.waiters.push(waiter);
      opts.signal?.addEventListener(
        'abort',
        () => {
          const cur = watches.get(id);
          if (cur) {
            cur.waiters = cur.waiters.filter((x) => x !== waiter);
            // nobody here waits for it any more; the job itself stays queued (another submitter may want it)
            if (cur.waiters.length === 0) watches.delete(id);
          }
          reject(new CancelledError());
        },
        { once: true },
      );
      if (fresh) {
        const mine = w;
        submit(mine)
          .then(() => check(mine))
          .catch((e: unknown) => settle(mine, { err: e instanceof Error ? e : new Error(String(e)) }));
      }
    });

  return {
    target,
    stats,
    capacity: o.capacity,
    label: `the queue '${target.name}' at ${target.shown}, ${o.capacity} in flight`,
    async run(job: J, opts: RunOptions = {}) {
      if (closed) throw new Error('the runner is closed');
      const given = (): QueueTimeoutError | undefined => gaveUp;
      if (given() !== undefined) throw new QueueTimeoutError(given()!.message);
      if (opts.signal?.aborted) throw new CancelledError();
      await acquire();
      try {
        if (given() !== undefined) throw new QueueTimeoutError(given()!.message);
        if (opts.signal?.aborted) throw new CancelledError();
        return await runOne(job, opts);
      } finally {
        release();
      }
    },
    async close() {
      closed = true;
      clearInterval(watchTimer);
      clearInterval(waitTimer);
      const err = new Error('the runner was closed');
      for (const w of [...watches.values()]) settle(w, { err });
      // A clean close needs Redis; when it is away, the connections are cut instead of waited on for ever.
      const clean = Promise.allSettled([events.close(), queue.close()]);
      const inTime = await Promise.race([clean.then(() => true), sleep(3000, false, { ref: false })]);
      if (!inTime) await Promise.allSettled([events.disconnect(), queue.disconnect()]);
      probe.disconnect();
    },
  };
}
