/**
 * Worker-thread entry of the worker-thread runner: runs the jobs it is sent, one at a time, with its own engine
 * and data caches (module state is per thread), and posts their events and results back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BackendName } from '../nn/backend.js';
import { InputError } from '../util/errors.js';
import { executeJob } from './jobs.js';
import type { FromWorker, ToWorker } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('runner/worker.js must run in a worker thread');
const backend = ((workerData as { backend?: BackendName } | undefined)?.backend ?? 'wasm') as BackendName;
const running = new Map<number, AbortController>();

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'cancel') {
    running.get(msg.id)?.abort();
    return;
  }
  const ctl = new AbortController();
  running.set(msg.id, ctl);
  const post = (m: FromWorker): void => port.postMessage(m);
  executeJob(msg.job, backend, (event) => post({ type: 'event', id: msg.id, event }), ctl.signal)
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
