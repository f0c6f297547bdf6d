/**
 * Image files → 8-bit pixels. PNG and JPEG are recognised by their signature (not their extension); the header
 * is read here (size, grey or colour) and the pixels are decoded by @napi-rs/image (Rust's image crate, shipped as
 * a prebuilt binary inside its npm package), which decodes a 28×28 PNG in ~65 µs against pngjs's ~100 µs and a
 * JPEG 3–4× faster than jpeg-js (measured on this machine; `npm run bench:data` times the whole first decode).
 * Where that binary cannot load (a platform without one), pngjs and jpeg-js decode instead — the same PNG pixels,
 * JPEG pixels within ±1 (another IDCT), so a JPEG folder's fingerprint can differ between such machines.
 *
 * Every failure is an InputError naming the file: unreadable, not a PNG/JPEG, truncated or corrupt, too many pixels.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { inputError } from '../util/errors.js';
import { maxImagePixels, tooManyPixels } from './pixel-limit.js';

/** Whether a file holds its format's end marker (PNG's IEND chunk, JPEG's EOI) near its end: not cut short. */
export function hasEnd(buf: Uint8Array, png: boolean): boolean {
  const tail = Buffer.from(buf.subarray(Math.max(0, buf.length - 32)));
  return png ? tail.includes('IEND') : tail.includes(Buffer.from([0xff, 0xd9]));
}

/** Decoded pixels: `channels` interleaved 8-bit values per pixel (1 grey, 3 RGB; alpha already dropped). */
export interface Pixels {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** What a file's header says, without decoding it. */
export interface ImageHeader {
  format: 'PNG' | 'JPEG';
  width: number;
  height: number;
  /** 1 for grey images (PNG colour types 0 and 4, one-component JPEG), 3 otherwise. */
  channels: 1 | 3;
}

/** Images above this many pixels are refused (a 20000×20000 PNG would need 1.6 GB to decode); `--max-pixels` sets it. */
export { DEFAULT_MAX_PIXELS } from './pixel-limit.js';

export const IMAGE_FILE = /\.(png|jpe?g)$/i;

interface NapiImage {
  Transformer: new (input: Uint8Array) => { rawPixelsSync(): Buffer; metadataSync(): { width: number; height: number; colorType: number } };
}

let napi: NapiImage | null | undefined;
/** The native decoder, or null where its binary does not load. `ROBOT_NAS_DECODER=js` forces the JavaScript ones. */
function nativeDecoder(): NapiImage | null {
  if (napi === undefined) {
    try {
      napi = process.env['ROBOT_NAS_DECODER'] === 'js' ? null : (createRequire(import.meta.url)('@napi-rs/image') as NapiImage);
    } catch {
      napi = null;
    }
  }
  return napi;
}

/** Which decoder runs here (for reports). */
export function decoderName(): string {
  return nativeDecoder() ? '@napi-rs/image' : 'pngjs/jpeg-js';
}

const errCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));

export function readImageFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw inputError(file, undefined, errCode(e) === 'EISDIR' ? 'is a folder, not an image file' : `cannot read file (${errCode(e)})`);
  }
}

