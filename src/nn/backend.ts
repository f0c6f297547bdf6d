import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import { InputError } from '../util/errors.js';
import { registerProjectGradients } from './grads.js';
import { initEngine, type EngineInfo, type EngineOptions } from './engine/kernels.js';
import { registerDartsKernels, registerWasmKernels } from './tfjs-kernels.js';

/** Engines the metrics can run on. `wasm` is the default; `cpu` is a slow reference; `tensorflow` needs tfjs-node. */
export type BackendName = 'wasm' | 'cpu' | 'tensorflow';
export const BACKEND_NAMES: readonly BackendName[] = ['wasm', 'cpu', 'tensorflow'];

/** What the engine turned out to be on this machine (printed by the CLI and the bench). */
export interface BackendInfo {
  name: BackendName;
  /** wasm only: whether tfjs's SIMD binary is used (the tape engine's convolutions). */
  simd: boolean;
  /** Threads the project's kernels (nn/engine) run on. */
  threads: number;
  /** The project's kernels: `native` (the addon built for this machine) or `wasm`. */
  engine: EngineInfo;
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;
let pendingName: BackendName | undefined;

/**
 * Selects and initialises a tfjs backend once per process (tfjs keeps a single global engine), registers the
 * project's kernels (wasm) and gradients (all backends), sets up the project's engine (nn/engine: the kernels the
 * autodiff and training run on, with `opts` choosing its kind and threads), and returns what was found.
 * Re-initialising with another name switches the global backend.
 *
 * Threads: tfjs-backend-wasm 4.22 disables its own threads in Node; the project's engine splits every kernel over
 * its own pool (worker threads on a shared memory, or the native addon's threads): by default every core on the
 * main thread and one thread inside a worker (scoring pools run one worker per core).
 */
export async function initBackend(name: BackendName = 'wasm', opts: EngineOptions = {}): Promise<BackendInfo> {
  if (current?.name === name && tf.getBackend() === backendKey(name)) {
    if (opts.threads !== undefined || opts.kind !== undefined) {
      const engine = initEngine(opts);
      current = { ...current, threads: engine.threads, engine };
    }
    return current;
  }
  if (pending && pendingName === name) return pending;
  pendingName = name;
  pending = doInit(name, opts).finally(() => {
    pending = undefined;
    pendingName = undefined;
  });
  return pending;
}

function backendKey(name: BackendName): string {
  return name;
}

async function doInit(name: BackendName, opts: EngineOptions): Promise<BackendInfo> {
  // PROD silences tfjs's console hints (e.g. the cpu backend's "install tfjs-node" banner) on stdout/stderr.
  tf.env().set('PROD', true);
  registerProjectGradients();
  const engine = initEngine(opts);
  let info: BackendInfo;
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    // The .wasm binaries sit next to the package's JS; in Node emscripten reads them with fs, so a directory
    // path with a trailing separator is the prefix setWasmPaths needs.
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${dist}${sep}`);
    registerWasmKernels();
    await setBackendOrThrow('wasm');
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    info = { name, simd, threads: engine.threads, engine };
  } else if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    await setBackendOrThrow('cpu');
    info = { name, simd: false, threads: engine.threads, engine };
  } else {
    // Optional native engine: never a dependency, so imported by a computed name to keep tsc from resolving it.
    const pkg = '@tensorflow/tfjs-node';
    try {
      await import(pkg);
    } catch (err) {
      // A user's choice that this installation cannot serve: an input error (the CLI prints it, exit 2).
      throw new InputError(
        `backend "tensorflow" needs the optional package ${pkg} (npm install ${pkg}@4.22.0); ` +
          `it could not be loaded: ${(err as Error).message}`,
      );
    }
    await setBackendOrThrow('tensorflow');
    info = { name, simd: false, threads: engine.threads, engine };
  }
  registerDartsKernels();
  current = info;
  return info;
}

async function setBackendOrThrow(key: string): Promise<void> {
  const ok = await tf.setBackend(key);
  await tf.ready();
  if (!ok || tf.getBackend() !== key) throw new Error(`could not initialise the tfjs "${key}" backend`);
}

/** The backend selected by the last `initBackend`, if any. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}
