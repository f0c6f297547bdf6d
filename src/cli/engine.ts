import { initEngine, kernelFallbackReason, type EngineInfo } from '../engine/kernels.js';

/**
 * The engine as the commands that compute see it: started before any long work (so a bad ROBOT_NAS_KERNELS or
 * ROBOT_NAS_THREADS fails at once, exit 2), and one line on stderr when the portable WebAssembly kernels stand in for
 * the native ones because the addon is missing or does not load (slower, same numbers).
 */

let noted = false;

/** Says once per process, on stderr, why the WebAssembly kernels are used when the native ones were wanted. */
export function noteKernelFallback(): void {
  if (noted) return;
  noted = true;
  const reason = kernelFallbackReason();
  if (reason !== undefined) process.stderr.write(`robot-nas: using the WebAssembly kernels (slower, same results): ${reason}\n`);
}

/** Creates this thread's engine (if not yet) and notes a kernel fallback. */
export function startEngine(): EngineInfo {
  const info = initEngine();
  noteKernelFallback();
  return info;
}
