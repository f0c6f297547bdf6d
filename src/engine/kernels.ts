import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isMainThread, Worker } from 'node:worker_threads';
import { InputError } from '../util/errors.js';
import { Heap } from './memory.js';

/**
 * The one loader of the engine's kernels (native/kernels/*.c), in one of two kernel backends: `native`, the addon
 * built by node-gyp when it is there (build/Release/robot_nas_native.node, compiled for this machine), else `wasm`,
 * the committed WebAssembly build (native/kernels.wasm). Both run the same C source on the same shared memory and give
 * the same bits, and both split a kernel's tasks over a pool of threads: the addon with its own pthreads, the
 * WebAssembly backend with worker threads that each instantiate the module on the shared memory and pick tasks with
 * Atomics.
 *
 * Kernel ids are positions in KERNEL_NAMES, which must list native/kernels/kernels.h's KERNEL_LIST in order (a test
 * compares them).
 */
export const KERNEL_NAMES = [
  'pad_copy',
  'pack_filter',
  'conv_rows',
  'conv_wgrad',
  'reduce_partials',
  'chan_sum',
  'chan_sqdev',
  'chan_dot',
  'chan_affine',
  'chan_affine2',
  'bn_out',
  'ew_add',
  'ew_addn',
  'ew_relu',
  'ew_mask',
  'ew_scale',
  'avgpool_fwd',
  'avgpool_bwd',
  'gap_fwd',
  'gap_bwd',
  'linear_fwd',
  'linear_bwd_input',
  'linear_bwd_weight',
  'dot_f64',
  'sample_chan_dot',
  'dw_fwd',
  'dw_bwd_input',
  'dw_wgrad',
  'dw_wgrad_f32',
  'maxpool_fwd',
  'maxpool_bwd',
  'gather_idx',
  'chan_copy',
  'crop',
  'ew_act',
  'nc_scale',
] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];
const KID = new Map<string, number>(KERNEL_NAMES.map((n, i) => [n, i]));

/** How the kernels run: the native addon, or the WebAssembly build. */
export type KernelBackend = 'native' | 'wasm';

export interface EngineOptions {
  /** Kernel backend: 'native' (the addon; an error if it is not built), 'wasm', or 'auto' (native when built, else wasm). */
  backend?: KernelBackend | 'auto';
  /** Threads one kernel is split over (≥ 1). */
  threads?: number;
}

export interface EngineInfo {
  backend: KernelBackend;
  threads: number;
  /** Vector width of the kernels in floats (4: WebAssembly SIMD; 16: native). */
  vectorWidth: number;
}

/** Package root: this file is src/engine/kernels.ts or dist/engine/kernels.js, two levels down either way. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WASM_PATH = `${ROOT}native/kernels.wasm`;
export const NATIVE_PATH = `${ROOT}build/Release/robot_nas_native.node`;

/** Bytes of the argument block (words) and the thread pool's control block. */
const ARG_WORDS = 4096;
/** Fields in the first 16 words, then one ticket per thread, each on its own 64-byte line. */
const CTL_WORDS = 16 + 16 * 16;
const WORKER_STACK = 256 * 1024;
/** Most threads one kernel is split over. */
const MAX_THREADS = 16;
/** Spins before a waiting thread sleeps (≈ 50–100 µs): kernels of one pass follow each other closely. */
const SPINS = 20000;

interface Backend {
  run(id: number, args: number, tasks: number, grain: number, parallel: boolean): void;
  setThreads(n: number): void;
}

export class Engine {
  readonly heap: Heap;
  readonly info: EngineInfo;
  /** Byte offset of the argument block. */
  private readonly argPtr: number;
  private readonly backend: Backend;
  private argF32: Float32Array;

  private constructor(heap: Heap, argPtr: number, backend: Backend, info: EngineInfo) {
    this.heap = heap;
    this.argPtr = argPtr;
    this.backend = backend;
    this.info = info;
    this.argF32 = new Float32Array(1);
  }

  static create(opts: EngineOptions = {}): Engine {
    const requested = opts.threads ?? defaultThreads();
    if (!Number.isInteger(requested) || requested < 1) throw new InputError(`engine threads must be an integer >= 1, got ${requested}`);
    const threads = Math.min(requested, MAX_THREADS);
    const want = opts.backend ?? envBackend();
    if (want !== 'wasm') {
      const addon = loadNative(want === 'native');
      if (addon !== null) return Engine.native(addon, threads);
    }
    return Engine.wasm(threads);
  }

