/**
 * Datasets shipped as arrays of uint8 images plus an array of labels, read as streams (gzip or zip entries are
 * inflated on the fly), so converting them to the image cache needs no more memory than a few rows:
 *
 * - MNIST-style idx files (Fashion-MNIST, KMNIST, EMNIST…), gzipped or not: `train-images-idx3-ubyte[.gz]` +
 *   `train-labels-idx1-ubyte[.gz]`, and `t10k-…`/`test-…` for the test part. `--data` is the folder holding them
 *   (exactly one train pair) or the train images file itself (EMNIST folders hold several: name one).
 * - NumPy `.npz` archives as Keras datasets save them (read in npz.ts): `x_train` (N×H×W, N×H×W×C or N×C×H×W, uint8), `y_train`
 *   (N or N×1 integers), and optionally `x_test`/`y_test` and `x_val`/`y_val`.
 *
 * Labels are the distinct values of the train labels, in order (class names are those values); a test or val label
 * outside them is an error. Every mismatch (a truncated file, label and image counts that differ, a dtype that is
 * not uint8) is an InputError naming the file.
 */
import { closeSync, createReadStream, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { inputError } from '../util/errors.js';
import type { CacheMeta, PixelStore } from './cache.js';
import type { BuildContext, Part, Prep } from './files.js';
import { Histogram, putRow } from './pixels.js';

const code = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));

/** Pulls exact byte counts out of a stream. */
export class ByteReader {
  private it: AsyncIterator<Buffer>;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  consumed = 0;

  constructor(stream: Readable) {
    this.it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** Exactly n bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      if (this.pos >= this.buf.length) {
        const r = await this.it.next();
        if (r.done) break;
        this.buf = r.value;
        this.pos = 0;
        continue;
      }
      const take = Math.min(need, this.buf.length - this.pos);
      parts.push(this.buf.subarray(this.pos, this.pos + take));
      this.pos += take;
      need -= take;
    }
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.consumed += out.length;
    return out;
  }

  /** Whether anything is left. */
  async atEnd(): Promise<boolean> {
    if (this.pos < this.buf.length) return false;
    for (;;) {
      const r = await this.it.next();
      if (r.done) return true;
      if (r.value.length > 0) {
        this.buf = r.value;
        this.pos = 0;
        return false;
      }
    }
  }
}

/** An array of uint8 images in a stream: count, layout, where the pixel bytes start. */
export interface ImageArray {
  file: string;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** Samples of one pixel are interleaved (NHWC) rather than planar (NCHW). */
  interleaved: boolean;
  /** Opens a reader positioned at the first pixel byte. */
  open(): Promise<ByteReader>;
}

/** A dataset part: its images and labels. */
export interface ArrayPart {
  images: ImageArray;
  labels: Int32Array;
  labelFile: string;
}

// ---------------------------------------------------------------------------------------------------------------
// idx

