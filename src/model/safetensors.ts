/**
 * The safetensors container (Hugging Face's tensor file format), in memory: an 8-byte little-endian header
 * length N, N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": {…} }`
 * (padded with spaces to a multiple of 8 bytes), then the tensors' raw little-endian bytes, contiguous and in
 * header order. It is small enough to write directly, and PyTorch (`safetensors.torch.load_file`) reads it.
 * No file access here: callers pass bytes and a label naming the file for error messages.
 */
import { inputError } from '../util/errors.js';

export type SafeDtype = 'F32' | 'I32' | 'I64';

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** F32 → Float32Array, I32 → Int32Array, I64 → BigInt64Array. */
  data: Float32Array | Int32Array | BigInt64Array;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, I32: 4, I64: 8 };
/** Headers beyond this are refused (a corrupt length field would otherwise allocate gigabytes). */
const MAX_HEADER = 100 * 1024 * 1024;

function elementCount(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Encodes tensors (in the given order) and optional string metadata. */
export function encodeSafetensors(tensors: ReadonlyMap<string, SafeTensor>, metadata?: Record<string, string>): Uint8Array {
  // Entries, then Object.fromEntries: own properties even for a name like "__proto__".
  const entries: [string, unknown][] = metadata ? [['__metadata__', metadata]] : [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error('safetensors: "__metadata__" is not a valid tensor name');
    const bytes = elementCount(t.shape) * BYTES[t.dtype];
    if (t.data.byteLength !== bytes) throw new Error(`safetensors: tensor ${name} has ${t.data.byteLength} bytes for shape [${t.shape.join(', ')}] ${t.dtype}`);
    entries.push([name, { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] }]);
    offset += bytes;
  }
  let json = JSON.stringify(Object.fromEntries(entries));
  const raw = new TextEncoder().encode(json);
  // Pad so the data start is 8-byte aligned (what the reference writer does; readers may map it directly).
  const padded = Math.ceil(raw.length / 8) * 8;
  json += ' '.repeat(padded - raw.length);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/**
 * Decodes and validates a safetensors buffer: header length and JSON, every entry's dtype, shape and offsets,
 * offsets contiguous and covering the data exactly. Errors are InputErrors naming `file`.
 */
export function decodeSafetensors(bytes: Uint8Array, file: string): DecodedSafetensors {
  const bad = (msg: string) => inputError(file, undefined, `not a valid safetensors file: ${msg}`);
  if (bytes.length < 8) throw bad(`${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) throw bad(`header length ${n} exceeds the file (${bytes.length} bytes)`);
  const headerLength = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw bad(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const meta: [string, string][] = [];
  const entries: { name: string; dtype: SafeDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('"__metadata__" is not an object');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') throw bad(`metadata "${k}" is not a string`);
        meta.push([k, s]);
      }
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) throw bad(`tensor "${name}": entry is not an object`);
    if (e.dtype !== 'F32' && e.dtype !== 'I32' && e.dtype !== 'I64') throw bad(`tensor "${name}": dtype ${JSON.stringify(e.dtype)} (supported: F32, I32, I64)`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`tensor "${name}": shape must be a list of non-negative integers`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[1] < off[0]) {
      throw bad(`tensor "${name}": data_offsets must be [begin, end] with 0 ≤ begin ≤ end`);
    }
    const shape = e.shape as number[];
    const [begin, end] = off as number[];
    if (end - begin !== elementCount(shape) * BYTES[e.dtype]) {
      throw bad(`tensor "${name}": ${end - begin} bytes for shape [${shape.join(', ')}] ${e.dtype}`);
    }
    entries.push({ name, dtype: e.dtype, shape, begin, end });
  }
  // The format requires the tensors to tile the data buffer exactly (no gaps, overlaps or trailing bytes).
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at) throw bad(`tensor "${e.name}" starts at byte ${e.begin} of the data, expected ${at} (gap or overlap)`);
    at = e.end;
  }
  if (at !== dataLength) throw bad(at > dataLength ? `tensors need ${at} data bytes, the file has ${dataLength} (truncated?)` : `${dataLength - at} bytes after the last tensor`);
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    // Copied out (a Buffer's slice() would share memory; the source may be unaligned for typed-array views).
    const chunk = new Uint8Array(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    const data = e.dtype === 'F32' ? new Float32Array(chunk.buffer) : e.dtype === 'I32' ? new Int32Array(chunk.buffer) : new BigInt64Array(chunk.buffer);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  // fromEntries defines own properties, so even a key named "__proto__" stays a plain entry.
  return { tensors, metadata: Object.fromEntries(meta) };
}