  private static native(addon: NativeAddon, threads: number): Engine {
    const heap = new Heap(16 << 20, 64);
    const ctl = heap.allocStatic(ARG_WORDS * 4);
    addon.bind(new Uint8Array(heap.memory.buffer, 0, 64));
    addon.setThreads(threads);
    const backend: Backend = {
      run: (id, args, tasks, grain, parallel) => addon.run(id, args, tasks, grain, parallel ? 1 : 0),
      setThreads: (n) => addon.setThreads(n),
    };
    return new Engine(heap, ctl, backend, { backend: 'native', threads, vectorWidth: addon.vectorWidth() });
  }

  private static wasm(threads: number): Engine {
    const module = new WebAssembly.Module(readFileSync(WASM_PATH));
    // The module's own stack (for the main thread) sits below __heap_base; the allocator starts above it.
    const probe = new WebAssembly.Instance(module, { env: { memory: new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true }) } });
    const heapBase = (probe.exports.__heap_base as WebAssembly.Global).value as number;
    const heap = new Heap(16 << 20, heapBase);
    const inst = new WebAssembly.Instance(module, { env: { memory: heap.memory } });
    const dispatch = inst.exports.dispatch as (id: number, args: number, t0: number, t1: number) => void;
    const count = (inst.exports.kernel_count as () => number)();
    if (count !== KERNEL_NAMES.length) throw new Error(`native/kernels.wasm has ${count} kernels, the loader knows ${KERNEL_NAMES.length}: rebuild it`);
    const argPtr = heap.allocStatic(ARG_WORDS * 4);
    const ctlPtr = heap.allocStatic(CTL_WORDS * 4);
    const stacks = heap.allocStatic((MAX_THREADS - 1) * WORKER_STACK);
    const pool = new WasmPool(module, heap, ctlPtr, stacks, dispatch);
    pool.setThreads(threads);
    return new Engine(heap, argPtr, pool, { backend: 'wasm', threads, vectorWidth: 4 });
  }

  /** Changes the number of threads kernels are split over. */
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new InputError(`engine threads must be an integer >= 1, got ${n}`);
    const t = Math.min(n, MAX_THREADS);
    this.backend.setThreads(t);
    (this.info as { threads: number }).threads = t;
  }

  /**
   * Runs kernel `name` on tasks [0, tasks) with the given argument words (integers; floats via `f32`). Tasks are
   * handed out `grain` at a time; `parallel` false keeps a small job on the calling thread.
   */
  run(name: KernelName, args: readonly number[], tasks: number, opts: { grain?: number; parallel?: boolean } = {}): void {
    if (tasks <= 0) return;
    if (args.length > ARG_WORDS) throw new Error(`kernel ${name}: too many arguments`);
    const i32 = this.heap.I32;
    const base = this.argPtr >> 2;
    for (let i = 0; i < args.length; i++) i32[base + i] = args[i];
    const threads = this.info.threads;
    const parallel = (opts.parallel ?? true) && threads > 1 && tasks > 1;
    const grain = opts.grain ?? Math.max(1, Math.floor(tasks / (threads * 8)));
    this.backend.run(KID.get(name)!, this.argPtr, tasks, grain, parallel);
  }

  /** A float's bits as an argument word. */
  f32(v: number): number {
    this.argF32[0] = v;
    return new Int32Array(this.argF32.buffer)[0];
  }

  /** Writes int32 words into engine memory at byte offset p (tap lists, pointer lists). */
  writeI32(p: number, words: ArrayLike<number>): void {
    this.heap.I32.set(words, p >> 2);
  }
}

/** Threads by default: every core on the main thread, one in a worker thread (scoring pools run one per core). */
function defaultThreads(): number {
  const env = process.env.ROBOT_NAS_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new InputError(`ROBOT_NAS_THREADS must be an integer >= 1, got '${env}'`);
    return n;
  }
  return isMainThread ? Math.max(1, Math.min(availableParallelism(), 8)) : 1;
}

