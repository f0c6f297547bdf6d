/**
 * Datasets that are lists of image files with labels, and how they are decoded into the image cache:
 *
 * - a folder of class folders, like torchvision's ImageFolder: `DIR/<class>/*.png|jpg|jpeg`, or with splits
 *   `DIR/train/<class>/…` plus optional `DIR/val/` (or `valid/`) and `DIR/test/`. Classes are the train part's
 *   sorted subfolder names; the val and test parts are matched to them by name (a class they lack is reported, a
 *   class the train part lacks is an error). Hidden entries (names starting with '.') and other files are ignored.
 * - a CSV of `path,label` (a header line `path,label` is optional; a third column `split` = train|val|test
 *   splits it): paths relative to the CSV's folder, labels any text (classes are the sorted distinct labels).
 *
 * The working size is `size` (square), else the most common size among the files (others are resized, and the run
 * says so); the channels are `channels`, else 1 when every file is grey and 3 otherwise. Headers and pixels are
 * read on worker threads for large lists, each thread writing its rows straight into the cache file.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { workerThreadRunner } from '../runner/worker-threads.js';
import type { Runner } from '../runner/types.js';
import { InputError, inputError } from '../util/errors.js';
import type { CacheMeta, PixelStore, RowWriter } from './cache.js';
import { decodeExecutor, decodeWork, type DecodeResult, type DecodeWork, type ProbeWork } from './decode-work.js';
import { IMAGE_FILE, type ImageHeader } from './decode.js';
import { Histogram } from './pixels.js';

export type Part = 'train' | 'val' | 'test' | 'all';

export interface LabelledFiles {
  what: string;
  files: string[];
  labels: Int32Array;
  classNames: string[];
  /** SHA-256 over every file's relative path, size and modification time: what the cache is keyed by. */
  identity: { root: string; files: string };
  sources: string[];
  /** Things worth saying (e.g. classes a test split lacks). */
  notes: string[];
}

const code = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

function visibleEntries(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .sort();
  } catch (e) {
    throw inputError(dir, undefined, `cannot read folder (${code(e)})`);
  }
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Subfolders of `dir`; a symbolic link that leads nowhere (dangling, or a loop) is an error naming it. */
function classFolders(dir: string): string[] {
  return visibleEntries(dir).filter((n) => {
    const p = join(dir, n);
    let l;
    try {
      l = lstatSync(p);
    } catch (e) {
      throw inputError(p, undefined, `cannot read (${code(e)})`);
    }
    if (!l.isSymbolicLink()) return l.isDirectory();
    try {
      return statSync(p).isDirectory();
    } catch (e) {
      throw inputError(p, undefined, `class folder is a symbolic link that leads nowhere (${code(e) === 'ELOOP' ? 'a loop' : 'dangling'})`);
    }
  });
}

/** The folder's parts: with `DIR/train/`, the split folders present; otherwise the class folders directly. */
export function folderParts(root: string): Partial<Record<Part, string>> {
  if (!isDir(root)) throw inputError(root, undefined, 'not a directory (expected one subfolder of images per class, or train/ val/ test/ subfolders)');
  const train = join(root, 'train');
  if (!isDir(train)) return { all: root };
  const val = ['val', 'valid', 'validation'].map((v) => join(root, v)).find(isDir);
  const test = join(root, 'test');
  return { train, ...(val ? { val } : {}), ...(isDir(test) ? { test } : {}) };
}

function statFile(p: string, root: string): [string, number, number] {
  try {
    const s = statSync(p);
    if (!s.isFile()) throw inputError(p, undefined, 'not a file');
    return [relative(root, p), s.size, Math.round(s.mtimeMs)];
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw inputError(p, undefined, `cannot read file (${code(e)})`);
  }
}

/** Matches a part's class names to the train part's; returns each name's label. */
function matchClasses(names: readonly string[], known: readonly string[] | undefined, where: string, notes: string[]): number[] {
  if (known === undefined) return names.map((_, i) => i);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw inputError(where, undefined, `class${unknown.length > 1 ? 'es' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} not among the training classes (${known.join(', ')})`);
  }
  const missing = known.filter((n) => !names.includes(n));
  if (missing.length > 0) notes.push(`${where}: no images of class${missing.length > 1 ? 'es' : ''} ${missing.map((n) => `'${n}'`).join(', ')}`);
  return names.map((n) => known.indexOf(n));
}

