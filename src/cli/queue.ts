import { Command } from 'commander';
import { jobExecutor, type Job, type JobResult } from '../jobs/index.js';
import type { QueueRunner, QueueRunnerStats } from '../runner/queue.js';
import { checkRedis, DEFAULT_QUEUE_NAME, DEFAULT_QUEUE_TIMEOUT_SECONDS, parseQueueUrl, type QueueTarget } from '../runner/queue-connection.js';
import { InputError } from '../util/errors.js';
import { parsePositiveInt } from './options.js';

/**
 * `robot-nas queue status --queue redis://HOST:PORT`: what the job queue holds and which workers it has seen; plus
 * the `--queue` / `--queue-name` options shared by `search`, `proxies` and `worker`.
 */

export interface QueueFlags {
  queue?: string;
  queueName?: string;
  queueTimeout?: number;
}

/** Adds `--queue URL` and `--queue-name NAME` to a command. */
export function addQueueOptions(cmd: Command, queueHelp: string): Command {
  return cmd
    .option('--queue <url>', queueHelp)
    .option('--queue-name <name>', `BullMQ queue name, to keep several projects apart on one Redis (default ${DEFAULT_QUEUE_NAME})`);
}

/** Adds `--queue-timeout S` to a command that submits jobs (search, proxies). */
export function addQueueTimeout(cmd: Command): Command {
  return cmd.option(
    '--queue-timeout <seconds>',
    `with --queue: give up (exit 2) after waiting this long with no live worker on the queue or Redis unreachable; the wait is reported every 30 s (default ${DEFAULT_QUEUE_TIMEOUT_SECONDS})`,
    parsePositiveInt,
  );
}

/** The checked queue target of a command's flags (InputError with the fix when Redis is unusable). */
export async function queueTarget(f: QueueFlags): Promise<QueueTarget> {
  if (f.queue === undefined) throw new InputError('--queue: give the Redis URL, e.g. --queue redis://127.0.0.1:6379');
  const t = parseQueueUrl(f.queue, f.queueName ?? DEFAULT_QUEUE_NAME);
  await checkRedis(t);
  return t;
}

/** A queue runner keeping `capacity` jobs in flight; connection news go to `log`. */
export async function cliQueueRunner(f: QueueFlags, capacity: number, setting: string, log: (m: string) => void): Promise<QueueRunner<Job, JobResult>> {
  if (capacity < 1) throw new InputError(`--${setting} 0 runs jobs in this process; with --queue give the number of jobs to keep in flight (≥ 1)`);
  if (f.queueName !== undefined && f.queue === undefined) throw new InputError('--queue-name needs --queue');
  if (f.queueTimeout !== undefined && f.queue === undefined) throw new InputError('--queue-timeout needs --queue');
  const target = await queueTarget(f);
  // BullMQ is loaded only by commands that use the queue
  const { openQueueRunner } = await import('../runner/queue.js');
  return openQueueRunner({ target, capacity, log, executor: jobExecutor(), ...(f.queueTimeout !== undefined ? { timeoutSeconds: f.queueTimeout } : {}) });
}

/** One line on what the queue did for a run: jobs added, answered by earlier runs' results, joined, resubmitted. */
export function queueSummary(s: QueueRunnerStats): string {
  const parts = [`${s.submitted} submitted`, `${s.reused} answered by finished queue entries`, `${s.joined} joined while queued or running`];
  if (s.retried > 0) parts.push(`${s.retried} failed before and retried`);
  if (s.resubmitted > 0) parts.push(`${s.resubmitted} resubmitted after vanishing from Redis`);
  return `queue: ${parts.join(', ')}`;
}

export function register(program: Command): void {
  const queue = program.command('queue').description('inspect the distributed job queue (BullMQ on Redis) that `worker`, `search --queue` and `proxies --queue` share');
  const status = queue
    .command('status')
    .description('job counts (waiting, active, retrying, completed, failed), the workers seen, and the latest failures')
    .option('--json', 'print the status as one JSON object')
    .option('--watch <seconds>', 'print the status again every N seconds until interrupted', parsePositiveInt);
  addQueueOptions(status, 'Redis URL of the queue, e.g. redis://127.0.0.1:6379').action(async (f: QueueFlags & { json?: boolean; watch?: number }) => {
    const t = await queueTarget(f);
    const { formatQueueStatus, queueStatus } = await import('../runner/queue-status.js');
    for (;;) {
      const s = await queueStatus(t);
      process.stdout.write((f.json ? JSON.stringify(s) : formatQueueStatus(s)) + '\n');
      if (f.watch === undefined) return;
      await new Promise((r) => setTimeout(r, f.watch! * 1000));
      if (!f.json) process.stdout.write('\n');
    }
  });
}
