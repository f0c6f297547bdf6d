/**
 * NumPy `.npz` archives as Keras datasets save them (arrays.ts reads the idx files and builds the image cache from
 * either): `x_train` (N×H×W, N×H×W×C or N×C×H×W, uint8), `y_train` (N or N×1 integers), and optionally
 * `x_test`/`y_test` and `x_val`/`y_val`, each entry inflated on the fly.
 */
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { inputError } from '../util/errors.js';
import { ByteReader, fileIdentity, type ArrayPart, type ArraySource, type ImageArray } from './arrays.js';
import type { Part } from './files.js';

interface NpyHeader {
  descr: string;
  fortran: boolean;
  shape: number[];
}

function parseNpyHeader(text: string, where: string): NpyHeader {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined) throw inputError(where, undefined, `not a .npy header: ${text.slice(0, 80)}`);
  return {
    descr,
    fortran: fortran === 'True',
    shape: shape
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number),
  };
}

/** Reads the .npy header at the reader's position. */
async function npyHeader(reader: ByteReader, where: string): Promise<NpyHeader> {
  const magic = await reader.read(8);
  if (magic.length < 8 || magic[0] !== 0x93 || magic.toString('latin1', 1, 6) !== 'NUMPY') throw inputError(where, undefined, 'not a .npy array (no \\x93NUMPY magic)');
  const major = magic[6]!;
  const lenBytes = await reader.read(major === 1 ? 2 : 4);
  const len = major === 1 ? lenBytes.readUInt16LE(0) : lenBytes.readUInt32LE(0);
  const text = (await reader.read(len)).toString('latin1');
  return parseNpyHeader(text, where);
}

interface Zip {
  entries: Map<string, yauzl.Entry>;
  file: yauzl.ZipFile;
}

async function openZip(path: string): Promise<Zip> {
  const file = await new Promise<yauzl.ZipFile>((res, rej) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (err, zf) => (err ? rej(inputError(path, undefined, `not a readable .npz (zip) archive: ${err.message}`)) : res(zf!))),
  );
  const entries = new Map<string, yauzl.Entry>();
  await new Promise<void>((res, rej) => {
    file.on('entry', (e: yauzl.Entry) => {
      entries.set(e.fileName.replace(/\.npy$/, ''), e);
      file.readEntry();
    });
    file.on('end', () => res());
    file.on('error', (e: Error) => rej(inputError(path, undefined, `corrupt .npz archive: ${e.message}`)));
    file.readEntry();
  });
  return { entries, file };
}

async function entryReader(zip: Zip, name: string, path: string): Promise<ByteReader> {
  const e = zip.entries.get(name)!;
  const s = await new Promise<Readable>((res, rej) => zip.file.openReadStream(e, (err, st) => (err ? rej(inputError(path, undefined, `${name}: ${err.message}`)) : res(st!))));
  return new ByteReader(s);
}

const INT_DTYPES = /^[<>|=]?[iu][1248]$/;

async function npzLabels(zip: Zip, name: string, path: string): Promise<Int32Array> {
  const r = await entryReader(zip, name, path);
  const h = await npyHeader(r, `${path}:${name}`);
  if (!INT_DTYPES.test(h.descr)) throw inputError(path, undefined, `${name} has dtype ${h.descr}; expected integer class labels`);
  if (!(h.shape.length === 1 || (h.shape.length === 2 && h.shape[1] === 1))) throw inputError(path, undefined, `${name} has shape (${h.shape.join(', ')}); expected (N,) or (N, 1)`);
  const n = h.shape[0]!;
  const size = Number(h.descr.slice(-1));
  const big = h.descr.startsWith('>');
  const b = await r.read(n * size);
  if (b.length < n * size) throw inputError(path, undefined, `${name} is truncated: its header says ${n} labels`);
  const out = new Int32Array(n);
  const signed = h.descr.includes('i');
  for (let i = 0; i < n; i++) {
    const o = i * size;
    let v: number;
    if (size === 1) v = signed ? b.readInt8(o) : b[o]!;
    else if (size === 2) v = signed ? (big ? b.readInt16BE(o) : b.readInt16LE(o)) : big ? b.readUInt16BE(o) : b.readUInt16LE(o);
    else if (size === 4) v = signed ? (big ? b.readInt32BE(o) : b.readInt32LE(o)) : big ? b.readUInt32BE(o) : b.readUInt32LE(o);
    else v = Number(signed ? (big ? b.readBigInt64BE(o) : b.readBigInt64LE(o)) : big ? b.readBigUInt64BE(o) : b.readBigUInt64LE(o));
    if (!(v >= 0 && v < 2 ** 31)) throw inputError(path, undefined, `${name}[${i}] = ${v}; expected a class label ≥ 0`);
    out[i] = v;
  }
  return out;
}

