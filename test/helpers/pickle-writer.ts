/**
 * A minimal Python pickle WRITER for tests (protocol 2 or 4), producing the byte layouts Python
 * and numpy produce, so tests can create files in the formats benchmark projects released:
 * dicts, lists, tuples, str, int, float, bool, None and numpy scalars (np.float64 etc.), which
 * are pickled like numpy does: `numpy.core.multiarray.scalar(numpy.dtype('f8', False, True)
 * + BUILD (3, '<', None, None, None, -1, -1, 0), <8 raw little-endian bytes>)`.
 *
 * JS numbers are written as Python int when they are safe integers, else as float; wrap a value
 * with `pyFloat(x)` to force a float (e.g. 85.0) or `np64(x)` for a numpy float64.
 *
 * numpy ndarrays (`npArray` / `npUint8`) are pickled as numpy's `__reduce__` does:
 * `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')` then BUILD with
 * `(1, shape, dtype, False, raw C-order bytes)`. With `python2: true` (protocol 2 only) `str` and
 * raw bytes are written as Python 2 `str` (SHORT_BINSTRING/BINSTRING), as cPickle did, which is
 * how older dataset releases (e.g. the downsampled-ImageNet batches) were written.
 */

export class PyFloat {
  constructor(readonly value: number) {}
}
export class NpScalar {
  constructor(
    readonly value: number,
    readonly code: 'f8' | 'f4' | 'i8' | 'i4' = 'f8',
  ) {}
}
export class PyTuple {
  readonly items: PyVal[];
  constructor(...items: PyVal[]) {
    this.items = items;
  }
}
/** Raw bytes (Python `bytes`). */
export class PyBytes {
  constructor(readonly bytes: Uint8Array) {}
}
/** numpy dtype codes the writer knows how to lay out. */
export type NpCode = 'u1' | 'i1' | 'i4' | 'i8' | 'f4' | 'f8';
/** A C-order numpy ndarray with its raw little-endian bytes. */
export class NpArray {
  constructor(
    readonly shape: readonly number[],
    readonly code: NpCode,
    readonly raw: Uint8Array,
  ) {
    const size = Number(code.slice(1));
    const n = shape.reduce((a, b) => a * b, 1);
    if (raw.length !== n * size) throw new Error(`NpArray: ${raw.length} bytes for shape (${shape.join(', ')}) of ${code}`);
  }
}

export type PyVal =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | NpScalar
  | PyTuple
  | PyBytes
  | NpArray
  | PyVal[]
  | Map<PyVal, PyVal>
  | { [key: string]: PyVal };

export const pyFloat = (x: number): PyFloat => new PyFloat(x);
export const np64 = (x: number): NpScalar => new NpScalar(x, 'f8');
export const npScalar = (x: number, code: NpScalar['code']): NpScalar => new NpScalar(x, code);
export const pyTuple = (...items: PyVal[]): PyTuple => new PyTuple(...items);
/** A numpy array of `code` from values (written little-endian, C order). */
export function npArray(shape: readonly number[], code: NpCode, values: ArrayLike<number>): NpArray {
  const size = Number(code.slice(1));
  const b = Buffer.alloc(values.length * size);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (code === 'u1') b.writeUInt8(v, i);
    else if (code === 'i1') b.writeInt8(v, i);
    else if (code === 'i4') b.writeInt32LE(v, i * 4);
    else if (code === 'i8') b.writeBigInt64LE(BigInt(v), i * 8);
    else if (code === 'f4') b.writeFloatLE(v, i * 4);
    else b.writeDoubleLE(v, i * 8);
  }
  return new NpArray(shape, code, b);
}
/** A numpy uint8 array sharing `bytes` (no copy). */
export const npUint8 = (shape: readonly number[], bytes: Uint8Array): NpArray => new NpArray(shape, 'u1', bytes);

export interface PickleOptions {
  protocol?: 2 | 4;
  /** Write str and bytes as Python 2 `str` (protocol 2 only). */
  python2?: boolean;
}

class Writer {
  // small writes collect in `pending`; large byte blocks (numpy data) go to `parts` unexpanded
  private chunks: number[] = [];
  private parts: Buffer[] = [];
  constructor(
    private readonly protocol: 2 | 4,
    private readonly python2 = false,
  ) {}

