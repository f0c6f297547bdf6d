import * as tf from '@tensorflow/tfjs-core';

/**
 * Hand-assembled WebAssembly SIMD kernels that run directly on the tfjs wasm backend's memory (the module
 * imports tfjs's own WebAssembly.Memory), for the elementwise and per-channel passes between convolutions.
 * Plain JavaScript loops do ~1 element per 3–4 ns here; f32x4 lanes do four. Everything falls back to the JS
 * loops of hostops.ts when the backend is not wasm, SIMD is unavailable, or a size is not a multiple of 4.
 *
 * Per-channel sums keep four channels per lane and walk positions in order, so each channel's float32
 * accumulation order is the same as a sequential loop (BatchNorm statistics must round like PyTorch's).
 */

// ---- a tiny assembler ----
const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  mul: [0x6c],
  shl: [0x74],
  ltU: [0x49],
  geU: [0x4f],
  load: [0xfd, 0x00, 0x00, 0x00],
  store: [0xfd, 0x0b, 0x00, 0x00],
  fadd: [0xfd, ...uleb(0xe4)],
  fsub: [0xfd, ...uleb(0xe5)],
  fmul: [0xfd, ...uleb(0xe6)],
  fmax: [0xfd, ...uleb(0xe9)],
  fgt: [0xfd, ...uleb(0x44)],
  and: [0xfd, ...uleb(0x4e)],
  zero: [0xfd, 0x0c, ...new Array(16).fill(0)],
};

/** p += 16 for local p. */
const bump = (p: number): number[] => [...op.get(p), ...op.i32(16), ...op.add, ...op.set(p)];

interface Kernel {
  name: string;
  params: number;
  locals: number[]; // extra local types
  body: number[];
}

/**
 * Loop over n floats (param index nParam) with the pointers at the given param indices advancing by 16 bytes;
 * `end` local holds first + 4n. `step` emits one 4-lane step.
 */
