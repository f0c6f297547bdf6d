/**
 * The image cache: a dataset part decoded once to bytes at its working size, in a folder of three files —
 *
 *   pixels.u8   count × C × H × W bytes (CHW per image, images in the source's order)
 *   labels.i32  count little-endian int32 labels
 *   meta.json   shape, classes and their names, per-channel byte histograms (exact mean/std), notes, sources
 *
 * named `images-<key>` where the key hashes the source's identity (file names, sizes, modification times, or the
 * release files') and the preprocessing (size, channels). A folder is built under a temporary name and renamed
 * into place when complete, so a reader never sees half a cache and two processes building the same one at once
 * both end with a whole one. Rows are read by positional reads of just the images asked for, from any thread or
 * process, so no reader holds the whole set.
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { InputError } from '../util/errors.js';

export const CACHE_FORMAT = 'robot-nas-images';
/** Bumped when rows or meta change meaning: older caches are then rebuilt (their folders have other names). */
export const CACHE_VERSION = 1;

export interface CacheMeta {
  format: typeof CACHE_FORMAT;
  version: typeof CACHE_VERSION;
  key: string;
  /** What it holds, for reports: `folder train`, `idx test`, … */
  what: string;
  count: number;
  shape: [number, number, number];
  classes: number;
  classNames: string[] | null;
  /** channels × 256 counts of byte values. */
  histogram: number[];
  /** The 0..1 value of each byte (null: byte/255). The mnist package's digits are 3-decimal roundings of k/255. */
  levels: number[] | null;
  /** The dataset's usual normalisation (MNIST's, CIFAR's…); null: the training images' own statistics. */
  norm: { mean: number[]; std: number[] } | null;
  /** What preprocessing did that the user should know (e.g. mixed sizes resized). */
  notes: string[];
  /** Files (or folders) the images came from. */
  sources: string[];
  /** For image-file datasets: each row's file (so predictions name files); kept in files.json, read on demand. */
  files?: string[];
  /** Seconds the decoding took. */
  seconds: number;
}

/** Key of a cache: the source's identity and the preprocessing, hashed. */
export function cacheKey(identity: unknown, prep: unknown): string {
  return createHash('sha256').update(JSON.stringify({ v: CACHE_VERSION, identity, prep })).digest('hex').slice(0, 16);
}

export const cacheFolder = (dir: string, key: string): string => join(dir, `images-${key}`);

/** Pixels of a part, from a cache folder or from memory. */
export interface PixelStore {
  readonly meta: CacheMeta;
  readonly labels: Int32Array;
  /** Bytes of the given rows, in that order, into `out` (rows × C×H×W). */
  read(rows: ArrayLike<number>, out: Uint8Array): void;
}

/** A built cache folder, read by positional reads (runs of consecutive rows are read at once). */
export class CacheFile implements PixelStore {
  private fd: number;
  readonly per: number;

  private constructor(
    readonly folder: string,
    readonly meta: CacheMeta,
    readonly labels: Int32Array,
  ) {
    this.per = meta.shape[0] * meta.shape[1] * meta.shape[2];
    this.fd = openSync(join(folder, 'pixels.u8'), 'r');
  }

  /** The cache at `folder`, or undefined when it is missing or incomplete (then it is rebuilt). */
  static open(folder: string): CacheFile | undefined {
    let meta: CacheMeta;
    try {
      meta = JSON.parse(readFileSync(join(folder, 'meta.json'), 'utf8')) as CacheMeta;
    } catch {
      return undefined;
    }
    if (meta.format !== CACHE_FORMAT || meta.version !== CACHE_VERSION) return undefined;
    const per = meta.shape[0] * meta.shape[1] * meta.shape[2];
    try {
      if (statSync(join(folder, 'pixels.u8')).size !== meta.count * per) return undefined;
      const lb = readFileSync(join(folder, 'labels.i32'));
      if (lb.length !== meta.count * 4) return undefined;
      const labels = new Int32Array(meta.count);
      for (let i = 0; i < meta.count; i++) labels[i] = lb.readInt32LE(4 * i);
      return new CacheFile(folder, meta, labels);
    } catch {
      return undefined;
    }
  }

