/**
 * Reading Python pickles (protocols 0–5) as released by NAS benchmark projects: single pickles,
 * streams of pickles written one after another into one file (`pickle.dump` in a loop; read
 * until EOF), numpy scalars (`numpy.core.multiarray.scalar(dtype, raw bytes)`, e.g. np.float64)
 * and plain numeric numpy arrays.
 *
 * The unpickling itself (the opcode machine, memo, lists/dicts/tuples, REDUCE/BUILD) is done by
 * the `pickleparser` package. This module is the adapter around it:
 * - a name registry mapping the numpy / codecs / builtins reconstructors to JS functions (other
 *   Python classes become inert `PyObject` placeholders; no Python code is ever run);
 * - a byte reader (pickleparser's `IReader`) that works around pickleparser 0.2.1 bugs that
 *   real files hit, see `PickleReader` (pickle-reader.ts);
 * - stream reading (one `Parser.read` per pickle on a shared reader) and InputErrors that name the
 *   file, the pickle of the stream and the byte offset.
 *
 * Unpickled values: None → null, bool → boolean, int → number, float → number, str → string,
 * bytes/bytearray → Uint8Array, list/tuple → array, set → array, dict → Map,
 * numpy scalar → number (or boolean), numpy array → NumpyArray.
 * Limitations: ints beyond ±2^53 come back as the nearest JS number (not exact); a DICT opcode
 * holding items (never written by CPython, which emits `MARK DICT` empty and then SETITEMs) is
 * mis-built by pickleparser; POP on an empty stack does not discard a MARK.
 */
import { readFileSync } from 'node:fs';
import { NameRegistry, Parser } from 'pickleparser';
import { inputError } from '../util/errors.js';
import { EndOfData, PickleReader } from './pickle-reader.js';

/** An object of a Python class we do not interpret (kept so error messages can name it). */
export class PyObject {
  state: unknown = undefined;
  constructor(
    readonly module: string,
    readonly name: string,
    readonly args: readonly unknown[],
  ) {}
  __setstate__(state: unknown): void {
    this.state = state;
  }
  toString(): string {
    return `${this.module}.${this.name}`;
  }
}

const SCRATCH_F64 = new Float64Array(1);
const SCRATCH_U8 = new Uint8Array(SCRATCH_F64.buffer);
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A numpy dtype as pickled: `numpy.dtype('f8', False, True)` then `BUILD (3, '<', …)`. */
export class NumpyDType {
  byteOrder = '=';
  constructor(readonly code: string) {}
  __setstate__(state: unknown): void {
    if (Array.isArray(state) && typeof state[1] === 'string') this.byteOrder = state[1];
  }
  get kind(): string {
    return this.code.charAt(0);
  }
  get itemSize(): number {
    return Number(this.code.slice(1));
  }
  /** Decodes item `k` of raw bytes; throws for dtypes other than bool/int/uint/float. */
  decode(bytes: Uint8Array, k = 0): number | boolean {
    if (LITTLE_ENDIAN_HOST && this.code === 'f8' && this.byteOrder !== '>' && bytes.length >= (k + 1) * 8) {
      // the common case (np.float64), without allocating a DataView
      for (let j = 0; j < 8; j++) SCRATCH_U8[j] = bytes[k * 8 + j]!;
      return SCRATCH_F64[0]!;
    }
    const size = this.itemSize;
    if (!(size > 0) || bytes.length < (k + 1) * size) throw new Error(`numpy ${this.code} data too short`);
    const view = new DataView(bytes.buffer, bytes.byteOffset + k * size, size);
    const le = this.byteOrder !== '>';
    switch (this.kind) {
      case 'f':
        if (size === 8) return view.getFloat64(0, le);
        if (size === 4) return view.getFloat32(0, le);
        if (size === 2) return halfToNumber(view.getUint16(0, le));
        break;
      case 'i':
        if (size === 1) return view.getInt8(0);
        if (size === 2) return view.getInt16(0, le);
        if (size === 4) return view.getInt32(0, le);
        if (size === 8) return Number(view.getBigInt64(0, le));
        break;
      case 'u':
        if (size === 1) return view.getUint8(0);
        if (size === 2) return view.getUint16(0, le);
        if (size === 4) return view.getUint32(0, le);
        if (size === 8) return Number(view.getBigUint64(0, le));
        break;
      case 'b':
        if (size === 1) return view.getUint8(0) !== 0;
        break;
    }
    throw new Error(`unsupported numpy dtype '${this.code}'`);
  }
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** A numpy ndarray; `data` is flat, in C order unless `fortranOrder`. */
export class NumpyArray {
  shape: number[] = [];
  dtype: NumpyDType | undefined;
  fortranOrder = false;
  data: unknown[] = [];
  __setstate__(state: unknown): void {
    // (version, shape, dtype, is_fortran, rawdata); the version is absent in very old pickles
    if (!Array.isArray(state) || state.length < 4) throw new Error('unexpected numpy array state');
    const s = state.length >= 5 ? state.slice(1) : state;
    const [shape, dtype, fortran, raw] = s as [unknown, unknown, unknown, unknown];
    if (!Array.isArray(shape) || !(dtype instanceof NumpyDType)) throw new Error('unexpected numpy array state');
    this.shape = shape.map((x) => Number(x));
    this.dtype = dtype;
    this.fortranOrder = fortran === true;
    this.data = decodeArrayData(dtype, raw, this.shape);
  }
}

function asBytes(raw: unknown): Uint8Array | undefined {
  if (raw instanceof Uint8Array) return raw;
  if (typeof raw === 'string') return latin1Bytes(raw); // Python 2 str (read as latin-1, see PickleReader)
  return undefined;
}

function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function decodeArrayData(dtype: NumpyDType, raw: unknown, shape: readonly number[]): unknown[] {
  if (Array.isArray(raw)) return raw; // object arrays are pickled as a list
  const bytes = asBytes(raw);
  if (bytes === undefined) throw new Error('unexpected numpy array data');
  const n = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== n * dtype.itemSize) {
    throw new Error(`numpy array data has ${bytes.length} bytes, expected ${n * dtype.itemSize}`);
  }
  const out = new Array<number | boolean>(n);
  for (let k = 0; k < n; k++) out[k] = dtype.decode(bytes, k);
  return out;
}

