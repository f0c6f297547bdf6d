/**
 * Writes a few MNIST test digits as PNG files (my-digits/<label>-<k>.png in the working folder), the images the
 * README's `predict` example classifies. Test digits: images `train` never saw.
 *   node --import tsx scripts/docs/write-digits.ts 0 5 9
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import pngjs from 'pngjs';
import { loadMnist } from '../../src/data/mnist.js';

const wanted = process.argv.slice(2).map(Number);
const ds = loadMnist({ split: 'test' });
mkdirSync('my-digits', { recursive: true });
const side = ds.height;
const names = ['a', 'b', 'c', 'd', 'e'];
wanted.forEach((digit, k) => {
  // the 11th test image of the digit (any fixed choice; the first ones are the package's easiest)
  const hits = [...ds.labels.keys()].filter((i) => ds.labels[i] === digit);
  const i = hits[10];
  const png = new pngjs.PNG({ width: side, height: side });
  for (let p = 0; p < side * side; p++) {
    const v = Math.round(Math.min(1, Math.max(0, ds.images[i * side * side + p] * ds.std[0] + ds.mean[0])) * 255);
    png.data.set([v, v, v, 255], 4 * p);
  }
  const file = `my-digits/${digit}-${names[k]}.png`;
  writeFileSync(file, pngjs.PNG.sync.write(png));
  process.stdout.write(`${file}\n`);
});