/** The image files of a class-folder dataset's part. `classNames`: the training classes to match by name. */
export function folderFiles(dir: string, root: string, what: string, classNames?: readonly string[]): LabelledFiles {
  const names = classFolders(dir);
  if (names.length === 0) throw inputError(dir, undefined, 'no class folders; expected DIR/<class>/*.png|jpg|jpeg');
  const notes: string[] = [];
  const labelOf = matchClasses(names, classNames, dir, notes);
  const files: string[] = [];
  const labels: number[] = [];
  // hashed as listed: 60,000 (path, size, time) tuples kept as values would only feed the garbage collector
  const ident = createHash('sha256');
  names.forEach((name, k) => {
    const cdir = join(dir, name);
    const images = visibleEntries(cdir).filter((f) => IMAGE_FILE.test(f));
    let n = 0;
    const rel = relative(root, cdir);
    for (const f of images) {
      const p = join(cdir, f);
      // one stat per file: it is the cache key's (size, time) and tells folders apart (60,000 files: ~0.3 s)
      let st;
      try {
        st = statSync(p);
      } catch (e) {
        throw inputError(p, undefined, `cannot read file (${code(e)})`);
      }
      if (st.isDirectory()) continue;
      files.push(p);
      labels.push(labelOf[k]!);
      ident.update(`${rel}/${f}\0${st.size}\0${Math.round(st.mtimeMs)}\n`);
      n++;
    }
    if (n === 0) throw inputError(cdir, undefined, `empty class folder: no .png, .jpg or .jpeg files (class '${name}')`);
  });
  return {
    what,
    files,
    labels: Int32Array.from(labels),
    classNames: classNames ? [...classNames] : names,
    identity: { root: relative(root, dir) || '.', files: ident.digest('hex') },
    sources: [dir],
    notes,
  };
}

const SPLITS: Record<string, Part> = { train: 'train', val: 'val', valid: 'val', validation: 'val', test: 'test' };

/** The rows of a `path,label[,split]` CSV, checked (line numbers in errors are the file's). */
function csvRows(csv: string): { path: string; label: string; split: Part | undefined; line: number }[] {
  let text: string;
  try {
    text = readFileSync(csv, 'utf8');
  } catch (e) {
    throw inputError(csv, undefined, `cannot read file (${code(e)})`);
  }
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][];
  } catch (e) {
    throw inputError(csv, undefined, `not a CSV file: ${(e as Error).message}`);
  }
  let first = 0;
  const lineOf = (i: number): number => i + 1;
  if (records.length > 0 && /^(path|file|filename|image)$/i.test(records[0]![0] ?? '') && /^(label|class)$/i.test(records[0]![1] ?? '')) first = 1;
  const rows = [];
  for (let i = first; i < records.length; i++) {
    const r = records[i]!;
    if (r.length < 2 || r[0] === '' || r[1] === '') throw inputError(csv, lineOf(i), `expected path,label[,split], got '${r.join(',')}'`);
    let split: Part | undefined;
    if (r.length >= 3 && r[2] !== '') {
      split = SPLITS[r[2]!.toLowerCase()];
      if (split === undefined) throw inputError(csv, lineOf(i), `split must be train, val or test, got '${r[2]}'`);
    }
    rows.push({ path: r[0]!, label: r[1]!, split, line: lineOf(i) });
  }
  if (rows.length === 0) throw inputError(csv, undefined, 'no rows; expected lines of path,label');
  return rows;
}

/** Which parts a CSV has: the splits its third column names, or all its rows as one part. */
export function csvParts(csv: string): Partial<Record<Part, string>> {
  const rows = csvRows(csv);
  const splits = new Set(rows.map((r) => r.split));
  if (splits.has(undefined)) {
    if (splits.size > 1) throw inputError(csv, undefined, 'some rows name a split and others do not; give every row a split (train, val, test) or none');
    return { all: csv };
  }
  if (!splits.has('train')) throw inputError(csv, undefined, 'rows name splits but none is train');
  return Object.fromEntries([...splits].map((s) => [s!, csv]));
}

/** The image files of a CSV dataset's part (classes: the train part's labels, or all rows' without splits). */
export function csvFiles(csv: string, part: Part, classNames?: readonly string[]): LabelledFiles {
  const all = csvRows(csv);
  const rows = part === 'all' ? all : all.filter((r) => r.split === part);
  const names = [...new Set(rows.map((r) => r.label))].sort();
  const notes: string[] = [];
  const labelOf = matchClasses(names, classNames, `${csv} (${part} rows)`, notes);
  const root = dirname(resolve(csv));
  const files: string[] = [];
  const ident = createHash('sha256');
  for (const r of rows) {
    const p = isAbsolute(r.path) ? r.path : join(root, r.path);
    try {
      const [rel, size, time] = statFile(p, root);
      ident.update(`${rel}\0${size}\0${time}\0${r.label}\n`);
    } catch (e) {
      throw inputError(csv, r.line, `${r.path}: ${(e as Error).message.replace(`${p}: `, '')}`);
    }
    files.push(p);
  }
  const labels = Int32Array.from(rows, (r) => labelOf[names.indexOf(r.label)]!);
  return { what: `csv ${part}`, files, labels, classNames: classNames ? [...classNames] : names, identity: { root: part, files: ident.digest('hex') }, sources: [csv], notes };
}

