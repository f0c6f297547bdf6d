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
 *   real files hit, see `PickleReader`;
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

// ---------------------------------------------------------------------------------------------
// the byte reader handed to pickleparser

/** The reader ran out of data: the file is truncated. */
class EndOfData extends Error {}

const OP_FLOAT = 0x46; // F: float as text
const OP_LONG = 0x4c; // L: int as decimal text
const OP_STRING = 0x53; // S: Python 2 str as a quoted repr
const OP_UNICODE = 0x56; // V: str in raw-unicode-escape
const OP_LONG1 = 0x8a;
const OP_LONG4 = 0x8b;

const utf8Decoder = new TextDecoder('utf-8');

/**
 * pickleparser's `IReader` over a buffer holding one or more pickles. Besides reading bytes it
 * decodes text the way Python does, working around pickleparser 0.2.1 bugs:
 * - LONG1/LONG4 (ints beyond 32 bits) are decoded unsigned there, so negative ints such as
 *   -(2**40) came out as huge positives (and LONG1 over 8 bytes threw): the reader decodes the
 *   two's-complement value itself and hands it to the parser as the equivalent text LONG opcode;
 * - Python 2 str (BINSTRING, SHORT_BINSTRING, STRING) is kept as latin-1 (byte = code point, like
 *   Python's `encoding='latin1'`, needed for numpy data in Python 2 pickles) instead of
 *   windows-1252, and STRING's backslash escapes are decoded (pickleparser keeps them verbatim);
 * - protocol-0 UNICODE text is raw-unicode-escape decoded (pickleparser kept `\u0000` verbatim,
 *   which breaks the bytes of numpy scalars in protocol-0 pickles written by Python 3);
 * - protocol-0 FLOAT `inf`/`-inf` (Python's repr) became NaN with parseFloat.
 * To know which opcode a `line()` or `byte()` call belongs to, it relies on `Parser.read` calling
 * `hasNext()` right before reading each opcode byte (true of pickleparser 0.2.1, pinned in
 * package.json; the protocol-0 and LONG tests fail if that changes).
 */
class PickleReader {
  pos = 0;
  /** Offset of the opcode being executed (for error messages). */
  opAt = 0;
  /** Set when the parser asked for another opcode and there was none. */
  exhausted = false;
  private op = -1;
  private atOpcode = false;
  private pendingLine: string | undefined;
  private readonly buf: Uint8Array;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    // a plain Uint8Array view (Buffer#subarray is much slower than Uint8Array#subarray)
    this.buf = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  hasNext(): boolean {
    this.atOpcode = true;
    if (this.pos < this.buf.length) return true;
    this.exhausted = true;
    return false;
  }
  private need(n: number): number {
    const p = this.pos;
    if (!(n >= 0) || p + n > this.buf.length) throw new EndOfData('unexpected end of data');
    this.pos = p + n;
    return p;
  }
  byte(): number {
    const p = this.need(1);
    const b = this.buf[p]!;
    if (!this.atOpcode) return b;
    this.atOpcode = false;
    this.opAt = p;
    this.op = b;
    return b === OP_LONG1 || b === OP_LONG4 ? this.longAsText(b) : b;
  }
  /** Reads a LONG1/LONG4 argument and presents the opcode as LONG with the value as its text line. */
  private longAsText(op: number): number {
    const lenSize = op === OP_LONG1 ? 1 : 4;
    const p = this.pos;
    if (p + lenSize > this.buf.length) return op; // (the parser will then hit the end of data)
    const n = op === OP_LONG1 ? this.buf[p]! : this.view.getInt32(p, true);
    if (n < 0) throw new Error('negative LONG4 length');
    if (p + lenSize + n > this.buf.length) return op;
    this.pendingLine = decodeLong(this.buf.subarray(p + lenSize, p + lenSize + n));
    this.pos = p + lenSize + n;
    this.op = OP_LONG;
    return OP_LONG;
  }
  bytes(n: number): Uint8Array {
    const p = this.need(n);
    return this.buf.subarray(p, p + n);
  }
  skip(n: number): void {
    this.need(n);
  }
  uint16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  int32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  uint32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  uint64(): number {
    return Number(this.view.getBigUint64(this.need(8), true));
  }
  float64(): number {
    return this.view.getFloat64(this.need(8), false); // BINFLOAT is big-endian
  }
  /** `ascii` is pickleparser's name for Python 2 str bytes: kept as latin-1 (see above). */
  string(n: number, encoding: string): string {
    const p = this.need(n);
    return encoding === 'utf-8' ? utf8(this.buf, p, p + n) : latin1(this.buf, p, p + n);
  }
  line(): string {
    if (this.pendingLine !== undefined) {
      const s = this.pendingLine;
      this.pendingLine = undefined;
      return s;
    }
    const p = this.pos;
    const nl = this.buf.indexOf(0x0a, p);
    if (nl < 0) throw new EndOfData('missing end of line');
    this.pos = nl + 1;
    if (this.op === OP_UNICODE) return rawUnicodeUnescape(latin1(this.buf, p, nl));
    const text = latin1(this.buf, p, nl > p && this.buf[nl - 1] === 0x0d ? nl - 1 : nl);
    if (this.op === OP_STRING) return unescapePy2Quoted(text);
    if (this.op === OP_FLOAT) return /^\s*[+-]?inf(inity)?\s*$/i.test(text) ? (text.includes('-') ? '-Infinity' : 'Infinity') : text;
    return text;
  }
}

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i += 8192) s += String.fromCharCode.apply(null, b.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  return s;
}

/** UTF-8 text, with a fast path for short ASCII strings (most keys and architecture strings). */
function utf8(b: Uint8Array, start: number, end: number): string {
  if (end - start <= 256) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (b[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return latin1(b, start, end);
  }
  return utf8Decoder.decode(b.subarray(start, end));
}

/** Little-endian two's-complement integer (LONG1/LONG4 argument) as decimal text. */
function decodeLong(b: Uint8Array): string {
  if (b.length === 0) return '0';
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v.toString();
}

function rawUnicodeUnescape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4: string | undefined, u8: string | undefined) =>
    String.fromCodePoint(parseInt((u4 ?? u8)!, 16)),
  );
}

const PY2_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' };

/** A STRING argument (`'…'` in Python 2 repr) with its escapes decoded, still quoted for the parser's check. */
function unescapePy2Quoted(s: string): string {
  const q = s.charAt(0);
  if (s.length < 2 || (q !== '"' && q !== "'") || s.charAt(s.length - 1) !== q) return s; // the parser rejects it
  const body = s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e.charAt(0) === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return PY2_ESCAPES[e] ?? `\\${e}`;
  });
  return q + body + q;
}

// ---------------------------------------------------------------------------------------------
// entry points

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