function linear(ptrs: number[], nParam: number, endLocal: number, step: number[]): number[] {
  return [
    ...op.get(nParam),
    ...op.i32(2),
    ...op.shl,
    ...op.get(ptrs[0]),
    ...op.add,
    ...op.set(endLocal),
    ...op.block,
    ...op.get(ptrs[0]),
    ...op.get(endLocal),
    ...op.geU,
    ...op.brIf(0),
    ...op.loop,
    ...step,
    ...ptrs.flatMap(bump),
    ...op.get(ptrs[0]),
    ...op.get(endLocal),
    ...op.ltU,
    ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
}

/**
 * Per-channel loop: for every position (rows of C floats, x pointer `xp` running through n floats), an inner
 * loop over the C channels with channel-vector pointers `cps` restarting at their base each row.
 * Params: the pointers listed, n (floats), c (channels). Locals: end, rowEnd, and a copy per channel pointer.
 */
function perChannel(rowPtrs: number[], chanBases: number[], nParam: number, cParam: number, firstLocal: number, step: (chan: number[]) => number[]): number[] {
  const end = firstLocal;
  const rowEnd = firstLocal + 1;
  const chan = chanBases.map((_, i) => firstLocal + 2 + i);
  return [
    ...op.get(nParam),
    ...op.i32(2),
    ...op.shl,
    ...op.get(rowPtrs[0]),
    ...op.add,
    ...op.set(end),
    ...op.block,
    ...op.get(rowPtrs[0]),
    ...op.get(end),
    ...op.geU,
    ...op.brIf(0),
    ...op.loop, // rows
    ...op.get(cParam),
    ...op.i32(2),
    ...op.shl,
    ...op.get(rowPtrs[0]),
    ...op.add,
    ...op.set(rowEnd),
    ...chanBases.flatMap((b, i) => [...op.get(b), ...op.set(chan[i])]),
    ...op.loop, // channels
    ...step(chan),
    ...rowPtrs.flatMap(bump),
    ...chan.flatMap(bump),
    ...op.get(rowPtrs[0]),
    ...op.get(rowEnd),
    ...op.ltU,
    ...op.brIf(0),
    ...op.end,
    ...op.get(rowPtrs[0]),
    ...op.get(end),
    ...op.ltU,
    ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
}

const L = op.get;
const KERNELS: Kernel[] = [
  // add(a, b, out, n): out = a + b
  { name: 'add', params: 4, locals: [I32], body: linear([0, 1, 2], 3, 4, [...L(2), ...L(0), ...op.load, ...L(1), ...op.load, ...op.fadd, ...op.store]) },
  // mul(a, b, out, n): out = a·b
  { name: 'mul', params: 4, locals: [I32], body: linear([0, 1, 2], 3, 4, [...L(2), ...L(0), ...op.load, ...L(1), ...op.load, ...op.fmul, ...op.store]) },
  // relu(x, out, n)
  { name: 'relu', params: 3, locals: [I32], body: linear([0, 1], 2, 3, [...L(1), ...L(0), ...op.load, ...op.zero, ...op.fmax, ...op.store]) },
  // mask(ref, g, out, n): out = ref > 0 ? g : 0
  { name: 'mask', params: 4, locals: [I32], body: linear([0, 1, 2], 3, 4, [...L(2), ...L(1), ...op.load, ...L(0), ...op.load, ...op.zero, ...op.fgt, ...op.and, ...op.store]) },
  // chanSum(x, acc, n, c): acc[k] += x[row, k]
  {
    name: 'chanSum',
    params: 4,
    locals: [I32, I32, I32],
    body: perChannel([0], [1], 2, 3, 4, ([a]) => [...L(a), ...L(a), ...op.load, ...L(0), ...op.load, ...op.fadd, ...op.store]),
  },
  // chanDot(x, y, acc, n, c): acc[k] += x·y
  {
    name: 'chanDot',
    params: 5,
    locals: [I32, I32, I32],
    body: perChannel([0, 1], [2], 3, 4, 5, ([a]) => [...L(a), ...L(a), ...op.load, ...L(0), ...op.load, ...L(1), ...op.load, ...op.fmul, ...op.fadd, ...op.store]),
  },
  // chanSqDev(x, mean, acc, n, c): acc[k] += (x − mean[k])²
  {
    name: 'chanSqDev',
    params: 5,
    locals: [I32, I32, I32, I32, V128],
    body: perChannel([0], [1, 2], 3, 4, 5, ([m, a]) => [
      ...L(0),
      ...op.load,
      ...L(m),
      ...op.load,
      ...op.fsub,
      ...op.set(9),
      ...L(a),
      ...L(a),
      ...op.load,
      ...L(9),
      ...L(9),
      ...op.fmul,
      ...op.fadd,
      ...op.store,
    ]),
  },
  // affineSub(x, s, b, out, n, c): out = (x − b[k])·s[k]   (BatchNorm normalisation)
  {
    name: 'subMul',
    params: 6,
    locals: [I32, I32, I32, I32],
    body: perChannel([0, 3], [2, 1], 4, 5, 6, ([b, s]) => [...L(3), ...L(0), ...op.load, ...L(b), ...op.load, ...op.fsub, ...L(s), ...op.load, ...op.fmul, ...op.store]),
  },
  // mulAdd(x, s, b, out, n, c): out = x·s[k] + b[k]   (BatchNorm affine)
  {
    name: 'mulAdd',
    params: 6,
    locals: [I32, I32, I32, I32],
    body: perChannel([0, 3], [1, 2], 4, 5, 6, ([s, b]) => [...L(3), ...L(0), ...op.load, ...L(s), ...op.load, ...op.fmul, ...L(b), ...op.load, ...op.fadd, ...op.store]),
  },
  // bnOut(g, xh, a, b, s, out, n, c): out = s[k]·(g − a[k] − xh·b[k])   (BatchNorm Jacobian product)
  {
    name: 'bnOut',
    params: 8,
    locals: [I32, I32, I32, I32, I32],
    body: perChannel([0, 1, 5], [2, 3, 4], 6, 7, 8, ([a, b, s]) => [
      ...L(5),
      ...L(0),
      ...op.load,
      ...L(a),
      ...op.load,
      ...op.fsub,
      ...L(1),
      ...op.load,
      ...L(b),
      ...op.load,
      ...op.fmul,
      ...op.fsub,
      ...L(s),
      ...op.load,
      ...op.fmul,
      ...op.store,
    ]),
  },
  // axpy(x, y, s, out, n, c): out = x·s[k] + y   (adds ρ·x̄ to a tangent)
  {
    name: 'axpy',
    params: 6,
    locals: [I32, I32, I32],
    body: perChannel([0, 1, 3], [2], 4, 5, 6, ([s]) => [...L(3), ...L(0), ...op.load, ...L(s), ...op.load, ...op.fmul, ...L(1), ...op.load, ...op.fadd, ...op.store]),
  },
];

function assemble(): Uint8Array<ArrayBuffer> {
  const types = KERNELS.map((k) => [0x60, ...vec(new Array(k.params).fill([I32])), 0x00]);
  const imports = vec([[...str('env'), ...str('memory'), 0x02, 0x00, ...uleb(1)]]);
  const funcs = vec(KERNELS.map((_, i) => uleb(i)));
  const exports = vec(KERNELS.map((k, i) => [...str(k.name), 0x00, ...uleb(i)]));
  const codes = vec(
    KERNELS.map((k) => {
      const locals = vec(k.locals.map((t) => [...uleb(1), t]));
      const body = [...locals, ...k.body, ...op.end];
      return [...uleb(body.length), ...body];
    }),
  );
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, codes),
  ]);
}

type Fn = (...args: number[]) => void;
interface Simd {
  fns: Record<string, Fn>;
  memory: WebAssembly.Memory;
  malloc(bytes: number): number;
  free(ptr: number): void;
  offset(t: tf.Tensor): number;
}

let cached: Simd | null | undefined;
let disabled = false;

/** Disables the SIMD kernels (tests compare both paths). */
export function setSimdEnabled(on: boolean): void {
  disabled = !on;
}

interface WasmBackendLike {
  wasm: { asm: { memory: WebAssembly.Memory }; _malloc(n: number): number; _free(p: number): void };
  dataIdMap: { get(id: object): { memoryOffset: number } };
}

/** The kernels bound to the current wasm backend's memory, or null when unavailable. */
export function simd(): Simd | null {
  if (disabled || tf.getBackend() !== 'wasm') return null;
  if (cached !== undefined) return cached;
  try {
    const b = tf.backend() as unknown as WasmBackendLike;
    const memory = b.wasm.asm.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new Error('no memory export');
    const module = new WebAssembly.Module(assemble());
    const inst = new WebAssembly.Instance(module, { env: { memory } });
    cached = {
      fns: inst.exports as unknown as Record<string, Fn>,
      memory,
      malloc: (n) => b.wasm._malloc(n) >>> 0,
      free: (p) => b.wasm._free(p),
      offset: (t) => b.dataIdMap.get(t.dataId).memoryOffset,
    };
  } catch {
    cached = null;
  }
  return cached;
}

/** The assembled module's bytes (for tests). */
export const simdModuleBytes = assemble;