/** The kernel backend the environment asks for: ROBOT_NAS_KERNELS, or its former name ROBOT_NAS_ENGINE. */
function envBackend(): KernelBackend | 'auto' {
  const name = process.env.ROBOT_NAS_KERNELS ? 'ROBOT_NAS_KERNELS' : 'ROBOT_NAS_ENGINE';
  const v = process.env[name];
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === 'native' || v === 'wasm') return v;
  throw new InputError(`${name} must be native, wasm or auto, got '${v}'`);
}

interface NativeAddon {
  bind(view: Uint8Array): void;
  setThreads(n: number): void;
  run(id: number, args: number, tasks: number, grain: number, parallel: number): void;
  vectorWidth(): number;
  kernelCount(): number;
}

let nativeError: string | undefined;

/** The addon, or null when it is not built (required: an InputError saying why). */
function loadNative(required: boolean): NativeAddon | null {
  if (!existsSync(NATIVE_PATH)) {
    nativeError = `${NATIVE_PATH} is not built (npm run build:native)`;
  } else {
    try {
      const addon = createRequire(import.meta.url)(NATIVE_PATH) as NativeAddon;
      const count = addon.kernelCount();
      if (count !== KERNEL_NAMES.length) throw new Error(`it has ${count} kernels, the loader knows ${KERNEL_NAMES.length}: rebuild it`);
      return addon;
    } catch (err) {
      nativeError = `${NATIVE_PATH} could not be loaded: ${(err as Error).message}`;
    }
  }
  if (required) throw new InputError(`native kernels: ${nativeError}`);
  return null;
}

/**
 * Why the WebAssembly kernels stand in for the native ones in this process: the addon is missing or failed to load
 * while the backend is chosen automatically. Undefined when the native kernels load, or when wasm was asked for.
 * Checks without creating the engine (loading the addon starts no threads).
 */
export function kernelFallbackReason(): string | undefined {
  if (engine !== undefined) return engine.info.backend === 'wasm' ? nativeError : undefined;
  if (envBackend() !== 'auto') return undefined;
  return loadNative(false) === null ? nativeError : undefined;
}

/**
 * Worker threads on the shared memory.
 *
 * Control words: 0 generation (workers sleep on it), 1 kernel id, 2 args, 3 tasks, 5 tasks finished, 6 grain,
 * 7 workers taking part (worker i takes part iff i < word 7), 8 task offset, 9 parts; word 16 + 16·k is thread k's
 * ticket (generation << 16 | next task of its segment [k·tasks/parts, (k+1)·tasks/parts); the caller is thread 0).
 * A thread claims tasks by a compare-and-swap of a ticket, first from its own segment, then from the others', as the
 * native pool does: thread k runs the same images of consecutive kernels, whose data are then still in its cache. A
 * worker that wakes late, or read the fields of a newer job, fails the swap and goes back to waiting, so the caller
 * never waits for a sleeping worker, only for tasks that were claimed.
 */