/** Gzip is recognised by its magic bytes, not the file name. */
function isGzip(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } catch (e) {
    throw inputError(file, undefined, `cannot read file (${code(e)})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function fileStream(file: string): Readable {
  const raw = createReadStream(file);
  if (!isGzip(file)) return raw;
  const gz = createGunzip();
  raw.on('error', (e) => gz.destroy(e));
  return raw.pipe(gz);
}

const IDX_TYPES: Record<number, string> = { 0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double' };

/** Reads an idx header; returns the dimensions and a reader positioned after it. */
async function idxHeader(file: string, ndim: number, what: string): Promise<{ dims: number[]; reader: ByteReader }> {
  const reader = new ByteReader(fileStream(file));
  let head: Buffer;
  try {
    head = await reader.read(4);
  } catch (e) {
    throw inputError(file, undefined, `cannot read ${what} (${code(e)})`);
  }
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0) throw inputError(file, undefined, `not an idx file (expected the magic bytes 00 00 <type> <dims> at its start; ${what})`);
  if (head[2] !== 0x08) throw inputError(file, undefined, `idx element type ${IDX_TYPES[head[2]!] ?? `0x${head[2]!.toString(16)}`}; expected unsigned byte (0x08) ${what}`);
  if (head[3] !== ndim) throw inputError(file, undefined, `idx file has ${head[3]} dimension(s); expected ${ndim} (${what})`);
  const d = await reader.read(4 * ndim);
  if (d.length < 4 * ndim) throw inputError(file, undefined, 'truncated: the file ends inside its idx header');
  return { dims: Array.from({ length: ndim }, (_, k) => d.readUInt32BE(4 * k)), reader };
}

async function readIdxLabels(file: string): Promise<Uint8Array> {
  const { dims, reader } = await idxHeader(file, 1, 'labels: 1 dimension');
  let bytes: Buffer;
  try {
    bytes = await reader.read(dims[0]!);
  } catch (e) {
    throw inputError(file, undefined, `truncated or corrupt (${code(e)})`);
  }
  if (bytes.length < dims[0]!) throw inputError(file, undefined, `truncated: its header says ${dims[0]} labels, the file holds ${bytes.length}`);
  return new Uint8Array(bytes);
}

async function idxImages(file: string): Promise<ImageArray> {
  const { dims } = await idxHeader(file, 3, 'images: N × rows × columns');
  const [count, height, width] = dims as [number, number, number];
  if (count === 0 || height === 0 || width === 0) throw inputError(file, undefined, `idx images of size ${count}×${height}×${width}; expected at least one image`);
  return {
    file,
    count,
    height,
    width,
    channels: 1,
    interleaved: false,
    open: async () => (await idxHeader(file, 3, 'images')).reader,
  };
}

const IMAGES = /images?[-_.]idx3[-_.]ubyte(\.gz)?$/i;

/** The idx files of a dataset: `data` is a folder with one train pair, or the train images file. */
export function idxFiles(data: string): Partial<Record<Part, { images: string; labels: string }>> {
  let trainImages: string;
  let st;
  try {
    st = statSync(data);
  } catch (e) {
    throw inputError(data, undefined, `cannot read (${code(e)})`);
  }
  if (st.isDirectory()) {
    const names = readdirSync(data).filter((n) => IMAGES.test(n) && /train/i.test(n));
    if (names.length === 0) throw inputError(data, undefined, 'no train images idx file (expected a name like train-images-idx3-ubyte or train-images-idx3-ubyte.gz)');
    const ubyte = names.filter((n) => !names.includes(`${n}.gz`)); // both forms: the uncompressed one
    if (ubyte.length > 1) throw inputError(data, undefined, `several train images idx files (${ubyte.join(', ')}); pass the one to use as --data`);
    trainImages = join(data, ubyte[0]!);
  } else trainImages = data;
  const dir = dirname(trainImages);
  const name = basename(trainImages);
  if (!IMAGES.test(name)) throw inputError(trainImages, undefined, 'not an idx images file name (expected …images-idx3-ubyte or …images-idx3-ubyte.gz)');
  const labelsOf = (n: string): string => n.replace(/images?([-_.])idx3/i, (_m, sep: string) => `labels${sep}idx1`);
  const exists = (n: string): string | undefined => {
    const cands = [n, n.endsWith('.gz') ? n.slice(0, -3) : `${n}.gz`].map((x) => join(dir, x));
    return cands.find((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
  };
  const trainLabels = exists(labelsOf(name));
  if (trainLabels === undefined) throw inputError(trainImages, undefined, `no labels file next to it (expected ${join(dir, labelsOf(name))})`);
  const out: Partial<Record<Part, { images: string; labels: string }>> = { train: { images: trainImages, labels: trainLabels } };
  for (const t of ['t10k', 'test']) {
    const ti = exists(name.replace(/train/i, t));
    const tl = ti && exists(labelsOf(basename(ti)));
    if (ti && tl) {
      out.test = { images: ti, labels: tl };
      break;
    }
  }
  return out;
}

async function idxPart(files: { images: string; labels: string }): Promise<ArrayPart> {
  const images = await idxImages(files.images);
  const labels = await readIdxLabels(files.labels);
  if (labels.length !== images.count) {
    throw inputError(files.labels, undefined, `${labels.length} labels, but ${files.images} holds ${images.count} images`);
  }
  return { images, labels: Int32Array.from(labels), labelFile: files.labels };
}

// ---------------------------------------------------------------------------------------------------------------
// building

export interface ArraySource {
  what: string;
  /** Identity for the cache key: the files with sizes and modification times. */
  identity: unknown;
  sources: string[];
  /** Loads the part's header and labels (cheap), then `build` streams its images. */
  part(): Promise<ArrayPart>;
  close(): void;
}

export function fileIdentity(files: string[]): [string, number, number][] {
  return files.map((f) => {
    try {
      const s = statSync(f);
      return [basename(f), s.size, Math.round(s.mtimeMs)];
    } catch (e) {
      throw inputError(f, undefined, `cannot read file (${code(e)})`);
    }
  });
}

export function idxSource(files: { images: string; labels: string }, part: Part): ArraySource {
  return {
    what: `idx ${part}`,
    identity: { format: 'idx', files: fileIdentity([files.images, files.labels]) },
    sources: [files.images, files.labels],
    part: () => idxPart(files),
    close() {},
  };
}

/** Label values → class indices: `known` (the train part's values) or the sorted distinct values present. */
export function classValues(labels: Int32Array, known: readonly string[] | undefined, file: string): { labels: Int32Array; classNames: string[] } {
  const values = known ?? [...new Set(labels)].sort((a, b) => a - b).map(String);
  const index = new Map(values.map((v, i) => [Number(v), i]));
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const k = index.get(labels[i]!);
    if (k === undefined) throw inputError(file, undefined, `label ${labels[i]} (image ${i}) is not among the training labels (${values.join(', ')})`);
    out[i] = k;
  }
  return { labels: out, classNames: [...values] };
}

const ROWS_PER_WRITE = 1024;

/** Streams an array part into a pixel store, converting each image to the working shape. */
export async function buildFromArrays(src: ArraySource, prep: Prep, ctx: BuildContext, known?: readonly string[]): Promise<PixelStore> {
  const t0 = performance.now();
  const p = await src.part();
  const im = p.images;
  const { labels, classNames } = classValues(p.labels, known, p.labelFile);
  const channels = prep.channels ?? (im.channels >= 3 ? 3 : 1);
  const shape: [number, number, number] = [channels, prep.height ?? im.height, prep.width ?? im.width];
  const [c, h, w] = shape;
  const per = c * h * w;
  const srcPer = im.height * im.width * im.channels;
  const writer = ctx.writer(im.count, shape);
  try {
    const reader = await im.open();
    const hist = new Histogram(c);
    const srcCh = im.channels >= 3 ? 3 : 1;
    const pixel = new Uint8Array(im.height * im.width * srcCh);
    const out = new Uint8Array(ROWS_PER_WRITE * per);
    ctx.onProgress?.('converting', 0, im.count);
    for (let start = 0; start < im.count; start += ROWS_PER_WRITE) {
      const n = Math.min(ROWS_PER_WRITE, im.count - start);
      let bytes: Buffer;
      try {
        bytes = await reader.read(n * srcPer);
      } catch (e) {
        throw inputError(im.file, undefined, `truncated or corrupt: ${code(e)} after ${start} of ${im.count} images`);
      }
      if (bytes.length < n * srcPer) {
        throw inputError(im.file, undefined, `truncated: its header says ${im.count} images of ${im.height}×${im.width}${im.channels > 1 ? `×${im.channels}` : ''}, the file ends after ${start + Math.floor(bytes.length / srcPer)}`);
      }
      for (let k = 0; k < n; k++) {
        const s = bytes.subarray(k * srcPer, (k + 1) * srcPer);
        // to interleaved 1 or 3 channels (planar sources and alpha handled here)
        if (srcCh === 1 && im.channels === 1) pixel.set(s);
        else {
          const plane = im.height * im.width;
          for (let q = 0; q < plane; q++) {
            for (let ch = 0; ch < srcCh; ch++) pixel[q * srcCh + ch] = im.interleaved ? s[q * im.channels + ch]! : s[ch * plane + q]!;
          }
        }
        putRow(pixel, im.height, im.width, srcCh, out, k * per, c, h, w);
        hist.addRow(out, k * per, h * w);
      }
      writer.write(start, out.subarray(0, n * per));
      ctx.onProgress?.('converting', start + n, im.count);
    }
    if (!(await reader.atEnd())) throw inputError(im.file, undefined, `more bytes than its header's ${im.count} images of ${im.height}×${im.width} (a corrupt header?)`);
    const meta: CacheMeta = {
      format: 'robot-nas-images',
      version: 1,
      key: '',
      what: src.what,
      count: im.count,
      shape,
      classes: classNames.length,
      classNames,
      histogram: Array.from(hist.counts),
      levels: null,
      norm: null,
      notes: [],
      sources: src.sources,
      seconds: (performance.now() - t0) / 1000,
    };
    return writer.finish(meta, labels);
  } catch (e) {
    writer.abort();
    throw e;
  } finally {
    src.close();
  }
}
