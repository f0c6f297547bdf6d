/**
 * The worker's side of the distributed queue (`robot-nas worker`): a BullMQ Worker that takes jobs from Redis and
 * runs them on this machine's worker threads, with the executor it is given (the CLI's: src/jobs/).
 *
 * - Jobs run off the event loop (worker threads, runner/worker-threads.ts), so a CPU-bound training never delays the
 *   lock renewals and heartbeats on the main thread: a job whose lock expires really has a dead or cut-off worker.
 * - A deterministic failure (a bad job, a bad architecture, data that differ from the job's fingerprint) fails the
 *   job at once (UnrecoverableError, its message prefixed with the error's class so the coordinator can report it as
 *   an input error); any other failure is retried by BullMQ with the job's backoff, on any worker.
 * - `stop()` (SIGINT/SIGTERM) stops taking jobs, cancels the running ones and hands them back to the queue (another
 *   worker starts them at once); a job that cannot be interrupted (a scoring) finishes first.
 * - Every few seconds the worker records itself in a hash next to the queue (host, pid, what it runs, counts), which
 *   `robot-nas queue status` lists as the workers seen.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, WaitingError, Worker, type Job as BullJob } from 'bullmq';
import { Redis } from 'ioredis';
import { InputError } from '../util/errors.js';
import { clientOptions, connectionOptions, type QueueTarget } from './queue-connection.js';
import { CancelledError, type Executor, type Runner } from './types.js';
import { workerThreadRunner } from './worker-threads.js';

export interface QueueWorkerOptions<J = unknown, R = unknown> {
  target: QueueTarget;
  /** Checks, describes and (on worker threads) runs the jobs. */
  executor: Executor<J, R>;
  /** Jobs run at once (one worker thread each). */
  concurrency: number;
  /**
   * Seconds a job's lock lasts without renewal (BullMQ lockDuration); a worker that stops renewing (killed, frozen,
   * cut off) loses its job to another worker after about 1.5× this. Default 30.
   */
  lockSeconds?: number;
  /** Name shown in the queue's status (default host:pid). */
  name?: string;
  /** This machine's dataset folder, used instead of the folder a job names (the executor's `relocate`; trainings still check the data's fingerprint). */
  dataDir?: string;
  /** Runs the jobs (default: `concurrency` worker threads, restarted if one crashes). Must keep the event loop free. */
  runner?: Runner<J, R>;
  log?: (m: string) => void;
}

export interface WorkerRecord {
  name: string;
  host: string;
  pid: number;
  concurrency: number;
  started: string;
  /** ISO time of the last heartbeat. */
  seen: string;
  state: 'running' | 'stopped';
  running: string[];
  done: number;
  failed: number;
  handedBack: number;
}

export interface QueueWorker {
  readonly name: string;
  readonly record: WorkerRecord;
  /** Stops taking jobs, hands running jobs back to the queue, closes everything. */
  stop(): Promise<void>;
}

/** Hash next to the queue's keys holding one WorkerRecord per worker name (job ids start with their kind, so no clash). */
export function workersKey(queueName: string): string {
  return `bull:${queueName}:robot-nas-workers`;
}

/** How often a worker records itself. */
export const HEARTBEAT_MS = 5000;

/** Worker threads, replaced by fresh ones after a thread crash (the thread runner refuses all work once one dies). */
function resilientThreads<J, R>(size: number, executor: Executor<J, R>): Runner<J, R> {
  let current = workerThreadRunner(size, executor);
  return {
    capacity: size,
    label: `${size} worker thread${size > 1 ? 's' : ''}`,
    async run(job, opts) {
      const r = current;
      try {
        return await r.run(job, opts);
      } catch (e) {
        if (e instanceof Error && /^worker thread \d+ (crashed|exited unexpectedly)/.test(e.message) && r === current) {
          current = workerThreadRunner(size, executor);
          void r.close();
        }
        throw e;
      }
    },
    close: () => current.close(),
  };
}

