import { getEngine } from './kernels.js';

/**
 * A float32 tensor in engine memory: a shape and a byte offset. Views (`view`) read and write it in place; they stay
 * valid while the tensor lives (the shared memory never moves, it only grows). Every tensor belongs to the arena that
 * was current when it was made, if any, so a pass can free whatever it left behind in one call.
 */
export class Tensor {
  readonly shape: number[];
  readonly size: number;
  private p: number;

  constructor(shape: readonly number[], ptr: number) {
    this.shape = [...shape];
    this.size = sizeOf(shape);
    this.p = ptr;
    current?.push(this);
  }

  /** Uninitialised tensor of the given shape. */
  static empty(shape: readonly number[]): Tensor {
    return new Tensor(shape, getEngine().heap.alloc(sizeOf(shape) * 4));
  }

  static zeros(shape: readonly number[]): Tensor {
    const t = Tensor.empty(shape);
    t.view().fill(0);
    return t;
  }

  static from(data: ArrayLike<number>, shape: readonly number[]): Tensor {
    if (data.length !== sizeOf(shape)) throw new RangeError(`Tensor.from: ${data.length} values for shape [${shape.join(', ')}]`);
    const t = Tensor.empty(shape);
    t.view().set(data);
    return t;
  }

  get ptr(): number {
    if (this.p < 0) throw new Error('engine tensor used after dispose');
    return this.p;
  }

  get disposed(): boolean {
    return this.p < 0;
  }

  /** Zero-copy view of the values. */
  view(): Float32Array {
    return new Float32Array(getEngine().heap.memory.buffer, this.ptr, this.size);
  }

  /** A copy of the values. */
  dataSync(): Float32Array {
    return Float32Array.from(this.view());
  }

  /** The same memory under another shape of the same size: a handle that does not own it (its dispose does nothing). */
  reshape(shape: readonly number[]): Tensor {
    if (sizeOf(shape) !== this.size) throw new RangeError(`reshape [${this.shape.join(', ')}] → [${shape.join(', ')}]`);
    const t = Object.create(Tensor.prototype) as Tensor;
    Object.assign(t, { shape: [...shape], size: this.size, p: this.ptr, borrowed: true });
    return t;
  }

  private borrowed = false;

  dispose(): void {
    if (this.p < 0) return;
    if (this.borrowed) {
      this.p = -1;
      return;
    }
    getEngine().heap.release(this.p);
    this.p = -1;
  }
}

export function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

let current: Tensor[] | null = null;

/** Tensors made while `fn` runs are added to `arena` (nested calls restore the outer arena). */
export function inArena<T>(arena: Tensor[], fn: () => T): T {
  const prev = current;
  current = arena;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** Frees every tensor of the arena not yet disposed, and empties it. */
export function disposeArena(arena: Tensor[]): void {
  for (const t of arena) t.dispose();
  arena.length = 0;
}