/** The first `n` bytes of a file (headers), or fewer if it is shorter. */
export function readHead(file: string, n: number): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const k = readSync(fd, buf, got, n - got, got);
      if (k === 0) break;
      got += k;
    }
    return buf.subarray(0, got);
  } catch (e) {
    throw inputError(file, undefined, errCode(e) === 'EISDIR' ? 'is a folder, not an image file' : `cannot read file (${errCode(e)})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const isPng = (b: Uint8Array): boolean => b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
const isJpeg = (b: Uint8Array): boolean => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/**
 * The header of a PNG (IHDR, the first 26 bytes) or JPEG (its SOF segment, which may follow large EXIF blocks:
 * pass the whole file for JPEGs). Undefined when `buf` is too short to tell.
 */
export function parseHeader(buf: Uint8Array, file: string): ImageHeader | undefined {
  if (isPng(buf)) {
    if (buf.length < 26) return undefined;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (String.fromCharCode(buf[12]!, buf[13]!, buf[14]!, buf[15]!) !== 'IHDR') throw inputError(file, undefined, 'cannot decode PNG image: no IHDR header chunk');
    const width = dv.getUint32(16);
    const height = dv.getUint32(20);
    const colour = buf[25]!;
    if (width === 0 || height === 0) throw inputError(file, undefined, `cannot decode PNG image: size ${width}×${height}`);
    return { format: 'PNG', width, height, channels: colour === 0 || colour === 4 ? 1 : 3 };
  }
  if (isJpeg(buf)) {
    let p = 2;
    while (p + 4 <= buf.length) {
      if (buf[p] !== 0xff) throw inputError(file, undefined, `cannot decode JPEG image: bad marker at byte ${p}`);
      const m = buf[p + 1]!;
      if (m === 0xff) {
        p++;
        continue;
      }
      // standalone markers carry no length
      if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
        p += 2;
        continue;
      }
      const len = (buf[p + 2]! << 8) | buf[p + 3]!;
      const sof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
      if (sof) {
        if (p + 10 > buf.length) return undefined;
        const height = (buf[p + 5]! << 8) | buf[p + 6]!;
        const width = (buf[p + 7]! << 8) | buf[p + 8]!;
        const comps = buf[p + 9]!;
        if (width === 0 || height === 0) throw inputError(file, undefined, `cannot decode JPEG image: size ${width}×${height}`);
        return { format: 'JPEG', width, height, channels: comps === 1 ? 1 : 3 };
      }
      if (m === 0xd9 || m === 0xda) break;
      p += 2 + len;
    }
    return undefined;
  }
  throw inputError(file, undefined, 'cannot decode image: not a PNG or JPEG file');
}

/** The header of an image file, reading as little of it as needed. */
export function probeImage(file: string, maxPixels = maxImagePixels()): ImageHeader {
  const head = readHead(file, 64);
  let h = parseHeader(head, file);
  if (h === undefined && isJpeg(head)) h = parseHeader(readImageFile(file), file);
  if (h === undefined) throw inputError(file, undefined, `cannot decode ${isPng(head) ? 'PNG' : 'JPEG'} image: the file ends inside its header (truncated)`);
  checkPixels(h, file, maxPixels);
  return h;
}

function checkPixels(h: ImageHeader, file: string, maxPixels: number): void {
  if (h.width * h.height > maxPixels) throw tooManyPixels(file, h.width, h.height, h.format, maxPixels);
}

/** Interleaved pixels of `k` values per pixel (8 or 16 bit, alpha last when present) → 1 or 3 channels of 8 bits. */
function toPixels(raw: Uint8Array, width: number, height: number, k: number, sixteen: boolean, grey: boolean): Pixels {
  const n = width * height;
  const colour = k >= 3;
  const channels: 1 | 3 = grey || !colour ? 1 : 3;
  const out = new Uint8Array(n * channels);
  if (!sixteen && k === channels) {
    out.set(raw.subarray(0, out.length));
    return { width, height, channels, data: out };
  }
  const at = sixteen
    ? (i: number): number => {
        // native (little-endian) 16-bit samples, rounded to 8 bits
        const v = raw[2 * i]! | (raw[2 * i + 1]! << 8);
        return Math.round((v * 255) / 65535);
      }
    : (i: number): number => raw[i]!;
  for (let p = 0; p < n; p++) {
    const base = p * k;
    if (channels === 1) out[p] = at(base);
    else {
      out[3 * p] = at(base);
      out[3 * p + 1] = at(base + 1);
      out[3 * p + 2] = at(base + 2);
    }
  }
  return { width, height, channels, data: out };
}

/**
 * Decodes a PNG or JPEG file. Grey files give 1 channel, colour files 3 (alpha dropped). `maxPixels` refuses
 * huge images before decoding them.
 */
export function decodeFile(file: string, maxPixels = maxImagePixels()): Pixels {
  return decodeBuffer(readImageFile(file), file, maxPixels);
}

export function decodeBuffer(buf: Buffer, file: string, maxPixels = maxImagePixels()): Pixels {
  const h = parseHeader(buf, file);
  const kind = isPng(buf) ? 'PNG' : 'JPEG';
  if (h === undefined) throw inputError(file, undefined, `cannot decode ${kind} image: the file ends inside its header (truncated)`);
  checkPixels(h, file, maxPixels);
  const native = nativeDecoder();
  try {
    if (native) {
      const raw = new native.Transformer(buf).rawPixelsSync();
      const n = h.width * h.height;
      const per = raw.length / n;
      // 16-bit PNGs decode to 2 bytes per sample; PNG bit depth (byte 24) tells 8-bit grey+alpha from 16-bit grey
      const sixteen = kind === 'PNG' ? buf[24] === 16 : false;
      const k = sixteen ? per / 2 : per;
      if (!Number.isInteger(k) || k < 1 || k > 4) throw new Error(`unexpected pixel layout (${raw.length} bytes for ${h.width}×${h.height})`);
      return toPixels(raw, h.width, h.height, k, sixteen, h.channels === 1);
    }
    if (kind === 'PNG') {
      const p = pngjs.PNG.sync.read(buf);
      return toPixels(p.data, p.width, p.height, 4, false, h.channels === 1);
    }
    const j = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: Math.ceil((maxPixels * 8) / 1e6) });
    return toPixels(j.data, j.width, j.height, 4, false, h.channels === 1);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // a file cut short (no end marker, or the decoder's words for it) is said so, without the decoder's internals
    const truncated = !hasEnd(buf, kind === 'PNG') || /end of file|unexpected end|truncat|waitng on finished stream|waiting on finished stream|EOF/i.test(msg);
    throw inputError(file, undefined, truncated ? `the ${kind} file is truncated or incomplete (it ends before its image data do); replace or remove it` : `cannot decode ${kind} image: ${msg}`);
  }
}
