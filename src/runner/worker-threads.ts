/**
 * Runs jobs on `size` worker threads, one job per thread at a time; jobs queue until a thread is free. A crashed
 * thread fails the runner (its jobs cannot be trusted to finish). Results equal the in-process runner's: jobs
 * are deterministic, threads only add parallelism.
 */
import { Worker } from 'node:worker_threads';
import { InputError } from '../util/errors.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { CancelledError, type Executor, type RunOptions, type Runner, type ThreadExecutor } from './types.js';

/**
 * A worker thread running worker.js next to this module. When this module or the executor's runs from TypeScript
 * source under tsx (tests, scripts), the thread first registers tsx's loader, through a tiny eval script: in Node 20
 * the main thread's `--import tsx` hooks do not reach a worker's module loading.
 */
function startWorker(executor: ThreadExecutor, warmUp: boolean): Worker {
  const workerData = { executor, warmUp };
  const url = new URL(`./worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);
  if (url.href.endsWith('.ts') || executor.module.endsWith('.ts')) {
    const tsx = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(url, { workerData });
}

interface Pending<J, R> {
  id: number;
  job: J;
  opts: RunOptions;
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

interface Slot<J, R> {
  worker: Worker;
  current?: Pending<J, R>;
}

/**
 * Each thread builds `executor` from its `thread` description and runs its jobs with it. `prestart`: start every
 * thread now rather than at its first job, warming its executor up (`warmUp`), so that their module loading
 * overlaps the caller's own work (a search reading its data).
 */
export function workerThreadRunner<J, R>(size: number, executor: Executor<J, R>, o: { prestart?: boolean } = {}): Runner<J, R> {
  if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`worker count must be a positive integer, got ${size}`);
  const queue: Pending<J, R>[] = [];
  const slots: Slot<J, R>[] = [];
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
  const addWorker = (): Slot<J, R> => {
    const k = slots.length;
    const worker = startWorker(executor.thread, o.prestart === true);
    const slot: Slot<J, R> = { worker };
    worker.on('message', (msg: FromWorker<R>) => {
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
      slot.worker.postMessage({ type: 'run', id: p.id, job: p.job } satisfies ToWorker<J>);
    }
  };

  if (o.prestart) while (slots.length < size) addWorker();

  return {
    capacity: size,
    label: `${size} worker thread${size > 1 ? 's' : ''}`,
    run(job: J, opts: RunOptions = {}) {
      if (failure !== undefined) return Promise.reject(failure);
      if (closed) return Promise.reject(new Error('the runner is closed'));
      return new Promise<R>((resolve, reject) => {
        const p: Pending<J, R> = { id: nextId++, job, opts, resolve, reject };
        opts.signal?.addEventListener(
          'abort',
          () => {
            const qi = queue.indexOf(p);
            if (qi >= 0) {
              queue.splice(qi, 1);
              reject(new CancelledError());
            } else {
              const s = slots.find((x) => x.current === p);
              s?.worker.postMessage({ type: 'cancel', id: p.id } satisfies ToWorker<J>);
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