// Handlers for the Python globals we interpret. pickleparser calls them for REDUCE
// (`f(...args)`) and constructs them for NEWOBJ/OBJ/INST, so they are plain functions that
// return their result.

/** `numpy.core.multiarray.scalar(dtype, raw)`: how numpy pickles np.float64 and friends. */
function numpyScalar(dtype: unknown, raw: unknown): unknown {
  const bytes = asBytes(raw);
  if (!(dtype instanceof NumpyDType) || bytes === undefined) return new PyObject('numpy', 'scalar', [dtype, raw]);
  try {
    return dtype.decode(bytes);
  } catch {
    return new PyObject('numpy', `scalar(${dtype.code})`, [dtype, raw]);
  }
}

/** `_codecs.encode(text, 'latin1')`: how Python 3 stores bytes in protocol 0–2 pickles. */
function codecsEncode(text: unknown, encoding: unknown): Uint8Array {
  if (typeof text !== 'string') throw new Error('_codecs.encode: expected a str');
  const enc = typeof encoding === 'string' ? encoding.toLowerCase().replace(/[-_]/g, '') : 'utf8';
  if (enc === 'latin1' || enc === 'iso88591') return latin1Bytes(text);
  return new TextEncoder().encode(text);
}

function numpyFromBuffer(buf: unknown, dtype: unknown, shape: unknown): NumpyArray {
  const a = new NumpyArray();
  a.__setstate__([Array.isArray(shape) ? shape : [], dtype, false, buf]);
  return a;
}

const GLOBAL_NAME = Symbol('python global');

/** A Python class or function we do not interpret: calling or constructing it gives a PyObject. */
function unknownGlobal(module: string, name: string): (...args: unknown[]) => PyObject {
  const f = function (...args: unknown[]): PyObject {
    return new PyObject(module, name, args);
  };
  return Object.assign(f, { [GLOBAL_NAME]: `${module}.${name}` });
}

class PythonNames extends NameRegistry {
  constructor() {
    super();
    for (const mod of ['numpy.core.multiarray', 'numpy._core.multiarray']) {
      this.register(mod, 'scalar', numpyScalar);
      this.register(mod, '_reconstruct', () => new NumpyArray()); // filled in by BUILD → __setstate__
    }
    for (const mod of ['numpy.core.numeric', 'numpy._core.numeric']) this.register(mod, '_frombuffer', numpyFromBuffer);
    this.register('numpy', 'dtype', (code: unknown) => new NumpyDType(String(code))); // byte order set by BUILD
    this.register('_codecs', 'encode', codecsEncode);
    for (const mod of ['builtins', '__builtin__']) {
      this.register(mod, 'set', (items: unknown) => (Array.isArray(items) ? [...items] : []));
      this.register(mod, 'frozenset', (items: unknown) => (Array.isArray(items) ? [...items] : []));
      this.register(mod, 'bytearray', (x: unknown, enc: unknown) => (typeof x === 'string' ? codecsEncode(x, enc) : asBytes(x) ?? new Uint8Array()));
    }
    // Python 3 pickles OrderedDict as OrderedDict() + SETITEMS, Python 2 as OrderedDict([[k, v], …])
    this.register('collections', 'OrderedDict', (items: unknown) => new Map(Array.isArray(items) ? items.filter(Array.isArray).map((kv) => [kv[0], kv[1]] as const) : []));
  }
  override onMissingName(module: string, name: string): (...args: unknown[]) => PyObject {
    return unknownGlobal(module, name);
  }
}

