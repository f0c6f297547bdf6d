/**
 * Worker-thread entry of the job pool (pool.ts): runs jobs one at a time. Each worker has its own tfjs wasm
 * engine and dataset cache (module state is per thread), initialised by its first job.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BackendName } from '../nn/backend.js';
import { InputError } from '../util/errors.js';
import { runProxyJob } from './job.js';
import type { WorkerReply, WorkerRequest } from './pool.js';

const port = parentPort;
if (port === null) throw new Error('proxies/worker.js must run in a worker thread');
const backend = ((workerData as { backend?: BackendName } | undefined)?.backend ?? 'wasm') as BackendName;

port.on('message', (msg: WorkerRequest) => {
  runProxyJob(msg.job, backend).then(
    (result) => port.postMessage({ id: msg.id, ok: true, result } satisfies WorkerReply),
    (err: unknown) =>
      port.postMessage({
        id: msg.id,
        ok: false,
        message: err instanceof Error ? err.message : String(err),
        input: err instanceof InputError,
        stack: err instanceof Error ? err.stack : undefined,
      } satisfies WorkerReply),
  );
});
