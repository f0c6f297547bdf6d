/**
 * Small image folders written as a user keeps them: `root/<class>/<n>.png` (or with train/ and test/ levels), each
 * class a distinct colour with a little seeded noise, so a network can tell classes apart in one epoch.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pngjs from 'pngjs';

/** A side×side RGB PNG of a colour with some noise (seeded by `seed`). */
export function pngBytes(side: number, rgb: readonly [number, number, number], seed: number): Buffer {
  const png = new pngjs.PNG({ width: side, height: side });
  let s = (seed * 2654435761) >>> 0;
  for (let p = 0; p < side * side; p++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const n = (s >>> 24) - 128;
    png.data.set([rgb[0], rgb[1], rgb[2]].map((v) => Math.max(0, Math.min(255, v + (n >> 2)))).concat(255), 4 * p);
  }
  return pngjs.PNG.sync.write(png);
}

const COLOURS: [number, number, number][] = [
  [220, 40, 40],
  [40, 200, 60],
  [50, 60, 220],
  [230, 210, 40],
  [200, 60, 210],
  [40, 210, 210],
];

/**
 * Writes `perClass` images for every class name into `dir/<name>/`; the colour follows `colourOf(name)` (default:
 * the class's position in `names`), so that the same class has the same colour in train/ and test/.
 */
export function writeClassFolders(dir: string, names: readonly string[], perClass: number, side = 8, colourOf?: (name: string) => number): string[] {
  const files: string[] = [];
  names.forEach((name, i) => {
    const c = colourOf ? colourOf(name) : i;
    mkdirSync(join(dir, name), { recursive: true });
    for (let k = 0; k < perClass; k++) {
      const f = join(dir, name, `${String(k).padStart(3, '0')}.png`);
      writeFileSync(f, pngBytes(side, COLOURS[c % COLOURS.length]!, 1000 * c + k));
      files.push(f);
    }
  });
  return files;
}