  byte(b: number): void {
    this.chunks.push(b & 0xff);
  }
  bytes(bs: ArrayLike<number>): void {
    if (bs.length >= 4096 && bs instanceof Uint8Array) {
      this.parts.push(Buffer.from(this.chunks), Buffer.from(bs.buffer, bs.byteOffset, bs.byteLength));
      this.chunks = [];
      return;
    }
    for (let i = 0; i < bs.length; i++) this.chunks.push(bs[i]! & 0xff);
  }
  /** Python 2 str: SHORT_BINSTRING / BINSTRING over latin-1 bytes. */
  py2str(b: Uint8Array): void {
    if (b.length < 256) {
      this.byte(0x55); // SHORT_BINSTRING 'U'
      this.byte(b.length);
    } else {
      this.byte(0x54); // BINSTRING 'T'
      this.u32(b.length);
    }
    this.bytes(b);
  }
  u32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    this.bytes(b);
  }
  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
  }
  global(module: string, name: string): void {
    this.byte(0x63); // GLOBAL 'c'
    this.ascii(`${module}\n${name}\n`);
  }
  str(s: string): void {
    if (this.python2) return this.py2str(Buffer.from(s, 'latin1'));
    const b = Buffer.from(s, 'utf8');
    if (this.protocol >= 4 && b.length < 256) {
      this.byte(0x8c); // SHORT_BINUNICODE
      this.byte(b.length);
    } else {
      this.byte(0x58); // BINUNICODE 'X'
      this.u32(b.length);
    }
    this.bytes(b);
  }
  rawBytes(b: Uint8Array): void {
    if (this.python2) {
      this.py2str(b);
    } else if (this.protocol >= 3) {
      if (b.length < 256) {
        this.byte(0x43); // SHORT_BINBYTES 'C'
        this.byte(b.length);
      } else {
        this.byte(0x42); // BINBYTES 'B'
        this.u32(b.length);
      }
      this.bytes(b);
    } else {
      // protocol 2 under Python 3: _codecs.encode(latin1 text, 'latin1')
      this.global('_codecs', 'encode');
      this.str(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1'));
      this.str('latin1');
      this.byte(0x86); // TUPLE2
      this.byte(0x52); // REDUCE 'R'
    }
  }
  int(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n < 256) {
      this.byte(0x4b); // BININT1 'K'
      this.byte(n);
    } else if (typeof n === 'number' && n >= 0 && n < 65536) {
      this.byte(0x4d); // BININT2 'M'
      this.byte(n & 0xff);
      this.byte(n >> 8);
    } else if (typeof n === 'number' && n >= -(2 ** 31) && n < 2 ** 31) {
      this.byte(0x4a); // BININT 'J'
      const b = Buffer.alloc(4);
      b.writeInt32LE(n);
      this.bytes(b);
    } else {
      // LONG1: little-endian two's complement, minimal length
      let v = BigInt(n);
      const out: number[] = [];
      if (v !== 0n) {
        for (;;) {
          out.push(Number(v & 0xffn));
          const last = out[out.length - 1]!;
          v >>= 8n;
          if ((v === 0n && (last & 0x80) === 0) || (v === -1n && (last & 0x80) !== 0)) break;
        }
      }
      this.byte(0x8a);
      this.byte(out.length);
      this.bytes(out);
    }
  }
  float(x: number): void {
    this.byte(0x47); // BINFLOAT 'G'
    const b = Buffer.alloc(8);
    b.writeDoubleBE(x);
    this.bytes(b);
  }
  npScalar(s: NpScalar): void {
    this.global('numpy.core.multiarray', 'scalar');
    // dtype
    this.global('numpy', 'dtype');
    this.str(s.code);
    this.byte(0x89); // NEWFALSE
    this.byte(0x88); // NEWTRUE
    this.byte(0x87); // TUPLE3
    this.byte(0x52); // REDUCE
    this.byte(0x28); // MARK
    this.int(3);
    this.str('<');
    this.byte(0x4e); // None x3
    this.byte(0x4e);
    this.byte(0x4e);
    this.int(-1);
    this.int(-1);
    this.int(0);
    this.byte(0x74); // TUPLE
    this.byte(0x62); // BUILD 'b'
    const b = Buffer.alloc(s.code.endsWith('8') ? 8 : 4);
    if (s.code === 'f8') b.writeDoubleLE(s.value);
    else if (s.code === 'f4') b.writeFloatLE(s.value);
    else if (s.code === 'i8') b.writeBigInt64LE(BigInt(s.value));
    else b.writeInt32LE(s.value);
    this.rawBytes(b);
    this.byte(0x86); // TUPLE2
    this.byte(0x52); // REDUCE
  }
  /** numpy dtype object: `numpy.dtype(code, False, True)` + BUILD (3, byte order, None, None, None, -1, -1, 0). */
  dtype(code: string): void {
    this.global('numpy', 'dtype');
    this.str(code);
    this.byte(0x89); // NEWFALSE
    this.byte(0x88); // NEWTRUE
    this.byte(0x87); // TUPLE3
    this.byte(0x52); // REDUCE
    this.byte(0x28); // MARK
    this.int(3);
    this.str(code.endsWith('1') ? '|' : '<'); // single-byte types have no byte order
    this.byte(0x4e);
    this.byte(0x4e);
    this.byte(0x4e);
    this.int(-1);
    this.int(-1);
    this.int(0);
    this.byte(0x74); // TUPLE
    this.byte(0x62); // BUILD
  }
  npArray(a: NpArray): void {
    this.global('numpy.core.multiarray', '_reconstruct');
    this.global('numpy', 'ndarray');
    this.int(0);
    this.byte(0x85); // TUPLE1
    this.rawBytes(Buffer.from('b'));
    this.byte(0x87); // TUPLE3
    this.byte(0x52); // REDUCE
    this.byte(0x28); // MARK
    this.int(1);
    this.value(new PyTuple(...a.shape));
    this.dtype(a.code);
    this.byte(0x89); // NEWFALSE: C order
    this.rawBytes(a.raw);
    this.byte(0x74); // TUPLE
    this.byte(0x62); // BUILD
  }
  value(v: PyVal): void {
    if (v === null) this.byte(0x4e);
    else if (v === true) this.byte(0x88);
    else if (v === false) this.byte(0x89);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) this.int(v);
      else this.float(v);
    } else if (typeof v === 'bigint') this.int(v);
    else if (typeof v === 'string') this.str(v);
    else if (v instanceof PyFloat) this.float(v.value);
    else if (v instanceof NpScalar) this.npScalar(v);
    else if (v instanceof PyBytes) this.rawBytes(v.bytes);
    else if (v instanceof NpArray) this.npArray(v);
    else if (v instanceof PyTuple) {
      this.byte(0x28); // MARK
      for (const x of v.items) this.value(x);
      this.byte(0x74); // TUPLE
    } else if (Array.isArray(v)) {
      this.byte(0x5d); // EMPTY_LIST
      for (let i = 0; i < v.length; i += 1000) {
        this.byte(0x28); // MARK
        for (const x of v.slice(i, i + 1000)) this.value(x);
        this.byte(0x65); // APPENDS
      }
    } else {
      const entries: [PyVal, PyVal][] = v instanceof Map ? [...v] : Object.entries(v);
      this.byte(0x7d); // EMPTY_DICT
      for (let i = 0; i < entries.length; i += 1000) {
        this.byte(0x28);
        for (const [k, x] of entries.slice(i, i + 1000)) {
          this.value(k);
          this.value(x);
        }
        this.byte(0x75); // SETITEMS
      }
    }
  }
  done(): Buffer {
    return Buffer.concat([...this.parts, Buffer.from(this.chunks)]);
  }
}

/** `pickle.dumps(value, protocol)` for the value kinds above. */
export function pickle(value: PyVal, opts: PickleOptions = {}): Buffer {
  const protocol = opts.protocol ?? 4;
  if (opts.python2 === true && protocol !== 2) throw new Error('python2 pickles are protocol 2');
  const w = new Writer(protocol, opts.python2 === true);
  w.byte(0x80); // PROTO
  w.byte(protocol);
  w.value(value);
  w.byte(0x2e); // STOP '.'
  return w.done();
}

/** Several pickles back to back, as written by `pickle.dump(x, f)` in a loop. */
export function pickleStream(values: readonly PyVal[], opts: PickleOptions = {}): Buffer {
  return Buffer.concat(values.map((v) => pickle(v, opts)));
}
