/**
 * A folder of images per class, like torchvision's ImageFolder: `DIR/<class>/*.png|jpg|jpeg`.
 * Classes are the sorted subfolder names (label = position); images are taken in sorted file-name
 * order, decoded as RGB (alpha dropped, grey expanded), squashed to `size`×`size` (default 32;
 * area averaging when shrinking, bilinear when enlarging) and normalised with the dataset's own
 * per-channel mean/std (computed over the loaded images) unless `mean`/`std` are given.
 * With `split`, images come from `DIR/<split>/<class>/…` (for 'test', `DIR/val/` if there is no
 * `DIR/test/`). Hidden entries (names starting with '.') and other files are ignored; a symbolic link whose target
 * is missing or loops is an error. `limit` picks class-balanced (round-robin) and decodes only the picked files.
 * With `classNames` (a model's classes, or the training split's when loading the test split) folders are matched by
 * name: a class without a folder is allowed (`absentClasses` says which), a folder of another name is an error.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { InputError, inputError } from '../util/errors.js';
import { PixelSink, balancedPick, checkOptions, finishDataset, hwc, isDir, pickNorm, type LoadOptions } from './common.js';
import type { ImageDataset } from './types.js';
import { maxImagePixels } from './pixel-limit.js';

export { DEFAULT_MAX_PIXELS, maxImagePixels } from './pixel-limit.js';

export const IMAGE_FILE = /\.(png|jpe?g)$/i;

interface RgbaImage {
  width: number;
  height: number;
  /** width × height × 4 bytes, RGBA. */
  data: Uint8Array;
}

/** Width and height from a PNG's IHDR or a JPEG's frame header, without decoding (undefined when not found). */
export function imageDimensions(buf: Uint8Array, png: boolean): { width: number; height: number } | undefined {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (png) return buf.length >= 24 ? { width: view.getUint32(16), height: view.getUint32(20) } : undefined;
  // JPEG: walk the marker segments to the first start-of-frame (SOF0..SOF15 but DHT C4, JPG C8, DAC CC)
  let i = 2;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return undefined;
    const marker = buf[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    const len = view.getUint16(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
    }
    i += 2 + len;
  }
  return undefined;
}

/** Whether a file holds its format's end marker (PNG's IEND chunk, JPEG's EOI) near its end: not cut short. */
function hasEnd(buf: Uint8Array, png: boolean): boolean {
  const tail = Buffer.from(buf.subarray(Math.max(0, buf.length - 32)));
  return png ? tail.includes('IEND') : tail.includes(Buffer.from([0xff, 0xd9]));
}

/** The decoder's words for a file that fails to decode; a file cut short is said so, naming no decoder internals. */
function decodeFailure(e: unknown, buf: Uint8Array, png: boolean): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (!hasEnd(buf, png) || /finished stream|unexpected end|premature end|truncated|not enough data/i.test(msg)) {
    return `the ${png ? 'PNG' : 'JPEG'} file is truncated or incomplete (it ends before its image data do); replace or remove it`;
  }
  return `cannot decode ${png ? 'PNG' : 'JPEG'} image: ${msg}`;
}

/** Decodes a PNG or JPEG (recognised by its signature, not its extension) to RGBA. */
export function decodeImage(file: string, maxPixels = maxImagePixels()): RgbaImage {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw inputError(file, undefined, `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const isPng = buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47;
  const isJpeg = buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
  if (!isPng && !isJpeg) throw inputError(file, undefined, 'cannot decode image: not a PNG or JPEG file');
  const dims = imageDimensions(buf, isPng);
  if (dims !== undefined && dims.width * dims.height > maxPixels) {
    throw inputError(
      file,
      undefined,
      `${dims.width}×${dims.height} pixels (${(dims.width * dims.height / 1e6).toFixed(1)} megapixels) is above the limit of ${(maxPixels / 1e6).toFixed(1)} megapixels; ` +
        'shrink the image, or raise the limit with --max-pixels N (ROBOT_NAS_MAX_PIXELS)',
    );
  }
  let img: RgbaImage;
  try {
    if (isPng) {
      const p = pngjs.PNG.sync.read(buf);
      img = { width: p.width, height: p.height, data: p.data };
    } else {
      img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true });
    }
  } catch (e) {
    throw inputError(file, undefined, decodeFailure(e, buf, isPng));
  }
  if (!(img.width >= 1 && img.height >= 1) || img.data.length < img.width * img.height * 4) {
    throw inputError(file, undefined, `cannot decode ${isPng ? 'PNG' : 'JPEG'} image: no pixel data`);
  }
  return img;
}

function visibleEntries(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .sort();
  } catch (e) {
    throw inputError(dir, undefined, `cannot read folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/**
 * What an entry is, following symbolic links; a link whose target is missing or that loops is an InputError naming
 * it, so that a class (or an image) never vanishes silently.
 */
function entryKind(path: string): 'dir' | 'file' | 'other' {
  try {
    const st = statSync(path);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    let link = false;
    try {
      link = lstatSync(path).isSymbolicLink();
    } catch {
      /* vanished meanwhile: reported below as unreadable */
    }
    throw inputError(
      path,
      undefined,
      link
        ? `a symbolic link ${code === 'ELOOP' ? 'that loops (ELOOP)' : `to a missing target (${readlinkOr(path)}, ${code})`}; fix or remove it`
        : `cannot read (${code})`,
    );
  }
}

function readlinkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '?';
  }
}

