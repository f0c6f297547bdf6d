/**
 * Runs proxy jobs in this thread or spread over worker threads. Both runners give identical results for a
 * job (the job is deterministic); the pool only adds parallelism.
 */
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../nn/backend.js';
import { InputError } from '../util/errors.js';
import { runProxyJob, type ProxyJob, type ProxyJobResult } from './job.js';

export interface WorkerRequest {
  id: number;
  job: ProxyJob;
}

export type WorkerReply =
  | { id: number; ok: true; result: ProxyJobResult }
  | { id: number; ok: false; message: string; input: boolean; stack?: string };

export interface JobRunner {
  /** Jobs that can run at once. */
  readonly parallelism: number;
  run(job: ProxyJob): Promise<ProxyJobResult>;
  /** Stops the workers (pending jobs are rejected). */
  close(): Promise<void>;
}

/** Runs jobs one at a time in the calling thread. */
export function inProcessRunner(backend: BackendName = 'wasm'): JobRunner {
  let chain: Promise<unknown> = Promise.resolve();
  return {
    parallelism: 1,
    run(job) {
      // serialised: the metric code is synchronous, but dataset loading is not
      const p = chain.then(() => runProxyJob(job, backend));
      chain = p.catch(() => undefined);
      return p;
    },
    async close() {},
  };
}

/**
 * A worker thread running worker.js next to this module (dist/proxies/worker.js). When this module itself
 * runs from TypeScript source under tsx (e.g. the evidence script), the worker is worker.ts, loaded by a tiny
 * eval script that first registers tsx's loader in the worker: in Node 20 the main thread's `--import tsx`
 * hooks do not reach a worker's module loading.
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
  job: ProxyJob;
  resolve: (r: ProxyJobResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  current?: Pending;
}

/** `size` worker threads; jobs queue until a worker is free. A crashed worker fails the pool. */
export function workerPoolRunner(size: number, backend: BackendName = 'wasm'): JobRunner {
  if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`worker count must be a positive integer, got ${size}`);
  const queue: Pending[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let failure: Error | undefined;
  let closed = false;

  const fail = (err: Error): void => {
    if (failure === undefined) failure = err;
    for (const p of queue.splice(0)) p.reject(err);
    for (const s of slots) {
      s.current?.reject(err);
      s.current = undefined;
    }
    for (const s of slots) void s.worker.terminate();
  };

  const dispatch = (): void => {
    for (const s of slots) {
      if (s.current !== undefined || queue.length === 0) continue;
      const p = queue.shift()!;
      s.current = p;
      s.worker.postMessage({ id: p.id, job: p.job } satisfies WorkerRequest);
    }
  };

  for (let k = 0; k < size; k++) {
    const worker = startWorker(backend);
    const slot: Slot = { worker };
    worker.on('message', (msg: WorkerReply) => {
      const p = slot.current;
      if (p === undefined || p.id !== msg.id) return;
      slot.current = undefined;
      if (msg.ok) p.resolve(msg.result);
      else {
        const err = msg.input ? new InputError(msg.message) : new Error(msg.message);
        if (!msg.input && msg.stack) err.stack = msg.stack;
        p.reject(err);
      }
      dispatch();
    });
    worker.on('error', (err) => fail(new Error(`proxy worker ${k + 1} crashed: ${err.message}`)));
    worker.on('exit', (code) => {
      if (!closed) fail(new Error(`proxy worker ${k + 1} exited unexpectedly (code ${code})`));
    });
    slots.push(slot);
  }

  return {
    parallelism: size,
    run(job) {
      if (failure !== undefined) return Promise.reject(failure);
      if (closed) return Promise.reject(new Error('the worker pool is closed'));
      return new Promise<ProxyJobResult>((resolve, reject) => {
        queue.push({ id: nextId++, job, resolve, reject });
        dispatch();
      });
    },
    async close() {
      closed = true;
      const err = new Error('the worker pool was closed');
      for (const p of queue.splice(0)) p.reject(err);
      for (const s of slots) {
        s.current?.reject(err);
        s.current = undefined;
      }
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
