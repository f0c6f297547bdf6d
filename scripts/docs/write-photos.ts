/**
 * Writes a small folder of colour photos as a user might have it (my-photos/<class>/*.png|jpg in the working
 * folder), the input of the README's worked example: the shared CIFAR-10 images (../shared/data/cifar10, 1,000
 * images of 32×32), six classes of uneven size, one image in eight saved at 40×40 and one in five as JPEG.
 *   node --import tsx scripts/docs/write-photos.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { loadCifar10Subset } from '../../src/data/cifar10-1k.js';
import { findDataFolder } from '../../src/formats/data-folder.js';

const ds = loadCifar10Subset({ data: join(findDataFolder(undefined, process.env, undefined, 'the shared data folder'), 'cifar10'), mean: [0, 0, 0], std: [1, 1, 1] });
const keep: Record<string, number> = { airplane: 100, automobile: 100, cat: 100, frog: 60, ship: 40, truck: 30 };
const seen: Record<string, number> = {};
for (let i = 0; i < ds.count; i++) {
  const cls = ds.classNames![ds.labels[i]!]!;
  if (!(cls in keep) || (seen[cls] = (seen[cls] ?? 0) + 1) > keep[cls]!) continue;
  const big = i % 8 === 3;
  const side = big ? 40 : 32;
  const rgba = Buffer.alloc(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      // nearest-neighbour upscaling for the 40×40 ones
      const sy = Math.floor((y * 32) / side);
      const sx = Math.floor((x * 32) / side);
      for (let c = 0; c < 3; c++) rgba[(y * side + x) * 4 + c] = Math.round(ds.images[((i * 3 + c) * 32 + sy) * 32 + sx]! * 255);
      rgba[(y * side + x) * 4 + 3] = 255;
    }
  }
  mkdirSync(join('my-photos', cls), { recursive: true });
  const name = join('my-photos', cls, `img${String(i).padStart(4, '0')}`);
  if (i % 5 === 1) writeFileSync(`${name}.jpg`, jpeg.encode({ width: side, height: side, data: rgba }, 92).data);
  else {
    const png = new pngjs.PNG({ width: side, height: side });
    png.data = rgba;
    writeFileSync(`${name}.png`, pngjs.PNG.sync.write(png, { colorType: 2 }));
  }
}
