/**
 * The engine's memory: one shared WebAssembly.Memory holding every tensor, so the kernels — WebAssembly instances on
 * several threads, or the native addon — read and write tensors in place. Allocation is a bump pointer with exact-size
 * free lists (a training step or a metric pass allocates the same sizes again and again); when nothing is live the
 * heap resets to its base, so shapes that differ between architectures never fragment it for long.
 */

const PAGE = 65536;
const ALIGN = 64;
/** 4 GiB: the whole 32-bit address space, reserved (not committed) up front as shared memories require. */
const MAX_PAGES = 65536;

export class Heap {
  readonly memory: WebAssembly.Memory;
  /** First byte the allocator hands out (below it: the kernels' stack and the engine's fixed blocks). */
  private base: number;
  private top: number;
  private readonly free = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();
  private live = 0;
  private f32: Float32Array;
  private f64: Float64Array;
  private i32: Int32Array;

  constructor(initialBytes: number, base: number) {
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(initialBytes / PAGE), maximum: MAX_PAGES, shared: true });
    this.base = roundUp(base);
    this.top = this.base;
    this.f32 = new Float32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }

  /** Allocates a block that lives as long as the process (control blocks, stacks): never reset. */
  allocStatic(bytes: number): number {
    if (this.live > 0 || this.top !== this.base) throw new Error('engine heap: static blocks must be allocated before any tensor');
    const p = this.base;
    this.base = roundUp(this.base + bytes);
    this.ensure(this.base);
    this.top = this.base;
    return p;
  }

  /** A block of at least `bytes` bytes, 64-byte aligned (contents undefined). */
  alloc(bytes: number): number {
    const size = roundUp(Math.max(bytes, 4));
    const list = this.free.get(size);
    let p: number;
    if (list !== undefined && list.length > 0) {
      p = list.pop()!;
    } else {
      p = this.top;
      this.top += size;
      this.ensure(this.top);
    }
    this.sizes.set(p, size);
    this.live++;
    return p;
  }

  release(p: number): void {
    const size = this.sizes.get(p);
    if (size === undefined) throw new Error(`engine heap: double free or foreign pointer ${p}`);
    this.sizes.delete(p);
    this.live--;
    if (this.live === 0) {
      this.free.clear();
      this.top = this.base;
      return;
    }
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(p);
  }

  /** Blocks currently allocated (tests check that passes free everything). */
  get liveBlocks(): number {
    return this.live;
  }

  /** Bytes of memory in use by the heap (its high-water mark since the last reset). */
  get usedBytes(): number {
    return this.top;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // Grow by at least a quarter, so a pass that allocates step by step grows the memory a few times only.
    const need = Math.ceil((end - have) / PAGE);
    const pages = Math.min(MAX_PAGES - have / PAGE, Math.max(need, Math.ceil(have / PAGE / 4)));
    if (pages < need) throw new RangeError(`engine heap: out of memory (${end} bytes needed, 4 GiB is the limit)`);
    this.memory.grow(pages);
    this.f32 = new Float32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }

  /** Views of the whole memory (replaced when it grows: take them after allocating). */
  get F32(): Float32Array {
    return this.f32;
  }
  get F64(): Float64Array {
    return this.f64;
  }
  get I32(): Int32Array {
    return this.i32;
  }
}

function roundUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