class WasmPool implements Backend {
  private readonly workers: Worker[] = [];
  private readonly ctl: Int32Array;
  private active = 0;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly heap: Heap,
    private readonly ctlPtr: number,
    private readonly stacks: number,
    private readonly dispatch: (id: number, args: number, t0: number, t1: number) => void,
  ) {
    this.ctl = new Int32Array(heap.memory.buffer, ctlPtr, CTL_WORDS);
  }

  setThreads(n: number): void {
    const want = Math.min(n, MAX_THREADS) - 1;
    while (this.workers.length < want) {
      const i = this.workers.length;
      const stackTop = this.stacks + (i + 1) * WORKER_STACK;
      const w = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: this.module, memory: this.heap.memory, ctl: this.ctlPtr, stackTop, spins: SPINS, index: i },
      });
      w.unref();
      this.workers.push(w);
    }
    this.active = want;
    Atomics.store(this.ctl, 7, want);
  }

  run(id: number, args: number, tasks: number, grain: number, parallel: boolean): void {
    if (!parallel || this.active === 0) {
      this.dispatch(id, args, 0, tasks);
      return;
    }
    // A ticket holds 16 bits of task index: larger jobs go in slices.
    for (let t0 = 0; t0 < tasks; t0 += 0xfffe) this.job(id, args, Math.min(0xfffe, tasks - t0), t0, grain);
  }

  private job(id: number, args: number, tasks: number, offset: number, grain: number): void {
    const c = this.ctl;
    const gen = (Atomics.load(c, 0) + 1) & 0xffff;
    const key = gen << 16;
    const parts = Math.min(this.active + 1, tasks);
    // Close the tickets under the new generation first: from here no thread can claim a task with an older key, so
    // nobody reads the fields below while they change.
    for (let k = 0; k <= this.active; k++) Atomics.store(c, 16 + 16 * k, key | 0xffff);
    c[1] = id;
    c[2] = args;
    c[3] = tasks;
    c[6] = grain;
    c[8] = offset;
    c[9] = parts;
    Atomics.store(c, 5, 0);
    for (let k = 0; k < parts; k++) Atomics.store(c, 16 + 16 * k, key | Math.floor((k * tasks) / parts));
    Atomics.store(c, 0, gen);
    Atomics.notify(c, 0);
    for (let d = 0; d < parts; d++) {
      const w = 16 + 16 * d;
      const end = Math.floor(((d + 1) * tasks) / parts);
      for (;;) {
        const cur = Atomics.load(c, w);
        const t = cur & 0xffff;
        if ((cur & ~0xffff) !== key || t >= end) break;
        const e = Math.min(end, t + grain);
        if (Atomics.compareExchange(c, w, cur, key | e) !== cur) continue;
        this.dispatch(id, args, offset + t, offset + e);
        Atomics.add(c, 5, e - t);
      }
    }
    let spins = 0;
    for (let d = Atomics.load(c, 5); d < tasks; d = Atomics.load(c, 5)) {
      if (++spins > 1000) Atomics.wait(c, 5, d, 0.2);
    }
  }
}

/** The worker's loop (CommonJS, evaluated): wait for a new generation, claim tasks while its tickets are current. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctl, stackTop, spins, index } = workerData;
const inst = new WebAssembly.Instance(module, { env: { memory } });
inst.exports.__stack_pointer.value = stackTop;
const dispatch = inst.exports.dispatch;
const c = new Int32Array(memory.buffer, ctl, ${CTL_WORDS});
const self = index + 1;
let seen = Atomics.load(c, 0);
for (;;) {
  let g = Atomics.load(c, 0);
  for (let s = 0; g === seen; g = Atomics.load(c, 0)) {
    if (++s > spins) { Atomics.wait(c, 0, seen); s = 0; }
  }
  seen = g;
  if (index >= Atomics.load(c, 7)) continue;
  const id = c[1], args = c[2], tasks = c[3], grain = c[6], offset = c[8], parts = c[9];
  if (self >= parts) continue;
  const key = g << 16;
  drain: for (let d = 0; d < parts; d++) {
    const j = (self + d) % parts;
    const w = 16 + 16 * j;
    const end = Math.floor(((j + 1) * tasks) / parts);
    for (;;) {
      const cur = Atomics.load(c, w);
      const t = cur & 0xffff;
      if ((cur & ~0xffff) !== key) break drain;
      if (t >= end) break;
      const e = Math.min(end, t + grain);
      if (Atomics.compareExchange(c, w, cur, key | e) !== cur) continue;
      dispatch(id, args, offset + t, offset + e);
      Atomics.add(c, 5, e - t);
      Atomics.notify(c, 5);
    }
  }
}
`;

let engine: Engine | undefined;

/** The process's engine (created on first use with the environment's settings, or by `initEngine`). */
export function getEngine(): Engine {
  if (engine === undefined) engine = Engine.create();
  return engine;
}

/** Creates (or reconfigures) the engine. Changing its kernel backend after tensors exist is not supported. */
export function initEngine(opts: EngineOptions = {}): EngineInfo {
  if (engine === undefined) {
    engine = Engine.create(opts);
  } else {
    if (opts.backend !== undefined && opts.backend !== 'auto' && opts.backend !== engine.info.backend) {
      if (engine.heap.liveBlocks > 0) throw new Error('initEngine: cannot switch kernel backends while tensors are alive');
      engine = Engine.create(opts);
    } else if (opts.threads !== undefined && opts.threads !== engine.info.threads) {
      engine.setThreads(opts.threads);
    }
  }
  return engine.info;
}
