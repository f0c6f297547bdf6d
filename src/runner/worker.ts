/**
 * Worker-thread entry of the worker-thread runner: runs the jobs it is sent, one at a time, with its own engine
 * and data caches (module state is per thread), and posts their events and results back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../util/errors.js';
import type { FromWorker, ToWorker } from './protocol.js';
import type { JobEvent } from './types.js';

const port = parentPort;
if (port === null) throw new Error('runner/worker.js must run in a worker thread');
const data = workerData as { executor?: string } | undefined;
type Execute = (job: unknown, emit: (e: JobEvent) => void, signal?: AbortSignal) => Promise<unknown>;
// The module that runs this runner's jobs, loaded once (messages wait for it): scoring and training by default.
const executor: Promise<Execute> = (data?.executor !== undefined ? import(data.executor) : import('./jobs.js')).then(
  (m: { executeJob: Execute }) => m.executeJob,
);
const running = new Map<number, AbortController>();

port.on('message', (msg: ToWorker<unknown>) => {
  if (msg.type === 'cancel') {
    running.get(msg.id)?.abort();
    return;
  }
  const ctl = new AbortController();
  running.set(msg.id, ctl);
  const post = (m: FromWorker<unknown>): void => port.postMessage(m);
  executor
    .then((executeJob) => executeJob(msg.job, (event) => post({ type: 'event', id: msg.id, event }), ctl.signal))
    .then(
      (result) => post({ type: 'done', id: msg.id, result }),
      (err: unknown) =>
        post({
          type: 'failed',
          id: msg.id,
          message: err instanceof Error ? err.message : String(err),
          input: err instanceof InputError,
          cancelled: ctl.signal.aborted,
          ...(err instanceof Error && err.stack ? { stack: err.stack } : {}),
        }),
    )
    .finally(() => running.delete(msg.id));
});
