/**
 * Worker-thread entry of the worker-thread runner: builds the runner's executor here (its module is imported in this
 * thread, so the thread has its own engine and data caches: module state is per thread), runs the jobs it is sent,
 * one at a time, and posts their events and results back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../util/errors.js';
import { executeJob } from './execute.js';
import type { FromWorker, ToWorker } from './protocol.js';
import type { Executor, ThreadExecutor } from './types.js';

const port = parentPort;
if (port === null) throw new Error('runner/worker.js must run in a worker thread');
const { executor: spec, warmUp } = workerData as { executor: ThreadExecutor; warmUp?: boolean };
// Built once (messages wait for it).
const executor: Promise<Executor> = import(spec.module).then((m: Record<string, unknown>) => {
  const make = m[spec.name];
  if (typeof make !== 'function') throw new Error(`${spec.module} has no executor factory '${spec.name}'`);
  return (make as (options: unknown) => Executor)(spec.options);
});
// a prestarted thread loads what its jobs need now, while the caller still prepares them
if (warmUp) void executor.then((ex) => ex.warmUp?.()).catch(() => undefined);
const running = new Map<number, AbortController>();

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'cancel') {
    running.get(msg.id)?.abort();
    return;
  }
  const ctl = new AbortController();
  running.set(msg.id, ctl);
  const post = (m: FromWorker): void => port.postMessage(m);
  executor
    .then((ex) => executeJob(ex, msg.job, (event) => post({ type: 'event', id: msg.id, event }), ctl.signal))
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
