/**
 * An image folder as a user would have one, made from Debian's `dataset-fashion-mnist`
 * (/usr/share/datasets/fashion-mnist/*-idx?-ubyte.gz): grayscale 28×28 PNGs in `train/<class>/` (the first 800
 * images of each class of the training file, 8,000 in all) and `test/<class>/` (all 10,000 test images), class
 * folders named `<label>-<name>` so that their sorted order is the dataset's label order. `--dataset folder --data
 * DIR` then reads it like any user's folder.
 *
 * Written once into a temporary sibling folder and renamed into place; a marker file records the sources and the
 * layout, and a folder at the destination without a matching marker is refused, never overwritten.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pngjs from 'pngjs';
import { InputError } from '../../src/util/errors.js';

export const FASHION_SOURCE = '/usr/share/datasets/fashion-mnist';
const CLASSES = ['tshirt-top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot'];
const TRAIN_PER_CLASS = 800;
const MARKER = '.robot-nas-fashion-mnist.json';
const WRITING = '.robot-nas-writing';
/** Bump when the layout changes (a new folder name follows from it). */
const LAYOUT = 1;

interface Idx {
  count: number;
  rows: number;
  cols: number;
  data: Uint8Array;
}

function readIdx(file: string, magic: number): Idx {
  const buf = gunzipSync(readFileSync(file));
  if (buf.readUInt32BE(0) !== magic) throw new InputError(`${file}: not an idx file of the expected kind (magic ${buf.readUInt32BE(0)}, expected ${magic})`);
  const count = buf.readUInt32BE(4);
  const image = magic === 2051;
  const rows = image ? buf.readUInt32BE(8) : 1;
  const cols = image ? buf.readUInt32BE(12) : 1;
  const offset = image ? 16 : 8;
  if (buf.length !== offset + count * rows * cols) throw new InputError(`${file}: ${buf.length} bytes, expected ${offset + count * rows * cols}`);
  return { count, rows, cols, data: new Uint8Array(buf.buffer, buf.byteOffset + offset, count * rows * cols) };
}

function sourceFiles(): Record<string, string> {
  const files = {
    trainImages: join(FASHION_SOURCE, 'train-images-idx3-ubyte.gz'),
    trainLabels: join(FASHION_SOURCE, 'train-labels-idx1-ubyte.gz'),
    testImages: join(FASHION_SOURCE, 't10k-images-idx3-ubyte.gz'),
    testLabels: join(FASHION_SOURCE, 't10k-labels-idx1-ubyte.gz'),
  };
  for (const f of Object.values(files)) {
    if (!existsSync(f)) throw new InputError(`${f} not found: install Debian's Fashion-MNIST (sudo apt-get install dataset-fashion-mnist)`);
  }
  return files;
}

/** What the folder is made of: the layout and the sources' hashes (the marker's content). */
function description(files: Record<string, string>): Record<string, unknown> {
  const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
  return { layout: LAYOUT, trainPerClass: TRAIN_PER_CLASS, classes: CLASSES, sources: Object.fromEntries(Object.entries(files).map(([k, f]) => [k, { file: f, sha256: sha(f) }])) };
}

function writePng(file: string, pixels: Uint8Array, width: number, height: number): void {
  const png = new pngjs.PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    png.data[4 * i] = png.data[4 * i + 1] = png.data[4 * i + 2] = pixels[i];
    png.data[4 * i + 3] = 255;
  }
  writeFileSync(file, pngjs.PNG.sync.write(png, { colorType: 0 }));
}

function writeSplit(root: string, split: 'train' | 'test', images: Idx, labels: Idx, perClass: number): number {
  const dirs = CLASSES.map((name, label) => join(root, split, `${label}-${name}`));
  for (const d of dirs) mkdirSync(d, { recursive: true });
  const taken = new Array<number>(CLASSES.length).fill(0);
  const pixels = images.rows * images.cols;
  let written = 0;
  for (let i = 0; i < images.count; i++) {
    const label = labels.data[i];
    if (taken[label] >= perClass) continue;
    taken[label]++;
    writePng(join(dirs[label], `${String(i).padStart(5, '0')}.png`), images.data.subarray(i * pixels, (i + 1) * pixels), images.cols, images.rows);
    written++;
  }
  return written;
}

/**
 * The folder at `dir` (made if missing); returns its absolute path. Refuses a folder it did not write, and removes
 * only its own unfinished temporary folders next to it.
 */
export function ensureFashionFolder(dir: string, log: (m: string) => void = () => {}): string {
  const abs = resolve(dir);
  const files = sourceFiles();
  const want = description(files);
  if (existsSync(abs)) {
    const marker = join(abs, MARKER);
    if (!existsSync(marker)) throw new InputError(`${abs} exists but was not written by the evidence script (no ${MARKER}); move it away or choose another results folder`);
    const have = readFileSync(marker, 'utf8');
    if (have !== JSON.stringify(want, null, 2) + '\n') {
      throw new InputError(`${abs} holds another Fashion-MNIST folder (its ${MARKER} differs: other sources or layout); move it away to rebuild it`);
    }
    return abs;
  }
  const parent = dirname(abs);
  mkdirSync(parent, { recursive: true });
  // an interrupted earlier run's temporary folder (ours: it holds the writing marker)
  for (const name of readdirSync(parent)) {
    if (name.startsWith(`.${basename(abs)}.tmp-`) && existsSync(join(parent, name, WRITING))) rmSync(join(parent, name), { recursive: true, force: true });
  }
  const tmp = join(parent, `.${basename(abs)}.tmp-${process.pid}`);
  mkdirSync(tmp);
  writeFileSync(join(tmp, WRITING), '');
  log(`writing the Fashion-MNIST image folder ${abs} (PNG, ${TRAIN_PER_CLASS * CLASSES.length} train + 10,000 test images) …`);
  const nTrain = writeSplit(tmp, 'train', readIdx(files.trainImages, 2051), readIdx(files.trainLabels, 2049), TRAIN_PER_CLASS);
  const nTest = writeSplit(tmp, 'test', readIdx(files.testImages, 2051), readIdx(files.testLabels, 2049), Infinity);
  writeFileSync(join(tmp, MARKER), JSON.stringify(want, null, 2) + '\n');
  rmSync(join(tmp, WRITING));
  renameSync(tmp, abs);
  log(`wrote ${nTrain} train and ${nTest} test images`);
  return abs;
}