export async function startQueueWorker<J, R>(o: QueueWorkerOptions<J, R>): Promise<QueueWorker> {
  const { target, executor } = o;
  const log = o.log ?? (() => undefined);
  const name = o.name ?? `${hostname()}:${process.pid}`;
  const runner = o.runner ?? resilientThreads(o.concurrency, executor);
  const lockDuration = Math.round((o.lockSeconds ?? 30) * 1000);
  const running = new Map<string, { ctl: AbortController; label: string }>();
  let stopping = false;
  const record: WorkerRecord = {
    name,
    host: hostname(),
    pid: process.pid,
    concurrency: o.concurrency,
    started: new Date().toISOString(),
    seen: new Date().toISOString(),
    state: 'running',
    running: [],
    done: 0,
    failed: 0,
    handedBack: 0,
  };

  const withDataDir = (job: J): J => (o.dataDir === undefined || executor.relocate === undefined ? job : executor.relocate(job, o.dataDir));

  const processor = async (bjob: BullJob, token?: string): Promise<R> => {
    const id = bjob.id ?? '?';
    let job: J;
    try {
      job = executor.check(bjob.data);
    } catch (e) {
      record.failed++;
      throw new UnrecoverableError(`InputError: ${(e as Error).message} (worker ${name})`);
    }
    const label = executor.label(job);
    const ctl = new AbortController();
    const handBack = async (): Promise<never> => {
      await bjob.moveToWait(token);
      record.handedBack++;
      log(`handed back ${label}`);
      throw new WaitingError();
    };
    if (stopping) return handBack();
    running.set(id, { ctl, label });
    record.running = [...running.values()].map((r) => r.label);
    const t0 = performance.now();
    log(`start ${label}${bjob.attemptsStarted > 1 ? ` (run ${bjob.attemptsStarted})` : ''}`);
    let lastProgress = 0;
    try {
      const result = await runner.run(withDataDir(job), {
        signal: ctl.signal,
        onEvent: (e) => {
          // a few updates a second are enough for a progress bar, and keep Redis traffic small
          if (e.type !== 'progress') return;
          const now = performance.now();
          if (now - lastProgress < 250 && e.step < e.steps) return;
          lastProgress = now;
          bjob.updateProgress({ step: e.step, steps: e.steps, loss: Number.isFinite(e.loss) ? e.loss : null }).catch(() => undefined);
        },
      });
      record.done++;
      const summary = executor.summary?.(job, result) ?? '';
      log(`done  ${label}${summary !== '' ? `  ${summary}` : ''}  ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return result;
    } catch (e) {
      if (stopping && (e instanceof CancelledError || ctl.signal.aborted)) return handBack();
      record.failed++;
      const err = e instanceof Error ? e : new Error(String(e));
      if (err instanceof InputError) {
        log(`failed ${label}: ${err.message} (not retried: the same job fails the same way anywhere)`);
        throw new UnrecoverableError(`${err.name === 'DataMismatchError' ? 'DataMismatchError' : 'InputError'}: ${err.message} (worker ${name})`);
      }
      log(`failed ${label}: ${err.message} (run ${bjob.attemptsStarted} of ${bjob.opts.attempts ?? 1}; BullMQ retries it with backoff)`);
      throw err;
    } finally {
      running.delete(id);
      record.running = [...running.values()].map((r) => r.label);
      // `queue status` then shows the finished job at once, not at the next periodic heartbeat
      void heartbeat().catch(() => undefined);
    }
  };

  const worker = new Worker(target.name, processor, {
    connection: connectionOptions(target),
    concurrency: o.concurrency,
    name,
    // The processor runs on worker threads, so the event loop renews locks on time even while every core trains:
    // a lock is lost only by a worker that is gone. lockDuration is then a detection delay, not a CPU budget —
    // 30 s rides out short network or Redis hiccups (renewal every 15 s) while handing a dead worker's job on
    // within ~45 s. The stalled check runs every half lock, and a job may stall twice (two workers killed under
    // it) before it is failed, so a job that kills every worker it lands on (out of memory) cannot loop forever.
    lockDuration,
    stalledInterval: Math.max(500, Math.round(lockDuration / 2)),
    maxStalledCount: 2,
    autorun: false,
  });

  let offline = false;
  const lostJobs = new Set<string>();
  worker.on('error', (e: Error & { code?: string }) => {
    const conn = /ECONNREFUSED|ECONNRESET|Connection is closed|ETIMEDOUT|EPIPE/.test(`${e.code ?? ''} ${e.message}`);
    if (conn) {
      if (!offline) log(`lost the connection to Redis at ${target.shown} (${e.code ?? e.message}); waiting for it to come back`);
      offline = true;
      return;
    }
    // the job's entry vanished (Redis restarted without its data) or its lock passed to another worker: the result
    // cannot be saved here; the coordinator resubmits a vanished job, and a taken-over one is run by its new worker
    const lost = /(?:Missing key|Lock mismatch|Missing lock|could not renew lock) for job (\S+?)\.?(?:\s|$)/.exec(e.message);
    if (lost) {
      if (!lostJobs.has(lost[1])) log(`job ${lost[1].slice(0, 14)}…: its queue entry is gone or belongs to another worker now (Redis restarted, or its lock expired); this run's result is dropped`);
      lostJobs.add(lost[1]);
      return;
    }
    log(`queue: ${e.message}`);
  });
  worker.on('stalled', (jobId: string) => log(`job ${jobId.slice(0, 14)}… lost its worker (stalled); it is back in the queue`));

  // heartbeat: a separate client, so a busy worker connection never delays it
  const beat = new Redis(target.url, clientOptions());
  beat.on('error', () => undefined);
  const heartbeat = async (): Promise<void> => {
    record.seen = new Date().toISOString();
    record.running = [...running.values()].map((r) => r.label);
    await beat.hset(workersKey(target.name), name, JSON.stringify(record));
    if (offline) log(`reconnected to Redis at ${target.shown}`);
    offline = false;
  };
  let beating = false;
  const beatTimer = setInterval(() => {
    if (beating) return;
    beating = true;
    heartbeat()
      .catch(() => undefined)
      .finally(() => {
        beating = false;
      });
  }, HEARTBEAT_MS);
  await heartbeat();
  await worker.waitUntilReady();
  void worker.run().catch((e: unknown) => log(`queue: ${(e as Error).message}`));

  let stopped: Promise<void> | undefined;
  return {
    name,
    record,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        const closing = worker.close();
        for (const r of running.values()) r.ctl.abort();
        // A clean close hands the running jobs back, which needs Redis. When it does not come within the lock
        // timeout (Redis away), the connections are cut: the jobs' locks lapse and the queue gives them to another
        // worker, so nothing is lost, and the worker stops on one signal instead of waiting for ever.
        const clean = await Promise.race([closing.then(() => true), sleep(lockDuration, false, { ref: false })]);
        if (!clean) {
          log(`could not reach Redis at ${target.shown} within the lock timeout (${lockDuration / 1000} s): stopping without handing jobs back (their locks lapse and another worker takes them)`);
          await Promise.race([worker.disconnect().catch(() => undefined), sleep(1000, undefined, { ref: false })]);
        }
        await runner.close();
        clearInterval(beatTimer);
        record.state = 'stopped';
        if (clean) await Promise.race([heartbeat().catch(() => undefined), sleep(2000, undefined, { ref: false })]);
        beat.disconnect();
      })();
      return stopped;
    },
  };
}