const parser = new Parser({ nameResolver: new PythonNames(), unpicklingTypeOfDictionary: 'Map', unpicklingTypeOfSet: 'array' });

/** Reads exactly one pickle; trailing bytes are an error. `file` is used in error messages. */
export function unpickle(bytes: Uint8Array, file = '<buffer>'): unknown {
  checkStart(bytes, file);
  const r = new PickleReader(bytes);
  const v = loadOne(r, file, 0);
  if (r.pos < bytes.length) {
    throw inputError(file, undefined, `unexpected data after the pickle (byte ${r.pos} of ${bytes.length})`);
  }
  return v;
}

/** Reads pickles written back-to-back (e.g. `pickle.dump` in a loop) until the end of the data. */
export function unpickleStream(bytes: Uint8Array, file = '<buffer>'): unknown[] {
  checkStart(bytes, file);
  const r = new PickleReader(bytes);
  const out: unknown[] = [];
  while (r.pos < bytes.length) out.push(loadOne(r, file, out.length));
  return out;
}

function checkStart(bytes: Uint8Array, file: string): void {
  if (bytes.length === 0) throw inputError(file, undefined, 'empty file, expected a Python pickle');
  // protocol ≥ 2 pickles start with PROTO; protocol 0/1 ones with an opcode like MARK, EMPTY_LIST, …
  if (bytes[0] !== 0x80 && !'(]})cdlNIFLSVXKJMGUT'.includes(String.fromCharCode(bytes[0]!))) {
    throw inputError(file, undefined, 'not a Python pickle (unrecognised first byte)');
  }
}

/** One pickle from the reader's position (pickleparser stops right after its STOP opcode). */
function loadOne(r: PickleReader, file: string, index: number): unknown {
  const start = r.pos;
  try {
    return parser.read(r);
  } catch (e) {
    const which = index === 0 ? 'pickle' : `pickle #${index + 1} of the stream (starting at byte ${start})`;
    if (e instanceof EndOfData || r.exhausted) {
      throw inputError(file, undefined, `the file is truncated: it ends in the middle of a ${which}`);
    }
    const msg = e instanceof Error ? e.message : String(e);
    const op = /^Unsupported opcode '(\d+)'\.$/.exec(msg);
    // (TypeErrors come from pickleparser's stack handling on opcode sequences Python never writes)
    const detail = op ? `unknown opcode 0x${Number(op[1]).toString(16).padStart(2, '0')}` : e instanceof TypeError ? `malformed pickle data (${msg})` : msg;
    throw inputError(file, undefined, `invalid ${which}: ${detail} at byte ${r.opAt}`);
  }
}

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(path, undefined, code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(e)})`);
  }
}

export function readPickleFile(path: string): unknown {
  return unpickle(readBytes(path), path);
}

export function readPickleStreamFile(path: string): unknown[] {
  return unpickleStream(readBytes(path), path);
}

/** A Python number (int, float, bool, numpy scalar or 0-d array) as a JS number; undefined otherwise. */
export function pyNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof NumpyArray && v.data.length === 1 && v.shape.every((d) => d === 1)) return pyNumber(v.data[0]);
  return undefined;
}

/** Short description of an unpickled value's Python type, for error messages. */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof NumpyArray) return `numpy array of shape (${v.shape.join(', ')})`;
  if (v instanceof PyObject) return v.toString();
  if (typeof v === 'function') return (v as { [GLOBAL_NAME]?: string })[GLOBAL_NAME] ?? 'function';
  return typeof v;
}

export function isDict(v: unknown): v is Map<unknown, unknown> {
  return v instanceof Map;
}

/** Plain JS version of an unpickled value (dicts → objects with string keys, numpy arrays → arrays). */
export function toPlain(v: unknown): unknown {
  if (v instanceof Map) {
    const o = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of v) o[String(k)] = toPlain(x);
    return o;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof NumpyArray) return v.data.map(toPlain);
  return v;
}
