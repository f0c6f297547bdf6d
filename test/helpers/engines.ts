/** Test helper: the kernel backends this machine can run (wasm always; native when the addon is built). */
import { existsSync } from 'node:fs';
import { initEngine, NATIVE_PATH, type KernelBackend } from '../../src/engine/kernels.js';

export const KERNEL_BACKENDS: KernelBackend[] = existsSync(NATIVE_PATH) ? ['wasm', 'native'] : ['wasm'];

/** Runs fn with the engine on each kernel backend and thread count (no engine tensor may outlive one call). */
export function forEachBackend(threads: readonly number[], fn: (label: string) => void): void {
  for (const backend of KERNEL_BACKENDS) {
    for (const t of threads) {
      initEngine({ backend, threads: t });
      fn(`${backend}, ${t} thread${t > 1 ? 's' : ''}`);
    }
  }
}
