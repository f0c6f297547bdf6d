import { getEngine, type Engine } from './kernels.js';

/**
 * Shared plumbing of the engine's tensor operations: the process's engine, the task sizes the kernels are split by, and
 * scratch blocks of arguments (tap lists, per-channel vectors) in engine memory, which every op frees before returning.
 */

export const E = (): Engine => getEngine();
/** Elements per task of elementwise kernels, and the size below which a pass stays on one thread. */
export const CHUNK = 16384;
export const PARALLEL_MIN = 1 << 16;
/** Positions per task of per-channel reductions (fixed: the partial sums, hence the rounding, depend on it). */
export const CHAN_ROWS = 512;

export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/** A scratch block of int32 words in engine memory, freed by the caller. */
export function words(values: readonly number[]): number {
  const e = E();
  const p = e.heap.alloc(values.length * 4);
  e.writeI32(p, values);
  return p;
}

/** A scratch block holding float32 values. */
export function floats(values: ArrayLike<number>): number {
  const e = E();
  const p = e.heap.alloc(values.length * 4);
  e.heap.F32.set(values, p >> 2);
  return p;
}

export function doubles(values: ArrayLike<number>): number {
  const e = E();
  const p = e.heap.alloc(values.length * 8);
  e.heap.F64.set(values, p >> 3);
  return p;
}

export function release(...ps: number[]): void {
  const h = E().heap;
  for (const p of ps) if (p) h.release(p);
}
