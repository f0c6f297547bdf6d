/**
 * The GP's WebAssembly loops (native/gp/gp.c, built to native/gp.wasm by `npm run build:kernels`): loaded once per
 * thread, synchronously (a few kilobytes). Two instances of the module, each with its own memory: `work` for
 * transient calls (likelihoods, posteriors) and `sweep` for the acquisition sweep's distances, which stay valid
 * while the sweep's points are evaluated exactly (interleaved with `work` calls).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Package root: this file is src/gp/wasm.ts or dist/gp/wasm.js, two levels down either way. */
export const GP_WASM_PATH = fileURLToPath(new URL('../../native/gp.wasm', import.meta.url));

interface GpExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  gp_lml(k: number, dk: number, y: number, n: number, grad: number, a: number, inv: number, mt: number, out: number): number;
  gp_posterior(kk: number, stride: number, cnt: number, l: number, n: number, alpha: number, invDiag: number, mean: number, variance: number): void;
  gp_sweep(pts: number, count: number, dim: number, xt: number, np: number, n: number, alpha: number, table: number, prm: number, dd: number, mu: number, kmax: number): void;
}

const PAGE = 65536;

/** One instance: its exports and a bump layout of Float64 arrays from its heap base, reset per call. */
export class GpHeap {
  readonly x: GpExports;
  private readonly base: number;
  private top: number;
  /** Who the memory's persistent part (its first `keep` bytes) currently belongs to (see `claim`). */
  private owner: unknown;
  private keep = 0;

  constructor(module: WebAssembly.Module) {
    this.x = new WebAssembly.Instance(module, {}).exports as unknown as GpExports;
    this.base = align(this.x.__heap_base.value as number);
    this.top = this.base;
  }

  /** Starts a transient layout after the persistent part. */
  reset(): void {
    this.top = this.base + this.keep;
  }

  /** Reserves `count` doubles; returns the byte offset. Call `view` only after all reservations (growth detaches views). */
  alloc(count: number): number {
    const at = this.top;
    this.top = align(at + 8 * count);
    const need = this.top - this.x.memory.buffer.byteLength;
    if (need > 0) this.x.memory.grow(Math.ceil(need / PAGE));
    return at;
  }

  view(offset: number, count: number): Float64Array {
    return new Float64Array(this.x.memory.buffer, offset, count);
  }

  /**
   * Makes the persistent part `owner`'s, `bytes` long, starting at the heap base, and resets the layout after it.
   * Returns whether it already was (so its data need not be written again).
   */
  claim(owner: object, bytes: number): boolean {
    const had = this.owner === owner && this.keep === bytes;
    this.owner = owner;
    this.keep = align(bytes);
    this.top = this.base;
    this.alloc(bytes / 8);
    this.top = this.base + this.keep;
    return had;
  }

  /** Start of the persistent part. */
  get start(): number {
    return this.base;
  }

  ownedBy(owner: object): boolean {
    return this.owner === owner;
  }
}

function align(offset: number): number {
  return (offset + 15) & ~15;
}

let heaps: { work: GpHeap; sweep: GpHeap } | undefined;

/** This thread's two instances (compiled on first use). */
export function gpHeaps(): { work: GpHeap; sweep: GpHeap } {
  if (heaps === undefined) {
    const module = new WebAssembly.Module(readFileSync(GP_WASM_PATH));
    heaps = { work: new GpHeap(module), sweep: new GpHeap(module) };
  }
  return heaps;
}
