/** Test helper: the engine kinds this machine can run (wasm always; native when the addon is built). */
import { existsSync } from 'node:fs';
import { initEngine, NATIVE_PATH, type EngineKind } from '../../src/nn/engine/kernels.js';

export const ENGINE_KINDS: EngineKind[] = existsSync(NATIVE_PATH) ? ['wasm', 'native'] : ['wasm'];

/** Runs fn with the engine of each kind and thread count (no engine tensor may outlive one call). */
export function forEachEngine(threads: readonly number[], fn: (label: string) => void): void {
  for (const kind of ENGINE_KINDS) {
    for (const t of threads) {
      initEngine({ kind, threads: t });
      fn(`${kind}, ${t} thread${t > 1 ? 's' : ''}`);
    }
  }
}