  /** Each row's file, for image-file datasets (undefined for others). */
  files(): string[] | undefined {
    try {
      return JSON.parse(readFileSync(join(this.folder, 'files.json'), 'utf8')) as string[];
    } catch {
      return undefined;
    }
  }

  read(rows: ArrayLike<number>, out: Uint8Array): void {
    const per = this.per;
    let k = 0;
    while (k < rows.length) {
      // a run of consecutive rows is one read
      let run = 1;
      while (k + run < rows.length && rows[k + run] === rows[k]! + run) run++;
      const want = run * per;
      let got = 0;
      while (got < want) {
        const n = readSync(this.fd, out, k * per + got, want - got, rows[k]! * per + got);
        if (n === 0) throw new InputError(`${join(this.folder, 'pixels.u8')}: shorter than its meta.json says (was it changed while in use?)`);
        got += n;
      }
      k += run;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Pixels held in memory (library calls without a cache folder, and small test sets). */
export class MemoryPixels implements PixelStore {
  readonly per: number;
  constructor(
    readonly meta: CacheMeta,
    readonly labels: Int32Array,
    readonly bytes: Uint8Array,
  ) {
    this.per = meta.shape[0] * meta.shape[1] * meta.shape[2];
  }

  read(rows: ArrayLike<number>, out: Uint8Array): void {
    const per = this.per;
    for (let k = 0; k < rows.length; k++) out.set(this.bytes.subarray(rows[k]! * per, (rows[k]! + 1) * per), k * per);
  }
}

/** Where a part's rows are written while it is built: a temporary cache folder, or memory. */
export interface RowWriter {
  /** The pixels file (for decoding threads that write their rows themselves); undefined in memory. */
  readonly pixelsFile: string | undefined;
  write(row: number, bytes: Uint8Array): void;
  finish(meta: CacheMeta, labels: Int32Array): PixelStore;
  abort(): void;
}

export function memoryWriter(count: number, per: number): RowWriter {
  const bytes = new Uint8Array(count * per);
  return {
    pixelsFile: undefined,
    write(row, b) {
      bytes.set(b, row * per);
    },
    finish(meta, labels) {
      return new MemoryPixels(meta, labels, bytes);
    },
    abort() {},
  };
}

/** Builds the cache folder `folder` (see the module comment). */
export function folderWriter(folder: string, count: number, per: number): RowWriter {
  const parent = join(folder, '..');
  try {
    mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw new InputError(`cannot create the image cache folder ${parent} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const tmp = `${folder}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  mkdirSync(tmp);
  const pixelsFile = join(tmp, 'pixels.u8');
  const fd = openSync(pixelsFile, 'w+');
  ftruncateSync(fd, count * per);
  let open = true;
  const close = (): void => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    pixelsFile,
    write(row, b) {
      let done = 0;
      while (done < b.length) done += writeSync(fd, b, done, b.length - done, row * per + done);
    },
    finish(meta, labels) {
      close();
      const lb = Buffer.alloc(labels.length * 4);
      for (let i = 0; i < labels.length; i++) lb.writeInt32LE(labels[i]!, 4 * i);
      writeFileSync(join(tmp, 'labels.i32'), lb);
      const { files, ...rest } = meta;
      if (files) writeFileSync(join(tmp, 'files.json'), JSON.stringify(files) + '\n');
      writeFileSync(join(tmp, 'meta.json'), JSON.stringify(rest) + '\n');
      try {
        renameSync(tmp, folder);
      } catch {
        // another process finished the same cache first: use theirs
        rmSync(tmp, { recursive: true, force: true });
      }
      const c = CacheFile.open(folder);
      if (c === undefined) throw new Error(`image cache ${folder} could not be read back`);
      return c;
    },
    abort() {
      close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export const cacheExists = (folder: string): boolean => existsSync(join(folder, 'meta.json'));
