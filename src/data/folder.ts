/**
 * A folder of images per class, like torchvision's ImageFolder: `DIR/<class>/*.png|jpg|jpeg`.
 * Classes are the sorted subfolder names (label = position); images are taken in sorted file-name
 * order, decoded as RGB (alpha dropped, grey expanded), squashed to `size`×`size` (default 32;
 * area averaging when shrinking, bilinear when enlarging) and normalised with the dataset's own
 * per-channel mean/std (computed over the loaded images) unless `mean`/`std` are given.
 * With `split`, images come from `DIR/<split>/<class>/…` (for 'test', `DIR/val/` if there is no
 * `DIR/test/`). Hidden entries (names starting with '.') and other files are ignored. `limit`
 * picks class-balanced (round-robin) and decodes only the picked files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { InputError, inputError } from '../util/errors.js';
import { PixelSink, balancedPick, checkOptions, finishDataset, hwc, isDir, pickNorm, type LoadOptions } from './common.js';
import type { ImageDataset } from './types.js';
import { maxImagePixels, tooManyPixels } from './pixel-limit.js';
import { hasEnd, parseHeader } from './decode.js';

const IMAGE_FILE = /\.(png|jpe?g)$/i;

interface RgbaImage {
  width: number;
  height: number;
  /** width × height × 4 bytes, RGBA. */
  data: Uint8Array;
}

/** The decoder's words for a file that fails to decode; a file cut short is said so, naming no decoder internals. */
function decodeFailure(e: unknown, buf: Uint8Array, png: boolean): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (!hasEnd(buf, png) || /finished stream|unexpected end|premature end|truncated|not enough data/i.test(msg)) {
    return `the ${png ? 'PNG' : 'JPEG'} file is truncated or incomplete (it ends before its image data do); replace or remove it`;
  }
  return `cannot decode ${png ? 'PNG' : 'JPEG'} image: ${msg}`;
}

/**
 * Decodes a PNG or JPEG (recognised by its signature, not its extension) to RGBA. An image above `maxPixels`
 * (`--max-pixels`) is refused from its header, before it is decoded.
 */
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
  const dims = parseHeader(buf, file);
  if (dims !== undefined && dims.width * dims.height > maxPixels) throw tooManyPixels(file, dims.width, dims.height, dims.format, maxPixels);
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

  const classNames = visibleEntries(dir).filter((n) => isDir(join(dir, n)));
  if (classNames.length === 0) throw inputError(dir, undefined, 'no class folders; expected DIR/<class>/*.png|jpg|jpeg');
  const files: string[] = [];
  const fileLabels: number[] = [];
  classNames.forEach((name, label) => {
    const cdir = join(dir, name);
    const images = visibleEntries(cdir).filter((f) => IMAGE_FILE.test(f) && !isDir(join(cdir, f)));
    if (images.length === 0) throw inputError(cdir, undefined, `empty class folder: no .png, .jpg or .jpeg files (class '${name}')`);
    for (const f of images) {
      files.push(join(cdir, f));
      fileLabels.push(label);
    }
  });

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
