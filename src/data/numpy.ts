/**
 * numpy uint8 arrays out of pickles, as raw bytes.
 *
 * The project's pickle adapter (src/formats/pickle.ts) decodes every numpy array element by
 * element into a JS array (`NumpyArray.data`). That is right for the small float arrays of
 * benchmark files, but an image batch holds ~10^8 bytes: ~20 s and ~1 GB per file. Here the
 * adapter is used unchanged, except that while one (synchronous) read runs, uint8 arrays keep
 * their raw bytes instead (their `data` stays empty); everything else is unpickled exactly as by
 * `readPickleFile`.
 */
import { NumpyArray, NumpyDType, readPickleFile } from '../formats/pickle.js';

/** Raw C-order bytes of the uint8 arrays read by `readPickleKeepingBytes`. */
const rawOf = new WeakMap<NumpyArray, Uint8Array>();

/** Python 2 str (read as latin-1) or bytes → bytes; undefined for anything else. */
function bytesOf(raw: unknown): Uint8Array | undefined {
  if (raw instanceof Uint8Array) return raw;
  if (typeof raw === 'string') return Buffer.from(raw, 'latin1');
  return undefined;
}

/** `readPickleFile`, with numpy uint8 arrays kept as raw bytes (read them with `uint8Array`). */
export function readPickleKeepingBytes(path: string): unknown {
  const proto = NumpyArray.prototype;
  const original = proto.__setstate__;
  proto.__setstate__ = function (this: NumpyArray, state: unknown): void {
    // (version, shape, dtype, is_fortran, rawdata), version absent in very old pickles
    const s = Array.isArray(state) ? (state.length >= 5 ? state.slice(1) : state) : undefined;
    const [shape, dtype, fortran, raw] = (s ?? []) as unknown[];
    const bytes = bytesOf(raw);
    if (
      s === undefined ||
      s.length < 4 ||
      !Array.isArray(shape) ||
      !(dtype instanceof NumpyDType) ||
      dtype.code !== 'u1' ||
      bytes === undefined
    ) {
      original.call(this, state);
      return;
    }
    this.shape = shape.map((x) => Number(x));
    this.dtype = dtype;
    this.fortranOrder = fortran === true;
    const n = this.shape.reduce((a, b) => a * b, 1);
    if (bytes.length !== n) throw new Error(`numpy array data has ${bytes.length} bytes, expected ${n}`);
    rawOf.set(this, this.fortranOrder ? fortranToC(bytes, this.shape) : bytes);
    this.data = [];
  };
  try {
    return readPickleFile(path);
  } finally {
    proto.__setstate__ = original;
  }
}

/** Reorders Fortran-order (first index fastest) bytes into C order (last index fastest). */
function fortranToC(bytes: Uint8Array, shape: readonly number[]): Uint8Array {
  if (shape.length < 2) return bytes;
  const out = new Uint8Array(bytes.length);
  const cStrides = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
  const idx = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < bytes.length; f++) {
    let c = 0;
    for (let k = 0; k < shape.length; k++) c += idx[k]! * cStrides[k]!;
    out[c] = bytes[f]!;
    for (let k = 0; k < shape.length; k++) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

/**
 * A numpy uint8 array's shape and C-order bytes: from `readPickleKeepingBytes` without copying, or
 * from a plainly decoded NumpyArray. Undefined if `v` is not a uint8 numpy array.
 */
export function uint8Array(v: unknown): { shape: number[]; bytes: Uint8Array } | undefined {
  if (!(v instanceof NumpyArray) || v.dtype === undefined || v.dtype.kind !== 'u' || v.dtype.itemSize !== 1) return undefined;
  const raw = rawOf.get(v);
  if (raw !== undefined) return { shape: [...v.shape], bytes: raw };
  const bytes = Uint8Array.from(v.data as number[]);
  return { shape: [...v.shape], bytes: v.fortranOrder ? fortranToC(bytes, v.shape) : bytes };
}