/** The classes (by name) of a dataset with no image in `ds` — e.g. a class the test folder lacks. */
export function absentClasses(ds: ImageDataset): string[] {
  const seen = new Uint8Array(ds.classes);
  for (const l of ds.labels) seen[l] = 1;
  const names = ds.classNames ?? Array.from({ length: ds.classes }, (_, i) => String(i));
  return names.filter((_, i) => seen[i] === 0);
}

/** The folder holding the class folders for `split`. */
function splitDir(root: string, split: LoadOptions['split']): string {
  if (split === undefined) return root;
  const tries = split === 'test' ? ['test', 'val'] : ['train'];
  const found = tries.map((t) => join(root, t)).find(isDir);
  if (found === undefined) {
    throw inputError(root, undefined, `no ${tries.join(' or ')} subfolder for split '${split}' (omit split to use the class folders directly in it)`);
  }
  return found;
}

export function loadImageFolder(opts: LoadOptions = {}): ImageDataset {
  const { limit, size } = checkOptions(opts);
  const norm = pickNorm(opts, 3, undefined);
  if (opts.data === undefined || opts.data === '') throw new InputError('folder dataset: give the folder (--data DIR) holding one subfolder of images per class');
  if (!isDir(opts.data)) throw inputError(opts.data, undefined, 'not a directory (expected one subfolder of images per class)');
  const dir = splitDir(opts.data, opts.split);

  const found = visibleEntries(dir).filter((n) => entryKind(join(dir, n)) === 'dir');
  if (found.length === 0) throw inputError(dir, undefined, 'no class folders; expected DIR/<class>/*.png|jpg|jpeg');
  // Labels are positions in the class list: with `classNames` (the model's, or the training split's) a folder is
  // labelled by its name, never by its position among the folders present — a class may be absent here, not new.
  const classNames = opts.classNames !== undefined ? [...opts.classNames] : found;
  if (opts.classNames !== undefined) {
    const known = new Set(classNames);
    const unknown = found.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      const listed = classNames.length <= 12 ? classNames.map((n) => `'${n}'`).join(', ') : `${classNames.slice(0, 12).map((n) => `'${n}'`).join(', ')}, …`;
      throw inputError(
        join(dir, unknown[0]!),
        undefined,
        `unknown class '${unknown[0]}'${unknown.length > 1 ? ` (and ${unknown.length - 1} more: ${unknown.slice(1, 4).map((n) => `'${n}'`).join(', ')})` : ''}: ` +
          `not one of the ${classNames.length} classes of ${opts.classNamesFrom ?? 'the training images'} (${listed})`,
      );
    }
  }
  const files: string[] = [];
  const fileLabels: number[] = [];
  for (const name of found) {
    const label = classNames.indexOf(name);
    const cdir = join(dir, name);
    const images = visibleEntries(cdir).filter((f) => IMAGE_FILE.test(f) && entryKind(join(cdir, f)) !== 'dir');
    if (images.length === 0) throw inputError(cdir, undefined, `empty class folder: no .png, .jpg or .jpeg files (class '${name}')`);
    for (const f of images) {
      files.push(join(cdir, f));
      fileLabels.push(label);
    }
  }

  const pick = balancedPick(fileLabels, classNames.length, limit);
  const side = size ?? 32;
  const sink = new PixelSink(pick.length, 3, side, side, norm);
  const labels = new Int32Array(pick.length);
  pick.forEach((src, k) => {
    const img = decodeImage(files[src]!);
    labels[k] = fileLabels[src]!;
    sink.put(k, img.data, hwc(0, img.height, img.width, 4), 1 / 255);
  });
  return finishDataset(
    sink,
    { name: 'folder', labels, classes: classNames.length, sources: pick.map((i) => files[i]!), classNames },
  );
}