async function npzImages(zip: Zip, name: string, path: string): Promise<ImageArray> {
  const h = await npyHeader(await entryReader(zip, name, path), `${path}:${name}`);
  if (!/^[|<>=]?u1$/.test(h.descr)) throw inputError(path, undefined, `${name} has dtype ${h.descr}; expected uint8 pixels (0..255), as Keras datasets save them`);
  if (h.fortran) throw inputError(path, undefined, `${name} is stored in Fortran order; save it C-contiguous (np.ascontiguousarray)`);
  const s = h.shape;
  let dims: { height: number; width: number; channels: number; interleaved: boolean };
  if (s.length === 3) dims = { height: s[1]!, width: s[2]!, channels: 1, interleaved: false };
  else if (s.length === 4 && [1, 3, 4].includes(s[3]!)) dims = { height: s[1]!, width: s[2]!, channels: s[3]!, interleaved: true };
  else if (s.length === 4 && [1, 3].includes(s[1]!)) dims = { height: s[2]!, width: s[3]!, channels: s[1]!, interleaved: false };
  else throw inputError(path, undefined, `${name} has shape (${s.join(', ')}); expected (N, H, W), (N, H, W, C) or (N, C, H, W) with C = 1 or 3`);
  if (s[0] === 0) throw inputError(path, undefined, `${name} holds no images`);
  return {
    file: `${path}:${name}`,
    count: s[0]!,
    ...dims,
    open: async () => {
      const r = await entryReader(zip, name, path);
      await npyHeader(r, path);
      return r;
    },
  };
}

/** The parts an npz archive holds (x_train/y_train required; x_test/y_test and x_val/y_val optional). */
export async function npzParts(path: string): Promise<{ zip: Zip; parts: Partial<Record<Part, [string, string]>> }> {
  const zip = await openZip(path);
  const has = (n: string): boolean => zip.entries.has(n);
  if (!has('x_train') || !has('y_train')) {
    zip.file.close();
    throw inputError(path, undefined, `no x_train and y_train arrays (it holds ${[...zip.entries.keys()].join(', ') || 'nothing'}); expected the arrays Keras datasets save`);
  }
  const parts: Partial<Record<Part, [string, string]>> = { train: ['x_train', 'y_train'] };
  if (has('x_test') && has('y_test')) parts.test = ['x_test', 'y_test'];
  if (has('x_val') && has('y_val')) parts.val = ['x_val', 'y_val'];
  return { zip, parts };
}

async function npzPart(zip: Zip, path: string, [x, y]: [string, string]): Promise<ArrayPart> {
  const images = await npzImages(zip, x, path);
  const labels = await npzLabels(zip, y, path);
  if (labels.length !== images.count) throw inputError(path, undefined, `${y} holds ${labels.length} labels, but ${x} holds ${images.count} images`);
  return { images, labels, labelFile: `${path}:${y}` };
}


export async function npzSource(path: string, part: Part): Promise<ArraySource> {
  const { zip, parts } = await npzParts(path);
  const names = parts[part];
  if (names === undefined) {
    zip.file.close();
    throw inputError(path, undefined, `no ${part} arrays`);
  }
  return {
    what: `npz ${part}`,
    identity: { format: 'npz', arrays: names, files: fileIdentity([path]) },
    sources: [path],
    part: () => npzPart(zip, path, names),
    close: () => zip.file.close(),
  };
}