export interface BuildContext {
  writer(count: number, shape: [number, number, number]): RowWriter;
  /** Decoding threads (≤ 1: this thread). */
  threads: number;
  maxPixels: number;
  onProgress?(phase: string, done: number, total: number): void;
}

/** The working size and channels asked for (each undefined: the images' own). */
export interface Prep {
  height?: number;
  width?: number;
  channels?: 1 | 3;
}

const PROBE_CHUNK = 2048;
const DECODE_CHUNK = 512;
/** Below this many files, threads cost more to start than they save. */
const THREAD_MIN = 2000;

function chunks(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}

/** The most common value of `keys` (first seen wins a tie) and how often each occurred. */
function mostCommon(keys: string[]): { key: string; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  let best = keys[0]!;
  for (const [k, n] of counts) if (n > counts.get(best)!) best = k;
  return { key: best, counts };
}

/** Decodes a file list into a pixel store (see the module comment). */
export async function buildFromFiles(list: LabelledFiles, prep: Prep, ctx: BuildContext): Promise<PixelStore> {
  const t0 = performance.now();
  const n = list.files.length;
  const useThreads = ctx.threads > 1 && n >= THREAD_MIN;
  let runner: Runner<ProbeWork | DecodeWork, ImageHeader[] | DecodeResult> | undefined;
  const run = (work: ProbeWork | DecodeWork): Promise<ImageHeader[] | DecodeResult> => {
    if (!useThreads) return Promise.resolve(decodeWork(work));
    runner ??= workerThreadRunner(ctx.threads, decodeExecutor());
    return runner.run(work);
  };
  let writer: RowWriter | undefined;
  try {
    const notes = [...list.notes];
    let shape: [number, number, number];
    if (prep.height !== undefined && prep.width !== undefined && prep.channels !== undefined) {
      shape = [prep.channels, prep.height, prep.width];
    } else {
      const headers: ImageHeader[] = new Array(n);
      let done = 0;
      await Promise.all(
        chunks(n, PROBE_CHUNK).map(async ([a, b]) => {
          const hs = (await run({ op: 'probe', files: list.files.slice(a, b), maxPixels: ctx.maxPixels })) as ImageHeader[];
          hs.forEach((h, k) => (headers[a + k] = h));
          done += b - a;
          ctx.onProgress?.('reading headers', done, n);
        }),
      );
      const sizes = mostCommon(headers.map((h) => `${h.height}×${h.width}`));
      const [h, w] = sizes.key.split('×').map(Number) as [number, number];
      const channels = prep.channels ?? (headers.some((x) => x.channels === 3) ? 3 : 1);
      shape = prep.height !== undefined && prep.width !== undefined ? [channels, prep.height, prep.width] : [channels, h, w];
      if (prep.height === undefined && sizes.counts.size > 1) {
        const others = n - sizes.counts.get(sizes.key)!;
        const seen = [...sizes.counts.entries()].sort((x, y) => y[1] - x[1]).slice(0, 4).map(([k, c]) => `${k} ×${c}`).join(', ');
        notes.push(`${list.what}: mixed image sizes (${seen}${sizes.counts.size > 4 ? ', …' : ''}): ${others} of ${n} images resized to ${h}×${w}, the most common size (--image-size N to choose)`);
      }
      if (prep.channels === undefined && channels === 3 && headers.some((x) => x.channels === 1)) {
        notes.push(`${list.what}: ${headers.filter((x) => x.channels === 1).length} grey images among colour ones: their grey is repeated in R, G and B`);
      }
    }
    const [c, h, w] = shape;
    writer = ctx.writer(n, shape);
    const w0 = writer;
    const hist = new Histogram(c);
    let done = 0;
    ctx.onProgress?.('decoding', 0, n);
    await Promise.all(
      chunks(n, DECODE_CHUNK).map(async ([a, b]) => {
        const r = (await run({ op: 'decode', files: list.files.slice(a, b), row0: a, shape, maxPixels: ctx.maxPixels, ...(w0.pixelsFile !== undefined ? { pixelsFile: w0.pixelsFile } : {}) })) as DecodeResult;
        if (r.bytes) {
          const per = c * h * w;
          for (let k = 0; k < b - a; k++) w0.write(a + k, r.bytes.subarray(k * per, (k + 1) * per));
        }
        hist.add(r.histogram);
        done += b - a;
        ctx.onProgress?.('decoding', done, n);
      }),
    );
    const meta: CacheMeta = {
      format: 'robot-nas-images',
      version: 1,
      key: '',
      what: list.what,
      count: n,
      shape,
      classes: list.classNames.length,
      classNames: list.classNames,
      histogram: Array.from(hist.counts),
      levels: null,
      norm: null,
      notes,
      sources: list.sources,
      files: list.files,
      seconds: (performance.now() - t0) / 1000,
    };
    return writer.finish(meta, list.labels);
  } catch (e) {
    writer?.abort();
    throw e;
  } finally {
    await runner?.close();
  }
}
