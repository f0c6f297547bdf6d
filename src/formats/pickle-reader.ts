/**
 * The byte reader pickle.ts hands to pickleparser: reads one or more pickles from a buffer and decodes their text
 * opcodes the way Python does (see `PickleReader` for the pickleparser 0.2.1 bugs it works around).
 */

/** The reader ran out of data: the file is truncated. */
export class EndOfData extends Error {}

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
export class PickleReader {
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
