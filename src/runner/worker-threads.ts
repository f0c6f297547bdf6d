/**
 * Runs jobs on `size` worker threads, one job per thread at a time; jobs queue until a thread is free. A crashed
 * thread fails the runner (its jobs cannot be trusted to finish). Results equal the in-process runner's: jobs
 * are deterministic, threads only add parallelism.
 */
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../nn/backend.js';
import { InputError } from '../util/errors.js';
import type { Job, JobResult } from './jobs.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { CancelledError, type RunOptions, type Runner } from './types.js';

/**
 * A worker thread running worker.js next to this module. When this module runs from TypeScript source under
 * tsx (tests, scripts), the worker is worker.ts, loaded by a tiny eval script that first registers tsx's loader
 * in the worker: in Node 20 the main thread's `--import tsx` hooks do not reach a worker's module loading.
 */
function startWorker(backend: BackendName): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const url = new URL('./worker.ts', import.meta.url).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
    return new Worker(code, { eval: true, workerData: { backend } });
  }
  return new Worker(new URL('./worker.js', import.meta.url), { workerData: { backend } });
}

interface Pending {
  id: number;
  job: Job;
  opts: RunOptions;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  current?: Pending;
}

export function workerThreadRunner(size: number, backend: BackendName = 'wasm'): Runner<Job, JobResult> {
  if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`worker count must be a positive integer, got ${size}`);
  const queue: Pending[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let failure: Error | undefined;
  let closed = false;

  const rejectAll = (err: Error): void => {
    for (const p of queue.splice(0)) p.reject(err);
    for (const s of slots) {
      s.current?.reject(err);
      s.current = undefined;
    }
  };
  const fail = (err: Error): void => {
    if (failure === undefined) failure = err;
    rejectAll(err);
    for (const s of slots) void s.worker.terminate();
  };

  /** Starts one more thread (threads start on demand, so an idle runner costs nothing). */
  const addWorker = (): Slot => {
    const k = slots.length;
    const worker = startWorker(backend);
    const slot: Slot = { worker };
    worker.on('message', (msg: FromWorker) => {
      const p = slot.current;
      if (p === undefined || p.id !== msg.id) return;
      if (msg.type === 'event') {
        p.opts.onEvent?.(msg.event);
        return;
      }
      slot.current = undefined;
      if (msg.type === 'done') p.resolve(msg.result);
      else {
        const err = msg.cancelled ? new CancelledError() : msg.input ? new InputError(msg.message) : new Error(msg.message);
        if (!msg.input && msg.stack) err.stack = msg.stack;
        p.reject(err);
      }
      dispatch();
    });
    worker.on('error', (err) => fail(new Error(`worker thread ${k + 1} crashed: ${err.message}`)));
    worker.on('exit', (code) => {
      if (!closed) fail(new Error(`worker thread ${k + 1} exited unexpectedly (code ${code})`));
    });
    slots.push(slot);
    return slot;
  };

  const dispatch = (): void => {
    while (queue.length > 0) {
      const p = queue.shift()!;
      if (p.opts.signal?.aborted) {
        p.reject(new CancelledError());
        continue;
      }
      const slot = slots.find((s) => s.current === undefined) ?? (slots.length < size ? addWorker() : undefined);
      if (slot === undefined) {
        queue.unshift(p);
        return;
      }
      slot.current = p;
      slot.worker.postMessage({ type: 'run', id: p.id, job: p.job } satisfies ToWorker);
    }
  };

  return {
    capacity: size,
    label: `${size} worker thread${size > 1 ? 's' : ''}`,
    run(job: Job, opts: RunOptions = {}) {
      if (failure !== undefined) return Promise.reject(failure);
      if (closed) return Promise.reject(new Error('the runner is closed'));
      return new Promise<JobResult>((resolve, reject) => {
        const p: Pending = { id: nextId++, job, opts, resolve, reject };
        opts.signal?.addEventListener(
          'abort',
          () => {
            const qi = queue.indexOf(p);
            if (qi >= 0) {
              queue.splice(qi, 1);
              reject(new CancelledError());
            } else {
              const s = slots.find((x) => x.current === p);
              s?.worker.postMessage({ type: 'cancel', id: p.id } satisfies ToWorker);
            }
          },
          { once: true },
        );
        queue.push(p);
        dispatch();
      });
    },
    async close() {
      closed = true;
      rejectAll(new Error('the runner was closed'));
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
